"""Spike sources' given spikes as a schedule per unit (plan.sched_step, plan.sched_gid and
the units' UI_SCHED_START/UI_SCHED_END), and how many of them one neuron emits in one step
(NEST's spike multiplicity): what the engines' spike buffers must hold beyond one spike per
neuron and step."""
import numpy as np

from . import plan as bp


def spike_schedule(spikes, offsets, units, dt):
    """Spike sources' spikes (spikes[k]: population k's local ids and times ms, or None;
    build.pulse_packets.source_spikes) as (step, gid), grouped by unit and sorted by step then
    gid; fills the units' schedule ranges. A spike at time T is emitted in step round(T/dt) - 1;
    two spikes of one neuron in one step are two entries (schedule_extra)."""
    steps, gids = [], []
    for k, given in enumerate(spikes):
        if given is not None and given[0].size:
            steps.append(np.floor(given[1] / dt + 0.5).astype(np.int64) - 1)
            gids.append(given[0] + offsets[k])
    if not steps:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    step, gid = np.concatenate(steps), np.concatenate(gids)
    unit = np.searchsorted(units[:, bp.UI_GID_START], gid, side="right") - 1
    order = np.lexsort((gid, step, unit))
    step, gid, unit = step[order], gid[order], unit[order]   # several spikes of a neuron in a step all stay
    units[:, bp.UI_SCHED_START] = np.searchsorted(unit, np.arange(units.shape[0]), side="left")
    units[:, bp.UI_SCHED_END] = np.searchsorted(unit, np.arange(units.shape[0]), side="right")
    return step, gid


def spike_multiplicity(given, dt):
    """The most spikes one neuron emits in one step: for a spike source's spikes `given`
    (local ids, times ms) the largest number of one neuron in one step (each counts); 1 for
    None (another population)."""
    if given is None or not given[0].size:
        return 1
    steps = np.floor(given[1] / dt + 0.5).astype(np.int64)
    return int(np.unique(np.stack([given[0], steps]), axis=1, return_counts=True)[1].max())


def schedule_extra(plan, units):
    """Per row of `units` (rows of plan.units): the most spikes beyond one per neuron that its
    spike-source schedule emits in one step. A neuron's spikes in one step each count, as
    NEST's spike multiplicity does, so an engine's spike buffers hold up to its neurons plus
    these per step."""
    start, end = units[:, bp.UI_SCHED_START], units[:, bp.UI_SCHED_END]
    out = np.zeros(units.shape[0], dtype=np.int64)
    if not plan.sched_step.size or not (end > start).any():
        return out
    row = np.repeat(np.arange(units.shape[0]), end - start)
    idx = np.concatenate([np.arange(a, b) for a, b in zip(start.tolist(), end.tolist())])
    step, gid = plan.sched_step[idx], plan.sched_gid[idx]
    # within a unit the schedule is sorted by (step, gid): repeats are neighbours
    repeat = np.zeros(idx.size, dtype=np.int64)
    repeat[1:] = (row[1:] == row[:-1]) & (step[1:] == step[:-1]) & (gid[1:] == gid[:-1])
    if not repeat.any():
        return out
    keys, inverse = np.unique(np.stack([row, step]), axis=1, return_inverse=True)
    per_step = np.bincount(inverse.ravel(), weights=repeat).astype(np.int64)
    np.maximum.at(out, keys[0], per_step)
    return out
