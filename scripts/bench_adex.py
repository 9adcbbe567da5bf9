"""Benchmark and validation: the AdEx E/I network (aeif_cond_exp) in distsnn and NEST, side by side.

distsnn (procedural, and stored for its first seed) and NEST 3.10 run the network of
distsnn.models.adex (NEST reads distsnn's description) on the same machine with the same
threads, each in a fresh process, over several seeds. Both integrate aeif_cond_exp with the
same solver (RKF45 with GSL's step control), so the cost per neuron update compares the
simulators, not the methods. The activity is compared by the per-neuron distributions of
rate, CV and correlation (D_KL against NEST's first seed; NEST's own seeds give the floor).
Writes JSON and Markdown to bench/results/. Usage:

    python scripts/bench_adex.py --scale 1 --t-sim 1000 --threads 2 --seeds 2 \
        --nest-python /path/to/venv-with-nest/bin/python
    python scripts/bench_adex.py --backend gpu --seeds 2     # distsnn on the GPU (scripts/gpu_session.sh)
"""
import datetime
import json
import os
import resource
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_brunel import (activity_lines, analyse, parse_side_by_side, run_distsnn_seeds,  # noqa: E402
                          run_peer_seeds, side_by_side_parser)   # (as Brunel's)
from bench_microcircuit import machine_info, write_results  # noqa: E402  (JSON + Markdown)


def worker(args):
    """Run distsnn once in this process, write the spikes to args.spikes, print one JSON line."""
    from distsnn.models import adex
    run_worker(args, lambda: adex.build(args.scale, b=args.b))


