"""Poisson spike sources (Network.add_poisson_source): the threshold and the reference.

A source population fires as a Bernoulli process on the time grid: in every step t of its
window (start <= t < stop, in steps) each source spikes, independently, with probability
rate * dt. The draw is word (gid & 3) of

    Philox((t_lo, t_hi, gid >> 2, SOURCE))

(one call serves the four neurons of an aligned quad, as the Poisson input's streams do),
and the source spikes when that 32-bit word is below the integer threshold

    T = round(rate * dt * 2**32)   (rate in Hz, dt in ms: times 1e-3)

so the test is an integer comparison, with no arithmetic that a backend could round
differently. P(spike) = T / 2**32, within 2**-33 of rate * dt. Nothing is stored: the spikes
of step t are a pure function of (seed, t, gid).
"""
import math

import numpy as np

from ..rng import streams
from ..rng.philox import philox4x32

SOURCE_TAG = streams.tag(streams.DOM_SOURCE, 0)


def threshold(rate, dt):
    """The spike threshold T of a source firing at `rate` Hz with steps of `dt` ms."""
    p = rate * dt * 1e-3
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"poisson source: rate {rate} Hz gives a spike probability {p} per step outside [0, 1]")
    return int(math.floor(p * 2.0 ** 32 + 0.5))


def spikes(key0, key1, t, g0, g1, thresh):
    """Gids in g0..g1-1 that spike in step t (ascending): the reference every engine matches."""
    gids = np.arange(g0, g1, dtype=np.int64)
    if gids.size == 0:
        return gids
    t = int(t)
    words = philox4x32(t & 0xFFFFFFFF, t >> 32, gids >> 2, SOURCE_TAG, key0, key1)
    word = np.choose(gids & 3, words)
    return gids[word.astype(np.int64) < thresh]
