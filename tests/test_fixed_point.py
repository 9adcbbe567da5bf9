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
    from distsnn.backends.cpu import simulator, sizes
    net = Network(dt=0.1)
    net.add_population("a", 100)
    net.connect("a", "a", AllToAll(), 1.0, 1.0)
    said = []
    simulator.CpuSimulator(make_plan(net, 1), "stored", log=said.append).build()
    assert any("stored connectivity (10000 synapses)" in s for s in said)
    monkeypatch.setattr(sizes, "available_memory", lambda: 1000)
    with pytest.raises(MemoryError, match=r"needs .* GiB .*but only .* GiB are available"):
        simulator.CpuSimulator(make_plan(net, 1), "stored").build()
    # the engine's own state: its largest part named, and no talk of connectivity modes
    far = Network(dt=0.1)
    far.add_population("a", 100)
    far.connect("a", "a", AllToAll(), 1.0, 10000.0)   # 100,001 slots a neuron: 38 MiB of input buffers
    monkeypatch.setattr(sizes, "available_memory", lambda: 20 * 2 ** 20)
    with pytest.raises(MemoryError, match=r"neuron state, input buffers and row counts needs 0.04 GiB \(input buffers "
                                          r"0.04 GiB\) but only 0.02 GiB are available; use a smaller model or more "
                                          r"ranks, or shorter delays"):
        simulator.CpuSimulator(make_plan(far, 1), "procedural").build()


