"""GPU backend driver: runs a BuildPlan with the CUDA kernels on a device (CuPy, or the
emulated device of emulator.py). Same interface and the same spikes as CpuSimulator.

A step's launches are each one kernel for all populations: spike sources and Poisson
sources (each only if the model has some), neuron update (Poisson input fused in; the
AdEx models' own kernel too, only if the model has some), state recording (only if asked
for), plasticity's (short-term: the spikes' efficacies; STDP: the targets' histories and the
spikes' traces, stdp.py), delivery of the step's own spikes (and of the synapse lists', only
if the model has FromList projections), whose first launch also ends the step (one thread
moves the device-resident step counter; layout.py): two for a plain model. Nothing in a
step needs the host: the step and the bounds of the spike buffer live on the device, so a
block of steps is enqueued (replayed as CUDA graphs where the device has graphs, or, where
the device is asked to and the model allows, run by one launch of the step loop:
launches.loop_kernel) and the host waits only when it flushes the spike and recording
buffers: after a block of up to MAX_BLOCK_STEPS steps, or at each exchange with other
ranks. The buffers are sized for usual activity; steps that could overflow them are skipped
on the device (layout.ST_LIVE) and enqueued again after the flush, so no spike is ever
lost. Spikes come back as (gid, step) pairs in the order the atomic appends gave them; the
driver sorts them by (step, gid), the CPU engine's order.

How the steps are launched (separate launches or the step loop, delivery's team, rows whole
or in parts) is a step setup (step_setups.py), chosen by the device's settings or, where the
device asks for it, by timing the candidates on a run's first steps (setup_choice.py).
"""
import math
import time
from contextlib import nullcontext

import numpy as np

from ...build import plan as bp
from ...build.count_layout import require_counts_of
from ...build.neuron_values import (given_currents, initial_currents, initial_state, izhikevich_parameters,
                                   thresholds)
from ...build.input_bound import decide_ring_bits
from ...build.param_rows import neuron_rows
from ...build import long_term
from ...build.ring_layout import read_arrival, ring_entries, write_arrival
from ...build.spike_schedule import schedule_extra
from ...model.neurons import MODEL_CODES
from ...model.rkf45 import instability_error
from ..cpu.simulator import CONNECTIVITY_MODES, RecordedState, local_view, ring_dtype
from ..cpu.sizes import check_stored_estimate, csr_bytes_per_synapse, state_bytes
from . import efficacies, launches, layout, lists, stdp
from .input_bound import device_unit_bounds
from .row_counts import device_counts
from .delivery_items import table_bytes
from .setup_choice import SetupChoice
from .source import R32, RULE_FILES, STDP_FILES, STDP_VARIANT, plan_rules, rule_variant
from .step_setups import device_setup

SPIKE_BUFFER_ENTRIES = 1 << 22   # (gid, step, population) on the device: 80 MiB (at least 2 steps' worth)
MAX_BLOCK_STEPS = 500            # steps between flushes at most (50 ms at dt = 0.1 ms)
GRAPH_STEPS = 50                 # steps per captured CUDA graph
# delivery's blocks per multiprocessor: its blocks stride over (spike, share) work, and a
# grid larger than the work costs launch time (full-scale microcircuit on an H100: 8 per
# multiprocessor gave 23.3 us per step, 16 gave 24.7, 4 gave 27.2; bench/results)
DELIVER_BLOCKS_PER_SM = 8
# A flush copies back the words of twice the spikes of the block before (at least
# FLUSH_COPY_MIN): a copy costs its bytes too (some 3 us for 32 KB from the device into
# pageable memory), and an exchange after every step has a few spikes.
FLUSH_COPY_MIN = 256
FLUSH_GRID = 1024   # pack_spikes' blocks at most (a grid-stride loop)


def remote_words(n):
    """uint64 words of the upload of n received spikes (GpuSimulator.deliver): their bounds,
    gids and steps, and their populations as int32, two to a word."""
    return 2 + 2 * n + (n + 1) // 2


