"""simulate(): build a network on a backend, run it, return spikes, voltages and timers.

The backend (backends.select) is the CPU engine or the GPU engine; both expose the same
simulator interface (build, run, deliver), so everything below drives either.

Single process: a compiled driver runs 50 ms of steps per call. With an MPI communicator of
R > 1 ranks: the network is partitioned (package `partitioning`), each rank builds and
simulates only its own post chunks, delivers its own spikes every step, and exchanges spikes
with the other ranks every D steps (D = smallest delay of a projection crossing ranks),
delivering the received ones after each exchange. The spikes are the same for any R.

A run can start from a checkpoint (io.checkpoint) and write one at its end, and at fixed
biological times during it; steps and spike times are absolute, so a restarted run continues
the one that wrote the checkpoint exactly.
"""

import numpy as np

from ..backends.gpu.watchdog import Watchdog, watchdog_limit
from ..backends.select import resolve
from ..build import make_plan
from ..build.count_layout import hold_counts
from ..build.long_term import network_has_stdp
from ..build.input_bound import decide_ring_bits
from ..build import plan as bp
from ..comm.faults import maybe_inject_fault
from ..model.inputs import whole_steps
from ..comm.reduce import sum_over_ranks
from .checkpointer import Checkpointer
from .progress import Progress
from .recorder import StateRecorder, recorded_offset
from .result import RunResult, total_synapses
from .timers import PhaseTimers

BLOCK_MS = 50.0  # biological time per compiled call (progress granularity)


