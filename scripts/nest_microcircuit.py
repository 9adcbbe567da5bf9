"""The same microcircuit in NEST (run with a Python that has `nest`), for side-by-side timing.

Reads the network description written by bench_microcircuit.py (sizes, synapse numbers,
weights, delays, inputs) so both simulators get exactly the same model parameters, builds it
as NEST's Potjans_2014 example does (fixed_total_number; normal weights and delays redrawn
where out of range, or with --delays clip the delays clipped to dt as distsnn's rules do;
one poisson_generator per population; with the thalamic stimulus, its poisson_generator into
parrot_neurons; parameters drawn per neuron where the description has them), simulates, and
prints one JSON line of results (with --spikes, it also writes the spikes).
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
from spike_file import write_spike_file  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spec")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--psth", type=float, nargs=3, metavar=("LO", "HI", "BIN"), default=None,
                    help="also print the spike counts of each population in bins (ms)")
    ap.add_argument("--delays", choices=("redraw", "clip"), default="redraw",
                    help="delays drawn below dt/2: redrawn (NEST's example, the default) or clipped to dt "
                         "(one step, as distsnn's rules)")
    ap.add_argument("--spikes", default=None, metavar="FILE.h5", help="also write the spikes (SONATA-style)")
    args = ap.parse_args()
    spec = json.load(open(args.spec))
    import nest
    nest.set_verbosity("M_ERROR")
    t0 = time.perf_counter()
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": spec["dt"], "local_num_threads": args.threads, "rng_seed": args.seed,
                          "print_time": False})
    dt = spec["dt"]

    def delay(normal):
        if args.delays == "clip":
            return nest.math.max(normal, dt)
        return nest.math.redraw(normal, min=dt - 0.5 * dt, max=np.inf)

    pops = []
    for k, name in enumerate(spec["populations"]):
        params = dict(spec["neuron_params"], I_e=spec["I_e"][k])
        pop = nest.Create("iaf_psc_exp", spec["sizes"][k], params=params)
        pop.set(V_m=nest.random.normal(mean=spec["v0_mean"][k], std=spec["v0_sd"][k]))
        # parameters drawn per neuron (bench_heterogeneous.py): {name: ["Normal", mean, sd] | ["Uniform", low, high]}
        for pname, (kind, a, b) in spec.get("spread", {}).items():
            dist = nest.random.normal(mean=a, std=b) if kind == "Normal" else nest.random.uniform(min=a, max=b)
            pop.set({pname: dist})
        pops.append(pop)
    rec = nest.Create("spike_recorder")
    # NEST allows at most 2**27 - 2 connections per synapse model and virtual process; the full
    # microcircuit has ~1.5e8 per thread at 2 threads, so each source population gets its own
    # copy of static_synapse (identical dynamics).
    for name in spec["populations"]:
        nest.CopyModel("static_synapse", f"static_from_{name}")
    # bench_stp.py: excitatory projections through tsodyks2_synapse (u starts at U, x at 1),
    # one copy per source population and kind of target, for the same limit
    stp = spec.get("stp")
    if stp:
        for name in spec["populations"]:
            if name.endswith("E"):
                for onto in ("onto_e", "onto_i"):
                    nest.CopyModel("tsodyks2_synapse", f"{onto}_from_{name}",
                                   dict(stp[onto], u=stp[onto]["U"], x=1.0))

    # bench_stdp.py: projections between excitatory populations through stdp_synapse (one copy
    # per source population, for the same limit; Wmax per projection, Wmax_factor times its
    # mean weight); tau_minus is the excitatory neurons'
    stdp = spec.get("stdp")
    if stdp:
        for name, pop in zip(spec["populations"], pops):
            if name.endswith("E"):
                pop.set(tau_minus=stdp["tau_minus"])
                nest.CopyModel("stdp_synapse", f"stdp_from_{name}",
                               {k: v for k, v in stdp.items() if k not in ("tau_minus", "Wmax_factor")})

    def synapse_model(source, target):
        if stdp and source.endswith("E") and target.endswith("E"):
            return f"stdp_from_{source}"
        if stp and source.endswith("E"):
            return f"{'onto_i' if target.endswith('I') else 'onto_e'}_from_{source}"
        return f"static_from_{source}"
    for k, pop in enumerate(pops):
        pg = nest.Create("poisson_generator", params={"rate": spec["bg_rate"] * spec["k_ext"][k]})
        nest.Connect(pg, pop, "all_to_all", {"weight": spec["w_ext"], "delay": spec["poisson_delay"]})
        nest.Connect(pop, rec)
        for s, src in enumerate(pops):
            n = spec["synapses"][k][s]
            if n == 0:
                continue
            w, d = spec["w_mean"][k][s], spec["d_mean"][s]
            lo, hi = (0.0, np.inf) if w >= 0 else (-np.inf, 0.0)
            model = synapse_model(spec["populations"][s], spec["populations"][k])
            weight = nest.math.redraw(nest.random.normal(mean=w, std=abs(w) * spec["w_rel_sd"]), min=lo, max=hi)
            syn = {"synapse_model": model, "weight": weight,
                   "delay": delay(nest.random.normal(mean=d, std=d * spec["d_rel_sd"]))}
            if model.startswith("stdp_"):
                syn["Wmax"] = stdp["Wmax_factor"] * w
            nest.Connect(src, pop, {"rule": "fixed_total_number", "N": n}, syn)
    th = spec.get("thalamus")
    if th:   # the example's thalamic input: one poisson_generator into parrot_neurons
        parrots = nest.Create("parrot_neuron", th["n"])
        gen = nest.Create("poisson_generator", params={"rate": th["rate"], "start": th["start"], "stop": th["stop"]})
        nest.Connect(gen, parrots, "all_to_all", {"delay": th["parrot_delay"]})
        nest.Connect(parrots, rec)
        for k, pop in enumerate(pops):
            if th["synapses"][k]:
                nest.Connect(parrots, pop, {"rule": "fixed_total_number", "N": th["synapses"][k]},
                             {"weight": nest.math.redraw(nest.random.normal(mean=th["w_mean"], std=th["w_sd"]),
                                                         min=0.0, max=np.inf),
                              "delay": delay(nest.random.normal(mean=th["d_mean"], std=th["d_sd"]))})
    nest.Prepare()   # NEST builds its connection infrastructure here; counted as build
    t1 = time.perf_counter()
    nest.Run(spec["t_sim"])
    nest.Cleanup()
    t2 = time.perf_counter()
    ev = rec.get("events")
    senders, times = np.asarray(ev["senders"]), np.asarray(ev["times"])
    rates = {}
    for k, pop in enumerate(pops):
        lo, hi = pop[0].global_id, pop[-1].global_id
        sel = (senders >= lo) & (senders <= hi) & (times > spec["rates_from"])
        rates[spec["populations"][k]] = float(sel.sum() / len(pop) / ((spec["t_sim"] - spec["rates_from"]) * 1e-3))
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # before the weights are read
    if stdp:   # bench_stdp.py: the plastic weights at the end (after the timing; in Python, 1.7 kB each)
        w = np.concatenate([np.asarray(nest.GetConnections(synapse_model=f"stdp_from_{name}").get("weight"), float)
                            for name in spec["populations"] if name.endswith("E")])
        stdp_weights = {"n": int(w.size), "mean": float(w.mean()), "sd": float(w.std())}
    out = {"simulator": f"NEST {nest.__version__}", "threads": args.threads, "build_s": t1 - t0,
           "simulate_s": t2 - t1, "n_synapses": int(nest.GetKernelStatus("num_connections")),
           "peak_rss_mb": peak_rss_mb, "rates": rates}
    if stdp:
        out["weights"] = stdp_weights
    if args.psth:   # spike counts per population in bins [lo, hi) of width w (ms): the evoked response
        lo, hi, w = args.psth
        edges = np.arange(lo, hi + 0.5 * w, w)
        groups = list(zip(spec["populations"], pops)) + ([("TH", parrots)] if th else [])
        out["psth"] = {"edges": edges.tolist(), "counts": {
            name: np.histogram(times[(senders >= pop[0].global_id) & (senders <= pop[-1].global_id)],
                               edges)[0].tolist() for name, pop in groups}}
    if args.spikes:
        write_spike_file(args.spikes, senders, times,
                         {name: (pop[0].global_id, len(pop)) for name, pop in zip(spec["populations"], pops)})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
