"""CPU backend: builds per-row counts (and the CSR in stored mode) and runs steps with numba."""
import numpy as np
from numba import get_num_threads

from ...build import plan as bp
from ...build.count_layout import NARROW_MAX, cells_of, counted, require_counts_of, widen
from ...build.input_bound import decide_ring_bits
from ...build.neuron_values import initial_currents, initial_state, izhikevich_parameters, thresholds
from ...build.param_rows import neuron_rows
from ...build.ring_layout import local_units, read_arrival, ring_entries, write_arrival
from ...build import long_term, short_term
from ...build.spike_schedule import schedule_extra
from ...build.synapse_lists import list_bytes, list_csr
from ...connectivity.reference import count_tag
from ...model.rkf45 import instability_error
from .connectivity_kernels import counts_fixed_indegree, counts_fixed_outdegree, counts_fixed_total, stored_rows
from .delivery_kernels import deliver_procedural, deliver_stored
from .jit import kernel
from .neuron_kernels import poisson_input, poisson_sources, update_neurons
from .noise_kernels import fill_given_currents, held_layout
from .sizes import check_fits, csr_bytes_per_synapse, scratch_bytes, state_bytes
from .stdp_kernels import record_histories, stdp_pre_state
from . import stdp_state
from .stdp_state import StdpState
from .stp_kernels import stp_efficacies

CONNECTIVITY_MODES = ("procedural", "stored")


NO_ROWS = np.zeros(0, dtype=np.int64)   # deliver_stored's row_of for the rules' CSR: a row per gid


def ring_dtype(plan):
    """NumPy dtype of the input ring buffers (and of stored fixed-point weights)."""
    return np.int32 if plan.ring_bits == 32 else np.int64


def counted_projections(plan):
    """(projection, rule, offset in the counts array, cells, whether they are uint32, counting
    arguments) of every projection whose rows have drawn lengths, in this process's layout
    (build.count_layout); the arguments are those of the counts kernels (CPU and GPU): (n,
    pre size, post size, first chunk held, chunks held, chunk size, count tag, key0, key1)."""
    for j in counted(plan):
        pi = plan.proj_i[j]
        cols = int(pi[bp.JI_COUNT_COLS])
        args = (int(pi[bp.JI_N]), int(pi[bp.JI_PRE_SIZE]), int(pi[bp.JI_POST_SIZE]), int(pi[bp.JI_COUNT_COL0]), cols,
                plan.chunk_size, count_tag(int(pi[bp.JI_TAG])), plan.key0, plan.key1)
        rule = int(pi[bp.JI_RULE])
        yield (int(j), rule, int(pi[bp.JI_COUNT_OFF]), bp.count_cells(rule, int(pi[bp.JI_PRE_SIZE]), cols),
               bool(pi[bp.JI_COUNT_WIDE]), args)


def compute_counts(plan):
    """Per (pre, chunk) synapse counts of every counted projection for the chunks of plan's
    counts layout (build.count_layout): uint32 words, a projection's cells uint16 or uint32 as
    the layout says. A projection whose cells turn out not to fit 16 bits is widened (the
    layout changes) and everything counted again."""
    while True:
        words = np.zeros(max(plan.info["count_words"], 1), dtype=np.uint32)
        over = []
        for j, rule, off, cells, wide, args in counted_projections(plan):
            if not cells:
                continue
            if rule == bp.RULE_FTN:
                got = counts_fixed_total(*args, get_num_threads())
            elif rule == bp.RULE_FIN:
                got = counts_fixed_indegree(*args)
            else:
                got = counts_fixed_outdegree(*args)
            if wide:
                words[off:off + cells] = got
            elif got.max() > NARROW_MAX:
                over.append(j)
            else:
                words.view(np.uint16)[off:off + cells] = got
        if not over:
            return words
        widen(plan, over)


def max_row_length(plan, counts):
    """Longest row any projection can generate (sizes the per-unit scratch buffers)."""
    longest = 1
    for j in range(plan.proj_i.shape[0]):
        pi = plan.proj_i[j]
        if pi[bp.JI_COUNT_OFF] >= 0:
            cells = cells_of(plan, counts, j).astype(np.int64)
            if pi[bp.JI_RULE] == bp.RULE_FIN:   # running sums: row lengths are their differences
                cells = np.diff(cells, axis=0)
            if cells.size:
                longest = max(longest, int(cells.max()))
        elif pi[bp.JI_RULE] != bp.RULE_O2O:
            longest = max(longest, min(plan.chunk_size, int(pi[bp.JI_POST_SIZE])))
    return longest


