"""COBA benchmark network in Brian2 (run with a Python that has brian2 and h5py), for
scripts/bench_pipeline.py. Reads the network from a JSON spec; prints one JSON line.
Uses Brian2's runtime code generation (cython where available), exponential Euler."""
import json
import sys
import time

import h5py
import numpy as np


def main(spec_path, out_path, threads):
    spec = json.load(open(spec_path))
    t0 = time.perf_counter()
    import brian2 as b2
    from brian2 import mV, ms, nS, pF
    b2.start_scope()
    b2.defaultclock.dt = spec["dt"] * ms
    b2.prefs.logging.console_log_level = "ERROR"
    p = spec["params"]
    eqs = """dv/dt = (g_L*(E_L - v) + ge*(E_ex - v) + gi*(E_in - v)) / C_m : volt (unless refractory)
             dge/dt = -ge / tau_e : siemens
             dgi/dt = -gi / tau_i : siemens"""
    ns = {"g_L": p["g_L"] * nS, "E_L": p["E_L"] * mV, "E_ex": p["E_ex"] * mV, "E_in": p["E_in"] * mV,
          "C_m": p["C_m"] * pF, "tau_e": p["tau_syn_ex"] * ms, "tau_i": p["tau_syn_in"] * ms}
    n_e, n_i = spec["sizes"]["E"], spec["sizes"]["I"]
    group = b2.NeuronGroup(n_e + n_i, eqs, threshold=f"v > {p['V_th']}*mV", reset=f"v = {p['V_reset']}*mV",
                           refractory=p["t_ref"] * ms, method="exponential_euler", namespace=ns)
    group.v = f"{p['V_reset']}*mV + rand() * {p['V_th'] - p['V_reset']}*mV"
    exc, inh = group[:n_e], group[n_e:]
    delay = spec["delay"] * ms
    syn = []
    for src, target_var, w in ((exc, "ge", spec["w_exc"]), (inh, "gi", spec["w_inh"])):
        s = b2.Synapses(src, group, on_pre=f"{target_var} += {w}*nS", delay=delay)
        s.connect(p=spec["p"])
        syn.append(s)
    idx = np.concatenate([np.full(len(t), i) for i, t in enumerate(spec["stim_times"])]).astype(int)
    tt = np.concatenate([np.asarray(t) for t in spec["stim_times"]])
    stim = b2.SpikeGeneratorGroup(spec["stim_n"], idx, tt * ms)
    s = b2.Synapses(stim, group, on_pre=f"ge += {spec['stim_w']}*nS", delay=delay)
    s.connect(p=spec["stim_p"])
    syn.append(s)
    mon = b2.SpikeMonitor(group)
    net = b2.Network(group, stim, mon, *syn)
    net.run(0 * ms)                     # code generation and compilation belong to the build
    t1 = time.perf_counter()
    net.run(spec["t_sim"] * ms)
    t2 = time.perf_counter()
    i, t = np.asarray(mon.i), np.asarray(mon.t / ms)
    with h5py.File(out_path, "w") as f:
        for name, lo, hi in (("E", 0, n_e), ("I", n_e, n_e + n_i)):
            sel = (i >= lo) & (i < hi)
            g = f.create_group(f"spikes/{name}")
            g.create_dataset("timestamps", data=t[sel])
            g.create_dataset("node_ids", data=(i[sel] - lo).astype(np.uint64))
    t3 = time.perf_counter()
    print(json.dumps({"simulator": f"Brian2 {b2.__version__} ({b2.prefs.codegen.target})", "build_s": t1 - t0,
                      "simulate_s": t2 - t1, "write_s": t3 - t2, "n_spikes": int(i.size)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
