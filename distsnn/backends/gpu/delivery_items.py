"""The work items of GPU delivery: for each source population, what one of its spikes must
reach on this process.

Procedural delivery regenerates, for a spike, one row per (local unit, projection) pair
whose projection comes from the spike's population; stored delivery walks one CSR cell per
local unit that such a projection reaches. Enumerating all (spike, local unit) pairs and
scanning each unit's incoming projections for the spike's population instead wastes most of
the work as models grow: in the full-scale multi-area model (1123 units, 254 populations)
that is 35,824 projection checks per spike for 141 useful pairs on average. The tables here
list the useful items once, at build time, grouped by source population:

    items ptr[src] .. ptr[src + 1] - 1   (unit[o], proj[o]) for o in that range

ordered by unit, then projection, so that neighbouring teams write the same ring block.
On the device each item is a record (procedural_records, stored_records) of what a row of it
needs: the ring block, the unit's length, the ring lengths, the row's chunk, rule, stream
tag and the address and width of its count. A team then reads one record, with vector
loads, where it used to read the unit, the projection and the population one after
another: two round trips to the L2 fewer on the chain of loads before a spike's first
synapse.
A spike is shared among at most `split` teams (teams_per_spike), each taking every
split-th item of its population's list: no team is idle while its spike still has items,
and a population with a long list (multi-area: up to 1089 items) does not hand one team
all of them.

Rows in parts (row_parts; off unless asked for): a launch lasts as long as its slowest team,
and rows differ in length by a factor of ten. In the full-scale microcircuit a row holds 51
synapses on average, but an L5I spike's rows onto L5E hold 452 (max 555): eight rounds of a
team of 64 threads, one after another, where most rows take one. So an item whose expected
row is longer than `rounds` rounds of a team may be listed `parts` times, part p taking the
row's synapses p * team + lane, stepping by parts * team: the same synapses, spread over
parts teams. Only the indexed rules qualify (synapse x depends on x alone);
fixed_probability and one_to_one rows stay whole. A stored row (a CSR cell: every projection
from the spike's population onto the unit) may be cut whatever its rules, as its synapses
are stored (stored_items, stored_parts).
"""
import numpy as np

from ...build import plan as bp

# teams per spike at most: enough to spread the longest lists of the multi-area model
# (1089 items) over teams of 9 items, while a microcircuit spike (68 to 80 items) gets a
# team per item
FAN_SPLIT = 128
# items on one process at most (int32 indices; the tables would take 16 GiB)
MAX_ITEMS = 2 ** 31 - 1 - FAN_SPLIT

# Columns of a procedural item's record (int64; the kernels' struct Item, common.cuh): the
# ring block of the row's receptor; the row's count address less gid * cols (counts[IR_COUNT
# + gid * cols] is cell (gid - pre_off, chunk) of the projection's counts, which hold `cols`
# chunks a row: build.count_layout); the projection's first source gid; then pairs of int32
# (low word first): the unit's length and the receptor's ring slots; the row's length and
# chunk; its rule and stream tag; the projection's count columns and index (its proj_f row);
# its in-degree (fixed_indegree) and the width of its counts' cells (1: uint32, 0: uint16).
IR_BASE, IR_COUNT, IR_PRE_OFF, IR_NU_SLOTS, IR_CLEN_CHUNK, IR_RULE_TAG, IR_COLS_PROJ, IR_KIN_WIDE = range(8)
N_IR = 8   # 64 B: four 16-byte loads
# the high word of IR_KIN_WIDE: the width of the count's cells in its low 8 bits, then the
# item's part (12 bits) and its row's number of parts (11 bits; row_parts)
IR_WIDE_MASK, IR_PART_SHIFT, IR_PART_MASK, IR_PARTS_SHIFT = 0xFF, 8, 0xFFF, 20
MAX_PARTS = 256   # parts of one row at most (a row of 555 synapses needs 9 for one round of 64)
# Columns of a stored item's record (int64; struct Cell): the unit's ring block; the local
# unit's index and length (int32 pair); its population's excitatory and inhibitory ring slots
# (int32 pair); the item's part and its row's number of parts (int32 pair; stored_parts)
CR_BASE, CR_UNIT_NU, CR_LEX_LIN, CR_PART_PARTS = range(4)
N_CR = 4   # 32 B: two 16-byte loads


