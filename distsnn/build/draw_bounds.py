"""What a projection's drawn weights and delays can be: their uniform bits and spreads (the
plan's JF_UNIFORM, JF_WSD and JF_DSD) and the extremes of its delays (its ring slots and
shortest delay). The largest |w| is fixed_point.weight_bound's."""
from ..model.distributions import Normal, Uniform
from ..rng.synapse_variates import UNIFORM_DELAY, UNIFORM_WEIGHT, uniform_extremes
from .fixed_point import Z_MAX


def uniform_bits(weight, delay):
    """Which of a weight and a delay are Uniform (rng.synapse_variates' bits)."""
    return (UNIFORM_WEIGHT if isinstance(weight, Uniform) else 0) | (UNIFORM_DELAY if isinstance(delay, Uniform) else 0)


def spread(dist):
    """A weight's or delay's spread: a Normal's sd, a Uniform's high - low, 0.0 for a
    constant (same unit as the distribution's)."""
    if isinstance(dist, Normal):
        return dist.sd
    return dist.high - dist.low if isinstance(dist, Uniform) else 0.0


def delay_extremes(mean, spread, uniform):
    """(smallest, largest) delay (ms) a projection's draws can take before rounding to steps:
    a Uniform's (synapse_variates.uniform_extremes), else mean -/+ Z_MAX sd (every drawn
    normal lies within Z_MAX: fixed_point)."""
    if uniform:
        return uniform_extremes(mean, spread)
    return mean - Z_MAX * spread, mean + Z_MAX * spread
