"""Numba kernels: the currents that are functions of time alone (DC, AC and step currents;
build.dc_inputs) on the CPU. A unit whose inputs all flow into every neuron gets one value,
I_e + each active input's current (unit_current); one with an active input given some
neurons only gets a value per neuron in `stim` (neuron_currents), summed in the same order,
so that a neuron's current has the same bits either way and on every engine."""
import numpy as np

from ...build import plan as bp
from .jit import kernel
from .rng_kernels import psincos_2pi

TWO_M53 = 2.0 ** -53


@kernel(inline="always")
def sine_at(cycles, phase, n):
    """sin(2 pi u) at step n of a sinusoid given by its phase words (build.phase_words: the
    word wraps modulo 2**64, so uint64 arithmetic)."""
    x = np.uint64(phase) + np.uint64(cycles) * np.uint64(n)
    s, _ = psincos_2pi(float(x >> np.uint64(11)) * TWO_M53)
    return s


@kernel(inline="always")
def has_bit(mask, b):
    """Whether bit b of the uint32 words `mask` is set (build.dc_inputs: an input into some
    neurons flows into gid g if bit DI_MASK_AT + g, or NZ_MASK_AT + g, is)."""
    return (mask[b >> 5] >> np.uint32(b & 31)) & np.uint32(1) != 0


@kernel(inline="always")
def step_amplitude(seg_i, seg_f, s0, s1, t):
    """The amplitude (pA) at step t of the step current in rows s0..s1 of (seg_i, seg_f):
    that of the last row whose first step is <= t (a binary search), 0 before the first."""
    lo, hi = s0, s1
    while lo < hi:
        mid = (lo + hi) >> 1
        if seg_i[mid] <= t:
            lo = mid + 1
        else:
            hi = mid
    return seg_f[lo - 1] if lo > s0 else 0.0


@kernel(inline="always")
def dc_current(dc_f, dc_i, seg_i, seg_f, d, t):
    """The current (pA) of DC input d in step t (within its window): the constant, plus a step
    current's amplitude (Network.add_step_current_input), plus an AC input's sinusoid at the
    step's start time (Network.add_ac_input), in this order (build.dc_inputs)."""
    a = dc_f[d, bp.DF_AMP]
    if dc_i[d, bp.DI_SEG_END] > dc_i[d, bp.DI_SEG_START]:
        a = a + step_amplitude(seg_i, seg_f, dc_i[d, bp.DI_SEG_START], dc_i[d, bp.DI_SEG_END], t)
    if dc_f[d, bp.DF_AC] != 0.0:
        a = a + dc_f[d, bp.DF_AC] * sine_at(dc_i[d, bp.DI_CYCLE], dc_i[d, bp.DI_PHASE], t)
    return a


@kernel(inline="always")
def unit_current(i_e, dc_f, dc_i, seg_i, seg_f, d0, d1, t):
    """(I_e + the currents of DC inputs d0..d1-1 active at step t, pA; whether one of them
    flows into some neurons only, which the sum then leaves out: neuron_currents)."""
    i_stim = i_e
    some = False
    for d in range(d0, d1):
        if dc_i[d, bp.DI_START] <= t < dc_i[d, bp.DI_STOP]:
            if dc_i[d, bp.DI_MASKED] != 0:
                some = True
            else:
                i_stim = i_stim + dc_current(dc_f, dc_i, seg_i, seg_f, d, t)
    return i_stim, some


@kernel
def neuron_currents(i_e, dc_f, dc_i, seg_i, seg_f, mask, d0, d1, t, g0, n, stim):
    """stim[i] = I_e + the current of each DC input d0..d1-1 active at step t that flows into
    gid g0 + i (pA), in the inputs' order: for units with an input given some neurons."""
    for i in range(n):
        stim[i] = i_e
    for d in range(d0, d1):
        if not dc_i[d, bp.DI_START] <= t < dc_i[d, bp.DI_STOP]:
            continue
        a = dc_current(dc_f, dc_i, seg_i, seg_f, d, t)
        if dc_i[d, bp.DI_MASKED] == 0:
            for i in range(n):
                stim[i] = stim[i] + a
            continue
        at = dc_i[d, bp.DI_MASK_AT] + g0
        for i in range(n):
            if has_bit(mask, at + i):
                stim[i] = stim[i] + a
