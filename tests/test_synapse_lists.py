"""Synapses given as lists (FromList): the same spikes as the rules they restate, on both
engines and in both connectivity modes; drawn values; bounds; clear errors. (The
determinism network has three lists, so every backend, MPI and checkpoint test covers them.)"""
import numpy as np
import pytest

from distsnn.build.fixed_point import weight_units
from distsnn.build.plan import make_plan
from distsnn.build.synapse_lists import input_maxima, list_bytes, list_csr, reference_variates
from distsnn.connectivity.reference import expand_projection
from distsnn.model import AllToAll, FixedTotalNumber, FromList, Network, Normal
from distsnn.rng import streams
from distsnn.runtime import simulate
from partitioning import partition_network

BACKENDS = [("cpu", "procedural"), ("cpu", "stored"), ("gpu-emu", "procedural"), ("gpu-emu", "stored")]


def _network(inhibition, ring_bits=64):
    """E and I driven by Poisson input; E->I by a rule with drawn weights and delays; I->E by
    `inhibition(net)`."""
    net = Network(dt=0.1, chunk_size=64, ring_bits=ring_bits)
    net.add_population("E", 160, v_init=Normal(-60.0, 4.0))
    net.add_population("I", 40, v_init=Normal(-60.0, 4.0))
    net.add_poisson_input("E", indegree=1000, rate=9.0, weight=87.8, delay=1.5)
    net.add_poisson_input("I", indegree=1000, rate=7.0, weight=87.8, delay=1.5)
    net.connect("E", "I", FixedTotalNumber(2000), Normal(20.0, 2.0), Normal(1.5, 0.5))
    inhibition(net)
    net.record_spikes("E")
    net.record_spikes("I")
    return net


def _all_to_all(net):
    net.connect("I", "E", AllToAll(), -100.0, 0.8)


def _all_pairs(net):
    pre, post = np.meshgrid(np.arange(40), np.arange(160), indexing="ij")
    net.connect("I", "E", FromList(pre.ravel(), post.ravel()), -100.0, 0.8)


def _same(a, b):
    return np.array_equal(a.spike_gids, b.spike_gids) and np.array_equal(a.spike_steps, b.spike_steps)


@pytest.fixture(scope="module")
def rule_run():
    return simulate(_network(_all_to_all), 300.0, seed=3, progress=False)


@pytest.mark.parametrize("backend, connectivity", BACKENDS)
def test_all_pairs_are_all_to_all(rule_run, backend, connectivity):
    """A list of every pair with all_to_all's weight and delay gives all_to_all's spikes and events."""
    res = simulate(_network(_all_pairs), 300.0, seed=3, progress=False, backend=backend, connectivity=connectivity)
    rates = res.mean_rates()
    assert rates["E"] > 3.0 and rates["I"] > 3.0, rates
    assert _same(res, rule_run) and res.events == rule_run.events
    assert res.n_synapses == rule_run.n_synapses == 2000 + 40 * 160


@pytest.mark.parametrize("backend, connectivity", BACKENDS[:3])
def test_a_rules_own_synapses_as_a_list(backend, connectivity):
    """fixed_total_number's synapses, drawn weights and delays included (the reference
    expansion), given back as a list: the same spikes as the rule."""
    def drawn(net):
        net.connect("I", "E", FixedTotalNumber(3000), Normal(-100.0, 15.0), Normal(0.9, 0.4))
    rule = _network(drawn)
    plan = make_plan(rule, 5)
    pre, post, w, _, d = expand_projection(plan, 0)   # I->E: the first projection by target
    assert pre.size == 3000 and np.unique(w).size > 2900 and np.unique(d).size > 5

    def given(net):
        net.connect("I", "E", FromList(pre, post), w, d * net.dt)
    listed = _network(given)
    assert np.array_equal(make_plan(listed, 5).scale_exp, plan.scale_exp)   # the same fixed point
    a = simulate(rule, 200.0, seed=5, progress=False)
    b = simulate(listed, 200.0, seed=5, progress=False, backend=backend, connectivity=connectivity)
    assert a.spike_gids.size > 500 and _same(a, b) and a.events == b.events


