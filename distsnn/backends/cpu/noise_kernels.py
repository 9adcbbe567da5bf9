"""Numba kernels: noise currents (Network.add_noise_input, and distributed I_e as frozen ones)
on the CPU. A unit with an active input gets the injected current of each of its neurons in
`stim` (injected_current), the update reads it from there (neuron_kernels.update_neurons).
Each neuron's value for an interval is drawn from its stream (streams.DOM_CURRENT) by
add_noise_current; a current drawn for longer than one step is held over its interval."""
import numpy as np

from ...build import plan as bp
from ...rng import streams
from .current_kernels import has_bit
from .jit import kernel
from .rng_kernels import M32, box_muller, philox, u01

CURRENT_TAG = np.int64(streams.DOM_CURRENT << streams.DOMAIN_SHIFT)


@kernel(inline="always")
def noise_pair(c0, c1, pair, tag, key0, key1, uniform):
    """The two standard values (z of gid 2 pair, z of gid 2 pair + 1) of a noise current's
    interval (c0, c1): one Philox call, words 0 and 1 through Box-Muller, or their uniforms."""
    w0, w1, _, _ = philox(c0, c1, pair, tag, key0, key1)
    if uniform:
        return u01(w0), u01(w1)
    return box_muller(u01(w0), u01(w1))


@kernel
def add_noise_current(interval, g0, g1, tag, key0, key1, a, b, uniform, stim):
    """stim[g - g0] += a + b * z_g (pA) for the neurons g0..g1-1, z_g their standard normal
    of this interval: one Philox call per gid pair (g >> 1; streams.DOM_CURRENT), words 0
    and 1 through Box-Muller, the first normal the even gid's, the second the odd's. With
    `uniform`, z_g is the uniform of the gid's word, u01(w0) even, u01(w1) odd, instead.

    The pairs wholly inside g0..g1-1 are drawn in a loop of their own without a branch, which
    LLVM vectorises (each kind in its own loop), into a scratch array, then added to stim: with
    the adds in the drawing loop it was not vectorised, 15 against 4 ns per neuron (one
    thread, 1024 neurons). A half pair at either end is done apart."""
    c0 = np.uint64(interval) & M32
    c1 = np.uint64(interval) >> np.uint64(32)
    if g1 <= g0:
        return
    first, last = (g0 + 1) >> 1, g1 >> 1        # the whole pairs: 2 first >= g0, 2 last <= g1
    if g0 & 1:                                   # g0 odd: the second half of pair g0 >> 1
        z0, z1 = noise_pair(c0, c1, g0 >> 1, tag, key0, key1, uniform)
        stim[0] = stim[0] + (a + b * z1)
    n = max(last - first, 0)
    z = np.empty(2 * n)                          # z of pair first + i at i (even gid), n + i (odd)
    if uniform:
        for i in range(n):
            z[i], z[n + i] = noise_pair(c0, c1, first + i, tag, key0, key1, True)
    else:
        for i in range(n):
            z[i], z[n + i] = noise_pair(c0, c1, first + i, tag, key0, key1, False)
    off = 2 * first - g0
    for i in range(n):
        stim[off + 2 * i] = stim[off + 2 * i] + (a + b * z[i])
        stim[off + 2 * i + 1] = stim[off + 2 * i + 1] + (a + b * z[n + i])
    if (g1 & 1) and g1 - 1 >= max(g0, 2 * last):   # g1 odd: the first half of pair g1 >> 1
        z0, z1 = noise_pair(c0, c1, g1 >> 1, tag, key0, key1, uniform)
        stim[g1 - 1 - g0] = stim[g1 - 1 - g0] + (a + b * z0)


