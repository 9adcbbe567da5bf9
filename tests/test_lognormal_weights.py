"""Weights drawn from a LogNormal (NEST's nest.random.lognormal): sign exp(mu + sigma z) with
z the weight's normal, the NumPy specification's bits in every rule, the synapse lists and
every engine, a fixed-point bound that holds every draw, the receptor by its sign, and what
cannot be drawn refused before any build."""
import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from distsnn.backends.cpu.simulator import CpuSimulator
from distsnn.backends.gpu.source import KINDS_BIT, plan_rules, rule_variant
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.fixed_point import weight_bound
from distsnn.build.synapse_lists import reference_variates
from distsnn.connectivity import expand_projection
from distsnn.model import FixedTotalNumber, FromList, LogNormal, Network, Normal, Uniform
from distsnn.rng import streams
from distsnn.rng.portable_math import pexp
from distsnn.rng.synapse_variates import LOGNORMAL_WEIGHT, NEGATIVE_WEIGHT, Z_MAX
from distsnn.runtime import simulate
from test_connectivity import _csr_synapses, reference_synapses
from test_uniform_synapses import ENGINES, assert_engines_agree, assert_step_loop_agrees, every_rule, uniform_network

LOGNORMAL = lambda m: LogNormal(math.log(abs(m)), 0.5, 1.0 if m > 0 else -1.0)   # noqa: E731


@pytest.mark.parametrize("delay", ["constant", "normal", "uniform"])
def test_cpu_rows_and_stored_csr_equal_the_spec(delay):
    """Every rule with LogNormal weights of both signs, beside constant, redrawn normal and
    Uniform delays: gen_row's loops give the specification's synapses."""
    delays = {"constant": lambda m: m, "normal": lambda m: Normal(m, m / 2, "redraw"),
              "uniform": lambda m: Uniform(max(0.1, m - 0.7), m + 0.7)}[delay]
    plan = make_plan(every_rule(LOGNORMAL, delays), 77)
    kinds = plan.proj_f[:, bp.JF_KINDS].astype(int)
    assert np.all(kinds & LOGNORMAL_WEIGHT) and np.array_equal(kinds & NEGATIVE_WEIGHT > 0,
                                                               [plan.pop_names[a] == "b" for a in plan.proj_i[:, 0]])
    sim = CpuSimulator(plan, "stored").build()
    assert np.array_equal(_csr_synapses(sim), reference_synapses(plan))


def test_weights_are_lognormal_and_within_their_bound():
    """log w is normal (mu, sigma); the median is e**mu; every w_int within the int64 scale's
    bound exp(mu + Z_MAX sigma); a negative LogNormal gives the same magnitudes, negated."""
    def plan_of(weight):
        net = Network(dt=0.1, chunk_size=200)
        net.add_population("a", 200)
        net.connect("a", "a", FixedTotalNumber(100000), weight, 1.0)
        return make_plan(net, 5)
    plan = plan_of(LogNormal(2.0, 0.8))
    _, _, w, w_int, _ = expand_projection(plan, 0)
    assert w.min() > 0 and stats.kstest(np.log(w), stats.norm(2.0, 0.8).cdf).pvalue > 1e-3
    assert np.median(w) == pytest.approx(math.exp(2.0), rel=0.02)
    scale = plan.proj_f[0, bp.JF_SCALE]
    assert np.all(np.abs(w_int / scale - w) <= 0.5 / scale)
    assert w.max() < weight_bound(2.0, 0.8, LOGNORMAL_WEIGHT) == pytest.approx(math.exp(2.0 + Z_MAX * 0.8))
    neg = plan_of(-LogNormal(2.0, 0.8))
    _, _, w_neg, _, _ = expand_projection(neg, 0)
    assert np.array_equal(w_neg, -w) and neg.proj_f[0, bp.JF_KINDS] == LOGNORMAL_WEIGHT | NEGATIVE_WEIGHT
    assert neg.network.projections[0].receptor == "inhibitory"