def _incoming(plan, units):
    """The population of every local unit, and its number of incoming projections."""
    k = units[:, bp.UI_POP]
    return k, plan.pop_i[k, bp.PI_IN_END] - plan.pop_i[k, bp.PI_IN_START]


def table_bytes(plan, units, team=1, rounds=0, connectivity="procedural"):
    """Device bytes of the item tables of a process owning `units`, at most: a procedural
    record (8 * N_IR B) per part of a (unit, incoming projection) pair (row_parts: one part
    unless rounds), or a stored one (8 * N_CR B) per part of a (source population, unit) pair
    (stored_parts; at most one per incoming projection and part without rounds); 8 B per
    population (ptr)."""
    if rounds <= 0:   # a record per pair at most: their number alone
        records, width = int(_incoming(plan, units)[1].sum()), N_IR if connectivity == "procedural" else N_CR
    elif connectivity == "procedural":
        _, unit, proj = _pairs(plan, units)
        records, width = int(row_parts(plan, units, unit, proj, team, rounds).sum()), N_IR
    else:
        records, width = int(stored_parts(plan, units, team, rounds)[1].sum()), N_CR
    return 8 * width * records + 8 * (len(plan.pop_names) + 1)


def expected_row(plan, units, unit, proj):
    """The expected synapses of a row of projection proj[o] onto local unit unit[o]: the
    expected in-degree of its targets times the chunk's length over the sources."""
    pj, un = plan.proj_i[proj], units[unit]
    rule, n, n_pre, n_post = (pj[:, c].astype(np.float64) for c in (bp.JI_RULE, bp.JI_N, bp.JI_PRE_SIZE,
                                                                     bp.JI_POST_SIZE))
    clen = np.minimum(plan.chunk_size, n_post - un[:, bp.UI_CHUNK] * plan.chunk_size)
    p = plan.proj_f[proj, bp.JF_P] if proj.size else np.zeros(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        k_in = np.select([rule == bp.RULE_FTN, rule == bp.RULE_FOUT, rule == bp.RULE_FIN, rule == bp.RULE_A2A,
                          rule == bp.RULE_FP, rule == bp.RULE_O2O],
                         [n / n_post, n * n_pre / n_post, n, n_pre, p * n_pre, 1.0], default=0.0)
        return np.where(n_pre > 0, k_in * clen / n_pre, 0.0)


def row_parts(plan, units, unit, proj, team, rounds):
    """Parts of each item (unit[o], proj[o]) for teams of `team` threads: its expected row
    over `rounds` rounds of a team, rounded up, from 1 to MAX_PARTS; 1 everywhere without
    rounds (0), and for the rules whose rows run in order (fixed_probability, one_to_one)."""
    unit, proj = np.asarray(unit, dtype=np.int64), np.asarray(proj, dtype=np.int64)
    parts = np.ones(unit.size, dtype=np.int64)
    if rounds <= 0 or not unit.size:
        return parts
    rule = plan.proj_i[proj, bp.JI_RULE]
    indexed = np.isin(rule, (bp.RULE_FTN, bp.RULE_FOUT, bp.RULE_FIN, bp.RULE_A2A))
    parts[indexed] = _parts_of(expected_row(plan, units, unit, proj)[indexed], team, rounds)
    return parts


def _parts_of(expected, team, rounds):
    """Parts of rows of `expected` synapses: over `rounds` rounds of a team, rounded up, from 1
    to MAX_PARTS."""
    return np.clip(np.ceil(expected / (team * rounds)), 1, MAX_PARTS).astype(np.int64)


def _listed(parts):
    """(each, part): the index of the item of every part listed, parts[o] times item o, and the
    part's number within its item (0, 1, ...)."""
    each = np.repeat(np.arange(parts.size), parts)
    return each, np.arange(each.size, dtype=np.int64) - np.repeat(np.cumsum(parts) - parts, parts)


def _pairs(plan, units):
    """(source population, local unit, projection) of every incoming projection of every
    local unit."""
    pop_i = plan.pop_i
    k, n_in = _incoming(plan, units)
    unit = np.repeat(np.arange(units.shape[0], dtype=np.int64), n_in)
    # position of each pair in its unit's incoming list: in_proj[PI_IN_START + rank]
    first = np.repeat(np.cumsum(n_in) - n_in, n_in)
    rank = np.arange(unit.size, dtype=np.int64) - first
    proj = plan.in_proj[pop_i[k[unit], bp.PI_IN_START] + rank] if unit.size else np.zeros(0, np.int64)
    src = plan.proj_i[proj, bp.JI_PRE_POP] if unit.size else np.zeros(0, np.int64)
    return src, unit, proj


def _grouped(n_pops, src, *columns):
    order = np.lexsort(tuple(reversed((src, *columns))))   # by source, then by the columns in turn
    ptr = np.zeros(n_pops + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n_pops), out=ptr[1:])
    # procedural delivery indexes items with 32-bit integers (registers are scarce there),
    # stepping past the last by at most FAN_SPLIT
    if ptr[-1] > MAX_ITEMS:
        raise ValueError(f"{ptr[-1]} delivery items on one process (at most {MAX_ITEMS}); use more processes")
    return (ptr, *(np.ascontiguousarray(c[order], dtype=np.int32) for c in columns))


