"""Command line: `distsnn run MODEL ...`, `distsnn partition MODEL --ranks R`,
`distsnn analyze FILE`, `distsnn compare A B`, `distsnn export FILE`, `distsnn join A B ...` (also
`python -m distsnn ...`). Under mpirun / mpiexec / srun every rank runs the same command;
the communicator is MPI.COMM_WORLD, created here and passed down."""
import argparse
import json
import os
import platform
import sys

import numpy as np

from . import __version__
from .backends.cpu.simulator import CONNECTIVITY_MODES
from .comm.exchange import EXCHANGE_METHODS
from .comm.faults import fail_whole_job, maybe_inject_fault
from .comm.logging import rank_log
from .io.checkpoint import CheckpointError
from .io.parallel import WRITE_MODES
from .backends.select import BACKENDS

# set by mpiexec (MPICH hydra, Open MPI) and srun (PMI-2 / PMIx)
MPI_LAUNCH_VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


def world_comm():
    """MPI.COMM_WORLD when this process was started by an MPI launcher, else None (no MPI import)."""
    if not any(os.environ.get(v) for v in MPI_LAUNCH_VARIABLES):
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        raise ValueError("started by an MPI launcher but mpi4py is not installed: pip install 'distsnn[mpi]'")
    return MPI.COMM_WORLD


def _versions():
    import h5py
    import numba
    return {"distsnn": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "h5py": h5py.__version__, "platform": platform.platform()}


# options only some models take: (flag, keyword, type, help)
MODEL_OPTIONS = (
    ("--data", "data", str, "directory of the model's structural data (multi_area; default $DISTSNN_DATA)"),
    ("--state", "state", str, "multi_area: 'ground' (chi = 1) or 'resting' (chi = 1.9)"),
    ("--areas", "areas", str, "multi_area: comma-separated areas to simulate (default all 32); input from the "
                              "others becomes Poisson input at their full-scale rates"),
    ("--k-scale", "k_scale", float, "multi_area: fraction of in-degrees (0, 1], weights x 1/sqrt, DC compensation"),
)


def _model_options(parser):
    for flag, dest, typ, text in MODEL_OPTIONS:
        parser.add_argument(flag, dest=dest, type=typ, default=None, help=text)


def _model_kwargs(args):
    """The model-specific options given on the command line (those left at None are not passed)."""
    return {dest: getattr(args, dest) for _, dest, _, _ in MODEL_OPTIONS if getattr(args, dest, None) is not None}


