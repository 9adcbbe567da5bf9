"""Where a GPU step's time goes: Nsight Compute (ncu) times each kernel of a window of steps.

Runs `distsnn run MODEL` under ncu with plain launches (DISTSNN_CUDA_GRAPHS=0: ncu times
kernels one by one either way) and the GPU's own clocks and caches (--clock-control none
--cache-control none: ncu's defaults lock the clocks to base and flush the caches before
every kernel, which made the microcircuit's neuron update look 70 % slower on the H100).
Then it reports, per kernel: duration (µs), grid and block, registers per thread, warps
active, the SM's and memory's throughput (% of peak), the L2's hit rate, DRAM's throughput
(% of peak) and why warps waited: the top stall reasons of ncu's warp state statistics
(warps stalled per issued instruction, by reason: long_scoreboard is a wait on memory, wait
a fixed latency, barrier a __syncthreads, ...).
Should this ncu not know one of those metrics, the run is repeated with the first five
alone. Writes gpu_kernels_<model>_<device>_<date>.json and .txt to --out. Usage (on a GPU machine):

    python scripts/profile_gpu.py --model microcircuit --scale 1 --t-sim 300 --launch-skip 4000 --launch-count 400
    python scripts/profile_gpu.py --step-loop --launch-skip 1 --launch-count 2   # the step loop's launches

--launch-skip skips the first kernels (build and warm-up; the microcircuit's step has two
launches, so 4000 skips 200 ms). A kernel's duration under ncu includes its launch, about
2.5 µs for a one-thread kernel on the H100, which CUDA graphs partly hide in a real run.
--step-loop profiles the step loop (DISTSNN_GPU_STEP_LOOP=1), its launches alone (a launch
runs a block of up to 500 steps, so the skip and count are of those). --kernels REGEX
profiles the kernels whose names match it alone, the skip and count being of those: for a
model whose build launches kernels too, e.g. the full-scale multi-area model's steps:

    python scripts/profile_gpu.py --model multi_area --t-sim 20 --kernels '^(neuron_update|deliver)' \\
        --launch-skip 100 --launch-count 40
"""
import argparse
import collections
import csv
import datetime
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
METRICS = ("gpu__time_duration.sum", "launch__grid_size", "launch__block_size", "launch__registers_per_thread",
           "sm__warps_active.avg.pct_of_peak_sustained_active")
THROUGHPUT = {"SM %": "sm__throughput.avg.pct_of_peak_sustained_elapsed",
              "memory %": "gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed",
              # where the loads and atomics went: the L2's hit rate and DRAM's throughput tell a chain
              # of L2 hits from misses to DRAM (the count table, multi-area rings beyond the L2)
              "L2 hit %": "lts__t_sector_hit_rate.pct",
              "DRAM %": "dram__throughput.avg.pct_of_peak_sustained_elapsed"}
# why warps did not issue: warps stalled per issued instruction, by reason (the metrics of
# ncu's warp state statistics section; "selected" is the issuing itself)
STALL_REASONS = ("long_scoreboard", "short_scoreboard", "wait", "barrier", "membar", "math_pipe_throttle",
                 "lg_throttle", "mio_throttle", "tex_throttle", "no_instruction", "not_selected", "branch_resolving",
                 "dispatch_stall", "drain", "imc_miss", "misc", "sleeping", "selected")
STALL = re.compile(r"^smsp__average_warps_issue_stalled_(\w+?)_per_issue_active\.ratio$")
DETAIL = (*THROUGHPUT.values(),
          *(f"smsp__average_warps_issue_stalled_{r}_per_issue_active.ratio" for r in STALL_REASONS))


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
        try:
            value = float(row["Metric Value"].replace(",", ""))
        except ValueError:   # "n/a": no value for this kernel
            continue
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


def stalls(metrics, top=3):
    """The `top` stall reasons of one kernel's metrics, most first: [(reason, warps stalled
    per issued instruction)], the issuing ("selected") left out."""
    found = [(m.group(1), v["mean"]) for name, v in metrics.items() if (m := STALL.match(name))]
    return sorted((r for r in found if r[0] != "selected"), key=lambda r: -r[1])[:top]


