"""Synapses given as lists (model.connectors.FromList): their values, bounds and CSR.

A FromList projection is data, not a rule, so it takes no part in the rule tables (proj_i,
proj_f) and the procedural kernels never see it. Each engine holds the list synapses that
land on its own neurons in a CSR of their own, in stored connectivity's layout (cells
(source row, local unit), syn_loc = chunk-local target * 2 + receptor, a row for each
neuron with list synapses), and delivers them with the stored-delivery kernel after the
step's other delivery. Procedural and stored runs treat them alike and give the same
spikes; their memory is 16 B per synapse (12 B with int32 rings), 8 B per (source, local
unit) cell and 8 B per neuron (its row).

Weights and delays are the target model's units (pA, nS or mV) and ms, converted as the
rules convert theirs: fixed point floor(w * 2**k + 0.5), delay steps floor(d (1 / dt) + 0.5).
A Normal, Uniform or Exponential weight or delay, or a LogNormal weight, is drawn per
synapse: synapse i uses SYN counter (i lo, i hi, 0, projection id), whose words 1 to 3 give
its variates as every rule's do (rng.synapse_variates: the Box-Muller pair of words 1 and 2,
the cosine branch the weight's normal, the sine branch the delay's; a Uniform's or an
Exponential's own word or word 3),
clipped as the rules clip; a delay Normal(..., outside="redraw") drawn below its bound (dt,
or its low) is redrawn from the synapse's REDRAW chain (counter (i lo, i hi, 0),
rng.redraw), as the rules redraw theirs.
"""
import hashlib
from dataclasses import dataclass

import numpy as np

from . import plan as bp
from ..model.connectors import FromList
from ..model.distributions import Constant, Normal, Values
from ..rng import streams
from ..rng.philox import philox4x32
from ..rng.redraw import redrawn
from ..rng.synapse_variates import variates, weight_values
from .draw_bounds import draw_kinds, spread, table_mean
from .long_term import STDP_CODE0, coded, syn_codes

M32 = np.uint64(0xFFFFFFFF)


@dataclass
class SynapseList:
    """The synapses of one FromList projection: population-local pre and post ids, weights
    (the target model's unit; conductances >= 0, as connect() made them) and delays (steps)."""
    index: int            # the projection's place in network.projections
    pre_pop: int
    post_pop: int
    rec: int              # plan.REC_EX or plan.REC_IN
    pre: np.ndarray       # int64
    post: np.ndarray      # int64
    weight: np.ndarray    # float64
    delay: np.ndarray     # int64 steps, >= 1

    @property
    def n(self):
        return int(self.pre.size)

    def bound_term(self, n_post):
        """(the most synapses of this list onto one neuron, the largest |weight|): its term of
        the int64 scale's bound (fixed_point.choose_scale_exponent)."""
        return int(np.bincount(self.post, minlength=n_post).max()), float(np.abs(self.weight).max())

    def scale(self, plan):
        """Fixed-point units per unit of weight, 2**k of the list's target and receptor."""
        return 2.0 ** float(plan.scale_exp[self.post_pop, self.rec])

    def digest(self):
        """SHA-256 of everything that fixes the dynamics (pairs, weights, delays)."""
        h = hashlib.sha256(f"{self.pre_pop},{self.post_pop},{self.rec}".encode())
        for a in (self.pre, self.post, self.weight, self.delay):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.digest()


def reference_variates(pid, n, key0, key1, weight=Normal(0.0, 1.0), delay=Normal(0.0, 1.0)):
    """The variates (weight's, delay's) of synapses 0 .. n-1 of a list projection with this
    weight and delay (by default both Normal: the standard normal pair), NumPy specification;
    the build uses the numba kernel list_kernels.list_variates, tested equal."""
    k = np.arange(n, dtype=np.uint64)
    w = philox4x32(k & M32, k >> np.uint64(32), 0, streams.tag(streams.DOM_SYN, pid), key0, key1)
    return variates(w[1], w[2], w[3], draw_kinds(weight, delay), spread(weight), spread(delay))


