"""The izhikevich neuron against NEST 3.10's (tests/data/nest_izhikevich.json, from
scripts/peers/nest_izhikevich.py): five cell classes with forward Euler and two with
Izhikevich's published scheme, driven by I_e and excitatory and inhibitory spikes, give
NEST's V_m and U_m bit for bit and its spike times, on the CPU and the emulated GPU;
parameter checks; a network of them runs alike on both engines."""
import json
import pathlib

import numpy as np
import pytest

from distsnn.model import AllToAll, FixedIndegree, Network, Normal, OneToOne
from distsnn.model.neurons import RECORDABLES
from distsnn.runtime import simulate

DATA = json.loads((pathlib.Path(__file__).parent / "data" / "nest_izhikevich.json").read_text())
P = DATA["protocol"]


def driven_cell(cell):
    net = Network(dt=P["dt"])
    params = {k: v for k, v in cell.items() if k != "V_m"}      # NEST's initial V_m is our v_init
    net.add_population("n", 1, "izhikevich", params, v_init=cell.get("V_m"))
    net.add_spike_source("ex", 1, [0] * len(P["exc_times"]), P["exc_times"])
    net.add_spike_source("inh", 1, [0] * len(P["inh_times"]), P["inh_times"])
    net.connect("ex", "n", OneToOne(), P["w_exc"], P["delay"])
    net.connect("inh", "n", OneToOne(), P["w_inh"], P["delay"])
    net.record_spikes("n")
    net.record_state("n", [0], ["V_m", "U_m"])
    return net


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
@pytest.mark.parametrize("label", sorted(P["cells"]))
def test_nests_trace_bit_for_bit(label, backend):
    """NEST's order of operations (forward Euler: v += h (...) + x, u += h a (b v - u) from the
    old values; published: two half steps of v with x inside, u from the new v): the same bits
    at every step, so the same spikes."""
    ref = DATA["traces"][label]
    res = simulate(driven_cell(P["cells"][label]), P["t_sim"], backend=backend, progress=False)
    for var in ("V_m", "U_m"):
        _, times, x = res.state("n", var)
        assert np.array_equal(x[:, 0], ref[var]), var
    assert np.allclose(res.spikes("n")[1], ref["spikes"], rtol=0, atol=1e-9) and len(ref["spikes"]) > 0


def test_defaults_and_checks():
    net = Network(dt=0.1)
    pop = net.add_population("n", 3, "izhikevich")
    assert pop.v_init.value == -65.0 and pop.params["U_m"] == -13.0 and pop.params["V_th"] == 30.0
    assert RECORDABLES["izhikevich"] == {"V_m": 0, "U_m": 1}
    with pytest.raises(ValueError, match=r"V_min \(40.0\) must be below V_th \(30.0\)"):
        net.add_population("m", 3, "izhikevich", {"V_min": 40.0})
    with pytest.raises(ValueError, match="parameter consistent_integration must be True or False, got 0"):
        net.add_population("m", 3, "izhikevich", {"consistent_integration": 0})
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['E_L'\] for izhikevich"):
        net.add_population("m", 3, "izhikevich", {"E_L": -70.0})
    with pytest.raises(ValueError, match="izhikevich has no state variable 'g_ex'"):
        net.record_state("n", [0], ["g_ex"])


def izhikevich_network():
    """800 regular-spiking and 200 fast-spiking cells with noisy input (Izhikevich 2003's
    network, with fixed cell parameters per class), recorded V_m and U_m."""
    net = Network(dt=0.1)
    net.add_population("E", 800, "izhikevich", {"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0}, v_init=-65.0)
    net.add_population("I", 200, "izhikevich", {"a": 0.1, "b": 0.2, "c": -65.0, "d": 2.0, "V_th": Normal(30.0, 1.0)})
    net.connect("E", "E", FixedIndegree(80), Normal(0.5, 0.1), 1.0)
    net.connect("E", "I", AllToAll(), Normal(0.5, 0.1), 1.0)
    net.connect("I", "E", FixedIndegree(20), Normal(-1.0, 0.2), 1.0)
    net.connect("I", "I", FixedIndegree(20), Normal(-1.0, 0.2), 1.0)
    net.add_noise_input("E", std=5.0, dt=1.0)
    net.add_noise_input("I", std=2.0, dt=1.0)
    for pop in ("E", "I"):
        net.record_spikes(pop)
        net.record_state(pop, [0, 1], ["V_m", "U_m"])
    return net


def test_a_network_runs_alike_on_both_engines():
    cpu = simulate(izhikevich_network(), 300.0, seed=5, backend="cpu", progress=False)
    gpu = simulate(izhikevich_network(), 300.0, seed=5, backend="gpu-emu", progress=False)
    assert np.array_equal(cpu.spike_gids, gpu.spike_gids) and np.array_equal(cpu.spike_steps, gpu.spike_steps)
    assert np.array_equal(cpu.vrec, gpu.vrec)
    rates = cpu.mean_rates()
    assert 1.0 < rates["E"] < 50.0 and 1.0 < rates["I"] < 100.0   # measured 5.4 and 3.8 Hz
