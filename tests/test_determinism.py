"""The determinism contract on one process: procedural == stored, any thread count, any block size."""
import numba
import numpy as np
import pytest

from distsnn.model import (AllToAll, FixedIndegree, FixedOutdegree, FixedProbability, FixedTotalNumber, FromList,
                           Network, Normal, OneToOne, Uniform)
from distsnn.runtime import simulate
from distsnn.runtime import run as run_module


def mixed_network():
    """Every rule, synapse lists, both receptors, Poisson, DC and noise input, a Poisson
    stimulus window, Poisson spike sources (sinusoidal and MIP too), pulse packets, distributed
    bias currents (I_e), membrane parameters per neuron (rows of their own: tau_m, t_ref, b),
    iaf_psc_exp, iaf_psc_delta, iaf_cond_exp, iaf_cond_alpha, aeif_cond_exp (with and without
    refractoriness), aeif_psc_exp and aeif_psc_delta neurons, populations spanning several
    chunks; the state recorded is every kind the kernels can read (V_m, currents,
    conductances, w, and aeif_psc_exp's I_syn_in with NEST's sign)."""
    net = Network(dt=0.1, chunk_size=64)
    net.add_population("E", 400, params={"tau_syn_ex": 0.5, "tau_syn_in": 1.0}, v_init=Normal(-60.0, 5.0))
    net.add_population("I", 100, params={"V_th": Normal(-55.0, 1.0)}, v_init=-65.0)   # a threshold per neuron
    net.add_population("X", 100, params={"I_e": 380.0})
    net.connect("E", "E", FixedTotalNumber(20000), Normal(40.0, 4.0), Normal(1.5, 0.75))
    net.connect("E", "I", FixedProbability(0.1), Normal(60.0, 6.0), Normal(1.0, 0.5))
    net.connect("I", "E", FixedOutdegree(60), Normal(-60.0, 6.0), Normal(0.8, 0.4))
    net.connect("I", "I", AllToAll(), -50.0, 0.5)
    net.connect("X", "I", OneToOne(), 200.0, 2.0, label="x")
    net.connect("X", "E", FixedProbability(0.2), 30.0, 1.2)
    net.connect("E", "I", FixedIndegree(30), Normal(20.0, 2.0), Normal(1.2, 0.4), label="k")
    net.add_poisson_input("E", indegree=1000, rate=18.0, weight=45.0, delay=1.5)
    net.add_poisson_input("I", indegree=1000, rate=9.0, weight=45.0, delay=1.5)
    net.add_dc_input("I", 100.0, start=50.0, stop=150.0)
    net.add_ac_input("E", 30.0, 40.0, phase=20.0, offset=5.0, start=60.0)   # NEST's ac_generator
    net.add_noise_input("I", mean=20.0, std=80.0, dt=0.5, start=20.0, stop=250.0)
    net.add_population("D", 70, "iaf_psc_delta", {"t_ref": Uniform(1.0, 2.0), "tau_m": Normal(10.0, 1.0)},
                       v_init=Normal(-62.0, 4.0))
    net.add_population("C", 50, "iaf_cond_exp", {"I_e": Uniform(30.0, 70.0)})      # a bias current per neuron
    net.connect("E", "D", FixedIndegree(25), Normal(0.5, 0.1), Normal(1.3, 0.4))
    net.connect("D", "C", FixedTotalNumber(1500), 4.0, 0.7)
    net.connect("D", "E", FixedProbability(0.1), 25.0, 2.1)
    net.connect("C", "I", FixedProbability(0.1), 20.0, 1.0)
    net.add_poisson_input("D", indegree=400, rate=6.0, weight=0.5, delay=1.0)
    net.add_poisson_input("D", indegree=200, rate=30.0, weight=0.5, delay=0.5, start=40.0, stop=120.0)
    net.add_population("G", 80, "iaf_cond_alpha", {"tau_syn_ex": 0.5, "I_e": 280.0, "V_th": Uniform(-56.0, -54.0)},
                       v_init=Normal(-60.0, 3.0))
    net.connect("E", "G", FixedIndegree(15), Normal(2.5, 0.25), Normal(1.1, 0.3))
    net.connect("I", "G", FixedProbability(0.1), -3.0, 0.6)
    net.connect("G", "E", FixedTotalNumber(800), 30.0, 1.6)
    net.add_population("W", 90, "aeif_cond_exp", {"I_e": 600.0, "tau_syn_ex": 0.5, "V_th": Normal(-50.4, 0.5)},
                       v_init=Normal(-62.0, 3.0))
    net.add_population("B", 30, "aeif_cond_exp", {"I_e": 580.0, "t_ref": 1.0, "V_reset": -47.0, "a": 2.0,
                                                  "b": Uniform(20.0, 40.0), "tau_w": 40.0})
    net.connect("E", "W", FixedIndegree(20), Normal(5.0, 0.5), Normal(1.0, 0.3))
    net.connect("I", "W", FixedProbability(0.1), -4.0, 0.7)
    net.connect("W", "B", FixedProbability(0.2), 3.0, 1.4)
    net.connect("B", "E", FixedTotalNumber(500), 30.0, 1.9)
    net.add_poisson_input("W", indegree=100, rate=10.0, weight=2.0, delay=1.0)
    net.add_noise_input("W", std=60.0)                         # AdEx (the solver's own kernel), every step
    net.add_population("P", 40, "aeif_psc_exp", {"I_e": Normal(750.0, 20.0), "t_ref": 1.5, "tau_syn_ex": 1.0})
    net.connect("E", "P", FixedIndegree(10), Normal(60.0, 6.0), 1.2)
    net.connect("I", "P", FixedProbability(0.1), -80.0, 0.9)
    net.connect("P", "I", FixedTotalNumber(300), 30.0, 1.3)
    net.add_population("Q", 40, "aeif_psc_delta", {"I_e": Normal(700.0, 20.0), "t_ref": 1.0})   # V jumps (mV)
    net.connect("E", "Q", FixedIndegree(10), Normal(1.0, 0.1), 1.1)
    net.connect("I", "Q", FixedProbability(0.1), -1.5, 0.8)
    net.connect("Q", "I", FixedTotalNumber(300), 30.0, 1.2)
    net.add_poisson_source("S", 70, 150.0, start=30.0, stop=220.0)   # stateless draws, a window
    net.connect("S", "E", FixedProbability(0.1), 40.0, 1.0)
    net.connect("S", "C", FixedIndegree(5), 3.0, 0.8)
    net.add_sinusoidal_poisson_source("Z", 30, 80.0, 60.0, 20.0, phase=45.0, start=10.0)   # a phase word
    net.connect("Z", "I", FixedProbability(0.2), 30.0, 1.1)
    net.add_mip_source("M", 90, 400.0, 0.3, start=5.0, stop=280.0)   # correlated: one parent over chunks
    net.connect("M", "E", FixedProbability(0.05), 40.0, 1.3)
    net.add_pulse_packet_source("K", 30, [50.0, 150.0, 250.0], 5, 2.0)   # drawn at the build, multiplicities
    net.connect("K", "E", FixedProbability(0.1), 40.0, 1.0)
    # a, b, c, d per neuron: given, drawn Normal, drawn Uniform, given
    net.add_population("Y", 40, "izhikevich", {"I_e": 8.0, "a": np.linspace(0.02, 0.1, 40), "b": Normal(0.2, 0.01),
                                               "c": Uniform(-65.0, -55.0), "d": [2.0, 8.0] * 20},
                       v_init=Normal(-65.0, 3.0))
    net.connect("E", "Y", FixedIndegree(10), Normal(2.0, 0.2), 1.2)
    net.connect("Y", "I", FixedProbability(0.2), 20.0, 0.9)
    # synapse lists: given weights and delays; negative conductances (inhibitory); drawn
    # weights and delays, with repeated pairs (multapses)
    rng = np.random.default_rng(7)
    net.connect("E", "D", FromList(rng.integers(0, 400, 2000), rng.integers(0, 70, 2000)),
                rng.uniform(0.2, 0.8, 2000), rng.choice([0.4, 0.9, 1.7, 2.5], 2000), label="list")
    net.connect("I", "G", FromList(rng.integers(0, 100, 200), rng.integers(0, 80, 200)),
                -rng.uniform(0.2, 1.0, 200), 0.6, label="list")
    pre, post = rng.integers(0, 100, 300), rng.integers(0, 400, 300)
    net.connect("X", "E", FromList(np.tile(pre, 2), np.tile(post, 2)),
                Normal(30.0, 3.0), Normal(1.4, 0.3), label="list")
    for name in ("E", "I", "X", "D", "C", "G", "W", "B", "P", "Q", "S", "Z", "M", "K", "Y"):
        net.record_spikes(name)
    net.record_state("E", [0, 1, 399], ["V_m", "I_syn_ex", "I_syn_in"])
    net.record_voltage("D", [0, 69])
    net.record_state("G", [3], ["g_in", "g_ex"])
    net.record_state("W", [5], ["V_m", "w", "g_ex"])
    net.record_state("B", [0, 29], ["w"])
    net.record_state("P", [0], ["V_m", "I_syn_in", "w"])
    net.record_state("Q", [0, 39], ["V_m", "w"])
    net.record_state("Y", [0, 39], ["V_m", "U_m"])
    return net


