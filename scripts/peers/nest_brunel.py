"""The Brunel (2000) network in NEST (run with a Python that has nest and h5py), for
scripts/bench_brunel.py. Reads the network from the JSON spec distsnn writes; writes the
spikes as a SONATA-style file (spikes/<pop>/timestamps, node_ids, n_nodes); prints one JSON
line with the phase times."""
import json
import sys
import time

from spike_file import fresh_nest, run_nest_and_report


def main(spec_path, out_path, threads, seed):
    spec = json.load(open(spec_path))
    t0 = time.perf_counter()
    nest = fresh_nest(spec["dt"], threads, seed)
    p = spec["params"]
    pops = {}
    for name in ("E", "I"):
        pops[name] = nest.Create("iaf_psc_delta", spec["sizes"][name], params=p)
        pops[name].set(V_m=nest.random.uniform(spec["v0_low"], spec["v0_high"]))
    every = pops["E"] + pops["I"]
    noise = nest.Create("poisson_generator", params={"rate": spec["c_e"] * spec["nu_ext"]})
    nest.Connect(noise, every, syn_spec={"weight": spec["j"], "delay": spec["delay"]})
    low, high = spec.get("delay_low", spec["delay"]), spec.get("delay_high", spec["delay"])
    sigma = spec.get("weight_sigma", 0.0)
    for src, k, w in (("E", spec["c_e"], spec["j"]), ("I", spec["c_i"], -spec["g"] * spec["j"])):
        # a spread of delays, lognormal or exponential weights: a new draw per synapse (a parameter object per
        # Connect)
        delay = nest.random.uniform(min=low, max=high) if high > low else spec["delay"]
        if spec.get("delay_beta", 0.0) > 0:
            delay = nest.random.exponential(beta=spec["delay_beta"]) + low
        if sigma > 0:
            w = nest.random.lognormal(mean=spec["mu_" + src.lower()], std=sigma) * (1.0 if w > 0 else -1.0)
        elif spec.get("weight_exponential"):
            w = nest.random.exponential(beta=abs(w)) * (1.0 if w > 0 else -1.0)
        nest.Connect(pops[src], every, {"rule": "fixed_indegree", "indegree": k}, {"weight": w, "delay": delay})
    rec = nest.Create("spike_recorder")
    nest.Connect(every, rec)
    run_nest_and_report(nest, pops, rec, spec["t_sim"], out_path, seed, t0, len(every) * 2)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
