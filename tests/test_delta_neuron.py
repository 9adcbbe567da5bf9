"""iaf_psc_delta against its analytic solution and NEST's rules: a spike of weight w (mV)
moves V by w in the step it arrives, V relaxes with tau_m, input during the refractory
period is lost, and the model runs the same on every backend."""
import math

import numpy as np
import pytest

from distsnn.model import FixedIndegree, Network, OneToOne, Uniform
from distsnn.runtime import simulate

E_L, V_TH, TAU_M, C_M = -70.0, -55.0, 10.0, 250.0


def test_single_psp_jumps_and_decays_with_tau_m():
    net = Network(dt=0.1)
    net.add_spike_source("pre", 1, [0], [0.1])
    net.add_population("post", 1, "iaf_psc_delta")
    net.connect("pre", "post", OneToOne(), 2.0, 1.0)
    net.record_voltage("post", [0])
    res = simulate(net, 30.0, progress=False)
    t = (np.arange(res.n_steps) + 1) * 0.1
    onset = 0.1 + 1.0                               # spike time + delay: V is E_L + w at the end of that step
    v = np.where(t >= onset - 1e-9, E_L + 2.0 * np.exp(-np.clip(t - onset, 0, None) / TAU_M), E_L)
    assert np.max(np.abs(res.vrec[:, 0] - v)) < 1e-10
    assert res.vrec[round(onset / 0.1) - 1, 0] == pytest.approx(E_L + 2.0, abs=1e-12)


def test_current_charges_like_iaf_psc_exp():
    """No synaptic input: the membrane is iaf_psc_exp's, so the two models give the same V."""
    out = {}
    for model in ("iaf_psc_delta", "iaf_psc_exp"):
        net = Network(dt=0.1)
        net.add_population("n", 1, model, {"I_e": 300.0})
        net.add_dc_input("n", 50.0, start=20.0, stop=40.0)
        net.record_voltage("n", [0])
        out[model] = simulate(net, 60.0, progress=False).vrec[:, 0]
    t = (np.arange(600) + 1) * 0.1
    assert np.array_equal(out["iaf_psc_delta"], out["iaf_psc_exp"])
    assert abs(out["iaf_psc_delta"][-1] - (E_L + 300.0 * TAU_M / C_M * (1 - math.exp(-t[-1] / TAU_M)))) < 0.3


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_input_during_refractory_period_is_lost(backend):
    """post fires in its first step (V starts above threshold) and is refractory for 2 ms
    (steps 1..20). Of two 5 mV inputs, the one arriving at 1.1 ms (step 10) is dropped, the
    one arriving at 3.1 ms (step 30) counts."""
    net = Network(dt=0.1)
    net.add_spike_source("pre", 1, [0, 0], [0.1, 2.1])
    net.add_population("post", 1, "iaf_psc_delta", {"t_ref": 2.0}, v_init=-50.0)
    net.connect("pre", "post", OneToOne(), 5.0, 1.0)
    net.record_spikes("post")
    net.record_voltage("post", [0])
    res = simulate(net, 10.0, progress=False, backend=backend)
    assert list(res.spikes("post")[1]) == [0.1]
    v = res.vrec[:, 0]
    assert np.all(v[:30] == E_L)
    assert v[30] == pytest.approx(E_L + 5.0, abs=1e-12)


def test_weights_are_millivolts_with_many_inputs():
    """Poisson input of rate nu through K inputs of w mV gives the mean V = E_L + K nu w tau_m
    (the weight is not divided by C_m as a current's would be)."""
    net = Network(dt=0.1)
    net.add_population("n", 1, "iaf_psc_delta", {"V_th": 1000.0})
    net.add_poisson_input("n", indegree=1000, rate=10.0, weight=0.1, delay=1.0)
    net.record_voltage("n", [0])
    v = simulate(net, 2000.0, progress=False).vrec[2000:, 0]
    assert abs(v.mean() - (E_L + 1000 * 10.0 * 1e-3 * 0.1 * TAU_M)) < 0.1


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_delta_network_same_on_cpu_and_emulated_gpu(connectivity):
    """A small Brunel-type network (fixed_indegree, delta synapses) gives the same spikes and
    voltages on the CPU engine and the GPU kernels."""
    def net():
        n = Network(dt=0.1, chunk_size=64)
        prm = {"C_m": 1.0, "tau_m": 20.0, "t_ref": 2.0, "E_L": 0.0, "V_th": 20.0, "V_reset": 10.0}
        n.add_population("E", 200, "iaf_psc_delta", prm, v_init=Uniform(0.0, 20.0))
        n.add_population("I", 50, "iaf_psc_delta", prm, v_init=Uniform(0.0, 20.0))
        for pre, k, w in (("E", 20, 0.2), ("I", 5, -1.0)):
            for post in ("E", "I"):
                n.connect(pre, post, FixedIndegree(k), w, 1.5)
        for post in ("E", "I"):
            n.add_poisson_input(post, indegree=100, rate=60.0, weight=0.2, delay=1.5)   # mean drive 24 mV
            n.record_spikes(post)
        n.record_voltage("E", [0, 199])
        return n
    ref = simulate(net(), 200.0, seed=5, backend="cpu", connectivity=connectivity, progress=False)
    assert ref.spike_gids.size > 500
    res = simulate(net(), 200.0, seed=5, backend="gpu-emu", connectivity=connectivity, progress=False)
    assert np.array_equal(res.spike_gids, ref.spike_gids) and np.array_equal(res.spike_steps, ref.spike_steps)
    assert np.array_equal(res.vrec, ref.vrec)