@pytest.fixture(scope="module")
def reference():
    return simulate(mixed_network(), 300.0, seed=12, connectivity="procedural", progress=False)


def test_network_is_active(reference):
    rates = reference.mean_rates()
    assert all(r > 1.0 for r in rates.values()), rates
    assert reference.events > 10000


def same(a, b):
    return (np.array_equal(a.spike_gids, b.spike_gids) and np.array_equal(a.spike_steps, b.spike_steps)
            and np.array_equal(a.vrec, b.vrec))


def test_stored_equals_procedural(reference):
    stored = simulate(mixed_network(), 300.0, seed=12, connectivity="stored", progress=False)
    assert same(reference, stored)
    assert stored.events == reference.events


def test_thread_count_does_not_change_spikes(reference):
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = simulate(mixed_network(), 300.0, seed=12, progress=False)
    finally:
        numba.set_num_threads(before)
    assert same(reference, single)


def test_block_size_does_not_change_spikes(reference, monkeypatch):
    monkeypatch.setattr(run_module, "BLOCK_MS", 0.7)
    assert same(reference, simulate(mixed_network(), 300.0, seed=12, progress=False))


def test_seed_changes_spikes(reference):
    other = simulate(mixed_network(), 300.0, seed=13, progress=False)
    assert not np.array_equal(reference.spike_gids, other.spike_gids)