def test_synapse_lists_draw_lognormals_from_their_own_counters():
    n = 4000
    net = Network(dt=0.1, chunk_size=64)
    net.add_population("a", 100)
    rng = np.random.default_rng(2)
    weight = -LogNormal(1.0, 0.4)
    proj = net.connect("a", "a", FromList(rng.integers(0, 100, n), rng.integers(0, 100, n)), weight, 1.0)
    plan = make_plan(net, 4)
    z0, _ = reference_variates(proj.pid, n, *streams.key_from_seed(4), weight, Normal(1.0, 0.0))
    assert np.array_equal(plan.lists[0].weight, -pexp(1.0 + 0.4 * z0))


def lognormal_network(lists=True):
    """uniform_network with every weight a LogNormal of its mean's magnitude and sign."""
    net = uniform_network(lists)
    net.projections[:] = [dataclasses.replace(p, weight=LOGNORMAL(p.weight.mean)) for p in net.projections]
    return net


@pytest.fixture(scope="module")
def lognormal_reference():
    return simulate(lognormal_network(), 150.0, seed=12, backend="cpu", progress=False)


@pytest.mark.parametrize("backend,connectivity", ENGINES)
def test_engines_agree(lognormal_reference, backend, connectivity):
    assert_engines_agree(lognormal_network, lognormal_reference, backend, connectivity)


def test_emulated_step_loop_agrees(monkeypatch):
    assert_step_loop_agrees(lognormal_network, monkeypatch)


def test_a_lognormal_model_takes_the_full_gpu_variant():
    plan = make_plan(lognormal_network(), 1)
    assert KINDS_BIT in plan_rules(plan) and rule_variant(plan_rules(plan)) == ""


def test_what_a_lognormal_cannot_draw_is_refused():
    net = Network(dt=0.1)
    net.add_population("a", 10)
    with pytest.raises(ValueError, match="delay: expected a number or one of Constant, Normal, Uniform, Exponential, got "
                       "LogNormal"):
        net.connect("a", "a", FixedTotalNumber(10), 1.0, LogNormal(0.0, 0.1))
    with pytest.raises(ValueError, match="weight: sigma must be >= 0, got -0.5"):
        net.connect("a", "a", FixedTotalNumber(10), LogNormal(0.0, -0.5), 1.0)
    with pytest.raises(ValueError, match=r"weight: \|mu\| \+ 6.66 sigma = .* exceeds 690"):
        net.connect("a", "a", FixedTotalNumber(10), LogNormal(-700.0, 0.0), 1.0)
    with pytest.raises(ValueError, match=r"weight: the mean weight e\*\*\(mu \+ sigma\*\*2 / 2\) = e\*\*800 exceeds"):
        net.connect("a", "a", FixedTotalNumber(10), LogNormal(0.0, 40.0), 1.0)
    with pytest.raises(ValueError, match="weight: sign must be 1 or -1, got 2"):
        net.connect("a", "a", FixedTotalNumber(10), LogNormal(0.0, 1.0, 2), 1.0)
    with pytest.raises(ValueError, match="weight: mu must be a finite number, got nan"):
        net.connect("a", "a", FixedTotalNumber(10), LogNormal(float("nan"), 1.0), 1.0)
    with pytest.raises(ValueError, match="v_init: expected a number or one of"):
        net.add_population("b", 10, v_init=LogNormal(0.0, 1.0))
    assert net.projections == []
    # onto a conductance the negative LogNormal is an inhibitory conductance of its magnitude
    net.add_population("c", 10, "iaf_cond_exp")
    proj = net.connect("a", "c", FixedTotalNumber(10), -LogNormal(0.5, 0.2), 1.0)
    assert proj.receptor == "inhibitory" and proj.weight == LogNormal(0.5, 0.2, 1.0) and proj.weight.mean > 0


def test_mean_weights_take_the_exp_of_lognormals_only():
    """The int32 resolution check's mean weights: a LogNormal's sign e**(mu + sigma**2 / 2),
    the others' means as they are, without an exp of a mean weight of 1000 pA (inf, and
    NumPy's overflow warning)."""
    import warnings
    from distsnn.build.draw_bounds import mean_weights
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = mean_weights(np.array([1000.0, math.log(2.0), -5.0]), np.array([1.0, 0.0, 0.5]),
                           np.array([0.0, LOGNORMAL_WEIGHT, LOGNORMAL_WEIGHT | NEGATIVE_WEIGHT]))
    assert got[0] == 1000.0 and got[1] == pytest.approx(2.0) and got[2] == pytest.approx(-math.exp(-5.0 + 0.125))
