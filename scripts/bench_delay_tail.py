"""Validation: does the lower tail of the delay distribution change the microcircuit's activity?

NEST's Potjans_2014 example (and the multi-area model's own code, NEST 2's normal_clipped)
redraws normal delays drawn below dt; distsnn clipped them to one step until 2026-11-23 and
now redraws them too (`--delays redraw`, the default; `clip` for the old rule). The
intra-area delays (1.5 +- 0.75 ms from E, 0.75 +- 0.375 ms from I) put 3 to 6 % of the
synapses in that tail. This runs NEST's microcircuit and distsnn's, each twice from one seed,
delays redrawn and delays clipped (`scripts/nest_microcircuit.py --delays`, `distsnn run
microcircuit --delays`), all with the same model parameters, and compares per population
over [500 ms, T]:
- mean rate (Hz, silent neurons included),
- mean LvR (R = 2 ms, neurons with at least 2 ISIs),
- mean pairwise correlation of 1 ms spike counts among a seeded sample of non-silent neurons.
NEST clip against NEST redraw isolates the delay rule inside one simulator; each distsnn run
against the NEST run of its rule says whether the two simulators agree under both rules.
Both redraw below dt / 2, the example's bound (distsnn redrew below dt on 2026-11-23).
Writes bench/results/delay_tail_microcircuit_*.json and .md.

    python scripts/bench_delay_tail.py --nest-python /path/to/venv-with-nest/bin/python   # ~36 min on 2 cores
    python scripts/bench_delay_tail.py --nest-from EARLIER.json   # NEST's runs of an earlier report (same
                                                                  # configuration), distsnn's again: ~4 min
    python scripts/bench_delay_tail.py --nest-python PY --rules redraw --seed 2   # one rule, another seed
    python scripts/bench_delay_tail.py --combine A.json B.json ...   # reports of several seeds side by side

A report is named by scale, seed (when not 1), rule (when only one ran) and date. --combine
puts reports of different seeds (one configuration otherwise) side by side: each run's value
per seed, the ratios of each seed, and NEST's own seed-to-seed spread, the yardstick for
distsnn / NEST.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
sys.path.insert(0, HERE)

from bench_microcircuit import nest_spec  # noqa: E402
from distsnn.analysis import analyze_file  # noqa: E402
from distsnn.io import summary_path  # noqa: E402

T_START = 500.0    # ms discarded
MEASURES = ("rate_hz", "lvr", "corr")
MEASURE_NAMES = {"rate_hz": "rate (Hz)", "lvr": "LvR", "corr": "correlation"}   # the reports' headings
RULES = ("redraw", "clip")
# the ratio columns of the report: (numerator run, denominator run)
RATIOS = (("NEST clip", "NEST redraw"), ("distsnn redraw", "NEST redraw"), ("distsnn clip", "NEST clip"))


def summarise(path, t_start, t_stop, corr_neurons, seed=0):
    """{population: {rate_hz, lvr, corr}} of a spike file over [t_start, t_stop)."""
    out = {}
    stats = analyze_file(path, t_start=t_start, t_stop=t_stop, lvr_r=2.0, corr_neurons=corr_neurons, seed=seed)
    for name, st in stats.items():
        lvr = st.lvr[np.isfinite(st.lvr)]
        out[name] = {"rate_hz": float(st.rates.mean()), "lvr": float(lvr.mean()) if lvr.size else float("nan"),
                     "corr": float(st.corr_mean), "n_corr": int(st.corr_ids.size)}
    return out


def run(cmd, json_line=True):
    """Run cmd; its last line of output as JSON (the NEST script's result), else nothing."""
    print(" ".join(cmd), flush=True)
    proc = subprocess.run(cmd, check=True, cwd=REPO, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1]) if json_line else None


def earlier_nest_runs(path, config, rules=RULES):
    """The NEST runs under `rules` of an earlier report `path` (their statistics; NEST's spikes
    are a function of the configuration and its seed), which must have been made with `config`
    and hold a NEST run of each rule."""
    with open(path) as fh:
        rep = json.load(fh)
    diff = {k: (rep["config"].get(k), v) for k, v in config.items() if rep["config"].get(k) != v}
    if diff:
        raise SystemExit(f"{path}: another configuration ("
                         + ", ".join(f"{k} {a} there, {b} here" for k, (a, b) in diff.items()) + ")")
    missing = [rule for rule in rules if f"NEST {rule}" not in rep["runs"]]
    if missing:
        raise SystemExit(f"{path}: has no NEST run with delays {' or '.join(missing)}")
    return {f"NEST {rule}": rep["runs"][f"NEST {rule}"] for rule in rules}


