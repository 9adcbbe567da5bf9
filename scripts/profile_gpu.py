"""Where a GPU step's time goes: Nsight Compute (ncu) times each kernel of a window of steps.

Runs `distsnn run MODEL` under ncu with plain launches (DISTSNN_CUDA_GRAPHS=0: ncu times
kernels one by one either way) and the GPU's own clocks and caches (--clock-control none
--cache-control none: ncu's defaults lock the clocks to base and flush the caches before
every kernel, which made the microcircuit's neuron update look 70 % slower on the H100).
Then it reports, per kernel: duration (µs), grid, registers per thread and warps active.
Writes gpu_kernels_<model>_<device>_<date>.json and .txt to --out. Usage (on a GPU machine):

    python scripts/profile_gpu.py --model microcircuit --scale 1 --t-sim 300 --launch-skip 4000 --launch-count 400

--launch-skip skips the first kernels (build and warm-up; the microcircuit's step has two
launches, so 4000 skips 200 ms). A kernel's duration under ncu includes its launch, about
2.5 µs for a one-thread kernel on the H100, which CUDA graphs partly hide in a real run.
"""
import argparse
import collections
import csv
import datetime
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
METRICS = ("gpu__time_duration.sum", "launch__grid_size", "launch__registers_per_thread",
           "sm__warps_active.avg.pct_of_peak_sustained_active")


def summarize(text):
    """{kernel: {metric: {n, mean, min, max, unit}}} from ncu's --csv output (its own log
    lines and the program's output before the table are skipped; values may carry thousands
    separators). Durations are converted to µs."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith('"ID",')), None)
    if start is None:
        raise ValueError("no ncu metrics table in the output (did ncu profile any kernel?)")
    values = collections.defaultdict(list)
    units = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines[start:]))):
        if row.get("Metric Value") is None:
            continue
        value = float(row["Metric Value"].replace(",", ""))
        unit = row["Metric Unit"]
        if row["Metric Name"] == "gpu__time_duration.sum":
            value, unit = value * {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3,
                                   "msecond": 1e3}[unit], "us"
        values[(row["Kernel Name"], row["Metric Name"])].append(value)
        units[(row["Kernel Name"], row["Metric Name"])] = unit
    out = collections.defaultdict(dict)
    for (kernel, metric), v in sorted(values.items()):
        out[kernel][metric] = {"n": len(v), "mean": sum(v) / len(v), "min": min(v), "max": max(v),
                               "unit": units[(kernel, metric)]}
    return dict(out)


def table(summary):
    """Markdown table of a summary: one row per kernel."""
    def mean(m, name, fmt):
        return format(m[name]["mean"], fmt) if name in m else "n/a"
    lines = ["| kernel | launches | mean µs | min–max µs | grid | registers | warps active % |",
             "|---|---|---|---|---|---|---|"]
    for kernel, m in summary.items():
        t = m.get("gpu__time_duration.sum")
        span = f"{t['min']:.2f}–{t['max']:.2f}" if t else "n/a"
        lines.append(f"| {kernel} | {t['n'] if t else 0} | {mean(m, 'gpu__time_duration.sum', '.2f')} | {span} | "
                     f"{mean(m, 'launch__grid_size', '.0f')} | {mean(m, 'launch__registers_per_thread', '.0f')} | "
                     f"{mean(m, 'sm__warps_active.avg.pct_of_peak_sustained_active', '.1f')} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="microcircuit")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--t-sim", type=float, default=300.0, help="biological time (ms)")
    p.add_argument("--connectivity", default="procedural", choices=("procedural", "stored"))
    p.add_argument("--launch-skip", type=int, default=4000)
    p.add_argument("--launch-count", type=int, default=400)
    p.add_argument("--ncu", default="ncu", help="the Nsight Compute command line")
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    args = p.parse_args(argv)
    ncu = shutil.which(args.ncu)
    if ncu is None:
        raise SystemExit(f"profile_gpu: {args.ncu!r} not found: Nsight Compute (ncu) comes with the CUDA toolkit")
    work = tempfile.mkdtemp(prefix="profile_gpu_")   # the profiled run's spike file: not a result
    output = os.path.join(work, "profile_run.h5")
    cmd = [ncu, "--clock-control", "none", "--cache-control", "none", "--metrics", ",".join(METRICS), "--csv",
           "--launch-skip", str(args.launch_skip), "--launch-count", str(args.launch_count),
           sys.executable, "-m", "distsnn", "run", args.model, "--scale", str(args.scale), "--t-sim", str(args.t_sim),
           "--backend", "gpu", "--connectivity", args.connectivity, "--no-progress", "--output", output]
    os.makedirs(args.out, exist_ok=True)
    env = dict(os.environ, DISTSNN_CUDA_GRAPHS="0", PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if proc.returncode != 0:
        raise SystemExit(f"profile_gpu: ncu failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    summary = summarize(proc.stdout)
    device = next((line.split(" on ", 1)[1].strip() for line in proc.stdout.splitlines() if " MiB on " in line),
                  "unknown device")
    date = datetime.date.today().isoformat()
    head = (f"# {args.model} (scale {args.scale:g}, {args.connectivity}) on {device}, {date}\n\n"
            f"Nsight Compute, plain launches, clocks and caches left alone; kernels {args.launch_skip} to "
            f"{args.launch_skip + args.launch_count} of a {args.t_sim:g} ms run.\n\n")
    slug = "".join(c if c.isalnum() else "_" for c in device).strip("_").lower()
    stem = os.path.join(args.out, f"gpu_kernels_{args.model}_{slug}_{date}")
    with open(stem + ".json", "w") as fh:
        json.dump({"date": date, "device": device, "command": cmd, "kernels": summary}, fh, indent=1)
    with open(stem + ".txt", "w") as fh:
        fh.write(head + table(summary))
    print(head + table(summary))
    print(f"wrote {stem}.json and {stem}.txt")


if __name__ == "__main__":
    main()
