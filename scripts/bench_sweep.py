"""Benchmark and validation of `distsnn sweep`: Brunel's (2000) phase diagram, in distsnn and
in NEST, side by side.

The Brunel network (model A) over a grid of relative inhibition g and external drive eta:
  - distsnn: one `distsnn sweep` command, in one process (all threads), and under
    `mpiexec -n RANKS` (each rank running points of its own on its share of the cores); the
    two must give the same spike file at every point;
  - NEST 3.10: what a NEST user does, a fresh process per point (scripts/peers/nest_brunel.py,
    the same network read from distsnn's description), with the same threads.
Each point's activity (rate, CV of ISIs, population Fano factor, spectral peak; over
--rates-from to the end) comes from the same analysis (analysis.sweep_table.point_statistics)
for both simulators. The wall time of each whole sweep is measured from outside (start-up,
builds, runs, writes and analysis included). Writes JSON, Markdown and distsnn's plot of the
grid to bench/results/. Usage:

    python scripts/bench_sweep.py --scale 1 --t-sim 500 --g 3,4.5,5,6 --eta 0.9,2,4 --threads 2 \
        --nest-python /path/to/venv-with-nest/bin/python
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)
from bench_brunel import nest_spec  # noqa: E402  (the network as NEST's script reads it)
from bench_microcircuit import machine_info, run_json, write_results  # noqa: E402

# Brunel (2000), fig. 8: the four states and where the paper shows them
BRUNEL_STATES = {(3.0, 2.0): "A: synchronous regular", (6.0, 4.0): "B: synchronous irregular, fast",
                 (5.0, 2.0): "C: asynchronous irregular", (4.5, 0.9): "D: synchronous irregular, slow"}


def _floats(text):
    return [float(v) for v in text.split(",")]


def timed(cmd, env=None):
    """(wall s, stdout) of a command that must succeed."""
    print("  $", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:6]} failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - t0, proc.stdout


def distsnn_sweeps(args, tmp):
    """Both distsnn sweeps (one process; RANKS ranks): their wall times and the one-process
    sweep's per-point statistics; checks that they wrote the same spikes."""
    from distsnn.io import read_spikes
    import numpy as np
    common = ["-m", "distsnn", "sweep", "brunel", "--scale", str(args.scale), "--t-sim", str(args.t_sim),
              "--rates-from", str(args.rates_from), "--seed", str(args.seed), "--backend", args.backend,
              "--no-progress", "--vary", "g=" + ",".join(map(str, args.g)), "--vary", "eta=" + ",".join(map(str, args.eta))]
    one = os.path.join(tmp, "one")
    wall_one, _ = timed([sys.executable, *common, "--threads", str(args.threads), "--output-dir", one, "--plot"])
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
    many = os.path.join(tmp, "ranks")
    share = ["--share-gpus"] if args.backend != "cpu" else []   # the ranks of one machine's GPU(s)
    wall_many, _ = timed([mpiexec, "-n", str(args.ranks), sys.executable, *common, *share, "--output-dir", many],
                         env={"NUMBA_NUM_THREADS": str(max(1, args.threads // args.ranks))})
    results = json.load(open(os.path.join(one, "sweep_results.json")))
    for k in range(len(results["points"])):
        a, b = (read_spikes(os.path.join(d, f"point_{k:04d}.h5")) for d in (one, many))
        if not all(np.array_equal(a[p][0], b[p][0]) and np.array_equal(a[p][1], b[p][1]) for p in a):
            raise RuntimeError(f"point {k}: the sweep on {args.ranks} ranks wrote other spikes than in one process")
    return wall_one, wall_many, results, os.path.join(one, "sweep.png")


def nest_points(args, tmp, points):
    """NEST at every point, a fresh process each: per point its run's JSON line and statistics."""
    from distsnn.analysis.sweep_table import point_statistics
    out = []
    for k, point in enumerate(points):
        spec = os.path.join(tmp, f"nest_{k}.json")
        with open(spec, "w") as fh:
            json.dump(nest_spec(args.scale, args.t_sim, point["g"], point["eta"]), fh)
        spikes = os.path.join(tmp, f"nest_{k}.h5")
        run = run_json([args.nest_python, os.path.join(HERE, "peers", "nest_brunel.py"), spec, spikes,
                        str(args.threads), str(args.seed)])
        if "error" not in run:
            run["populations"] = point_statistics(spikes, args.rates_from, t_stop=args.t_sim)
        out.append(run)
    return out


def main():
    if sys.argv[1:2] == ["--report"]:   # the Markdown again from a results JSON (its notes as they are now)
        print(report(json.load(open(sys.argv[2]))))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--t-sim", type=float, default=500.0)
    ap.add_argument("--rates-from", type=float, default=100.0)
    ap.add_argument("--g", type=_floats, default=[3.0, 4.5, 5.0, 6.0])
    ap.add_argument("--eta", type=_floats, default=[0.9, 2.0, 4.0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--backend", default="cpu", help="distsnn's backend (gpu: on a GPU, the ranks sharing it)")
    ap.add_argument("--nest-python", default=None)
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "bench", "results"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench_sweep_")
    wall_one, wall_many, sweep, png = distsnn_sweeps(args, tmp)
    points = [p["values"] for p in sweep["points"]]
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine_info(), "scale": args.scale, "t_sim_ms": args.t_sim, "rates_from_ms": args.rates_from,
               "seed": args.seed, "threads": args.threads, "ranks": args.ranks, "backend": args.backend,
               "points": points,
               "distsnn": {"wall_one_process_s": wall_one, f"wall_{args.ranks}_ranks_s": wall_many,
                           "same_spikes_on_ranks": True, "points": sweep["points"]}}
    if args.nest_python:
        t0 = time.perf_counter()
        results["nest"] = {"points": nest_points(args, tmp, points)}
        results["nest"]["wall_s"] = time.perf_counter() - t0
    name = f"sweep_brunel_scale{args.scale:g}" + ("" if args.backend == "cpu" else f"_{args.backend}")
    write_results(args.out_dir, name, results, report)
    shutil.copy(png, os.path.join(args.out_dir, f"{name}_{results['date'][:10]}.png"))
    shutil.rmtree(tmp, ignore_errors=True)


def _f(x, digits=3):
    return "n/a" if x is None or x != x else f"{x:.{digits}g}"


def report(r):
    d = r["distsnn"]
    lines = [f"# Brunel's phase diagram by `distsnn sweep` (scale {r['scale']:g}, {r['t_sim_ms']:g} ms, "
             f"{len(r['points'])} points)", "",
             f"{r['date']} on {r['machine']['platform']} ({r['machine']['cpus']} CPUs), seed {r['seed']}, "
             f"statistics from {r['rates_from_ms']:g} ms to the end.", "",
             "Wall time of the whole sweep (start-up, builds, runs, writes and analysis):", "",
             f"- distsnn ({r.get('backend', 'cpu')}), one process, {r['threads']} threads: "
             f"{d['wall_one_process_s']:.1f} s",
             f"- distsnn, {r['ranks']} ranks running points of their own: {d['wall_%d_ranks_s' % r['ranks']]:.1f} s "
             f"(the same spikes at every point as in one process)"]
    if "nest" in r:
        lines.append(f"- NEST, a fresh process per point, {r['threads']} threads: {r['nest']['wall_s']:.1f} s")
    lines += ["", "Excitatory population per point (rate Hz, CV of ISIs, population Fano factor in 1 ms bins, "
              "spectral peak Hz) and each simulator's simulate time (s); Brunel's state where his fig. 8 shows "
              "the point:", "",
              "| g | eta | distsnn rate | CV | Fano | peak | sim (s) | NEST rate | CV | Fano | peak | sim (s) "
              "| Brunel (2000) |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for k, point in enumerate(r["points"]):
        e = d["points"][k]["populations"]["E"]
        row = [f"{point['g']:g}", f"{point['eta']:g}", _f(e["rate_hz"]), _f(e["cv"], 2), _f(e["fano"]),
               _f(e["peak_hz"]), _f(d["points"][k]["timers_s"]["simulate"])]
        nest = r.get("nest", {}).get("points", [{}] * len(r["points"]))[k]
        n = nest.get("populations", {}).get("E")
        row += [_f(n["rate_hz"]), _f(n["cv"], 2), _f(n["fano"]), _f(n["peak_hz"]), _f(nest["simulate_s"])] if n \
            else ["n/a"] * 5
        row.append(BRUNEL_STATES.get((point["g"], point["eta"]), ""))
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Notes:", "",
              "- The network is distsnn's `brunel` model (NEST's brunel_delta_nest.py with the paper's reset of "
              "10 mV and a random initial V); NEST builds it from distsnn's description. `scale` keeps the "
              "in-degrees (C_E = 1000), so below 1 neurons share more of their inputs than in the paper.",
              "- The two simulators draw different connections and Poisson input, so their values agree as two "
              "seeds of one model do, not bit for bit.",
              "- The Fano factor of the population count is 1 for independent Poisson firing and grows with "
              "synchrony: for N neurons of mean pairwise correlation c it is about a neuron's own Fano factor "
              "times 1 + (N - 1) c, so in a population of 10,000 neurons correlations of 0.01 already read "
              "about 100. Compare points with each other and with NEST, not with 1. The spectral peak is the "
              "population rate's (Welch, 256-bin segments of 1 ms: 3.9 Hz apart).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
