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
