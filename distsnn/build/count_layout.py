"""Which row counts a process holds: the layout of its counts array.

The counted rules (fixed_total_number, fixed_outdegree, fixed_indegree) draw the length of
every row (pre, post chunk) at build (plan.count_cells cells a projection). A process
regenerates only the rows onto the chunks it simulates, so it holds the cells of those
chunks only: per target population, the columns of the span from its first to its last
chunk on this process (a span, so that a cell's place stays one multiply-add:
off + pre * cols + chunk - col0; chunks of the span that another rank simulates are
counted too, and cost memory only where a rank holds pieces of one population that are
not adjacent). make_plan lays out every chunk; hold_counts narrows the layout to a
process's units, as a distributed run does on each rank. The cells are the same numbers
in any layout: each is a function of the model and seed (a synapse's cell is drawn from
its own counter), so the spikes do not depend on it.

Cells are 16 bits where they fit (DESIGN.md section 5), else 32: the counts array is uint32
words, and a projection's JI_COUNT_OFF counts cells of its own width (JI_COUNT_WIDE), uint16
cells packed two to a word, so that the cell's place stays the same multiply-add and only
its load differs. A projection is narrow when cell_bound says no cell can exceed NARROW_MAX.
That is certain for fixed_outdegree and fixed_indegree and for fixed_total_number with at
most NARROW_MAX synapses; for a larger fixed_total_number it is a tail bound that fails with
a probability below 1e-30 per cell, and counting checks it: a projection whose cells do not
fit is widened (widen) and counted again. The full-scale multi-area model's 3.2 GiB of
uint32 cells take 1.6 GiB so.
"""
import math

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


NARROW_MAX = 0xFFFF   # the largest count a 16-bit cell holds
TAIL = 12             # cell_bound's margin, in standard deviations (and as many synapses)
LAYOUT = [bp.JI_COUNT_OFF, bp.JI_COUNT_COL0, bp.JI_COUNT_COLS, bp.JI_COUNT_WIDE]


def counted(plan):
    """Indices of the projections whose rules have per-row counts (bp.COUNTED_RULES)."""
    return np.nonzero(np.isin(plan.proj_i[:, bp.JI_RULE], bp.COUNTED_RULES))[0]


def cell_bound(plan, j):
    """The largest count a cell of counted projection j can hold (synapses): fixed_outdegree
    K (a row is at most its pre's synapses); fixed_indegree K x the chunk's neurons (its cells
    are running sums of the chunk's input slots); fixed_total_number N, or where that is
    larger, the mean of the fullest cell (a binomial of N draws: a whole chunk of one pre)
    plus TAIL standard deviations and TAIL synapses: with cells of 16 bits, the chance that
    a cell of a projection that passes exceeds NARROW_MAX is below 1e-30, and counting checks."""
    pi = plan.proj_i[j]
    rule, n = int(pi[bp.JI_RULE]), int(pi[bp.JI_N])
    n_post = int(pi[bp.JI_POST_SIZE])
    clen = min(plan.chunk_size, n_post)
    if rule == bp.RULE_FOUT:
        return n
    if rule == bp.RULE_FIN:
        return n * clen
    if n == 0:   # no synapses (the only fixed_total_number an empty population may have)
        return 0
    mean = n * clen / (int(pi[bp.JI_PRE_SIZE]) * n_post)
    return min(n, mean + TAIL * math.sqrt(mean) + TAIL)


def wide_cells(plan):
    """(J,) bool: whether each projection's cells are uint32 (else uint16: those of the counted
    projections that cell_bound fits in NARROW_MAX and counting has not widened,
    plan.info['wide_counts'])."""
    wide = np.zeros(plan.proj_i.shape[0], dtype=bool)
    widened = plan.info.get("wide_counts", ())
    for j in counted(plan):
        wide[j] = j in widened or cell_bound(plan, j) > NARROW_MAX
    return wide


