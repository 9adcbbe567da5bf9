"""Command line: `distsnn run MODEL ...` (also `python -m distsnn ...`)."""
import argparse
import json
import os
import platform
import sys

import numpy as np

from . import __version__
from .runtime.run import BACKENDS
from .backends.cpu.simulator import CONNECTIVITY_MODES


def _versions():
    import h5py
    import numba
    return {"distsnn": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "h5py": h5py.__version__, "platform": platform.platform()}


def _parser():
    p = argparse.ArgumentParser(prog="distsnn", description="Simulate large spiking neural networks.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="build, simulate and write a model from the library")
    r.add_argument("model", help="model name (microcircuit)")
    r.add_argument("--scale", type=float, default=1.0, help="fraction of neurons and in-degrees (0, 1]")
    r.add_argument("--t-sim", type=float, default=1000.0, help="biological time to simulate (ms)")
    r.add_argument("--seed", type=int, default=1, help="seed of every random stream, in [0, 2**64)")
    r.add_argument("--backend", choices=BACKENDS, default="auto")
    r.add_argument("--connectivity", choices=CONNECTIVITY_MODES, default="procedural")
    r.add_argument("--output", default="results/run.h5", help="SONATA spike file to write")
    r.add_argument("--record-voltage", type=int, default=0, metavar="K",
                   help="record V of the first K neurons of every population (report file *_voltage.h5)")
    r.add_argument("--rates-from", type=float, default=0.0, metavar="MS",
                   help="compute the reported mean rates from this time on (ms)")
    r.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    r.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    return p


def run_command(args, out=sys.stdout):
    from .io.sonata import write_spikes, write_voltage_report
    from .models import MODELS
    from .runtime import simulate

    if args.model not in MODELS:
        raise ValueError(f"unknown model {args.model!r}; known: {sorted(MODELS)}")
    if args.threads is not None:
        import numba
        numba.set_num_threads(args.threads)
    net = MODELS[args.model](scale=args.scale, record_voltage=args.record_voltage)
    res = simulate(net, args.t_sim, seed=args.seed, backend=args.backend, connectivity=args.connectivity,
                   progress=not args.no_progress, log=lambda m: print(m, file=out))
    rates = res.mean_rates(args.rates_from)
    sim_s = res.timers.seconds["simulate"]
    metadata = {
        "model": args.model, "seed": args.seed, "scale": args.scale, "backend": res.backend,
        "connectivity": res.connectivity, "dt": res.dt, "t_sim": res.t_sim,
        "parameters": net.metadata, "n_neurons": res.plan.n_neurons, "n_synapses": res.n_synapses,
        "synaptic_events": res.events, "versions": _versions(), "mean_rates_hz": rates,
    }
    stem = os.path.splitext(args.output)[0]
    with res.timers.phase("write"):
        write_spikes(args.output, res, dict(metadata, timers=res.timers.as_dict()))
        if res.vrec_gids.size:
            write_voltage_report(f"{stem}_voltage.h5", res, metadata)
    timers = res.timers.as_dict()
    summary = dict(metadata, timers_s=timers, real_time_factor=sim_s / (res.t_sim * 1e-3),
                   events_per_s=res.events / sim_s if sim_s > 0 else float("nan"), spike_file=args.output)
    with open(f"{stem}_summary.json", "w") as fh:
        json.dump(summary, fh, indent=1, sort_keys=True, default=float)
    print(f"{args.model}: {res.plan.n_neurons} neurons, {res.n_synapses:.4g} synapses, "
          f"{res.t_sim:g} ms, backend {res.backend}, {res.connectivity} connectivity", file=out)
    print(f"  build    {timers['build']:9.3f} s", file=out)
    print(f"  simulate {timers['simulate']:9.3f} s   real-time factor {summary['real_time_factor']:.3f}", file=out)
    print(f"  write    {timers['write']:9.3f} s", file=out)
    print(f"  synaptic events {res.events:.4g}  ({summary['events_per_s']:.4g} /s)", file=out)
    print(f"  mean rates (Hz, t > {args.rates_from:g} ms):", file=out)
    for name, rate in rates.items():
        print(f"    {name:8s} {rate:8.3f}", file=out)
    print(f"  wrote {args.output} and {stem}_summary.json", file=out)
    return summary


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            run_command(args)
    except (ValueError, MemoryError) as err:
        print(f"distsnn: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
