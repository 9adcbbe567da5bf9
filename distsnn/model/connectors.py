"""Connection rules. Every rule but FromList can be generated procedurally from the
presynaptic side (fixed_indegree through a keyed permutation of each chunk's input slots:
rng.permutation); FromList's synapses are data, held in memory (build.synapse_lists).

Multapses and autapses are allowed (as in NEST's defaults for these rules).
"""
from dataclasses import dataclass

import numpy as np

from ..numbers import is_integer, is_real, shown


def _count(where, name, value):
    if not is_integer(value) or value < 0:
        raise ValueError(f"{where}: {name} must be a non-negative integer, got {shown(value)}")
    return int(value)


@dataclass(frozen=True)
class FixedProbability:
    """Each (pre, post) pair is connected independently with probability p."""
    p: float

    def validated(self, where, n_pre, n_post):
        p = self.p
        if not is_real(p) or not 0.0 <= p <= 1.0:
            raise ValueError(f"{where}: connection probability p must be in [0, 1], got {shown(p)}")
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
        return FixedTotalNumber(n)


@dataclass(frozen=True)
class FixedOutdegree:
    """Each presynaptic neuron makes exactly n synapses onto uniformly drawn targets."""
    n: int

    def validated(self, where, n_pre, n_post):
        n = _count(where, "out-degree n", self.n)
        if n > 0 and n_post == 0 and n_pre > 0:
            raise ValueError(f"{where}: out-degree n={n} onto an empty population")
        return FixedOutdegree(n)


@dataclass(frozen=True)
class FixedIndegree:
    """Each postsynaptic neuron receives exactly n synapses from uniformly drawn sources
    (with replacement: NEST's fixed_indegree with its default multapses and autapses)."""
    n: int

    def validated(self, where, n_pre, n_post):
        n = _count(where, "in-degree n", self.n)
        if n > 0 and n_pre == 0 and n_post > 0:
            raise ValueError(f"{where}: in-degree n={n} from an empty population")
        return FixedIndegree(n)


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


class FromList:
    """Given synapses: pre[i] -> post[i], population-local neuron ids (0 .. size - 1), as
    PyNN's FromListConnector, NEST's Connect of two id arrays with rule one_to_one, or
    Brian2's connect(i=..., j=...). connect()'s weight and delay may then also be arrays of
    one value per synapse. A weight matrix W (pre x post): FromList(*np.nonzero(W)) with
    weight=W[np.nonzero(W)]. The synapses are held in memory whatever the connectivity
    mode (16 B each per process that simulates their targets); repeated pairs are multapses."""

    def __init__(self, pre, post):
        self.pre = pre
        self.post = post

    def validated(self, where, n_pre, n_post):
        pre, post = (_ids(where, name, ids, size) for name, ids, size in (("pre", self.pre, n_pre),
                                                                            ("post", self.post, n_post)))
        if pre.size != post.size:
            raise ValueError(f"{where}: FromList has {pre.size} pre ids but {post.size} post ids")
        return FromList(pre, post)

    @property
    def n(self):
        return int(np.size(self.pre))

    def __repr__(self):
        return f"FromList({self.n} synapses)"


def list_values(where, n, weight, delay, dt):
    """(weight, delay) of a FromList projection of n synapses: each a number, a Normal, a
    Uniform, an Exponential (a weight also a LogNormal), or one value per synapse (a sequence:
    model.distributions.Values). Given weights must share one sign (zeros aside) and be
    finite; given delays must be finite and >= dt (ms). Raises a ValueError naming the
    synapse."""
    from .distributions import Constant, Exponential, LogNormal, Normal, Uniform, Values, as_distribution, \
        given_values
    out = []
    for name, value in (("weight", weight), ("delay", delay)):
        value = given_values(value)
        if not isinstance(value, Values):
            drawn = (Constant, Normal, Uniform, Exponential) + ((LogNormal,) if name == "weight" else ())
            out.append(as_distribution(value, f"{where}: {name}", drawn, redraw=name == "delay"))
            continue
        v = value.values
        if v.ndim != 1 or v.size != n:
            raise ValueError(f"{where}: {name} must be a number, a distribution or one value per synapse ({n}), "
                             f"got an array of shape {v.shape}")
        bad = np.nonzero(~np.isfinite(v))[0]
        if bad.size:
            raise ValueError(f"{where}: {name} {float(v[bad[0]])!r} of synapse {int(bad[0])} is not a finite number")
        if name == "weight" and (v > 0).any() and (v < 0).any():
            i, j = int(np.argmax(v > 0)), int(np.argmax(v < 0))
            raise ValueError(f"{where}: the weights of synapses {i} ({v[i]}) and {j} ({v[j]}) have opposite signs; "
                             "connect the excitatory and the inhibitory synapses in two calls (labels tell them apart)")
        if name == "delay" and (v < dt).any():
            i = int(np.argmax(v < dt))
            raise ValueError(f"{where}: delay {v[i]} ms of synapse {i} is below dt = {dt} ms")
        out.append(value)
    return tuple(out)


def _ids(where, name, ids, size):
    """ids as a read-only int64 array of neuron ids in [0, size), or a ValueError naming the
    first bad one."""
    a = np.asarray(ids)
    if a.ndim != 1:
        raise ValueError(f"{where}: FromList's {name} ids must be a 1-D sequence, got shape {a.shape}")
    if a.size and a.dtype.kind not in "iu":
        whole = np.isfinite(a) & (a == np.floor(a)) if a.dtype.kind == "f" else np.zeros(a.size, dtype=bool)
        if not whole.all():
            bad = int(np.argmin(whole))
            raise ValueError(f"{where}: FromList's {name} id of synapse {bad} is not an integer: {a[bad].item()!r}")
    a = a.astype(np.int64)
    bad = np.nonzero((a < 0) | (a >= size))[0]
    if bad.size:
        raise ValueError(f"{where}: FromList's {name} id {int(a[bad[0]])} of synapse {int(bad[0])} is outside "
                         f"the population (0 .. {size - 1})")
    a.flags.writeable = False
    return a


RULE_CODES = {FixedProbability: 0, FixedTotalNumber: 1, FixedOutdegree: 2, OneToOne: 3, AllToAll: 4,
              FixedIndegree: 5, FromList: 6}
