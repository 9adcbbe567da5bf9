"""Benchmark: what one delivery launch costs, against the spikes it delivers.

On the H100 (2026-11-22) Nsight Compute timed the full-scale microcircuit's delivery at
11.9 µs per step on average, from 3.4 to 25 µs. Its steps hold about 27 spikes (9.6e4
synaptic events) on average, and a model of the code predicts some 2 to 3 µs for that
(docs/design.md, "What the next profile must settle"). Whether the time is a fixed cost per
launch (its chains of dependent loads, the launch's tail) or a cost per spike or event (the
ring atomics, the rows' arithmetic) decides what to work on. This measures it directly:
a real model's delivery launched alone with 1 to 1,000 of its own spikes, and a straight
line fitted through the points, µs = fixed + per 1,000 events x events / 1,000.

For each connectivity mode, delivery team (threads per row, DISTSNN_GPU_TEAM) and grid
(blocks per multiprocessor): build the model's GPU engine, run it for --warm-steps to
collect spikes of its own (so that the populations fire in their real proportions), then
for each spike count n deliver n of them, drawn at random, --repeats times:
- back to back: the launches one after another, µs per launch between CUDA events (the
  launch's own overhead partly hidden, as in CUDA graphs);
- alone: one launch between two events, the median (its whole latency on the device).
The synaptic events per launch are the device's own count. Writes
gpu_delivery_<device>_<date>.json and .md to --out. Usage (on a GPU machine):

    python scripts/bench_gpu_delivery.py                       # full-scale microcircuit
    python scripts/bench_gpu_delivery.py --model multi_area --scale 1 --connectivity procedural
    python scripts/bench_gpu_delivery.py --backend gpu-emu --scale 0.02 --spikes 1,8 --teams 2 \\
        --blocks-per-sm 2 --repeats 2 --warm-steps 100     # smoke test (not a GPU measurement)
"""
import argparse
import datetime
import os
import platform
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, REPO)
from bench_microcircuit import device_slug, emulated_notice, write_results  # noqa: E402  (JSON + Markdown)


def open_device(backend):
    """The device, its steps as separate launches (the warm-up's)."""
    if backend == "gpu":
        from distsnn.backends.gpu.device import CudaDevice
        return CudaDevice(graphs=False, step_loop=False)
    from distsnn.backends.gpu.emulator import EmulatedDevice
    return EmulatedDevice(step_loop=False)


def engine(net, seed, mode, device):
    """The model's GPU engine, built."""
    from distsnn.backends.gpu.simulator import GpuSimulator
    from distsnn.build.plan import make_plan
    sim = GpuSimulator(make_plan(net, seed, bound_inputs=False), mode, device=device)
    sim.bound_inputs()
    return sim.build()


def set_shape(sim, team, blocks_per_sm, rounds):
    """Delivery's teams of `team` threads (a kernel argument) in a grid of blocks_per_sm blocks
    per multiprocessor, with an event counter per team of it, and its items for rows in parts of
    `rounds` rounds of a team (0: whole rows): a step setup of separate launches
    (step_setups.Setup), after the engine's own steps."""
    from distsnn.backends.gpu.step_setups import Setup
    sim.delivery_grid(blocks_per_sm, team)
    sim.use(Setup(False, team, rounds))


def own_spikes(sim, steps):
    """The gids of the spikes of `steps` steps of the engine (every population's, recorded or
    not: delivery sees them all)."""
    cap = sim.output_capacity
    gids = []
    done = 0
    while done < steps:
        out_gid, out_step = np.empty(cap, np.int64), np.empty(cap, np.int64)
        ex_gid, ex_step = np.empty(cap, np.int64), np.empty(cap, np.int64)
        ran, _, n_ex = sim.run(steps - done, out_gid, out_step, 0, None, ex_gid, ex_step, 0)
        gids.append(ex_gid[:n_ex])
        done += ran
        if ran == 0:
            cap *= 2
    return np.concatenate(gids)


class Clock:
    """Times launches on the device's stream: CUDA events on a GPU, the host's clock on the
    emulated device (whose launches are synchronous host calls)."""

    def __init__(self, device):
        self.dev = device
        self.cp = getattr(device, "cp", None)

    def time(self, launch, repeats):
        """µs per launch of launch() repeated back to back."""
        if self.cp is None:
            t0 = time.perf_counter()
            for _ in range(repeats):
                launch()
            return 1e6 * (time.perf_counter() - t0) / repeats
        start, end = self.cp.cuda.Event(), self.cp.cuda.Event()
        start.record(self.dev.stream)
        for _ in range(repeats):
            launch()
        end.record(self.dev.stream)
        end.synchronize()
        return 1e3 * self.cp.cuda.get_elapsed_time(start, end) / repeats

    def alone(self, launch, repeats):
        """Median µs of one launch between two events, the device idle before each."""
        times = []
        for _ in range(repeats):
            self.dev.synchronize()
            times.append(self.time(launch, 1))
        return float(np.median(times))


