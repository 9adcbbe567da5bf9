"""Weights and delays drawn from a Uniform (rng.synapse_variates): the NumPy specification's
variates are uniform and independent for every pair of kinds, the numba and CUDA kernels give
its bits for every rule and for synapse lists, the plan's bounds hold every draw, every
engine gives the same spikes, and what cannot be drawn is refused before any build."""
import dataclasses

import numpy as np
import pytest
from scipy import stats

from distsnn.backends.cpu.simulator import CpuSimulator
from distsnn.backends.gpu.source import KINDS_BIT, plan_rules, rule_variant
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.synapse_lists import reference_variates
from distsnn.connectivity import expand_projection, synapses
from distsnn.io.checkpoint import fingerprint
from distsnn.model import (AllToAll, Constant, FixedIndegree, FixedOutdegree, FixedProbability, FixedTotalNumber,
                           FromList, Network, Normal, OneToOne, Uniform)
from distsnn.rng import streams
from distsnn.rng.philox import philox4x32, uniform_open0_closed1
from distsnn.rng.portable_math import box_muller
from distsnn.rng.synapse_variates import UNIFORM_DELAY, UNIFORM_WEIGHT, uniform_extremes, variates
from distsnn.runtime import simulate
from test_connectivity import _csr_synapses, reference_synapses
from test_gpu_emulated import assert_same_run

KEY = streams.key_from_seed(2026)
KINDS = {"constant": (Constant(1.0), 0.0), "normal": (Normal(1.0, 0.5), 0.5), "uniform": (Uniform(0.5, 1.5), 1.0)}


def words(n):
    return philox4x32(np.arange(n, dtype=np.uint64), 3, 5, streams.tag(streams.DOM_SYN, 99), *KEY)


def bits(weight_kind, delay_kind):
    return (UNIFORM_WEIGHT if weight_kind == "uniform" else 0) | (UNIFORM_DELAY if delay_kind == "uniform" else 0)


@pytest.mark.parametrize("wk", list(KINDS))
@pytest.mark.parametrize("dk", list(KINDS))
def test_variates_are_uniform_or_normal_and_independent(wk, dk):
    """Every pair of kinds: a Uniform's variate is u - 1/2 on (-1/2, 1/2], a Normal's a
    standard normal (a constant's is multiplied by its spread 0), and the two are independent
    (each Uniform reads a word the other quantity does not)."""
    w = words(40000)
    assert_variates_follow_their_laws(variates(w[1], w[2], w[3], bits(wk, dk), KINDS[wk][1], KINDS[dk][1]), wk, dk)


def assert_variates_follow_their_laws(x, wk, dk):
    """x = (x_w, x_d), the variates of a weight of kind wk and a delay of kind dk: a Uniform's
    u - 1/2 on (-1/2, 1/2], an Exponential's -log u on [0, E_MAX] a standard exponential, a
    Normal's a standard normal (Kolmogorov-Smirnov), and the two independent (Spearman's rho
    of the values and of their magnitudes) where neither is constant."""
    from distsnn.rng.synapse_variates import E_MAX
    laws = {"uniform": (stats.uniform(-0.5, 1.0).cdf, -0.5, 0.5), "exponential": ("expon", 0.0, E_MAX),
            "normal": ("norm", -np.inf, np.inf)}
    for kind, v in zip((wk, dk), x):
        if kind in laws:
            cdf, lo, hi = laws[kind]
            assert v.min() >= lo and v.max() <= hi and (kind != "uniform" or v.min() > lo)
            assert stats.kstest(v, cdf).pvalue > 1e-3
    if wk != "constant" and dk != "constant":
        n = x[0].size
        assert abs(stats.spearmanr(x[0], x[1])[0]) < 4 / np.sqrt(n)
        assert abs(stats.spearmanr(np.abs(x[0]), np.abs(x[1]))[0]) < 4 / np.sqrt(n)


def test_which_word_each_uniform_reads():
    """A Uniform reads its own word of the Box-Muller pair (1 the weight's, 2 the delay's)
    where the other quantity draws no normal, else word 3; a projection without a Uniform
    draws what every engine drew before Uniform existed (Box-Muller of words 1 and 2)."""
    w = words(1000)
    u = [uniform_open0_closed1(x) - 0.5 for x in w]
    z0, z1 = box_muller(uniform_open0_closed1(w[1]), uniform_open0_closed1(w[2]))
    both = variates(w[1], w[2], w[3], UNIFORM_WEIGHT | UNIFORM_DELAY, 1.0, 1.0)
    assert np.array_equal(both[0], u[1]) and np.array_equal(both[1], u[2])
    assert np.array_equal(variates(w[1], w[2], w[3], UNIFORM_WEIGHT, 1.0, 0.0)[0], u[1])
    assert np.array_equal(variates(w[1], w[2], w[3], UNIFORM_DELAY, 0.0, 1.0)[1], u[2])
    assert np.array_equal(variates(w[1], w[2], w[3], UNIFORM_WEIGHT, 1.0, 0.5), (u[3], z1))
    assert np.array_equal(variates(w[1], w[2], w[3], UNIFORM_DELAY, 0.5, 1.0), (z0, u[3]))
    assert np.array_equal(variates(w[1], w[2], w[3], 0, 0.5, 0.5), (z0, z1))


