"""The exact input bound of every neuron, and with it the width of the ring buffers.

The rules alone bound a neuron's in-degree only loosely (all N synapses of a
fixed_total_number projection could land on one neuron), which needs int64 buffers. Placing
every synapse once (the rows' targets, without weights or delays) gives each neuron's true
in-degree and the sum of its synapses' weight bounds; with them the synaptic input of one
step fits int32 for real models, at a fixed-point resolution near 1e-6 of a weight. The
pass is a function of the model and the seed only: it covers every neuron (not a rank's
share) and sums integers, so every backend, partition and thread count finds the same
numbers, and the same scales. On the host it runs with the CPU kernels (host_unit_bounds):
2-3 ns per synapse and core (0.5 s for the microcircuit on 2 cores), a fraction of the
per-row counts it reuses. The GPU engine runs it on the device (GpuSimulator.bound_inputs),
from counts it histograms there. Under MPI each rank bounds the neurons it owns and the
maxima are combined by an allreduce: the maximum over all neurons, whatever the partition.
"""
import numpy as np

from . import plan as bp
from .count_layout import require_counts_of
from .draw_bounds import mean_weights
from .fixed_point import RESOLUTION, int32_scale_exponent, weight_bound, weight_units, wq_exponent
from .long_term import has_stdp
from .synapse_lists import input_maxima

RECEPTORS = ("excitatory", "inhibitory")


def host_unit_bounds(plan, counts):
    """The host's way to bound units (numba, connectivity_kernels.input_bounds), given the
    per-row counts: a function (units, wq) -> (out_a, out_d), each (units, 2) per unit and
    receptor, as neuron_input_bounds takes it. The GPU engine has its own, on the device
    (backends.gpu.input_bound.device_unit_bounds), which finds the same integers."""
    def unit_bounds(units, wq):
        from ..backends.cpu.connectivity_kernels import input_bounds
        from ..backends.cpu.simulator import max_row_length
        require_counts_of(plan, units, "the input bound")
        U = units.shape[0]
        scratch = np.zeros((max(U, 1), max_row_length(plan, counts)), dtype=np.int64)
        out_a = np.zeros((max(U, 1), 2), dtype=np.int64)
        out_d = np.zeros((max(U, 1), 2), dtype=np.int64)
        input_bounds(units, plan.pop_i, plan.in_proj, plan.proj_f, plan.proj_i, counts, plan.chunk_size,
                     plan.key0, plan.key1, wq, scratch, out_a, out_d)
        return out_a[:U], out_d[:U]
    return unit_bounds


def weight_quanta(plan, q):
    """wq[j]: projection j's weight bound in units of 2**-q pA of its (target population,
    receptor), rounded up, times its source's multiplicity (a spike source's repeats in one
    step): what each of its synapses adds to a neuron's bound."""
    mult = plan.info["multiplicity"]
    J = plan.proj_i.shape[0]
    wq = np.zeros(J, dtype=np.int64)
    for j in range(J):
        w_max = weight_bound(plan.proj_f[j, bp.JF_WMEAN], plan.proj_f[j, bp.JF_WSD], plan.proj_f[j, bp.JF_KINDS])
        wq[j] = weight_units(w_max, q[plan.proj_i[j, bp.JI_POST_POP], plan.proj_i[j, bp.JI_REC]])
        wq[j] *= int(mult[plan.proj_i[j, bp.JI_PRE_POP]])
    return wq


def neuron_input_bounds(plan, unit_bounds, owned=None, comm=None):
    """(a_max, d_max, q), each (P, 2) per (target population, receptor): the largest sum over
    one neuron's incoming synapses of their weight bounds in units of 2**-q pA (rounded up),
    and the largest in-degree, over all neurons of the population. A synapse from a spike
    source counts as often as one of its neurons may spike in one step (plan.info
    'multiplicity'): in the sum by its source's, in the in-degree by the largest.

    unit_bounds: (units, wq) -> (out_a, out_d), those maxima per unit (host_unit_bounds, or a
    device's); owned: boolean mask over plan.units of the units this process bounds (default
    all); comm: combine the processes' maxima (collective: every rank of comm must call)."""
    k64 = plan.info["scale_exp64"]
    mult = plan.info["multiplicity"]
    q = np.vectorize(wq_exponent)(k64).astype(np.int64)
    wq = weight_quanta(plan, q)
    units = plan.units if owned is None else plan.units[np.asarray(owned, dtype=bool)]
    U = units.shape[0]
    out_a, out_d = unit_bounds(units, wq)
    a_max = np.zeros((plan.n_pops, 2), dtype=np.int64)
    d_max = np.zeros((plan.n_pops, 2), dtype=np.int64)
    for u in range(U):
        k = units[u, bp.UI_POP]
        a_max[k] = np.maximum(a_max[k], out_a[u])
        d_max[k] = np.maximum(d_max[k], out_d[u])
    if comm is not None and comm.Get_size() > 1:
        from mpi4py import MPI
        comm.Allreduce(MPI.IN_PLACE, a_max, op=MPI.MAX)
        comm.Allreduce(MPI.IN_PLACE, d_max, op=MPI.MAX)
    if plan.lists:   # the lists' own maxima on top: max(A + L) <= max A + max L, still a bound
        list_a, list_d = input_maxima(plan, q)
        a_max += list_a
        d_max += list_d
    # each delivery rounds once: with a spike source's repeats, up to its multiplicity per synapse
    return a_max, d_max * int(mult.max(initial=1)), q


