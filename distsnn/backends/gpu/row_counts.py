"""The per-row synapse counts on the device (kernels counts.cu): the cells of this process's
counts layout (build.count_layout, 16 or 32 bits a cell), histogrammed there, or uploaded
where the host has them already."""
import math

import numpy as np

from ...build import plan as bp
from ...build.count_layout import NARROW_MAX, widen
from ..cpu.simulator import counted_projections


def device_counts(dev, plan):
    """Per (pre, chunk) counts of every counted projection on `dev`, uint32 words in plan's
    layout (a projection's cells uint16 or uint32 as it says): plan.counts if the build's
    input bound computed them on the host (the same numbers), else histogrammed on the device.
    There a narrow projection is counted into uint32 scratch and copied in as uint16, and one
    whose cells turn out not to fit is widened (the layout changes; build.count_layout.widen)
    and everything counted again."""
    if plan.counts is not None:
        return dev.to_device(plan.counts, np.uint32)
    while True:
        counts, over = _count(dev, plan)
        if not over:
            return counts
        del counts
        widen(plan, over)


def _count(dev, plan):
    """(the counts array, the narrow projections whose cells exceed NARROW_MAX)."""
    xp = dev.xp
    counts = dev.zeros(max(plan.info["count_words"], 1), np.uint32)
    narrow = [cells for _, _, _, cells, wide, _ in counted_projections(plan) if not wide]
    scratch = dev.zeros(max(narrow, default=1), np.uint32)   # the largest narrow projection's cells
    peaks = dev.zeros(plan.proj_i.shape[0], np.uint32)   # a narrow projection's largest cell
    cap = 64 * dev.multiprocessors
    for j, rule, off, cells, wide, args in counted_projections(plan):
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
        out = counts[off:off + cells] if wide else scratch[:cells]
        if not wide:
            out.fill(0)
        grid = min(max(1, math.ceil(work / dev.block_threads)), cap)
        dev.launch(kernel, grid, dev.block_threads, (*args, out))
        if rule == bp.RULE_FIN:   # cells (pre + 1, chunk) -> running sums over pres
            sums = out.reshape(n_pre + 1, cols)
            sums[...] = xp.cumsum(sums, axis=0, dtype=np.uint32)
        if not wide:
            peaks[j] = out.max()
            counts.view(np.uint16)[off:off + cells] = out.astype(np.uint16)
    over = np.nonzero(dev.to_host(peaks) > NARROW_MAX)[0]
    return counts, [int(j) for j in over]
