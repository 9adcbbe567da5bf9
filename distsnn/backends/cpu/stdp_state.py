"""The CPU engine's STDP state (build.long_term; kernels in stdp_kernels): the presynaptic
traces of every group's source neurons, the spike histories of the local target neurons,
and the stored synapses' weights as numbers (the CSR's fixed-point weights are their initial
values; an STDP synapse sends its current weight rounded to the same grid)."""
import numpy as np
from numba import prange

from ...build import long_term as lt
from ...build import plan as bp
from .jit import kernel
from .stdp_kernels import drop_unneeded, oldest_needed, stdp_pre_state

HISTORY_START = 32   # entries of a target's history ring at first (doubled when more are kept)
# a plastic synapse as RunResult holds it: gids (< 2**32: Network.validate), delay (steps), the
# weight (pA, nS or mV), its receptor (0 excitatory, 1 inhibitory) and STDP group (plan.stdp_f's
# row); packed, 23 B, as a run's table of them can be large (the microcircuit's E->E: 2.6e8)
PLASTIC_SYNAPSE = np.dtype([("source", np.uint32), ("target", np.uint32), ("delay", np.int32), ("weight", np.float64),
                            ("receptor", np.int8), ("group", np.int16)])


@kernel(parallel=True)
def initial_weights(units, ptr, syn_loc, syn_w, syn_code, inv_scales, syn_wf):
    """syn_wf[x] = the weight (pA, nS or mV) of each STDP synapse of a CSR: its fixed-point
    weight times 2**-k of its target population and receptor (exact: a power of two)."""
    U = units.shape[0]
    rows = (ptr.size - 1) // max(U, 1)
    for u in prange(U):
        k = units[u, bp.UI_POP]
        for r in range(rows):
            cell = r * U + u
            for x in range(ptr[cell], ptr[cell + 1]):
                if syn_code[x] <= lt.STDP_CODE0:
                    syn_wf[x] = np.float64(syn_w[x]) * inv_scales[k, syn_loc[x] & 1]


@kernel
def plastic_table(units, row_gid, ptr, syn_loc, syn_d, syn_code, syn_wf, out):
    """Write a CSR's STDP synapses, in CSR order, into `out` (PLASTIC_SYNAPSE records): no
    temporary the size of the synapses."""
    U = units.shape[0]
    rows = (ptr.size - 1) // max(U, 1)
    n = 0
    for r in range(rows):
        g = row_gid[r] if row_gid.size else r
        for u in range(U):
            cell = r * U + u
            for x in range(ptr[cell], ptr[cell + 1]):
                code = syn_code[x]
                if code > lt.STDP_CODE0:
                    continue
                out[n].source = g
                out[n].target = units[u, bp.UI_GID_START] + (syn_loc[x] >> 1)
                out[n].delay = syn_d[x]
                out[n].weight = syn_wf[x]
                out[n].receptor = syn_loc[x] & 1
                out[n].group = lt.STDP_CODE0 - code
                n += 1