def combined(reports):
    """Markdown: reports of several seeds (each a dict as written; one configuration but the
    seed) side by side. Per measure and population: each run's value per seed, distsnn / NEST
    per seed for the runs' shared rules, and NEST's seed-to-seed spread (largest over smallest
    seed's value), which says how far two runs of one simulator differ by their seed alone."""
    configs = [{k: v for k, v in r["config"].items() if k != "seed"} for r in reports]
    if any(c != configs[0] for c in configs):
        raise SystemExit("--combine: the reports differ in more than their seed: " + "; ".join(map(str, configs)))
    seeds = [r["config"]["seed"] for r in reports]
    if len(set(seeds)) != len(seeds):
        raise SystemExit(f"--combine: a seed is given twice ({seeds})")
    runs = [name for name in reports[0]["runs"] if all(name in r["runs"] for r in reports)]
    pairs = [(a, b) for a, b in RATIOS if a in runs and b in runs and a.startswith("distsnn")]
    g = configs[0]
    lines = [f"# Delay tail over seeds {', '.join(map(str, seeds))}: the microcircuit (scale {g['scale']:g}, "
             f"{g['t_sim']:.0f} ms)", "",
             f"Statistics over [{T_START:.0f}, {g['t_sim']:.0f}] ms from the reports of each seed; "
             "NEST spread: the largest seed's value over the smallest's.", ""]
    for m in MEASURES:
        head = [f"{run} (seeds {'/'.join(map(str, seeds))})" for run in runs]
        head += [f"{a} / {b} per seed" for a, b in pairs]
        head += [f"{a} / {b}, means over seeds" for a, b in pairs]
        head += [f"{run} spread" for run in runs if run.startswith("NEST")]
        lines += [f"## {MEASURE_NAMES[m]}", "", "| population | " + " | ".join(head) + " |",
                  "| --- |" + " ---: |" * len(head)]
        per_seed = {pair: [] for pair in pairs}   # each population's ratios per seed
        for pop in reports[0]["runs"][runs[0]]["stats"]:
            val = {run: [r["runs"][run]["stats"][pop][m] for r in reports] for run in runs}
            cells = [" / ".join(f"{v:.4g}" for v in val[run]) for run in runs]
            cells += [" / ".join(ratio(x, y) for x, y in zip(val[a], val[b])) for a, b in pairs]
            cells += [ratio(np.mean(val[a]), np.mean(val[b])) for a, b in pairs]
            cells += [ratio(max(val[run]), min(val[run])) for run in runs if run.startswith("NEST")]
            lines.append(f"| {pop} | " + " | ".join(cells) + " |")
            for a, b in pairs:
                per_seed[(a, b)].append([x / y if y != 0 else np.nan for x, y in zip(val[a], val[b])])
        lines.append("")
        for (a, b), table in per_seed.items():   # (populations, seeds)
            means = np.nanmean(np.array(table), axis=0)
            lines += [f"{a} / {b}, mean over populations: " + " / ".join(f"{x:.3f}" for x in means)
                      + f" (seeds {'/'.join(map(str, seeds))}), {np.mean(means):.3f} over all.", ""]
    return "\n".join(lines)


def report_stem(out, scale, seed, rules, date):
    """The path without extension of a report: delay_tail_microcircuit_scale<s>[_seed<n>][_<rule>]_<date>."""
    seed_part = f"_seed{seed}" if seed != 1 else ""
    rule_part = f"_{rules[0]}" if len(rules) == 1 else ""
    return os.path.join(out, f"delay_tail_microcircuit_scale{scale:g}{seed_part}{rule_part}_{date}")


def ratio(a, b):
    return f"{a / b:.3f}" if b != 0 and np.isfinite(a) and np.isfinite(b) else "n/a"