def every_rule(weight, delay):
    """Every rule, each with `weight` and `delay` (functions of a mean: a distribution)."""
    net = Network(dt=0.1, chunk_size=50)
    for name, n in (("a", 120), ("b", 130), ("c", 120)):
        net.add_population(name, n)
    net.connect("a", "b", FixedTotalNumber(3000), weight(10.0), delay(1.5))
    net.connect("b", "a", FixedProbability(0.3), weight(-30.0), delay(0.8))
    net.connect("a", "c", OneToOne(), weight(4.0), delay(1.0))
    net.connect("c", "b", FixedOutdegree(20), weight(5.0), delay(2.0))
    net.connect("c", "c", AllToAll(), weight(1.0), delay(3.0), label="recurrent")
    net.connect("b", "c", FixedIndegree(15), weight(-8.0), delay(1.2))
    return net


DRAWS = {"constant": lambda m: m, "normal": lambda m: Normal(m, abs(m) / 4),
         "uniform": lambda m: Uniform(m / 2, m * 1.5) if m > 0 else Uniform(m * 1.5, m / 2)}
DELAYS = {"constant": lambda m: m, "normal": lambda m: Normal(m, m / 2, "redraw"),
          "uniform": lambda m: Uniform(max(0.1, m - 0.7), m + 0.7)}


@pytest.mark.parametrize("wk,dk", [("uniform", "uniform"), ("uniform", "normal"), ("normal", "uniform"),
                                   ("uniform", "constant"), ("constant", "uniform")])
def test_cpu_rows_and_stored_csr_equal_the_spec(wk, dk):
    """gen_row's general loop (procedural delivery and the stored CSR) gives the spec's
    synapses, every rule, every pair of kinds with a Uniform (redrawn normal delays too)."""
    plan = make_plan(every_rule(DRAWS[wk], DELAYS[dk]), 77)
    assert np.all(plan.proj_f[:, bp.JF_KINDS] == bits(wk, dk))
    sim = CpuSimulator(plan, "stored").build()
    assert np.array_equal(_csr_synapses(sim), reference_synapses(plan))


def test_drawn_values_cover_the_interval_and_round_as_nest():
    """Weights uniform on (low, high]; delays uniform before NEST's rounding to steps, so the
    end steps take half the others' share; the plan's ring slots and shortest delay are the
    draws' extremes."""
    net = Network(dt=0.1, chunk_size=200)
    net.add_population("a", 200)
    net.connect("a", "a", FixedTotalNumber(200000), Uniform(-40.0, -10.0), Uniform(1.0, 2.0))
    plan = make_plan(net, 5)
    _, _, w, w_int, d = expand_projection(plan, 0)
    assert w.min() > -40.0 and w.max() <= -10.0
    assert stats.kstest(w, stats.uniform(-40.0, 30.0).cdf).pvalue > 1e-3
    scale = plan.proj_f[0, bp.JF_SCALE]
    assert np.all(np.abs(w_int / scale - w) <= 0.5 / scale)
    share = np.bincount(d, minlength=21)[10:] / d.size
    want = np.r_[0.05, np.full(9, 0.1), 0.05]
    assert np.allclose(share, want, atol=4 * np.sqrt(0.1 * 0.9 / d.size))
    assert d.min() == 10 and d.max() == 20 and plan.min_delay_steps == 10 and plan.max_delay_steps == 20
    assert int(plan.pop_i[0, bp.PI_RING_IN]) >= 21
    lo, hi = uniform_extremes(1.5, 1.0)
    assert lo > 1.0 and hi == 2.0