def device_bytes(plan, units, n_vrec, spk_cap=None, block_steps=MAX_BLOCK_STEPS, team=1, row_rounds=0,
                 connectivity="procedural"):
    """Device bytes a GpuSimulator of the neurons of `units` (rows of plan.units) recording
    `n_vrec` state variables needs before any stored CSR: what every engine holds
    (cpu.sizes.state_bytes), plus the gid, unit and population of every local neuron
    (16 B), the spike (gid, step: 8 B each; population: 4 B; and 8 B for its word in a flush's
    copy) and recording buffers (8 B per recorded variable
    and step, and 12 B per probe for its neuron and code), the delivery item tables
    (delivery_items.table_bytes: at most a 64-B procedural or 32-B stored record per part of
    an item, one part unless row_rounds (rows in parts, for teams of `team` threads), 8 B per
    population), short-term plasticity's efficacies of a step's spikes (8 B per local
    neuron and group; its state is in state_bytes) and STDP's state (stdp.device_bytes).
    Left out: delivery's event counters, 8 B per team of the grid (17 KB on an H100)."""
    n_local = int(bp.unit_sizes(units).sum())
    if spk_cap is None:
        spk_cap = max(SPIKE_BUFFER_ENTRIES, 2 * max(n_local, 1))
    groups = plan.stp_i.shape[0] if plan.stp_i is not None else 0
    return (sum(state_bytes(plan, units).values()) + 16 * n_local + 28 * spk_cap + (8 * block_steps + 12) * n_vrec
            + table_bytes(plan, units, team, row_rounds, connectivity) + 8 * n_local * groups
            + stdp.device_bytes(plan, n_local, n_local))