def _offsets(plan, cols, wide):
    """(J,) JI_COUNT_OFF (in cells of each projection's width; -1: no counts) and the uint32
    words of a layout whose projections hold `cols` chunks a row: narrow projections' cells
    are uint16 at 2-byte offsets, wide ones uint32 at 4-byte ones, in projection order."""
    pi = plan.proj_i
    off = np.full(pi.shape[0], -1, dtype=np.int64)
    half = 0   # the array's length so far, in 2-byte halves
    for j in counted(plan):
        cells = bp.count_cells(int(pi[j, bp.JI_RULE]), int(pi[j, bp.JI_PRE_SIZE]), int(cols[j]))
        if wide[j]:
            half += half & 1
            off[j] = half // 2
            half += 2 * cells
        else:
            off[j] = half
            half += cells
    return off, (half + 1) // 2


def count_columns(plan, units, wide=None):
    """((J, 4) int64, total uint32 words): each projection's (JI_COUNT_OFF, JI_COUNT_COL0,
    JI_COUNT_COLS, JI_COUNT_WIDE) in the layout of a process that simulates `units` (off -1
    where the rule has no counts), and that layout's size. wide: (J,) bool, default
    wide_cells(plan). Nothing is changed (hold_counts applies it)."""
    spans = chunk_spans(plan, units)
    pi = plan.proj_i
    wide = wide_cells(plan) if wide is None else np.asarray(wide, dtype=bool)
    layout = np.zeros((pi.shape[0], 4), dtype=np.int64)
    js = counted(plan)
    layout[js, 1:3] = spans[pi[js, bp.JI_POST_POP]]
    layout[js, 3] = wide[js]
    layout[:, 0], words = _offsets(plan, layout[:, 2], layout[:, 3])
    return layout, words


def model_offsets(plan):
    """The JI_COUNT_OFF column of the layout of every chunk in uint32 cells (make_plan's before
    cells were narrowed): what a process's layout is compared by where it must not matter (a
    checkpoint's fingerprint)."""
    return count_columns(plan, plan.units, wide=np.ones(plan.proj_i.shape[0], dtype=bool))[0][:, 0]


def _apply(plan, layout, words):
    if not np.array_equal(layout, plan.proj_i[:, LAYOUT]):
        plan.proj_i[:, LAYOUT] = layout
        plan.counts = None
    plan.info["count_words"] = words


def hold_counts(plan, units):
    """Lay out plan's counts array for a process that simulates `units`: each counted
    projection gets the columns of its target population's span (chunk_spans) and its cells'
    width in plan.proj_i (JI_COUNT_OFF, JI_COUNT_COL0, JI_COUNT_COLS, JI_COUNT_WIDE), and
    plan.info['count_words'] becomes the uint32 words this process holds. Counts already
    computed (plan.counts) are kept if the layout does not change, else dropped. Returns the
    plan."""
    _apply(plan, *count_columns(plan, units))
    return plan


def widen(plan, projections):
    """Make the cells of `projections` uint32 (a counting found one over NARROW_MAX) in plan's
    layout, keeping every projection's chunks; the counts must then be computed again."""
    plan.info["wide_counts"] = set(plan.info.get("wide_counts", ())) | {int(j) for j in projections}
    layout = plan.proj_i[:, LAYOUT].copy()
    layout[:, 3] |= wide_cells(plan)
    layout[:, 0], words = _offsets(plan, layout[:, 2], layout[:, 3])
    _apply(plan, layout, words)
    plan.counts = None


def held_cells(plan):
    """Cells in plan's counts layout (of either width)."""
    pi = plan.proj_i
    return int(sum(bp.count_cells(int(pi[j, bp.JI_RULE]), int(pi[j, bp.JI_PRE_SIZE]), int(pi[j, bp.JI_COUNT_COLS]))
                   for j in counted(plan)))


def cells_of(plan, counts, j):
    """Projection j's cells in `counts` (a NumPy or CuPy array of uint32 words in plan's
    layout) as uint32, one row per pre (fixed_indegree: per pre and its total), one column
    per chunk held (JI_COUNT_COL0 onwards)."""
    pi = plan.proj_i[j]
    cols = int(pi[bp.JI_COUNT_COLS])
    n = bp.count_cells(int(pi[bp.JI_RULE]), int(pi[bp.JI_PRE_SIZE]), cols)
    off = int(pi[bp.JI_COUNT_OFF])
    view = counts if pi[bp.JI_COUNT_WIDE] else counts.view(np.uint16)
    return view[off:off + n].astype(np.uint32).reshape(-1, max(cols, 1))


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
