"""Benchmark: what membrane parameters per neuron cost, and what they do. The microcircuit as
published, and the same with tau_m, C_m, t_ref and V_reset drawn per neuron (rows of
constants of their own, build.param_rows), each with and without its recurrent projections
(the neuron update with Poisson input alone, and the whole step); with --nest-python, both
with all projections in NEST too (the same distributions, nest.random), so that the rates'
response to the heterogeneity can be set side by side. Each run in a fresh process. Writes
JSON and Markdown to bench/results/. Usage:

    python scripts/bench_heterogeneous.py --scale 1 --t-sim 1000 --threads 2 \
        --nest-python /path/to/venv-with-nest/bin/python
"""
import argparse
import datetime
import json
import os
import resource
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_microcircuit import machine_info, nest_spec, run_json, write_results  # noqa: E402

# drawn per neuron around the published numbers (tau_m 10 ms, C_m 250 pF, t_ref 2 ms, V_reset
# -65 mV), wide enough that the rates respond beyond the spread between seeds
SPREAD = {"tau_m": ("Normal", 10.0, 2.0), "C_m": ("Normal", 250.0, 50.0), "t_ref": ("Uniform", 1.0, 3.0),
          "V_reset": ("Normal", -65.0, 2.0)}


def spread_params():
    from distsnn.model import Normal, Uniform
    return {k: (Normal if kind == "Normal" else Uniform)(a, b) for k, (kind, a, b) in SPREAD.items()}


def worker(args):
    """Run one configuration in this process and print one JSON line."""
    import numba
    numba.set_num_threads(args.threads)
    from distsnn.models import microcircuit
    from distsnn.runtime import simulate
    net = microcircuit.build(args.scale, neuron_params=spread_params() if args.spread else None)
    if args.no_projections:
        net.projections.clear()
    res = simulate(net, args.t_sim, seed=args.seed, progress=False)
    print(json.dumps({
        "spread": args.spread, "no_projections": args.no_projections, "threads": args.threads,
        "build_s": res.timers.seconds["build"], "simulate_s": res.timers.seconds["simulate"], "events": res.events,
        "rates": res.mean_rates(), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _label(r):
    return "per neuron" if r["spread"] else "as published"


def markdown(rep):
    lines = [f"# Membrane parameters per neuron: the microcircuit (scale {rep['scale']:g}, {rep['t_sim']:g} ms, "
             f"{rep['threads']} threads)", "",
             f"{rep['date']} on {rep['machine']['platform']} ({rep['machine']['cpus']} CPUs), seed {rep['seed']}.", "",
             "Drawn per neuron in the heterogeneous runs: " + ", ".join(
                 f"{k} ~ {kind}({a:g}, {b:g})" for k, (kind, a, b) in SPREAD.items()) + ".", "",
             "| simulator | neurons | projections | build (s) | simulate (s) | real-time factor | peak RSS (MB) |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rep["runs"]:
        if "error" in r:
            lines.append(f"| {r['simulator']} | {_label(r)} | | error: {r['error']} | | | |")
            continue
        lines.append(f"| {r['simulator']} | {_label(r)} | {'none' if r['no_projections'] else 'all'} | "
                     f"{r['build_s']:.2f} | {r['simulate_s']:.2f} | {r['simulate_s'] / rep['t_sim'] * 1000:.2f} | "
                     f"{r['peak_rss_mb']:.0f} |")
    full = [r for r in rep["runs"] if not r["no_projections"] and "rates" in r]
    sims = list(dict.fromkeys(r["simulator"] for r in full))
    lines += ["", "Mean rates (Hz) with all projections, and their change with the parameters drawn per neuron:", "",
              "| population | " + " | ".join(f"{s} as published | {s} per neuron | {s} change" for s in sims) + " |",
              "| --- |" + " ---: | ---: | ---: |" * len(sims)]
    by = {(r["simulator"], r["spread"]): r["rates"] for r in full}
    for pop in (full[0]["rates"] if full else {}):
        cells = []
        for sim in sims:
            a, b = by.get((sim, False), {}).get(pop), by.get((sim, True), {}).get(pop)
            cells += [f"{a:.3f}" if a is not None else "", f"{b:.3f}" if b is not None else "",
                      f"{100.0 * (b - a) / a:+.1f} %" if a and b is not None else ""]
        lines.append(f"| {pop} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--t-sim", type=float, default=1000.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--nest-python", default=None, help="Python with nest-simulator installed")
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(HERE), "bench", "results"))
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--spread", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-projections", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    base = [sys.executable, os.path.abspath(__file__), "--worker", "--scale", str(args.scale), "--t-sim",
            str(args.t_sim), "--threads", str(args.threads), "--seed", str(args.seed)]
    runs = []
    for no_proj in (True, False):
        for spread in (False, True):
            out = run_json(base + (["--spread"] if spread else []) + (["--no-projections"] if no_proj else []))
            runs.append(dict(out, simulator="distsnn", spread=spread, no_projections=no_proj))
    if args.nest_python:
        for spread in (False, True):
            spec = nest_spec(args.scale, args.t_sim, 0.0)
            if spread:
                spec["spread"] = SPREAD
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
                json.dump(spec, fh)
            out = run_json([args.nest_python, os.path.join(HERE, "nest_microcircuit.py"), fh.name, "--threads",
                            str(args.threads), "--seed", str(args.seed)])
            os.unlink(fh.name)
            runs.append(dict(out, simulator=out.get("simulator", "NEST"), spread=spread, no_projections=False))
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    rep = {"benchmark": "heterogeneous", "date": now, "machine": machine_info(), "scale": args.scale,
           "t_sim": args.t_sim, "threads": args.threads, "seed": args.seed, "spread": SPREAD, "runs": runs}
    write_results(args.out_dir, f"heterogeneous_microcircuit_scale{args.scale:g}", rep, markdown)


if __name__ == "__main__":
    main()
