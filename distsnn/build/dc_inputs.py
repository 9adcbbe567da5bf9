"""Injected currents that are functions of time alone (Network.add_dc_input, add_ac_input,
add_step_current_input) as the plan's tables, and the reference every engine matches.

Input d (a row of dc_f and dc_i, grouped by target population in the order added) adds, in
each step t of its window DI_START <= t < DI_STOP,

    a = DF_AMP [+ the step current's amplitude at t] [+ DF_AC * sin(2 pi u_t)]

(pA, in this order, each + one IEEE rounding), to the neurons it flows into. A step current's
amplitudes are rows DI_SEG_START .. DI_SEG_END of dc_seg_i (first step of each, increasing)
and dc_seg_f (pA): the amplitude at t is that of the last row whose first step is <= t (a
binary search), 0 before the first. An input given `neurons` (DI_MASKED = 1) flows into the
neurons whose bit is set in dc_mask (uint32 words): neuron gid's bit is DI_MASK_AT + gid
(DI_MASK_AT = the input's first bit minus its population's first gid), word bit >> 5, bit
bit & 31. Noise currents given `neurons` (Network.add_noise_input) have their bits in the
same words (NZ_MASKED, NZ_MASK_AT), after the DC rows'. Every engine adds, per neuron, I_e
then each DC input that flows into it in the order of the rows, then each noise current
that does: the same sum everywhere.
"""
import numpy as np

from . import phase_words
from . import plan as bp


def dc_tables(dcs, dt):
    """(dc_f, dc_i, dc_seg_i, dc_seg_f) of the DC inputs `dcs` (sorted by target population);
    dc_i's subset columns are subset_mask's to fill."""
    dc_f = np.zeros((len(dcs), bp.N_DF))
    dc_i = np.zeros((len(dcs), bp.N_DI), dtype=np.int64)
    seg_i, seg_f = [], []
    for d, dc in enumerate(dcs):
        dc_f[d] = dc.amplitude, dc.ac_amplitude
        dc_i[d, :bp.N_DI_BEFORE_SEG] = (steps(dc.start, dt), steps(dc.stop, dt),
                                        *phase_words.words(dc.frequency, dc.phase, dt))
        if dc.step_times is not None:
            dc_i[d, bp.DI_SEG_START] = len(seg_i)
            seg_i.extend(np.floor(np.asarray(dc.step_times) / dt + 0.5).astype(np.int64).tolist())
            seg_f.extend(np.asarray(dc.step_amplitudes, dtype=np.float64).tolist())
            dc_i[d, bp.DI_SEG_END] = len(seg_i)
    return dc_f, dc_i, np.array(seg_i, dtype=np.int64), np.array(seg_f, dtype=np.float64)


def subset_mask(rows, index, offsets):
    """dc_mask, the bits of the inputs given some neurons, for `rows`: (table row, its masked
    column, its mask-at column, the input: a DCInput or NoiseInput, whose target and neurons
    are read), in order; fills each such row's two columns. Each input gets a bit for every
    neuron of its population, so that any neuron of it reads a bit of its own input."""
    bits, n_bits = [], 0
    for row, masked, at, item in rows:
        if item.neurons is None:
            continue
        k = index[item.target]
        row[masked] = 1
        row[at] = n_bits - int(offsets[k])
        bits.append(n_bits + np.asarray(item.neurons, dtype=np.int64))
        n_bits += int(offsets[k + 1] - offsets[k])
    mask = np.zeros(-(-n_bits // 32), dtype=np.uint32)
    if bits:
        on = np.concatenate(bits)
        np.bitwise_or.at(mask, on >> 5, (np.uint32(1) << (on & 31).astype(np.uint32)))
    return mask


def steps(t, dt):
    """A window's bound t (ms) in steps, round(t / dt); STEP_NEVER for an infinite one."""
    return bp._steps_floor(t, dt)


def step_amplitude(seg_i, seg_f, s0, s1, t):
    """The amplitude (pA) at step t of the step current in rows s0 .. s1 (0 before the first)."""
    i = int(np.searchsorted(seg_i[s0:s1], t, side="right"))
    return float(seg_f[s0 + i - 1]) if i else 0.0


def flows_into(plan, d, gids):
    """Bool per gid: whether DC input d flows into it (its population's, and its subset's)."""
    k = int(np.searchsorted(plan.pop_i[:, bp.PI_DC_END], d, side="right"))
    return _into(plan, k, plan.dc_i[d, bp.DI_MASKED], plan.dc_i[d, bp.DI_MASK_AT], gids)


def noise_flows_into(plan, q, gids):
    """Bool per gid: whether noise current q flows into it."""
    row = plan.noise_i[q]
    return _into(plan, row[bp.NZ_POP], row[bp.NZ_MASKED], row[bp.NZ_MASK_AT], gids)


def _into(plan, k, masked, at, gids):
    gids = np.asarray(gids, dtype=np.int64)
    into = plan.pop_of[gids] == k
    if masked:
        bit = at + gids[into]
        into[into] = (plan.dc_mask[bit >> 5] >> (bit & 31).astype(np.uint32)) & 1 == 1
    return into


def dc_current(plan, d, t):
    """The current (pA) of DC input d in step t, 0 outside its window: the engines' sum."""
    row_f, row_i = plan.dc_f[d], plan.dc_i[d]
    if not row_i[bp.DI_START] <= t < row_i[bp.DI_STOP]:
        return 0.0
    a = float(row_f[bp.DF_AMP])
    if row_i[bp.DI_SEG_END] > row_i[bp.DI_SEG_START]:
        a = a + step_amplitude(plan.dc_seg_i, plan.dc_seg_f, row_i[bp.DI_SEG_START], row_i[bp.DI_SEG_END], t)
    if row_f[bp.DF_AC] != 0.0:
        a = a + float(row_f[bp.DF_AC]) * phase_words.sine_at(row_i[bp.DI_CYCLE], row_i[bp.DI_PHASE], t)
    return a
