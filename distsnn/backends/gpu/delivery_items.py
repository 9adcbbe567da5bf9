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
A spike is shared among at most `split` teams (teams_per_spike), each taking every
split-th item of its population's list: no team is idle while its spike still has items,
and a population with a long list (multi-area: up to 1089 items) does not hand one team
all of them.
"""
import numpy as np

from ...build import plan as bp

# teams per spike at most: enough to spread the longest lists of the multi-area model
# (1089 items) over teams of 9 items, while a microcircuit spike (68 to 80 items) gets a
# team per item
FAN_SPLIT = 128
# items on one process at most (int32 indices; the tables would take 16 GiB)
MAX_ITEMS = 2 ** 31 - 1 - FAN_SPLIT


def _incoming(plan, units):
    """The population of every local unit, and its number of incoming projections."""
    k = units[:, bp.UI_POP]
    return k, plan.pop_i[k, bp.PI_IN_END] - plan.pop_i[k, bp.PI_IN_START]


def table_bytes(plan, units):
    """Device bytes of the item tables of a process owning `units`, at most: 8 B per (unit,
    incoming projection) pair (unit and projection, int32) and per population (ptr)."""
    return 8 * int(_incoming(plan, units)[1].sum()) + 8 * (len(plan.pop_names) + 1)


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


def procedural_items(plan, units):
    """(ptr, unit, proj): for source population src, the (local unit index, projection)
    pairs ptr[src]..ptr[src+1]-1 whose rows a spike of src regenerates. units: the rows of
    plan.units this process simulates."""
    src, unit, proj = _pairs(plan, units)
    return _grouped(len(plan.pop_names), src, unit, proj)


def stored_items(plan, units):
    """(ptr, unit): for source population src, the local units ptr[src]..ptr[src+1]-1 with
    at least one projection from src (each once: a stored CSR cell holds all of them)."""
    src, unit, _ = _pairs(plan, units)
    U = max(units.shape[0], 1)
    key = np.unique(src * U + unit)   # sorted: by source, then unit
    return _grouped(len(plan.pop_names), key // U, key % U)


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
