"""Poisson background input: per-step means, the inversion sampler's table, bounds, reference.

A Poisson input of total rate R (Hz) into a neuron has mean lam = R * dt per step; it is
drawn as n_sub independent parts of mean lam_sub = lam / n_sub <= LAMBDA_MAX, each by
inversion of one 32-bit uniform u = (x + 0.5) * 2**-32 (strictly inside (0, 1)):

    k = smallest k with u <= cdf[k]   (k <= KCAP)

The table cdf is computed once on the host (p_0 = exp(-lam_sub), p_k = p_{k-1} * (lam_sub/k),
cdf_k = cdf_{k-1} + p_k) and passed to every backend, so all of them compare against the
very same numbers and the sampler has no arithmetic at all.

Streams: the uniform of part j for neuron gid at emission step s is word (gid & 3) of
Philox((s_lo, s_hi, gid >> 2, NOISE | input << 16 | j)): one Philox call serves four
neighbouring neurons.
"""
import math

import numpy as np

from ..rng import streams
from ..rng.philox import philox4x32
from ..rng.portable_math import pexp

LAMBDA_MAX = 8.0   # largest mean of one part
KCAP = 64          # table length - 1; for lam_sub <= 8, 1 - cdf[40] < 1e-13
U_MAX = (2.0 ** 32 - 0.5) * 2.0 ** -32   # largest uniform the sampler sees


def split(lam):
    """(lam_sub, n_sub) with n_sub * lam_sub = lam and lam_sub <= LAMBDA_MAX."""
    if lam <= 0:
        return 0.0, 0
    n_sub = max(1, math.ceil(lam / LAMBDA_MAX))
    return lam / n_sub, n_sub


def cdf_table(lam_sub):
    """cdf[k], k = 0..KCAP, of Poisson(lam_sub), float64, by the fixed recurrence above."""
    table = np.zeros(KCAP + 1)
    p = float(pexp(-lam_sub))
    f = p
    table[0] = f
    for k in range(1, KCAP + 1):
        p = p * (lam_sub / k)
        f = f + p
        table[k] = f
    return table


def sample(u, cdf):
    """Smallest k <= KCAP with u <= cdf[k] (vectorised over u)."""
    return np.minimum(np.searchsorted(cdf, u, side="left"), KCAP)


def max_count(lam_sub, n_sub):
    """Largest count the sampler can return per step over all parts (a hard bound)."""
    if n_sub == 0 or lam_sub == 0.0:
        return 0
    return int(sample(np.array([U_MAX]), cdf_table(lam_sub))[0]) * n_sub


def noise_tag(input_index, part):
    return streams.tag(streams.DOM_NOISE, (input_index << 16) | part)


def counts_reference(plan, q, t, gids):
    """NumPy reference: counts of Poisson input q arriving at step t for neurons `gids`
    (emitted at step s = t - delay, none outside the input's window)."""
    from . import plan as bp
    s = t - int(plan.pin_i[q, bp.QI_DELAY])
    gids = np.asarray(gids, dtype=np.int64)
    total = np.zeros(gids.size, dtype=np.int64)
    if s < plan.pin_i[q, bp.QI_START] or s >= plan.pin_i[q, bp.QI_STOP]:   # start >= 0: s >= 0 too
        return total
    for j in range(int(plan.pin_i[q, bp.QI_NSUB])):
        words = philox4x32(s & 0xFFFFFFFF, s >> 32, gids >> 2, noise_tag(int(plan.pin_i[q, bp.QI_INDEX]), j),
                           plan.key0, plan.key1)
        w = np.choose(gids & 3, words)
        u = (w.astype(np.float64) + 0.5) * 2.0 ** -32
        total += sample(u, plan.pin_cdf[q])
    return total
