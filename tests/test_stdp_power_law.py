"""Power-law STDP (model.STDPPowerLaw, NEST's stdp_pl_synapse_hom: the rule of NEST's HPC
benchmark): NEST 3.10's weights, V and spikes on both engines (the GPU's emulated), through
rule projections and synapse lists; the bound Wmax that the fixed-point input needs, which
NEST's rule lacks, holding the weights that reach it; clear errors; edge files that keep the
rule (and read those written before it)."""
import json
import pathlib

import h5py
import numpy as np
import pytest

from distsnn.build.plan import make_plan
from distsnn.model import STDP, AllToAll, FixedIndegree, Network, STDPPowerLaw
from distsnn.model.long_term import POWER_LAW_HEADROOM
from distsnn.runtime import simulate
from test_stdp import assert_as_nest, protocol_network, weights_by_pair

DATA = json.loads((pathlib.Path(__file__).parent / "data" / "nest_stdp_pl.json").read_text())
P = DATA["protocol"]


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
@pytest.mark.parametrize("lists, connectivity", [(False, "stored"), (True, "stored"), (True, "procedural")])
def test_weights_spikes_and_voltage_equal_nest(backend, lists, connectivity):
    res = simulate(protocol_network(lists, data=DATA), P["t_sim"], backend=backend, connectivity=connectivity,
                   progress=False)
    assert_as_nest(res, DATA)


def test_the_reference_moved_the_weights_and_is_not_stdp_synapse():
    """Every rule moved its weights; stdp_synapse with the same numbers misses them (so the
    power law's own facilitation, depression and tau_plus product are what the test above
    checks)."""
    for source, weight, delay, label, spec in P["projections"]:
        if spec is not None:
            assert max(abs(w - weight) for _, _, w in DATA["weights"][label]) > 0.3, label
    net = protocol_network(data=DATA)
    for pr in net.projections:
        if isinstance(pr.stdp, STDPPowerLaw):
            s = pr.stdp
            pr.stdp = STDP(s.tau_plus, s.tau_minus, s.lambda_, s.alpha, s.mu, s.mu, s.Wmax)
    res = simulate(net, P["t_sim"], backend="cpu", connectivity="stored", progress=False)
    for source, _, delay, label, spec in P["projections"]:
        if spec is not None and spec["mu"] != 0.0:   # mu 0: both rules' facilitation adds lambda K+
            got, ref = weights_by_pair(res, source, delay), {(s, t): w for s, t, w in DATA["weights"][label]}
            assert max(abs(got[k] - ref[k]) for k in ref) > 1e-3, label


def bounded_network(wmax):
    """E with Poisson drive and E->E power-law STDP with a fast learning rate."""
    net = Network(dt=0.1, chunk_size=128)
    net.add_population("E", 300, "iaf_psc_exp", {"t_ref": 1.0})
    net.add_poisson_input("E", 2000, 9.0, 87.8, 1.5)
    net.connect("E", "E", FixedIndegree(30), 40.0, 1.5,
                stdp=STDPPowerLaw(lambda_=0.5, alpha=0.002, mu=0.4, tau_minus=30.0, Wmax=wmax))
    net.record_spikes("E")
    return net


def test_wmax_bounds_the_weights_on_both_engines():
    """A weight facilitated past Wmax stays at Wmax (NEST's rule has no bound; the fixed-point
    input needs one), on both engines alike; with the default bound (100 times the mean
    weight) the weights grow past it, far from their own bound."""
    runs = [simulate(bounded_network(wmax), 150.0, seed=3, backend=b, connectivity="stored", progress=False)
            for wmax, b in ((43.0, "cpu"), (43.0, "gpu-emu"), (None, "cpu"))]
    bounded, on_gpu, free = (r.weights("E", "E")[3] for r in runs)
    assert runs[0].spike_gids.size > 1000
    # facilitation takes them to Wmax, each pre spike's depression (alpha small) a little below
    assert bounded.max() <= 43.0 and np.median(bounded) > 42.0
    assert np.array_equal(runs[0].plastic, runs[1].plastic) and np.array_equal(bounded, on_gpu)
    assert 45.0 < free.max() < POWER_LAW_HEADROOM * 40.0


@pytest.mark.parametrize("kwargs, weight, match", [
    ({"tau_plus": 0.0}, 1.0, "STDP tau_plus must be > 0 ms"),
    ({"mu": -0.1}, 1.0, "STDP mu must be >= 0"),
    ({"alpha": float("inf")}, 1.0, "STDP alpha must be a finite number"),
    ({"Wmax": 0.0}, 1.0, r"STDP Wmax must be > 0"),
    ({}, -1.0, r"power-law STDP needs positive weights .*stdp_pl_synapse_hom"),
])
def test_bad_parameters_are_named(kwargs, weight, match):
    net = Network(dt=0.1)
    net.add_population("a", 2)
    with pytest.raises(ValueError, match="projection a->a: " + match):
        net.connect("a", "a", AllToAll(), weight, 1.0, stdp=STDPPowerLaw(**kwargs))
    assert not net.projections


def test_default_wmax_follows_the_weights():
    net = Network(dt=0.1)
    net.add_population("a", 2)
    net.connect("a", "a", AllToAll(), 2.5, 1.0, stdp=STDPPowerLaw())
    assert net.projections[0].stdp.Wmax == POWER_LAW_HEADROOM * 2.5
    plan = make_plan(net, 1)
    assert plan.stdp_f[0, -1] == 1.0 and plan.ring_bits == 64


def test_edge_files_keep_the_rule(tmp_path):
    """synapses() and learned weights write the power law with its kind; connect_edges reads it
    back, and an attribute of the seven numbers alone (files written before it) as STDP."""
    from distsnn.connectivity import synapses
    from distsnn.io.sonata_edges import connect_edges, write_edges
    path = str(tmp_path / "edges.h5")
    write_edges(path, synapses(bounded_network(45.0), 6))
    net = bounded_network(45.0)
    net.projections.clear()
    connect_edges(net, path)
    assert [p.stdp for p in net.projections] == [p.stdp for p in bounded_network(45.0).projections]
    with h5py.File(path, "r+") as f:
        (g,) = [f["edges"][name] for name in f["edges"]]
        assert list(g.attrs["distsnn_stdp"])[-1] == 1.0
        g.attrs["distsnn_stdp"] = np.array(g.attrs["distsnn_stdp"][:7])
    net.projections.clear()
    connect_edges(net, path)
    assert type(net.projections[0].stdp) is STDP
