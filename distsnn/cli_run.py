"""The `distsnn run` command: build, simulate and write a model from the library, on one
process or on every rank of an MPI job (the communicator comes from cli.main), with
checkpoints, segments written as the run goes and --resume; then the summary (timers,
real-time factor, events, rates, devices) on rank 0."""
import json
import math
import os
import platform
import sys

import numpy as np

from . import __version__
from .cli import _plural
from .cli_models import _model, _model_kwargs
from .comm.faults import maybe_inject_fault
from .comm.logging import rank_log
from .comm.reduce import max_over_ranks
from .io.checkpoint import CheckpointError
from .model.inputs import whole_steps


DEFAULT_T_SIM_MS = 1000.0
DEFAULT_OUTPUT = "results/run.h5"


def _versions():
    import h5py
    import numba
    return {"distsnn": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "h5py": h5py.__version__, "platform": platform.platform()}


# the parts of the build simulate times (runtime.run.simulate), as the summary line names them
BUILD_PARTS = (("build_plan", "plan"), ("build_bound", "row counts and input bound"), ("build_engine", "engine"))


def run_command(args, comm=None, out=None):
    out = out or sys.stdout
    from .io.parallel import check_write_mode, write_reports_parallel, write_spikes_parallel
    from .io.paths import check_writable
    from .io.sonata import read_metadata, report_path, summary_path, write_spikes
    from .runtime import simulate
    from .runtime.memory import memory_line, rank_memory, summary_memory

    size = comm.Get_size() if comm is not None else 1
    rank = comm.Get_rank() if comm is not None else 0
    log = rank_log(comm, out)
    if args.threads is not None:
        import numba
        numba.set_num_threads(args.threads)
    net = _model(args.model, scale=args.scale, record_voltage=args.record, **_model_kwargs(args))
    t_sim_from = "--t-sim"
    if args.t_sim is None:   # a SONATA config says how long it runs ...
        args.t_sim = net.metadata.get("tstop", DEFAULT_T_SIM_MS)
        t_sim_from = "run.tstop" if "tstop" in net.metadata else t_sim_from
    whole_steps(t_sim_from, args.t_sim, net.dt)   # as NEST's Simulate: off the grid is an error, not rounded
    if args.output is None:  # ... and where its spikes go
        args.output = net.metadata.get("spikes_file", DEFAULT_OUTPUT)
    if args.record_from is not None:
        if not args.record:
            raise ValueError("--record-from: no neuron's state is recorded; give --record K as well")
        net.record_variables(args.record_from)
    sampled = args.record_interval is not None or args.record_start > 0 or args.record_stop is not None
    if sampled:
        if not args.record:
            raise ValueError("--record-interval, --record-start, --record-stop: no neuron's state is recorded; "
                             "give --record K as well")
        try:
            net.sample_state(args.record_interval, args.record_start,
                             math.inf if args.record_stop is None else args.record_stop)
        except ValueError as err:   # named by its options, not by the method
            raise ValueError(f"--record-interval/--record-start/--record-stop: "
                             f"{str(err).removeprefix('sample_state: ')}") from None
    if args.ring_bits is not None:
        net.ring_bits = args.ring_bits if args.ring_bits == "auto" else int(args.ring_bits)
    restart, t_sim, segments, resumed = _segment_plan(args)
    if restart is None and args.rates_from >= args.t_sim:
        raise ValueError(f"--rates-from {args.rates_from:g} ms is not before the end of the run "
                         f"(--t-sim {args.t_sim:g} ms): no time left to compute rates over")
    check_writable(args.output)   # now, not after the run
    check_write_mode(args.write_mode)
    if t_sim is not None and t_sim <= 0:   # resumed from the run's last checkpoint: only the output is missing
        return _join_segments_only(args, net, segments, comm, out)
    writer = None
    if segments is not None:
        from .io.segments import SegmentWriter
        writer = SegmentWriter(args.checkpoint, comm, {"model": args.model, "seed": args.seed, "scale": args.scale},
                               args.write_mode, segments)
    res = simulate(net, args.t_sim if t_sim is None else t_sim, seed=args.seed, backend=args.backend,
                   connectivity=args.connectivity, progress=not args.no_progress, log=log, comm=comm,
                   partition=args.partition, exchange=args.exchange, share_gpus=args.share_gpus, restart=restart,
                   checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every, on_checkpoint=writer,
                   keep_recorded=writer is None, device_index=getattr(args, "device_index", None))
    rates_from, rates = _mean_rates(args, net, res, writer, comm)
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
    reports = {v: report_path(stem, v) for v in res.plan.vrec_names}   # the state reports beside the output
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
            write_reports_parallel(reports, res, comm, metadata)
        learned = _write_learned(stem, res, comm) if res.plastic is not None else None
    timers = res.timers.as_dict()
    memory = rank_memory(res, rank)
    if size > 1:  # the job takes as long as its slowest rank, and needs the memory of its largest
        timers = {k: max_over_ranks(v, comm) for k, v in sorted(timers.items())}
        memory = {k: max_over_ranks(v, comm) for k, v in sorted(memory.items())}
    if rank != 0:
        _checkpoint_failed(res)
        return None
    sim_s = timers["simulate"]
    summary = dict(metadata, timers_s=timers, real_time_factor=sim_s / (res.t_sim * 1e-3),
                   events_per_s=res.events / sim_s if sim_s > 0 else float("nan"), spike_file=args.output,
                   reports=reports, memory=summary_memory(memory))
    if size > 1:
        summary["exchange_bytes_per_step"] = res.exchange["bytes_received_all_ranks"] / max(res.n_steps, 1)
        summary["exchange_share_of_step"] = timers.get("exchange", 0.0) / sim_s if sim_s > 0 else 0.0
    summary.update(_device_summary(devices, res.events))
    if learned:
        summary["stdp_weights_file"] = learned
    if writer is not None:   # the spike file covers the whole run, also before a resume
        summary["joined"] = _joined_summary(read_metadata(args.output))
    _write_summary(args.output, summary)
    print(f"{args.model}: {res.plan.n_neurons} neurons, {res.n_synapses:.4g} synapses, "
          f"{res.t_sim:g} ms" + (f" (from {res.t_start:g} ms, {'resumed' if resumed else 'restarted'} from "
                                 f"{restart})" if restart else "")
          + f", backend {res.backend}, {res.connectivity} connectivity"
          + (f", {size} ranks ({args.partition}, imbalance {res.partition.imbalance:.2f}, exchange every "
             f"{res.exchange['interval_steps']} step(s) by {res.exchange['method']})" if size > 1 else ""), file=out)
    parts = [f"{label} {timers[key]:.3f} s" for key, label in BUILD_PARTS if key in timers]
    print(f"  build    {timers['build']:9.3f} s" + (f"   ({', '.join(parts)})" if parts else ""), file=out)
    if restart:
        print(f"  restore  {timers['restore']:9.3f} s   ({restart}, t = {res.t_start:g} ms)", file=out)
    print(f"  simulate {timers['simulate']:9.3f} s   real-time factor {summary['real_time_factor']:.3f}", file=out)
    if size > 1:
        print(f"  exchange {timers.get('exchange', 0.0):9.3f} s   ({100 * summary['exchange_share_of_step']:.1f} % of "
              f"simulate, {summary['exchange_bytes_per_step']:.0f} B per step)", file=out)
    print(f"  write    {timers['write']:9.3f} s" + (f"   (STDP weights: {learned})" if learned else ""), file=out)
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
    print(memory_line(summary["memory"], size, res.connectivity), file=out)
    print(f"  synaptic events {res.events:.4g}  ({summary['events_per_s']:.4g} /s)", file=out)
    if rates_from >= res.t_stop:   # after a restart: --rates-from is absolute time
        print(f"  mean rates: none (--rates-from {rates_from:g} ms is not before the end of the run, "
              f"{res.t_stop:g} ms)", file=out)
        rates = {}
    _print_rates(rates, rates_from, net.metadata, out)
    listed = "".join(f", {path}" for path in reports.values())
    if writer is not None:
        print(f"  wrote {args.output} ({_plural(len(writer.segments), 'segment')} joined, "
              f"{writer.segments[0]['t_start']:g} to {res.t_stop:g} ms, "
              f"{summary['joined']['synaptic_events']:.4g} synaptic events){listed} and {summary_path(args.output)}",
              file=out)
    else:
        print(f"  wrote {args.output}{listed} and {summary_path(args.output)}", file=out)
    _checkpoint_failed(res)
    return summary


