"""Fixed-point scales of the synaptic input buffers, with hard overflow bounds.

Synaptic input is summed in int64 so that the order of additions cannot change the sum.
Each (target population, receptor) gets a scale 2**k (units per pA) with k as large as the
proven bound allows, so the buffer never overflows:

    sum over incoming synapses of (|w| * 2**k + 1)  <=  2**62

Why this is a bound and not an estimate: a neuron emits at most one spike per step and a
synapse has one delay, so each synapse adds to a given buffer slot at most once; the number
of synapses onto one neuron is at most K_hard (all synapses of a fixed_total_number
projection, n_pre for fixed_probability / all_to_all, ...); and |w| <= |mean| + Z_MAX * sd,
because 32-bit uniforms bound Box-Muller normals by sqrt(64 ln 2) < Z_MAX (a Uniform's:
|mean| + (high - low) / 2). Poisson input adds
at most its per-step maximum count (the inversion sampler's largest outcome) times |w|.

int32 ring buffers use a tighter bound from every neuron's true in-degree (input_bound.py,
int32_scale_exponent below).
"""
import math
from fractions import Fraction

from ..rng.synapse_variates import E_MAX, EXPONENTIAL_WEIGHT, LOGNORMAL_WEIGHT, UNIFORM_WEIGHT, Z_MAX

LIMIT = 2.0 ** 62        # half of int64's range: headroom for the +1 rounding terms
K_MIN, K_MAX = -30, 32


def weight_bound(mean, spread, kinds=0):
    """Largest |w| (pA) a weight drawn as mean + spread * x can take: x a normal (clipped to
    keep its sign: |x| < Z_MAX), or where `kinds` (rng.synapse_variates' bits) says Uniform
    x = u - 1/2 in (-1/2, 1/2]; where it says Exponential, x = -log u in [0, E_MAX] (mean:
    low); where it says LogNormal, exp(mean + spread * z) with |z| < Z_MAX (mean and spread:
    mu and sigma), widened by 1e-9 for the engines' exp (2 ulp)."""
    kinds = int(kinds)
    if kinds & LOGNORMAL_WEIGHT:
        return math.exp(mean + Z_MAX * spread) * (1.0 + 1e-9)
    if kinds & EXPONENTIAL_WEIGHT:
        return abs(mean) + E_MAX * spread
    return abs(mean) + (0.5 if kinds & UNIFORM_WEIGHT else Z_MAX) * spread


def choose_scale_exponent(terms):
    """Largest k in [K_MIN, K_MAX] with sum(count * (wmax * 2**k + 1)) <= LIMIT.

    terms: iterable of (count, wmax) with count the hard bound on contributions per slot.
    Raises ValueError if even 2**K_MIN overflows.
    """
    terms = [(float(c), float(w)) for c, w in terms if c > 0]
    for k in range(K_MAX, K_MIN - 1, -1):
        if sum(c * (w * 2.0 ** k + 1.0) for c, w in terms) <= LIMIT:
            return k
    raise ValueError(f"synaptic input bound {sum(c * w for c, w in terms):.3e} pA per step "
                     "cannot be represented in int64 fixed point")


# --- int32 ring buffers -------------------------------------------------------------------
# With the exact input bound of every neuron (build/input_bound.py), the synaptic input of one
# step fits 32 bits for real models at a resolution far below a weight's spread; the ring
# buffers then take half the memory (the multi-area model: 24 GiB instead of 48).
LIMIT32 = 2 ** 31 - 1    # int32's largest value: |sum| <= sum of |w_int| <= LIMIT32 cannot wrap
WQ_MAX = 10              # weight bounds are counted in units of 2**-10 pA (or coarser, see wq_exponent)
RESOLUTION = 1e-4        # int32 only if a fixed-point unit is at most this fraction of the smallest |mean weight|


def wq_exponent(k64):
    """Exponent q of the integer weight units 2**-q pA used to sum weight bounds per neuron.

    q <= k64 keeps those sums inside int64: k64 satisfies sum(K_hard * (w_max * 2**k64 + 1))
    <= 2**62 over the inputs of the (population, receptor), and ceil(w_max * 2**q) <=
    w_max * 2**q + 1."""
    return min(WQ_MAX, int(k64))


def weight_units(w_max, q):
    """ceil(w_max * 2**q): an integer upper bound of a weight bound, in units of 2**-q pA."""
    return int(math.ceil(w_max * 2.0 ** q))


def int32_scale_exponent(a_max, d_max, q):
    """Largest k in [K_MIN, K_MAX] with a_max * 2**(k - q) + d_max <= LIMIT32, or None.

    a_max: the largest sum over one neuron's incoming synapses of weight_units(w_max, q);
    d_max: the largest in-degree. Each synapse adds |round(w * 2**k)| <= w_max * 2**k + 1 to
    a slot at most once, so the sum in any slot stays within LIMIT32 (exact arithmetic)."""
    room = LIMIT32 - int(d_max)
    for k in range(K_MAX, K_MIN - 1, -1):
        if Fraction(int(a_max)) * Fraction(2) ** (k - q) <= room:
            return k
    return None
