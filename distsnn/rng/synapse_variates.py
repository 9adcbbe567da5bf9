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

- Exponential(beta, low): mean = low, spread = beta, x = -log u, u from one 32-bit word as a
  Uniform's (the same word), log the engines' own (portable_math.plog), so the value lies
  in [low, low + beta E_MAX]; a weight's is then negated where its sign is -1, and not clipped
  (it has one sign). Uniform and Exponential are the one-word kinds.
- LogNormal (weights only): sign exp(mu + sigma z), z the weight's normal as above (so its
  words are a Normal's), exp the engines' own (portable_math.pexp), no clipping.

A projection's kinds (plan column JF_KINDS, a float as the other columns): UNIFORM_WEIGHT,
UNIFORM_DELAY, EXPONENTIAL_WEIGHT, EXPONENTIAL_DELAY, LOGNORMAL_WEIGHT (with NEGATIVE_WEIGHT
for a LogNormal's or an Exponential's sign -1), 0 for Normals and constants.
"""
import numpy as np

from .philox import uniform_open0_closed1
from .portable_math import box_muller, pexp, plog

UNIFORM_WEIGHT = 1
UNIFORM_DELAY = 2
LOGNORMAL_WEIGHT = 4     # a LogNormal weight: sign exp(mu + sigma z0), mu and sigma in JF_WMEAN, JF_WSD
NEGATIVE_WEIGHT = 8      # ... of sign -1 (a LogNormal's or an Exponential's)
EXPONENTIAL_WEIGHT = 16  # an Exponential weight: sign (low + beta x), low and beta in JF_WMEAN, JF_WSD
EXPONENTIAL_DELAY = 32   # an Exponential delay: low + beta x, low and beta in JF_DMEAN, JF_DSD
WORD_WEIGHT = UNIFORM_WEIGHT | EXPONENTIAL_WEIGHT   # the weight's variate is of one word (not a normal)
WORD_DELAY = UNIFORM_DELAY | EXPONENTIAL_DELAY
TWO_M32 = 2.0 ** -32
Z_MAX = 6.6605           # > sqrt(-2 ln 2**-32) = 6.66043...: every Box-Muller normal of 32-bit words is below
E_MAX = float(-plog(TWO_M32))   # 22.18...: the largest Exponential variate -log u, u >= 2**-32 (log u <= 0)


def kinds(bits, w_spread, d_spread):
    """(weight of one word, delay of one word, weight normal, delay normal) of a projection's
    kinds (JF_KINDS) and spreads: a quantity's variate is of one word where it is Uniform or
    Exponential; it draws a normal (a LogNormal weight too) where it is not and its spread is
    nonzero."""
    bits = int(bits)
    wu, du = bool(bits & WORD_WEIGHT), bool(bits & WORD_DELAY)
    return wu, du, (not wu) and w_spread != 0.0, (not du) and d_spread != 0.0


def word_variate(words, exponential):
    """The variate of one 32-bit word: -log u (an Exponential's) or u - 1/2 (a Uniform's), u in
    (0, 1] (uniform_open0_closed1)."""
    u = uniform_open0_closed1(words)
    return -plog(u) if exponential else u - 0.5


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
        z0 = word_variate(words3 if dn else words1, int(bits) & EXPONENTIAL_WEIGHT)
    if du:
        z1 = word_variate(words3 if wn else words2, int(bits) & EXPONENTIAL_DELAY)
    return z0, z1


def weight_values(z0, wmean, wsd, kinds):
    """Weights from the weight's variates z0: mean + spread z0 clipped to the sign of the
    mean, or where `kinds` says LogNormal (wmean, wsd its mu and sigma) sign exp(mu + sigma z0)
    with the engines' exp (portable_math.pexp); an Exponential's low + beta z0 (>= 0, so the
    clip leaves it) is negated where its sign is -1."""
    kinds = int(kinds)
    w = wmean + wsd * np.asarray(z0)
    w = np.maximum(w, 0.0) if wmean >= 0 else np.minimum(w, 0.0)
    if kinds & LOGNORMAL_WEIGHT:
        w = pexp(wmean + wsd * np.asarray(z0))
    return -w if kinds & NEGATIVE_WEIGHT else w


def uniform_extremes(mean, spread):
    """(smallest, largest) value mean + spread * (u - 1/2) takes over u in [2**-32, 1], in the
    kernels' arithmetic (binary64, no fused multiply-add): the bounds a plan takes for a
    uniform delay's steps and ring slots, exact where a bound computed from low and high could
    be one rounding off."""
    return mean + spread * (TWO_M32 - 0.5), mean + spread * 0.5


def exponential_extremes(low, beta):
    """(smallest, largest) value low + beta * (-log u) takes over u in [2**-32, 1], in the
    kernels' arithmetic: plog(1) is 0, and -plog(u) grows as u falls to 2**-32 (E_MAX)."""
    return low, low + beta * E_MAX