def _mean_rates(args, net, res, writer, comm):
    """(t_from, {population: Hz}): the mean rates over (t_from, end of run] with t_from =
    --rates-from or the start of what the output holds. A run that wrote segments kept no
    spikes in memory; its rates come from the segment files (rank 0 reads them), and cover
    the whole run, also the part before a --resume."""
    if writer is None:
        t_from = max(args.rates_from, res.t_start)
        return t_from, res.mean_rates(t_from)
    found = None
    if comm is None or comm.Get_rank() == 0:
        found = _segment_rates(args, net, writer, res.t_stop)
    if comm is not None and comm.Get_size() > 1:
        found = comm.bcast(found, root=0)
    return found


def _print_rates(rates, rates_from, parameters, out):
    """The mean rates (Hz) over t > rates_from ms, each next to the model's reference rate
    where it gives them (parameters: the network's metadata; `reference_rates_hz` over
    `reference_rates_window_ms`: the microcircuit's NEST rates), with where they come from."""
    if not rates:
        return
    ref = parameters.get("reference_rates_hz") or {}
    print(f"  mean rates (Hz, t > {rates_from:g} ms)" + (", next to the reference's:" if ref else ":"), file=out)
    for name, rate in rates.items():
        line = f"    {name:8s} {rate:8.3f}" if rate == rate else f"    {name:8s} (not recorded)"
        print(f"{line:24s} {ref[name]:8.3f}" if name in ref else line, file=out)
    if ref:
        start, stop = parameters.get("reference_rates_window_ms", (None, None))
        window = f", over {start:g} to {stop:g} ms" if start is not None else ""
        print(f"  reference: {parameters.get('reference_rates_source', 'the model')}{window}", file=out)
        if start is not None and rates_from < start:
            print(f"  (the same window here: --t-sim {stop:g} --rates-from {start:g})", file=out)


