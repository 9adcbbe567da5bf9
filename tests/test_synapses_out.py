"""A network's synapses as simulated (connectivity.synapses, NEST's GetConnections), their
SONATA edge files, and the way back in as synapse lists."""
import h5py
import numpy as np
import pytest

from distsnn.build import plan as bp
from distsnn.build.plan import make_plan
from distsnn.cli import main
from distsnn.connectivity import expand_projection, synapses
from distsnn.io.sonata_edges import connect_edges, read_edges, write_edges
from distsnn.model import FixedTotalNumber, FromList, Network, Normal
from distsnn.rng import streams
from distsnn.runtime import simulate
from test_determinism import mixed_network


def _sorted(pre, post, w, d):
    k = np.lexsort((d, w, post, pre))
    return pre[k], post[k], w[k], d[k]


def test_every_rule_as_the_reference_expands_it():
    """Every projection of the determinism network (every rule, drawn weights and delays,
    synapse lists): the pairs, fixed-point weights and delay steps of the NumPy reference."""
    net = mixed_network()
    plan = make_plan(net, 12)
    sets = synapses(net, 12)
    assert [(s.source, s.target, s.label) for s in sets] == [(p.source, p.target, p.label) for p in net.projections]
    for s, pr in zip(sets, net.projections):
        k = plan.pop_names.index(pr.target)
        r = bp.REC_EX if pr.receptor == "excitatory" else bp.REC_IN
        scale = 2.0 ** plan.scale_exp[k, r]
        if isinstance(pr.rule, FromList):
            sl = next(x for x in plan.lists if x.index == net.projections.index(pr))
            ref = (sl.pre, sl.post, np.floor(sl.weight * scale + 0.5), sl.delay)
        else:
            j = int(np.nonzero(plan.proj_i[:, bp.JI_TAG] == streams.tag(streams.DOM_SYN, pr.pid))[0][0])
            pre, post, _, w_int, d = expand_projection(plan, j)
            ref = (pre, post, w_int, d)
        got = (s.pre, s.post, s.weight * scale, s.delay / net.dt)
        assert np.all(np.diff(s.pre) >= 0) and s.n == ref[0].size > 0
        for a, b in zip(_sorted(*[np.asarray(x, dtype=np.float64) for x in got]),
                        _sorted(*[np.asarray(x, dtype=np.float64) for x in ref])):
            assert np.allclose(a, b, rtol=0, atol=1e-6)


def test_filters():
    net = mixed_network()
    assert [(s.source, s.target) for s in synapses(net, 1, source="I")] == [
        ("I", "E"), ("I", "I"), ("I", "G"), ("I", "W"), ("I", "P"), ("I", "Q"), ("I", "G")]
    assert [s.label for s in synapses(net, 1, source="E", target="I")] == ["", "k"]
    assert len(synapses(net, 1, label="list")) == 3


def _network(connect):
    net = Network(dt=0.1, chunk_size=64, ring_bits=64)
    net.add_population("E", 160, v_init=Normal(-60.0, 4.0))
    net.add_population("I", 40, v_init=Normal(-60.0, 4.0), params={"V_th": -54.0})
    net.add_poisson_input("E", indegree=1000, rate=9.0, weight=87.8, delay=1.5)
    net.add_poisson_input("I", indegree=1000, rate=7.0, weight=87.8, delay=1.5)
    connect(net)
    net.record_spikes("E")
    net.record_spikes("I")
    return net


def _rules(net):
    net.connect("E", "I", FixedTotalNumber(2000), Normal(20.0, 2.0), Normal(1.5, 0.5))
    net.connect("I", "E", FixedTotalNumber(3000), Normal(-100.0, 15.0), Normal(0.9, 0.4), label="inh")


def test_edge_file_round_trip(tmp_path):
    """Write a network's synapses, connect a fresh network by the file: the same spikes."""
    path = str(tmp_path / "edges.h5")
    write_edges(path, synapses(_network(_rules), 5))
    with h5py.File(path, "r") as f:
        g = f["edges/I__E__inh"]
        assert g["source_node_id"].attrs["node_population"] == "I" and g.attrs["distsnn_receptor"] == "inhibitory"
        assert g["0/syn_weight"].shape == (3000,) and g["0/delay"].attrs["units"] == "ms"
    again = _network(lambda net: connect_edges(net, path))
    assert [p.label for p in again.projections] == ["", "inh"]
    assert np.array_equal(make_plan(again, 5).scale_exp, make_plan(_network(_rules), 5).scale_exp)
    a = simulate(_network(_rules), 200.0, seed=5, progress=False)
    b = simulate(again, 200.0, seed=5, progress=False)
    assert a.spike_gids.size > 300 and a.events == b.events
    assert np.array_equal(a.spike_gids, b.spike_gids) and np.array_equal(a.spike_steps, b.spike_steps)


