"""Thresholds drawn per neuron (params={'V_th': Normal(...) | Uniform(...)}): each neuron
fires when V reaches its own threshold (exactly, on the CPU and the emulated GPU), the draws
come from the neuron's INIT stream (statistics, independence of v_init, any subset of
neurons), the model's checks hold for every draw, and the distribution is part of the model."""
import numpy as np
import pytest

from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.neuron_values import initial_state, thresholds
from distsnn.io.checkpoint import fingerprint
from distsnn.model import Network, Normal, Uniform
from distsnn.runtime import simulate

I_E = 600.0   # pA: V relaxes to E_L + 24 mV, above every threshold drawn below


def constant_drive(model="iaf_psc_exp", v_th=Uniform(-58.0, -50.0), params=None):
    net = Network(dt=0.1)
    net.add_population("n", 200, model, {"I_e": I_E, "V_th": v_th, **(params or {})})
    net.record_spikes("n")
    return net


def first_spikes(res, n):
    ids, times = res.spikes("n")
    first = np.full(n, np.inf)
    np.minimum.at(first, ids, times)
    return first


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_each_neuron_fires_at_its_own_threshold(backend):
    """V from rest under a constant current, V_(k+1) = V_k P22 + I_e P20 (the engine's exact
    step): each neuron's first spike is the first step at which V reaches its threshold."""
    net = constant_drive()
    res = simulate(net, 40.0, seed=3, backend=backend, progress=False)
    plan = res.plan
    theta = thresholds(plan)                                  # relative to E_L
    p22, p20 = plan.pop_f[0, bp.PF_P22], plan.pop_f[0, bp.PF_P20]
    v, want = 0.0, np.full(theta.size, np.inf)
    for k in range(1, 400):
        v = v * p22 + I_E * p20
        want[(want == np.inf) & (v >= theta)] = k * 0.1
    got = first_spikes(res, 200)
    assert np.array_equal(got, want)
    assert np.unique(got).size > 20                              # the thresholds spread the first spikes


def test_adex_thresholds_on_both_engines():
    """AdEx: V_th enters the exponential term (Delta_T > 0) or is the threshold (Delta_T 0);
    the emulated GPU gives the CPU's spikes, and the spikes differ from a fixed V_th."""
    for params in ({}, {"Delta_T": 0.0}):
        net = constant_drive("aeif_cond_exp", Normal(-50.4, 1.5), params)
        cpu = simulate(net, 60.0, seed=2, backend="cpu", progress=False)
        gpu = simulate(net, 60.0, seed=2, backend="gpu-emu", progress=False)
        assert np.array_equal(cpu.spike_gids, gpu.spike_gids) and np.array_equal(cpu.spike_steps, gpu.spike_steps)
        fixed = simulate(constant_drive("aeif_cond_exp", -50.4, params), 60.0, seed=2, backend="cpu", progress=False)
        assert np.unique(first_spikes(cpu, 200)).size > 10 and np.unique(first_spikes(fixed, 200)).size == 1


def test_thresholds_are_the_neurons_draws():
    net = Network(dt=0.1)
    net.add_population("a", 20000, params={"V_th": Normal(-52.0, 1.5)}, v_init=Normal(-60.0, 3.0))
    net.add_population("b", 20000, "iaf_cond_exp", {"V_th": Uniform(-56.0, -50.0)})
    net.add_population("c", 10, params={"V_th": -54.0})
    plan = make_plan(net, 7)
    th = thresholds(plan)
    a, b, c = th[:20000] + (-70.0), th[20000:40000] + (-70.0), th[40000:]
    assert abs(a.mean() + 52.0) < 5 * 1.5 / np.sqrt(20000) and a.std() == pytest.approx(1.5, rel=0.03)
    assert b.min() > -56.0 and b.max() <= -50.0 and abs(b.mean() + 53.0) < 5 * 1.73 / np.sqrt(20000)
    assert np.all(c == 16.0) and plan.pop_i[:, bp.PI_VTH_DIST].tolist() == [bp.VTH_NORMAL, bp.VTH_UNIFORM,
                                                                             bp.VTH_FIXED]
    v0 = initial_state(plan, np.arange(20000))                # another variable of the INIT stream
    assert abs(np.corrcoef(v0, a)[0, 1]) < 0.03
    gids = np.array([39999, 5, 20001, 17])                       # any subset, any order: the same values
    assert np.array_equal(thresholds(plan, gids), th[gids])
    assert not np.array_equal(thresholds(make_plan(net, 8))[:100], th[:100])   # another seed


def test_every_draw_passes_the_models_checks():
    net = Network(dt=0.1)
    with pytest.raises(ValueError, match=r"V_reset \(-70.0\) must be below V_th \(-71.0\)"):
        net.add_population("p", 3, params={"V_th": Uniform(-71.0, -50.0)})        # the low bound, at once
    with pytest.raises(ValueError, match=r"V_peak \(0.0\) must be >= V_th \(1.0\)"):
        net.add_population("p", 3, "aeif_cond_exp", {"V_th": Uniform(-55.0, 1.0)})
    with pytest.raises(ValueError, match="V_th: sd must be >= 0"):
        net.add_population("p", 3, params={"V_th": Normal(-55.0, -1.0)})
    assert not net.populations
    net.add_population("p", 1000, params={"V_th": Normal(-55.0, 6.0)})            # some draws below V_reset
    with pytest.raises(ValueError, match=r"population 'p': V_reset \(-70.0\) must be below V_th \(-7\d.\d+\) "
                                         r"\(neuron \d+\); drawn with seed 1 from V_th ~ Normal\(.*\): "
                                         r"narrow the distribution"):
        make_plan(net, 1)


def test_the_threshold_distribution_is_part_of_the_model_fingerprint():
    def plan(v_th):
        net = Network(dt=0.1)
        net.add_population("n", 4, params={"V_th": v_th})
        return make_plan(net, 1)
    prints = {fingerprint(plan(v))["model_tables_sha256"]
              for v in (-55.0, Normal(-55.0, 1.0), Normal(-55.0, 2.0), Uniform(-56.0, -54.0), Normal(-54.0, 1.0))}
    assert len(prints) == 5
    p = plan(-55.0)                                              # a fixed threshold: the fingerprint of before
    before = fingerprint(p)["model_tables_sha256"]
    p.pop_i, p.pop_f = p.pop_i[:, :bp.N_PI_BEFORE_VTH], p.pop_f[:, :bp.N_PF_BEFORE_VTH]
    assert fingerprint(p)["model_tables_sha256"] == before
