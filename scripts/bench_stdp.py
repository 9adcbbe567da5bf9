"""Benchmark: what STDP costs, in distsnn and in NEST, side by side.

The microcircuit with its projections between excitatory populations through STDP (NEST's
stdp_synapse, multiplicative, Wmax twice the mean weight) against the same model with static
synapses, in distsnn (stored connectivity, the CPU engine, and the GPU engine with --backends
cpu,gpu) and in NEST 3.10 (the same parameters). Each run is a fresh process on the same
machine and threads. Writes JSON and Markdown to bench/results/. Usage:

    python scripts/bench_stdp.py --scale 0.25 --t-sim 1000 --threads 2 \\
        --nest-python /path/to/venv-with-nest/bin/python
    python scripts/bench_stdp.py --scale 1 --t-sim 1000 --backends gpu   # on a GPU machine
"""
import argparse
import datetime
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_microcircuit import machine_info, peer_arguments, run_json, write_results  # noqa: E402
from bench_stp import distsnn_run, nest_pair  # noqa: E402

# stdp_synapse's parameters (NEST's names; tau_minus is the target neurons'); Wmax of each
# projection: Wmax_factor times its mean weight (the microcircuit's weights grow as its scale
# shrinks; L4E->L23E's is twice the others'), which a weight drawn with 10 % spread stays below
RULE = {"tau_plus": 20.0, "tau_minus": 20.0, "lambda": 0.005, "alpha": 1.0, "mu_plus": 1.0, "mu_minus": 1.0,
        "Wmax_factor": 2.0}


def rule_of(mean_weight):
    """stdp_synapse's parameters (NEST's names) for a projection of this mean weight."""
    spec = {k: v for k, v in RULE.items() if k != "Wmax_factor"}
    return dict(spec, Wmax=RULE["Wmax_factor"] * mean_weight)


def plastic(net):
    """Make the projections between excitatory populations of a microcircuit STDP (in place)."""
    from distsnn.model import STDP
    for pr in net.projections:
        if pr.source.endswith("E") and pr.target.endswith("E"):
            spec = rule_of(pr.weight.mean)
            pr.stdp = STDP(lambda_=spec.pop("lambda"), **spec)
    return net


def worker(args):
    """Run distsnn once in this process and print one JSON line."""
    res, out = distsnn_run(args, plastic if args.stdp else None, "stored", {"stdp": args.stdp})
    if args.stdp:
        w = res.plastic["weight"]
        out["weights"] = {"n": int(w.size), "mean": float(w.mean()), "sd": float(w.std())}
    print(json.dumps(out))


def report(r):
    bio = r["t_sim_ms"] * 1e-3
    lines = [f"# STDP's cost: microcircuit at scale {r['scale']:g}, {r['t_sim_ms']:g} ms, {r['threads']} threads", "",
             f"{r['date']} on {r['machine']['platform']} ({r['machine']['cpus']} CPUs), seed {r['seed']}.", "",
             f"Plastic: every projection between excitatory populations, stdp_synapse {r['rule']}; the others "
             "static. distsnn: stored connectivity; distsnn (gpu): the GPU engine, on "
             f"{next((x['device'] for x in r['runs'] if 'device' in x), 'no device')}.", "",
             "| simulator | synapses | build (s) | simulate (s) | s per bio. s | ns per event | peak RSS (MB) | "
             "peak device (MB) | mean rate (Hz) | plastic weights: mean, sd (pA) |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for run in r["runs"]:
        if "error" in run:
            lines.append(f"| {run.get('simulator', '?')} | | failed: {run['error']} | | | | | | | |")
            continue
        ev, sim_s = run.get("events"), run["simulate_s"]
        rate = sum(run["rates"].values()) / len(run["rates"])
        w = run.get("weights")
        weights = f"{w['mean']:.2f}, {w['sd']:.2f}" if w else ""
        per_event = f"{1e9 * sim_s / ev:.2f}" if ev else "n/a"
        device = f"{run['peak_device_mb']:.0f}" if "peak_device_mb" in run else ""
        lines.append(f"| {run['simulator']} | {'STDP' if run['stdp'] else 'static'} | {run['build_s']:.2f} | "
                     f"{sim_s:.2f} | {sim_s / bio:.2f} | {per_event} | {run['peak_rss_mb']:.0f} | {device} | "
                     f"{rate:.2f} | {weights} |")
    lines += ["", "Per-population rates (Hz):", "",
              "| run | " + " | ".join(r["populations"]) + " |", "| --- |" + " ---: |" * len(r["populations"])]
    for run in r["runs"]:
        if "error" not in run:
            name = run["simulator"] + (", STDP" if run["stdp"] else ", static")
            lines.append(f"| {name} | " + " | ".join(f"{run['rates'][p]:.3f}" for p in r["populations"]) + " |")
    lines += ["", "Notes:", "",
              "- distsnn computes NEST's update operation for operation (tests/test_stdp.py: the same weights to "
              "3e-16 on a small network); the networks here differ in their random draws, so their rates and "
              "weights agree as two samples of one model do.",
              "- distsnn keeps K+ per source neuron and group (16 B), a float64 weight beside each stored synapse "
              "and each target's spike history; NEST keeps K+ and the last spike's time in every synapse.",
              "- distsnn's engines compute the same bits (tests/test_gpu_stdp.py): with one seed, the CPU and "
              "the GPU rows have the same spikes and weights.", ""]
    return "\n".join(lines)


def main():
    ap = peer_arguments(__doc__, 0.25, 1000.0)
    ap.add_argument("--stdp", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    common = ["--scale", str(args.scale), "--t-sim", str(args.t_sim), "--threads", str(args.threads),
              "--seed", str(args.seed)]
    me = [sys.executable, os.path.abspath(__file__), "--worker"] + common
    # warm the numba cache: compile time is not build time
    run_json(me + ["--stdp", "--t-sim", "1", "--scale", "0.01"])
    sys.path.insert(0, os.path.dirname(HERE))
    from distsnn.models.microcircuit import POPULATIONS
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine_info(), "scale": args.scale, "t_sim_ms": args.t_sim, "threads": args.threads,
               "seed": args.seed, "rule": RULE, "populations": list(POPULATIONS), "runs": []}
    for backend in args.backends.split(","):
        for stdp in (False, True):
            results["runs"].append(run_json(me + ["--backend", backend] + (["--stdp"] if stdp else [])))
    if args.nest_python:
        results["runs"] += nest_pair(args, "stdp", RULE)
    write_results(args.out_dir, f"stdp_microcircuit_scale{args.scale:g}", results, report)
    return None


if __name__ == "__main__":
    main()
