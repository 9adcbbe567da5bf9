"""Which row counts a process holds: the layout of its counts array.

The counted rules (fixed_total_number, fixed_outdegree, fixed_indegree) draw the length of
every row (pre, post chunk) at build, 4 B per cell (plan.count_cells): 3.2 GiB for the
full-scale multi-area model. A process regenerates only the rows onto the chunks it
simulates, so it holds the cells of those chunks only: per target population, the columns
of the span from its first to its last chunk on this process (a span, so that a cell's
place stays one multiply-add: off + pre * cols + chunk - col0; chunks of the span that
another rank simulates are counted too, and cost memory only where a rank holds pieces of
one population that are not adjacent). make_plan lays out every chunk; hold_counts narrows
the layout to a process's units, as a distributed run does on each rank. The cells are the
same numbers in any layout: each is a function of the model and seed (a synapse's cell is
drawn from its own counter), so the spikes do not depend on it.
"""
import numpy as np

from . import plan as bp


def chunk_spans(plan, units):
    """(P, 2) int64: per population, its first chunk among `units` (rows of plan.units, or a
    process's relabelled copy) and the number of chunks up to its last; (0, 0) for a population
    without units."""
    spans = np.zeros((plan.n_pops, 2), dtype=np.int64)
    if units.shape[0]:
        pops, chunks = units[:, bp.UI_POP], units[:, bp.UI_CHUNK]
        lo = np.full(plan.n_pops, np.iinfo(np.int64).max, dtype=np.int64)
        hi = np.full(plan.n_pops, -1, dtype=np.int64)
        np.minimum.at(lo, pops, chunks)
        np.maximum.at(hi, pops, chunks)
        have = hi >= 0
        spans[have, 0] = lo[have]
        spans[have, 1] = hi[have] - lo[have] + 1
    return spans


def count_columns(plan, units):
    """((J, 3) int64, total cells): each projection's (JI_COUNT_OFF, JI_COUNT_COL0,
    JI_COUNT_COLS) in the layout of a process that simulates `units` (off -1 where the rule
    has no counts), and that layout's cells. Nothing is changed (hold_counts applies it)."""
    spans = chunk_spans(plan, units)
    pi = plan.proj_i
    layout = np.zeros((pi.shape[0], 3), dtype=np.int64)
    layout[:, 0] = -1
    off = 0
    for j in np.nonzero(pi[:, bp.JI_COUNT_OFF] >= 0)[0]:
        col0, cols = spans[pi[j, bp.JI_POST_POP]]
        layout[j] = (off, col0, cols)
        off += bp.count_cells(int(pi[j, bp.JI_RULE]), int(pi[j, bp.JI_PRE_SIZE]), int(cols))
    return layout, off


def model_offsets(plan):
    """The JI_COUNT_OFF column of the layout of every chunk (make_plan's): what a process's
    layout is compared by where it must not matter (a checkpoint's fingerprint)."""
    return count_columns(plan, plan.units)[0][:, 0]


def hold_counts(plan, units):
    """Lay out plan's counts array for a process that simulates `units`: each counted
    projection gets the columns of its target population's span (chunk_spans) in
    plan.proj_i (JI_COUNT_OFF, JI_COUNT_COL0, JI_COUNT_COLS), and plan.info['count_cells']
    becomes this process's total. Counts already computed (plan.counts) are kept if the
    layout does not change, else dropped. Returns the plan."""
    layout, cells = count_columns(plan, units)
    columns = [bp.JI_COUNT_OFF, bp.JI_COUNT_COL0, bp.JI_COUNT_COLS]
    if not np.array_equal(layout, plan.proj_i[:, columns]):
        plan.proj_i[:, columns] = layout
        plan.counts = None
    plan.info["count_cells"] = cells
    return plan


def require_counts_of(plan, units, what):
    """Raise ValueError unless plan's counts layout holds the rows onto every chunk of `units`
    (rows of plan.units) whose population has counted projections: `what` names the caller."""
    pi = plan.proj_i
    counted = pi[pi[:, bp.JI_COUNT_OFF] >= 0]
    has = np.zeros(plan.n_pops, dtype=bool)
    col0 = np.zeros(plan.n_pops, dtype=np.int64)
    cols = np.zeros(plan.n_pops, dtype=np.int64)
    post = counted[:, bp.JI_POST_POP]   # every counted projection onto a population has its span
    has[post], col0[post], cols[post] = True, counted[:, bp.JI_COUNT_COL0], counted[:, bp.JI_COUNT_COLS]
    k, c = units[:, bp.UI_POP], units[:, bp.UI_CHUNK]
    outside = np.nonzero(has[k] & ((c < col0[k]) | (c >= col0[k] + cols[k])))[0]
    if outside.size:
        u = outside[0]
        raise ValueError(f"{what}: the row counts held are those of chunks [{col0[k[u]]}, {col0[k[u]] + cols[k[u]]}) "
                         f"of population {plan.pop_names[int(k[u])]!r}, not of its chunk {int(c[u])} "
                         "(count_layout.hold_counts was given other units)")
