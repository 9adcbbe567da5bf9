"""Parameter distributions for weights (pA), delays (ms) and initial states (mV).

Values are drawn by the backends from the model's random streams; these classes only hold
and validate parameters.
"""
import hashlib
import math
from dataclasses import dataclass

import numpy as np

from ..numbers import is_number, is_real, shown
from ..rng.synapse_variates import Z_MAX


def _finite(where, name, value):
    if not is_real(value):
        raise ValueError(f"{where}: {name} must be a finite number, got {shown(value)}")
    return float(value)


@dataclass(frozen=True)
class Constant:
    value: float

    def validated(self, where):
        return Constant(_finite(where, "value", self.value))

    @property
    def mean(self):
        return self.value


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def validated(self, where):
        lo, hi = _finite(where, "low", self.low), _finite(where, "high", self.high)
        if hi < lo:
            raise ValueError(f"{where}: uniform high ({hi}) is below low ({lo})")
        return Uniform(lo, hi)

    @property
    def mean(self):
        return 0.5 * (self.low + self.high)


@dataclass(frozen=True)
class Exponential:
    """low + an exponential of scale (and mean) beta: NEST's nest.random.exponential(beta=)
    (plus low, as `low + nest.random.exponential(beta)` in NEST), PyNN's
    RandomDistribution("exponential", beta=). Values lie in [low, low + 22.2 beta] (the
    largest -log u of a 32-bit u), in the quantity's unit (ms for a delay, whose low must be
    >= dt; pA, mV or nS for a weight, whose low must be >= 0); sign -1 (or -Exponential(...))
    gives negative, inhibitory weights. Its mean is sign (low + beta)."""
    beta: float
    low: float = 0.0
    sign: float = 1.0

    def validated(self, where):
        beta, low = _finite(where, "beta", self.beta), _finite(where, "low", self.low)
        if beta < 0:
            raise ValueError(f"{where}: beta must be >= 0, got {beta}")
        if low < 0:
            raise ValueError(f"{where}: low must be >= 0, got {low} (a negative weight: -Exponential(beta, low))")
        if self.sign not in (1, -1) or isinstance(self.sign, bool):
            raise ValueError(f"{where}: sign must be 1 or -1, got {self.sign!r}")
        return Exponential(beta, low, float(self.sign))

    def __neg__(self):
        return Exponential(self.beta, self.low, -self.sign)

    @property
    def mean(self):
        return self.sign * (self.low + self.beta)


# a LogNormal's exponent mu + sigma z must stay where the engines' exp is exact to 2 ulp
# (rng.portable_math.pexp, |x| < 700), for every z a draw can give (|z| < Z_MAX)
LOGNORMAL_EXPONENT_MAX = 690.0


@dataclass(frozen=True)
class LogNormal:
    """A synaptic weight exp(mu + sigma z), z standard normal (NEST's
    nest.random.lognormal(mean=mu, std=sigma), PyNN's RandomDistribution("lognormal", mu=,
    sigma=)): mu and sigma are those of the weight's logarithm (the weight's unit being the
    target model's); sign -1 (or -LogNormal(...)) gives negative, inhibitory weights. Its
    median is exp(mu), its mean exp(mu + sigma**2 / 2)."""
    mu: float
    sigma: float
    sign: float = 1.0

    def validated(self, where):
        mu, sigma = _finite(where, "mu", self.mu), _finite(where, "sigma", self.sigma)
        if sigma < 0:
            raise ValueError(f"{where}: sigma must be >= 0, got {sigma}")
        if self.sign not in (1, -1) or isinstance(self.sign, bool):
            raise ValueError(f"{where}: sign must be 1 or -1, got {self.sign!r}")
        if abs(mu) + Z_MAX * sigma > LOGNORMAL_EXPONENT_MAX:
            raise ValueError(f"{where}: |mu| + 6.66 sigma = {abs(mu) + Z_MAX * sigma:g} exceeds "
                             f"{LOGNORMAL_EXPONENT_MAX:g}: weights of e**{LOGNORMAL_EXPONENT_MAX:g} and beyond")
        if mu + 0.5 * sigma ** 2 > LOGNORMAL_EXPONENT_MAX:
            raise ValueError(f"{where}: the mean weight e**(mu + sigma**2 / 2) = e**{mu + 0.5 * sigma ** 2:g} "
                             f"exceeds e**{LOGNORMAL_EXPONENT_MAX:g}")
        return LogNormal(mu, sigma, float(self.sign))

    def __neg__(self):
        return LogNormal(self.mu, self.sigma, -self.sign)

    @property
    def mean(self):
        return self.sign * math.exp(self.mu + 0.5 * self.sigma ** 2)


OUTSIDE = ("clip", "redraw")


