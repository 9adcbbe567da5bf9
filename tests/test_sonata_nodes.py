"""Neurons in SONATA node files (io.sonata_nodes): every parameter per neuron as simulated out,
populations with values given per neuron back in. A heterogeneous network written with its
draws and read back must simulate to the same spikes with the same seed."""
import h5py
import numpy as np
import pytest

import distsnn
from distsnn.cli import main
from distsnn.io.sonata_nodes import add_nodes, read_nodes, write_nodes
from distsnn.model import FixedIndegree, FixedProbability, Network, Normal, Uniform
from distsnn.runtime import simulate


def populations(net):
    net.add_population("E", 120, params={"tau_m": Normal(12.0, 2.0), "I_e": Normal(300.0, 40.0),
                                         "V_th": Uniform(-56.0, -52.0), "t_ref": Uniform(1.0, 3.0)},
                       v_init=Normal(-62.0, 4.0))
    net.add_population("A", 40, "aeif_cond_exp", {"I_e": 900.0, "b": Uniform(20.0, 60.0), "tau_w": 80.0},
                       v_init=Uniform(-70.0, -60.0))
    net.add_population("Z", 30, "izhikevich", {"a": Uniform(0.02, 0.1), "d": Normal(6.0, 1.0), "I_e": 8.0,
                                               "consistent_integration": False})
    net.add_poisson_source("X", 50, 20.0)


def wire(net):
    """Projections, inputs and recordings, after the populations, the same for both networks."""
    net.connect("X", "E", FixedIndegree(20), 80.0, 1.0)
    net.connect("E", "E", FixedProbability(0.1), Normal(30.0, 3.0), Normal(1.5, 0.3))
    net.connect("E", "A", FixedIndegree(10), 4.0, 1.2)
    net.connect("A", "E", FixedIndegree(10), -60.0, 0.8)
    net.connect("E", "Z", FixedIndegree(10), 1.0, 1.0)
    net.add_poisson_input("A", indegree=100, rate=8.0, weight=3.0, delay=1.0)
    net.add_noise_input("E", std=40.0, dt=1.0)
    for name in ("E", "A", "Z", "X"):
        net.record_spikes(name)
    net.record_voltage("E", range(5))
    return net


def test_a_network_read_back_simulates_to_the_same_spikes(tmp_path):
    net = Network(dt=0.1)
    populations(net)
    wire(net)
    path = str(tmp_path / "nodes.h5")
    assert write_nodes(path, net, seed=4) == ["E", "A", "Z"]          # the Poisson sources are left out
    again = Network(dt=0.1)
    added = add_nodes(again, path)
    assert [p.name for p in added] == ["E", "A", "Z"]
    again.add_poisson_source("X", 50, 20.0)
    wire(again)
    # the values come back given, one per neuron, where they differed; numbers where not
    pop = again.populations["E"]
    assert pop.params["E_L"] == -70.0 and pop.per_neuron["tau_m"].values.shape == (120,)
    assert again.populations["Z"].params["consistent_integration"] is False
    a = simulate(net, 200.0, seed=4, progress=False)
    b = simulate(again, 200.0, seed=4, progress=False)
    assert all(r > 1.0 for r in a.mean_rates().values()), a.mean_rates()
    assert np.array_equal(a.spike_gids, b.spike_gids) and np.array_equal(a.spike_steps, b.spike_steps)
    assert np.array_equal(a.vrec, b.vrec)
    # and the table of the network read back is the written one's
    for name in ("E", "A", "Z"):
        p, q = distsnn.parameters(net, name, seed=4), distsnn.parameters(again, name, seed=99)
        assert p.keys() == q.keys() and all(np.array_equal(p[k], q[k]) for k in p), name


def test_the_file_layout(tmp_path):
    net = Network(dt=0.1)
    populations(net)
    path = str(tmp_path / "nodes.h5")
    write_nodes(path, net, seed=2)
    with h5py.File(path, "r") as f:
        g = f["nodes/E"]
        assert g.attrs["model_template"] == "nest:iaf_psc_exp" and g.attrs["model_type"] == "point_neuron"
        assert g["node_id"].dtype == np.uint64 and np.array_equal(g["node_group_index"][()], np.arange(120))
        dyn = g["0/dynamics_params"]
        assert set(dyn) == {"tau_m", "I_e", "V_th", "t_ref", "V_m"}                   # what differs: datasets
        assert dyn.attrs["C_m"] == 250.0 and dyn.attrs["tau_syn_ex"] == 2.0          # what does not: attributes
        assert "X" not in f["nodes"]
    (z,) = [n for n in read_nodes(path) if n["population"] == "Z"]
    assert z["model"] == "izhikevich" and z["params"]["consistent_integration"] is False
    assert isinstance(z["params"]["V_min"], float) and z["params"]["a"].shape == (30,)


def _foreign(path, template="nest:iaf_psc_exp", groups=(0, 0, 0), e_l=(-70.0, -70.0, -70.0), ids=(0, 1, 2)):
    with h5py.File(path, "w") as f:
        g = f.create_group("nodes/cells")
        g.attrs["model_template"] = template
        g.create_dataset("node_id", data=np.array(ids, dtype=np.uint64))
        g.create_dataset("node_group_id", data=np.array(groups))
        g.create_dataset("node_group_index", data=np.array([2, 1, 0]))
        g.create_dataset("0/dynamics_params/tau_m", data=np.array([5.0, 10.0, 20.0]))
        g.create_dataset("0/dynamics_params/E_L", data=np.array(e_l))


def test_a_file_from_elsewhere(tmp_path):
    """Nodes in the order of node_group_index; a parameter the same in all nodes becomes a
    number; what distsnn cannot read is refused with the reason."""
    path = str(tmp_path / "cells.h5")
    _foreign(path)
    net = Network(dt=0.1)
    (pop,) = add_nodes(net, path)
    assert pop.name == "cells" and pop.params["E_L"] == -70.0
    assert np.array_equal(pop.per_neuron["tau_m"].values, [20.0, 10.0, 5.0])
    for kwargs, message in (({"template": "nest:hh_psc_alpha"}, r"model_template 'nest:hh_psc_alpha' is not"),
                            ({"template": "neuron:Cell"}, r"is not 'nest:<model>'"),
                            ({"groups": (0, 1, 0)}, r"nodes in groups \[0, 1\]; only group 0 is read"),
                            ({"ids": (0, 2, 1)}, r"node_id must be 0 .. 2 in order")):
        _foreign(path, **kwargs)
        with pytest.raises(ValueError, match=message):
            add_nodes(Network(dt=0.1), path)
    with h5py.File(path, "w") as f:
        f.create_group("edges")
    with pytest.raises(ValueError, match="not a SONATA node file"):
        read_nodes(path)


def test_the_command_writes_the_node_file(tmp_path, capsys):
    out = str(tmp_path / "mc_nodes.h5")
    assert main(["nodes", "microcircuit", "--scale", "0.01", "--seed", "3", "--output", out]) == 0
    text = capsys.readouterr().out
    assert "L23E: 207 neurons (iaf_psc_exp)" in text and "in 8 node populations" in text
    nodes = {n["population"]: n for n in read_nodes(out)}
    assert nodes["L4E"]["v_init"].shape == (219,) and nodes["L4E"]["params"]["tau_m"] == 10.0