def markdown(rep):
    g = rep["config"]
    lines = [f"# Delay tail: the microcircuit, delays below dt redrawn or clipped (scale {g['scale']:g}, "
             f"{g['t_sim']:.0f} ms)", "",
             f"{rep['date']} on {rep['host']}, seed {g['seed']}; statistics over [{T_START:.0f}, {g['t_sim']:.0f}] ms, "
             f"correlations among {g['corr_neurons']} neurons per population.", ""]
    runs = list(rep["runs"])
    pairs = [(a, b) for a, b in RATIOS if a in runs and b in runs]   # those of the runs made
    for m in MEASURES:
        lines += [f"## {MEASURE_NAMES[m]}", "", "| population | " + " | ".join(runs) + " | "
                  + " | ".join(f"{a} / {b}" for a, b in pairs) + " |",
                  "| --- |" + " ---: |" * (len(runs) + len(pairs))]
        for pop in rep["runs"][runs[0]]["stats"]:
            vals = [rep["runs"][r]["stats"][pop][m] for r in runs]
            by = dict(zip(runs, vals))
            lines.append(f"| {pop} | " + " | ".join(f"{v:.4g}" for v in vals) + " | "
                         + " | ".join(ratio(by[a], by[b]) for a, b in pairs) + " |")
        lines.append("")
    if rep.get("nest_from"):
        lines += [f"The NEST runs are those of {rep['nest_from']} (the same configuration).", ""]
    lines += ["Simulation times are incidental (this is a validation; scripts/bench_microcircuit.py measures "
              "speed): " + ", ".join(f"{r} {v['simulate_s']:.0f} s" for r, v in rep["runs"].items()) + ".", ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--t-sim", type=float, default=5500.0, help="ms (default 5500)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corr-neurons", type=int, default=500)
    nest = ap.add_mutually_exclusive_group(required=True)
    nest.add_argument("--nest-python", help="Python with nest-simulator installed")
    nest.add_argument("--nest-from", metavar="REPORT.json", help="take NEST's runs from this earlier report")
    nest.add_argument("--combine", nargs="+", metavar="REPORT.json", help="reports of several seeds side by side")
    ap.add_argument("--rules", nargs="+", choices=RULES, default=list(RULES), help="delay rules to run (default both)")
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    args = ap.parse_args()
    if args.t_sim <= T_START:
        ap.error(f"--t-sim must exceed the {T_START:.0f} ms discarded at the start")
    os.makedirs(args.out, exist_ok=True)
    today = datetime.date.today().isoformat()
    if args.combine:
        reports = []
        for path in args.combine:
            with open(path) as fh:
                reports.append(json.load(fh))
        reports.sort(key=lambda r: r["config"]["seed"])
        text = combined(reports)
        scale = reports[0]["config"]["scale"]
        path = os.path.join(args.out, f"delay_tail_microcircuit_scale{scale:g}_seeds_{today}.md")
        with open(path, "w") as fh:
            fh.write(text + "\n")
        print(f"wrote {path}")
        return
    rules = list(dict.fromkeys(args.rules))
    config = {"scale": args.scale, "t_sim": args.t_sim, "seed": args.seed, "threads": args.threads,
              "corr_neurons": args.corr_neurons}
    runs = earlier_nest_runs(args.nest_from, config, rules) if args.nest_from else {}
    with tempfile.TemporaryDirectory() as work:
        spec = os.path.join(work, "spec.json")
        with open(spec, "w") as fh:
            json.dump(nest_spec(args.scale, args.t_sim, T_START), fh)
        for rule in rules if args.nest_python else ():
            path = os.path.join(work, f"nest_{rule}.h5")
            res = run([args.nest_python, os.path.join(HERE, "nest_microcircuit.py"), spec, "--threads",
                       str(args.threads), "--seed", str(args.seed), "--delays", rule, "--spikes", path])
            runs[f"NEST {rule}"] = {"simulator": res["simulator"], "simulate_s": res["simulate_s"],
                                    "stats": summarise(path, T_START, args.t_sim, args.corr_neurons)}
        for rule in rules:
            path = os.path.join(work, f"distsnn_{rule}.h5")
            run([sys.executable, "-m", "distsnn", "run", "microcircuit", "--scale", str(args.scale), "--t-sim",
                 str(args.t_sim), "--seed", str(args.seed), "--backend", "cpu", "--threads", str(args.threads),
                 "--delays", rule, "--output", path, "--no-progress"], json_line=False)
            with open(summary_path(path)) as fh:
                simulate_s = json.load(fh)["timers_s"]["simulate"]
            runs[f"distsnn {rule}"] = {"simulator": "distsnn", "simulate_s": simulate_s,
                                       "stats": summarise(path, T_START, args.t_sim, args.corr_neurons)}
    rep = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "host": f"{platform.platform()} ({os.cpu_count()} CPUs)",
           "config": config, "runs": runs, "nest_from": args.nest_from and os.path.basename(args.nest_from)}
    stem = report_stem(args.out, args.scale, args.seed, rules, today)
    with open(stem + ".json", "w") as fh:
        json.dump(rep, fh, indent=1)
    with open(stem + ".md", "w") as fh:
        fh.write(markdown(rep) + "\n")
    print(f"wrote {stem}.json and .md")


if __name__ == "__main__":
    main()
