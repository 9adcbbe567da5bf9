"""Benchmark: NEST's HPC benchmark network (distsnn.models.hpc_benchmark: power-law STDP between
its excitatory neurons, 11,250 inputs per neuron) in distsnn and in NEST 3.10, side by side.

Each run is a fresh process on the same machine and threads, for the same biological time
(NEST's example: 50 ms of presimulation and 250 ms, run here as one stretch). distsnn runs
with stored connectivity (STDP), on each engine asked for. Reports build and simulation
times, the rates of the first 1,000 E neurons and of all I neurons, the E->E weights' mean
and sd at the end (two samples of one model: the simulators draw their own connections),
and the peak memory. Writes JSON and Markdown to bench/results/. Usage:

    python scripts/bench_hpc.py --scale 0.5 --t-sim 300 --threads 2 \\
        --nest-python /path/to/venv-with-nest/bin/python
    python scripts/bench_hpc.py --scale 4 --t-sim 300 --backends gpu   # on a GPU machine
"""
import datetime
import json
import os
import resource
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_microcircuit import machine_info, peer_arguments, run_json, write_results  # noqa: E402

SAMPLE_SOURCES = 200   # the E->E weights reported: those from the first 200 E neurons (NEST's get is slow)


def worker(args):
    """Run distsnn once in this process and print one JSON line."""
    import numba
    numba.set_num_threads(args.threads)
    from distsnn.models import hpc_benchmark
    from distsnn.runtime import simulate
    res = simulate(hpc_benchmark.build(args.scale), args.t_sim, seed=args.seed, backend=args.backend,
                   connectivity="stored", progress=False)
    source, _, _, w = res.weights("E", "E")
    w = w[source < SAMPLE_SOURCES]   # as NEST's run reports them
    out = {"simulator": "distsnn" if args.backend == "cpu" else f"distsnn ({args.backend})", "threads": args.threads,
           "build_s": res.timers.seconds["build"], "simulate_s": res.timers.seconds["simulate"],
           "events": res.events, "rates": res.mean_rates(), "spikes": int(res.spike_gids.size),
           "synapses": res.n_synapses, "weights": {"n": int(w.size), "mean": float(w.mean()), "sd": float(w.std())},
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if res.device:
        out.update(device=res.device["name"], peak_device_mb=(res.device.get("peak_allocated_bytes") or 0) / 2 ** 20)
    print(json.dumps(out))


def nest_spec(scale, t_sim):
    """The network as scripts/peers/nest_hpc_benchmark.py reads it (distsnn's numbers)."""
    from distsnn.models import hpc_benchmark as h
    return {"dt": h.DT, "t_sim": t_sim, "sizes": {"E": max(1, int(h.N_E * scale)), "I": max(1, int(h.N_I * scale))},
            "k_e": h.N_E, "k_i": h.N_I, "params": h.PARAMS, "tau_minus": h.TAU_MINUS, "v_mean": h.V_MEAN,
            "v_sd": h.V_SD, "delay": h.DELAY, "je_pa": h.je_pa(), "g": h.G, "rate_per_input": h.external_rate(),
            "record": 1000, "sample_sources": SAMPLE_SOURCES,
            "stdp": {("lambda" if k == "lambda_" else k): v for k, v in h.STDP_PARAMS.items()}}


def report(r):
    bio = r["t_sim_ms"] * 1e-3
    lines = [f"# NEST's HPC benchmark network at scale {r['scale']:g}, {r['t_sim_ms']:g} ms, {r['threads']} threads",
             "", f"{r['date']} on {r['machine']['platform']} ({r['machine']['cpus']} CPUs), seed {r['seed']}.", "",
             "E->E: power-law STDP (stdp_pl_synapse_hom); 11,250 inputs per neuron; distsnn with stored "
             "connectivity. Rates: the first 1,000 E neurons and all I neurons.", "",
             "| simulator | synapses | build (s) | simulate (s) | s per bio. s | peak RSS (MB) | E (Hz) | I (Hz) | "
             f"E->E weights from the first {SAMPLE_SOURCES} E: mean, sd (pA) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for run in r["runs"]:
        if "error" in run:
            lines.append(f"| {run.get('simulator', '?')} | | failed: {run['error']} | | | | | | |")
            continue
        w = run["weights"]
        lines.append(f"| {run['simulator']} | {run['synapses']:.3g} | {run['build_s']:.1f} | {run['simulate_s']:.1f} | "
                     f"{run['simulate_s'] / bio:.1f} | {run['peak_rss_mb']:.0f} | {run['rates']['E']:.2f} | "
                     f"{run['rates']['I']:.2f} | {w['mean']:.3f}, {w['sd']:.3f} |")
    lines += ["", "Notes:", "",
              "- The simulators draw their own connections and initial potentials: rates and weights agree as two "
              "samples of one model. NEST forbids autapses in this network; distsnn's fixed_indegree allows them "
              "(one of 9,000 inputs on average at scale 1).",
              "- distsnn computes stdp_pl_synapse_hom's update operation for operation "
              "(tests/test_stdp_power_law.py: NEST's weights within 2.2e-16 on a small network).", ""]
    return "\n".join(lines)


def main():
    args = peer_arguments(__doc__, 0.5, 300.0).parse_args()
    if args.worker:
        return worker(args)
    common = ["--threads", str(args.threads), "--seed", str(args.seed)]
    me = [sys.executable, os.path.abspath(__file__), "--worker"] + common
    run_json(me + ["--scale", "0.01", "--t-sim", "1"])   # warm the numba cache: compile time is not build time
    sys.path.insert(0, os.path.dirname(HERE))
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine_info(), "scale": args.scale, "t_sim_ms": args.t_sim, "threads": args.threads,
               "seed": args.seed, "runs": []}
    for backend in args.backends.split(","):
        results["runs"].append(run_json(me + ["--scale", str(args.scale), "--t-sim", str(args.t_sim), "--backend",
                                              backend]))
    if args.nest_python:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump(nest_spec(args.scale, args.t_sim), fh)
        results["runs"].append(run_json([args.nest_python, os.path.join(HERE, "peers", "nest_hpc_benchmark.py"),
                                         fh.name, str(args.threads), str(args.seed)]))
        os.unlink(fh.name)
    write_results(args.out_dir, f"hpc_benchmark_scale{args.scale:g}", results, report)
    return None


if __name__ == "__main__":
    main()
