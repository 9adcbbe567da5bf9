"""Do int32 ring buffers change the activity? The down-scaled multi-area model over several
seeds, once with int32 and once with int64 input buffers.

The two widths give different fixed-point scales (int32: a unit of 2**-8 to 2**-13 pA; int64:
2**-31 or finer), so the same seed gives different spike trains: the network is chaotic and
any perturbation grows. What must not differ is the distribution of the activity over
seeds. For each (seed, width) this runs `distsnn run multi_area` in a fresh process and takes
the per-area rate, LvR and correlation of every population type (bench_multi_area.analyse),
summarised by their median over areas. The report puts the two widths side by side: the
values of every seed, their mean and sd, and how many runs are in the high-correlation state
the 1% model visits (median 23E correlation above --high). Writes
bench/results/ring_width_multi_area_scale<s>_<date>.{json,md}.

    python scripts/bench_ring_width.py --seeds 1 2 3 4 5 6 --t-sim 3500     # ~15 min on 2 cores
"""
import argparse
import datetime
import json
import os
import platform
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, REPO)

from bench_multi_area import MEASURES, T_START, across_areas, analyse, fmt, run_model  # noqa: E402
from distsnn.io import summary_path  # noqa: E402

POPS = ("23E", "23I", "4E", "4I", "5E", "5I", "6E", "6I")
NAMES = {"rate_spikes_per_s": "rate (Hz)", "irregularity_LvR": "LvR", "correlation_coefficient": "correlation"}


def one_run(args, seed, bits):
    out = os.path.join(args.work, f"ring{bits}_seed{seed}.h5")
    summary = run_model(args, out, seed, quiet=True, ring_bits=bits)
    if summary["ring_bits"] != bits:
        raise SystemExit(f"{out}: ran with int{summary['ring_bits']}, not int{bits}")
    per_area, _ = analyse(out, args.t_sim)
    medians = {m: {pop: v["median"] for pop, v in by_pop.items()} for m, by_pop in across_areas(per_area).items()}
    os.remove(out)
    os.remove(summary_path(out))
    return {"seed": seed, "ring_bits": bits, "medians_over_areas": medians,
            "real_time_factor": summary["real_time_factor"]}


def markdown(rep):
    g = rep["config"]
    lines = [f"# int32 and int64 input buffers: the multi-area model at scale {g['scale']}, "
             f"{len(g['seeds'])} seeds", "",
             f"{rep['date']} on {rep['host']}; {g['t_sim']:.0f} ms per run, statistics over "
             f"[{T_START:.0f}, {g['t_sim']:.0f}] ms; median over the 32 areas, then mean ± sd over seeds.", "",
             "The same seed gives different spikes at the two widths (different fixed-point scales; the "
             "network is chaotic), so runs are compared as samples, not pairwise.", ""]
    for m in MEASURES:
        lines += [f"## {NAMES[m]}", "", "| population | int32 | int64 |", "| --- | ---: | ---: |"]
        for pop in POPS:
            cells = []
            for bits in (32, 64):
                v = np.array([r["medians_over_areas"][m].get(pop) for r in rep["runs"] if r["ring_bits"] == bits],
                             dtype=float)
                v = v[np.isfinite(v)]
                cells.append(f"{v.mean():.3g} ± {v.std(ddof=1) if v.size > 1 else 0.0:.2g}" if v.size else "n/a")
            lines.append(f"| {pop} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Every run", "", "| seed | width | 23E rate | 5E rate | 23E correlation | 5E correlation | state |",
              "| ---: | --- | ---: | ---: | ---: | ---: | --- |"]
    for r in rep["runs"]:
        med = r["medians_over_areas"]
        c = med["correlation_coefficient"]
        lines.append(f"| {r['seed']} | int{r['ring_bits']} | {fmt(med['rate_spikes_per_s'].get('23E'))} | "
                     f"{fmt(med['rate_spikes_per_s'].get('5E'))} | {fmt(c.get('23E'))} | {fmt(c.get('5E'))} | "
                     f"{'high-correlation' if r['high_state'] else 'low'} |")
    counts = {bits: sum(r["high_state"] for r in rep["runs"] if r["ring_bits"] == bits) for bits in (32, 64)}
    n = len(rep["config"]["seeds"])
    lines += ["", f"Runs in the high-correlation state (median 23E correlation > {g['high']}): int32 "
              f"{counts[32]} of {n}, int64 {counts[64]} of {n}.", ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--t-sim", type=float, default=3500.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6])
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--high", type=float, default=0.1, help="median 23E correlation that marks the high state")
    ap.add_argument("--data", default=os.environ.get("DISTSNN_DATA", os.path.join(REPO, "..", "shared", "data")))
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    ap.add_argument("--work", default="/tmp")
    args = ap.parse_args()
    if args.t_sim <= T_START:
        ap.error(f"--t-sim must exceed the {T_START:.0f} ms discarded at the start")
    runs = []
    for seed in args.seeds:
        for bits in (32, 64):
            r = one_run(args, seed, bits)
            c23 = r["medians_over_areas"]["correlation_coefficient"].get("23E")   # None: no pair fired
            r["high_state"] = c23 is not None and c23 > args.high
            runs.append(r)
    date = datetime.date.today().isoformat()
    rep = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "host": f"{platform.platform()} ({os.cpu_count()} CPUs)",
           "config": {"scale": args.scale, "t_sim": args.t_sim, "seeds": args.seeds, "backend": args.backend,
                      "high": args.high},
           "runs": runs}
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"ring_width_multi_area_scale{args.scale:g}_{date}")
    with open(stem + ".json", "w") as fh:
        json.dump(rep, fh, indent=1, default=float)
    with open(stem + ".md", "w") as fh:
        fh.write(markdown(rep) + "\n")
    print(f"wrote {stem}.json and .md")


if __name__ == "__main__":
    main()