def _segment_rates(args, net, writer, t_stop):
    """(t_from, {population: Hz}) of a run's segment files, over (t_from, t_stop] ms with
    t_from = --rates-from or the first segment's start (the file reading of one process)."""
    from .io.segments import mean_rates
    t_from = max(args.rates_from, writer.segments[0]["t_start"])
    return t_from, mean_rates(writer.paths("spikes"), net.recorded_spike_counts(), t_from, t_stop)


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
    """The output of a run that wrote segments: its spike file and state reports, each the
    join of all its segments (rank 0 only). metadata: of the output (default: the first
    segment's, less what belongs to one run only)."""
    from .io.segments import join_reports, join_spike_files
    from .io.sonata import read_metadata, report_path
    join_spike_files(writer.paths("spikes"), output, metadata)
    for variable in writer.variables():
        join_reports(writer.paths(variable), report_path(stem, variable), read_metadata(output))


def _write_learned(stem, res, comm):
    """Rank 0 writes every rank's STDP synapses, with the weights they ended with, to the
    SONATA edge file <stem>_weights.h5 (connectivity.learned_synapses); returns its path."""
    from .connectivity.synapses import learned_synapses
    from .io.sonata_edges import write_edges
    path = f"{stem}_weights.h5"
    parts = [res.plastic] if comm is None or comm.Get_size() == 1 else comm.gather(res.plastic, root=0)
    if parts is not None:
        write_edges(path, learned_synapses(res.plan, np.concatenate(parts)))
    return path


def _write_summary(output, summary):
    """The run summary as JSON beside the spike file `output` (io.sonata.summary_path)."""
    from .io.sonata import summary_path
    with open(summary_path(output), "w") as fh:
        json.dump(summary, fh, indent=1, sort_keys=True, default=float)


def _joined_summary(joined):
    """The summary's account of a spike file joined from segments (its metadata `joined`):
    their number, its window (ms) and synaptic events, and where every segment's simulate
    time is known, the whole run's (s, over all the jobs it took) and real-time factor."""
    block = {"segments": len(joined["segments"]), "t_start": joined["t_start"], "t_stop": joined["t_stop"],
             "synaptic_events": joined["synaptic_events"]}
    if "simulate_s" in joined:
        block.update(simulate_s=joined["simulate_s"],
                     real_time_factor=joined["simulate_s"] / ((joined["t_stop"] - joined["t_start"]) * 1e-3))
    return block


def _join_segments_only(args, net, segments, comm, out):
    """--resume of a run whose last checkpoint is at its end (the job died while writing the
    output): the output is the join of the segments and the summary says so; nothing is
    simulated. What only a build knows (neurons, synapses) comes from the segments."""
    import time

    from .io.segments import SegmentWriter, run_metadata
    from .io.sonata import read_metadata, report_path, summary_path
    writer = SegmentWriter(args.checkpoint, comm, segments=segments)
    stem, summary = os.path.splitext(args.output)[0], None
    if comm is None or comm.Get_rank() == 0:
        t0 = time.perf_counter()
        t_stop = segments[-1]["t_stop"]
        t_from, rates = _segment_rates(args, net, writer, t_stop)
        metadata = run_metadata(read_metadata(writer.paths()[0]))
        metadata.update(parameters=net.metadata, versions=_versions(), resumed=True, mean_rates_hz=rates,
                        mean_rates_from_ms=t_from, checkpoint={"directory": os.path.abspath(args.checkpoint),
                                                               "step": segments[-1]["step_stop"]})
        _join_segments(writer, args.output, stem, metadata)
        joined = read_metadata(args.output)
        summary = dict(joined, nothing_simulated=True, backend=joined["segments"][-1]["backend"],
                       timers_s={"write": time.perf_counter() - t0}, spike_file=args.output,
                       reports={v: report_path(stem, v) for v in writer.variables()},
                       joined=_joined_summary(joined))
        _write_summary(args.output, summary)
        print(f"{args.model}: the checkpoint in {args.checkpoint} is at the end of the run; nothing left to simulate. "
              f"Wrote {args.output} ({_plural(len(segments), 'segment')} joined, {segments[0]['t_start']:g} to "
              f"{t_stop:g} ms) and {summary_path(args.output)}", file=out)
    if comm is not None and comm.Get_size() > 1:
        comm.Barrier()
    return summary


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
