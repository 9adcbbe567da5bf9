"""The per-row synapse counts on the device (kernels counts.cu): the cells of this process's
counts layout (build.count_layout), histogrammed there, or uploaded where the host has
them already."""
import math

import numpy as np

from ...build import plan as bp
from ..cpu.simulator import counted_projections


def device_counts(dev, plan):
    """Per (pre, chunk) counts of every counted projection on `dev`, one flat uint32 array in
    plan's layout: plan.counts if the build's input bound computed them on the host (the same
    numbers), else histogrammed on the device."""
    if plan.counts is not None:
        return dev.to_device(plan.counts, np.uint32)
    counts = dev.zeros(max(plan.info["count_cells"], 1), np.uint32)
    cap = 64 * dev.multiprocessors
    for rule, off, cells, args in counted_projections(plan):
        n, n_pre, n_post, col0, cols = args[:5]
        if not cells:
            continue
        if rule == bp.RULE_FTN:
            work, kernel = n, "counts_fixed_total"
        elif rule == bp.RULE_FIN:   # the slots of the chunks held
            work, kernel = n * (min(n_post, (col0 + cols) * plan.chunk_size) - col0 * plan.chunk_size), \
                "counts_fixed_indegree"
        else:
            work, kernel = n * n_pre, "counts_fixed_outdegree"
        grid = min(max(1, math.ceil(work / dev.block_threads)), cap)
        dev.launch(kernel, grid, dev.block_threads, (*args, counts[off:off + cells]))
        if rule == bp.RULE_FIN:   # cells (pre + 1, chunk) -> running sums over pres
            sums = counts[off:off + cells].reshape(n_pre + 1, cols)
            sums[...] = dev.xp.cumsum(sums, axis=0, dtype=np.uint32)
    return counts
