"""Weights and delays drawn from an Exponential (NEST's nest.random.exponential, shifted by a
low): low + beta (-log u) with u from one word, as a Uniform reads it. The NumPy
specification's variates are exponential and independent beside every other kind, the numba
and CUDA kernels give its bits for every rule and for synapse lists, the plan's bounds hold
every draw, every engine gives the same spikes, and what cannot be drawn is refused before
any build."""
import dataclasses

import numpy as np
import pytest
from scipy import stats

from distsnn.backends.cpu.simulator import CpuSimulator
from distsnn.backends.gpu import simulator as gpu_simulator
from distsnn.backends.gpu.source import KINDS_BIT, plan_rules, rule_variant
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.fixed_point import weight_bound
from distsnn.build.synapse_lists import reference_variates
from distsnn.connectivity import expand_projection, synapses
from distsnn.io.checkpoint import fingerprint
from distsnn.model import (AllToAll, Exponential, FixedIndegree, FixedOutdegree, FixedProbability,
                           FixedTotalNumber, FromList, LogNormal, Network, Normal, OneToOne, Uniform)
from distsnn.rng import streams
from distsnn.rng.philox import uniform_open0_closed1
from distsnn.rng.portable_math import box_muller, plog
from distsnn.rng.synapse_variates import (E_MAX, EXPONENTIAL_DELAY, EXPONENTIAL_WEIGHT, NEGATIVE_WEIGHT, UNIFORM_DELAY,
                                          UNIFORM_WEIGHT, exponential_extremes, variates)
from distsnn.runtime import simulate
from test_connectivity import _csr_synapses, reference_synapses
from test_uniform_synapses import (ENGINES, assert_engines_agree, assert_step_loop_agrees,
                                  assert_variates_follow_their_laws, driven_and_recorded, every_rule, words)

# (spread, the kind's weight bit, the kind's delay bit) of each kind
KINDS = {"constant": (0.0, 0, 0), "normal": (0.5, 0, 0), "uniform": (1.0, UNIFORM_WEIGHT, UNIFORM_DELAY),
         "exponential": (1.0, EXPONENTIAL_WEIGHT, EXPONENTIAL_DELAY)}


@pytest.mark.parametrize("wk,dk", [(wk, dk) for wk in KINDS for dk in KINDS if "exponential" in (wk, dk)])
def test_exponential_variates_are_exponential_and_independent(wk, dk):
    """Every pairing with an Exponential (the others: test_uniform_synapses): its variate is
    -log u, a standard exponential, and independent of the other quantity's (each one-word
    variate reads a word the other does not)."""
    w = words(40000)
    x = variates(w[1], w[2], w[3], KINDS[wk][1] | KINDS[dk][2], KINDS[wk][0], KINDS[dk][0])
    assert_variates_follow_their_laws(x, wk, dk)


def test_which_word_each_exponential_reads():
    """An Exponential reads the word a Uniform would: its own of the Box-Muller pair (1 the
    weight's, 2 the delay's) where the other quantity draws no normal, else word 3; beside
    a Uniform each reads its own."""
    w = words(1000)
    e = [-plog(uniform_open0_closed1(x)) for x in w]
    u = [uniform_open0_closed1(x) - 0.5 for x in w]
    z0, z1 = box_muller(uniform_open0_closed1(w[1]), uniform_open0_closed1(w[2]))
    both = variates(w[1], w[2], w[3], EXPONENTIAL_WEIGHT | EXPONENTIAL_DELAY, 1.0, 1.0)
    assert np.array_equal(both[0], e[1]) and np.array_equal(both[1], e[2])
    assert np.array_equal(variates(w[1], w[2], w[3], EXPONENTIAL_WEIGHT | UNIFORM_DELAY, 1.0, 1.0), (e[1], u[2]))
    assert np.array_equal(variates(w[1], w[2], w[3], UNIFORM_WEIGHT | EXPONENTIAL_DELAY, 1.0, 1.0), (u[1], e[2]))
    assert np.array_equal(variates(w[1], w[2], w[3], EXPONENTIAL_WEIGHT, 1.0, 0.5), (e[3], z1))
    assert np.array_equal(variates(w[1], w[2], w[3], EXPONENTIAL_DELAY, 0.5, 1.0), (z0, e[3]))
    assert np.array_equal(variates(w[1], w[2], w[3], EXPONENTIAL_DELAY, 0.0, 1.0)[1], e[2])