def test_drawn_weights_and_delays():
    """Normal weights and delays: per synapse from its own counter, so the same for the same
    seed and different for another; clipped as the rules clip (weights keep their sign,
    delays >= dt); the sample's mean and sd are the Normal's."""
    def net(w, d):
        n = Network(dt=0.1)
        n.add_population("A", 100)
        n.add_population("B", 100)
        rng = np.random.default_rng(1)
        n.connect("A", "B", FromList(rng.integers(0, 100, 20000), rng.integers(0, 100, 20000)), w, d)
        return n
    one = make_plan(net(Normal(-20.0, 5.0), Normal(1.0, 0.5)), 1).lists[0]
    assert np.array_equal(one.weight, make_plan(net(Normal(-20.0, 5.0), Normal(1.0, 0.5)), 1).lists[0].weight)
    other = make_plan(net(Normal(-20.0, 5.0), Normal(1.0, 0.5)), 2).lists[0]
    assert not np.array_equal(one.weight, other.weight)
    assert abs(one.weight.mean() + 20.0) < 0.15 and abs(one.weight.std() - 5.0) < 0.15
    assert one.rec == 1 and one.weight.max() <= 0.0
    assert one.delay.min() == 1 and abs((one.delay * 0.1).mean() - 1.0) < 0.02
    clipped = make_plan(net(Normal(1.0, 2.0), 1.0), 1).lists[0]   # a third below 0: clipped to 0
    assert clipped.rec == 0 and clipped.weight.min() == 0.0 and 0.25 < (clipped.weight == 0).mean() < 0.4
    # the build's numba draws are the NumPy specification's, bit for bit
    pid = net(1.0, 1.0).projections[0].pid
    z0, z1 = reference_variates(pid, 20000, *streams.key_from_seed(1))
    assert np.array_equal(one.weight, np.minimum(-20.0 + 5.0 * z0, 0.0))
    assert np.array_equal(one.delay, np.floor(np.maximum(1.0 + 0.5 * z1, 0.1) / 0.1 + 0.5).astype(np.int64))


def test_input_bound_of_lists_is_exact():
    """The lists' share of the int32 input bound: per neuron, the sum of its synapses'
    weight units and their number, maximised over neurons (brute force here)."""
    rng = np.random.default_rng(3)
    net = Network(dt=0.1, chunk_size=32)
    net.add_population("A", 50)
    net.add_population("B", 70)
    pre, post, w = rng.integers(0, 50, 900), rng.integers(0, 70, 900), rng.uniform(1.0, 9.0, 900)
    net.connect("A", "B", FromList(pre[:500], post[:500]), w[:500], 1.0)
    net.connect("A", "B", FromList(pre[500:], post[500:]), w[500:], 2.0, label="second")
    plan = make_plan(net, 1)
    q = np.full((2, 2), 10)
    a_max, d_max = input_maxima(plan, q)
    units = np.array([weight_units(x, 10) for x in w])
    per_neuron = np.zeros(70, dtype=np.int64)
    np.add.at(per_neuron, post, units)
    assert a_max[1, 0] == per_neuron.max() and d_max[1, 0] == np.bincount(post).max()
    assert a_max[1, 1] == a_max[0, 0] == d_max[0, 1] == 0
    assert plan.ring_bits == 32 and plan.info["input_bound"]["max_indegree"][1][0] == d_max[1, 0]


def test_int32_rings_with_lists():
    """With 'auto' the lists' bound lets int32 rings through, and all backends still agree."""
    runs = [simulate(_network(_all_pairs, ring_bits="auto"), 200.0, seed=4, progress=False, backend=b,
                     connectivity=c) for b, c in BACKENDS[:3]]
    assert runs[0].plan.ring_bits == 32 and runs[0].spike_gids.size > 300
    assert all(_same(r, runs[0]) and r.events == runs[0].events for r in runs[1:])


def test_conductance_targets_and_lists_in_the_partition():
    """Negative weights onto a conductance-based neuron are inhibitory conductances of their
    magnitude; a list's shortest delay bounds the exchange interval between ranks."""
    net = Network(dt=0.1, chunk_size=16)
    net.add_population("A", 40)
    net.add_population("B", 40, "iaf_cond_exp")
    net.connect("A", "B", FromList(np.arange(40), np.arange(40)), -np.linspace(1.0, 2.0, 40), 0.3)
    net.connect("B", "A", AllToAll(), 10.0, 2.0)
    plan = make_plan(net, 1)
    sl = plan.lists[0]
    assert sl.rec == 1 and np.array_equal(sl.weight, np.linspace(1.0, 2.0, 40)) and sl.delay.min() == 3
    assert plan.min_delay_steps == 3 and plan.n_synapses() == 40 + 1600
    assert partition_network(net, 2, "populations").exchange_interval() == 3


