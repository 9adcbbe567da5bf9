"""The Izhikevich network (distsnn.models.izhikevich) in NEST (run with a Python that has nest
and h5py), for scripts/bench_izhikevich.py. Reads the network from the JSON spec distsnn
writes; writes the spikes as a SONATA-style file; prints one JSON line with the phase times."""
import json
import sys
import time

from spike_file import fresh_nest, run_nest_and_report


def main(spec_path, out_path, threads, seed):
    spec = json.load(open(spec_path))
    t0 = time.perf_counter()
    nest = fresh_nest(spec["dt"], threads, seed)
    pops, devices = {}, 0
    for name, p in spec["populations"].items():
        scalars = {k: v for k, v in p["params"].items() if not isinstance(v, list)}
        pops[name] = nest.Create("izhikevich", p["size"], params=scalars)
        per_neuron = {k: v for k, v in p["params"].items() if isinstance(v, list)}
        if per_neuron:   # one value per neuron (the published cells), in node order
            pops[name].set(per_neuron)
    for c in spec["projections"]:
        nest.Connect(pops[c["source"]], pops[c["target"]], {"rule": "fixed_indegree", "indegree": c["indegree"]},
                     {"weight": nest.random.normal(c["weight_mean"], c["weight_sd"]), "delay": c["delay"]})
    for name, p in spec["populations"].items():   # one generator: an independent current per target
        noise = nest.Create("noise_generator", params={"mean": 0.0, "std": p["noise_std"], "dt": spec["noise_dt"]})
        nest.Connect(noise, pops[name])
        devices += p["size"]
    every = pops["E"] + pops["I"]
    rec = nest.Create("spike_recorder")
    nest.Connect(every, rec)
    run_nest_and_report(nest, pops, rec, spec["t_sim"], out_path, seed, t0, devices + len(every))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
