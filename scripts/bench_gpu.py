"""Benchmark: the full-scale microcircuit on one GPU, procedural and stored, each with its
steps as CUDA graphs and as the step loop (one cooperative launch per block of steps), side
by side; procedural also with delivery's full rule variant (every rule and kind of draw) in
place of the smallest that covers the model (source.RULE_VARIANTS: what fewer registers
gain; the microcircuit takes _no_kinds with its delays redrawn, _no_indegree clipped); the step
loop also in blocks of 128 threads (--loop-block; DISTSNN_GPU_LOOP_BLOCK) in place of one
block per multiprocessor (launches.loop_shape: what fewer arrivals at its grid barriers gain),
and with delivery teams of 32 and 16 threads (--loop-team; DISTSNN_GPU_TEAM) in place of
64: the loop's grid holds fewer teams than the separate launches' (1,584 against 2,112 on
an H100), and the microcircuit's steps have some 1,840 (spike, item) rows on average, so a
team may take two rounds, each a chain of loads; with smaller teams it takes one, with more
synapses per lane. Both modes also with their rows in parts (delivery_items.row_parts and
stored_parts; --row-rounds, DISTSNN_GPU_ROW_ROUNDS), with CUDA graphs and in the step loop: a
launch waits for its slowest team, and an L5I spike's rows onto L5E hold 452 synapses where the
mean row holds 51.
Each mode also tuned (DISTSNN_GPU_TUNE=1; step_setups.py): the run tries the step setups (step
loop on and off, teams of 64 and 32, rows whole and in parts) in trial blocks of --tune-steps
steps on its first steps and goes on with the fastest; the report lists each setup's median
time per step in those trials, side by side under the same activity.

For each connectivity mode and way of launching steps, in a fresh process: build and
simulate T ms of biological time (default 10 s) and report the real-time factor (simulate
seconds per biological second), synaptic events per second, energy per synaptic event (NVML
energy counter over the simulate phase), peak device memory and the build time. Then the
per-step overhead: a network of four silent neurons, whose steps are almost only launches
(or, in the step loop, grid barriers), with CUDA graphs, with plain launches and with the
step loop in each of its shapes. The floor next to the result: bytes and atomics per event, from the model, and
the overhead per step measured here. Writes bench/results/gpu_microcircuit_*.json
and .md, named after the device and the date. Usage (on a GPU machine):

    python scripts/bench_gpu.py --t-sim 10000
    python scripts/bench_gpu.py --backend gpu-emu --scale 0.01 --t-sim 20 --overhead-steps 200  # smoke test

Anchors (full scale, s per biological second): GeNN 0.272 (RTX 4090), NEST GPU 0.386.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_microcircuit import device_slug, emulated_notice, write_results  # noqa: E402  (JSON + Markdown)
ANCHORS = {"GeNN (RTX 4090)": 0.272, "NEST GPU": 0.386}


def worker(args):
    """One configuration in this process; prints one JSON line."""
    sys.path.insert(0, REPO)
    from distsnn.model import Network
    from distsnn.models import microcircuit
    from distsnn.runtime import simulate
    if args.mode == "overhead":
        net = Network(dt=0.1)
        net.add_population("silent", 4)
        res = simulate(net, args.overhead_steps * 0.1, backend=args.backend, progress=False)
        steps = res.n_steps
        print(json.dumps({"mode": "overhead", "graphs": os.environ.get("DISTSNN_CUDA_GRAPHS", "1") != "0",
                          "launches": res.device["step_launches"], "steps": steps,
                          "simulate_s": res.timers.seconds["simulate"],
                          "us_per_step": 1e6 * res.timers.seconds["simulate"] / steps}))
        return
    net = microcircuit.build(args.scale, delays=args.delays)
    res = simulate(net, args.t_sim, seed=args.seed, backend=args.backend, connectivity=args.mode, progress=False)
    sim_s = res.timers.seconds["simulate"]
    nv = res.device.get("nvml", {})
    out = {"mode": args.mode, "launches": res.device["step_launches"], "kernels": res.device["step_kernels"],
           "backend": res.backend, "device": res.device,
           "build_s": res.timers.seconds["build"],
           "simulate_s": sim_s, "t_sim_ms": res.t_sim, "n_steps": res.n_steps,
           "real_time_factor": sim_s / (res.t_sim * 1e-3), "events": res.events, "events_per_s": res.events / sim_s,
           "n_synapses": res.n_synapses, "rates": res.mean_rates(args.rates_from), "ring_bits": res.plan.ring_bits,
           "peak_device_bytes": res.device.get("peak_allocated_bytes"), "us_per_step": 1e6 * sim_s / res.n_steps}
    if "energy_J" in nv:
        out["energy_J"] = nv["energy_J"]
        out["uJ_per_event"] = nv["energy_J"] * 1e6 / res.events
        out["mean_power_W"] = nv.get("mean_power_W")
        out["peak_used_memory_bytes_nvml"] = nv.get("peak_used_memory_bytes")
    print(json.dumps(out, default=float))


def run_worker(args, mode, env=None):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--mode", mode, "--backend", args.backend,
           "--scale", str(args.scale), "--t-sim", str(args.t_sim), "--seed", str(args.seed),
           "--rates-from", str(args.rates_from), "--overhead-steps", str(args.overhead_steps),
           "--delays", args.delays]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def floor_model(ring_bits):
    """Memory traffic and atomics per synaptic event of each mode (from the kernels' code),
    for ring buffers (and stored weights) of ring_bits bits."""
    b = ring_bits // 8
    return {
        "procedural": {"bytes_read_per_event": 0, "atomics_per_event": 1, "atomic_bytes": b,
                       "note": f"the row is regenerated (Philox + Box-Muller in FP64): compute, not memory; one "
                               f"{ring_bits}-bit integer atomic add into the ring buffer; per (spike, unit, "
                               "projection) item its 64-byte record and one 4-byte count read"},
        "stored": {"bytes_read_per_event": 8 + b, "atomics_per_event": 1, "atomic_bytes": b,
                   "note": f"reads target+receptor (4 B), weight ({b} B, int{ring_bits} fixed point) and delay "
                           f"(4 B); one {ring_bits}-bit integer atomic add; per (spike, unit) item its 32-byte record "
                           "and two 8-byte row pointers"},
    }


def markdown(report):
    lines = [f"# Microcircuit on {report['device_name']}, {report['date']}", "",
             emulated_notice(report["backend"])
             + f"Microcircuit at scale {report['scale']:g}, {report['t_sim_ms'] / 1000:g} s of biological time, "
             f"backend `{report['backend']}`, distsnn {report['versions']['distsnn']}, CuPy "
             f"{report['versions'].get('cupy')}, driver {report['versions'].get('driver')}.", "",
             "| mode | steps launched as | delivery kernel | team | rows in parts of | build s | simulate s "
             "| s per bio-s | events/s | µJ/event | peak device MiB | µs/step |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["runs"]:
        uj = f"{r['uJ_per_event']:.3g}" if "uJ_per_event" in r else "n/a"
        peak = (r.get("peak_device_bytes") or 0) / 2 ** 20
        delivery = r["kernels"][-1]   # the last launch of a step (or the step loop)
        team = r["device"].get("delivery_team")
        rows = r["device"].get("row_rounds") or 0
        rows = f"{rows} rounds" if rows else "whole rows"
        tuned = "tuned: " if "tuning" in r["device"] else ""
        lines.append(f"| {r['mode']} | {tuned}{launched_as(r['launches'])} | {delivery} | {team} | {rows} | "
                     f"{r['build_s']:.2f} | "
                     f"{r['simulate_s']:.2f} | "
                     f"{r['real_time_factor']:.4f} | "
                     f"{r['events_per_s']:.3g} | {uj} | {peak:.0f} | {r['us_per_step']:.1f} |")
    lines += ["", "Anchors (s per biological second): " + ", ".join(f"{k} {v}" for k, v in ANCHORS.items())
              + "; goal ≤ 0.10 on one H100.", ""]
    for r in report["runs"]:
        tuning = r["device"].get("tuning")
        if tuning:
            lines += [f"Tuned {r['mode']} run: median µs per step of each setup in trial blocks of "
                      f"{tuning['trial_steps']} steps ({tuning['rounds']} rounds; the block's flush included):", ""]
            lines += [f"- {t['setup']}: {t['us_per_step']:.2f}"
                      + (" (chosen)" if t["setup"] == tuning["chosen"] else "") for t in tuning["setups"]] + [""]
    lines += ["## Floor", ""]
    for o in report["overhead"]:
        lines.append(f"- per-step overhead, {o['launches']}: "
                     f"{o['us_per_step']:.2f} µs per step (4 silent neurons, {o['steps']} steps)")
    for mode, f in report["floor"].items():
        lines.append(f"- {mode}: {f['bytes_read_per_event']} B read and {f['atomics_per_event']} atomic "
                     f"({f['atomic_bytes']} B) per event; {f['note']}")
    return "\n".join(lines) + "\n"


def launched_as(launches):
    """The table's "steps launched as": CUDA graphs, separate launches, or the step loop with
    its shape ("step loop (KERNEL, 132 blocks of 768)" -> "step loop, 132 blocks of 768")."""
    head, _, rest = launches.partition(" (")
    return f"{head}, {rest.split(', ', 1)[1].rstrip(')')}" if head == "step loop" else head


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--mode", default=None, help=argparse.SUPPRESS)
    p.add_argument("--backend", default="gpu", choices=("gpu", "gpu-emu"))
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--t-sim", type=float, default=10000.0, help="biological time (ms)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--delays", default="redraw", choices=("redraw", "clip"),
                   help="the microcircuit's delays below dt: redrawn (its rule; the rule variant _no_kinds, "
                        "with the redraw's call) or clipped (as before 2026-11-23; the smallest variant)")
    p.add_argument("--rates-from", type=float, default=500.0)
    p.add_argument("--overhead-steps", type=int, default=20000)
    p.add_argument("--modes", nargs="+", default=["procedural", "stored"])
    p.add_argument("--launches", nargs="+", default=["graphs", "full", "loop", "loop_block", "loop_team", "rows",
                                                     "loop_rows", "tuned"],
                   choices=("graphs", "full", "loop", "loop_block", "loop_team", "rows", "loop_rows", "tuned"),
                   help="how steps are launched: CUDA graphs, CUDA graphs with procedural delivery's full rule "
                        "variant (DISTSNN_GPU_RULE_VARIANTS=0; procedural mode only), the step loop "
                        "(DISTSNN_GPU_STEP_LOOP), the step loop in blocks of --loop-block threads "
                        "(DISTSNN_GPU_LOOP_BLOCK), the step loop with delivery teams of --loop-team threads "
                        "(DISTSNN_GPU_TEAM), CUDA graphs and the step loop with rows in parts of "
                        "--row-rounds rounds (DISTSNN_GPU_ROW_ROUNDS), tuned on the run's first steps "
                        "(DISTSNN_GPU_TUNE=1)")
    p.add_argument("--row-rounds", type=int, default=2,
                   help="rounds of a delivery team per part of a row in the launch choices rows and loop_rows")
    p.add_argument("--loop-block", type=int, default=128,
                   help="threads per block of the step loop's launch choice loop_block (default: 128, the blocks "
                        "of the separate launches)")
    p.add_argument("--loop-team", type=int, nargs="+", default=[32, 16],
                   help="delivery's threads per team in the launch choice loop_team, one run each (default: 32 "
                        "and 16)")
    p.add_argument("--tune-steps", type=int, default=100,
                   help="steps per trial block of the launch choice tuned (DISTSNN_GPU_TUNE_STEPS)")
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    args = p.parse_args()
    if args.worker:
        return worker(args)
    loop = {"graphs": {"DISTSNN_GPU_STEP_LOOP": "0"}, "loop": {"DISTSNN_GPU_STEP_LOOP": "1"},
            "full": {"DISTSNN_GPU_STEP_LOOP": "0", "DISTSNN_GPU_RULE_VARIANTS": "0"},
            "loop_block": {"DISTSNN_GPU_STEP_LOOP": "1", "DISTSNN_GPU_LOOP_BLOCK": str(args.loop_block)},
            **{f"loop_team{t}": {"DISTSNN_GPU_STEP_LOOP": "1", "DISTSNN_GPU_TEAM": str(t)} for t in args.loop_team},
            "rows": {"DISTSNN_GPU_STEP_LOOP": "0", "DISTSNN_GPU_ROW_ROUNDS": str(args.row_rounds)},
            "loop_rows": {"DISTSNN_GPU_STEP_LOOP": "1", "DISTSNN_GPU_ROW_ROUNDS": str(args.row_rounds)},
            "tuned": {"DISTSNN_GPU_STEP_LOOP": "0", "DISTSNN_GPU_TUNE": "1",
                      "DISTSNN_GPU_TUNE_STEPS": str(args.tune_steps)}}
    launches = [how for h in args.launches for how in ([f"loop_team{t}" for t in args.loop_team]
                                                        if h == "loop_team" else [h])]
    # (the rule variants are procedural delivery's: a stored run with them is the same run)
    runs = [run_worker(args, mode, loop[how]) for mode in args.modes for how in launches
            if not (how == "full" and mode == "stored")]
    overhead = [run_worker(args, "overhead", dict(loop["graphs"], DISTSNN_CUDA_GRAPHS=g)) for g in ("1", "0")]
    overhead += [run_worker(args, "overhead", loop[how]) for how in ("loop", "loop_block") if how in args.launches]
    sys.path.insert(0, REPO)
    from distsnn import __version__
    versions = {"distsnn": __version__, "python": platform.python_version()}
    try:
        import cupy
        versions["cupy"] = cupy.__version__
        versions["driver"] = cupy.cuda.runtime.driverGetVersion()
    except Exception:
        pass
    device = runs[0]["device"].get("name", "unknown")
    date = datetime.date.today().isoformat()
    report = {"date": date, "device_name": device, "backend": args.backend, "scale": args.scale, "delays": args.delays,
              "t_sim_ms": args.t_sim, "versions": versions, "host": platform.node(), "runs": runs,
              "overhead": overhead, "floor": floor_model(runs[0]["ring_bits"]), "anchors_s_per_bio_s": ANCHORS}
    clip = "_clip" if args.delays == "clip" else ""
    write_results(args.out, f"gpu_microcircuit_{device_slug(device)}_scale{args.scale:g}{clip}", report, markdown)


if __name__ == "__main__":
    main()
