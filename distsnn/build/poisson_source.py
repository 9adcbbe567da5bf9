"""Poisson spike sources (Network.add_poisson_source, add_inhomogeneous_poisson_source): their
rate segments, the spike threshold, and the reference every engine matches.

A source population fires as a Bernoulli process on the time grid. Its rate is piecewise
constant: segment i starts at step s_i (the rate time rounded to the grid) and holds the
threshold T_i = round(rate_i * dt * 2**32) (rate in Hz, dt in ms: times 1e-3) until the next
one; before the first segment the threshold is 0 (no spikes). In step t each source spikes,
independently, with probability T / 2**32 (within 2**-33 of rate * dt): when word (gid & 3) of

    Philox((t_lo, t_hi, gid >> 2, SOURCE))

(one call serves the four neurons of an aligned quad, as the Poisson input's streams do) is
below T: an integer comparison, with no arithmetic that a backend could round differently.
Nothing is stored: the spikes of step t are a pure function of (seed, t, gid).

The plan keeps the segments of all populations in one table ps_seg (rows: first step,
threshold, and three sinusoid columns), population k's in rows
pop_i[k, PI_PS_SEG_START:PI_PS_SEG_END], by step.

Sinusoidal sources (Network.add_sinusoidal_poisson_source, NEST's
sinusoidal_poisson_generator) fire at rate + amplitude * sin(2 pi f T + phase), cut at 0, in
the step ending at T. Their segment holds the mean's threshold, the amplitude's A (the same
units: amplitude * dt * 2**32) and two uint64 words: the phase and the cycles per step as
fractions of 2**64. In step t the phase word is x = phase + cycles * (t + 1) mod 2**64 (integer
arithmetic, wrapping: exact everywhere, and without the drift a float phase gathers in long
runs), u = (x >> 11) * 2**-53 is exact, and the threshold is

    r = T + A * sin(2 pi u)  (portable psincos_2pi, every operation IEEE-rounded in this order),
    0 if r <= 0, else min(floor(r + 0.5), 2**32),

the same bits on every backend (build.phase_words).

MIP sources (Network.add_mip_source, NEST's mip_generator: Kuhn, Aertsen & Rotter 2003) share
a parent process. Their segments hold the parent's threshold and the copy threshold
C = round(p_copy * 2**32) (SEG_COPY; 0 for the other sources). In step t the parent spikes
when word 0 of

    Philox((t_lo, t_hi, g0, PARENT))      (g0: the population's first gid)

is below the parent's threshold, and then each source copies the spike when its own word
(above) is below C. One draw for the parent, one per source: still no state. Any two
sources' counts per step have correlation coefficient p_copy (1 - r) / (1 - p_copy r), with r
the parent's probability per step (p_copy, NEST's figure, as r goes to 0).
"""
import math

import numpy as np

from ..rng import streams
from ..rng.philox import philox4x32
from . import plan as bp
from .phase_words import sine_at, words

SOURCE_TAG = streams.tag(streams.DOM_SOURCE, 0)
PARENT_TAG = streams.tag(streams.DOM_SOURCE, 1)   # a MIP source's parent process


def threshold(rate, dt):
    """The spike threshold T of a source firing at `rate` Hz with steps of `dt` ms."""
    p = rate * dt * 1e-3
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"poisson source: rate {rate} Hz gives a spike probability {p} per step outside [0, 1]")
    return int(math.floor(p * 2.0 ** 32 + 0.5))


def copy_threshold(p_copy):
    """SEG_COPY of a MIP source copying its parent's spikes with probability p_copy (in (0, 1])."""
    return min(int(math.floor(p_copy * 2.0 ** 32 + 0.5)), 2 ** 32)


def sinusoid_columns(amplitude, frequency, phase, dt):
    """(SEG_AMP, SEG_CYCLE, SEG_PHASE) of a sinusoid of `amplitude` Hz, `frequency` Hz and
    `phase` degrees with steps of `dt` ms (build.phase_words)."""
    return (int(math.floor(amplitude * dt * 1e-3 * 2.0 ** 32 + 0.5)),) + words(frequency, phase, dt)


def segments(pops, pop_i, dt):
    """The ps_seg table of the populations `pops` (fills their PI_PS_SEG_* columns)."""
    rows = []
    for k, pop in enumerate(pops):
        if pop.model != "poisson_source":
            continue
        pop_i[k, bp.PI_PS_SEG_START] = len(rows)
        sine = sinusoid_columns(*pop.sinusoid, dt) if pop.sinusoid is not None else (0, 0, 0)
        copy = copy_threshold(pop.p_copy) if pop.p_copy is not None else 0
        for i, (time, rate) in enumerate(zip(pop.rate_times, pop.rate_values)):
            # a sinusoidal source's window is its first segment; the one at its stop is 0
            rows.append((int(math.floor(time / dt + 0.5)), threshold(rate, dt)) + (sine if i == 0 else (0, 0, 0))
                        + (copy,))
        pop_i[k, bp.PI_PS_SEG_END] = len(rows)
    return np.array(rows, dtype=np.int64).reshape(-1, bp.N_SEG)


def modulated(row, t):
    """The threshold in step t of a segment row with an amplitude (the arithmetic the kernels
    repeat, operation for operation)."""
    r = float(row[bp.SEG_THRESH]) + float(row[bp.SEG_AMP]) * sine_at(row[bp.SEG_CYCLE], row[bp.SEG_PHASE], int(t) + 1)
    return 0 if r <= 0.0 else min(int(math.floor(r + 0.5)), 2 ** 32)


def threshold_at(ps_seg, s0, s1, t):
    """The threshold in step t of the segments ps_seg[s0:s1] (0 before the first)."""
    i = int(np.searchsorted(ps_seg[s0:s1, bp.SEG_STEP], t, side="right")) - 1
    if i < 0:
        return 0
    row = ps_seg[s0 + i]
    return modulated(row, t) if row[bp.SEG_AMP] != 0 else int(row[bp.SEG_THRESH])


def copy_at(ps_seg, s0, s1, t):
    """The copy threshold (SEG_COPY) in step t of the segments ps_seg[s0:s1] (0: not MIP)."""
    i = int(np.searchsorted(ps_seg[s0:s1, bp.SEG_STEP], t, side="right")) - 1
    return 0 if i < 0 else int(ps_seg[s0 + i, bp.SEG_COPY])


def spikes(key0, key1, t, g0, g1, thresh, copy=0):
    """Gids in g0..g1-1 that spike in step t at threshold `thresh` (ascending); with a copy
    threshold (a MIP population of first gid g0), those that copy their parent's spike."""
    gids = np.arange(g0, g1, dtype=np.int64)
    if gids.size == 0 or thresh == 0:
        return gids[:0]
    t = int(t)
    if copy:
        parent = philox4x32(t & 0xFFFFFFFF, t >> 32, np.array([g0]), PARENT_TAG, key0, key1)[0]
        if int(parent[0]) >= thresh:
            return gids[:0]
        thresh = copy
    words = philox4x32(t & 0xFFFFFFFF, t >> 32, gids >> 2, SOURCE_TAG, key0, key1)
    word = np.choose(gids & 3, words)
    return gids[word.astype(np.int64) < thresh]