def _smallest_mean_weights(plan):
    """Per (population, receptor), the smallest nonzero |mean weight| (pA) of the synapses and
    Poisson inputs onto it (a synapse list's: the mean of its weights, which share one sign);
    NaN where there are none. One pass over the tables (the multi-area model has 8,344
    projections onto 508 (population, receptor) pairs)."""
    w_min = np.full((plan.n_pops, 2), np.inf)

    def take(k, r, w):
        w = np.abs(np.asarray(w, dtype=np.float64))
        keep = w > 0.0
        np.minimum.at(w_min, (np.asarray(k, dtype=np.int64)[keep], np.asarray(r, dtype=np.int64)[keep]), w[keep])
    take(plan.proj_i[:, bp.JI_POST_POP], plan.proj_i[:, bp.JI_REC],
         mean_weights(plan.proj_f[:, bp.JF_WMEAN], plan.proj_f[:, bp.JF_WSD], plan.proj_f[:, bp.JF_KINDS]))
    take(plan.pin_i[:, bp.QI_POP], plan.pin_i[:, bp.QI_REC],
         [plan.network.poisson_inputs[int(i)].weight for i in plan.pin_i[:, bp.QI_INDEX]])
    lists = [sl for sl in plan.lists if sl.n]
    take([sl.post_pop for sl in lists], [sl.rec for sl in lists], [float(sl.weight.mean()) for sl in lists])
    w_min[np.isinf(w_min)] = np.nan
    return w_min


def decide_ring_bits(plan, counts=None, owned=None, comm=None, unit_bounds=None):
    """Decide plan.ring_bits and, for 32, set the int32 scales (plan.apply_scales).

    network.ring_bits 64: int64, nothing to compute. 32 or 'auto': bound every neuron's
    input (neuron_input_bounds) and take, per (population, receptor), the largest k that
    keeps one step's synaptic input within int32 (and within the int64 bound of the rules,
    which also covers the Poisson input). int32 is used if every such scale resolves
    RESOLUTION of the smallest mean weight onto it; otherwise 'auto' keeps int64 (the reason
    is in plan.info['ring_bits_reason']) and 32 is refused with the population named.
    Idempotent. owned, comm, unit_bounds: as in neuron_input_bounds (each rank bounds its own
    units; the decision is the same on all). Without unit_bounds the host bounds the units,
    from `counts` (default plan.counts, else computed), and keeps the counts in plan.counts
    for the backend.
    """
    if plan.ring_bits is not None:
        return plan
    want = plan.network.ring_bits
    if want == 64:
        plan.ring_bits = 64
        return plan
    if has_stdp(plan):   # the int32 bound takes each synapse's drawn weight, which STDP changes
        if want == 32:
            raise ValueError("network: ring_bits=32 cannot bound the input of STDP synapses, whose weights change; "
                             "use 'auto' or 64")
        plan.ring_bits = 64
        plan.info["ring_bits_reason"] = "STDP changes weights after the bound"
        return plan
    if unit_bounds is None:
        if counts is None:
            counts = plan.counts
        if counts is None:
            from ..backends.cpu.simulator import compute_counts
            counts = compute_counts(plan)
        plan.counts = counts
        unit_bounds = host_unit_bounds(plan, counts)
    a_max, d_max, q = neuron_input_bounds(plan, unit_bounds, owned, comm)
    k64 = plan.info["scale_exp64"]
    k32 = k64.copy()
    problem = None
    smallest = _smallest_mean_weights(plan)
    for k in range(plan.n_pops):
        for r in (bp.REC_EX, bp.REC_IN):
            if d_max[k, r] == 0:
                continue
            kk = int32_scale_exponent(int(a_max[k, r]), int(d_max[k, r]), int(q[k, r]))
            kk = min(kk, int(k64[k, r])) if kk is not None else None
            w_min = None if np.isnan(smallest[k, r]) else float(smallest[k, r])
            where = f"population {plan.pop_names[k]!r}, {RECEPTORS[r]} input"
            if kk is None:                     # (otherwise kk >= K_MIN: int32_scale_exponent's range)
                problem = problem or (f"{where}: up to {d_max[k, r]} synapses onto one neuron with weight bounds "
                                      f"summing to {a_max[k, r] * 2.0 ** -int(q[k, r]):.3g} pA do not fit int32")
            elif w_min is not None and 2.0 ** -kk > RESOLUTION * w_min:
                problem = problem or (f"{where}: int32 leaves a resolution of {2.0 ** -kk:.3g} pA, coarser than "
                                      f"{RESOLUTION:g} of its smallest mean weight ({w_min:.3g} pA); up to "
                                      f"{d_max[k, r]} synapses onto one neuron")
            else:
                k32[k, r] = kk
    plan.info["input_bound"] = {"max_indegree": d_max.tolist(), "weight_units_exp": q.tolist(),
                                "max_weight_sum_pA": (a_max * 2.0 ** -q.astype(np.float64)).tolist()}
    if problem is not None:
        if want == 32:
            raise ValueError(f"ring_bits=32: {problem}; use ring_bits=64 or 'auto'")
        plan.info["ring_bits_reason"] = problem
        plan.ring_bits = 64
        return plan
    bp.apply_scales(plan, k32)
    plan.ring_bits = 32
    return plan