def test_a_uniform_weight_bounds_the_input_tighter_than_a_normal_would():
    """The fixed-point scale comes from |mean| + (high - low) / 2, the largest |w| a Uniform
    draws, not from a normal's tail."""
    def plan_of(weight):
        net = Network(dt=0.1, chunk_size=100, ring_bits=64)
        net.add_population("a", 100)
        net.connect("a", "a", FixedTotalNumber(10 ** 6), weight, 1.0)
        return make_plan(net, 1)
    uni = plan_of(Uniform(0.0, 1e5)).scale_exp[0, bp.REC_EX]
    assert uni == plan_of(1e5).scale_exp[0, bp.REC_EX] < 32
    assert uni > plan_of(Normal(5e4, 5e4)).scale_exp[0, bp.REC_EX]


def test_synapse_lists_draw_uniforms_from_their_own_counters():
    n = 5000
    net = Network(dt=0.1, chunk_size=64)
    net.add_population("a", 100)
    rng = np.random.default_rng(1)
    pre, post = rng.integers(0, 100, n), rng.integers(0, 100, n)
    weight, delay = Uniform(5.0, 25.0), Normal(1.5, 0.3)
    proj = net.connect("a", "a", FromList(pre, post), weight, delay)
    plan = make_plan(net, 4)
    x_w, x_d = reference_variates(proj.pid, n, *streams.key_from_seed(4), weight, delay)
    assert np.array_equal(plan.lists[0].weight, 15.0 + 20.0 * x_w)
    assert np.array_equal(plan.lists[0].delay, np.floor(np.maximum(1.5 + 0.3 * x_d, 0.1) * 10.0 + 0.5).astype(int))
    assert plan.lists[0].weight.min() > 5.0 and plan.lists[0].weight.max() <= 25.0
    (got,) = synapses(net, 4)
    assert got.weight.min() > 5.0 and got.weight.max() <= 25.0


def uniform_network(lists=True):
    """Excitatory and inhibitory populations, every rule, Uniform weights and delays of every
    pairing, a synapse list with Uniform weights (unless not `lists`: what the GPU's step
    loop runs), driven by Poisson input."""
    net = Network(dt=0.1, chunk_size=64)
    net.add_population("E", 300, v_init=Uniform(-65.0, -55.0))
    net.add_population("I", 100, v_init=Uniform(-65.0, -55.0))
    net.connect("E", "E", FixedTotalNumber(15000), Uniform(5.0, 25.0), Uniform(1.0, 2.5))
    net.connect("E", "I", FixedProbability(0.1), Uniform(20.0, 40.0), Normal(1.0, 0.5, "redraw"))
    net.connect("I", "E", FixedOutdegree(60), Normal(-60.0, 6.0), Uniform(0.5, 1.5))
    net.connect("I", "I", AllToAll(), Uniform(-60.0, -40.0), 0.5)
    net.connect("E", "I", FixedIndegree(30), Uniform(10.0, 30.0), Uniform(0.8, 1.6), label="k")
    net.connect("I", "I", OneToOne(), Uniform(-20.0, -10.0), Uniform(1.0, 3.0), label="self")
    rng = np.random.default_rng(7)
    if lists:
        net.connect("I", "E", FromList(rng.integers(0, 100, 2000), rng.integers(0, 300, 2000)), Uniform(-30.0, -5.0),
                    Uniform(0.7, 1.1), label="list")
    return driven_and_recorded(net)


def driven_and_recorded(net):
    """`net` (populations E and I) with Poisson input to both, their spikes and 5 neurons' V_m
    recorded."""
    net.add_poisson_input("E", indegree=1000, rate=4.5, weight=45.0, delay=1.5)
    net.add_poisson_input("I", indegree=1000, rate=4.5, weight=45.0, delay=1.5)
    net.record_spikes("E")
    net.record_spikes("I")
    net.record_voltage("E", range(5))
    return net


@pytest.fixture(scope="module")
def uniform_reference():
    return simulate(uniform_network(), 150.0, seed=12, backend="cpu", progress=False)


ENGINES = [("cpu", "stored"), ("gpu-emu", "procedural"), ("gpu-emu", "stored")]


def assert_engines_agree(network, ref, backend, connectivity):
    """network() on `backend` and `connectivity` runs as `ref`, the CPU procedural engine's
    150 ms of it: the same spikes, voltages and events."""
    assert ref.spike_gids.size > 500
    res = simulate(network(), 150.0, seed=12, backend=backend, connectivity=connectivity, progress=False)
    assert_same_run(res, ref)


def assert_step_loop_agrees(network, monkeypatch):
    """network(lists=False) on the emulated device's step loop (its full variant, its own
    copy of delivery) runs as on the CPU for 60 ms."""
    ref = simulate(network(lists=False), 60.0, seed=12, backend="cpu", progress=False)
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1")
    res = simulate(network(lists=False), 60.0, seed=12, backend="gpu-emu", progress=False)
    assert res.device["step_launches"].startswith("step loop (step_loop_r32,") and ref.spike_gids.size > 200
    assert_same_run(res, ref)


