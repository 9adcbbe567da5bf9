"""NEST's HPC benchmark network (pynest/examples/hpc_benchmark.py, its stdp_pl_synapse_hom_hpc
and static_synapse_hpc synapses, autapses forbidden as there) for scripts/bench_hpc.py, run
with a Python that has nest. Reads the spec the benchmark writes (distsnn.models.hpc_benchmark's
numbers: sizes, in-degrees, neuron and STDP parameters, JE in pA, the external rate); prints
one JSON line: build and simulate times, the rates of the first 1,000 E and all I neurons, the
mean and sd at the end of the E->E weights from the first sample_sources E neurons, the peak
resident memory. Usage:

    python nest_hpc_benchmark.py spec.json THREADS SEED
"""
import json
import resource
import sys
import time


def main(spec_path, threads, seed):
    spec = json.load(open(spec_path))
    import nest
    nest.ResetKernel()
    nest.set_verbosity("M_WARNING")
    nest.SetKernelStatus({"resolution": spec["dt"], "local_num_threads": threads, "rng_seed": seed})
    t0 = time.perf_counter()
    params = dict(spec["params"], tau_minus=spec["tau_minus"])
    pops = {name: nest.Create("iaf_psc_alpha", spec["sizes"][name], params=params) for name in ("E", "I")}
    for pop in pops.values():
        pop.V_m = nest.random.normal(spec["v_mean"], spec["v_sd"])
    w = spec["je_pa"]
    nest.SetDefaults("static_synapse_hpc", {"delay": spec["delay"]})
    nest.CopyModel("static_synapse_hpc", "syn_ex", {"weight": w})
    nest.CopyModel("static_synapse_hpc", "syn_in", {"weight": spec["g"] * w})
    nest.SetDefaults("stdp_pl_synapse_hom_hpc", dict(spec["stdp"], weight=w, delay=spec["delay"]))
    drive = nest.Create("poisson_generator", params={"rate": spec["rate_per_input"] * spec["k_e"]})
    for pop in pops.values():
        nest.Connect(drive, pop, "all_to_all", {"synapse_model": "syn_ex"})
    conn = {"rule": "fixed_indegree", "allow_autapses": False, "allow_multapses": True}
    nest.Connect(pops["E"], pops["E"], dict(conn, indegree=spec["k_e"]), {"synapse_model": "stdp_pl_synapse_hom_hpc"})
    nest.Connect(pops["I"], pops["E"], dict(conn, indegree=spec["k_i"]), {"synapse_model": "syn_in"})
    nest.Connect(pops["E"], pops["I"], dict(conn, indegree=spec["k_e"]), {"synapse_model": "syn_ex"})
    nest.Connect(pops["I"], pops["I"], dict(conn, indegree=spec["k_i"]), {"synapse_model": "syn_in"})
    rec = nest.Create("spike_recorder")
    recorded = {"E": min(spec["record"], spec["sizes"]["E"]), "I": spec["sizes"]["I"]}
    nest.Connect(pops["E"][:recorded["E"]] + pops["I"], rec)
    nest.Prepare()   # the connection infrastructure, as NEST counts it in its build
    nest.Cleanup()
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    nest.Simulate(spec["t_sim"])
    sim_s = time.perf_counter() - t1
    senders = rec.get("events")["senders"]
    first_i = pops["I"].tolist()[0]
    counts = {"E": int((senders < first_i).sum()), "I": int((senders >= first_i).sum())}
    rates = {k: counts[k] / recorded[k] / (spec["t_sim"] * 1e-3) for k in counts}
    import numpy as np
    # the E->E weights of the first sample_sources E neurons (all of them would take PyNEST some
    # KB per synapse)
    sample = pops["E"][:min(spec["sample_sources"], spec["sizes"]["E"])]
    weights = np.asarray(nest.GetConnections(sample, pops["E"]).get("weight"), dtype=float)
    print(json.dumps({"simulator": "NEST " + nest.__version__, "threads": threads, "build_s": build_s,
                      "simulate_s": sim_s, "rates": rates, "spikes": int(senders.size),
                      "synapses": int(nest.num_connections),
                      "weights": {"n": int(weights.size), "mean": float(weights.mean()), "sd": float(weights.std())},
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
