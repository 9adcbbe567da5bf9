"""Benchmark: the GPU's memory primitives that bound a distsnn step, measured alone.

A step of the step loop is two chains of dependent loads (the neuron update's, delivery's)
and two grid barriers; every synaptic event is one 32-bit atomic add into a ring buffer.
Both the full-scale microcircuit and the multi-area model ran at about 4e9 events per second
on an H100 (docs/design.md, "What the next profile must settle"), which a cost per event
would explain and a cost per step would not. This measures the parts on their own
(kernels in scripts/gpu_primitives.cu, compiled by CuPy):

- the latency of one dependent load (a pointer chase through the L2: ld.global.cg) in an
  array that fits the L2 and in one of DRAM's size: what each link of a chain costs;
- the throughput of scattered 32-bit atomic adds (every thread of a full grid adds at
  addresses of a hash) into an array the size of the microcircuit's rings (in the L2) and
  one of the multi-area model's (in DRAM).

Writes gpu_primitives_<device>_<date>.json and .md to --out. The grid barrier's cost is the
step loop's per-step overhead, which scripts/bench_gpu.py measures. Usage (on a GPU machine):

    python scripts/bench_gpu_primitives.py
"""
import argparse
import datetime
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = HERE / "gpu_primitives.cu"
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from bench_microcircuit import device_slug, write_results  # noqa: E402  (JSON + Markdown)
MiB = 2 ** 20
# per step, from the bench results (full-scale microcircuit, multi-area model; H100)
EVENTS_PER_STEP = {"microcircuit": 9.6e4, "multi-area model": 6.4e6}


def load_module(cp):
    """The primitives' kernels, compiled by CuPy (NVRTC)."""
    return cp.RawModule(code=SOURCE.read_text(), options=("--std=c++14",))


def timed(cp, fn, repeat=3):
    """The least of `repeat` timings of fn() in seconds (CUDA events), after one warm-up."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        best = min(best, cp.cuda.get_elapsed_time(start, stop) * 1e-3)
    return best


def chase_latency(cp, mod, nbytes, steps):
    """ns per dependent load through an array of nbytes (a power of two). Its initialisation
    leaves an array smaller than the L2 there; each call goes on where the last stopped, so in
    a larger one it meets lines no call has touched."""
    n = nbytes // 4
    nxt = cp.empty(n, dtype=cp.uint32)
    mod.get_function("chase_init")((1024,), (256,), (nxt, cp.uint64(n), cp.uint32(n - 1)))
    pos = cp.zeros(1, dtype=cp.uint32)   # where the chase stands, from call to call
    chase = mod.get_function("chase")
    seconds = timed(cp, lambda: chase((1,), (1,), (nxt, cp.uint64(steps), pos)))
    return seconds / steps * 1e9


def scatter_rate(cp, mod, nbytes, blocks, threads, per_thread):
    """Scattered 32-bit atomic adds per second into an array of nbytes (a power of two)."""
    a = cp.zeros(nbytes // 4, dtype=cp.uint32)
    fn = mod.get_function("scatter_add")
    seconds = timed(cp, lambda: fn((blocks,), (threads,), (a, cp.uint64(a.size - 1), cp.int32(per_thread))))
    total = int(a.sum(dtype=cp.uint64))   # every add landed: warm-up and timed runs
    return blocks * threads * per_thread / seconds, total


def analyse(chase_ns, scatter_per_s, events_per_step=EVENTS_PER_STEP):
    """What the measurements mean for a step: the time one event-rate alone would take per
    step of each model, at the L2's and DRAM's rates."""
    out = {}
    for model, events in events_per_step.items():
        out[model] = {where: events / rate * 1e6 for where, rate in scatter_per_s.items()}
    return {"us_per_step_from_atomics": out,
            "chain_link_us": {where: ns / 1e3 for where, ns in chase_ns.items()}}


def markdown(report):
    lines = [f"# GPU memory primitives on {report['device_name']}, {report['date']}", "",
             f"CuPy {report['cupy']}, {report['multiprocessors']} multiprocessors. "
             "Kernels: scripts/gpu_primitives.cu.", "",
             "| measurement | array | result |", "|---|---|---|"]
    for where, ns in report["chase_ns"].items():
        lines.append(f"| dependent load (pointer chase, ld.global.cg) | {where} | {ns:.0f} ns |")
    for where, rate in report["scatter_per_s"].items():
        lines.append(f"| scattered 32-bit atomic adds, full grid | {where} | {rate:.3g} per s |")
    lines += ["", "If the ring atomics alone limited a step (one per synaptic event):", ""]
    for model, per in report["analysis"]["us_per_step_from_atomics"].items():
        lines.append(f"- {model} ({EVENTS_PER_STEP[model]:.2g} events per step): "
                     + ", ".join(f"{us:.1f} µs per step at the {where} rate" for where, us in per.items()))
    lines += ["", "Measured with the simulator on an H100 (bench/results): about 4e9 events per second in "
              "both models."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--l2-mib", type=int, default=16, help="array in the L2 (MiB, a power of two)")
    p.add_argument("--rings-mib", type=int, default=32,
                   help="the microcircuit's ring buffers' size (MiB, a power of two; int32 rings: about 28)")
    p.add_argument("--dram-mib", type=int, default=4096,
                   help="an array of DRAM's size (MiB, a power of two; the multi-area model's rings are GBs)")
    p.add_argument("--chase-steps", type=int, default=20000)
    p.add_argument("--per-thread", type=int, default=64, help="atomic adds per thread")
    p.add_argument("--out", default=str(REPO / "bench" / "results"))
    args = p.parse_args(argv)
    for name in ("l2_mib", "rings_mib", "dram_mib"):
        v = getattr(args, name)
        if v < 1 or v & (v - 1):
            raise SystemExit(f"bench_gpu_primitives: --{name.replace('_', '-')} must be a power of two, got {v}")
    try:
        import cupy as cp
        cp.cuda.runtime.getDeviceCount()
        props = cp.cuda.runtime.getDeviceProperties(0)
    except Exception as err:   # no CuPy, no driver, no device
        raise SystemExit(f"bench_gpu_primitives: needs CuPy and an NVIDIA GPU ({type(err).__name__}: {err})")
    mod = load_module(cp)
    sms = props["multiProcessorCount"]
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    chase_ns = {f"L2 ({args.l2_mib} MiB)": chase_latency(cp, mod, args.l2_mib * MiB, args.chase_steps),
                f"DRAM ({args.dram_mib} MiB)": chase_latency(cp, mod, args.dram_mib * MiB, args.chase_steps)}
    scatter, totals = {}, {}
    for where, mib in ((f"rings ({args.rings_mib} MiB)", args.rings_mib), (f"DRAM ({args.dram_mib} MiB)",
                                                                           args.dram_mib)):
        scatter[where], totals[where] = scatter_rate(cp, mod, mib * MiB, 8 * sms, 256, args.per_thread)
    expect = 4 * 8 * sms * 256 * args.per_thread   # warm-up and three timed runs
    if any(t != expect for t in totals.values()):
        raise SystemExit(f"bench_gpu_primitives: atomic adds lost ({totals}, expected {expect} each)")
    date = datetime.date.today().isoformat()
    report = {"date": date, "device_name": name, "multiprocessors": sms, "cupy": cp.__version__,
              "chase_ns": chase_ns, "scatter_per_s": scatter, "analysis": analyse(chase_ns, scatter)}
    write_results(args.out, f"gpu_primitives_{device_slug(name)}", report, markdown)


if __name__ == "__main__":
    main()