@kernel
def injected_current(t, k, g0, g1, i_stim, noise_f, noise_i, mask, key0, key1, held, held_at, held_iv, stim, preset):
    """Whether the unit's neurons g0..g1-1 of population k take a current each at step t:
    with `preset` (stim[:g1 - g0] holds I_e + DC per neuron already: an input into some
    neurons, current_kernels.neuron_currents), or when the population has a noise current
    (a frozen one, a distributed I_e, at every step); with the latter, stim[:g1 - g0] =
    i_stim (I_e + DC, pA) unless preset, plus each active one's current, in the order they
    were added.

    A current drawn for longer than one step (NoiseInput.dt above the step; a frozen one's
    interval never ends) is drawn once per interval into `held` (the unit's block
    held_at[q] of it, held_layout) and read from there while its interval lasts (held_iv[q]:
    the interval held, -1 none): the values are a function of (interval, gid) alone, so the
    bits are those of drawing it every step (add_noise_current on zeros: 0 + x is x), and a
    restart anywhere in an interval finds them again. An I_e given per neuron (NZ_GIVEN) is
    held from the build on (fill_given_currents) and never drawn. A current into some
    neurons only (NZ_MASKED; their bits in `mask`, build.dc_inputs) is held too, also when
    redrawn every step, and added to those neurons alone."""
    noisy = preset
    n = g1 - g0
    for q in range(noise_i.shape[0]):
        if noise_i[q, bp.NZ_POP] == k and noise_i[q, bp.NZ_START] <= t < noise_i[q, bp.NZ_STOP]:
            if not noisy:
                stim[:n] = i_stim
                noisy = True
            every = noise_i[q, bp.NZ_EVERY]
            tag = CURRENT_TAG | noise_i[q, bp.NZ_INDEX]
            uniform = noise_i[q, bp.NZ_KIND] == bp.NZ_UNIFORM
            a = held_at[q]
            if a < 0:      # redrawn every step: nothing to hold
                add_noise_current(t // every, g0, g1, tag, key0, key1, noise_f[q, 0], noise_f[q, 1], uniform, stim)
                continue
            interval = t // every
            h = held[a:a + n]
            if held_iv[q] != interval and noise_i[q, bp.NZ_KIND] != bp.NZ_GIVEN:   # given: held from the build
                h[:] = 0.0
                add_noise_current(interval, g0, g1, tag, key0, key1, noise_f[q, 0], noise_f[q, 1], uniform, h)
                held_iv[q] = interval
            if noise_i[q, bp.NZ_MASKED] == 0:
                for i in range(n):
                    stim[i] = stim[i] + h[i]
                continue
            at = noise_i[q, bp.NZ_MASK_AT] + g0
            for i in range(n):
                if has_bit(mask, at + i):
                    stim[i] = stim[i] + h[i]
    return noisy


def fill_given_currents(plan, units, gids, held, held_at):
    """Put the I_e given per neuron (build.neuron_values.given_currents) into the held blocks
    of its frozen current (injected_current never redraws those)."""
    from ...build.neuron_values import given_currents
    given = given_currents(plan, gids)
    for u in range(units.shape[0]):
        lo = units[u, bp.UI_LOCAL_START]
        n = units[u, bp.UI_GID_END] - units[u, bp.UI_GID_START]
        for q in range(plan.noise_i.shape[0]):
            if held_at[u, q] >= 0 and plan.noise_i[q, bp.NZ_KIND] == bp.NZ_GIVEN:
                held[held_at[u, q]:held_at[u, q] + n] = given[lo:lo + n]


def held_layout(plan, units):
    """Where the CPU engine holds the noise currents drawn for longer than one step (frozen
    ones included) and those into some neurons only (injected_current): held_at (units x
    noise inputs), the offset of each unit's block of `held` for each such input of its
    population (-1 elsewhere), and the length of `held` (a float64 per neuron and held
    input)."""
    nz = plan.noise_i
    held_at = np.full((max(units.shape[0], 1), max(nz.shape[0], 1)), -1, dtype=np.int64)
    size = 0
    for u in range(units.shape[0]):
        for q in range(nz.shape[0]):
            if nz[q, bp.NZ_POP] == units[u, bp.UI_POP] and (nz[q, bp.NZ_EVERY] > 1 or nz[q, bp.NZ_MASKED]):
                held_at[u, q] = size
                size += int(units[u, bp.UI_GID_END] - units[u, bp.UI_GID_START])
    return held_at, size
