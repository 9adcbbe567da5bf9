"""Fixed-point scales of the synaptic input buffers, with hard overflow bounds.

Synaptic input is summed in int64 so that the order of additions cannot change the sum.
Each (target population, receptor) gets a scale 2**k (units per pA) with k as large as the
proven bound allows, so the buffer never overflows:

    sum over incoming synapses of (|w| * 2**k + 1)  <=  2**62

Why this is a bound and not an estimate: a neuron emits at most one spike per step and a
synapse has one delay, so each synapse adds to a given buffer slot at most once; the number
of synapses onto one neuron is at most K_hard (all synapses of a fixed_total_number
projection, n_pre for fixed_probability / all_to_all, ...); and |w| <= |mean| + Z_MAX * sd,
because 32-bit uniforms bound Box-Muller normals by sqrt(64 ln 2) < Z_MAX. Poisson input adds
at most its per-step maximum count (the inversion sampler's largest outcome) times |w|.
"""
Z_MAX = 6.6605           # > sqrt(-2 ln 2**-32) = 6.66043...
LIMIT = 2.0 ** 62        # half of int64's range: headroom for the +1 rounding terms
K_MIN, K_MAX = -30, 32


def weight_bound(mean, sd):
    """Largest |w| (pA) a weight drawn as mean + sd*z (clipped to keep its sign) can take."""
    return abs(mean) + Z_MAX * sd


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
