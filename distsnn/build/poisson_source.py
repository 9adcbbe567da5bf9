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
threshold), population k's in rows pop_i[k, PI_PS_SEG_START:PI_PS_SEG_END], by step.
"""
import math

import numpy as np

from ..rng import streams
from ..rng.philox import philox4x32
from . import plan as bp

SOURCE_TAG = streams.tag(streams.DOM_SOURCE, 0)


def threshold(rate, dt):
    """The spike threshold T of a source firing at `rate` Hz with steps of `dt` ms."""
    p = rate * dt * 1e-3
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"poisson source: rate {rate} Hz gives a spike probability {p} per step outside [0, 1]")
    return int(math.floor(p * 2.0 ** 32 + 0.5))


def segments(pops, pop_i, dt):
    """The ps_seg table of the populations `pops` (fills their PI_PS_SEG_* columns)."""
    rows = []
    for k, pop in enumerate(pops):
        if pop.model != "poisson_source":
            continue
        pop_i[k, bp.PI_PS_SEG_START] = len(rows)
        for time, rate in zip(pop.rate_times, pop.rate_values):
            rows.append((int(math.floor(time / dt + 0.5)), threshold(rate, dt)))
        pop_i[k, bp.PI_PS_SEG_END] = len(rows)
    return np.array(rows, dtype=np.int64).reshape(-1, bp.N_SEG)


def threshold_at(ps_seg, s0, s1, t):
    """The threshold in step t of the segments ps_seg[s0:s1] (0 before the first)."""
    i = int(np.searchsorted(ps_seg[s0:s1, bp.SEG_STEP], t, side="right")) - 1
    return 0 if i < 0 else int(ps_seg[s0 + i, bp.SEG_THRESH])


def spikes(key0, key1, t, g0, g1, thresh):
    """Gids in g0..g1-1 that spike in step t at threshold `thresh` (ascending)."""
    gids = np.arange(g0, g1, dtype=np.int64)
    if gids.size == 0 or thresh == 0:
        return gids[:0]
    t = int(t)
    words = philox4x32(t & 0xFFFFFFFF, t >> 32, gids >> 2, SOURCE_TAG, key0, key1)
    word = np.choose(gids & 3, words)
    return gids[word.astype(np.int64) < thresh]