class GpuSimulator(SetupChoice, RecordedState, stdp.StdpAccess):
    """Runs a BuildPlan on `device` (device.CudaDevice or emulator.EmulatedDevice).

    connectivity: 'procedural' or 'stored'; owned: boolean mask over plan.units of the post
    chunks this process simulates (default all).
    """

    def __init__(self, plan, connectivity="procedural", log=None, owned=None, device=None):
        if connectivity not in CONNECTIVITY_MODES:
            raise ValueError(f"connectivity must be one of {CONNECTIVITY_MODES}, got {connectivity!r}")
        if device is None:
            raise ValueError("GpuSimulator needs a device (see distsnn.backends.select)")
        long_term.check_engine(plan, connectivity)
        self.plan = plan
        self.connectivity = connectivity
        self.dev = device
        self.log = log or (lambda msg: None)
        self.t = 0
        self.units, self.gids, probes, local = local_view(plan, owned)
        self._set_probes(plan, probes, local)
        self.n_local = int(self.gids.size)
        # the most spikes of one step: each neuron once, plus a spike source's repeats in a
        # step (NEST's multiplicity; spike_schedule.schedule_extra)
        self.per_step = max(self.n_local + int(schedule_extra(plan, self.units).sum()), 1)
        self.spk_cap = max(SPIKE_BUFFER_ENTRIES, 2 * self.per_step)
        self.block_steps = MAX_BLOCK_STEPS
        self.output_capacity = 1 << 16   # initial size of the caller's spike buffers (they grow)
        self._pending = None             # flushed steps whose spikes did not fit the caller's buffers
        self._enqueued = 0               # steps of the last enqueued block
        self._prepared = {}              # the launches of each step setup used (step_setups.StepLaunches)
        self._tables = {}                # delivery's item tables on the device, by (team, row rounds)
        self._current = None             # the setup the steps are launched with
        self.tuner = None                # step_setups.Tuner while the setups are tried (tune_for)
        self.clock = time.perf_counter   # the tuner's stopwatch (the flush waits for the device)
        self.watchdog = None             # watchdog.Watchdog over each block of steps (set by the runtime)
        self.n_synapses = None
        self.owned = owned
        self.d_counts = None             # per-row counts on the device (_counts)
        self.history_capacity = stdp.HISTORY_START   # STDP: a target's history ring at first

    # sizes -----------------------------------------------------------------------------
    def memory_estimate(self):
        """Device bytes of state, ring buffers, row counts and the spike and recording buffers."""
        base = device_setup(self)
        return device_bytes(self.plan, self.units, self.vrec_gids.size, self.spk_cap, self.block_steps, base.team,
                            base.row_rounds, self.connectivity)

    def _check_fits(self, what, nbytes):
        self.log(f"{what}: {nbytes / 2 ** 20:.1f} MiB on {self.dev.name}")
        free = self.dev.free_bytes()
        if free is not None and nbytes > free:
            remedy = "procedural connectivity, " if what.startswith("stored") else ""
            raise MemoryError(f"{what} needs {nbytes / 2 ** 30:.2f} GiB but the device has {free / 2 ** 30:.2f} GiB "
                              f"free; use {remedy}a smaller model or more GPUs")

    # build -----------------------------------------------------------------------------
    def build(self):
        try:
            return self._build()
        except Exception as err:
            if type(err).__name__ != "OutOfMemoryError":   # CuPy's, despite the checks (fragmentation)
                raise
            raise MemoryError(f"the device ran out of memory while building ({err}); use procedural "
                              "connectivity, a smaller model or more GPUs") from None

    def entry_point(self, name):
        """The entry point of `name` for this plan's ring width (int32 twins end in R32) and,
        for the files with rule variants, its connection rules (source.rule_variant: the
        smallest variant that regenerates every rule of the plan's projections; in stored
        mode the step loop's procedural delivery is never run, and any variant serves; the
        full variant where the device's rule_variants is off)."""
        variant = ""
        if name in RULE_FILES and getattr(self.dev, "rule_variants", True):
            variant = rule_variant(() if self.connectivity == "stored" else plan_rules(self.plan))
        elif name in STDP_FILES and long_term.has_stdp(self.plan):   # stored delivery's STDP variant
            variant = STDP_VARIANT
        return name + variant + (R32 if self.plan.ring_bits == 32 else "")

    def bound_inputs(self, comm=None):
        """Decide the ring width (build.input_bound.decide_ring_bits) with the row counts and
        the input bound computed on the device (unit_bounds; docs/design.md, "The input bound
        on the device"). A no-op once the width is decided. comm: under MPI, each rank bounds
        the units it simulates and the maxima are combined (collective: every rank calls it);
        without one, every unit is bounded, so the width is the model's whatever this process
        owns."""
        plan = self.plan
        if self.connectivity == "stored":   # before anything is counted
            check_stored_estimate(plan, self.units, self.dev.free_bytes(), self.dev.name)
        if plan.ring_bits is not None:
            return
        owned = self.owned if comm is not None and comm.Get_size() > 1 else None
        if plan.network.ring_bits != 64:
            n = plan.n_neurons if owned is None else int(bp.unit_sizes(plan.units[np.asarray(owned, bool)]).sum())
            self._check_fits("row counts and the input bound's sums", 4 * plan.info["count_words"] + 32 * n)
        decide_ring_bits(plan, owned=owned, comm=comm, unit_bounds=self.unit_bounds)

    def unit_bounds(self, units, wq):
        """Per unit and receptor, the largest in-degree and sum of weight bounds over its
        neurons, on the device (input_bound.device_unit_bounds), from this simulator's counts."""
        return device_unit_bounds(self.dev, self.plan, self._counts(), units, wq)

    def _counts(self):
        """The per-row counts on the device, computed once (row_counts.device_counts)."""
        if self.d_counts is None:
            self.d_counts = device_counts(self.dev, self.plan)
        return self.d_counts

    def _build(self):
        d, plan = self.dev, self.plan
        self.bound_inputs()   # a no-op if make_plan or the caller decided the width
        require_counts_of(plan, self.units, "the GPU engine")
        self.ring_dtype = ring_dtype(plan)
        # less the counts the bound already placed on the device
        held = 4 * plan.info["count_words"] if self.d_counts is not None else 0
        self._check_fits("neuron state, input buffers, row counts and spike buffers", self.memory_estimate() - held)
        self._counts()   # first: a projection widened there changes plan.proj_i's counts layout
        up = d.to_device
        self.d_units = up(self.units, np.int64)
        self.d_gids = up(self.gids, np.int64)
        self.d_local_unit = up(np.repeat(np.arange(self.units.shape[0]), bp.unit_sizes(self.units)), np.int32)
        self.d_local_pop = up(plan.pop_of[self.gids], np.int32)   # the neuron kernels' k, one load sooner
        self.d_pop_of = up(plan.pop_of, np.int32)
        self.d_pop_f = up(plan.pop_f, np.float64)
        self.d_pop_i = up(plan.pop_i, np.int64)
        self.d_pin_i = up(plan.pin_i, np.int64)
        self.d_pin_cdf = up(plan.pin_cdf, np.float64)
        self.d_dc_f = up(plan.dc_f, np.float64)
        self.d_dc_i = up(plan.dc_i, np.int64)
        self.d_dc_seg_i = up(plan.dc_seg_i, np.int64)   # step currents (build.dc_inputs)
        self.d_dc_seg_f = up(plan.dc_seg_f, np.float64)
        self.d_dc_mask = up(plan.dc_mask, np.uint32)
        self.d_noise_f = up(plan.noise_f, np.float64)
        self.d_noise_i = up(plan.noise_i, np.int64)
        self.d_in_proj = up(plan.in_proj, np.int64)
        self.d_proj_f = up(plan.proj_f, np.float64)
        self.d_proj_i = up(plan.proj_i, np.int64)
        self.d_sched_step = up(plan.sched_step, np.int64)
        self.d_sched_gid = up(plan.sched_gid, np.int64)
        self.d_cursor = up(self.units[:, bp.UI_SCHED_START], np.int64)
        # the local Poisson sources (kernel poisson_sources: one thread each) and their segments
        src = self.gids[plan.pop_i[plan.pop_of[self.gids], bp.PI_MODEL] == MODEL_CODES["poisson_source"]]
        self.n_src = int(src.size)
        self.d_src_gids = up(src, np.int64)
        self.d_ps_seg = up(plan.ps_seg, np.int64)
        n = self.n_local
        self.v = up(initial_state(plan, self.gids), np.float64)
        self.i_ex = up(initial_currents(plan, self.gids), np.float64)   # 0, but izhikevich's u
        self.i_in = d.zeros(n, np.float64)
        self.dj_ex = d.zeros(n, np.float64)   # the alpha models' current or conductance derivatives;
        # the AdEx models: w (pA) here and their solver's step size (ms; 0: not yet chosen) in dj_in
        self.dj_in = d.zeros(n, np.float64)
        self.refr = d.zeros(n, np.int64)
        self.vth = up(thresholds(plan, self.gids), np.float64)   # V_th - E_L (mV) per neuron, as the CPU's
        # izhikevich's a, b, c, d per neuron (one row of zeros stands for none: no kernel reads it then)
        izp = izhikevich_parameters(plan, self.gids)
        self.izp = up(izp if izp.size else np.zeros((1, 4)), np.float64)
        # I_e given per neuron (pA, 0 for others; one entry stands for none: no kernel reads it then)
        given = given_currents(plan, self.gids)
        self.ie_given = up(given if given.size and (plan.noise_i[:, bp.NZ_KIND] == bp.NZ_GIVEN).any() else np.zeros(1),
                           np.float64)
        # the rows of neurons with parameters per neuron (build.param_rows; one row of zeros stands
        # for none: no kernel reads it then)
        nrow, nf = neuron_rows(plan, self.gids)
        self.nrow = up(nrow if nrow.size else np.zeros(1, dtype=np.int64), np.int64)
        self.nf = up(nf if nf.size else np.zeros((1, bp.N_PF)), np.float64)
        self.ring = d.zeros(ring_entries(plan, self.units), self.ring_dtype)
        self.spk_gid = d.zeros(self.spk_cap, np.int64)
        self.spk_step = d.zeros(self.spk_cap, np.int64)
        self.spk_pop = d.zeros(self.spk_cap, np.int32)   # their populations, for delivery
        self.state = d.zeros(layout.N_ST, np.uint64)
        self.delivery_grid(DELIVER_BLOCKS_PER_SM)
        self.n_rec = int(self.vrec_gids.size)
        self.d_rec_local = up(self.vrec_local, np.int64)
        self.d_rec_code = up(self.vrec_code, np.int32)
        self.d_vrec = d.zeros(max(self.block_steps * self.n_rec, 1), np.float64)
        self._reset_state()
        # what a flush copies back (kernel pack_spikes): the step state and the spikes as words
        self.d_flush = d.zeros(layout.N_ST + self.spk_cap, np.uint64)
        self._flush_copy = min(FLUSH_COPY_MIN, self.spk_cap)   # spikes a flush copies back
        # received spikes, in one copy from the host (deliver): their bounds, gids, steps and
        # populations (int32, two to a word)
        self.remote = d.zeros(remote_words(1024), np.uint64)
        self._remote_host = np.zeros(self.remote.size, np.uint64)
        self.d_no_rows = d.zeros(1, np.int64)   # deliver_stored's row_of for the rules' CSR (unread: by_row 0)
        efficacies.build(self)   # short-term plasticity's arrays (stand-ins without it)
        stdp.build(self, self.history_capacity)   # and STDP's
        if self.connectivity == "stored":
            self._build_stored()
        lists.build(self)   # the synapse lists' CSR and items
        self.use(device_setup(self))
        d.synchronize()
        return self

    def stp_state(self):
        """Host copies of short-term plasticity's state: u, x, last stamp (efficacies.state)."""
        return efficacies.state(self)

    def set_stp_state(self, u, x, last):
        """Set short-term plasticity's state from host arrays (stp_state's)."""
        efficacies.set_state(self, u, x, last)

    def _build_stored(self):
        """The CSR on the device: cell lengths, their scan into row pointers, then the rows
        (the same arrays as the CPU engine's build_stored)."""
        d, plan = self.dev, self.plan
        U = self.units.shape[0]
        n_cells = plan.n_neurons * U
        self._check_fits("stored connectivity row pointers", 16 * n_cells + 8)
        lens = d.zeros(max(n_cells, 1), np.int64)
        common = (n_cells, U, self.d_units, self.d_pop_of, self.d_pop_i, self.d_in_proj, self.d_proj_f,
                  self.d_proj_i, self.d_counts, plan.chunk_size, plan.key0, plan.key1, plan.dt, 1.0 / plan.dt)
        grid = min(self.grid_for(n_cells), 64 * d.multiprocessors)
        d.launch("stored_lengths", grid, d.block_threads, (*common, lens))
        self.d_ptr = d.zeros(n_cells + 1, np.int64)
        d.xp.cumsum(lens[:n_cells], out=self.d_ptr[1:])
        del lens
        total = int(d.to_host(self.d_ptr[n_cells:])[0])
        self._check_fits(f"stored connectivity ({total} synapses)", total * csr_bytes_per_synapse(plan))
        self.d_syn_loc = d.zeros(max(total, 1), np.int32)
        self.d_syn_w = d.zeros(max(total, 1), self.ring_dtype)
        self.d_syn_d = d.zeros(max(total, 1), np.int32)
        d.launch(self.entry_point("stored_fill"), grid, d.block_threads,
                 (*common, self.d_ptr, self.d_syn_loc, self.d_syn_w, self.d_syn_d))
        codes = long_term.syn_codes(plan.proj_stp, plan.proj_stdp)
        if long_term.coded(codes):   # each synapse's plasticity code (deliver_stored's syn_q)
            self.d_syn_q = d.zeros(max(total, 1), np.int16)
            d.launch("stored_groups", grid, d.block_threads, (*common, self.d_ptr, d.to_device(codes, np.int64),
                                                              self.d_syn_q))
            self.has_syn_q = True
            stdp.initial_weights(self, grid, total)
        self.n_synapses = total

    def grid_for(self, n_threads):
        return max(1, math.ceil(n_threads / self.dev.block_threads))

    # run -------------------------------------------------------------------------------
    def _enqueue(self, n):
        """Enqueue n steps, the first of parity 0 (_reset_state), with the current setup."""
        self._current.enqueue(n, GRAPH_STEPS)
        self._enqueued = n

    def _reset_state(self):
        self.dev.copy_to(self.state, np.array(layout.initial_state(self.t, self.per_step, self.spk_cap,
                                                                   self.block_steps), dtype=np.uint64))

    def _flush(self):
        """Wait for the enqueued steps; return (steps that ran, their spikes sorted by
        (step, gid), their recorded rows) and reset the buffers.

        One copy from the device (kernel pack_spikes: the step state and the spikes as words,
        as many as the copy's size, _flush_copy, holds) and none to it (kernel reset_state
        starts the next block on the device), plus the recorded rows where state is recorded.
        More spikes than the copy holds take one more copy, of the rest of d_flush. The next
        copy is sized for twice this block's spikes."""
        d = self.dev
        slot = self._enqueued & 1   # the slot of the step after the last one enqueued
        n_copy = self._flush_copy
        d.launch("pack_spikes", min(self.grid_for(layout.N_ST + n_copy), FLUSH_GRID), d.block_threads,
                 (self.state, self.spk_gid, self.spk_step, self.spk_cap, self.d_flush))
        d.launch("reset_state", 1, 1, (self.state, slot))
        words = d.to_host(self.d_flush[:layout.N_ST + n_copy])   # waits for the steps
        state = words[:layout.N_ST]
        if state[layout.ST_BAD] != layout.NO_BAD:
            key = int(state[layout.ST_BAD])
            raise instability_error(self.plan, key & 0xFFFFFFFF, key >> 32)
        if state[layout.ST_FULL]:   # an STDP history ring filled: the steps after it were skipped
            stdp.make_room(self)
        t_now = int(state[layout.ST_T + layout.ST_SLOT * slot])
        ran = t_now - self.t
        end = int(state[layout.ST_END])
        if end > self.spk_cap or not 0 <= ran <= self.block_steps or int(state[layout.ST_T0]) != self.t:
            raise RuntimeError(f"device step state is inconsistent (T {t_now} after {self.t}, "
                               f"{end} spikes for {self.spk_cap}); this is a bug")
        packed = words[layout.N_ST:layout.N_ST + min(end, n_copy)]
        if end > n_copy:
            packed = np.concatenate([packed, d.to_host(self.d_flush[layout.N_ST + n_copy:layout.N_ST + end])])
        g = (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
        s = (packed >> np.uint64(32)).astype(np.int64) + self.t
        twice = 1 << (2 * end - 1).bit_length() if end else 1
        self._flush_copy = min(max(FLUSH_COPY_MIN, twice), self.spk_cap)
        order = np.lexsort((g, s))
        vrows = d.to_host(self.d_vrec[:ran * self.n_rec]).reshape(ran, self.n_rec) if self.n_rec else None
        self.t += ran
        return ran, g[order], s[order], vrows

    def run(self, n_steps, out_gid, out_step, n_out, vrec_out, ex_gid=None, ex_step=None, n_ex=0):
        """Advance up to n_steps; returns (steps done, spikes now in out_*[, spikes in ex_*]).

        Returns early when the spikes of the steps run so far do not fit out_* (or ex_*):
        they are kept and written first by the next call, with larger buffers.
        """
        exchange = ex_gid is not None
        rec = self.plan.spike_rec
        done = 0
        while done < n_steps:
            if self._pending is None:
                n = min(self.block_steps, n_steps - done)
                with self._watched(n):
                    self._pending = self._block(n)
            ran, g, s, vrows = self._pending
            if ran > n_steps - done:
                raise RuntimeError("pending steps exceed the steps asked for; this is a bug")
            keep = rec[g].astype(bool)
            k = int(keep.sum())
            if n_out + k > out_gid.size or (exchange and n_ex + g.size > ex_gid.size):
                break
            self._pending = None
            if exchange:
                ex_gid[n_ex:n_ex + g.size] = g
                ex_step[n_ex:n_ex + g.size] = s
                n_ex += g.size
            out_gid[n_out:n_out + k] = g[keep]
            out_step[n_out:n_out + k] = s[keep]
            n_out += k
            if vrows is not None:
                vrec_out[done:done + ran] = vrows
            done += ran
        return (done, n_out, n_ex) if exchange else (done, n_out)

    def _watched(self, n):
        """The watchdog's watch over a block of up to n steps (none without a watchdog)."""
        if self.watchdog is None:
            return nullcontext()
        return self.watchdog.watch(f"a block of up to {n} step{'s' if n != 1 else ''} from step {self.t}")

    # state (checkpoints) ----------------------------------------------------------------
    def read_state(self, lo, hi):
        """Host copies of the state of local neurons lo..hi-1 (see CpuSimulator.read_state)."""
        if self._pending is not None:
            raise RuntimeError("read_state with flushed steps not yet handed over; this is a bug")
        d = self.dev
        out = {name: d.to_host(getattr(self, name)[lo:hi]) for name in bp.NEURON_STATE}
        out["ring"] = read_arrival(self.plan, self.units, self._ring_block, self.t, lo, hi, self.ring_dtype)
        return out

    def write_state(self, lo, hi, state):
        """Set the state of local neurons lo..hi-1 on the device (the arrays of read_state, the
        ring's arrival order relative to self.t: call start_at first on a restart)."""
        d = self.dev
        for name in bp.NEURON_STATE:
            d.assign(getattr(self, name)[lo:hi], state[name])
        write_arrival(self.plan, self.units, self._ring_block, self._store_ring_block, self.t, lo, hi, state["ring"])

    def _ring_block(self, a, b):
        """Host copy of ring[a:b] (build.ring_layout's reads)."""
        return self.dev.to_host(self.ring[a:b])

    def _store_ring_block(self, a, values):
        self.dev.assign(self.ring[a:a + values.size], values)

    def start_at(self, step):
        """Make `step` the next step to run (a restart): the device's step counter moves
        there; the spike-source cursors skip the schedule entries before it."""
        self.t = int(step)
        self.dev.copy_to(self.d_cursor, self.units[:, bp.UI_SCHED_START])
        self._reset_state()

    def deliver(self, spk_gid, spk_step):
        """Deliver spikes of other ranks (absolute emission steps) to the local neurons."""
        n = int(spk_gid.size)
        if n == 0 or not self.units.shape[0]:
            return
        d = self.dev
        words = remote_words(n)
        if words > self.remote.size:
            size = remote_words(1 << (n - 1).bit_length())
            self.remote = d.zeros(size, np.uint64)
            self._remote_host = np.zeros(size, np.uint64)
        # one copy: [0, n), the gids, the steps, the populations
        host = self._remote_host
        gid = np.ascontiguousarray(spk_gid, dtype=np.int64)
        if self.n_groups or self.n_stdp:   # in step order: each step's efficacies (STDP: delivery) one launch
            order = np.lexsort((gid, spk_step))
            gid, spk_step = gid[order], np.asarray(spk_step)[order]
        host[0], host[1] = 0, n
        host[2:2 + n] = gid.view(np.uint64)
        host[2 + n:2 + 2 * n] = np.ascontiguousarray(spk_step, dtype=np.int64).view(np.uint64)
        host[2 + 2 * n:words].view(np.int32)[:n] = self.plan.pop_of[gid]
        d.copy_to(self.remote[:words], host[:words])
        if self.n_groups:
            efficacies.remote(self, np.asarray(spk_step), n)
        if self.n_stdp:
            return stdp.remote(self, np.asarray(spk_step), n)
        for kernel, args in self.remote_deliveries(n):
            d.launch(kernel, self.deliver_grid, d.block_threads, args)

    def remote_spikes(self, n):
        """Views of the gids, steps and populations of the n received spikes in `remote`."""
        r, words = self.remote, remote_words(n)
        return r[2:2 + n].view(np.int64), r[2 + n:2 + 2 * n].view(np.int64), r[2 + 2 * n:words].view(np.int32)

    def remote_deliveries(self, n, lo=None, hi=None, eff=None, pre=None):
        """(kernel, args) of the delivery of the n received spikes that `deliver` uploaded into
        `remote` (remote_spikes), [lo[0], hi[0]) of them (default all: remote's bounds), with
        efficacies eff (default d_eff_remote) and STDP's states pre (stdp.remote)."""
        r = self.remote
        return launches.deliveries(self, self._current, r[0:] if lo is None else lo, r[1:] if hi is None else hi, -1,
                                   *self.remote_spikes(n), eff=self.d_eff_remote if eff is None else eff, pre=pre)

    @property
    def events(self):
        """Synaptic events delivered so far (the sum of the per-team device counters)."""
        return int(self.dev.to_host(self.d_events).sum(dtype=np.uint64))