def simulate(network, t_sim, seed=1, backend="auto", connectivity="procedural", progress=True, log=None,
             comm=None, partition="auto", exchange="allgatherv", share_gpus=False, restart=None, checkpoint=None,
             checkpoint_every=None, on_checkpoint=None, keep_recorded=True, device_index=None):
    """Simulate `network` for t_sim ms. Returns a RunResult.

    seed: integer in [0, 2**64) keying every random stream; backend: 'auto' (the GPU if one
    works, else the CPU), 'cpu', 'gpu' or 'gpu-emu' (GPU kernels emulated on the host);
    connectivity: 'procedural' (rows regenerated at each spike) or 'stored' (CSR);
    comm: an mpi4py communicator (None: this process alone); partition: strategy of the
    `partitioning` package; exchange: 'allgatherv' or 'alltoallv'; share_gpus: allow more
    ranks than GPUs on a node; restart: a checkpoint directory to start from (its step and
    state; t_sim is then the time simulated beyond it); checkpoint: a directory to write the
    state into at the end (io.checkpoint; replaces an earlier checkpoint there; if writing it
    fails, the result says why in result.checkpoint['error'] and is otherwise complete).
    checkpoint_every: also write the checkpoint whenever the biological time reaches a
    multiple of this many ms (each replaces the one before); the time spent is the phase
    'checkpoint', not 'simulate'. A failed checkpoint does not stop the run: the previous one
    stays, the next is tried, and the result reports the first error.
    on_checkpoint(window): called on every rank just before each checkpoint is written, with
    a RunResult of the spikes, voltages and events since the previous one (io.segments
    writes them as spike files beside the checkpoint); what it returns (a JSON-able dict)
    goes into the checkpoint manifest's metadata.
    keep_recorded: False (needs on_checkpoint) drops each window's spikes and voltages once
    the hook has them, so that host memory no longer grows with the length of the run; the
    result then holds none (RunResult.kept is False).
    device_index: the GPU to use (backends.select.device_index), else this rank's by its
    node-local rank in comm.
    """
    log = log or (lambda msg: None)
    # as NEST's Simulate: a time off the grid is an error, not silently rounded (0.04 ms would be no step at all)
    n_steps = whole_steps("t_sim", t_sim, network.dt)
    if (checkpoint_every is not None or on_checkpoint is not None) and checkpoint is None:
        raise ValueError("checkpoint_every and on_checkpoint need a checkpoint directory (checkpoint=...)")
    if not keep_recorded and on_checkpoint is None:
        raise ValueError("keep_recorded=False needs an on_checkpoint hook: without one the spikes would be lost")
    size = comm.Get_size() if comm is not None else 1
    if size > 1:
        share_cores(comm, log)
    from ..backends.cpu.simulator import CONNECTIVITY_MODES
    if connectivity not in CONNECTIVITY_MODES:   # checked before a device is opened
        raise ValueError(f"connectivity must be one of {CONNECTIVITY_MODES}, got {connectivity!r}")
    from partitioning.strategies import check_strategy
    from ..comm.exchange import check_exchange_method
    # checked on one process too, where they are not used: the same call must work under mpiexec
    check_strategy(partition)
    check_exchange_method(exchange)
    timers = PhaseTimers()
    # the build in parts (build_plan, build_bound, build_engine), each timed on its own: what
    # a model's build spends where, on the host or a device, is in every run's summary
    with timers.phase("build"):
        backend, device = resolve(backend, comm, share_gpus, log, device_index)
        watch_s = watchdog_limit() if device is not None else None   # a bad setting fails before the build
        with timers.phase("build_plan"):
            # the input bound waits: for the partition under MPI (each rank bounds its own
            # units), and on a GPU for the device (which counts the rows and places the
            # synapses itself)
            plan = make_plan(network, seed, bound_inputs=False)
            every_steps = _every_steps(checkpoint_every, plan.dt)
            part = None
            owned = None
            if size > 1:
                from partitioning import partition_pieces
                part = partition_pieces(plan, size, partition)
                owned = part.unit_rank == comm.Get_rank()
                hold_counts(plan, plan.units[owned])   # this rank's chunks' row counts only
        with timers.phase("build_bound"):   # the row counts and the input bound: the ring width
            if device is None:
                from ..backends.cpu.simulator import CpuSimulator
                from ..backends.cpu.sizes import available_memory, check_stored_estimate
                if connectivity == "stored":   # before the bound walks every synapse
                    check_stored_estimate(plan, plan.units if owned is None else plan.units[owned], available_memory(),
                                          "the host")
                decide_ring_bits(plan, owned=owned, comm=comm)
                sim = CpuSimulator(plan, connectivity, log=log, owned=owned)
            else:
                from ..backends.gpu.simulator import GpuSimulator
                sim = GpuSimulator(plan, connectivity, log=log, owned=owned, device=device)
                sim.bound_inputs(comm)
        log(f"input ring buffers: int{plan.ring_bits}"
            + (f" ({plan.info['ring_bits_reason']})" if "ring_bits_reason" in plan.info else ""))
        maybe_inject_fault(comm, "build")
        manifest = None
        # before anything large is allocated or run (a GPU's row counts aside: its input bound needed them)
        if restart is not None or checkpoint is not None:
            from ..io import checkpoint as ckpt
            if restart is not None:
                manifest = ckpt.load_manifest(restart)
                ckpt.check_compatible(manifest, plan, restart)
            if checkpoint is not None:
                ckpt.check_target(checkpoint)
        with timers.phase("build_engine"):   # the engine's state, tables and buffers (a stored CSR)
            sim.build()
    restored = None
    if restart is not None:
        with timers.phase("restore"):
            restored = ckpt.restore_checkpoint(restart, sim, manifest)   # each rank reads alone: no collective
        log(f"restarted from {restart} at t = {restored['t_ms']:g} ms (step {restored['step']})")
    first_step = sim.t
    cap = sim.output_capacity
    out = [np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64)]
    bar = Progress(n_steps * plan.dt, enabled=progress and (comm is None or comm.Get_rank() == 0))
    loop = _SingleLoop(sim, n_steps, bar) if size == 1 else _DistributedLoop(sim, part, comm, exchange, n_steps,
                                                                            bar, timers)
    if device is not None:
        sim.tune_for(n_steps)   # where the device asks for it: the step setups tried on the first steps
        sim.watchdog = Watchdog(watch_s, comm)   # a block of steps that never ends takes the job down
    monitor = _device_monitor(device)
    copies = dict(device.copies) if device is not None else None   # (the build's are not the run's)
    # checkpoints are taken at the run's end and, with checkpoint_every, at every multiple of
    # it (absolute steps, so that a restarted chain keeps the same points)
    stops = [n_steps]
    if every_steps:
        stops = [s - first_step for s in range(first_step + every_steps - first_step % every_steps,
                                               first_step + n_steps, every_steps)] + stops
    saver = Checkpointer(checkpoint, sim, comm, backend, connectivity, on_checkpoint, timers,
                          log) if checkpoint is not None else None
    # the sampled state of the whole run, or (keep_recorded=False) of one window at a time
    sampling = plan.vrec_sampling
    rows = sampling.count(first_step, first_step + n_steps) if keep_recorded else \
        max(sampling.count(first_step + a, first_step + b) for a, b in zip([0] + stops, stops))
    rec = StateRecorder(sampling, sim.vrec_gids.size, rows, loop.block_steps)
    n_out = done = 0
    try:
        for stop in stops:
            with timers.phase("simulate"):
                n_out = loop.advance(done, stop, out, n_out, rec)
                if stop == n_steps:
                    bar.close()
                    if size == 1:
                        maybe_inject_fault(comm, "simulate")
                if device is not None:
                    device.synchronize()
            if saver is not None:
                saver.save(out, n_out, rec, done, stop)
                if not keep_recorded:   # the hook has written them: the next window starts afresh
                    n_out = 0
                    rec.clear()
            done = stop
    finally:
        if getattr(sim, "watchdog", None) is not None:
            sim.watchdog.stop()
    device_info = _device_info(device, monitor, backend, sim, copies)
    vrec, vrec_steps = rec.taken()
    vrec += recorded_offset(plan, sim)
    events = sum_over_ranks(sim.events, comm)
    return RunResult(plan=plan, t_sim=n_steps * plan.dt, n_steps=n_steps,
                     spike_gids=out[0][:n_out].copy(), spike_steps=out[1][:n_out].copy(),
                     vrec_gids=sim.vrec_gids, vrec_var=sim.vrec_var, vrec=vrec, events=events, backend=backend,
                     connectivity=connectivity,
                     n_synapses=total_synapses(sim, comm), timers=timers,
                     comm=comm, exchange=loop.info(), partition=part, device=device_info, first_step=first_step,
                     checkpoint=saver.report(restored) if saver is not None else
                     ({"restart": restored} if restored else {}), kept=keep_recorded, vrec_steps=vrec_steps,
                     plastic=sim.plastic_synapses() if network_has_stdp(network) else None)