EXPONENTIAL = lambda m: Exponential(abs(m) / 2, abs(m) / 2, 1.0 if m > 0 else -1.0)   # noqa: E731
WEIGHTS = {"exponential": EXPONENTIAL, "normal": lambda m: Normal(m, abs(m) / 4),
           "uniform": lambda m: Uniform(m / 2, m * 1.5) if m > 0 else Uniform(m * 1.5, m / 2),
           "lognormal": lambda m: LogNormal(np.log(abs(m)), 0.5, 1.0 if m > 0 else -1.0), "constant": lambda m: m}
DELAYS = {"exponential": lambda m: Exponential(m / 2, max(0.1, m / 2)), "normal": lambda m: Normal(m, m / 2, "redraw"),
          "uniform": lambda m: Uniform(max(0.1, m - 0.7), m + 0.7), "constant": lambda m: m}


@pytest.mark.parametrize("wk,dk", [("exponential", "exponential"), ("exponential", "normal"),
                                   ("normal", "exponential"), ("uniform", "exponential"),
                                   ("exponential", "uniform"), ("lognormal", "exponential"),
                                   ("exponential", "constant"), ("constant", "exponential")])
def test_cpu_rows_and_stored_csr_equal_the_spec(wk, dk):
    """gen_row's loops of the kinds (procedural delivery and the stored CSR) give the spec's
    synapses for every rule, Exponential weights of both signs beside every kind of delay, and
    Exponential delays beside every kind of weight."""
    plan = make_plan(every_rule(WEIGHTS[wk], DELAYS[dk]), 77)
    kinds = plan.proj_f[:, bp.JF_KINDS].astype(int)
    assert np.all(kinds & (EXPONENTIAL_WEIGHT | EXPONENTIAL_DELAY))
    if wk == "exponential":
        assert np.array_equal(kinds & NEGATIVE_WEIGHT > 0, [plan.pop_names[a] == "b" for a in plan.proj_i[:, 0]])
    sim = CpuSimulator(plan, "stored").build()
    assert np.array_equal(_csr_synapses(sim), reference_synapses(plan))


def test_drawn_values_are_exponential_above_low_and_within_the_plan():
    """Weights low + an exponential of mean beta, negated for sign -1; delays of mean low +
    beta at or above low, rounded as NEST rounds them; the fixed-point bound, the ring slots
    and the shortest delay hold the largest draw (low + E_MAX beta)."""
    net = Network(dt=0.1, chunk_size=200)
    net.add_population("a", 200)
    net.connect("a", "a", FixedTotalNumber(200000), -Exponential(8.0, 2.0), Exponential(0.5, 1.0))
    plan = make_plan(net, 5)
    _, _, w, w_int, d = expand_projection(plan, 0)
    assert w.max() <= -2.0 and stats.kstest((-w - 2.0) / 8.0, "expon").pvalue > 1e-3
    assert plan.proj_f[0, bp.JF_KINDS] == EXPONENTIAL_WEIGHT | NEGATIVE_WEIGHT | EXPONENTIAL_DELAY
    assert net.projections[0].receptor == "inhibitory"
    scale = plan.proj_f[0, bp.JF_SCALE]
    assert np.all(np.abs(w_int / scale - w) <= 0.5 / scale)
    assert -w.min() < weight_bound(2.0, 8.0, EXPONENTIAL_WEIGHT) == 2.0 + 8.0 * E_MAX
    assert d.min() == 10 and abs(d.mean() * 0.1 - 1.5) < 0.01
    # delays in steps: P(step k) = P(k - 1/2 <= 10 d < k + 1/2), the rounded exponential's
    share = np.bincount(d, minlength=40)[10:40] / d.size
    edges = np.maximum(np.arange(9.5, 40.5) * 0.1, 1.0)
    want = np.diff(stats.expon(1.0, 0.5).cdf(edges))
    assert np.allclose(share, want, atol=4 * np.sqrt(want * (1 - want) / d.size) + 1e-9)
    lo, hi = exponential_extremes(1.0, 0.5)
    assert lo == 1.0 and hi == 1.0 + 0.5 * E_MAX
    assert plan.min_delay_steps == 10 and plan.max_delay_steps == int(np.floor(hi * 10 + 0.5)) >= d.max()
    assert int(plan.pop_i[0, bp.PI_RING_IN]) >= plan.max_delay_steps + 1


