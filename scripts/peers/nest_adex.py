"""The AdEx E/I network (distsnn.models.adex) in NEST (run with a Python that has nest and
h5py), for scripts/bench_adex.py. Reads the network from the JSON spec distsnn writes; writes
the spikes as a SONATA-style file; prints one JSON line with the phase times."""
import json
import resource
import sys
import time

import numpy as np
from spike_file import write_spike_file


def main(spec_path, out_path, threads, seed):
    spec = json.load(open(spec_path))
    t0 = time.perf_counter()
    import nest
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": spec["dt"], "local_num_threads": threads, "rng_seed": seed})
    pops = {}
    for name, p in spec["populations"].items():
        pops[name] = nest.Create("aeif_cond_exp", p["size"], params=p["params"])
        pops[name].set(V_m=nest.random.uniform(p["v0_low"], p["v0_high"]))
    names = list(pops)
    every = pops[names[0]]
    for name in names[1:]:
        every = every + pops[name]
    for c in spec["projections"]:
        nest.Connect(pops[c["source"]], pops[c["target"]], {"rule": "fixed_indegree", "indegree": c["indegree"]},
                     {"weight": c["weight"], "delay": c["delay"]})
    # one generator: independent Poisson trains per target, the sum of the external sources
    noise = nest.Create("poisson_generator", params={"rate": spec["ext_rate_hz"]})
    nest.Connect(noise, every, syn_spec={"weight": spec["ext_weight"], "delay": spec["delay"]})
    rec = nest.Create("spike_recorder")
    nest.Connect(every, rec)
    nest.Prepare()
    t1 = time.perf_counter()
    nest.Run(spec["t_sim"])
    nest.Cleanup()
    t2 = time.perf_counter()
    ev = rec.get("events")
    times = np.asarray(ev["times"])
    write_spike_file(out_path, ev["senders"], times, {n: (p[0].global_id, len(p)) for n, p in pops.items()})
    print(json.dumps({"simulator": f"NEST {nest.__version__}", "seed": seed, "build_s": t1 - t0,
                      "simulate_s": t2 - t1, "n_spikes": int(times.size),
                      "n_synapses": int(nest.GetKernelStatus("num_connections")) - len(every) * 2,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
