"""The variates of a synapse's weight and delay (NumPy specification; the engines' kernels:
the CPU's rng_kernels.variates and uniform_pair, which its row loops and list_variates call,
and the GPU's common.cuh variates).

A drawn weight or delay is mean + spread * x, then clipped (the weight to the sign of its
mean, the delay to dt or redrawn, as the rules do):
- Normal: spread = sd, x a standard normal. Box-Muller of the synapse's counter words 1 and 2
  gives two; the cosine branch is the weight's, the sine branch the delay's.
- Uniform(low, high): mean = (low + high) / 2, spread = high - low, x = u - 1/2 with u in
  (0, 1] from one 32-bit word (uniform_open0_closed1), so the value lies in (low, high].
  The word is the quantity's own word of the pair (1 for the weight, 2 for the delay) where
  the other quantity draws no normal, else word 3, which no rule uses for anything else (word
  0 is a row's skip or target). So every pair of kinds gets independent variates, and a
  projection without a Uniform draws exactly what it drew before Uniform existed.

- LogNormal (weights only): sign exp(mu + sigma z), z the weight's normal as above (so its
  words are a Normal's), exp the engines' own (portable_math.pexp), no clipping.

A projection's kinds (plan column JF_KINDS, a float as the other columns): UNIFORM_WEIGHT,
UNIFORM_DELAY, LOGNORMAL_WEIGHT (with NEGATIVE_WEIGHT for sign -1), 0 for Normals and
constants.
"""
import numpy as np

from .philox import uniform_open0_closed1
from .portable_math import box_muller, pexp

UNIFORM_WEIGHT = 1
UNIFORM_DELAY = 2
LOGNORMAL_WEIGHT = 4     # a LogNormal weight: sign exp(mu + sigma z0), mu and sigma in JF_WMEAN, JF_WSD
NEGATIVE_WEIGHT = 8      # ... of sign -1
TWO_M32 = 2.0 ** -32
Z_MAX = 6.6605           # > sqrt(-2 ln 2**-32) = 6.66043...: every Box-Muller normal of 32-bit words is below


def kinds(bits, w_spread, d_spread):
    """(weight uniform, delay uniform, weight normal, delay normal) of a projection's kinds
    (JF_KINDS) and spreads: a quantity draws a normal (a LogNormal weight too) where it is not
    Uniform and its spread is nonzero."""
    bits = int(bits)
    wu, du = bool(bits & UNIFORM_WEIGHT), bool(bits & UNIFORM_DELAY)
    return wu, du, (not wu) and w_spread != 0.0, (not du) and d_spread != 0.0


def variates(words1, words2, words3, bits, w_spread, d_spread):
    """(x_w, x_d): the weight's and the delay's variates of synapses with counter words 1 to 3
    (uint32 arrays), for a projection with kinds `bits` (JF_KINDS) and spreads w_spread,
    d_spread (zeros where a quantity is constant)."""
    wu, du, wn, dn = kinds(bits, w_spread, d_spread)
    shape = np.shape(words1)
    z0, z1 = np.zeros(shape), np.zeros(shape)
    if wn or dn:
        z0, z1 = box_muller(uniform_open0_closed1(words1), uniform_open0_closed1(words2))
    if wu:
        z0 = uniform_open0_closed1(words3 if dn else words1) - 0.5
    if du:
        z1 = uniform_open0_closed1(words3 if wn else words2) - 0.5
    return z0, z1


def weight_values(z0, wmean, wsd, kinds):
    """Weights from the weight's variates z0: mean + spread z0 clipped to the sign of the
    mean, or where `kinds` says LogNormal (wmean, wsd its mu and sigma) sign exp(mu + sigma z0)
    with the engines' exp (portable_math.pexp)."""
    kinds = int(kinds)
    if kinds & LOGNORMAL_WEIGHT:
        w = pexp(wmean + wsd * np.asarray(z0))
        return -w if kinds & NEGATIVE_WEIGHT else w
    w = wmean + wsd * np.asarray(z0)
    return np.maximum(w, 0.0) if wmean >= 0 else np.minimum(w, 0.0)


def uniform_extremes(mean, spread):
    """(smallest, largest) value mean + spread * (u - 1/2) takes over u in [2**-32, 1], in the
    kernels' arithmetic (binary64, no fused multiply-add): the bounds a plan takes for a
    uniform delay's steps and ring slots, exact where a bound computed from low and high could
    be one rounding off."""
    return mean + spread * (TWO_M32 - 0.5), mean + spread * 0.5