def test_spike_output_buffer_grows(monkeypatch):
    """A run with more spikes than the initial output buffer keeps every spike."""
    net = Network(dt=0.1)
    net.add_population("fast", 300, params={"I_e": 2000.0, "t_ref": 0.1})
    net.record_spikes("fast")
    res = simulate(net, 100.0, progress=False)
    _, times = res.spikes("fast")
    per_neuron = times.size / 300
    assert times.size > 4 * 1024 and per_neuron == int(per_neuron)
    assert np.all(np.diff(res.spike_steps) >= 0)


def with_empty_population(empty):
    """100 driven neurons connected among themselves; with `empty`, also a population of 0
    neurons that every rule connects both ways with the synapses it may have (none), and
    that gets Poisson input and is recorded."""
    net = Network(dt=0.1, chunk_size=32)
    net.add_population("A", 100)
    net.connect("A", "A", FixedTotalNumber(2000), Normal(60.0, 6.0), Normal(1.5, 0.5))
    net.add_poisson_input("A", indegree=100, rate=80.0, weight=90.0, delay=1.0)
    if empty:
        net.add_population("Z", 0)
        for pre, post in (("A", "Z"), ("Z", "A"), ("Z", "Z")):
            net.connect(pre, post, FixedTotalNumber(0), 1.0, 1.0, label="total")
            net.connect(pre, post, FixedProbability(0.3), -2.0, 0.7, label="p")
            net.connect(pre, post, AllToAll(), 1.0, 2.0, label="all")
        net.connect("Z", "A", FixedIndegree(0), 1.0, 1.0, label="in")
        net.connect("A", "Z", FixedOutdegree(0), 1.0, 1.0, label="out")
        net.add_poisson_input("Z", indegree=10, rate=10.0, weight=1.0, delay=1.0)
        net.record_spikes("Z")
    net.record_spikes("A")
    return net


@pytest.mark.parametrize("backend,connectivity", [("cpu", "procedural"), ("cpu", "stored"),
                                                  ("gpu-emu", "procedural"), ("gpu-emu", "stored")])
def test_an_empty_population_changes_nothing(backend, connectivity):
    """A population of 0 neurons, connected by every rule, builds and runs (fixed_total_number(0)
    onto it divided by its size once) and leaves the other neurons' spikes as they were."""
    alone = simulate(with_empty_population(False), 100.0, seed=3, progress=False, backend="cpu")
    assert alone.spike_gids.size > 100
    res = simulate(with_empty_population(True), 100.0, seed=3, progress=False, backend=backend,
                   connectivity=connectivity)
    assert np.array_equal(res.spike_gids, alone.spike_gids) and np.array_equal(res.spike_steps, alone.spike_steps)
    assert res.events == alone.events