def local_view(plan, owned=None):
    """What one process simulates: its units (owned: boolean mask over plan.units, default
    all), their neurons' gids, and the state probes (plan.vrec_*) of those neurons: their
    indices into the plan's probes and their neurons' local indices."""
    owned = np.ones(plan.units.shape[0], dtype=bool) if owned is None else np.asarray(owned, dtype=bool)
    units, gids = local_units(plan, owned)
    local_of = np.full(plan.n_neurons, -1, dtype=np.int64)
    local_of[gids] = np.arange(gids.size)
    probes = np.nonzero(local_of[plan.vrec_gids] >= 0)[0]
    return units, gids, probes, local_of[plan.vrec_gids[probes]]


class RecordedState:
    """What a simulator records of the state: the probes of its own neurons (local_view), as
    the gid, variable (index into plan.vrec_names) and state code of each; mixed into both engines."""

    def _set_probes(self, plan, probes, local):
        self.vrec_gids = plan.vrec_gids[probes]
        self.vrec_var = plan.vrec_var[probes]
        self.vrec_code = plan.vrec_code[probes]
        self.vrec_local = local


def build_stored(plan, units, counts, log, scratch=None):
    """The stored connectivity of `units` as CSR cells (source gid, unit): (ptr, syn_loc,
    syn_w, syn_d, syn_q); syn_loc = chunk-local target * 2 + receptor, syn_d in steps, syn_q
    the plasticity code (int16, build.long_term.syn_codes; empty where no projection is plastic)."""
    U = max(units.shape[0], 1)
    if scratch is None:
        width = max_row_length(plan, counts)
        scratch = tuple(np.zeros((U, width), dtype=np.int64) for _ in range(3))
    args = (units, plan.pop_i, plan.in_proj, plan.proj_f, plan.proj_i, counts, plan.chunk_size,
            plan.key0, plan.key1, plan.dt, *scratch)
    lens = np.zeros(plan.n_neurons * units.shape[0], dtype=np.int64)
    none32 = np.zeros(0, dtype=np.int32)
    none16 = np.zeros(0, dtype=np.int16)
    codes = long_term.syn_codes(plan.proj_stp, plan.proj_stdp)
    stored_rows(False, lens, *args, none32, np.zeros(0, dtype=ring_dtype(plan)), none32, codes, none16)
    ptr = np.zeros(lens.size + 1, dtype=np.int64)
    np.cumsum(lens, out=ptr[1:])
    total = int(ptr[-1])
    check_fits(f"stored connectivity ({total} synapses)", total * csr_bytes_per_synapse(plan), log)
    syn_loc = np.empty(total, dtype=np.int32)
    syn_w = np.empty(total, dtype=ring_dtype(plan))
    syn_d = np.empty(total, dtype=np.int32)
    syn_q = np.empty(total if long_term.coded(codes) else 0, dtype=np.int16)
    stored_rows(True, ptr[:-1].copy(), *args, syn_loc, syn_w, syn_d, codes, syn_q)
    return ptr, syn_loc, syn_w, syn_d, syn_q


def build_lists(plan, units, log):
    """The synapse lists (model FromList) onto `units` as their own CSR (build.synapse_lists:
    row_of, ptr, syn_loc, syn_w, syn_d, syn_q), delivered by deliver_stored in both connectivity
    modes; placeholders (ptr of one entry) without lists."""
    if not plan.lists:
        return (np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32),
                np.zeros(0, dtype=ring_dtype(plan)), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int16))
    check_fits("synapse lists", list_bytes(plan, units), log)
    return list_csr(plan, units, ring_dtype(plan))


@kernel
def state_value(code, i, v, i_ex, i_in, dj_ex):
    """The recorded state variable `code` (model.neurons.RECORDABLES) of local neuron i."""
    if code == 0:
        return v[i]
    if code == 1:
        return i_ex[i]
    if code == 2:
        return i_in[i]
    if code == 3:
        return dj_ex[i]
    return -i_in[i]


