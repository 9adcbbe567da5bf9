"""Benchmark: what membrane parameters per neuron cost. The microcircuit as published, and the
same with tau_m, C_m, t_ref and V_reset drawn per neuron (rows of constants of their own,
build.param_rows), each with and without its recurrent projections (the neuron update with
Poisson input alone, and the whole step), each in a fresh process. Writes JSON and Markdown
to bench/results/. Usage:

    python scripts/bench_heterogeneous.py --scale 1 --t-sim 1000 --threads 2
"""
import argparse
import datetime
import json
import os
import resource
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_microcircuit import machine_info, run_json  # noqa: E402

# drawn per neuron around the published numbers (tau_m 10 ms, C_m 250 pF, t_ref 2 ms, V_reset -65 mV)
SPREAD = {"tau_m": ("Normal", 10.0, 1.0), "C_m": ("Normal", 250.0, 25.0), "t_ref": ("Uniform", 1.5, 2.5),
          "V_reset": ("Normal", -65.0, 1.0)}


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


def markdown(rep):
    lines = [f"# Membrane parameters per neuron: the microcircuit (scale {rep['scale']}, {rep['t_sim']:g} ms, "
             f"{rep['threads']} threads)", "",
             f"{rep['date']} on {rep['machine']['platform']} ({rep['machine']['cpus']} CPUs), seed {rep['seed']}.", "",
             "Drawn per neuron in the heterogeneous runs: " + ", ".join(
                 f"{k} ~ {kind}({a:g}, {b:g})" for k, (kind, a, b) in SPREAD.items()) + ".", "",
             "| neurons | projections | build (s) | simulate (s) | real-time factor | peak RSS (MB) |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rep["runs"]:
        if "error" in r:
            lines.append(f"| {r['label']} | | error: {r['error']} | | | |")
            continue
        lines.append(f"| {'per neuron' if r['spread'] else 'as published'} | {'none' if r['no_projections'] else 'all'}"
                     f" | {r['build_s']:.2f} | {r['simulate_s']:.2f} | {r['simulate_s'] / rep['t_sim'] * 1000:.2f} |"
                     f" {r['peak_rss_mb']:.0f} |")
    lines += ["", "Mean rates (Hz), with all projections:", "", "| population | as published | per neuron |",
              "| --- | ---: | ---: |"]
    full = {r["spread"]: r for r in rep["runs"] if not r.get("no_projections") and "rates" in r}
    if len(full) == 2:
        for pop in full[False]["rates"]:
            lines.append(f"| {pop} | {full[False]['rates'][pop]:.3f} | {full[True]['rates'][pop]:.3f} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--t-sim", type=float, default=1000.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1)
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
            runs.append(dict(out, spread=spread, no_projections=no_proj,
                             label=f"{'per neuron' if spread else 'as published'}, "
                                   f"{'no projections' if no_proj else 'all projections'}"))
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    rep = {"benchmark": "heterogeneous", "date": now, "machine": machine_info(), "scale": args.scale,
           "t_sim": args.t_sim, "threads": args.threads, "seed": args.seed, "spread": SPREAD, "runs": runs}
    os.makedirs(args.out_dir, exist_ok=True)
    stem = os.path.join(args.out_dir, f"heterogeneous_microcircuit_scale{args.scale:g}_{rep['date'][:10]}")
    with open(stem + ".json", "w") as f:
        json.dump(rep, f, indent=1)
    with open(stem + ".md", "w") as f:
        f.write(markdown(rep))
    print(markdown(rep))


if __name__ == "__main__":
    main()
