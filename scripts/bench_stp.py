"""Benchmark: what short-term plasticity costs, in distsnn and in NEST, side by side.

The microcircuit with its excitatory projections plastic (Tsodyks-Markram: depressing onto
excitatory populations, facilitating onto inhibitory ones; inhibitory projections static)
against the same model with static synapses, in distsnn (procedural and stored) and in NEST
3.10 (tsodyks2_synapse, the same parameters). Each run is a fresh process on the same
machine and threads. Writes JSON and Markdown to bench/results/. Usage:

    python scripts/bench_stp.py --scale 0.5 --t-sim 1000 --threads 2 \\
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

# NEST's tsodyks2_synapse parameters (U, tau_rec ms, tau_fac ms; u starts at U, x at 1)
ONTO_E = {"U": 0.5, "tau_rec": 800.0, "tau_fac": 0.0}     # depressing (NEST's defaults)
ONTO_I = {"U": 0.1, "tau_rec": 100.0, "tau_fac": 500.0}   # facilitating


def plastic(net):
    """Make the excitatory projections of a microcircuit plastic (in place)."""
    from distsnn.model import TsodyksMarkram
    for pr in net.projections:
        if pr.source.endswith("E"):
            pr.stp = TsodyksMarkram(**(ONTO_I if pr.target.endswith("I") else ONTO_E))
    return net


def distsnn_run(args, make_plastic, connectivity, labels):
    """Run distsnn's microcircuit once in this process on the CPU, or on args.backend where
    given (make_plastic(net) applied first, unless None): (the result, its report row:
    simulator, `labels`, threads, times, events, rates, spikes, peak memory, the device's peak
    where one ran). bench_stdp's worker runs it too."""
    import numba
    numba.set_num_threads(args.threads)
    from distsnn.models import microcircuit
    from distsnn.runtime import simulate
    net = microcircuit.build(args.scale)
    if make_plastic is not None:
        make_plastic(net)
    backend = getattr(args, "backend", "cpu")
    res = simulate(net, args.t_sim, seed=args.seed, backend=backend, connectivity=connectivity, progress=False)
    device = {"device": res.device["name"], "peak_device_mb": (res.device.get("peak_allocated_bytes") or 0) / 2 ** 20} \
        if res.device else {}
    return res, {"simulator": "distsnn" if backend == "cpu" else f"distsnn ({backend})", **labels, **device,
                 "threads": args.threads,
                 "build_s": res.timers.seconds["build"], "simulate_s": res.timers.seconds["simulate"],
                 "events": res.events, "rates": res.mean_rates(), "spikes": int(res.spike_gids.size),
                 "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def worker(args):
    """Run distsnn once in this process and print one JSON line."""
    _, row = distsnn_run(args, plastic if args.stp else None, args.mode, {"mode": args.mode, "stp": args.stp})
    print(json.dumps(row))


def _label(run):
    """A run's simulator and, for distsnn, its connectivity mode."""
    return run["simulator"] + (f" ({run['mode']})" if "mode" in run else "")


def report(r):
    bio = r["t_sim_ms"] * 1e-3
    lines = [f"# Short-term plasticity's cost: microcircuit at scale {r['scale']:g}, {r['t_sim_ms']:g} ms, "
             f"{r['threads']} threads", "",
             f"{r['date']} on {r['machine']['platform']} ({r['machine']['cpus']} CPUs), seed {r['seed']}.", "",
             f"Plastic: every excitatory projection, depressing onto E ({r['onto_e']}), facilitating onto I "
             f"({r['onto_i']}); inhibitory projections static.", "",
             "| simulator | synapses | build (s) | simulate (s) | s per bio. s | events/s | ns per event | "
             "peak RSS (MB) | mean rate (Hz) |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for run in r["runs"]:
        if "error" in run:
            lines.append(f"| {run.get('simulator', '?')} | | failed: {run['error']} | | | | | | |")
            continue
        kind = "Tsodyks-Markram" if run.get("stp") else "static"
        ev, sim_s = run.get("events"), run["simulate_s"]
        rate = sum(run["rates"].values()) / len(run["rates"])
        per_event = f"{ev / sim_s:.3g} | {1e9 * sim_s / ev:.2f}" if ev else "n/a | n/a"
        lines.append(f"| {_label(run)} | {kind} | {run['build_s']:.2f} | {sim_s:.2f} | {sim_s / bio:.2f} | "
                     f"{per_event} | {run['peak_rss_mb']:.0f} | {rate:.2f} |")
    lines += ["", "Per-population rates (Hz):", "",
              "| run | " + " | ".join(r["populations"]) + " |", "| --- |" + " ---: |" * len(r["populations"])]
    for run in r["runs"]:
        if "error" not in run:
            name = _label(run) + (", plastic" if run.get("stp") else ", static")
            lines.append(f"| {name} | " + " | ".join(f"{run['rates'][p]:.3f}" for p in r["populations"]) + " |")
    lines += ["", "Notes:", "",
              "- The plastic runs have other rates than the static ones (E up, I down: the facilitating "
              "synapses onto I start weak) and so deliver other events: compare ns per event, and the plastic "
              "runs of both simulators with each other.",
              "- distsnn keeps u and x per source neuron and parameter set (24 B per neuron), computes one "
              "efficacy per spike and scales each regenerated weight by it; NEST keeps the state in every "
              "synapse (tsodyks2_synapse) and updates it per synapse.",
              "- Same parameters in both simulators (NEST reads distsnn's model description); rates differ "
              "by the implementations' other differences (scripts/bench_microcircuit.py's notes).", ""]
    return "\n".join(lines)


def nest_pair(args, key, plasticity):
    """NEST's static and plastic runs of the microcircuit (scripts/nest_microcircuit.py, each
    a fresh process), the plastic one with spec[key] = plasticity; each run's `key` says which."""
    runs = []
    for plastic in (False, True):
        spec = nest_spec(args.scale, args.t_sim, 0.0)
        if plastic:
            spec[key] = plasticity
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump(spec, fh)
        run = run_json([args.nest_python, os.path.join(HERE, "nest_microcircuit.py"), fh.name,
                        "--threads", str(args.threads), "--seed", str(args.seed)])
        run[key] = plastic
        runs.append(run)
        os.unlink(fh.name)
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.5)
    ap.add_argument("--t-sim", type=float, default=1000.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--modes", nargs="+", default=["procedural", "stored"])
    ap.add_argument("--nest-python", default=None, help="Python with nest-simulator installed")
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(HERE), "bench", "results"))
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="procedural", help=argparse.SUPPRESS)
    ap.add_argument("--stp", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    common = ["--scale", str(args.scale), "--t-sim", str(args.t_sim), "--threads", str(args.threads),
              "--seed", str(args.seed)]
    me = [sys.executable, os.path.abspath(__file__), "--worker"] + common
    for mode in args.modes:   # warm the numba cache: compile time is not build time
        run_json(me + ["--mode", mode, "--stp", "--t-sim", "1", "--scale", "0.01"])
    sys.path.insert(0, os.path.dirname(HERE))
    from distsnn.models.microcircuit import POPULATIONS
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine_info(), "scale": args.scale, "t_sim_ms": args.t_sim, "threads": args.threads,
               "seed": args.seed, "onto_e": ONTO_E, "onto_i": ONTO_I, "populations": list(POPULATIONS), "runs": []}
    for mode in args.modes:
        for stp in (False, True):
            results["runs"].append(run_json(me + ["--mode", mode] + (["--stp"] if stp else [])))
    if args.nest_python:
        results["runs"] += nest_pair(args, "stp", {"onto_e": ONTO_E, "onto_i": ONTO_I})
    write_results(args.out_dir, f"stp_microcircuit_scale{args.scale:g}", results, report)
    return None


if __name__ == "__main__":
    main()
