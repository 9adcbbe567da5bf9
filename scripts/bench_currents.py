"""Benchmark: what injected currents cost per step on the CPU engine. The microcircuit (its
Poisson input, no stimulus) at --scale, each of its 8 populations given the input of one
case, against the same network without:

- step: a step current of N amplitudes (N = --values, a current sampled from a recording),
  into every neuron (one value per unit and step; the binary search over N);
- step, few: the same with 4 amplitudes;
- step into half: the N-amplitude current into every other neuron (a current per neuron:
  current_kernels.neuron_currents);
- noise: a noise current redrawn every step into every neuron;
- noise into half: the same into every other neuron (drawn for the unit, held, added per
  neuron).

Each case is simulated --repeat times in this process (kernels compiled once before); the
best simulate time is kept. Writes JSON and Markdown to bench/results/. Usage:

    python scripts/bench_currents.py --scale 0.25 --t-sim 1000 --values 10000
"""
import argparse
import datetime
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from bench_microcircuit import machine_info, write_results   # noqa: E402

CASES = ("none", "step, few", "step", "step into half", "noise", "noise into half")


def network(scale, case, n_values, t_sim):
    """The microcircuit with the currents of `case` (pA: small, so that the rates stay near
    the model's own)."""
    from distsnn.models import microcircuit
    net = microcircuit.build(scale=scale)
    n = 4 if case == "step, few" else n_values
    steps = np.unique(np.arange(n) * int(round(t_sim / net.dt)) // n)   # at most one change per step
    times = steps * net.dt
    values = 20.0 * np.sin(np.arange(times.size) / 50.0)
    for name, pop in net.populations.items():
        if pop.is_source:
            continue
        half = np.arange(0, pop.size, 2)
        if case.startswith("step"):
            net.add_step_current_input(name, times, values, neurons=half if case.endswith("half") else None)
        elif case.startswith("noise"):
            net.add_noise_input(name, 0.0, 20.0, neurons=half if case.endswith("half") else None)
    return net


def run_case(scale, case, n_values, t_sim, seed, repeat):
    from distsnn.runtime import simulate
    best = None
    for _ in range(repeat):
        res = simulate(network(scale, case, n_values, t_sim), t_sim, seed=seed, backend="cpu", progress=False)
        s = res.timers.seconds["simulate"]
        best = s if best is None else min(best, s)
    rate = res.spike_gids.size / (res.plan.n_neurons * t_sim * 1e-3)
    return {"case": case, "simulate_s": best, "mean_rate_hz": rate, "steps": int(round(t_sim / res.plan.dt)),
            "dc_rows": int(res.plan.dc_i.shape[0]), "amplitudes": int(res.plan.dc_seg_i.size)}


def report(r):
    base = next(c for c in r["cases"] if c["case"] == "none")
    lines = [f"# Injected currents on the CPU (microcircuit scale {r['scale']:g}, {r['t_sim_ms']:g} ms, "
             f"{r['threads']} threads)", "",
             f"{r['date']} on {r['machine']['platform']} ({r['machine']['cpus']} CPUs), seed {r['seed']}, best of "
             f"{r['repeat']}. Each of the 8 populations gets the case's input; step currents of "
             f"{r['values']} amplitudes unless 'few' (4).", "",
             "| case | DC rows | amplitudes | simulate (s) | extra (s) | extra per step (us) | mean rate (Hz) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c in r["cases"]:
        extra = c["simulate_s"] - base["simulate_s"]
        lines.append(f"| {c['case']} | {c['dc_rows']} | {c['amplitudes']} | {c['simulate_s']:.3f} | {extra:+.3f} | "
                     f"{1e6 * extra / c['steps']:+.1f} | {c['mean_rate_hz']:.2f} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--t-sim", type=float, default=1000.0)
    ap.add_argument("--values", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "bench", "results"))
    ap.add_argument("--name", default=None)
    a = ap.parse_args()
    import numba
    numba.set_num_threads(a.threads)
    run_case(a.scale, "step into half", a.values, min(a.t_sim, 10.0), a.seed, 1)   # compile before timing
    cases = [run_case(a.scale, c, a.values, a.t_sim, a.seed, a.repeat) for c in CASES]
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine_info(), "scale": a.scale, "t_sim_ms": a.t_sim, "values": a.values,
               "seed": a.seed, "repeat": a.repeat, "threads": a.threads, "cases": cases}
    write_results(a.out, a.name or f"currents_scale{a.scale:g}", results, report)


if __name__ == "__main__":
    main()
