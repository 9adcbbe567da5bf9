"""The input bound's sums on the device (build.input_bound; kernel input_bounds.cu): the GPU
engine's way to bound units, where the host's is build.input_bound.host_unit_bounds."""
import math

import numpy as np

from ...build import plan as bp
from ...build.count_layout import require_counts_of


def device_unit_bounds(dev, plan, counts, units, wq):
    """(out_a, out_d), each (units, 2): per unit and receptor, the largest sum of weight
    bounds and the largest in-degree over its neurons (the function neuron_input_bounds
    takes). Kernel input_bounds sums them per neuron in int64 on `dev` from the per-row
    `counts` on the device; the host takes each unit's maxima. units: rows of plan.units;
    wq: the projections' weight bounds in fixed units (build.input_bound.weight_quanta)."""
    require_counts_of(plan, units, "the input bound")
    U = units.shape[0]
    sizes = bp.unit_sizes(units)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    n = int(sizes.sum())
    if U == 0 or n == 0:
        return np.zeros((U, 2), dtype=np.int64), np.zeros((U, 2), dtype=np.int64)
    units = units.copy()
    units[:, bp.UI_LOCAL_START] = starts   # the accumulators' numbering: these units' neurons in order
    acc_a = dev.zeros(2 * n, np.uint64)
    acc_d = dev.zeros(2 * n, np.uint64)
    # blocks enough to fill the device: units of the microcircuit (77) share their rows
    split = max(1, math.ceil(8 * dev.multiprocessors / U))
    dev.launch("input_bounds", min(U * split, 2 ** 31 - 1), dev.block_threads,
               (U, split, dev.to_device(units, np.int64), dev.to_device(plan.pop_i, np.int64),
                dev.to_device(plan.in_proj, np.int64), dev.to_device(plan.proj_f, np.float64),
                dev.to_device(plan.proj_i, np.int64), counts, dev.to_device(wq, np.int64), plan.chunk_size,
                plan.key0, plan.key1, n, acc_a, acc_d))
    out = [np.maximum.reduceat(dev.to_host(acc).view(np.int64).reshape(2, n), starts, axis=1).T
           for acc in (acc_a, acc_d)]
    return out[0], out[1]
