"""The Potjans & Diesmann microcircuit: parameters against the shared data, small runs fire."""
import json

import numpy as np
import pytest

from distsnn.build import make_plan
from distsnn.models import microcircuit as mc
from distsnn.runtime import simulate


def test_parameters_match_published_data(shared_data):
    ref = json.loads((shared_data / "microcircuit.json").read_text())
    assert list(mc.POPULATIONS) == ref["populations"]
    assert [ref["population_sizes"][p] for p in mc.POPULATIONS] == list(mc.FULL_SIZES)
    assert np.array_equal(np.array(mc.CONN_PROBS), np.array(ref["conn_probs"]["matrix"]))
    assert np.allclose(mc.full_synapse_counts(), ref["synapses"]["count_float"], rtol=1e-12, atol=0)
    net = mc.build(1.0)
    counts = np.zeros((8, 8), dtype=np.int64)
    for proj in net.projections:
        counts[mc.POPULATIONS.index(proj.target), mc.POPULATIONS.index(proj.source)] = proj.rule.n
    assert np.array_equal(counts, ref["synapses"]["count_int"])
    assert counts.sum() == ref["synapses"]["total_int"] == 298880968
    assert [ref["external_input"]["K_ext"][p] for p in mc.POPULATIONS] == list(mc.K_EXT)
    assert mc.W_EXC == pytest.approx(ref["weights"]["w_exc_pA"], rel=1e-15)
    w = np.array([[mc.mean_weight(t, s) for s in range(8)] for t in range(8)])
    assert np.allclose(w, ref["weights"]["matrix_mean_pA"]["matrix"], rtol=1e-15)
    assert list(mc.FULL_MEAN_RATES) == ref["expected_mean_rates"]["current"]["values"]
    for key, value in mc.NEURON_PARAMS.items():
        assert ref["neuron_params"][key] == value
    assert [ref["neuron_params"]["V0"]["optimized"]["mean"][p] for p in mc.POPULATIONS] == list(mc.V0_MEAN)
    th, dc = ref["thalamic_input"], ref["dc_stimulus"]
    assert (th["num_th_neurons"], th["th_rate_hz"], th["th_start"], th["th_duration"]) == \
        (mc.TH_NEURONS, mc.TH_RATE, mc.TH_START, mc.TH_DURATION)
    assert [th["conn_probs_th"][p] for p in mc.POPULATIONS] == list(mc.TH_CONN_PROBS)
    assert (th["PSP_th_mV"], th["delay_th_mean"], th["delay_th_rel_std"]) == (mc.PSP_TH, mc.DELAY_TH,
                                                                             mc.DELAY_TH_REL_SD)
    assert (dc["dc_start"], dc["dc_dur"], dc["dc_amp_pA_per_K_ext"]) == (mc.DC_START, mc.DC_DURATION, mc.DC_PER_K_EXT)


def test_psc_over_psp_literal_equals_nest_formula():
    c, tau_m, tau_s = 250.0, 10.0, 0.5
    sub = 1.0 / (tau_s - tau_m)
    pre = tau_m * tau_s / c * sub
    frac = (tau_m / tau_s) ** sub
    assert mc.PSC_OVER_PSP == pytest.approx(1.0 / (pre * (frac ** tau_m - frac ** tau_s)), rel=1e-14)


def test_scaling_reduces_neurons_and_indegrees_and_compensates():
    net = mc.build(0.1)
    assert net.n_neurons == sum(int(np.round(n * 0.1)) for n in mc.FULL_SIZES)
    total = sum(p.rule.n for p in net.projections)
    assert abs(total - 298880968 * 0.01) / (298880968 * 0.01) < 1e-4
    assert all(p.params["I_e"] > 0 for p in net.populations.values())   # DC compensation
    assert all(p.params["I_e"] == 0 for p in mc.build(1.0).populations.values())
    w = net.projections[0].weight.mean
    assert w == pytest.approx(mc.mean_weight(0, 0) / np.sqrt(0.1))
    plan = make_plan(net, 1)
    assert plan.min_delay_steps == 1 and plan.max_delay_steps >= 60


def test_small_microcircuit_every_population_fires():
    res = simulate(mc.build(0.05), 500.0, seed=3, progress=False)
    rates = res.mean_rates(t_start=100.0)
    for name, rate in rates.items():
        assert rate > 0.1, (name, rate)
    # broad sanity band around NEST's full-scale rates (a 5 % network is not the full model)
    assert 0.1 < rates["L23E"] < 5 and 2 < rates["L5I"] < 20
    assert res.events > 1e5


def test_stimuli_are_the_nest_examples():
    """thalamus: 902 unscaled Poisson sources in (701.1, 711.1] ms (NEST's spike times), synapse
    numbers by NEST's formula times the in-degree scale, weights x 1/sqrt(scale); dc: 0.3 pA
    per K_ext, 650-750 ms."""
    scale = 0.1
    net = mc.build(scale, stimulus="thalamus,dc")
    th = net.populations["TH"]
    assert (th.model, th.size, th.rate_times.tolist(), th.rate_values.tolist()) == \
        ("poisson_source", 902, [701.1, 711.1], [120.0, 0.0])
    onto = {p.target: p for p in net.projections if p.source == "TH"}
    assert sorted(onto) == ["L4E", "L4I", "L6E", "L6I"]
    for t, name in enumerate(mc.POPULATIONS):
        p = mc.TH_CONN_PROBS[t]
        if p:
            nn = 902 * mc.FULL_SIZES[t]
            assert onto[name].rule.n == int(np.round(np.log(1 - p) / np.log((nn - 1) / nn) * scale))
            assert onto[name].weight.mean == pytest.approx(0.15 * mc.PSC_OVER_PSP / np.sqrt(scale), rel=1e-14)
            assert onto[name].delay.mean == 1.5 and onto[name].delay.sd == 0.75
    dcs = {d.target: d for d in net.dc_inputs}
    assert [(dcs[p].amplitude, dcs[p].start, dcs[p].stop) for p in mc.POPULATIONS] == \
        [(0.3 * k, 650.0, 750.0) for k in mc.K_EXT]
    assert net.metadata["stimulus"] == "thalamus,dc"
    plain = mc.build(scale)
    assert "TH" not in plain.populations and not plain.dc_inputs and "stimulus" not in plain.metadata
    with pytest.raises(ValueError, match="unknown stimulus 'light'; known: thalamus, dc"):
        mc.build(scale, stimulus="thalamus,light")


def test_thalamic_stimulus_evokes_a_response_in_l4():
    """The thalamic volley drives L4 far above the ongoing activity within a few ms, and
    nothing before it."""
    res = simulate(mc.build(0.05, stimulus="thalamus"), 760.0, seed=3, progress=False)
    base = simulate(mc.build(0.05), 760.0, seed=3, progress=False)
    ids, t = res.spikes("TH")
    assert t.min() > 701.1 and t.max() <= 711.1 + 1e-9
    assert abs(ids.size - 902 * 120.0 * 0.010) < 5 * np.sqrt(902 * 1.2)

    def rate(r, pop, lo, hi):
        _, times = r.spikes(pop)
        return np.sum((times > lo) & (times <= hi)) / r.recorded_count(pop) / ((hi - lo) * 1e-3)
    for pop in ("L4E", "L4I"):
        assert rate(res, pop, 702.0, 715.0) > 5 * rate(base, pop, 702.0, 715.0) + 10.0
        assert rate(res, pop, 600.0, 701.0) < 2 * rate(base, pop, 600.0, 701.0) + 1.0   # nothing before