def test_e_max_is_the_largest_variate():
    """-log u over the words' u in [2**-32, 1]: 0 at u = 1 and E_MAX at the smallest u."""
    assert plog(1.0) == 0.0 and -plog(2.0 ** -32) == E_MAX == pytest.approx(32 * np.log(2), rel=1e-15)
    x = -plog(uniform_open0_closed1(np.arange(2 ** 16, dtype=np.uint64)))
    assert np.all(np.diff(x) < 0) and x[0] == E_MAX


def test_synapse_lists_draw_exponentials_from_their_own_counters():
    n = 5000
    net = Network(dt=0.1, chunk_size=64)
    net.add_population("a", 100)
    rng = np.random.default_rng(1)
    weight, delay = -Exponential(5.0, 1.0), Exponential(0.4, 0.8)
    proj = net.connect("a", "a", FromList(rng.integers(0, 100, n), rng.integers(0, 100, n)), weight, delay)
    plan = make_plan(net, 4)
    x_w, x_d = reference_variates(proj.pid, n, *streams.key_from_seed(4), weight, delay)
    assert np.array_equal(plan.lists[0].weight, -(1.0 + 5.0 * x_w))
    assert np.array_equal(plan.lists[0].delay, np.floor((0.8 + 0.4 * x_d) * 10.0 + 0.5).astype(int))
    (got,) = synapses(net, 4)
    assert got.weight.max() <= -1.0 and got.delay.min() >= 0.8


def exponential_network(lists=True):
    """Excitatory and inhibitory populations, every rule, Exponential weights and delays beside
    every other kind, a synapse list with both Exponential (unless not `lists`: what the GPU's
    step loop runs), driven by Poisson input."""
    net = Network(dt=0.1, chunk_size=64)
    net.add_population("E", 300, v_init=Uniform(-65.0, -55.0))
    net.add_population("I", 100, v_init=Uniform(-65.0, -55.0))
    net.connect("E", "E", FixedTotalNumber(15000), Exponential(10.0, 2.0), Exponential(0.5, 1.0))
    net.connect("E", "I", FixedProbability(0.1), Exponential(25.0), Normal(1.0, 0.5, "redraw"))
    net.connect("I", "E", FixedOutdegree(60), Normal(-60.0, 6.0), Exponential(0.4, 0.5))
    net.connect("I", "I", AllToAll(), -Exponential(40.0, 5.0), Uniform(0.5, 1.0))
    net.connect("E", "I", FixedIndegree(30), Uniform(10.0, 30.0), Exponential(0.3, 0.8), label="k")
    net.connect("I", "I", OneToOne(), -LogNormal(2.5, 0.5), Exponential(1.0, 1.0), label="self")
    rng = np.random.default_rng(7)
    if lists:
        net.connect("I", "E", FromList(rng.integers(0, 100, 2000), rng.integers(0, 300, 2000)), -Exponential(15.0),
                    Exponential(0.2, 0.7), label="list")
    return driven_and_recorded(net)


@pytest.fixture(scope="module")
def exponential_reference():
    return simulate(exponential_network(), 150.0, seed=12, backend="cpu", progress=False)


@pytest.mark.parametrize("backend,connectivity", ENGINES)
def test_engines_agree(exponential_reference, backend, connectivity):
    """CPU stored and the emulated GPU (the full rule variant's one-word path with its log,
    procedural and stored) give the CPU procedural engine's spikes, voltages and events."""
    assert_engines_agree(exponential_network, exponential_reference, backend, connectivity)


def test_emulated_step_loop_agrees(monkeypatch):
    assert_step_loop_agrees(exponential_network, monkeypatch)