@dataclass(frozen=True)
class Normal:
    """Normal distribution with mean and standard deviation sd (same units).

    outside: what a synaptic delay drawn below dt becomes. 'clip' (the default): dt, so
    every such draw lands on the shortest delay (NEST's `max(normal, dt)`, PyNN's
    normal_clipped_to_boundary). 'redraw': drawn again until it is >= dt, the normal
    truncated at dt (NEST's `redraw` and NEST 2's normal_clipped, GeNN's NormalClippedDelay,
    PyNN's normal_clipped; the microcircuit's and the multi-area model's specifications).
    Redrawing is for delays only; weights clip at 0 to keep the sign of their mean.
    low: with 'redraw', the bound (ms) below which a delay is drawn again, dt when None; in
    [dt / 2, mean]. NEST's microcircuit example redraws below dt / 2 only and rounds
    [dt / 2, dt) to one step; a bound above dt truncates the normal there.
    """
    mean: float
    sd: float
    outside: str = "clip"
    low: float | None = None

    def validated(self, where, redraw=False):
        """Checked copy; redraw: whether outside='redraw' means something here (a delay)."""
        mu, sd = _finite(where, "mean", self.mean), _finite(where, "sd", self.sd)
        if sd < 0:
            raise ValueError(f"{where}: sd must be >= 0, got {sd}")
        if self.outside not in OUTSIDE:
            raise ValueError(f"{where}: outside must be one of {OUTSIDE}, got {self.outside!r}")
        if self.outside == "redraw" and not redraw:
            raise ValueError(f"{where}: outside='redraw' applies to synaptic delays only (a weight clips at 0 to "
                             "keep its sign; other parameters are not bounded)")
        low = self.low
        if low is not None:
            if self.outside != "redraw":
                raise ValueError(f"{where}: low (the bound of a redraw) needs outside='redraw', got {self.outside!r}")
            low = _finite(where, "low", low)
        return Normal(mu, sd, self.outside, low)

    def redraw_bound(self, where, dt):
        """The bound below which this delay is redrawn, in units of dt (the plan's JF_DREDRAW):
        0.0 where it clips (or sd is 0), low / dt where low is given, else 1.0. Raises where
        low lies outside [dt / 2, mean]: below dt / 2 a redrawn delay could round to no step,
        above the mean a redraw might not end."""
        if self.low is not None and not 0.5 * dt <= self.low <= self.mean:
            raise ValueError(f"{where}: low {self.low} ms of a redrawn delay must lie in [dt / 2, mean] = "
                             f"[{0.5 * dt}, {self.mean}] ms")
        if self.outside != "redraw" or self.sd == 0.0:
            return 0.0
        return 1.0 if self.low is None else self.low / dt


class Values:
    """Given values, one per neuron of a population, in the parameter's unit (a heterogeneous
    parameter that the model sets itself, e.g. from its own random numbers, as
    nest.SetStatus(neurons, {"c": array}) does). A list, tuple or array in add_population's
    params or v_init becomes one."""

    def __init__(self, values):
        self.values = np.array(values, dtype=np.float64)
        self.values.flags.writeable = False

    def validated(self, where, size=None):
        v = self.values
        if v.ndim != 1 or (size is not None and v.size != size):
            wanted = "a 1-D array" if size is None else f"one value per neuron ({size})"
            raise ValueError(f"{where}: expected {wanted}, got an array of shape {v.shape}")
        bad = np.nonzero(~np.isfinite(v))[0]
        if bad.size:
            raise ValueError(f"{where}: value {float(v[bad[0]])!r} of neuron {int(bad[0])} is not a finite number")
        return self

    @property
    def mean(self):
        return float(self.values.mean()) if self.values.size else 0.0

    @property
    def low(self):
        return float(self.values.min()) if self.values.size else 0.0

    @property
    def high(self):
        return float(self.values.max()) if self.values.size else 0.0

    def digest(self):
        """SHA-256 of the values (hex), for checkpoint fingerprints."""
        return hashlib.sha256(np.ascontiguousarray(self.values).tobytes()).hexdigest()

    def __eq__(self, other):
        return isinstance(other, Values) and np.array_equal(self.values, other.values)

    def __hash__(self):
        return hash(self.digest())

    def __repr__(self):
        return f"Values({self.values.size} values in [{self.low:g}, {self.high:g}])"


def given_values(value):
    """`value` as Values if it is a sequence of numbers (list, tuple, NumPy array), else unchanged."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return Values(value)
    return value


def as_distribution(value, where, allowed=(Constant, Normal), redraw=False):
    """Accept a number (-> Constant) or one of `allowed`; validate it (redraw: a Normal may
    redraw, i.e. it is a delay)."""
    if is_number(value):   # NaN and infinities too: Constant's check names them
        value = Constant(value)
    if not isinstance(value, allowed):
        names = ", ".join(a.__name__ for a in allowed)
        raise ValueError(f"{where}: expected a number or one of {names}, got {value!r}")
    return value.validated(where, redraw) if isinstance(value, Normal) else value.validated(where)
