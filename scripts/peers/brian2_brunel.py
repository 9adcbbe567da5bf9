"""The Brunel (2000) network in Brian2 (run with a Python that has brian2 and h5py), for
scripts/bench_brunel.py: the JSON spec distsnn writes, spikes in a SONATA-style file, one
JSON line with the phase times. Brian2's runtime code generation (cython where available),
exact integration of the linear membrane.

As in NEST and distsnn: input that arrives while a neuron is refractory is lost (on_pre and
the Poisson input add to v only when not_refractory; `unless refractory` alone would stop
only the differential equation), fixed in-degrees with multapses and autapses (sources drawn
uniformly with replacement here, with NumPy), one delay and weight per projection unless the
spec spreads them (delays uniform, weights lognormal: drawn with NumPy), and an
independent Poisson input per neuron (PoissonInput: a binomial count per step). NEST's order
of events (brian2_nest_order.py): input is added before the threshold test, delays and the
refractory period count steps as NEST does; without it Brian2's rate is 0.27 Hz lower."""
import json
import resource
import sys
import time

import numpy as np
from brian2_nest_order import delay_ms, refractory_ms, use_nest_order
from spike_file import write_spike_file


def main(spec_path, out_path, threads, seed):
    spec = json.load(open(spec_path))
    t0 = time.perf_counter()
    import brian2 as b2
    from brian2 import Hz, mV, ms
    b2.start_scope()
    b2.seed(seed)
    rng = np.random.default_rng(seed)
    b2.defaultclock.dt = spec["dt"] * ms
    b2.prefs.logging.console_log_level = "ERROR"
    p = spec["params"]
    n_e, n_i = spec["sizes"]["E"], spec["sizes"]["I"]
    n = n_e + n_i
    # C_m dV/dt = -(C_m / tau_m)(V - E_L) + I_e with I_e = 0 here: dv/dt = (E_L - v) / tau_m
    group = b2.NeuronGroup(n, "dv/dt = (E_L - v) / tau_m : volt (unless refractory)",
                           threshold="v >= V_th", reset="v = V_reset",
                           refractory=refractory_ms(p["t_ref"], spec["dt"]) * ms,
                           method="exact", namespace={"E_L": p["E_L"] * mV, "tau_m": p["tau_m"] * ms,
                                                      "V_th": p["V_th"] * mV, "V_reset": p["V_reset"] * mV})
    group.v = f"({spec['v0_low']} + rand() * {spec['v0_high'] - spec['v0_low']}) * mV"
    syn = []
    sigma = spec.get("weight_sigma", 0.0)
    for name, lo, hi, k, w in (("e", 0, n_e, spec["c_e"], spec["j"]),
                               ("i", n_e, n, spec["c_i"], -spec["g"] * spec["j"])):
        low, high = spec.get("delay_low", spec["delay"]), spec.get("delay_high", spec["delay"])
        beta, drawn_w = spec.get("delay_beta", 0.0), sigma > 0 or spec.get("weight_exponential", False)
        # a delay per synapse where they are spread (rounded to steps as NEST rounds them, then
        # Brian2's), a weight per synapse where they are lognormal or exponential
        fixed_delay = {} if high > low or beta > 0 else {"delay": delay_ms(spec["delay"], spec["dt"]) * ms}
        s = b2.Synapses(group, group, model="w : volt" if drawn_w else "",
                        on_pre=("v += w" if drawn_w else f"v += {w} * mV") + " * int(not_refractory_post)",
                        **fixed_delay)
        s.connect(i=rng.integers(lo, hi, size=n * k), j=np.repeat(np.arange(n), k))
        if high > low or beta > 0:
            d = low + rng.exponential(beta, size=n * k) if beta > 0 else rng.uniform(low, high, size=n * k)
            steps = np.floor(d * (1.0 / spec["dt"]) + 0.5)
            s.delay = np.maximum(steps * spec["dt"] - spec["dt"], 0.0) * ms
        if sigma > 0:
            s.w = np.sign(w) * rng.lognormal(spec["mu_" + name], sigma, size=n * k) * mV
        elif drawn_w:
            s.w = np.sign(w) * rng.exponential(abs(w), size=n * k) * mV
        syn.append(s)
    noise = b2.PoissonInput(group, "v", N=spec["c_e"], rate=spec["nu_ext"] * Hz,
                            weight=f"{spec['j']} * mV * int(not_refractory)")
    mon = b2.SpikeMonitor(group)
    net = use_nest_order(b2.Network(group, noise, mon, *syn))
    net.run(0 * ms)                     # code generation and compilation belong to the build
    t1 = time.perf_counter()
    net.run(spec["t_sim"] * ms)
    t2 = time.perf_counter()
    i, t = np.asarray(mon.i), np.asarray(mon.t / ms) + spec["dt"]   # step ends, as NEST and distsnn
    write_spike_file(out_path, i, t, {"E": (0, n_e), "I": (n_e, n_i)})
    print(json.dumps({"simulator": f"Brian2 {b2.__version__} ({b2.prefs.codegen.target})", "seed": seed,
                      "build_s": t1 - t0, "simulate_s": t2 - t1, "n_spikes": int(i.size),
                      "n_synapses": int(sum(len(s) for s in syn)),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
