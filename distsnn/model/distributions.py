"""Parameter distributions for weights (pA), delays (ms) and initial states (mV).

Values are drawn by the backends from the model's random streams; these classes only hold
and validate parameters.
"""
import math
from dataclasses import dataclass


def _finite(where, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where}: {name} must be a finite number, got {value!r}")
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
class Normal:
    """Normal distribution with mean and standard deviation sd (same units)."""
    mean: float
    sd: float

    def validated(self, where):
        mu, sd = _finite(where, "mean", self.mean), _finite(where, "sd", self.sd)
        if sd < 0:
            raise ValueError(f"{where}: sd must be >= 0, got {sd}")
        return Normal(mu, sd)


def as_distribution(value, where, allowed=(Constant, Normal)):
    """Accept a number (-> Constant) or one of `allowed`; validate it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = Constant(value)
    if not isinstance(value, allowed):
        names = ", ".join(a.__name__ for a in allowed)
        raise ValueError(f"{where}: expected a number or one of {names}, got {value!r}")
    return value.validated(where)