def table(summary):
    """Markdown table of a summary: one row per kernel."""
    def mean(m, name, fmt):
        return format(m[name]["mean"], fmt) if name in m else "n/a"
    lines = ["| kernel | launches | mean µs | min–max µs | grid × block | registers | warps active % | "
             + " | ".join(THROUGHPUT) + " | top stalls (warps per issued instruction) |",
             "|---" * (8 + len(THROUGHPUT)) + "|"]
    for kernel, m in summary.items():
        t = m.get("gpu__time_duration.sum")
        span = f"{t['min']:.2f}–{t['max']:.2f}" if t else "n/a"
        top = ", ".join(f"{reason} {v:.2f}" for reason, v in stalls(m)) or "n/a"
        lines.append(f"| {kernel} | {t['n'] if t else 0} | {mean(m, 'gpu__time_duration.sum', '.2f')} | {span} | "
                     f"{mean(m, 'launch__grid_size', '.0f')} × {mean(m, 'launch__block_size', '.0f')} | "
                     f"{mean(m, 'launch__registers_per_thread', '.0f')} | "
                     f"{mean(m, 'sm__warps_active.avg.pct_of_peak_sustained_active', '.1f')} | "
                     + " | ".join(mean(m, name, ".1f") for name in THROUGHPUT.values()) + f" | {top} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="microcircuit")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--t-sim", type=float, default=300.0, help="biological time (ms)")
    p.add_argument("--connectivity", default="procedural", choices=("procedural", "stored"))
    p.add_argument("--launch-skip", type=int, default=4000)
    p.add_argument("--launch-count", type=int, default=400)
    p.add_argument("--step-loop", action="store_true",
                   help="profile the step loop's launches (DISTSNN_GPU_STEP_LOOP=1) instead of the step's kernels")
    p.add_argument("--kernels", default=None, metavar="REGEX",
                   help="profile only the kernels whose names match (default: all; ^step_loop with --step-loop)")
    p.add_argument("--ncu", default="ncu", help="the Nsight Compute command line")
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    args = p.parse_args(argv)
    ncu = shutil.which(args.ncu)
    if ncu is None:
        raise SystemExit(f"profile_gpu: {args.ncu!r} not found: Nsight Compute (ncu) comes with the CUDA toolkit")
    kernels = args.kernels or ("^step_loop" if args.step_loop else None)
    work = tempfile.mkdtemp(prefix="profile_gpu_")   # the profiled run's spike file: not a result
    output = os.path.join(work, "profile_run.h5")
    def command(metrics):
        return [ncu, "--clock-control", "none", "--cache-control", "none", "--metrics", ",".join(metrics), "--csv",
                *(("--kernel-name", f"regex:{kernels}") if kernels else ()),
                "--launch-skip", str(args.launch_skip), "--launch-count", str(args.launch_count),
                sys.executable, "-m", "distsnn", "run", args.model, "--scale", str(args.scale), "--t-sim",
                str(args.t_sim), "--backend", "gpu", "--connectivity", args.connectivity, "--no-progress", "--output",
                output]
    os.makedirs(args.out, exist_ok=True)
    env = dict(os.environ, DISTSNN_CUDA_GRAPHS="0", DISTSNN_GPU_STEP_LOOP="1" if args.step_loop else "0",
               PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        for metrics in (METRICS + DETAIL, METRICS):   # the detail, or where this ncu lacks some, the times
            cmd = command(metrics)
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode == 0 and '"ID",' in proc.stdout:
                break
            print(f"profile_gpu: ncu failed ({proc.returncode}) with {len(metrics)} metrics:\n{proc.stderr[-2000:]}",
                  file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if proc.returncode != 0:
        raise SystemExit(f"profile_gpu: ncu failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    summary = summarize(proc.stdout)
    device = next((line.split(" on ", 1)[1].strip() for line in proc.stdout.splitlines() if " MiB on " in line),
                  "unknown device")
    date = datetime.date.today().isoformat()
    launches = "the step loop's launches" if args.step_loop else "plain launches"
    head = (f"# {args.model} (scale {args.scale:g}, {args.connectivity}) on {device}, {date}\n\n"
            f"Nsight Compute, {launches}, clocks and caches left alone; kernels {args.launch_skip} to "
            f"{args.launch_skip + args.launch_count} of a {args.t_sim:g} ms run.\n\n")
    slug = "".join(c if c.isalnum() else "_" for c in device).strip("_").lower()
    loop = "_step_loop" if args.step_loop else ""
    stem = os.path.join(args.out, f"gpu_kernels_{args.model}{loop}_{slug}_{date}")
    with open(stem + ".json", "w") as fh:
        json.dump({"date": date, "device": device, "command": cmd, "kernels": summary}, fh, indent=1)
    with open(stem + ".txt", "w") as fh:
        fh.write(head + table(summary))
    print(head + table(summary))
    print(f"wrote {stem}.json and {stem}.txt")


if __name__ == "__main__":
    main()