def test_the_command_writes_the_edge_file(tmp_path, capsys):
    out = str(tmp_path / "brunel_edges.h5")
    assert main(["synapses", "brunel", "--scale", "0.05", "--seed", "3", "--target", "I", "--output", out]) == 0
    said = capsys.readouterr().out
    assert "E__I: 125000 synapses" in said and "synapses in 2 edge populations" in said   # 125 I neurons x 1,000
    edges = read_edges(out)
    assert [(e["source"], e["target"]) for e in edges] == [("E", "I"), ("I", "I")]
    assert np.all(np.bincount(edges[0]["post"]) == 1000)   # brunel: in-degree 1,000 from E
    assert main(["synapses", "brunel", "--scale", "0.05", "--source", "X", "--output", out]) == 2
    assert "--source X: model 'brunel' has no such population; its populations: E, I" in capsys.readouterr().err
    assert main(["synapses", "brunel", "--scale", "0.05", "--source", "I", "--target", "E", "--output", out]) == 0
    assert "synapses in 1 edge population\n" in capsys.readouterr().out


def test_a_file_from_elsewhere(tmp_path):
    """Without distsnn's attributes: the receptor by the weights' sign, the edge population's
    name as the label (two populations between the same node populations stay apart)."""
    path = str(tmp_path / "other.h5")
    with h5py.File(path, "w") as f:
        for name, w in (("fast", 5.0), ("slow", -3.0)):
            g = f.create_group(f"edges/{name}")
            for key, ids in (("source_node_id", [0, 1, 1]), ("target_node_id", [2, 0, 2])):
                g.create_dataset(key, data=np.array(ids, dtype=np.uint64))
                g[key].attrs["node_population"] = "A"
            g.create_dataset("edge_group_index", data=np.array([2, 0, 1]))
            g.create_dataset("0/syn_weight", data=np.array([w, 2 * w, 3 * w]))
            g.create_dataset("0/delay", data=np.array([1.0, 2.0, 3.0]))
    net = Network(dt=0.1)
    net.add_population("A", 3)
    fast, slow = connect_edges(net, path)
    assert (fast.label, fast.receptor, slow.label, slow.receptor) == ("fast", "excitatory", "slow", "inhibitory")
    assert np.array_equal(fast.weight.values, [15.0, 5.0, 10.0]) and np.array_equal(slow.delay.values, [3.0, 1.0, 2.0])


def test_a_file_without_what_is_needed_is_refused(tmp_path):
    path = str(tmp_path / "bad.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("edges/a/source_node_id", data=np.zeros(2, dtype=np.uint64))
    with pytest.raises(ValueError, match="edge population 'a': missing target_node_id, 0/syn_weight, 0/delay"):
        read_edges(path)


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_delays_round_as_nest_rounds_them(backend):
    """Delays become floor(d * (1/dt) + 0.5) steps, NEST's rounding: 1.15 ms at dt 0.1 ms is
    12 steps (d / dt would say 11.499999999999998, so 11), in a rule's constant delay, a
    list's given ones and a Poisson input's, and the spikes arrive then."""
    net = Network(dt=0.1)
    net.add_spike_source("s", 2, [0, 1], [1.0, 1.0])
    net.add_population("n", 3, params={"tau_syn_ex": 2.0})
    net.connect("s", "n", FromList([0], [0]), 100.0, [1.15])
    net.connect("s", "n", FixedTotalNumber(1), 100.0, 2.05, label="rule")   # one synapse, onto any neuron
    net.add_poisson_input("n", 1, 1.0, 1.0, 1.15)
    net.record_voltage("n", [0, 1, 2])
    assert sorted(np.concatenate([s.delay for s in synapses(net, 1)]).tolist()) == pytest.approx([1.2, 2.1])
    plan = make_plan(net, 1)
    assert plan.pin_i[0, bp.QI_DELAY] == 12
    res = simulate(net, 5.0, seed=1, backend=backend, progress=False)
    first = (res.vrec != res.vrec[0]).argmax(axis=0)   # the first step each neuron's V moved
    # the list's spike (emitted in the step ending at 1.0 ms) arrives 12 steps later, and V
    # moves at the end of the step after its arrival
    assert first[0] == 10 + 12
