"""The AdEx E/I network (distsnn.models.adex) in NEST (run with a Python that has nest and
h5py), for scripts/bench_adex.py. Reads the network from the JSON spec distsnn writes; writes
the spikes as a SONATA-style file; prints one JSON line with the phase times."""
import json
import sys
import time

from spike_file import fresh_nest, run_nest_and_report


def main(spec_path, out_path, threads, seed):
    spec = json.load(open(spec_path))
    t0 = time.perf_counter()
    nest = fresh_nest(spec["dt"], threads, seed)
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
    run_nest_and_report(nest, pops, rec, spec["t_sim"], out_path, seed, t0, len(every) * 2)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
