"""What a projection's drawn weights and delays can be: their kinds and spreads (the plan's
JF_KINDS, JF_WSD and JF_DSD) and the extremes of its delays (its ring slots and
shortest delay). The largest |w| is fixed_point.weight_bound's."""
import numpy as np

from ..model.distributions import Exponential, LogNormal, Normal, Uniform
from ..rng.synapse_variates import EXPONENTIAL_DELAY, EXPONENTIAL_WEIGHT, LOGNORMAL_WEIGHT, NEGATIVE_WEIGHT, \
    UNIFORM_DELAY, UNIFORM_WEIGHT, Z_MAX, exponential_extremes, uniform_extremes


def draw_kinds(weight, delay):
    """The kinds of a weight and a delay (rng.synapse_variates' bits): which are Uniform or
    Exponential, whether the weight is a LogNormal, and of sign -1."""
    kinds = (UNIFORM_WEIGHT if isinstance(weight, Uniform) else 0) \
        | (UNIFORM_DELAY if isinstance(delay, Uniform) else 0) \
        | (EXPONENTIAL_WEIGHT if isinstance(weight, Exponential) else 0) \
        | (EXPONENTIAL_DELAY if isinstance(delay, Exponential) else 0)
    if isinstance(weight, LogNormal):
        kinds |= LOGNORMAL_WEIGHT
    if isinstance(weight, (LogNormal, Exponential)) and weight.sign < 0:
        kinds |= NEGATIVE_WEIGHT
    return kinds


def spread(dist):
    """A weight's or delay's spread: a Normal's sd, a Uniform's high - low, a LogNormal's
    sigma, an Exponential's beta, 0.0 for a constant (same unit as the distribution's; a
    LogNormal's of its log)."""
    if isinstance(dist, Normal):
        return dist.sd
    if isinstance(dist, LogNormal):
        return dist.sigma
    if isinstance(dist, Exponential):
        return dist.beta
    return dist.high - dist.low if isinstance(dist, Uniform) else 0.0


def table_mean(dist):
    """What the plan's JF_WMEAN or JF_DMEAN holds for a weight or delay: its mean, a
    LogNormal's mu, an Exponential's low (its sign is a bit of JF_KINDS)."""
    if isinstance(dist, LogNormal):
        return dist.mu
    return dist.low if isinstance(dist, Exponential) else dist.mean


def mean_weights(wmean, wsd, kinds):
    """The projections' mean weights from the plan's columns JF_WMEAN, JF_WSD and JF_KINDS:
    JF_WMEAN, a LogNormal's sign exp(mu + sigma**2 / 2), an Exponential's sign (low + beta)."""
    kinds = np.asarray(kinds).astype(np.int64)
    out = np.array(wmean, dtype=np.float64)
    wsd = np.asarray(wsd, dtype=np.float64)
    sign = np.where(kinds & NEGATIVE_WEIGHT, -1.0, 1.0)
    log = (kinds & LOGNORMAL_WEIGHT) != 0   # exp of the others' means would overflow past 709
    out[log] = sign[log] * np.exp(out[log] + 0.5 * wsd[log] ** 2)
    exp = (kinds & EXPONENTIAL_WEIGHT) != 0
    out[exp] = sign[exp] * (out[exp] + wsd[exp])
    return out


def delay_extremes(mean, spread, kinds):
    """(smallest, largest) delay (ms) a projection's draws can take before rounding to steps
    (mean: the plan's JF_DMEAN, kinds its JF_KINDS): a Uniform's or an Exponential's
    (synapse_variates.uniform_extremes, exponential_extremes), else mean -/+ Z_MAX sd (every
    drawn normal lies within Z_MAX: fixed_point)."""
    if kinds & UNIFORM_DELAY:
        return uniform_extremes(mean, spread)
    if kinds & EXPONENTIAL_DELAY:
        return exponential_extremes(mean, spread)
    return mean - Z_MAX * spread, mean + Z_MAX * spread