class StdpState:
    """What the CPU engine keeps for STDP for its `units` (n_local neurons; per_step: the most
    spikes of one step), all arrays empty, of the kernels' types, where the plan has none.
    `capacity`: the history rings' first length, a power of two (tests give a small one to
    exercise the growth)."""

    def __init__(self, plan, units, n_local, per_step, capacity=HISTORY_START):
        self.plan, self.units = plan, units
        self.on = lt.has_stdp(plan)
        G = plan.stdp_i.shape[0] if self.on else 0
        self.stdp_f = plan.stdp_f if self.on else np.zeros((0, lt.N_LF))
        self.stdp_i = plan.stdp_i if self.on else np.zeros((0, lt.N_LI), dtype=np.int64)
        self.kplus, self.tlast = lt.initial_state(plan)
        self.tics = int(plan.stdp_tics) if self.on else 0
        self.ms_per_step = self.tics / lt.TICS_PER_MS
        self.pre_k = np.zeros((max(per_step, 1), G))
        self.pre_t = np.zeros((max(per_step, 1), G))
        # tau_minus of each population's neurons where they keep a history (0: none)
        self.tau_minus = plan.stdp_tau_minus if self.on else np.zeros(0)
        if capacity < 1 or capacity & (capacity - 1):   # the kernels index the rings by a mask
            raise ValueError(f"STDP history rings need a length that is a power of two, got {capacity}")
        C = capacity if self.on else 0
        rows = n_local if self.on else 0
        self.hist_t = np.zeros((rows, C))
        self.hist_k = np.zeros((rows, C))
        self.hist_h = np.zeros(rows, dtype=np.int64)
        self.hist_n = np.zeros(rows, dtype=np.int64)
        self.full = np.zeros(1, dtype=np.int64)   # set by run_block when a history ring filled
        # each target's last K- and the time it was taken at (stdp_kernels.stdp_weight; NaN: none)
        self.km_t, self.km_v = np.full(rows, np.nan), np.zeros(rows)
        self.scales = 2.0 ** plan.scale_exp.astype(np.float64) if self.on else np.zeros((0, 2))
        self.trims = self.grows = 0

    def args(self, pre_k=None, pre_t=None):
        """The tuple deliver_stored takes (its `stdp`), with these presynaptic states."""
        return (self.stdp_f, self.pre_k if pre_k is None else pre_k, self.pre_t if pre_t is None else pre_t,
                self.hist_t, self.hist_k, self.hist_h, self.hist_n, self.scales, self.tics, self.km_t, self.km_v)

    def weights_of(self, units, ptr, syn_loc, syn_w, syn_code):
        """The number weights of a CSR's synapses (zeros but for STDP synapses; empty without STDP)."""
        if not self.on or not syn_code.size:
            return np.zeros(0)
        wf = np.zeros(syn_code.size)
        initial_weights(units, ptr, syn_loc, syn_w, syn_code, 2.0 ** -self.plan.scale_exp.astype(np.float64), wf)
        return wf

    def synapses(self, units, row_gid, ptr, syn_loc, syn_d, syn_code, syn_wf):
        """(source gid, target gid, delay steps, weight, receptor, group) of a CSR's STDP
        synapses (row r's source gid r, or row_gid[r]), as a structured array (PLASTIC_SYNAPSE)."""
        if not self.on or not syn_code.size:
            return np.zeros(0, dtype=PLASTIC_SYNAPSE)
        out = np.zeros(int(np.count_nonzero(syn_code <= lt.STDP_CODE0)), dtype=PLASTIC_SYNAPSE)
        plastic_table(units, row_gid, ptr, syn_loc, syn_d, syn_code, syn_wf, out)
        return out

    def histories(self):
        """Each local neuron's history, oldest first: (counts (n_local,), times (ms), K-)."""
        C = self.hist_t.shape[1]
        n = self.hist_n
        rows = np.repeat(np.arange(n.size), n)
        cols = (self.hist_h[rows] + np.arange(rows.size) - np.repeat(np.cumsum(n) - n, n)) % max(C, 1)
        return n.copy(), self.hist_t[rows, cols], self.hist_k[rows, cols]

    def set_histories(self, n, times, kminus):
        """Set the local neurons' histories (histories' arrays), the rings long enough for them."""
        C = self.hist_t.shape[1]
        while 2 * int(n.max(initial=0)) > C:
            C *= 2
        self.hist_t, self.hist_k = np.zeros((n.size, C)), np.zeros((n.size, C))
        rows = np.repeat(np.arange(n.size), n)
        cols = np.arange(rows.size) - np.repeat(np.cumsum(n) - n, n)
        self.hist_t[rows, cols], self.hist_k[rows, cols] = times, kminus
        self.hist_h[:] = 0
        self.hist_n[:] = n
        self.km_t[:] = np.nan   # histories of elsewhere: their K- are taken anew

    def pre_states(self, spk_gid, spk_step):
        """The presynaptic states of a batch of received spikes (before each), the state
        updated past them: the (pre_k, pre_t) to deliver them with."""
        G = self.stdp_i.shape[0]
        pre_k, pre_t = np.zeros((spk_gid.size, G)), np.zeros((spk_gid.size, G))
        if G and spk_gid.size:
            stdp_pre_state(spk_gid, spk_step, spk_gid.size, self.stdp_i, self.stdp_f, self.kplus, self.tlast,
                           self.tics, pre_k, pre_t)
        return pre_k, pre_t

    def make_room(self, csrs):
        """After run_block stopped on a full history ring: drop the entries no synapse will read
        (csrs: CpuSimulator.stdp_csrs), and double the rings where one is still more than half
        full."""
        need = np.full(self.hist_n.size, np.inf)
        for row_gid, ptr, loc, d, code, _ in csrs:
            if code.size:
                oldest_needed(self.units, row_gid, ptr, loc, d, code, self.stdp_i, self.tlast, self.ms_per_step, need)
        drop_unneeded(need, self.hist_t, self.hist_h, self.hist_n)
        self.trims += 1
        C = self.hist_t.shape[1]
        if self.hist_n.size and 2 * int(self.hist_n.max()) > C:
            self.hist_t, self.hist_k = grown_ring(self.hist_t, self.hist_h), grown_ring(self.hist_k, self.hist_h)
            self.hist_h[:] = 0
            self.grows += 1
        self.full[0] = 0


def grown_ring(ring, h):
    """Rings (n, C, ...) unrolled into rings twice as long, each row's oldest entry (column h[i])
    first: the growth of make_room, and of the GPU engine's (backends.gpu.stdp)."""
    n, C = ring.shape[:2]
    cols = (h[:, None] + np.arange(C)[None, :]) % C
    out = np.zeros((n, 2 * C) + ring.shape[2:])
    out[:, :C] = ring[np.arange(n)[:, None], cols]
    return out


@kernel
def unit_weights(u, U, ptr, syn_code, syn_wf, values, load):
    """The STDP weights of local unit u's cells of a CSR (U units), in a partition-free order:
    rows ascending (source gids; the lists' rows are their sorted sources), each cell's
    synapses as the build placed them (which depends on the unit's population and chunk
    only). load False: copy them into `values` (sized by a call with an empty one); True:
    set them from it. Returns how many there are (checkpoints: io.checkpoint)."""
    rows = (ptr.size - 1) // max(U, 1)
    n = 0
    for r in range(rows):
        cell = r * U + u
        for x in range(ptr[cell], ptr[cell + 1]):
            if syn_code[x] <= lt.STDP_CODE0:
                if load:
                    syn_wf[x] = values[n]
                elif values.size:
                    values[n] = syn_wf[x]
                n += 1
    return n