def _per_synapse(value, z, n, weight):
    """Values of n synapses (float64) from their variates z: given (Values), a constant, or
    drawn: a weight by the specification's weight_values, as the rules' are (clipped to the
    sign of its mean, a LogNormal's exp, an Exponential's sign), a delay as the plan's
    mean + spread * z (an Exponential's low + beta z)."""
    if isinstance(value, Values):
        return value.values.astype(np.float64)
    if isinstance(value, Constant):
        return np.full(n, float(value.mean))
    if weight:
        return weight_values(z, table_mean(value), spread(value), draw_kinds(value, None))
    return table_mean(value) + spread(value) * z


def synapse_lists(network, index, key0, key1, dt):
    """A SynapseList for every FromList projection of `network`, in their order (index:
    population name -> number)."""
    out = []
    for i, pr in enumerate(network.projections):
        if not isinstance(pr.rule, FromList):
            continue
        n = pr.rule.n
        z0 = z1 = np.zeros(n)
        if not all(isinstance(v, (Constant, Values)) for v in (pr.weight, pr.delay)):   # something is drawn
            from ..backends.cpu.list_kernels import list_variates
            z0, z1 = np.empty(n), np.empty(n)
            list_variates(streams.tag(streams.DOM_SYN, pr.pid), key0, key1, float(draw_kinds(pr.weight, pr.delay)),
                          spread(pr.weight), spread(pr.delay), z0, z1)
        w = _per_synapse(pr.weight, z0, n, weight=True)
        d = _per_synapse(pr.delay, z1, n, weight=False)
        # the bound as the plan's rules take it (JF_DREDRAW * dt)
        bound = pr.delay.redraw_bound(f"list {pr.source}->{pr.target}", dt) * dt if isinstance(pr.delay, Normal) else 0
        low = np.flatnonzero(d < bound) if bound else []
        if len(low):   # a few percent of the synapses at most (a delay's mean is >= dt): NumPy will do
            k = low.astype(np.uint64)
            d[low] = redrawn(k & M32, k >> np.uint64(32), 0, streams.tag(streams.DOM_SYN, pr.pid), key0, key1,
                             pr.delay.mean, pr.delay.sd, bound)
        d = np.maximum(d, dt)
        rec = bp.REC_EX if pr.receptor == "excitatory" else bp.REC_IN
        out.append(SynapseList(i, index[pr.source], index[pr.target], rec,
                               np.asarray(pr.rule.pre, dtype=np.int64), np.asarray(pr.rule.post, dtype=np.int64),
                               w, np.floor(d * (1.0 / dt) + 0.5).astype(np.int64)))
    return out


def fixed_point(plan, sl):
    """The list's weights in its target's fixed point (plan.scale_exp), int64."""
    return np.floor(sl.weight * sl.scale(plan) + 0.5).astype(np.int64)


def input_maxima(plan, q):
    """(a_max, d_max), each (P, 2): per (target population, receptor), the largest sum over
    one neuron's list synapses of ceil(|w| * 2**q) (q: (P, 2) exponents, see
    input_bound.neuron_input_bounds), and the largest number of list synapses onto one
    neuron. Exact integers, summed in int64 over all neurons (not a rank's share)."""
    from ..backends.cpu.list_kernels import per_target_maxima
    a_max = np.zeros((plan.n_pops, 2), dtype=np.int64)
    d_max = np.zeros((plan.n_pops, 2), dtype=np.int64)
    for b in range(plan.n_pops):
        for r in range(2):
            mine = [sl for sl in plan.lists if sl.post_pop == b and sl.rec == r and sl.n]
            if not mine:
                continue
            post = np.concatenate([sl.post for sl in mine])
            mult = plan.info["multiplicity"]   # a spike source's repeats in one step deliver again
            units = np.concatenate([np.ceil(np.abs(sl.weight) * 2.0 ** int(q[b, r])).astype(np.int64)
                                    * int(mult[sl.pre_pop]) for sl in mine])
            a_max[b, r], d_max[b, r] = per_target_maxima(post, units, int(plan.pop_i[b, bp.PI_SIZE]))
    return a_max, d_max


