"""What a checkpoint costs, and that a restart continues the run exactly.

For a library model this runs, in one process: the model for T1 ms writing a checkpoint,
a restart from it for T2 ms, and the uninterrupted model for T1 + T2 ms; it reports the
checkpoint's size on disk (and per neuron), the time to write and to restore it, the build
and simulate times for scale, and whether the restarted spikes equal the uninterrupted
run's (they must; the script exits 1 otherwise). Then the uninterrupted run once more with
checkpoints every --every ms and their spike segments (io.segments, as `--checkpoint-every`
writes them): what that costs per checkpoint and beside the simulation, and that its spikes
are still the uninterrupted run's. Writes
bench/results/checkpoint_<model>_scale<s>_<date>.{json,md}.

    python scripts/bench_checkpoint.py --model microcircuit --scale 1 --t1 200 --t2 200
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from distsnn.models import MODELS  # noqa: E402
from distsnn.runtime import simulate  # noqa: E402


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))


def measure(args, work):
    model = lambda: MODELS[args.model](scale=args.scale, **({"data": args.data} if args.data else {}))  # noqa: E731
    common = dict(seed=args.seed, backend=args.backend, connectivity=args.connectivity, progress=False)
    ck = os.path.join(work, "ck")
    first = simulate(model(), args.t1, checkpoint=ck, **common)
    second = simulate(model(), args.t2, restart=ck, **common)
    whole = simulate(model(), args.t1 + args.t2, **common)
    cut = first.n_steps
    after = whole.spike_steps >= cut
    same = (np.array_equal(second.spike_gids, whole.spike_gids[after])
            and np.array_equal(second.spike_steps, whole.spike_steps[after])
            and np.array_equal(first.spike_gids, whole.spike_gids[~after])
            and first.events + second.events == whole.events)
    size = folder_bytes(ck)
    n = first.plan.n_neurons
    from distsnn.io.segments import SegmentWriter
    ck2 = os.path.join(work, "periodic")
    writer = SegmentWriter(ck2, metadata={"model": args.model, "seed": args.seed, "scale": args.scale})
    periodic = simulate(model(), args.t1 + args.t2, checkpoint=ck2, checkpoint_every=args.every,
                        on_checkpoint=writer, **common)
    pt = periodic.timers.as_dict()
    same_periodic = (np.array_equal(periodic.spike_gids, whole.spike_gids)
                     and np.array_equal(periodic.spike_steps, whole.spike_steps))
    return {
        "model": args.model, "scale": args.scale, "seed": args.seed, "backend": first.backend,
        "connectivity": args.connectivity, "n_neurons": n, "ring_bits": first.plan.ring_bits,
        "ring_len_steps": first.plan.ring_len, "t1_ms": args.t1, "t2_ms": args.t2,
        "checkpoint_bytes": size, "checkpoint_bytes_per_neuron": size / n,
        "write_s": first.timers.as_dict()["checkpoint"], "restore_s": second.timers.as_dict()["restore"],
        "build_s": whole.timers.as_dict()["build"], "simulate_whole_s": whole.timers.as_dict()["simulate"],
        "spikes_after_cut": int(after.sum()), "restart_equals_uninterrupted": bool(same),
        "every_ms": args.every, "periodic_checkpoints": len(writer.segments),
        "periodic_checkpoint_s": pt["checkpoint"], "periodic_segments_write_s": pt["write"],
        "periodic_simulate_s": pt["simulate"],
        "periodic_overhead": (pt["checkpoint"] + pt["write"]) / pt["simulate"],
        "periodic_equals_uninterrupted": bool(same_periodic),
    }


def report_md(r, note):
    lines = [f"# Checkpoint cost: {r['model']} (scale {r['scale']}), {r['date']}", "",
             f"Machine: {r['machine']}; backend {r['backend']}, {r['connectivity']} connectivity.",
             "Produced by `scripts/bench_checkpoint.py`" + (f" ({note})" if note else "") + ".", "",
             "| quantity | value |", "|---|---|",
             f"| neurons | {r['n_neurons']:,} |",
             f"| ring buffers | int{r['ring_bits']}, {r['ring_len_steps']} steps |",
             f"| checkpoint on disk | {r['checkpoint_bytes'] / 2 ** 20:.1f} MiB "
             f"({r['checkpoint_bytes_per_neuron']:.0f} B per neuron) |",
             f"| write | {r['write_s']:.3f} s |",
             f"| restore | {r['restore_s']:.3f} s |",
             f"| build (for scale) | {r['build_s']:.3f} s |",
             f"| simulate {r['t1_ms'] + r['t2_ms']:g} ms (for scale) | {r['simulate_whole_s']:.3f} s |",
             f"| restarted run equals the uninterrupted one | {'yes' if r['restart_equals_uninterrupted'] else 'NO'} "
             f"({r['spikes_after_cut']:,} spikes after the cut at {r['t1_ms']:g} ms) |",
             f"| checkpoints every {r['every_ms']:g} ms during the {r['t1_ms'] + r['t2_ms']:g} ms run | "
             f"{r['periodic_checkpoints']}: state {r['periodic_checkpoint_s']:.3f} s, spike segments "
             f"{r['periodic_segments_write_s']:.3f} s, i.e. "
             f"{(r['periodic_checkpoint_s'] + r['periodic_segments_write_s']) / r['periodic_checkpoints']:.3f} s "
             f"each, {100 * r['periodic_overhead']:.1f} % of the simulate time ({r['periodic_simulate_s']:.3f} s) |",
             f"| run with checkpoints equals the uninterrupted one | "
             f"{'yes' if r['periodic_equals_uninterrupted'] else 'NO'} |", ""]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="microcircuit", choices=sorted(MODELS))
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--data", default=None, help="multi_area: structural data directory")
    p.add_argument("--t1", type=float, default=200.0, help="ms before the checkpoint")
    p.add_argument("--t2", type=float, default=200.0, help="ms after it")
    p.add_argument("--every", type=float, default=100.0, help="ms between checkpoints during a run")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--backend", default="cpu")
    p.add_argument("--connectivity", default="procedural")
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    p.add_argument("--note", default="", help="a line for the report (e.g. 'smoke test of this script')")
    args = p.parse_args(argv)
    work = tempfile.mkdtemp(prefix="distsnn-ckbench-")
    try:
        r = measure(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    r["date"] = datetime.date.today().isoformat()
    r["machine"] = f"{platform.node()}, {os.cpu_count()} cores, {platform.machine()}"
    stem = os.path.join(args.out, f"checkpoint_{args.model}_scale{args.scale:g}_{r['date']}")
    os.makedirs(args.out, exist_ok=True)
    with open(stem + ".json", "w") as fh:
        json.dump(r, fh, indent=1, sort_keys=True)
    with open(stem + ".md", "w") as fh:
        fh.write(report_md(r, args.note))
    print(report_md(r, args.note))
    return 0 if r["restart_equals_uninterrupted"] and r["periodic_equals_uninterrupted"] else 1


if __name__ == "__main__":
    sys.exit(main())
