"""Fixed-point input buffers: the bound is proven at build and holds in the worst case."""
import numpy as np
import pytest

from distsnn.backends.cpu.simulator import CpuSimulator
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.fixed_point import LIMIT, Z_MAX, choose_scale_exponent, weight_bound
from distsnn.connectivity import expand_projection
from distsnn.model import AllToAll, FixedTotalNumber, Network, Normal


def test_scale_exponent_is_largest_safe_power_of_two():
    terms = [(5e6, 6e3), (3e6, 900.0)]
    k = choose_scale_exponent(terms)
    total = lambda k: sum(c * (w * 2.0 ** k + 1) for c, w in terms)
    assert k < 32 and total(k) <= LIMIT < total(k + 1)
    assert choose_scale_exponent([]) == 32
    with pytest.raises(ValueError, match="cannot be represented"):
        choose_scale_exponent([(1e9, 1e30)])


def test_plan_bounds_cover_every_projection():
    net = Network(dt=0.1, chunk_size=32)
    net.add_population("a", 50)
    net.add_population("b", 70)
    net.connect("a", "b", FixedTotalNumber(10 ** 6), Normal(1e3, 300.0), 1.0)
    net.connect("b", "b", AllToAll(), Normal(-5e3, 100.0), 1.0)
    net.add_poisson_input("b", indegree=1e4, rate=100.0, weight=77.0, delay=1.0)
    plan = make_plan(net, 1)
    kb = plan.pop_names.index("b")
    k_ex, k_in = plan.scale_exp[kb]
    assert 10 ** 6 * (weight_bound(1e3, 300.0) * 2.0 ** k_ex + 1) + 0 <= LIMIT
    assert 70 * (weight_bound(-5e3, 100.0) * 2.0 ** k_in + 1) <= LIMIT
    # every generated fixed-point weight respects the bound used
    j = [j for j in range(2) if plan.proj_i[j, bp.JI_RULE] == bp.RULE_FTN][0]
    _, _, w, w_int, _ = expand_projection(plan, j)
    assert np.abs(w_int).max() <= weight_bound(1e3, 300.0) * 2.0 ** k_ex + 1
    assert np.abs(w).max() <= 1e3 + Z_MAX * 300.0


def test_worst_case_simultaneous_spikes_sum_exactly():
    """2000 neurons with enormous weights fire in the same step onto one target: no overflow."""
    net = Network(dt=0.1)
    net.add_population("pre", 2000, v_init=-50.0)        # all above threshold: all fire at step 0
    net.add_population("post", 1, params={"V_th": 1e30})
    net.connect("pre", "post", AllToAll(), Normal(1e12, 1e11), 1.0)
    plan = make_plan(net, 21)
    sim = CpuSimulator(plan, "procedural").build()
    out = np.empty(10 ** 4, dtype=np.int64)
    sim.run(11, out, out.copy(), 0, np.empty((11, 0)))
    k = plan.scale_exp[1, 0]
    _, _, _, w_int, _ = expand_projection(plan, 0)
    exact = sum(int(x) for x in w_int)                   # Python integers: no wrap-around
    assert exact < 2 ** 63
    assert sim.i_ex[2000] == float(exact) * 2.0 ** -k
    assert sim.i_ex[2000] == pytest.approx(2000 * 1e12, rel=0.02)


def test_unrepresentable_input_is_a_clear_error():
    net = Network(dt=0.1)
    net.add_population("a", 10)
    net.connect("a", "a", AllToAll(), 1e300, 1.0)
    with pytest.raises(ValueError, match="population 'a': synaptic input bound"):
        make_plan(net, 1)


def test_allocation_is_announced_and_refused_when_it_cannot_fit(monkeypatch):
    from distsnn.backends.cpu import simulator
    net = Network(dt=0.1)
    net.add_population("a", 100)
    net.connect("a", "a", AllToAll(), 1.0, 1.0)
    said = []
    simulator.CpuSimulator(make_plan(net, 1), "stored", log=said.append).build()
    assert any("stored connectivity (10000 synapses)" in s for s in said)
    monkeypatch.setattr(simulator, "available_memory", lambda: 1000)
    with pytest.raises(MemoryError, match=r"needs .* GiB but only .* GiB are available"):
        simulator.CpuSimulator(make_plan(net, 1), "stored").build()
