"""iaf_cond_alpha: the conductance is the exact alpha function (peak w at tau_syn), V is second
order against a tight ODE solution, inhibition pulls towards E_in, NEST's sign convention for
inhibitory weights holds (the same on every backend: test_alpha_neuron.py)."""
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from distsnn.backends.cpu.simulator import CpuSimulator
from distsnn.build import make_plan
from distsnn.model import Network, OneToOne
from distsnn.runtime import simulate

P = {"C_m": 250.0, "g_L": 16.6667, "E_L": -70.0, "E_ex": 0.0, "E_in": -85.0, "tau_syn_ex": 1.5,
     "tau_syn_in": 4.0, "V_th": -55.0, "V_reset": -60.0, "t_ref": 2.0}


def psp(dt, w=8.0, receptor="excitatory", params=None):
    """V (mV) at the end of every step after one spike of weight w (nS) sent at dt, delay 1 ms."""
    net = Network(dt=dt)
    net.add_spike_source("src", 1, [0], [dt])
    net.add_population("n", 1, "iaf_cond_alpha", params or P)
    net.connect("src", "n", OneToOne(), w, 1.0, receptor=receptor)
    net.record_voltage("n", [0])
    res = simulate(net, 30.0, progress=False)
    return (np.arange(res.n_steps) + 1) * dt, res.vrec[:, 0]


def reference(t_eval, w, tau, e_rev, onset, prm=P):
    """The alpha conductance w (s / tau) e^(1 - s / tau) from `onset` (ms); V by DOP853."""
    def rhs(t, v):
        s = t - onset
        g = w * s / tau * math.exp(1.0 - s / tau)
        return [(-prm["g_L"] * (v[0] - prm["E_L"]) - g * (v[0] - e_rev)) / prm["C_m"]]
    after = t_eval[t_eval >= onset]
    sol = solve_ivp(rhs, (onset, after[-1]), [prm["E_L"]], t_eval=after, rtol=1e-12, atol=1e-12, method="DOP853")
    return np.concatenate([np.full(t_eval.size - after.size, prm["E_L"]), sol.y[0]])


def test_conductance_is_the_alpha_function_peaking_at_the_weight():
    net = Network(dt=0.1)
    net.add_spike_source("pre", 1, [0], [0.1])
    net.add_population("post", 1, "iaf_cond_alpha", dict(P, tau_syn_ex=2.0))
    net.connect("pre", "post", OneToOne(), 6.0, 1.0)
    sim = CpuSimulator(make_plan(net, 1)).build()
    out = np.empty(100, dtype=np.int64)
    g = []
    for _ in range(80):
        sim.run(1, out, out.copy(), 0, np.empty((1, 0)))
        g.append(sim.i_ex[1])          # neuron 1: the source is gid 0
    g = np.array(g)
    k = int(np.argmax(g))
    assert g[k] == pytest.approx(6.0, rel=1e-12) and k == 10 + 20   # arrival in step 10, then tau_syn
    s = (np.arange(80) - 10) * 0.1
    assert np.max(np.abs(g - np.where(s > 0, 6.0 * s / 2.0 * np.exp(1 - s / 2.0), 0.0))) < 1e-9


def test_excitatory_psp_is_second_order():
    errors = []
    for dt in (0.1, 0.05):
        t, v = psp(dt)
        ref = reference(t, 8.0, P["tau_syn_ex"], P["E_ex"], onset=dt + 1.0)
        errors.append(np.max(np.abs(v - ref)))
        assert np.max(v) - P["E_L"] > 1.0                      # a real PSP (mV)
    assert errors[0] < 2e-3                                    # mV, at dt = 0.1 ms
    assert 3.0 < errors[0] / errors[1] < 5.0                   # halving dt quarters the error


@pytest.mark.parametrize("weight,receptor", [(10.0, "inhibitory"), (-10.0, None), (-10.0, "inhibitory")])
def test_inhibition_pulls_towards_e_in_and_negative_weights_are_inhibitory(weight, receptor):
    """A positive weight to the inhibitory receptor and NEST's negative weight are the same
    conductance of 10 nS."""
    prm = dict(P, E_L=-60.0)
    t, v = psp(0.1, w=weight, receptor=receptor, params=prm)
    expected = reference(t, 10.0, P["tau_syn_in"], P["E_in"], onset=1.1, prm=prm)
    assert v.min() < -60.5 and np.max(np.abs(v - expected)) < 2e-3


def test_negative_excitatory_conductance_is_refused():
    net = Network()
    net.add_population("a", 2)
    net.add_population("b", 2, "iaf_cond_alpha")
    with pytest.raises(ValueError, match="conductance must be >= 0"):
        net.connect("a", "b", OneToOne(), -5.0, 1.0, receptor="excitatory")
    with pytest.raises(ValueError, match="conductance must be >= 0"):
        net.add_poisson_input("b", indegree=10, rate=5.0, weight=-1.0, delay=1.0, receptor="excitatory")


def test_refractory_clamp_and_regular_firing_as_iaf_cond_exp():
    """Without synaptic input the two conductance models are one membrane: same spikes, same V."""
    runs = []
    for model in ("iaf_cond_exp", "iaf_cond_alpha"):
        net = Network(dt=0.1)
        net.add_population("n", 1, model, dict(P, I_e=600.0))
        net.record_spikes("n")
        net.record_voltage("n", [0])
        runs.append(simulate(net, 200.0, progress=False))
    assert runs[0].spike_steps.size > 5
    assert np.array_equal(runs[0].spike_steps, runs[1].spike_steps) and np.array_equal(runs[0].vrec, runs[1].vrec)
