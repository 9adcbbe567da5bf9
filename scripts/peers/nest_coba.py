"""COBA benchmark network in NEST (run with a Python that has nest and h5py), for
scripts/bench_pipeline.py. Reads the network from a JSON spec; prints one JSON line."""
import json
import sys
import time

import h5py
import numpy as np


def main(spec_path, out_path, threads):
    spec = json.load(open(spec_path))
    t0 = time.perf_counter()
    import nest
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": spec["dt"], "local_num_threads": threads, "rng_seed": 1})
    p = spec["params"]
    params = {"C_m": p["C_m"], "g_L": p["g_L"], "E_L": p["E_L"], "V_th": p["V_th"], "V_reset": p["V_reset"],
              "t_ref": p["t_ref"], "E_ex": p["E_ex"], "E_in": p["E_in"], "tau_syn_ex": p["tau_syn_ex"],
              "tau_syn_in": p["tau_syn_in"]}
    pops = {}
    for name in ("E", "I"):
        pops[name] = nest.Create("iaf_cond_exp", spec["sizes"][name], params=params)
        pops[name].set(V_m=nest.random.uniform(p["V_reset"], p["V_th"]))
    stim = nest.Create("spike_generator", spec["stim_n"])
    for i in range(spec["stim_n"]):
        stim[i].set(spike_times=sorted(spec["stim_times"][i]))
    rec = nest.Create("spike_recorder")
    conn = {"rule": "pairwise_bernoulli", "p": spec["p"]}
    for src, w in (("E", spec["w_exc"]), ("I", -spec["w_inh"])):     # NEST: inhibitory by sign
        for dst in ("E", "I"):
            nest.Connect(pops[src], pops[dst], conn, {"weight": w, "delay": spec["delay"]})
    for dst in ("E", "I"):
        nest.Connect(stim, pops[dst], {"rule": "pairwise_bernoulli", "p": spec["stim_p"]},
                     {"weight": spec["stim_w"], "delay": spec["delay"]})
        nest.Connect(pops[dst], rec)
    nest.Prepare()
    t1 = time.perf_counter()
    nest.Run(spec["t_sim"])
    nest.Cleanup()
    t2 = time.perf_counter()
    ev = rec.get("events")
    with h5py.File(out_path, "w") as f:
        senders, times = np.asarray(ev["senders"]), np.asarray(ev["times"])
        for name, pop in pops.items():
            lo, hi = pop[0].global_id, pop[-1].global_id
            sel = (senders >= lo) & (senders <= hi)
            g = f.create_group(f"spikes/{name}")
            g.create_dataset("timestamps", data=times[sel])
            g.create_dataset("node_ids", data=(senders[sel] - lo).astype(np.uint64))
    t3 = time.perf_counter()
    print(json.dumps({"simulator": f"NEST {nest.__version__}", "build_s": t1 - t0, "simulate_s": t2 - t1,
                      "write_s": t3 - t2, "n_spikes": int(len(ev["times"]))}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