def run_worker(args, build):
    """A side-by-side benchmark's distsnn run (with args.backend) of the network build()
    returns, in this process: spikes to args.spikes, one JSON line (shared with
    bench_izhikevich.py)."""
    import numba
    numba.set_num_threads(args.threads)
    from distsnn.io import write_spikes
    from distsnn.runtime import simulate
    res = simulate(build(), args.t_sim, seed=args.seed, connectivity=args.mode, backend=args.backend,
                   progress=False)
    write_spikes(args.spikes, res)
    print(json.dumps({
        "simulator": "distsnn" + ("" if res.backend == "cpu" else f" {res.backend} ({res.device.get('name', '?')})"),
        "mode": args.mode, "seed": args.seed, "threads": args.threads,
        "build_s": res.timers.seconds["build"], "simulate_s": res.timers.seconds["simulate"],
        "events": res.events, "n_synapses": res.n_synapses, "n_spikes": int(res.spike_gids.size),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def nest_spec(scale, t_sim, b):
    """distsnn's AdEx network as the JSON spec of scripts/peers/nest_adex.py."""
    sys.path.insert(0, ROOT)
    from distsnn.models import adex
    net = adex.build(scale, b=b)
    pops = {name: {"size": p.size, "params": p.params, "v0_low": p.v_init.low, "v0_high": p.v_init.high}
            for name, p in net.populations.items()}
    projections = [{"source": pr.source, "target": pr.target, "indegree": pr.rule.n,
                    # NEST's sign convention: an inhibitory conductance is a negative weight
                    "weight": pr.weight.value * (1 if pr.receptor == "excitatory" else -1), "delay": pr.delay.value}
                   for pr in net.projections]
    return {"dt": net.dt, "t_sim": t_sim, "populations": pops, "projections": projections,
            "ext_rate_hz": adex.K_EXT * adex.NU_EXT, "ext_weight": adex.Q_EXC, "delay": adex.DELAY,
            "n_neurons": sum(p.size for p in net.populations.values())}


def main():
    ap = side_by_side_parser(__doc__)
    ap.add_argument("--b", type=float, default=60.0, help="pA: adaptation of the excitatory neurons")
    ap.add_argument("--backend", default="cpu", choices=("cpu", "gpu", "gpu-emu"), help="distsnn's backend")
    args = parse_side_by_side(ap)
    if args.worker:
        return worker(args)

    suffix = "" if args.backend == "cpu" else f"_{args.backend}"
    run_against_nest(args, os.path.abspath(__file__), ["--b", str(args.b)], {"b_pA": args.b},
                     nest_spec(args.scale, args.t_sim, args.b), "nest_adex.py",
                     f"adex_b{args.b:g}_scale{args.scale:g}{suffix}", report)


def run_against_nest(args, script, options, extra, spec, peer_script, name, report):
    """A side-by-side benchmark against NEST (shared with bench_izhikevich.py): distsnn's runs
    (worker processes of `script` with the common options, args.backend and `options`), NEST's
    of scripts/peers/`peer_script` reading `spec` if args.nest_python is given, the analysis;
    the results (`extra` among their settings) go to args.out_dir as `name` (+ date), with
    `report` writing the Markdown."""
    tmp = tempfile.mkdtemp(prefix="bench_")
    common = ["--scale", str(args.scale), "--t-sim", str(args.t_sim), "--threads", str(args.threads),
              "--backend", args.backend] + options
    me = [sys.executable, script, "--worker"] + common
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine_info(), "scale": args.scale, "t_sim_ms": args.t_sim, **extra,
               "threads": args.threads, "backend": args.backend, "n_neurons": spec["n_neurons"], "dt_ms": spec["dt"],
               "analysis_from_ms": args.analysis_from, "runs": []}
    files = {}
    seeds = range(1, args.seeds + 1)
    run_distsnn_seeds(me, tmp, seeds, results, files)
    if args.nest_python:
        run_nest_seeds(args, peer_script, spec, tmp, seeds, results, files)
    results["analysis"] = analyse(files, args.analysis_from, args.t_sim)
    shutil.rmtree(tmp, ignore_errors=True)
    write_results(args.out_dir, name, results, report)


def run_nest_seeds(args, script, spec, tmp, seeds, results, files):
    """NEST's runs of a side-by-side benchmark: the spec as a JSON file read by
    scripts/peers/`script`, one run per seed (bench_brunel.run_peer_seeds)."""
    spec_path = os.path.join(tmp, "spec.json")
    with open(spec_path, "w") as fh:
        json.dump(spec, fh)
    run_peer_seeds("NEST", [args.nest_python, os.path.join(HERE, "peers", script), spec_path], tmp, args.threads,
                   seeds, results, files)


def report(r):
    lines = [f"# AdEx E/I network (aeif_cond_exp; b {r['b_pA']:g} pA, scale {r['scale']:g}, {r['n_neurons']} neurons, "
             f"{r['t_sim_ms']:g} ms, {r['threads']} threads)", ""] + runs_lines(r)
    lines += ["", "Notes:", "",
              "- Same network in both: NEST reads distsnn's description (sizes, parameters, in-degrees, weights, "
              "delay, external rate, initial V uniform in [V_reset, V_th)). The external drive is one "
              "poisson_generator in NEST (independent trains per target) and per-neuron counter-based streams "
              "in distsnn; each draws its own connectivity, so runs agree in distribution, not spike for spike.",
              "- Both integrate aeif_cond_exp with RKF45 and GSL's step control at gsl_error_tol 1e-6 (one "
              "neuron's V agrees to 6e-12 mV: tests/test_nest_traces.py).",
              "- ns per neuron update: simulate time / (neurons x steps), delivery included.",
              "- Each run is a fresh process (its own peak RSS)."]
    return "\n".join(lines) + "\n"


def runs_lines(r):
    """The machine, the table of runs (with the cost per neuron update), whether stored equals
    procedural, and the activity tables (bench_brunel.activity_lines); shared with
    bench_izhikevich.py."""
    bio = r["t_sim_ms"] * 1e-3
    updates = r["n_neurons"] * round(r["t_sim_ms"] / r["dt_ms"])
    lines = [f"{r['date']} on {r['machine']['platform']} ({r['machine']['cpus']} CPUs).", "",
             "| simulator | seed | build (s) | simulate (s) | real-time factor | ns per neuron update | synapses | "
             "spikes | peak RSS (MB) |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for run in r["runs"]:
        if "error" in run:
            lines.append(f"| {run.get('simulator', '?')} | | error: {run['error']} | | | | | | |")
            continue
        name = run["simulator"] + (f" ({run['mode']})" if "mode" in run else "")
        lines.append(f"| {name} | {run['seed']} | {run['build_s']:.2f} | {run['simulate_s']:.2f} | "
                     f"{run['simulate_s'] / bio:.2f} | {run['simulate_s'] / updates * 1e9:.0f} | "
                     f"{run.get('n_synapses', 0):.4g} | {run['n_spikes']} | {run['peak_rss_mb']:.0f} |")
    if "stored_equals_procedural" in r:
        lines += ["", f"distsnn stored and procedural, seed 1: identical spikes: {r['stored_equals_procedural']}."]
    return lines + activity_lines(r)


if __name__ == "__main__":
    main()
