"""What a projection's drawn weights and delays can be: their kinds and spreads (the plan's
JF_KINDS, JF_WSD and JF_DSD) and the extremes of its delays (its ring slots and
shortest delay). The largest |w| is fixed_point.weight_bound's."""
import numpy as np

from ..model.distributions import LogNormal, Normal, Uniform
from ..rng.synapse_variates import LOGNORMAL_WEIGHT, NEGATIVE_WEIGHT, UNIFORM_DELAY, UNIFORM_WEIGHT, Z_MAX, \
    uniform_extremes


def draw_kinds(weight, delay):
    """The kinds of a weight and a delay (rng.synapse_variates' bits): which are Uniform,
    whether the weight is a LogNormal, and of sign -1."""
    kinds = (UNIFORM_WEIGHT if isinstance(weight, Uniform) else 0) \
        | (UNIFORM_DELAY if isinstance(delay, Uniform) else 0)
    if isinstance(weight, LogNormal):
        kinds |= LOGNORMAL_WEIGHT | (NEGATIVE_WEIGHT if weight.sign < 0 else 0)
    return kinds


def spread(dist):
    """A weight's or delay's spread: a Normal's sd, a Uniform's high - low, a LogNormal's
    sigma, 0.0 for a constant (same unit as the distribution's; a LogNormal's of its log)."""
    if isinstance(dist, Normal):
        return dist.sd
    if isinstance(dist, LogNormal):
        return dist.sigma
    return dist.high - dist.low if isinstance(dist, Uniform) else 0.0


def table_mean(dist):
    """What the plan's JF_WMEAN holds for a weight: its mean, a LogNormal's mu."""
    return dist.mu if isinstance(dist, LogNormal) else dist.mean


def mean_weights(wmean, wsd, kinds):
    """The projections' mean weights from the plan's columns JF_WMEAN, JF_WSD and JF_KINDS:
    JF_WMEAN, or a LogNormal's sign exp(mu + sigma**2 / 2)."""
    kinds = np.asarray(kinds).astype(np.int64)
    out = np.array(wmean, dtype=np.float64)
    log = (kinds & LOGNORMAL_WEIGHT) != 0   # exp of the others' means would overflow past 709
    sign = np.where(kinds[log] & NEGATIVE_WEIGHT, -1.0, 1.0)
    out[log] = sign * np.exp(out[log] + 0.5 * np.asarray(wsd, dtype=np.float64)[log] ** 2)
    return out


def delay_extremes(mean, spread, uniform):
    """(smallest, largest) delay (ms) a projection's draws can take before rounding to steps:
    a Uniform's (synapse_variates.uniform_extremes), else mean -/+ Z_MAX sd (every drawn
    normal lies within Z_MAX: fixed_point)."""
    if uniform:
        return uniform_extremes(mean, spread)
    return mean - Z_MAX * spread, mean + Z_MAX * spread