def procedural_items(plan, units, team=1, rounds=0):
    """(ptr, unit, proj, part, parts): for source population src, the (local unit index,
    projection) pairs ptr[src]..ptr[src+1]-1 whose rows a spike of src regenerates, each
    listed once per part (row_parts, for teams of `team` threads: one part unless rounds).
    units: the rows of plan.units this process simulates."""
    src, unit, proj = _pairs(plan, units)
    parts = row_parts(plan, units, unit, proj, team, rounds)
    each, part = _listed(parts)
    return _grouped(len(plan.pop_names), src[each], unit[each], proj[each], part, parts[each])


def stored_parts(plan, units, team, rounds):
    """(key, parts): the (source population, local unit) pairs with at least one projection
    from the one onto the other, as src * U + unit in order (by source, then unit), and the
    parts of each pair's rows (stored CSR cells): their expected synapses (every projection's
    row, any rule: stored synapses need no order) over `rounds` rounds of a team of `team`
    threads, rounded up, from 1 to MAX_PARTS; 1 everywhere without rounds (0)."""
    src, unit, proj = _pairs(plan, units)
    U = max(units.shape[0], 1)
    key, inverse = np.unique(src * U + unit, return_inverse=True)   # sorted: by source, then unit
    parts = np.ones(key.size, dtype=np.int64)
    if rounds > 0 and key.size:
        expected = np.bincount(inverse.ravel(), weights=expected_row(plan, units, unit, proj), minlength=key.size)
        parts = _parts_of(expected, team, rounds)
    return key, parts