def _every_steps(checkpoint_every, dt):
    """checkpoint_every (ms) as a whole number of steps of dt ms (None: no periodic checkpoints)."""
    if checkpoint_every is None:
        return None
    return whole_steps("checkpoint_every", checkpoint_every, dt)


def _device_monitor(device):
    if device is None or device.kind != "gpu":
        return None
    from ..backends.gpu.nvml import DeviceMonitor
    return DeviceMonitor(device.pci_bus_id).start()


def _device_info(device, monitor, backend, sim, copies):
    """What the summary reports of this rank's device: name, how steps were launched, memory,
    the host <-> device copies made since `copies` (the device's counts before the steps:
    the run's flushes, exchanges and checkpoints) and (GPU) NVML readings."""
    if device is None:
        return {}
    import socket
    info = {"backend": backend, "name": device.name, "index": device.index, "host": socket.gethostname(),
            "step_launches": sim.step_launches, "step_kernels": sim.step_kernels,
            "delivery_team": sim.team, "row_rounds": sim.row_rounds, **device.memory_info(),
            "copies_while_running": {k: device.copies[k] - copies[k] for k in copies}}
    if sim.tuner is not None:
        info["tuning"] = sim.tuner.report()
    if getattr(device, "pci_bus_id", None):
        info["pci_bus_id"] = device.pci_bus_id
    if monitor is not None:
        info["nvml"] = monitor.stop()
    return info