def _count(text):
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _time_ms(text):
    """argparse type: a finite time >= 0 (ms)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (np.isfinite(value) and value >= 0.0):
        raise argparse.ArgumentTypeError(f"must be a finite time of 0 ms or more, got {text}")
    return value


def _parser():
    from partitioning import STRATEGIES
    p = argparse.ArgumentParser(prog="distsnn", description="Simulate large spiking neural networks.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="build, simulate and write a model from the library")
    r.add_argument("model", help="model name: microcircuit, multi_area, coba, cuba")
    r.add_argument("--scale", type=float, default=1.0,
                   help="fraction of neurons (0, 1]; the microcircuit scales in-degrees with it, multi_area keeps "
                        "them (see --k-scale)")
    _model_options(r)
    r.add_argument("--t-sim", type=float, default=1000.0,
                   help="biological time to simulate (ms); after --restart, the time beyond the checkpoint")
    r.add_argument("--seed", type=int, default=1, help="seed of every random stream, in [0, 2**64)")
    r.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="auto: the GPU if one works, else the CPU (with a notice); gpu-emu: the GPU kernels "
                        "emulated on the host (slow; for tests)")
    r.add_argument("--share-gpus", action="store_true",
                   help="allow more ranks than GPUs on a node (ranks share devices; for tests and small runs)")
    r.add_argument("--connectivity", choices=CONNECTIVITY_MODES, default="procedural")
    r.add_argument("--ring-bits", choices=("auto", "32", "64"), default=None,
                   help="width of the input ring buffers (part of the model: it sets the fixed-point scale); "
                        "default: the model's (auto: int32 where the build proves it safe, else int64)")
    r.add_argument("--restart", default=None, metavar="DIR",
                   help="start from the checkpoint in DIR (same model options and seed; any backend, ranks, "
                        "partition or connectivity mode): the spikes continue those of the run that wrote it")
    r.add_argument("--checkpoint", default=None, metavar="DIR",
                   help="write the complete state at the end into DIR (replacing an earlier checkpoint there), "
                        "for a later --restart")
    r.add_argument("--checkpoint-every", type=float, default=None, metavar="MS",
                   help="with --checkpoint: also write the checkpoint whenever the biological time reaches a "
                        "multiple of MS, with the spikes (and voltages) so far beside it; a job killed at any "
                        "moment then loses at most MS of simulation: run the command again with --resume")
    r.add_argument("--resume", action="store_true",
                   help="with --checkpoint DIR: if DIR holds a checkpoint of this run (written with "
                        "--checkpoint-every or --resume), continue from it, else start (from --restart if given); "
                        "--t-sim is then the length of the whole run, so the same command finishes it after a "
                        "crash or a requeue, and the output holds all of it")
    r.add_argument("--output", default="results/run.h5", help="SONATA spike file to write")
    r.add_argument("--record-voltage", type=_count, default=0, metavar="K",
                   help="record V of the first K neurons of every population (report file *_voltage.h5)")
    r.add_argument("--rates-from", type=_time_ms, default=0.0, metavar="MS",
                   help="compute the reported mean rates from this time on (ms)")
    r.add_argument("--threads", type=int, default=None, help="CPU threads per process (default: the cores, shared by the ranks of a node)")
    r.add_argument("--partition", choices=STRATEGIES, default="auto", help="partition strategy under MPI")
    r.add_argument("--exchange", choices=EXCHANGE_METHODS, default="allgatherv", help="spike exchange collective under MPI")
    r.add_argument("--write-mode", choices=WRITE_MODES, default="auto",
                   help="parallel output: mpio (h5py with MPI), virtual (per-rank files + virtual dataset), gather")
    r.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    q = sub.add_parser("partition", help="print the partition of a model onto R ranks")
    q.add_argument("model")
    q.add_argument("--ranks", type=int, required=True)
    q.add_argument("--scale", type=float, default=1.0)
    _model_options(q)
    q.add_argument("--strategy", choices=STRATEGIES, default="auto")
    q.add_argument("--json", action="store_true", help="print the report as JSON")
    for name, helptext in (("analyze", "spike statistics of a SONATA file (JSON summary, PNG plots)"),
                           ("compare", "KL divergences between the per-neuron statistics of two runs")):
        a = sub.add_parser(name, help=helptext)
        a.add_argument("files", nargs=1 if name == "analyze" else 2, metavar="FILE.h5")
        a.add_argument("--output", default=None, help="JSON file to write (default: print)")
        a.add_argument("--plot", default=None, metavar="PATH",
                       help="folder for the PNG figures" if name == "analyze" else "PNG file of the comparison")
        a.add_argument("--t-start", type=float, default=None,
                       help="analysis window start (ms; default the run's start: 0, or its restart time)")
        a.add_argument("--t-stop", type=float, default=None, help="analysis window end (ms; default the run's end)")
        a.add_argument("--lvr-r", type=float, default=2.0, help="refractoriness R of LvR (ms)")
        a.add_argument("--corr-neurons", type=int, default=200, help="neurons per population sampled for correlations")
        a.add_argument("--corr-bin", type=float, default=1.0, help="bin of the spike counts for correlations (ms)")
    j = sub.add_parser("join", help="join the spike files of consecutive segments (runs chained by --checkpoint "
                                    "and --restart) into one file")
    j.add_argument("files", nargs="+", metavar="SEGMENT.h5", help="the segments' spike files, in time order")
    j.add_argument("--output", required=True, help="spike file to write")
    e = sub.add_parser("export", help="write a selection of a spike file as a Neo Block (slow for many neurons)")
    e.add_argument("file", metavar="FILE.h5")
    e.add_argument("--format", choices=("nix", "pickle"), default="nix")
    e.add_argument("--neurons", default="100",
                   help="'N' (first N of every population), 'POP:ID', 'POP:FIRST-LAST', comma-separated, or 'all'")
    e.add_argument("--output", required=True, help="file to write (.nix or .pkl)")
    return p


def export_command(args, out=None):
    import time

    from .io.neo_export import export_neo
    out = out or sys.stdout
    t0 = time.perf_counter()
    n = export_neo(args.file, args.output, args.format, None if args.neurons == "all" else args.neurons)
    print(f"wrote {n} spike trains to {args.output} ({args.format}) in {time.perf_counter() - t0:.2f} s", file=out)
    return n


def join_command(args, out=None):
    from .io.segments import join_spike_files
    out = out or sys.stdout
    t_start, t_stop = join_spike_files(args.files, args.output)
    print(f"wrote {args.output}: {len(args.files)} segments, {t_start:g} to {t_stop:g} ms", file=out)
    return t_start, t_stop


def _model(name, **kwargs):
    import inspect

    from .models import MODELS
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {sorted(MODELS)}")
    accepted = inspect.signature(MODELS[name]).parameters
    extra = [k for k in kwargs if k not in accepted]
    if extra:
        flags = ", ".join("--" + k.replace("_", "-") for k in extra)
        raise ValueError(f"model {name!r} does not take {flags}")
    return MODELS[name](**kwargs)


def partition_command(args, out=None):
    out = out or sys.stdout
    from partitioning import partition_network
    part = partition_network(_model(args.model, scale=args.scale, **_model_kwargs(args)), args.ranks, args.strategy)
    print(json.dumps(part.report(), indent=1) if args.json else part.report_text(), file=out)
    return part


def _analysis_options(args):
    return {"t_start": args.t_start, "t_stop": args.t_stop, "lvr_r": args.lvr_r,
            "corr_neurons": args.corr_neurons, "corr_bin": args.corr_bin}


def _emit(result, path, out):
    text = json.dumps(result, indent=1, sort_keys=True, default=float)
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text + "\n")
        print(f"wrote {path}", file=out)
    else:
        print(text, file=out)


def analyze_command(args, out=None):
    from .analysis import analyze_file
    out = out or sys.stdout
    path = args.files[0]
    stats = analyze_file(path, **_analysis_options(args))
    result = {"file": path, "options": _analysis_options(args), "populations": {n: s.summary() for n, s in stats.items()}}
    _emit(result, args.output, out)
    if args.plot:
        from .analysis import plots
        os.makedirs(args.plot, exist_ok=True)
        plots.raster(path, os.path.join(args.plot, "raster.png"), stats, t_start=args.t_start, t_stop=args.t_stop)
        plots.rate_histograms(os.path.join(args.plot, "rates.png"), stats)
        print(f"wrote {args.plot}/raster.png and {args.plot}/rates.png", file=out)
    return result


def compare_command(args, out=None):
    from .analysis import compare_files
    out = out or sys.stdout
    result, _, _ = compare_files(*args.files, **_analysis_options(args))
    _emit(result, args.output, out)
    if args.plot:
        from .analysis import plots
        os.makedirs(os.path.dirname(os.path.abspath(args.plot)), exist_ok=True)
        plots.comparison(args.plot, result)
        print(f"wrote {args.plot}", file=out)
    return result


def run_command(args, comm=None, out=None):
    out = out or sys.stdout
    from .io.parallel import write_spikes_parallel, write_voltages_parallel
    from .io.sonata import check_writable, read_metadata, write_spikes
    from .runtime import simulate

    size = comm.Get_size() if comm is not None else 1
    rank = comm.Get_rank() if comm is not None else 0
    log = rank_log(comm, out)
    if args.threads is not None:
        import numba
        numba.set_num_threads(args.threads)
    net = _model(args.model, scale=args.scale, record_voltage=args.record_voltage, **_model_kwargs(args))
    if args.ring_bits is not None:
        net.ring_bits = args.ring_bits if args.ring_bits == "auto" else int(args.ring_bits)
    restart, t_sim, segments, resumed = _segment_plan(args)
    if restart is None and args.rates_from >= args.t_sim:
        raise ValueError(f"--rates-from {args.rates_from:g} ms is not before the end of the run "
                         f"(--t-sim {args.t_sim:g} ms): no time left to compute rates over")
    check_writable(args.output)   # now, not after the run
    if t_sim is not None and t_sim <= 0:   # resumed from the run's last checkpoint: only the output is missing
        return _join_segments_only(args, segments, comm, out)
    writer = None
    if segments is not None:
        from .io.segments import SegmentWriter
        writer = SegmentWriter(args.checkpoint, comm, {"model": args.model, "seed": args.seed, "scale": args.scale},
                               args.write_mode, segments)
    res = simulate(net, args.t_sim if t_sim is None else t_sim, seed=args.seed, backend=args.backend,
                   connectivity=args.connectivity, progress=not args.no_progress, log=log, comm=comm,
                   partition=args.partition, exchange=args.exchange, share_gpus=args.share_gpus, restart=restart,
                   checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every, on_checkpoint=writer,
                   keep_recorded=writer is None)
    rates_from, rates = _mean_rates(args, res, writer, comm)
    metadata = {
        "model": args.model, "seed": args.seed, "scale": args.scale, "backend": res.backend,
        "connectivity": res.connectivity, "dt": res.dt, "t_sim": res.t_sim, "t_start": res.t_start,
        "t_stop": res.t_stop, "ranks": size,
        "parameters": net.metadata, "n_neurons": res.plan.n_neurons, "n_synapses": res.n_synapses,
        "ring_bits": res.plan.ring_bits,
        "synaptic_events": res.events, "versions": _versions(), "mean_rates_hz": rates,
        "mean_rates_from_ms": rates_from,
    }
    devices = _gather_devices(res, comm)
    if devices:
        metadata["devices"] = devices
    if restart:
        metadata["restarted_from"] = {"checkpoint": os.path.abspath(restart), "step": res.first_step}
    if resumed:
        metadata["resumed"] = True
    if "written" in res.checkpoint:   # not when writing it failed
        metadata["checkpoint"] = {"directory": os.path.abspath(args.checkpoint), "step": res.checkpoint["written"]["step"]}
    if size > 1:
        metadata["partition"] = {"strategy": res.partition.strategy, "imbalance": res.partition.imbalance}
        metadata["exchange"] = res.exchange
    stem = os.path.splitext(args.output)[0]
    with res.timers.phase("write"):
        maybe_inject_fault(comm, "write")
        if writer is not None:   # the run's spikes are in the checkpoint's segments: join them
            if rank == 0:
                _join_segments(writer, args.output, stem, dict(metadata, timers=res.timers.as_dict()))
            if size > 1:
                comm.Barrier()   # the output exists before any rank reports success
        elif size == 1:
            write_spikes(args.output, res, dict(metadata, timers=res.timers.as_dict()))
        else:
            metadata["write_mode"] = write_spikes_parallel(
                args.output, comm, res.plan, res.spike_gids, res.spike_steps, res.n_steps,
                dict(metadata, timers=res.timers.as_dict()), args.write_mode, res.first_step)
        if writer is None:
            write_voltages_parallel(f"{stem}_voltage.h5", res, comm, metadata)
    timers = res.timers.as_dict()
    if size > 1:  # the job takes as long as its slowest rank
        timers = {k: comm.allreduce(v, op=_max_op()) for k, v in sorted(timers.items())}
    if rank != 0:
        _checkpoint_failed(res)
        return None
    sim_s = timers["simulate"]
    summary = dict(metadata, timers_s=timers, real_time_factor=sim_s / (res.t_sim * 1e-3),
                   events_per_s=res.events / sim_s if sim_s > 0 else float("nan"), spike_file=args.output)
    if size > 1:
        summary["exchange_bytes_per_step"] = res.exchange["bytes_received_all_ranks"] / max(res.n_steps, 1)
        summary["exchange_share_of_step"] = timers.get("exchange", 0.0) / sim_s if sim_s > 0 else 0.0
    summary.update(_device_summary(devices, res.events))
    if writer is not None:   # the spike file covers the whole run, also before a resume
        joined = read_metadata(args.output)
        summary["joined"] = {"segments": len(writer.segments), "t_start": joined["t_start"],
                             "t_stop": joined["t_stop"], "synaptic_events": joined["synaptic_events"]}
    with open(f"{stem}_summary.json", "w") as fh:
        json.dump(summary, fh, indent=1, sort_keys=True, default=float)
    print(f"{args.model}: {res.plan.n_neurons} neurons, {res.n_synapses:.4g} synapses, "
          f"{res.t_sim:g} ms" + (f" (from {res.t_start:g} ms, {'resumed' if resumed else 'restarted'} from "
                                 f"{restart})" if restart else "")
          + f", backend {res.backend}, {res.connectivity} connectivity"
          + (f", {size} ranks ({args.partition}, imbalance {res.partition.imbalance:.2f}, exchange every "
             f"{res.exchange['interval_steps']} step(s) by {res.exchange['method']})" if size > 1 else ""), file=out)
    print(f"  build    {timers['build']:9.3f} s", file=out)
    if restart:
        print(f"  restore  {timers['restore']:9.3f} s   ({restart}, t = {res.t_start:g} ms)", file=out)
    print(f"  simulate {timers['simulate']:9.3f} s   real-time factor {summary['real_time_factor']:.3f}", file=out)
    if size > 1:
        print(f"  exchange {timers.get('exchange', 0.0):9.3f} s   ({100 * summary['exchange_share_of_step']:.1f} % of "
              f"simulate, {summary['exchange_bytes_per_step']:.0f} B per step)", file=out)
    print(f"  write    {timers['write']:9.3f} s", file=out)
    if args.checkpoint:
        print(f"  checkpoint {timers['checkpoint']:7.3f} s   ({args.checkpoint}, t = {res.t_stop:g} ms"
              + (f", every {args.checkpoint_every:g} ms" if args.checkpoint_every else "") + ")", file=out)
    if devices:
        names = sorted({d["name"] for d in devices})
        peak = summary["device_peak_memory_bytes"] / 2 ** 20
        line = f"  device   {', '.join(names)} x{len(devices)}, peak memory {peak:.1f} MiB"
        if "energy_J" in summary:
            line += f", energy {summary['energy_J']:.3g} J ({summary['uJ_per_synaptic_event']:.3g} uJ per event)"
        print(line, file=out)
    print(f"  synaptic events {res.events:.4g}  ({summary['events_per_s']:.4g} /s)", file=out)
    if rates_from >= res.t_stop:   # after a restart: --rates-from is absolute time
        print(f"  mean rates: none (--rates-from {rates_from:g} ms is not before the end of the run, "
              f"{res.t_stop:g} ms)", file=out)
        rates = {}
    else:
        print(f"  mean rates (Hz, t > {rates_from:g} ms):", file=out)
    for name, rate in rates.items():
        print(f"    {name:8s} {rate:8.3f}" if rate == rate else f"    {name:8s} (not recorded)", file=out)
    if writer is not None:
        print(f"  wrote {args.output} ({len(writer.segments)} segments joined, {writer.segments[0]['t_start']:g} to "
              f"{res.t_stop:g} ms, {summary['joined']['synaptic_events']:.4g} synaptic events) and "
              f"{stem}_summary.json", file=out)
    else:
        print(f"  wrote {args.output} and {stem}_summary.json", file=out)
    _checkpoint_failed(res)
    return summary


def _mean_rates(args, res, writer, comm):
    """(t_from, {population: Hz}): the mean rates over (t_from, end of run] with t_from =
    --rates-from or the start of what the output holds. A run that wrote segments kept no
    spikes in memory; its rates come from the segment files (rank 0 reads them), and cover
    the whole run, also the part before a --resume."""
    if writer is None:
        t_from = max(args.rates_from, res.t_start)
        return t_from, res.mean_rates(t_from)
    from .io.segments import mean_rates
    t_from = max(args.rates_from, writer.segments[0]["t_start"])
    rates = None
    if comm is None or comm.Get_rank() == 0:
        recorded = {name: res.recorded_count(name) for name in res.plan.pop_names}
        rates = mean_rates(writer.paths("spikes"), recorded, t_from, res.t_stop)
    if comm is not None and comm.Get_size() > 1:
        rates = comm.bcast(rates, root=0)
    return t_from, rates


def _segment_plan(args):
    """(restart, t_sim, segments, resumed) of a run: the checkpoint it starts from, the time
    to simulate (None: --t-sim), the segments the checkpoint already holds (None: the run
    writes no segments) and whether it resumes a run (--resume found its checkpoint)."""
    if (args.checkpoint_every is not None or args.resume) and not args.checkpoint:
        raise ValueError("--checkpoint-every and --resume need --checkpoint DIR")
    if args.checkpoint_every is None and not args.resume:
        return args.restart, None, None, False
    state = None
    if args.resume:
        from .io.segments import resumable
        state = resumable(args.checkpoint)
    if state is None:
        return args.restart, None, [], False
    man, segments = state
    start, at = segments[0]["t_start"], float(man["t_ms"])
    left = start + args.t_sim - at
    dt = float(man["fingerprint"]["dt_ms"])
    if left < -dt / 2:
        raise ValueError(f"--resume: the checkpoint in {args.checkpoint!r} is at {at:g} ms, past the end of this run "
                         f"({start:g} + --t-sim {args.t_sim:g} ms)")
    return args.checkpoint, (left if left > dt / 2 else 0.0), segments, True


def _join_segments(writer, output, stem, metadata=None):
    """The output of a run that wrote segments: its spike file and voltage report, each the
    join of all its segments (rank 0 only). metadata: of the output (default: the first
    segment's, less what belongs to one run only)."""
    from .io.segments import join_spike_files, join_voltage_reports
    from .io.sonata import read_metadata
    join_spike_files(writer.paths("spikes"), output, metadata)
    if writer.paths("voltage"):
        join_voltage_reports(writer.paths("voltage"), f"{stem}_voltage.h5", read_metadata(output))


def _join_segments_only(args, segments, comm, out):
    """--resume of a run whose last checkpoint is at its end (the job died while writing the
    output): the output is the join of the segments; nothing is simulated."""
    from .io.segments import SegmentWriter
    writer = SegmentWriter(args.checkpoint, comm, segments=segments)
    stem = os.path.splitext(args.output)[0]
    if comm is None or comm.Get_rank() == 0:
        _join_segments(writer, args.output, stem)
        print(f"{args.model}: the checkpoint in {args.checkpoint} is at the end of the run; nothing left to simulate. "
              f"Wrote {args.output} ({len(segments)} segments joined, {segments[0]['t_start']:g} to "
              f"{segments[-1]['t_stop']:g} ms)", file=out)
    if comm is not None and comm.Get_size() > 1:
        comm.Barrier()
    return None


def _checkpoint_failed(res):
    """After the results are written: a failed checkpoint still fails the command (every rank
    agreed on it, so all exit together)."""
    if res.checkpoint.get("error"):
        raise CheckpointError(res.checkpoint["error"])


def _gather_devices(res, comm):
    """Every rank's device record (empty on the CPU backend), on rank 0."""
    if comm is None or comm.Get_size() == 1:
        return [res.device] if res.device else []
    devices = comm.gather(res.device, root=0)
    return [d for d in devices if d] if devices is not None else []


def _device_summary(devices, events):
    """Peak device memory (largest rank) and energy (each physical device counted once)."""
    if not devices:
        return {}
    out = {"device_peak_memory_bytes": max(d.get("peak_allocated_bytes", 0) for d in devices)}
    energy = {}
    for d in devices:
        nv = d.get("nvml", {})
        if "energy_J" in nv:
            energy[(d["host"], d.get("pci_bus_id"))] = nv["energy_J"]
    if energy:
        out["energy_J"] = sum(energy.values())
        out["uJ_per_synaptic_event"] = out["energy_J"] * 1e6 / events if events else float("nan")
    return out


def _max_op():
    from mpi4py import MPI
    return MPI.MAX


def main(argv=None):
    args = _parser().parse_args(argv)
    comm = None
    try:
        comm = world_comm() if args.command == "run" else None
        commands = {"run": lambda: run_command(args, comm), "partition": lambda: partition_command(args),
                    "analyze": lambda: analyze_command(args), "compare": lambda: compare_command(args),
                    "export": lambda: export_command(args), "join": lambda: join_command(args)}
        commands[args.command]()
    except CheckpointError as err:   # raised on every rank alike, after the results were written
        if comm is None or comm.Get_rank() == 0:
            print(f"distsnn: error: {err}", file=sys.stderr, flush=True)
        return 1
    except (ValueError, MemoryError) as err:
        return fail_whole_job(comm, err, 2)
    except Exception as err:  # any other failure: this rank's message, then the whole job down
        if comm is None or comm.Get_size() == 1:
            raise
        return fail_whole_job(comm, f"{type(err).__name__}: {err}", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
