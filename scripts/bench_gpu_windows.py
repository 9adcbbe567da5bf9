"""Benchmark: what an exchange window costs the GPU engine, on top of its steps.

A distributed run exchanges spikes every D steps, D the shortest delay between ranks: one
step in the microcircuit and the multi-area model, whose delays are clipped at dt. Each
window is then a flush of the device's steps (a copy back), the exchange (MPI), the upload of
the received spikes and the launch that delivers them. This measures it alone: two
populations of N neurons, one per rank, each neuron driven by its own bias current (so they
fire at 40 to 60 Hz, out of step), projecting onto each other with a delay of one step and
weights too small to matter. Every step is a window with spikes to send, receive and deliver,
and the steps' own work is small, so the simulate time per step is mostly the window's cost.

Run under MPI, ranks sharing one device where there is one GPU:

    mpiexec -n 2 python scripts/bench_gpu_windows.py --steps 20000
    mpiexec -n 2 python scripts/bench_gpu_windows.py --backend gpu-emu --steps 50   # smoke test

Reports µs per window, the exchange's and the received spikes' delivery's share (rank 0's
timers), and the host <-> device copies per window (the device's own counts: one copy back
and one to the device since 2026-11-23). Writes bench/results/gpu_windows_<device>_<date>.{json,md}
(rank 0).
"""
import argparse
import datetime
import json
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, REPO)
from bench_microcircuit import device_slug, emulated_notice, write_results  # noqa: E402  (JSON + Markdown)


def window_network(n):
    """Two populations of n neurons, A and B, firing out of step, each projecting onto the
    other with a delay of one step (dt 0.1 ms) and weights of 1e-3 pA."""
    from distsnn.model import FixedOutdegree, Network, Uniform
    net = Network(dt=0.1)
    for name in ("A", "B"):
        # rheobase 375 pA (NEST's iaf_psc_exp): 440 to 560 pA gives 40 to 60 Hz
        net.add_population(name, n, params={"I_e": Uniform(440.0, 560.0)})
    net.connect("A", "B", FixedOutdegree(10), 1e-3, 0.1)
    net.connect("B", "A", FixedOutdegree(10), 1e-3, 0.1)
    for name in ("A", "B"):
        net.record_spikes(name)
    return net


def markdown(report):
    r = report["result"]
    lines = [f"# Exchange windows on {report['device_name']}, {report['date']}", "",
             emulated_notice(report["backend"])
             + f"{report['ranks']} ranks ({report['note']}), two populations of {report['neurons_per_rank']} neurons, "
             f"one per rank, an exchange after every step; backend `{report['backend']}`, distsnn "
             f"{report['versions']['distsnn']}.", "",
             "| steps | windows | spikes sent per window | µs per window | exchange µs "
             "| received spikes' delivery µs | copies back per window | copies to the device per window "
             "| steps launched as |",
             "|---|---|---|---|---|---|---|---|---|",
             f"| {r['steps']} | {r['windows']} | {r['spikes_per_window']:.2f} | {r['us_per_window']:.1f} | "
             f"{r['exchange_us_per_window']:.1f} | {r['deliver_remote_us_per_window']:.1f} | "
             f"{r['copies_back_per_window']:.2f} | {r['copies_to_device_per_window']:.2f} | {r['launches']} |", ""]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", default="gpu", choices=("gpu", "gpu-emu", "cpu"))
    p.add_argument("--neurons", type=int, default=1000, help="neurons per population (one population per rank)")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    args = p.parse_args()
    from mpi4py import MPI
    from distsnn import __version__
    from distsnn.runtime import simulate
    comm = MPI.COMM_WORLD
    if comm.Get_size() != 2:
        raise SystemExit("run this under MPI with 2 ranks: mpiexec -n 2 python scripts/bench_gpu_windows.py")
    res = simulate(window_network(args.neurons), args.steps * 0.1, seed=args.seed, backend=args.backend,
                   progress=False, comm=comm, partition="populations", share_gpus=True)
    windows = res.exchange["calls"]
    if res.exchange["interval_steps"] != 1:
        raise SystemExit(f"expected an exchange after every step, got every {res.exchange['interval_steps']}")
    sec = res.timers.seconds
    copies = res.device.get("copies_while_running", {})
    spikes = comm.allreduce(int(res.spike_gids.size))
    result = {"steps": res.n_steps, "windows": windows, "spikes_per_window": spikes / windows / 2,
              "simulate_s": sec["simulate"], "us_per_window": 1e6 * sec["simulate"] / windows,
              "exchange_us_per_window": 1e6 * sec.get("exchange", 0.0) / windows,
              "deliver_remote_us_per_window": 1e6 * sec.get("deliver_remote", 0.0) / windows,
              "copies_back_per_window": copies.get("to_host", 0) / windows,
              "copies_to_device_per_window": copies.get("to_device", 0) / windows,
              "launches": res.device.get("step_launches", "n/a (CPU)"), "events": res.events}
    if comm.Get_rank() != 0:
        return
    device = res.device.get("name", platform.processor() or "cpu")
    report = {"date": datetime.date.today().isoformat(), "device_name": device, "backend": res.backend,
              "ranks": 2, "neurons_per_rank": args.neurons, "host": platform.node(),
              "note": "sharing one device" if res.backend != "cpu" else "CPU engine",
              "versions": {"distsnn": __version__, "python": platform.python_version()}, "result": result}
    print(json.dumps(result))
    write_results(args.out, f"gpu_windows_{device_slug(device)}", report, markdown)


if __name__ == "__main__":
    main()