def share_cores(comm, log):
    """Give each rank its share of the node's cores (numba threads), unless the user chose:
    ranks x threads above the core count makes MPI's busy polling fight the compute threads."""
    import os

    import numba
    from mpi4py import MPI
    if os.environ.get("NUMBA_NUM_THREADS"):
        return
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    share = max(1, (os.cpu_count() or 1) // local.Get_size())
    local.Free()
    if numba.get_num_threads() > share:
        numba.set_num_threads(share)
        log(f"{share} thread(s) per rank ({comm.Get_size()} ranks)")


def _grow(out):
    for i in range(2):
        out[i] = np.concatenate([out[i], np.empty_like(out[i])])


class _SingleLoop:
    """One process: compiled calls of up to BLOCK_MS of steps."""

    def __init__(self, sim, n_steps, bar):
        self.sim, self.bar = sim, bar
        self.block_steps = max(1, int(round(BLOCK_MS / sim.plan.dt)))   # the most steps of one call
        # absolute step of local step 0 (not sim.t at each call: the GPU engine's clock runs
        # ahead by the steps it holds back when their spikes do not fit the output buffer)
        self.first_step = sim.t

    def advance(self, done, stop, out, n_out, rec):
        """Run the local steps [done, stop) (their sampled state into the StateRecorder
        `rec`); returns the number of spikes in `out`."""
        sim = self.sim
        while done < stop:
            want = min(self.block_steps, stop - done)
            got, n_out = sim.run(want, out[0], out[1], n_out, rec.block(want))
            rec.keep(self.first_step + done, got)
            done += got
            if got < want:  # the spike buffer may overflow in the next step: grow it
                _grow(out)
            self.bar.update(done * sim.plan.dt)
        return n_out

    def info(self):
        return {}


class _DistributedLoop:
    """R > 1 ranks: windows of at most D steps, each followed by a spike exchange and the
    delivery of the received spikes, so that between windows every rank has delivered every
    spike emitted so far (the state a checkpoint needs)."""

    def __init__(self, sim, part, comm, method, n_steps, bar, timers):
        from ..comm.exchange import SpikeExchange
        plan = sim.plan
        self.sim, self.comm, self.method, self.n_steps, self.bar, self.timers = sim, comm, method, n_steps, bar, timers
        self.D = part.exchange_interval()
        self.block_steps = self.D         # the most steps of one call
        self.first_step = sim.t           # absolute step of local step 0 (see _SingleLoop)
        needs = None
        if method == "alltoallv":
            # rank r needs the spikes of every population projecting onto a piece it owns
            needs = np.zeros((comm.Get_size(), plan.n_pops), dtype=bool)
            for piece, r in zip(part.pieces, part.piece_rank):
                for src in piece.sources:
                    needs[r, src] = True
        self.xch = SpikeExchange(comm, method, plan.pop_i[:, bp.PI_OFFSET], needs)
        self.ex_gid = np.empty(max(sim.per_step * self.D, 1), dtype=np.int64)
        self.ex_step = np.empty_like(self.ex_gid)
        self.report_every = max(1, int(round(BLOCK_MS / plan.dt)))

    def advance(self, done, stop, out, n_out, rec):
        """Run the local steps [done, stop) (their sampled state into the StateRecorder
        `rec`; the last window may be shorter than D: exchanging early is always correct);
        returns the number of spikes in `out`."""
        sim, n_steps, ex_gid, ex_step = self.sim, self.n_steps, self.ex_gid, self.ex_step
        while done < stop:
            width = min(self.D, stop - done)
            t0 = done
            base = sim.t                  # absolute step of the window's first step (> t0 after a restart)
            n_ex = 0
            while done < t0 + width:      # local steps (delivering local spikes at once)
                want = t0 + width - done
                got, n_out, n_ex = sim.run(want, out[0], out[1], n_out, rec.block(want), ex_gid, ex_step, n_ex)
                rec.keep(self.first_step + done, got)
                done += got
                if got < want:
                    _grow(out)
            if t0 < n_steps // 2 <= done:
                maybe_inject_fault(self.comm, "simulate")   # mid-run, while the other ranks wait in the exchange
            with self.timers.phase("exchange"):
                gids, offs = self.xch.exchange(ex_gid[:n_ex], ex_step[:n_ex] - base)
            with self.timers.phase("deliver_remote"):
                sim.deliver(gids, offs + base)
            if done % self.report_every < width:
                self.bar.update(done * sim.plan.dt)
        return n_out

    def info(self):
        xch, comm = self.xch, self.comm
        return {"interval_steps": self.D, "method": self.method, "calls": xch.calls, "collectives": xch.collectives,
                "bytes_sent_all_ranks": comm.allreduce(xch.bytes_sent),
                "bytes_received_all_ranks": comm.allreduce(xch.bytes_received)}
