"""Poisson background input: per-step means, the inversion sampler's tables and bounds.

A Poisson input of total rate R (Hz) into a neuron has mean lam = R * dt per step; it is
drawn as n_sub independent parts of mean lam_sub = lam / n_sub <= LAMBDA_MAX by sequential
inversion of one 32-bit uniform u = (x + 0.5) * 2**-32 each (strictly inside (0, 1)):

    k = 0; p = exp(-lam_sub); F = p
    while u > F and k < KCAP: k += 1; p = p * ratio[k]; F = F + p

with ratio[k] = lam_sub / k computed once on the host, so the loop has no division in its
dependency chain and every backend multiplies by the very same numbers.
"""
import math

import numpy as np

from ..rng.portable_math import pexp

LAMBDA_MAX = 8.0   # largest mean of one part
KCAP = 64          # loop cap; for lam_sub <= 8 the sampler stops before (P(X > 40) < 1e-13)
U_MAX = (2.0 ** 32 - 0.5) * 2.0 ** -32   # largest uniform the sampler sees


def split(lam):
    """(lam_sub, n_sub) with n_sub * lam_sub = lam and lam_sub <= LAMBDA_MAX."""
    if lam <= 0:
        return 0.0, 0
    n_sub = max(1, math.ceil(lam / LAMBDA_MAX))
    return lam / n_sub, n_sub


def ratios(lam_sub):
    """Table ratio[k] = lam_sub / k for k = 1..KCAP (ratio[0] unused), float64."""
    table = np.zeros(KCAP + 1)
    for k in range(1, KCAP + 1):
        table[k] = lam_sub / k
    return table


def exp_neg(lam_sub):
    return float(pexp(-lam_sub))


def sample(u, explam, ratio):
    """The sampler on the host (reference for the kernels); returns k."""
    k = 0
    p = explam
    f = p
    while u > f and k < KCAP:
        k += 1
        p = p * ratio[k]
        f = f + p
    return k


def max_count(lam_sub, n_sub):
    """Largest count the sampler can return per step over all parts (a hard bound)."""
    if n_sub == 0 or lam_sub == 0.0:
        return 0
    return sample(U_MAX, exp_neg(lam_sub), ratios(lam_sub)) * n_sub