def test_the_gpu_variant_without_kinds_draws_otherwise(exponential_reference, monkeypatch):
    """The model takes the full variant; forced onto "_no_kinds", whose code has no
    Exponential, the emulated device's spikes differ from the CPU's: the variant's draws
    matter."""
    plan = make_plan(exponential_network(), 1)
    assert KINDS_BIT in plan_rules(plan) and rule_variant(plan_rules(plan)) == ""
    monkeypatch.setattr(gpu_simulator, "rule_variant", lambda rules: "_no_kinds")
    res = simulate(exponential_network(), 150.0, seed=12, backend="gpu-emu", progress=False)
    assert "deliver_procedural_no_kinds_r32" in res.device["step_kernels"]
    assert not np.array_equal(res.spike_gids, exponential_reference.spike_gids)


def test_exponential_draws_are_fingerprinted():
    def plan_of(delay):
        net = Network(dt=0.1, chunk_size=64)
        net.add_population("a", 100)
        net.connect("a", "a", FixedTotalNumber(1000), 10.0, delay)
        return make_plan(net, 1)
    shifted = fingerprint(plan_of(Exponential(0.5, 1.0)))["model_tables_sha256"]
    assert shifted != fingerprint(plan_of(Exponential(0.5, 1.1)))["model_tables_sha256"]
    assert shifted != fingerprint(plan_of(Uniform(1.0, 2.0)))["model_tables_sha256"]


def test_what_an_exponential_cannot_draw_is_refused():
    net = Network(dt=0.1)
    net.add_population("a", 10)
    with pytest.raises(ValueError, match=r"projection a->a: delay Exponential\(beta=1.0, low=0.0, sign=1.0\) reaches "
                                         r"below dt = 0.1 ms: its low must be >= dt, e.g. Exponential\(1.0, low=0.1\)"):
        net.connect("a", "a", FixedTotalNumber(10), 1.0, Exponential(1.0))
    with pytest.raises(ValueError, match="delay Exponential.* is negative"):
        net.connect("a", "a", FixedTotalNumber(10), 1.0, -Exponential(1.0, 1.0))
    with pytest.raises(ValueError, match="weight: beta must be >= 0, got -1.0"):
        net.connect("a", "a", FixedTotalNumber(10), Exponential(-1.0), 1.0)
    with pytest.raises(ValueError, match=r"weight: low must be >= 0, got -1.0 \(a negative weight: -Exponential"):
        net.connect("a", "a", FixedTotalNumber(10), Exponential(1.0, -1.0), 1.0)
    with pytest.raises(ValueError, match="weight: beta must be a finite number, got nan"):
        net.connect("a", "a", FixedTotalNumber(10), Exponential(float("nan")), 1.0)
    with pytest.raises(ValueError, match=r"sign must be 1 or -1, got 2"):
        net.connect("a", "a", FixedTotalNumber(10), Exponential(1.0, 0.0, 2), 1.0)
    with pytest.raises(ValueError, match=r"\(list\): delay Exponential.* reaches below dt"):
        net.connect("a", "a", FromList([0], [1]), 1.0, Exponential(1.0, 0.05), label="list")
    with pytest.raises(ValueError, match="parameter V_th: Exponential draws synaptic weights .* only; a parameter "
                                         "that differs between neurons is a Normal or Uniform"):
        net.add_population("b", 10, params={"V_th": Exponential(1.0)})
    with pytest.raises(ValueError, match="parameter I_e: LogNormal draws synaptic weights"):
        net.add_population("b", 10, params={"I_e": LogNormal(1.0, 0.1)})
    assert net.projections == []
    # a projection replaced after connect is checked again by the build
    net.connect("a", "a", FixedTotalNumber(10), 1.0, Exponential(1.0, 0.1))
    net.projections[0] = dataclasses.replace(net.projections[0], delay=Exponential(1.0, 0.0))
    with pytest.raises(ValueError, match=r"projection a->a: delay Exponential.* reaches below dt"):
        make_plan(net, 1)
    net.projections.clear()
    # onto a conductance a negative Exponential is negated whole; the receptor follows the sign
    net.add_population("c", 10, "iaf_cond_exp")
    proj = net.connect("a", "c", FixedTotalNumber(10), -Exponential(3.0, 1.0), 1.0)
    assert proj.receptor == "inhibitory" and proj.weight == Exponential(3.0, 1.0, 1.0)
    assert Exponential(3.0, 1.0).mean == 4.0 and (-Exponential(3.0, 1.0)).mean == -4.0
    assert net.connect("a", "a", FixedTotalNumber(10), Exponential(2.0), 1.0).receptor == "excitatory"
