"""Connection rules. Every rule can be generated procedurally from the presynaptic side
(fixed_indegree through a keyed permutation of each chunk's input slots: rng.permutation).

Multapses and autapses are allowed (as in NEST's defaults for these rules).
"""
import math
from dataclasses import dataclass


def _count(where, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}: {name} must be a non-negative integer, got {value!r}")
    return value


@dataclass(frozen=True)
class FixedProbability:
    """Each (pre, post) pair is connected independently with probability p."""
    p: float

    def validated(self, where, n_pre, n_post):
        p = self.p
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not math.isfinite(p) or not 0.0 <= p <= 1.0:
            raise ValueError(f"{where}: connection probability p must be in [0, 1], got {p!r}")
        return FixedProbability(float(p))


@dataclass(frozen=True)
class FixedTotalNumber:
    """Exactly n synapses, each between a uniformly drawn pre and post (with replacement)."""
    n: int

    def validated(self, where, n_pre, n_post):
        n = _count(where, "total number of synapses n", self.n)
        if n > 0 and (n_pre == 0 or n_post == 0):
            raise ValueError(f"{where}: total number of synapses n={n} on an empty population "
                             f"(pre size {n_pre}, post size {n_post})")
        return self


@dataclass(frozen=True)
class FixedOutdegree:
    """Each presynaptic neuron makes exactly n synapses onto uniformly drawn targets."""
    n: int

    def validated(self, where, n_pre, n_post):
        n = _count(where, "out-degree n", self.n)
        if n > 0 and n_post == 0 and n_pre > 0:
            raise ValueError(f"{where}: out-degree n={n} onto an empty population")
        return self


@dataclass(frozen=True)
class FixedIndegree:
    """Each postsynaptic neuron receives exactly n synapses from uniformly drawn sources
    (with replacement: NEST's fixed_indegree with its default multapses and autapses)."""
    n: int

    def validated(self, where, n_pre, n_post):
        n = _count(where, "in-degree n", self.n)
        if n > 0 and n_pre == 0 and n_post > 0:
            raise ValueError(f"{where}: in-degree n={n} from an empty population")
        return self


@dataclass(frozen=True)
class OneToOne:
    """pre i -> post i; both populations must have the same size."""

    def validated(self, where, n_pre, n_post):
        if n_pre != n_post:
            raise ValueError(f"{where}: one_to_one needs equal sizes, got {n_pre} and {n_post}")
        return self


@dataclass(frozen=True)
class AllToAll:
    """Every pre connects to every post once."""

    def validated(self, where, n_pre, n_post):
        return self


RULE_CODES = {FixedProbability: 0, FixedTotalNumber: 1, FixedOutdegree: 2, OneToOne: 3, AllToAll: 4,
              FixedIndegree: 5}
