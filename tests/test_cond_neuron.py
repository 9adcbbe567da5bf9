"""iaf_cond_exp: exact where the solution is closed-form, second order against a fine ODE solution."""
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from distsnn.model import Network, OneToOne
from distsnn.runtime import simulate

P = {"C_m": 250.0, "g_L": 16.6667, "E_L": -70.0, "E_ex": 0.0, "E_in": -85.0, "tau_syn_ex": 2.0,
     "tau_syn_in": 5.0, "V_th": -55.0, "V_reset": -60.0, "t_ref": 2.0}


def test_relaxation_and_dc_are_exact():
    net = Network(dt=0.1)
    net.add_population("n", 1, "iaf_cond_exp", dict(P, I_e=150.0), v_init=-62.0)
    net.record_voltage("n", [0])
    res = simulate(net, 50.0, progress=False)
    t = (np.arange(res.n_steps) + 1) * 0.1
    v_inf = P["E_L"] + 150.0 / P["g_L"]                         # -61.0 mV, below threshold
    v = v_inf + (-62.0 - v_inf) * np.exp(-t * P["g_L"] / P["C_m"])
    assert np.max(np.abs(res.vrec[:, 0] - v)) < 1e-10


def psp(dt, w=20.0, receptor="excitatory"):
    net = Network(dt=dt)
    net.add_spike_source("src", 1, [0], [dt])
    net.add_population("n", 1, "iaf_cond_exp", P)
    net.connect("src", "n", OneToOne(), w, 1.0, receptor=receptor)
    net.record_voltage("n", [0])
    res = simulate(net, 30.0, progress=False)
    return (np.arange(res.n_steps) + 1) * dt, res.vrec[:, 0]


def reference(t_eval, w=20.0, tau=2.0, e_rev=0.0, onset=1.1):
    """Conductance jump w (nS) at `onset`, then exact decay; V from a tight ODE solve."""
    def rhs(t, v):
        g = w * math.exp(-(t - onset) / tau)
        return [(-P["g_L"] * (v[0] - P["E_L"]) - g * (v[0] - e_rev)) / P["C_m"]]
    after = t_eval[t_eval >= onset]
    sol = solve_ivp(rhs, (onset, after[-1]), [P["E_L"]], t_eval=after, rtol=1e-12, atol=1e-12, method="DOP853")
    return np.concatenate([np.full(t_eval.size - after.size, P["E_L"]), sol.y[0]])


def test_conductance_psp_second_order():
    errors = []
    for dt in (0.1, 0.05):
        t, v = psp(dt)
        ref = reference(t, onset=dt + 1.0)
        errors.append(np.max(np.abs(v - ref)))
        assert np.max(v) - P["E_L"] > 1.0                      # a real PSP (mV)
    assert errors[0] < 2e-3                                    # mV, for a ~2 mV PSP at dt = 0.1 ms
    assert 3.0 < errors[0] / errors[1] < 5.0                   # halving dt quarters the error


def test_inhibitory_conductance_hyperpolarises_towards_e_in():
    t, v = psp(0.1, w=30.0, receptor="inhibitory")
    ref = reference(t, w=30.0, tau=P["tau_syn_in"], e_rev=P["E_in"])
    assert v.min() < P["E_L"] - 0.5 and np.max(np.abs(v - ref)) < 2e-3


def test_refractory_clamp_and_regular_firing():
    net = Network(dt=0.1)
    net.add_population("n", 1, "iaf_cond_exp", dict(P, I_e=600.0))
    net.record_spikes("n")
    net.record_voltage("n", [0])
    res = simulate(net, 200.0, progress=False)
    _, times = res.spikes("n")
    v_inf = P["E_L"] + 600.0 / P["g_L"]                         # -34 mV: fires regularly
    tau = P["C_m"] / P["g_L"]
    first = math.ceil(-tau * math.log((P["V_th"] - v_inf) / (P["E_L"] - v_inf)) / 0.1)
    again = math.ceil(-tau * math.log((P["V_th"] - v_inf) / (P["V_reset"] - v_inf)) / 0.1)
    assert times[0] == pytest.approx(first * 0.1)
    assert np.allclose(np.diff(times), (20 + again) * 0.1)
    k = first - 1
    assert np.all(res.vrec[k:k + 21, 0] == P["V_reset"])