@kernel
def run_block(t0, n_steps, stored, v, i_ex, i_in, dj_ex, dj_in, refr, vth, izp, nrow, nf, ring, per_step, units, pop_f,
              pop_i, pin_i, pin_cdf, dc_f, dc_i, dc_seg_i, dc_seg_f, dc_mask, noise_f, noise_i, held, held_at, held_iv,
              stim, in_proj, proj_f, proj_i, counts, chunk_size, key0, key1, dt,
              sc_t, sc_w, sc_d, ptr, syn_loc, syn_w, syn_d, syn_q, lrow, lptr, lloc, lw, ld, lq,
              proj_stp, stp_f, stp_i, su, sx, slast, eff, spk_unit, spk_cnt, spk_gid, spk_step, pop_ptr,
              rec_flag, out_gid, out_step, n_out, vrec_local, vrec_code, vrec_out, events, noise_acc, noise_words,
              ex_gid, ex_step, n_ex, sched_step, sched_gid, sched_cursor, ps_seg, unit_bad,
              syn_wf, lwf, stdp_i, kplus, tlast, tau_minus, hist_full, stdp):
    """Run up to n_steps steps from t0; stop early if the spike output buffer could overflow,
    or (the step not counted) when a neuron was found numerically unstable (unit_bad).

    Each step's spikes of this process's neurons are delivered at once to its own neurons
    (the synapse lists' CSR lrow, lptr, lloc, lw, ld after the rules' synapses), their
    efficacies computed first where some projection has short-term plasticity (stp_i's
    groups; su, sx, slast their state; eff a row per spike);
    with ex_gid.size > 0 they are also appended to ex_gid / ex_step for the exchange with
    other ranks. STDP (stdp_i's groups; StdpState): the step's spikes of neurons that keep a
    history (tau_minus of their population > 0) join it first, and the spikes' presynaptic
    states are taken before delivery; a full history ring (hist_full) stops the block after
    the step, for the driver to make room. Returns (steps done, spikes in the output buffer,
    spikes in the exchange buffer).
    """
    U = units.shape[0]
    n_pops = pop_ptr.size - 1
    stdp_f, pre_k, pre_t, hist_t, hist_k, hist_h, hist_n, scales, tics, _, _ = stdp
    for i in range(n_steps):
        if n_out + per_step > out_gid.size or (ex_gid.size > 0 and n_ex + per_step > ex_gid.size) or hist_full[0]:
            return i, n_out, n_ex
        t = t0 + i
        poisson_input(t, units, pop_i, pin_i, pin_cdf, key0, key1, noise_acc, noise_words)
        update_neurons(t, v, i_ex, i_in, dj_ex, dj_in, refr, vth, izp, nrow, nf, ring, units, pop_f, pop_i, dc_f, dc_i,
                       dc_seg_i, dc_seg_f, dc_mask, noise_f, noise_i, key0, key1, held, held_at, held_iv, stim,
                       spk_unit, spk_cnt, noise_acc, sched_step, sched_gid, sched_cursor, unit_bad)
        if ps_seg.shape[0]:
            poisson_sources(t, units, pop_i, ps_seg, key0, key1, spk_unit, spk_cnt, noise_words)
        if unit_bad[:, 0].max() >= 0:
            return i, n_out, n_ex
        ns = 0
        pop_ptr[:] = 0
        for u in range(U):
            c = spk_cnt[u]
            pop_ptr[units[u, bp.UI_POP] + 1] += c
            for x in range(c):
                g = spk_unit[u, x]
                spk_gid[ns] = g
                spk_step[ns] = t
                ns += 1
                if ex_gid.size > 0:
                    ex_gid[n_ex] = g
                    ex_step[n_ex] = t
                    n_ex += 1
                if rec_flag[g]:
                    out_gid[n_out] = g
                    out_step[n_out] = t
                    n_out += 1
        for k in range(n_pops):
            pop_ptr[k + 1] += pop_ptr[k]
        if tau_minus.size:
            record_histories(t, units, spk_unit, spk_cnt, tau_minus, tics, hist_t, hist_k, hist_h, hist_n, hist_full)
        for r in range(vrec_local.size):
            vrec_out[i, r] = state_value(vrec_code[r], vrec_local[r], v, i_ex, i_in, dj_ex)
        if ns > 0:
            if stp_i.shape[0]:
                stp_efficacies(spk_gid, spk_step, ns, stp_f, stp_i, su, sx, slast, dt, eff)
            if stdp_i.shape[0]:
                stdp_pre_state(spk_gid, spk_step, ns, stdp_i, stdp_f, kplus, tlast, tics, pre_k, pre_t)
            if stored:
                deliver_stored(spk_gid, spk_step, ns, ring, units, pop_i, NO_ROWS, ptr, syn_loc, syn_w, syn_d, events,
                               syn_q, eff, syn_wf, stdp)
            else:
                deliver_procedural(spk_gid, spk_step, pop_ptr, ring, units, pop_i, in_proj, proj_f, proj_i,
                                   counts, chunk_size, key0, key1, dt, sc_t, sc_w, sc_d, events, proj_stp, eff)
            if lptr.size > 1:
                deliver_stored(spk_gid, spk_step, ns, ring, units, pop_i, lrow, lptr, lloc, lw, ld, events, lq, eff,
                               lwf, stdp)
    return n_steps, n_out, n_ex