def stored_items(plan, units, team=1, rounds=0):
    """(ptr, unit, part, parts): for source population src, the local units
    ptr[src]..ptr[src+1]-1 with at least one projection from src (a stored CSR cell holds all
    of them), each listed once per part of its rows (stored_parts, for teams of `team`
    threads: one part unless rounds)."""
    key, parts = stored_parts(plan, units, team, rounds)
    U = max(units.shape[0], 1)
    each, part = _listed(parts)
    return _grouped(len(plan.pop_names), key[each] // U, key[each] % U, part, parts[each])


def _pair(low, high, what):
    """int32 pairs (low word first) as the int64 words of a record; every value must fit."""
    low, high = np.asarray(low, dtype=np.int64), np.asarray(high, dtype=np.int64)
    for name, v in zip(what, (low, high)):
        if v.size and (v.min() < -2 ** 31 or v.max() >= 2 ** 31):
            raise ValueError(f"delivery item field {name} out of the int32 range ({v.min()} .. {v.max()})")
    return (low & 0xFFFFFFFF) | (high << 32)


def procedural_records(plan, units, unit, proj, part=None, parts=None):
    """The records (int64, N_IR columns: IR_*) of procedural items (unit[o], proj[o], part
    part[o] of parts[o]; whole rows if not given), as procedural_items lists them; units: the
    rows of plan.units this process simulates (their UI_RING_OFF in this process's ring)."""
    unit, proj = np.asarray(unit, dtype=np.int64), np.asarray(proj, dtype=np.int64)
    part = np.zeros(unit.size, np.int64) if part is None else np.asarray(part, dtype=np.int64)
    parts = np.ones(unit.size, np.int64) if parts is None else np.asarray(parts, dtype=np.int64)
    un, pj = units[unit], plan.proj_i[proj]
    k, chunk, rec = un[:, bp.UI_POP], un[:, bp.UI_CHUNK], pj[:, bp.JI_REC]
    n_u = un[:, bp.UI_GID_END] - un[:, bp.UI_GID_START]
    lex, lin = plan.pop_i[k, bp.PI_RING_EX], plan.pop_i[k, bp.PI_RING_IN]
    cols = pj[:, bp.JI_COUNT_COLS]
    out = np.zeros((unit.size, N_IR), dtype=np.int64)
    out[:, IR_BASE] = un[:, bp.UI_RING_OFF] + rec * lex * n_u
    out[:, IR_COUNT] = pj[:, bp.JI_COUNT_OFF] - pj[:, bp.JI_PRE_OFF] * cols + chunk - pj[:, bp.JI_COUNT_COL0]
    out[:, IR_PRE_OFF] = pj[:, bp.JI_PRE_OFF]
    out[:, IR_NU_SLOTS] = _pair(n_u, np.where(rec != 0, lin, lex), ("n_u", "slots"))
    clen = np.minimum(plan.chunk_size, pj[:, bp.JI_POST_SIZE] - chunk * plan.chunk_size)
    out[:, IR_CLEN_CHUNK] = _pair(clen, chunk, ("clen", "chunk"))
    # the tag is a 32-bit stream word (streams.tag): its bits, as the kernels' u32
    tag = pj[:, bp.JI_TAG].astype(np.uint32).view(np.int32)
    out[:, IR_RULE_TAG] = _pair(pj[:, bp.JI_RULE], tag, ("rule", "tag"))
    out[:, IR_COLS_PROJ] = _pair(cols, proj, ("cols", "proj"))
    _check_parts(part, parts)
    high = pj[:, bp.JI_COUNT_WIDE] | (part << IR_PART_SHIFT) | (parts << IR_PARTS_SHIFT)
    out[:, IR_KIN_WIDE] = _pair(pj[:, bp.JI_N] * (pj[:, bp.JI_RULE] == bp.RULE_FIN), high, ("k_in", "wide"))
    return out


def _check_parts(part, parts):
    if parts.size and (parts.min() < 1 or parts.max() > MAX_PARTS or part.min() < 0 or (part >= parts).any()):
        raise ValueError(f"delivery item parts out of range (1 .. {MAX_PARTS} parts, 0 <= part < parts)")


def stored_records(plan, units, unit, part=None, parts=None):
    """The records (int64, N_CR columns: CR_*) of stored items (local units unit[o], part
    part[o] of parts[o]; whole rows if not given), as stored_items and list_items list them."""
    unit = np.asarray(unit, dtype=np.int64)
    part = np.zeros(unit.size, np.int64) if part is None else np.asarray(part, dtype=np.int64)
    parts = np.ones(unit.size, np.int64) if parts is None else np.asarray(parts, dtype=np.int64)
    _check_parts(part, parts)
    un = units[unit]
    k = un[:, bp.UI_POP]
    out = np.zeros((unit.size, N_CR), dtype=np.int64)
    out[:, CR_BASE] = un[:, bp.UI_RING_OFF]
    out[:, CR_UNIT_NU] = _pair(unit, un[:, bp.UI_GID_END] - un[:, bp.UI_GID_START], ("unit", "n_u"))
    out[:, CR_LEX_LIN] = _pair(plan.pop_i[k, bp.PI_RING_EX], plan.pop_i[k, bp.PI_RING_IN], ("lex", "lin"))
    out[:, CR_PART_PARTS] = _pair(part, parts, ("part", "parts"))
    return out


def list_items(plan, units, row_of, ptr):
    """(ptr, unit) as stored_items gives them, for the synapse lists' CSR (build.synapse_lists.
    list_csr: cells (source row, local unit), row_of by gid): the local units that a
    population's list synapses reach."""
    U = max(units.shape[0], 1)
    cell = np.nonzero(np.diff(ptr))[0]
    gid = np.nonzero(row_of >= 0)[0][cell // U]   # row r is the r-th source, in gid order
    key = np.unique(plan.pop_of[gid].astype(np.int64) * U + cell % U)
    return _grouped(len(plan.pop_names), key // U, key % U)


def teams_per_spike(ptr):
    """Teams sharing one spike: the longest list, at most FAN_SPLIT (at least 1)."""
    longest = int(np.diff(ptr).max()) if ptr.size > 1 else 0
    return max(1, min(longest, FAN_SPLIT))