def test_stored_connectivity_that_cannot_fit_is_refused_before_anything_is_counted(monkeypatch):
    """simulate refuses a stored model whose synapses (expected, before counting) cannot fit,
    before the row counts and the input bound walk them: on the host, and on the emulated device
    by its free memory. Procedural connectivity of the same model runs."""
    from distsnn.backends.cpu import sizes
    from distsnn.backends.gpu import emulator
    from distsnn.runtime import run as run_module
    from distsnn.runtime import simulate
    net = Network(dt=0.1)
    net.add_population("a", 2000)
    net.add_population("b", 500)
    net.connect("a", "b", FixedProbability(0.5), 1.0, 1.0)   # 500,000 expected
    net.connect("b", "a", AllToAll(), -1.0, 1.0)             # 1,000,000
    plan = make_plan(net, 1, bound_inputs=False)
    assert plan.synapses_onto(plan.units) == plan.n_synapses() == 1.5e6
    halves = plan.units[:plan.units.shape[0] // 2], plan.units[plan.units.shape[0] // 2:]
    assert sum(plan.synapses_onto(h) for h in halves) == pytest.approx(1.5e6)
    monkeypatch.setattr(sizes, "available_memory", lambda: 10 * 2 ** 20)   # 18 MB at least: too much

    def no_bound(*args, **kwargs):
        raise AssertionError("the input bound ran before the memory check")
    monkeypatch.setattr(run_module, "decide_ring_bits", no_bound)
    with pytest.raises(MemoryError, match=r"stored connectivity: about 1.5e\+06 synapses need at least 0.02 GiB but "
                                          r"the host has 0.01 GiB free; use procedural connectivity"):
        simulate(net, 1.0, backend="cpu", connectivity="stored", progress=False)
    monkeypatch.setattr(emulator.EmulatedDevice, "free_bytes", lambda self: 10 * 2 ** 20)
    with pytest.raises(MemoryError, match=r"about 1.5e\+06 synapses .* but emulated GPU \(host C\+\+\) has 0.01 GiB"):
        simulate(net, 1.0, backend="gpu-emu", connectivity="stored", progress=False)
    monkeypatch.undo()
    assert simulate(net, 1.0, backend="cpu", connectivity="procedural", progress=False).n_steps == 10


# --- int32 ring buffers: the per-neuron bound ------------------------------------------------
from distsnn.build.fixed_point import LIMIT32, RESOLUTION, weight_units  # noqa: E402
from distsnn.build.input_bound import host_unit_bounds, neuron_input_bounds  # noqa: E402
from distsnn.model import FixedIndegree, FixedOutdegree, FixedProbability, OneToOne  # noqa: E402


def _rules_network(bits="auto"):
    """Every rule into one population, on both receptors, chunks shorter than the population."""
    net = Network(dt=0.1, chunk_size=16, ring_bits=bits)
    net.add_population("a", 40)
    net.add_population("b", 37)
    net.connect("a", "b", FixedTotalNumber(3000), Normal(80.0, 8.0), Normal(1.5, 0.3))
    net.connect("b", "b", FixedOutdegree(9), Normal(-300.0, 30.0), 1.0, receptor="inhibitory")
    net.connect("a", "b", FixedProbability(0.3), 55.0, 2.0, label="fp")
    net.connect("b", "b", OneToOne(), 40.0, 1.0, label="o2o")
    net.connect("a", "b", AllToAll(), -20.0, 1.0, receptor="inhibitory", label="a2a")
    net.connect("a", "b", FixedIndegree(12), Normal(30.0, 3.0), 1.0, label="fin")
    return net


def test_input_bound_is_the_exact_maximum_over_neurons():
    """The pass equals a brute-force count over every synapse of the NumPy reference."""
    plan = make_plan(_rules_network(), 3)
    a_max, d_max, q = neuron_input_bounds(plan, host_unit_bounds(plan, plan.counts))
    kb = plan.pop_names.index("b")
    a = np.zeros((2, 37), dtype=object)
    d = np.zeros((2, 37), dtype=np.int64)
    for j in range(plan.proj_i.shape[0]):
        rec = plan.proj_i[j, bp.JI_REC]
        w_max = weight_bound(plan.proj_f[j, bp.JF_WMEAN], plan.proj_f[j, bp.JF_WSD])
        _, post, _, _, _ = expand_projection(plan, j)
        per = np.bincount(post.astype(np.int64), minlength=37)
        d[rec] += per
        a[rec] += per * weight_units(w_max, int(q[kb, rec]))
    assert d.min() > 0
    assert d_max[kb].tolist() == [int(d[0].max()), int(d[1].max())]
    assert a_max[kb].tolist() == [int(a[0].max()), int(a[1].max())]
    assert a_max[plan.pop_names.index("a")].tolist() == [0, 0]      # no input onto a


def test_int32_scale_is_the_largest_that_cannot_overflow():
    """Every neuron fires in step 0 onto a population whose in-degrees vary; with one delay
    all input lands in one slot. The int32 sum is exact at the chosen k and would overflow
    at k + 1 (constant weights make the bound tight)."""
    net = Network(dt=0.1, ring_bits=32)
    net.add_population("pre", 3000, v_init=-50.0)         # above threshold: all fire at step 0
    net.add_population("post", 7, params={"V_th": 1e30})
    net.connect("pre", "post", FixedTotalNumber(30000), 1000.0, 1.0)
    plan = make_plan(net, 4)
    assert plan.ring_bits == 32
    k = int(plan.scale_exp[1, 0])
    _, post, _, w_int, _ = expand_projection(plan, 0)
    exact = [sum(int(x) for x in w_int[post == i]) for i in range(7)]   # Python integers
    assert max(exact) <= LIMIT32 < 2 * max(exact)
    sim = CpuSimulator(plan, "procedural").build()
    assert sim.ring.dtype == np.int32
    out = np.empty(10 ** 4, dtype=np.int64)
    sim.run(11, out, out.copy(), 0, np.empty((11, 0)))
    assert [sim.i_ex[3000 + i] for i in range(7)] == [float(e) * 2.0 ** -k for e in exact]


def test_int32_stored_weights_and_memory():
    plan = make_plan(_rules_network(32), 3)
    from distsnn.backends.cpu.sizes import csr_bytes_per_synapse, state_bytes
    sim = CpuSimulator(plan, "stored").build()
    assert sim.ring.dtype == np.int32 and sim.syn_w.dtype == np.int32
    assert csr_bytes_per_synapse(plan) == 12
    # b's rings: excitatory up to 1.5 + 6.66 * 0.3 ms (35 steps) + 1, inhibitory 1.0 ms + 1; a has no input
    ka, kb = plan.pop_names.index("a"), plan.pop_names.index("b")
    assert plan.pop_i[kb, [bp.PI_RING_EX, bp.PI_RING_IN]].tolist() == [36, 11]
    assert plan.pop_i[ka, [bp.PI_RING_EX, bp.PI_RING_IN]].tolist() == [1, 1]
    assert state_bytes(plan, plan.units)["rings"] == (40 * 2 + 37 * (36 + 11)) * 4 == sim.ring.nbytes
    plan64 = make_plan(_rules_network(64), 3)
    assert plan64.counts is None and plan64.ring_bits == 64          # no pass for int64
    assert state_bytes(plan64, plan64.units)["rings"] == 2 * state_bytes(plan, plan.units)["rings"]


def test_auto_keeps_int64_where_int32_is_too_coarse_and_32_is_refused():
    """A 1e-3 pA weight next to 1e6 pA ones onto the same receptor: int32 cannot resolve it."""
    def net(bits):
        n = Network(dt=0.1, ring_bits=bits)
        n.add_population("a", 1000)
        n.add_population("tiny", 10)
        n.connect("a", "a", AllToAll(), 1e6, 1.0)
        n.connect("tiny", "a", AllToAll(), 1e-3, 1.0)
        return n
    plan = make_plan(net("auto"), 1)
    assert plan.ring_bits == 64
    assert "population 'a', excitatory input" in plan.info["ring_bits_reason"]
    assert np.array_equal(plan.scale_exp, plan.info["scale_exp64"])  # the rules' int64 scales
    with pytest.raises(ValueError, match=r"ring_bits=32: population 'a', excitatory input: int32 leaves a "
                                         r"resolution of .* pA, coarser than 0.0001"):
        make_plan(net(32), 1)
    assert RESOLUTION == 1e-4


def test_ring_bits_is_validated():
    with pytest.raises(ValueError, match=r"ring_bits must be one of \('auto', 32, 64\), got 16"):
        Network(ring_bits=16)
    net = _rules_network()
    net.ring_bits = "32"                                  # a string from a careless caller
    with pytest.raises(ValueError, match="ring_bits must be one of"):
        make_plan(net, 1)
