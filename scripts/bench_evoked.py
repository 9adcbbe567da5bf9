"""Validation: the microcircuit's response to the thalamic volley, distsnn next to NEST.

The NEST example's stimulus (902 thalamic Poisson sources at 120 Hz for 10 ms from 700 ms,
onto L4 and L6; `distsnn run microcircuit --stimulus thalamus`) in both simulators with the
same parameters, over several seeds each. For every population: the trial-averaged rate
histogram around the volley (PSTH), the latency and height of its peak, and the spikes per
neuron it evokes above the ongoing rate. The two simulators draw different networks and
inputs from their seeds, so the comparison is statistical: their means, with the spread
over seeds. Writes JSON, Markdown and a figure to bench/results/. Usage:

    python scripts/bench_evoked.py --scale 1 --seeds 12 --nest-seeds 5 --nest-python /path/to/nest/bin/python
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from bench_microcircuit import machine_info, nest_spec, write_results   # noqa: E402

# the analysis window (ms) and the ongoing-activity window the evoked spikes are counted against
PSTH = (650.0, 780.0, 1.0)
BASELINE = (650.0, 700.0)
EVOKED = (701.0, 741.0)


def distsnn_psth(scale, t_sim, seed, threads):
    """(spike counts per population and bin, population sizes, build and simulate seconds)."""
    import numba
    numba.set_num_threads(threads)
    from distsnn.models import microcircuit
    from distsnn.runtime import simulate
    res = simulate(microcircuit.build(scale, stimulus="thalamus"), t_sim, seed=seed, backend="cpu", progress=False)
    edges = np.arange(PSTH[0], PSTH[1] + 0.5 * PSTH[2], PSTH[2])
    counts = {}
    for name in res.plan.pop_names:
        counts[name] = np.histogram(res.spikes(name)[1], edges)[0].tolist()
    sizes = {name: res.recorded_count(name) for name in res.plan.pop_names}
    return counts, sizes, res.timers.seconds["build"], res.timers.seconds["simulate"]


def nest_psth(nest_python, spec_path, seed, threads):
    cmd = [nest_python, os.path.join(HERE, "nest_microcircuit.py"), spec_path, "--threads", str(threads),
           "--seed", str(seed), "--psth", *map(str, PSTH)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"NEST failed (seed {seed}): {proc.stderr.strip()[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["psth"]["counts"], out["build_s"], out["simulate_s"], out["simulator"]


def response(counts, size):
    """Trial-averaged PSTH (Hz) and the response measures of one population."""
    c = np.asarray(counts, dtype=np.float64)            # (trials, bins)
    edges = np.arange(PSTH[0], PSTH[1] + 0.5 * PSTH[2], PSTH[2])
    centers = 0.5 * (edges[1:] + edges[:-1])
    rate = c / size / (PSTH[2] * 1e-3)                  # Hz per trial
    base = rate[:, (centers > BASELINE[0]) & (centers < BASELINE[1])].mean(axis=1)
    ev = (centers > EVOKED[0]) & (centers < EVOKED[1])
    evoked = ((rate[:, ev] - base[:, None]).sum(axis=1) * PSTH[2] * 1e-3)   # extra spikes per neuron
    peak_bin = np.argmax(rate[:, ev], axis=1)
    sem = (lambda x: float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0)
    return {"psth_hz": rate.mean(axis=0).tolist(),
            "baseline_hz": [float(base.mean()), sem(base)],
            "evoked_spikes_per_neuron": [float(evoked.mean()), sem(evoked)],
            "peak_hz": [float(rate[:, ev].max(axis=1).mean()), sem(rate[:, ev].max(axis=1))],
            "peak_ms": [float(centers[ev][peak_bin].mean()), sem(centers[ev][peak_bin])]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--seeds", type=int, default=5, help="trials of distsnn (seeds 1..N)")
    ap.add_argument("--nest-seeds", type=int, default=None, help="trials of NEST (default: --seeds)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--nest-python", default=None, help="Python with nest-simulator installed")
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(HERE), "bench", "results"))
    ap.add_argument("--report-only", metavar="JSON", help="rewrite the report and figure of an earlier run")
    args = ap.parse_args()
    if args.report_only:
        with open(args.report_only) as fh:
            results = json.load(fh)
        stem = os.path.splitext(args.report_only)[0]
        figure(results, stem + ".png")
        with open(stem + ".md", "w") as fh:
            fh.write(report(results))
        return
    t_sim = PSTH[1]
    sims = {"distsnn": {"counts": [], "build_s": [], "simulate_s": []}}
    for seed in range(1, args.seeds + 1):
        t0 = time.perf_counter()
        counts, sizes, b, s = distsnn_psth(args.scale, t_sim, seed, args.threads)
        sims["distsnn"]["counts"].append(counts)
        sims["distsnn"]["build_s"].append(b)
        sims["distsnn"]["simulate_s"].append(s)
        print(f"distsnn seed {seed}: {time.perf_counter() - t0:.1f} s", flush=True)
    if args.nest_python:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump(nest_spec(args.scale, t_sim, 0.0, stimulus="thalamus"), fh)
        nest = {"counts": [], "build_s": [], "simulate_s": []}
        for seed in range(1, (args.nest_seeds or args.seeds) + 1):
            t0 = time.perf_counter()
            counts, b, s, name = nest_psth(args.nest_python, fh.name, seed, args.threads)
            nest["counts"].append(counts)
            nest["build_s"].append(b)
            nest["simulate_s"].append(s)
            print(f"{name} seed {seed}: {time.perf_counter() - t0:.1f} s", flush=True)
        sims[name] = nest
        os.unlink(fh.name)
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine_info(), "scale": args.scale, "threads": args.threads,
               "psth_window_ms": PSTH, "baseline_ms": BASELINE, "evoked_ms": EVOKED, "sizes": sizes,
               "populations": list(sizes), "simulators": {}}
    for name, sim in sims.items():
        results["simulators"][name] = {
            "seeds": len(sim["counts"]), "build_s": float(np.mean(sim["build_s"])), "simulate_s": float(np.mean(sim["simulate_s"])),
            "response": {p: response([c[p] for c in sim["counts"]], sizes[p]) for p in sizes}}
    stem = os.path.join(args.out_dir, f"evoked_thalamus_scale{args.scale:g}_{results['date'][:10]}")
    write_results(args.out_dir, f"evoked_thalamus_scale{args.scale:g}", results, report)
    figure(results, stem + ".png")


def report(r):
    sims = list(r["simulators"])
    lines = [f"# Thalamic volley into the microcircuit (scale {r['scale']:g}), {' and '.join(sims)}", "",
             f"{r['date']} on {r['machine']['platform']} ({r['machine']['cpus']} CPUs), {r['threads']} threads; "
             + ", ".join(f"{s} {r['simulators'][s]['seeds']} seeds (1..N)" for s in sims) + ".", "",
             "902 thalamic Poisson sources at 120 Hz, spikes in (701.1, 711.1] ms, onto L4 and L6 (the NEST "
             "example's stimulus, `--stimulus thalamus`). Means over seeds ± standard error; evoked = spikes "
             f"per neuron in {r['evoked_ms'][0]:g}-{r['evoked_ms'][1]:g} ms above the rate in "
             f"{r['baseline_ms'][0]:g}-{r['baseline_ms'][1]:g} ms; peak = highest 1-ms bin of the PSTH.", "",
             "| population | " + " | ".join(f"{s}: evoked | {s}: peak (Hz) | {s}: peak at (ms)" for s in sims) + " |",
             "| --- |" + " ---: | ---: | ---: |" * len(sims)]
    for p in r["populations"]:
        cells = []
        for s in sims:
            x = r["simulators"][s]["response"][p]
            cells += [f"{x['evoked_spikes_per_neuron'][0]:.3f} ± {x['evoked_spikes_per_neuron'][1]:.3f}",
                      f"{x['peak_hz'][0]:.0f} ± {x['peak_hz'][1]:.0f}", f"{x['peak_ms'][0]:.1f} ± {x['peak_ms'][1]:.1f}"]
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    lines += ["", "| simulator | build (s) | simulate (s) |", "| --- | ---: | ---: |"]
    for s in sims:
        lines.append(f"| {s} | {r['simulators'][s]['build_s']:.2f} | {r['simulators'][s]['simulate_s']:.2f} |")
    lines += ["", "Notes:", "",
              "- The same model parameters in both (NEST reads distsnn's description). NEST's thalamic neurons "
              "are parrot_neurons driven by one poisson_generator (delay 1 ms), distsnn's are Poisson sources; "
              "NEST's can spike twice in one step (probability 7e-5 per step at 120 Hz), distsnn's count once.",
              "- Different simulators draw different networks and inputs from a seed: compare the means with "
              "their spread, not spike by spike.",
              "- The response varies much from seed to seed (it depends on the network's state when the volley "
              "arrives): a bump in a mean PSTH can come from a single trial.",
              "- The times are incidental (this is a validation; other work may have run meanwhile): "
              "scripts/bench_microcircuit.py measures speed.", ""]
    return "\n".join(lines)


def figure(r, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    lo, hi, w = r["psth_window_ms"]
    centers = np.arange(lo, hi, w) + 0.5 * w
    pops = r["populations"]
    fig, axes = plt.subplots(3, 3, figsize=(12, 8), sharex=True)
    for ax, p in zip(axes.ravel(), pops):
        for s, style in zip(r["simulators"], ("-", "--")):
            ax.plot(centers, r["simulators"][s]["response"][p]["psth_hz"], style, label=s, lw=1)
        ax.set_title(p)
        ax.set_xlim(690, 760)
    for ax in axes[-1]:
        ax.set_xlabel("time (ms)")
    for ax in axes[:, 0]:
        ax.set_ylabel("rate (Hz)")
    axes[0, 0].legend()
    seeds = ", ".join(f"{s} {r['simulators'][s]['seeds']}" for s in r["simulators"])
    fig.suptitle(f"Thalamic volley, microcircuit scale {r['scale']:g}: PSTH, mean over seeds ({seeds})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