def list_sources(plan):
    """The gids with list synapses, ascending: the rows of every process's list CSR."""
    mark = np.zeros(plan.n_neurons, dtype=bool)
    for sl in plan.lists:
        mark[sl.pre + int(plan.pop_i[sl.pre_pop, bp.PI_OFFSET])] = True
    return np.nonzero(mark)[0]


def list_bytes(plan, units):
    """Bytes of the list CSR of a process owning `units`, at most (all list synapses): 8 B per
    neuron (row_of), per (source, local unit) cell and per row pointer, and per synapse its
    location and delay (int32), weight (the ring's width) and, where some list is plastic,
    code (int16), and where some has STDP its weight as float64."""
    total = sum(sl.n for sl in plan.lists)
    cells = list_sources(plan).size * units.shape[0]
    codes = list_codes(plan)
    return 8 * (plan.n_neurons + cells + 1) + total * (8 + plan.ring_item_bytes + (2 if coded(codes) else 0)
                                                       + (8 if (codes <= STDP_CODE0).any() else 0))


def list_codes(plan):
    """The plasticity code of each list's synapses (build.long_term.syn_codes)."""
    none = np.full(len(plan.lists), -1, dtype=np.int64)
    return syn_codes(none if plan.list_stp is None else plan.list_stp, plan.list_stdp)


def list_csr(plan, units, dtype):
    """The list synapses onto the neurons of `units` (the rows of plan.units a process owns)
    as CSR cells (source row, local unit): (row_of int64, ptr int64, syn_loc int32, syn_w
    `dtype`, syn_d int32, syn_q int16: each synapse's plasticity code (build.long_term
    syn_codes), empty where no list is plastic), stored connectivity's arrays (backends.cpu.simulator.build_stored)
    but with rows for the lists' sources only: row_of[gid] is gid's row, -1 for a neuron
    without list synapses. So the pointers grow with the sources, not with all neurons."""
    from ..backends.cpu.list_kernels import list_cells, list_fill
    U = units.shape[0]
    C = plan.chunk_size
    sources = list_sources(plan)
    row_of = np.full(plan.n_neurons, -1, dtype=np.int64)
    row_of[sources] = np.arange(sources.size)
    n_cells = sources.size * U
    local = {(int(k), int(c)): u for u, (k, c) in enumerate(units[:, [bp.UI_POP, bp.UI_CHUNK]])}
    placed = []   # (list, the local unit of each chunk of its target population)
    for sl in plan.lists:
        nch = int(plan.pop_i[sl.post_pop, bp.PI_NCHUNK])
        placed.append((sl, np.array([local.get((sl.post_pop, c), -1) for c in range(nch)], dtype=np.int64)))
    ptr = np.zeros(n_cells + 1, dtype=np.int64)
    for sl, unit_of_chunk in placed:   # two passes, O(synapses): the cells' sizes, then the cells
        list_cells(sl.pre, sl.post, int(plan.pop_i[sl.pre_pop, bp.PI_OFFSET]), unit_of_chunk, C, row_of, U, ptr[1:])
    np.cumsum(ptr, out=ptr)
    total = int(ptr[-1])
    syn_loc, syn_w, syn_d = np.empty(total, np.int32), np.empty(total, dtype), np.empty(total, np.int32)
    groups = list_codes(plan)
    syn_q = np.empty(total if coded(groups) else 0, dtype=np.int16)
    at = ptr[:-1].copy()
    for (sl, unit_of_chunk), q in zip(placed, groups):
        list_fill(sl.pre, sl.post, sl.weight, sl.delay, sl.scale(plan), sl.rec,
                  int(plan.pop_i[sl.pre_pop, bp.PI_OFFSET]), unit_of_chunk, C, row_of, U, at, syn_loc, syn_w, syn_d,
                  syn_q, np.int16(q))
    return row_of, ptr, syn_loc, syn_w, syn_d, syn_q