def test_list_rows_only_for_list_sources():
    """The lists' CSR has rows for the neurons with list synapses only (row_of), so its
    pointers do not grow with the rest of the network; its cells hold every synapse once."""
    net = Network(dt=0.1, chunk_size=64)
    net.add_population("big", 5000)
    net.add_population("in", 10)
    net.connect("big", "big", FixedTotalNumber(20000), 10.0, 1.0)
    net.connect("in", "big", FromList([2, 7, 7, 2], [0, 4999, 4999, 130]), 5.0, [1.0, 1.5, 2.0, 1.0])
    plan = make_plan(net, 1)
    row_of, ptr, loc, w, d, q = list_csr(plan, plan.units, np.int64)
    assert q.size == 0   # no short-term plasticity
    U = plan.units.shape[0]
    assert np.array_equal(np.nonzero(row_of >= 0)[0], [5002, 5007]) and ptr.size == 2 * U + 1
    assert ptr[-1] == 4 and sorted(d.tolist()) == [10, 10, 15, 20]
    cells = np.nonzero(np.diff(ptr))[0]   # (row, unit): in 2 -> units 0 and 2, in 7 -> unit 78
    assert cells.tolist() == [0, 2, U + 78] and np.diff(ptr)[cells].tolist() == [1, 1, 2]
    assert list_bytes(plan, plan.units) < 8 * (5010 + 2 * U + 1) + 4 * 16


@pytest.mark.parametrize("pre, post, weight, delay, message", [
    ([0, 1], [0], 1.0, 1.0, "FromList has 2 pre ids but 1 post ids"),
    ([0, 10], [0, 1], 1.0, 1.0, "pre id 10 of synapse 1 is outside the population"),
    ([0, 1], [0, -1], 1.0, 1.0, "post id -1 of synapse 1 is outside"),
    ([0, 1.5], [0, 1], 1.0, 1.0, "pre id of synapse 1 is not an integer: 1.5"),
    ([[0, 1]], [0, 1], 1.0, 1.0, "pre ids must be a 1-D sequence"),
    ([0, 1], [0, 1], [1.0], 1.0, r"weight must be a number, a distribution or one value per synapse \(2\)"),
    ([0, 1, 2], [0, 1, 2], [1.0, 0.0, -2.0], 1.0, "weights of synapses 0 .1.0. and 2 .-2.0. have opposite signs"),
    ([0, 1], [0, 1], [1.0, np.nan], 1.0, "weight nan of synapse 1 is not a finite number"),
    ([0, 1], [0, 1], 1.0, [1.0, 0.05], r"delay 0.05 ms of synapse 1 is below dt = 0.1 ms"),
])
def test_bad_lists_are_refused_with_the_synapse_named(pre, post, weight, delay, message):
    net = Network(dt=0.1)
    net.add_population("A", 10)
    net.add_population("B", 5)
    with pytest.raises(ValueError, match=message):
        net.connect("A", "B", FromList(pre, post), weight, delay)


def test_arrays_of_values_only_with_lists():
    net = Network(dt=0.1)
    net.add_population("A", 2)
    with pytest.raises(ValueError, match="weight: expected a number or one of Constant, Normal"):
        net.connect("A", "A", AllToAll(), [1.0, 2.0, 3.0, 4.0], 1.0)


def test_checkpoints_know_the_lists(tmp_path):
    """A restart continues exactly with the same lists, and is refused with other weights."""
    def net(scale):
        def inhibition(n):
            pre, post = np.meshgrid(np.arange(40), np.arange(160), indexing="ij")
            n.connect("I", "E", FromList(pre.ravel(), post.ravel()), -100.0 * scale, 0.8)
        return _network(inhibition)
    whole = simulate(net(1.0), 200.0, seed=3, progress=False)
    simulate(net(1.0), 100.0, seed=3, progress=False, checkpoint=str(tmp_path / "ck"))
    second = simulate(net(1.0), 100.0, seed=3, progress=False, restart=str(tmp_path / "ck"))
    late = whole.spike_steps >= 1000
    assert late.sum() > 100
    assert np.array_equal(second.spike_gids, whole.spike_gids[late])
    assert np.array_equal(second.spike_steps, whole.spike_steps[late])
    with pytest.raises(ValueError, match="model parameters and connectivity"):
        simulate(net(1.001), 100.0, seed=3, progress=False, restart=str(tmp_path / "ck"))