def samples(pool, counts, rng):
    """n distinct gids for n in counts, drawn from `pool` (the spikes of the warm-up steps),
    each neuron as likely as its spikes there: the populations in their proportions, and no
    neuron twice in a launch, as in a step (twice would add to the same ring entries)."""
    gids, spikes = np.unique(pool, return_counts=True)
    if gids.size < max(counts):
        raise SystemExit(f"{gids.size} neurons fired in the warm-up, fewer than the {max(counts)} spikes asked for "
                         "per launch: more --warm-steps, or fewer --spikes")
    return {n: rng.choice(gids, size=n, replace=False, p=spikes / spikes.sum()) for n in counts}


def measure(sim, drawn, repeats):
    """Rows (spikes, events per launch, µs back to back, µs alone) of delivering each sample
    of `drawn` (n -> gids), all emitted at the engine's last step."""
    d = sim.dev
    clock = Clock(d)
    rows = []
    for n, gids in drawn.items():
        steps = np.full(n, sim.t - 1, np.int64)
        sim.deliver(gids, steps)   # uploads them into sim.remote (and delivers them once: warm)
        fns = [d.bind(kernel, sim.deliver_grid, d.block_threads, args) for kernel, args in sim.remote_deliveries(n)]

        def launch():
            for f in fns:
                f()
        before = sim.events
        back = clock.time(launch, repeats)
        events = (sim.events - before) / repeats
        rows.append({"spikes": int(n), "events": float(events), "us_back_to_back": back,
                     "us_alone": clock.alone(launch, repeats)})
    return rows


def fit(rows, key):
    """(fixed µs, µs per 1,000 events) of a least-squares line through the rows."""
    x = np.array([r["events"] for r in rows]) / 1e3
    y = np.array([r[key] for r in rows])
    if x.size < 2 or np.ptp(x) == 0:
        return float(y.mean()), 0.0
    slope, fixed = np.polyfit(x, y, 1)
    return float(fixed), float(slope)


def markdown(report):
    lines = [f"# Delivery alone: {report['model']} (scale {report['scale']:g}) on {report['device_name']}, "
             f"{report['date']}", ""]
    notice = emulated_notice(report["backend"])
    if notice:
        lines += [notice.strip(), ""]
    lines += [f"Spikes of the model's own {report['warm_steps']} steps, n drawn at random per launch, "
              f"{report['repeats']} launches each; {report['mean_spikes_per_step']:.1f} spikes and "
              f"{report['mean_events_per_step']:.3g} synaptic events per step on average in those steps. "
              "Back to back: µs per launch of launches one after another; alone: the median of "
              "single launches. The fit: µs = fixed + slope x events / 1,000.", ""]
    for c in report["configs"]:
        parts = f"rows in parts of {c['row_rounds']} rounds" if c["row_rounds"] else "whole rows"
        lines += [f"## {c['mode']}, teams of {c['team']}, {c['blocks_per_sm']} blocks per multiprocessor, {parts} "
                  f"({c['grid']} blocks of {c['block']}, {c['items']} items; kernels {', '.join(c['kernels'])})", "",
                  "| spikes | events per launch | µs back to back | µs alone | ns per event (back to back) |",
                  "|---:|---:|---:|---:|---:|"]
        for r in c["rows"]:
            per = 1e3 * r["us_back_to_back"] / r["events"] if r["events"] else float("nan")
            lines.append(f"| {r['spikes']} | {r['events']:.0f} | {r['us_back_to_back']:.2f} | {r['us_alone']:.2f} "
                         f"| {per:.3f} |")
        f = c["fit"]
        lines += ["", f"Fit, back to back: {f['back_to_back'][0]:.2f} µs fixed + {f['back_to_back'][1]:.3f} µs per "
                      f"1,000 events; alone: {f['alone'][0]:.2f} µs fixed + {f['alone'][1]:.3f} µs per 1,000 events. "
                      f"At the model's mean step ({report['mean_events_per_step']:.3g} events): "
                      f"{c['at_mean_step_us']:.2f} µs back to back.", ""]
    return "\n".join(lines)


