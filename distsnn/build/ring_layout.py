"""Layout of the input ring buffers, shared by every engine.

Synaptic input on its way is summed, per neuron and receptor, in a ring of slots: the input
arriving at step t sits in slot t % L. L need only exceed the longest delay that can reach
that receptor of that population, so each (population, receptor) has its own L
(plan.pop_i[:, PI_RING_EX / PI_RING_IN]): in the multi-area model only the excitatory
receptors of neurons with long cortico-cortical delays need 779 slots, while inhibitory input
(intra-area only) needs 33, which cuts the rings from 24.0 to 9.5 GiB.

A process's ring is one flat integer array of blocks, one per local unit (post chunk) in unit
order, starting at units[:, UI_RING_OFF]. The block of a unit of n neurons is
    [excitatory slot 0 .. L_ex - 1][inhibitory slot 0 .. L_in - 1], each slot n entries,
so entry (receptor r, slot s, unit-local neuron i) is at
    off + (r * L_ex + s) * n + i.
A step's update reads one contiguous slot per unit and receptor, and delivery to a unit
writes inside its own block.

The engines exchange ring contents with checkpoints in *arrival order* (independent of the
slot arithmetic and of L): ring[k, r, i] is the input of receptor r arriving at step t + k,
for k < plan.ring_len, zero where k reaches beyond the population's own L.
"""
import numpy as np

from . import plan as bp


def local_units(plan, owned):
    """The rows of plan.units that a rank owns (boolean mask), with local neuron indices
    renumbered contiguously in unit order and the ring blocks laid out in that order; and
    the gids of those neurons."""
    units = plan.units[owned].copy()
    sizes = bp.unit_sizes(units)
    units[:, bp.UI_LOCAL_START] = np.concatenate([[0], np.cumsum(sizes)[:-1]]) if sizes.size else sizes
    units[:, bp.UI_RING_OFF] = bp.unit_ring_offsets(plan.pop_i, units)[:-1]
    gids = np.concatenate([np.arange(a, b) for a, b in units[:, [bp.UI_GID_START, bp.UI_GID_END]]]) if sizes.size \
        else np.zeros(0, dtype=np.int64)
    return units, gids.astype(np.int64)


def ring_slots(plan):
    """(P, 2) ring slots of every population: excitatory, inhibitory."""
    return plan.pop_i[:, [bp.PI_RING_EX, bp.PI_RING_IN]]


def ring_entries(plan, units):
    """Entries of the ring of a process that owns `units` (rows of plan.units)."""
    return int(bp.unit_ring_offsets(plan.pop_i, units)[-1])


def _unit_blocks(plan, units, t, lo, hi):
    """Every unit overlapping the local neurons lo..hi-1, as (population, block start, unit
    size n, first and last+1 unit-local neuron, their columns in a lo..hi-1 array, rows):
    the block is (L_ex + L_in, n) and rows[r][k] is the row of receptor r's input arriving at
    step t + k (k < L_r)."""
    sizes = bp.unit_sizes(units)
    for u in range(units.shape[0]):
        l0, n = int(units[u, bp.UI_LOCAL_START]), int(sizes[u])
        a, b = max(lo, l0), min(hi, l0 + n)
        if a >= b:
            continue
        k = int(units[u, bp.UI_POP])
        lex, lin = (int(x) for x in ring_slots(plan)[k])
        rows = ((t + np.arange(lex)) % lex, lex + (t + np.arange(lin)) % lin)
        yield k, int(units[u, bp.UI_RING_OFF]), n, a - l0, b - l0, slice(a - lo, b - lo), rows


def read_arrival(plan, units, ring_block, t, lo, hi, dtype):
    """The ring entries of local neurons lo..hi-1 in arrival order, (plan.ring_len, 2, hi - lo).

    ring_block(start, stop) returns a host copy of ring[start:stop] (a device read for GPUs);
    t: the next step to run."""
    out = np.zeros((plan.ring_len, 2, hi - lo), dtype=dtype)
    for _, off, n, a, b, cols, rows in _unit_blocks(plan, units, t, lo, hi):
        block = np.asarray(ring_block(off, off + (rows[0].size + rows[1].size) * n)).reshape(-1, n)
        for r in (0, 1):
            out[:rows[r].size, r, cols] = block[rows[r], a:b]
    return out


def write_arrival(plan, units, ring_block, store_block, t, lo, hi, arrival):
    """Set the ring entries of local neurons lo..hi-1 from `arrival` (read_arrival's layout).

    store_block(start, values) writes ring[start:start + values.size]; ring_block as in
    read_arrival (needed where a unit is only partly written). Input arriving later than a
    population's ring can hold cannot come from this model: it is refused."""
    arrival = np.asarray(arrival)
    if arrival.shape != (plan.ring_len, 2, hi - lo):
        raise ValueError(f"ring state of shape {arrival.shape}, expected {(plan.ring_len, 2, hi - lo)}")
    for k, off, n, a, b, cols, rows in _unit_blocks(plan, units, t, lo, hi):
        lex, lin = rows[0].size, rows[1].size
        if arrival[lex:, 0, cols].any() or arrival[lin:, 1, cols].any():
            raise ValueError(f"ring state of population {plan.pop_names[k]!r} holds input arriving after its "
                             f"longest delay ({lex - 1} excitatory, {lin - 1} inhibitory steps): not from this model")
        if a == 0 and b == n:
            block = np.empty((lex + lin, n), dtype=arrival.dtype)
        else:
            block = np.array(ring_block(off, off + (lex + lin) * n)).reshape(lex + lin, n)
        for r in (0, 1):
            block[rows[r], a:b] = arrival[:rows[r].size, r, cols]
        store_block(off, block.reshape(-1))