@kernel
def population_pointers(spk_gid, pop_offsets):
    """pop_ptr[k]..pop_ptr[k+1]: the spikes (sorted by gid) of population k."""
    ptr = np.zeros(pop_offsets.size, dtype=np.int64)
    for k in range(pop_offsets.size):
        ptr[k] = np.searchsorted(spk_gid, pop_offsets[k])
    return ptr


class CpuSimulator(RecordedState):
    """Runs a BuildPlan on the CPU. connectivity: 'procedural' or 'stored'.

    owned: boolean mask over plan.units of the post chunks this process simulates (default
    all); state and buffers exist only for those neurons, and only rows landing on them are
    generated.
    """

    def __init__(self, plan, connectivity="procedural", log=None, owned=None):
        if connectivity not in CONNECTIVITY_MODES:
            raise ValueError(f"connectivity must be one of {CONNECTIVITY_MODES}, got {connectivity!r}")
        long_term.check_engine(plan, connectivity)
        self.plan = plan
        self.connectivity = connectivity
        self.log = log or (lambda msg: None)
        self.t = 0
        self.events = 0
        self.units, self.gids, probes, local = local_view(plan, owned)
        self._set_probes(plan, probes, local)
        self.n_local = int(self.gids.size)
        # the most spikes of one step: one per neuron, and a spike source's repeats (multiplicity)
        self.extra = schedule_extra(plan, self.units)
        self.per_step = self.n_local + int(self.extra.sum())
        self.output_capacity = max(4 * self.per_step, 1024)   # initial size of the caller's spike buffers
        self.history_capacity = stdp_state.HISTORY_START        # STDP: a target's history ring at first

    def memory_estimate(self):
        """Bytes of neuron state, input ring buffers, per-row counts and the scratch (the CSR
        comes on top). Before the counts exist, row buffers are taken to be a chunk long."""
        return sum(state_bytes(self.plan, self.units).values()) + scratch_bytes(self.plan, self.units,
                                                                                self.plan.chunk_size)

    def build(self):
        plan = self.plan
        n = self.n_local
        decide_ring_bits(plan)   # a no-op if make_plan did it
        require_counts_of(plan, self.units, "the CPU engine")
        parts = dict(state_bytes(plan, self.units), scratch=scratch_bytes(plan, self.units, plan.chunk_size))
        check_fits("neuron state, input buffers and row counts", self.memory_estimate(), self.log, parts)
        self.counts = plan.counts if plan.counts is not None else compute_counts(plan)
        U = self.units.shape[0]
        width = max_row_length(plan, self.counts)
        self.sc_t = np.zeros((max(U, 1), width), dtype=np.int64)
        # two row buffers of weights and of delays per unit: delivery scatters one row while it
        # generates the next (delivery_kernels.deliver_procedural)
        self.sc_w = np.zeros((max(U, 1), 2 * width), dtype=np.int64)
        self.sc_d = np.zeros((max(U, 1), 2 * width), dtype=np.int64)
        self.v = initial_state(plan, self.gids)
        self.i_ex = initial_currents(plan, self.gids)   # 0, but izhikevich's u
        self.i_in = np.zeros(n)
        self.dj_ex = np.zeros(n)   # the alpha models' derivatives (pA/ms; nS/ms); AdEx: w (pA)
        self.dj_in = np.zeros(n)   # ... and its solver's step size (ms; 0: not yet chosen)
        self.refr = np.zeros(n, dtype=np.int64)
        self.ring = np.zeros(ring_entries(plan, self.units), dtype=ring_dtype(plan))
        self.spk_unit = np.zeros((max(U, 1), plan.chunk_size + int(self.extra.max(initial=0))), dtype=np.int64)
        self.spk_cnt = np.zeros(max(U, 1), dtype=np.int64)
        self.spk_gid = np.zeros(max(self.per_step, 1), dtype=np.int64)
        self.spk_step = np.zeros(max(self.per_step, 1), dtype=np.int64)
        self.no_ex = np.zeros(0, dtype=np.int64)
        self.pop_ptr = np.zeros(plan.n_pops + 1, dtype=np.int64)
        self.unit_events = np.zeros(max(U, 1), dtype=np.int64)
        self.noise_acc = np.zeros((max(U, 1), 2, plan.chunk_size), dtype=np.int64)   # Poisson input per unit
        self.noise_words = np.zeros((max(U, 1), plan.chunk_size + 8), dtype=np.uint64)
        # injected current per neuron, for units with noise currents (noise_kernels.injected_current)
        self.stim = np.zeros((max(U, 1), plan.chunk_size))
        # noise currents held over their intervals (distributed I_e: over the whole run)
        self.held_at, held = held_layout(plan, self.units)
        self.held = np.zeros(held)
        self.held_iv = np.full(self.held_at.shape, -1, dtype=np.int64)
        fill_given_currents(plan, self.units, self.gids, self.held, self.held_at)
        self.vth = thresholds(plan, self.gids)            # V_th - E_L (mV) per neuron: drawn ones differ
        self.izp = izhikevich_parameters(plan, self.gids)   # izhikevich's a, b, c, d per neuron
        # the rows of neurons with parameters of their own, held as columns (N_PF, rows): the
        # update reads a constant of a unit's neurons from consecutive addresses
        self.nrow, rows = neuron_rows(plan, self.gids)
        self.nf = np.ascontiguousarray(rows.T)
        self.sched_cursor = self.units[:, bp.UI_SCHED_START].copy()
        self.unit_bad = np.full((max(U, 1), 2), -1, dtype=np.int64)   # (gid, step): AdEx instability
        if self.connectivity == "stored":
            self.ptr, self.syn_loc, self.syn_w, self.syn_d, self.syn_q = build_stored(
                plan, self.units, self.counts, self.log, (self.sc_t, self.sc_w, self.sc_d))
            self.n_synapses = int(self.ptr[-1])
        else:
            self.ptr = np.zeros(1, dtype=np.int64)
            self.syn_loc = np.zeros(0, dtype=np.int32)
            self.syn_w = np.zeros(0, dtype=ring_dtype(plan))
            self.syn_d = np.zeros(0, dtype=np.int32)
            self.syn_q = np.zeros(0, dtype=np.int16)
            self.n_synapses = None
        # short-term plasticity: u, x and the last spike's stamp of every group's source
        # neurons, local or not (build.short_term), and a row of efficacies per spike of a step
        self.stp_u, self.stp_x, self.stp_last = short_term.initial_state(plan)
        self.eff = np.zeros((max(self.per_step, 1), plan.stp_i.shape[0]))
        self.lists = build_lists(plan, self.units, self.log)
        # STDP: presynaptic traces, the local targets' spike histories, the synapses' weights
        self.stdp = StdpState(plan, self.units, n, self.per_step, self.history_capacity)
        self.syn_wf = self.stdp.weights_of(self.units, self.ptr, self.syn_loc, self.syn_w, self.syn_q)
        row_of, lptr, lloc, lw, _, lq = self.lists
        self.list_wf = self.stdp.weights_of(self.units, lptr, lloc, lw, lq)
        self.list_gid = np.nonzero(row_of >= 0)[0] if row_of.size else NO_ROWS   # each list row's source gid
        if self.n_synapses is not None:
            self.n_synapses += int(self.lists[1][-1])
        # compile (or load from cache) the step driver now, so the simulate phase times only
        # simulation: a zero-step call specialises run_block and all its kernels
        empty = np.zeros(1, dtype=np.int64)
        self.run(0, empty, empty, 0, np.zeros((0, self.vrec_gids.size)))
        self.deliver(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        return self

    def run(self, n_steps, out_gid, out_step, n_out, vrec_out, ex_gid=None, ex_step=None, n_ex=0):
        """Advance up to n_steps; returns (steps done, spikes now in out_*[, spikes in ex_*]).

        out_*: recorded spikes (gid, emission step); vrec_out: (n_steps, probes here), the
        recorded state (self.vrec_*) in its units, V relative to E_L; ex_*: optional buffers
        collecting every local spike for the exchange.
        """
        exchange = ex_gid is not None
        if not exchange:
            ex_gid = ex_step = self.no_ex
        done = 0
        while True:
            got, n_out, n_ex = self._run_block(n_steps - done, out_gid, out_step, n_out, vrec_out[done:], ex_gid,
                                               ex_step, n_ex)
            done += got
            if not self.stdp.full[0] or done == n_steps:
                break
            # a target's STDP history filled: drop what no synapse reads again, or grow
            self.stdp.make_room(self.stdp_csrs())
        return (done, n_out, n_ex) if exchange else (done, n_out)

    def stdp_csrs(self):
        """(row_gid, ptr, syn_loc, syn_d, syn_code, syn_wf) of the rules' CSR and the lists'
        (row r's source gid: r, or row_gid[r]): what STDP's trims, its table of synapses and
        checkpoints (io.checkpoint_stdp) walk."""
        _, lptr, lloc, _, ld, lq = self.lists
        return [(NO_ROWS, self.ptr, self.syn_loc, self.syn_d, self.syn_q, self.syn_wf),
                (self.list_gid, lptr, lloc, ld, lq, self.list_wf)]

    def stdp_host(self):
        """STDP's state (StdpState), the simulator's own: changes to it act."""
        return self.stdp

    def stdp_commit(self, st, csrs):
        """Nothing to do: stdp_host and stdp_csrs give the simulator's own arrays (a GPU's copies)."""

    def _run_block(self, n_steps, out_gid, out_step, n_out, vrec_out, ex_gid, ex_step, n_ex):
        plan = self.plan
        stdp = self.stdp
        done, n_out, n_ex = run_block(
            self.t, n_steps, self.connectivity == "stored", self.v, self.i_ex, self.i_in, self.dj_ex, self.dj_in,
            self.refr, self.vth, self.izp, self.nrow, self.nf, self.ring,
            self.per_step, self.units, plan.pop_f, plan.pop_i, plan.pin_i,
            plan.pin_cdf, plan.dc_f, plan.dc_i, plan.dc_seg_i, plan.dc_seg_f, plan.dc_mask, plan.noise_f,
            plan.noise_i, self.held, self.held_at, self.held_iv, self.stim, plan.in_proj,
            plan.proj_f, plan.proj_i, self.counts, plan.chunk_size,
            plan.key0, plan.key1, plan.dt, self.sc_t, self.sc_w, self.sc_d, self.ptr, self.syn_loc, self.syn_w,
            self.syn_d, self.syn_q, *self.lists, plan.proj_stp, plan.stp_f, plan.stp_i, self.stp_u, self.stp_x,
            self.stp_last, self.eff, self.spk_unit, self.spk_cnt, self.spk_gid, self.spk_step, self.pop_ptr,
            plan.spike_rec,
            out_gid, out_step, n_out, self.vrec_local, self.vrec_code, vrec_out, self.unit_events, self.noise_acc,
            self.noise_words, ex_gid, ex_step, n_ex, plan.sched_step, plan.sched_gid, self.sched_cursor, plan.ps_seg,
            self.unit_bad, self.syn_wf, self.list_wf, stdp.stdp_i, stdp.kplus, stdp.tlast, stdp.tau_minus, stdp.full,
            stdp.args())
        if self.unit_bad[:, 0].max() >= 0:
            u = int(np.argmax(self.unit_bad[:, 0] >= 0))
            raise instability_error(plan, int(self.unit_bad[u, 0]), int(self.unit_bad[u, 1]))
        self.t += done
        self.events = int(self.unit_events.sum())
        return done, n_out, n_ex

    # state (checkpoints) ----------------------------------------------------------------
    def read_state(self, lo, hi):
        """Copies of the dynamic state of local neurons lo..hi-1: V (mV relative to E_L),
        I_ex and I_in (pA; nS for conductance neurons), dJ_ex and dJ_in (pA/ms; nS/ms, alpha models),
        refractory steps left, and the ring buffers in arrival order, (ring_len, 2, hi - lo):
        [k, r, i] arrives at step self.t + k (build.ring_layout)."""
        out = {name: getattr(self, name)[lo:hi].copy() for name in bp.NEURON_STATE}
        out["ring"] = read_arrival(self.plan, self.units, self._ring_block, self.t, lo, hi, self.ring.dtype)
        return out

    def write_state(self, lo, hi, state):
        """Set the state of local neurons lo..hi-1 (the arrays of read_state, the ring's arrival
        order relative to self.t: call start_at first on a restart)."""
        for name in bp.NEURON_STATE:
            getattr(self, name)[lo:hi] = state[name]
        write_arrival(self.plan, self.units, self._ring_block, self._store_ring_block, self.t, lo, hi, state["ring"])

    def stp_state(self):
        """Short-term plasticity's state: u, x, last stamp (build.short_term; the arrays)."""
        return self.stp_u, self.stp_x, self.stp_last

    def set_stp_state(self, u, x, last):
        """Set short-term plasticity's state (arrays as stp_state's)."""
        self.stp_u[:], self.stp_x[:], self.stp_last[:] = u, x, last

    def plastic_synapses(self):
        """This process's STDP synapses with their weights now (StdpState.synapses; both CSRs)."""
        return np.concatenate([self.stdp.synapses(self.units, *csr) for csr in self.stdp_csrs()])

    def _ring_block(self, a, b):
        return self.ring[a:b]

    def _store_ring_block(self, a, values):
        self.ring[a:a + values.size] = values

    def start_at(self, step):
        """Make `step` the next step to run (a restart): Poisson input, DC windows and the
        spike-source schedules follow the absolute step; the cursors skip what lies before."""
        self.t = int(step)
        self.sched_cursor[:] = self.units[:, bp.UI_SCHED_START]

    def deliver(self, spk_gid, spk_step):
        """Deliver spikes of other ranks (sorted by gid, each neuron's in step order; absolute
        emission steps) to the local neurons."""
        plan = self.plan
        eff = np.zeros((spk_gid.size, plan.stp_i.shape[0]))
        if plan.stp_i.shape[0] and spk_gid.size:
            stp_efficacies(spk_gid, spk_step, spk_gid.size, plan.stp_f, plan.stp_i, self.stp_u, self.stp_x,
                           self.stp_last, plan.dt, eff)
        stdp = self.stdp.args(*self.stdp.pre_states(spk_gid, spk_step))
        if self.connectivity == "stored":
            deliver_stored(spk_gid, spk_step, spk_gid.size, self.ring, self.units, plan.pop_i, NO_ROWS,
                           self.ptr, self.syn_loc, self.syn_w, self.syn_d, self.unit_events, self.syn_q, eff,
                           self.syn_wf, stdp)
        else:
            pop_ptr = population_pointers(spk_gid, plan.pop_i[:, bp.PI_OFFSET].copy())
            pop_ptr = np.append(pop_ptr, spk_gid.size)
            deliver_procedural(spk_gid, spk_step, pop_ptr, self.ring, self.units, plan.pop_i, plan.in_proj,
                               plan.proj_f, plan.proj_i, self.counts, plan.chunk_size, plan.key0, plan.key1,
                               plan.dt, self.sc_t, self.sc_w, self.sc_d, self.unit_events, plan.proj_stp, eff)
        if self.lists[1].size > 1:
            row_of, ptr, loc, w, d, q = self.lists
            deliver_stored(spk_gid, spk_step, spk_gid.size, self.ring, self.units, plan.pop_i, row_of, ptr, loc, w, d,
                           self.unit_events, q, eff, self.list_wf, stdp)
        self.events = int(self.unit_events.sum())