def parse_ints(text):
    return [int(x) for x in text.split(",") if x]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", default="gpu", choices=("gpu", "gpu-emu"))
    p.add_argument("--model", default="microcircuit", help="a library model (distsnn.models.MODELS)")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--delays", default=None, choices=("redraw", "clip"),
                   help="the model's delays below dt (microcircuit, multi_area; default: the model's rule)")
    p.add_argument("--connectivity", default="both", choices=("procedural", "stored", "both"))
    p.add_argument("--spikes", default="1,3,10,30,100,300,1000", help="spikes per launch (comma-separated)")
    p.add_argument("--teams", default="64,32", help="delivery teams, threads per row (comma-separated)")
    p.add_argument("--blocks-per-sm", default="8,4", help="delivery grids, blocks per multiprocessor")
    p.add_argument("--row-rounds", default="0,2",
                   help="rows in parts of this many rounds of a team, 0 for whole rows (comma-separated; "
                        "delivery_items.row_parts)")
    p.add_argument("--repeats", type=int, default=200)
    p.add_argument("--warm-steps", type=int, default=2000, help="steps run first, whose spikes are delivered")
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    args = p.parse_args()
    from distsnn import __version__
    from distsnn.models import MODELS
    if args.model not in MODELS:
        raise SystemExit(f"unknown model {args.model!r}; known: {', '.join(MODELS)}")
    net = MODELS[args.model](scale=args.scale, **({"delays": args.delays} if args.delays else {}))
    modes = ("procedural", "stored") if args.connectivity == "both" else (args.connectivity,)
    counts = parse_ints(args.spikes)
    rng = np.random.default_rng(args.seed)
    configs, warm, drawn = [], None, None
    device = open_device(args.backend)
    for team in parse_ints(args.teams):   # before any build
        if team < 1 or device.block_threads % team:
            raise SystemExit(f"a team of {team} threads does not divide the block ({device.block_threads} threads)")
    for mode in modes:
        sim = engine(net, args.seed, mode, device)
        pool = own_spikes(sim, args.warm_steps)
        if pool.size == 0:
            raise SystemExit(f"{args.model} fired no spike in {args.warm_steps} steps: nothing to deliver")
        if warm is None:
            warm = {"spikes": int(pool.size), "events": sim.events, "pool": pool}
            drawn = samples(pool, counts, rng)   # the same spikes in every configuration
        elif not np.array_equal(pool, warm["pool"]) or sim.events != warm["events"]:
            # the same network and seed: the same steps in both modes
            raise SystemExit(f"{mode}: the warm-up's spikes or events differ from the first mode's; this is a bug")
        per_step = warm["events"] / args.warm_steps
        shapes = [(team, bps, rounds) for team in parse_ints(args.teams) for bps in parse_ints(args.blocks_per_sm)
                  for rounds in parse_ints(args.row_rounds)]
        for team, bps, rounds in shapes:
            set_shape(sim, team, bps, rounds)
            rows = measure(sim, drawn, args.repeats)
            back, alone = fit(rows, "us_back_to_back"), fit(rows, "us_alone")
            configs.append({"mode": mode, "team": team, "blocks_per_sm": bps, "grid": sim.deliver_grid,
                            "block": device.block_threads, "row_rounds": rounds,
                            "items": int(sim.d_items[0][-1]),
                            "kernels": [k for k, _ in sim.remote_deliveries(1)],
                            "rows": rows, "fit": {"back_to_back": back, "alone": alone},
                            "at_mean_step_us": back[0] + back[1] * per_step / 1e3})
            print(f"{mode}, team {team}, {bps} blocks/SM, row rounds {rounds}: {back[0]:.2f} us + "
                  f"{back[1]:.3f} us per 1k events (back to back)", flush=True)
        del sim
    name = device.name
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "host": platform.platform(), "backend": args.backend, "device_name": name, "model": args.model,
              "scale": args.scale, "delays": args.delays, "seed": args.seed, "warm_steps": args.warm_steps,
              "repeats": args.repeats,
              "mean_spikes_per_step": warm["spikes"] / args.warm_steps,
              "mean_events_per_step": warm["events"] / args.warm_steps,
              "versions": {"distsnn": __version__, "numpy": np.__version__}, "configs": configs}
    stem = (device_slug(name) if args.backend == "gpu" else "emulated") + ("_clip" if args.delays == "clip" else "")
    write_results(args.out, f"gpu_delivery_{args.model}_{stem}", report, markdown)


if __name__ == "__main__":
    main()