@pytest.mark.parametrize("backend,connectivity", ENGINES)
def test_engines_agree(uniform_reference, backend, connectivity):
    """CPU stored and the emulated GPU (the full rule variant's Uniform path, procedural and
    stored) give the CPU procedural engine's spikes, voltages and events."""
    assert_engines_agree(uniform_network, uniform_reference, backend, connectivity)


def test_emulated_step_loop_agrees(monkeypatch):
    """The step loop's full variant draws the Uniforms alike."""
    assert_step_loop_agrees(uniform_network, monkeypatch)


def test_uniform_draws_change_the_spikes(uniform_reference):
    """The same network with each Uniform replaced by the Normal of its mean and spread runs
    differently: the draws reach the dynamics."""
    net = uniform_network()
    net.projections[:] = [dataclasses.replace(p, weight=Normal(p.weight.mean, 1.0)) if isinstance(p.weight, Uniform)
                          else p for p in net.projections]
    res = simulate(net, 150.0, seed=12, backend="cpu", progress=False)
    assert not np.array_equal(res.spike_gids, uniform_reference.spike_gids)


def test_a_uniform_model_takes_the_full_gpu_variant_and_is_fingerprinted():
    def plan_of(weight):
        net = Network(dt=0.1, chunk_size=64)
        net.add_population("a", 100)
        net.connect("a", "a", FixedTotalNumber(1000), weight, 1.0)
        return make_plan(net, 1)
    uni, normal = plan_of(Uniform(5.0, 15.0)), plan_of(Normal(10.0, 10.0))
    assert KINDS_BIT in plan_rules(uni) and rule_variant(plan_rules(uni)) == ""
    assert KINDS_BIT not in plan_rules(normal) and rule_variant(plan_rules(normal)) == "_no_indegree"
    assert fingerprint(uni)["model_tables_sha256"] != fingerprint(normal)["model_tables_sha256"]
    # a model without a Uniform keeps the fingerprint of its checkpoints from before the column
    before = fingerprint(normal)["model_tables_sha256"]
    normal.proj_f = normal.proj_f[:, :bp.N_JF_BEFORE_KINDS].copy()
    assert fingerprint(normal)["model_tables_sha256"] == before


def test_what_a_uniform_cannot_draw_is_refused():
    net = Network(dt=0.1)
    net.add_population("a", 10)
    with pytest.raises(ValueError, match=r"projection a->a: weight Uniform\(low=-1.0, high=2.0\) spans both signs"):
        net.connect("a", "a", FixedTotalNumber(10), Uniform(-1.0, 2.0), 1.0)
    with pytest.raises(ValueError, match=r"delay Uniform\(low=0.05, high=2.0\) reaches below dt = 0.1 ms"):
        net.connect("a", "a", FixedTotalNumber(10), 1.0, Uniform(0.05, 2.0))
    with pytest.raises(ValueError, match=r"delay: uniform high \(1.0\) is below low \(2.0\)"):
        net.connect("a", "a", FixedTotalNumber(10), 1.0, Uniform(2.0, 1.0))
    with pytest.raises(ValueError, match="weight: high must be a finite number"):
        net.connect("a", "a", FixedTotalNumber(10), Uniform(1.0, float("inf")), 1.0)
    with pytest.raises(ValueError, match=r"\(list\): weight Uniform\(low=-1.0, high=1.0\) spans both signs"):
        net.connect("a", "a", FromList([0], [1]), Uniform(-1.0, 1.0), 1.0, label="list")
    assert net.projections == []
    # a projection replaced after connect is checked again by the build
    net.connect("a", "a", FixedTotalNumber(10), Uniform(1.0, 2.0), 1.0)
    net.projections[0] = dataclasses.replace(net.projections[0], delay=Uniform(0.0, 1.0))
    with pytest.raises(ValueError, match=r"projection a->a: delay Uniform\(low=0.0, high=1.0\) reaches below dt"):
        make_plan(net, 1)
    net.projections.clear()
    # a weight bounded by zero is of one sign; onto a conductance it is negated whole
    net.connect("a", "a", FixedTotalNumber(10), Uniform(-2.0, 0.0), Uniform(0.1, 0.1))
    net.add_population("c", 10, "iaf_cond_exp")
    proj = net.connect("a", "c", FixedTotalNumber(10), Uniform(-3.0, -1.0), 1.0)
    assert proj.receptor == "inhibitory" and proj.weight == Uniform(1.0, 3.0)
