"""iaf_psc_alpha against its analytic solution: the alpha current peaks at the weight tau_syn
after the spike, V follows the closed-form PSP (also where tau_syn is close to tau_m), and
both alpha models (iaf_psc_alpha, iaf_cond_alpha) run the same on every backend."""
import math

import numpy as np
import pytest

from distsnn.backends.cpu.simulator import CpuSimulator
from distsnn.build import make_plan
from distsnn.model import FixedIndegree, Network, Normal, OneToOne
from distsnn.model.neurons import iaf_psc_alpha_propagators, validate_params
from distsnn.runtime import simulate
from test_gpu_emulated import assert_same_run

E_L, TAU_M, C_M = -70.0, 10.0, 250.0


def alpha_psp(s, w, tau_s, tau_m=TAU_M, c_m=C_M):
    """V - E_L at time s >= 0 after the onset of the current w (s/tau_s) e^(1 - s/tau_s)."""
    a = 1.0 / tau_s - 1.0 / tau_m
    x = a * s
    # (1/C) int_0^s e^(-(s-u)/tau_m) w e/tau_s u e^(-u/tau_s) du; (1 - e^-x (1 + x)) / a^2 by
    # its series where the closed form cancels (tau_s near tau_m)
    f = s * s * (0.5 - x / 3 + x * x / 8 - x ** 3 / 30) if abs(x) < 1e-3 else (1 - math.exp(-x) * (1 + x)) / a ** 2
    return w * math.e / tau_s / c_m * math.exp(-s / tau_m) * f


@pytest.mark.parametrize("tau_s", [0.5, 2.0, 9.99999])
def test_single_psp_matches_the_closed_form(tau_s):
    net = Network(dt=0.1)
    net.add_spike_source("pre", 1, [0], [0.1])
    net.add_population("post", 1, "iaf_psc_alpha", {"tau_syn_ex": tau_s})
    net.connect("pre", "post", OneToOne(), 100.0, 1.0)
    net.record_voltage("post", [0])
    res = simulate(net, 60.0, progress=False)
    t = (np.arange(res.n_steps) + 1) * 0.1
    onset = 0.1 + 1.0                  # the input enters dJ at the end of the step it arrives
    v = np.array([E_L + (alpha_psp(x - onset, 100.0, tau_s) if x > onset else 0.0) for x in t])
    assert np.max(np.abs(res.vrec[:, 0] - v)) < 1e-9 * max(1.0, np.abs(v - E_L).max())
    assert np.all(res.vrec[t <= onset + 1e-9, 0] == E_L)


def test_current_peaks_at_the_weight_tau_syn_after_the_spike():
    net = Network(dt=0.1)
    net.add_spike_source("pre", 1, [0], [0.1])
    net.add_population("post", 1, "iaf_psc_alpha", {"tau_syn_ex": 2.0, "V_th": 1e9})
    net.connect("pre", "post", OneToOne(), 50.0, 1.0)
    plan = make_plan(net, 1)
    sim = CpuSimulator(plan).build()
    out = np.empty(100, dtype=np.int64)
    cur = []
    for _ in range(80):
        sim.run(1, out, out.copy(), 0, np.empty((1, 0)))
        cur.append(sim.i_ex[1])
    cur = np.array(cur)
    k = int(np.argmax(cur))
    assert cur[k] == pytest.approx(50.0, rel=1e-12)      # the peak lies on the grid: 2 ms = 20 steps
    assert k == 10 + 20                                  # arrival step 10, then tau_syn
    s = (np.arange(80) - 10) * 0.1
    expected = np.where(s > 0, 50.0 * s / 2.0 * np.exp(1 - s / 2.0), 0.0)
    assert np.max(np.abs(cur - expected)) < 1e-9


def test_propagators_near_tau_m_are_continuous():
    """P31 uses a series where the closed form cancels: both sides of the switch agree."""
    p = validate_params("n", "iaf_psc_alpha", {})
    near = [iaf_psc_alpha_propagators(dict(p, tau_syn_ex=TAU_M * (1 + e)), 0.1)["P31ex"]
            for e in (-1e-3, -1e-5, 0.0, 1e-5, 1e-3)]
    assert np.all(np.diff(near) > 0) and (max(near) - min(near)) / near[2] < 1e-4
    assert near[2] == pytest.approx(math.exp(-0.01) * 0.1 ** 2 / 2 / C_M, rel=1e-12)


# a small E/I network of each alpha model: E's parameters, then the weights of E's and I's
# projections and of the Poisson input, in the model's unit (pA; nS for iaf_cond_alpha)
ALPHA_NETWORKS = {"iaf_psc_alpha": ({"tau_syn_ex": 0.8, "tau_syn_in": 1.5}, 60.0, -120.0, 45.0),
                  "iaf_cond_alpha": ({"tau_syn_ex": 0.8, "tau_syn_in": 3.0}, 2.0, -6.0, 1.5)}


@pytest.mark.parametrize("model", sorted(ALPHA_NETWORKS))
@pytest.mark.parametrize("backend,connectivity", [("gpu-emu", "procedural"), ("gpu-emu", "stored"),
                                                  ("cpu", "stored")])
def test_alpha_network_same_on_every_backend(model, backend, connectivity):
    e_params, w_e, w_i, w_ext = ALPHA_NETWORKS[model]

    def net():
        n = Network(dt=0.1, chunk_size=64)
        n.add_population("E", 160, model, e_params, v_init=Normal(-60, 4))
        n.add_population("I", 40, model, v_init=Normal(-60, 4))
        n.connect("E", "E", FixedIndegree(20), Normal(w_e, 0.1 * w_e), Normal(1.5, 0.4))
        n.connect("E", "I", FixedIndegree(20), w_e, 1.0)
        n.connect("I", "E", FixedIndegree(10), w_i, 0.8)
        for post in ("E", "I"):
            n.add_poisson_input(post, indegree=800, rate=10.0, weight=w_ext, delay=1.0)
            n.record_spikes(post)
        n.record_voltage("E", [0, 159])
        return n
    ref = simulate(net(), 150.0, seed=2, backend="cpu", connectivity="procedural", progress=False)
    assert ref.spike_gids.size > 300
    assert_same_run(simulate(net(), 150.0, seed=2, backend=backend, connectivity=connectivity, progress=False), ref)
