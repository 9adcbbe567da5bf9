"""distsnn.parameters: every parameter of every neuron as simulated (NEST's GetStatus), values
drawn or given per neuron in their places. The table must be what the engines integrate: a
free membrane settles where its own I_e, tau_m and C_m put it."""
import numpy as np
import pytest

import distsnn
from distsnn.backends.cpu.simulator import CpuSimulator
from distsnn.build import make_plan
from distsnn.model import Network, Normal, Uniform
from distsnn.runtime import simulate

E_L = -70.0


def free_membranes():
    net = Network(dt=0.1)
    net.add_population("A", 3, params={"V_th": 1e3})          # gids off the current pairs' alignment
    net.add_population("N", 201, params={"V_th": Uniform(900.0, 1000.0), "I_e": Normal(200.0, 50.0),
                                         "tau_m": Normal(10.0, 2.0), "C_m": np.linspace(150.0, 350.0, 201),
                                         "t_ref": Uniform(1.0, 3.0)}, v_init=Normal(-65.0, 3.0))
    net.add_population("G", 50, params={"V_th": 1e3, "I_e": np.linspace(-100.0, 400.0, 50)}, v_init=E_L)
    net.add_population("Z", 10, "izhikevich", {"a": Uniform(0.02, 0.1), "d": np.arange(10.0)})
    net.add_spike_source("S", 2, [0], [1.0])
    for name in ("N", "G"):
        net.record_voltage(name, range(net.populations[name].size))
    return net


def test_each_neuron_settles_where_its_parameters_put_it():
    """After 20 membrane time constants V = E_L + I_e tau_m / C_m, neuron by neuron, with the
    I_e, tau_m and C_m of the table (drawn, given or the population's)."""
    net = free_membranes()
    res = simulate(net, 250.0, seed=6, progress=False)
    for name in ("N", "G"):
        p = distsnn.parameters(net, name, seed=6)
        assert set(p) >= {"C_m", "tau_m", "t_ref", "V_reset", "V_th", "I_e", "E_L", "V_m", "tau_syn_ex"}
        v = res.state(name)[2][-1]
        assert np.allclose(v, p["E_L"] + p["I_e"] * p["tau_m"] / p["C_m"], rtol=0, atol=1e-6)
    p = distsnn.parameters(net, "N", seed=6)
    assert np.array_equal(p["C_m"], np.linspace(150.0, 350.0, 201))
    assert p["tau_m"].std() == pytest.approx(2.0, rel=0.2) and np.all(p["E_L"] == E_L)
    assert 900.0 < p["V_th"].min() and p["V_th"].max() <= 1000.0
    assert p["I_e"].std() == pytest.approx(50.0, rel=0.2)
    # another seed draws other values; given ones stay
    q = distsnn.parameters(net, "N", seed=7)
    assert not np.array_equal(p["tau_m"], q["tau_m"]) and not np.array_equal(p["I_e"], q["I_e"])
    assert np.array_equal(p["C_m"], q["C_m"])


def test_the_table_is_what_the_engine_holds():
    """Initial V, thresholds and izhikevich's a, b, c, d as the CPU engine builds them; a
    subset of ids gives those neurons' rows of the whole table."""
    net = free_membranes()
    plan = make_plan(net, 3)
    sim = CpuSimulator(plan).build()
    whole = {name: distsnn.parameters(net, name, seed=3) for name in ("A", "N", "G", "Z")}
    v0 = np.concatenate([whole[n]["V_m"] - (0.0 if n == "Z" else E_L) for n in ("A", "N", "G", "Z")])
    assert np.array_equal(v0, sim.v[:v0.size])
    vth = np.concatenate([whole[n]["V_th"] - (0.0 if n == "Z" else E_L) for n in ("A", "N", "G", "Z")])
    assert np.array_equal(vth, sim.vth[:vth.size])
    z = whole["Z"]
    assert np.array_equal(np.stack([z["a"], z["b"], z["c"], z["d"]], axis=1), sim.izp[plan.pop_slice("Z")])
    assert np.array_equal(z["d"], np.arange(10.0)) and np.all(z["b"] == 0.2) and "consistent_integration" not in z
    ids = [200, 0, 17]
    sub = distsnn.parameters(net, "N", seed=3, ids=ids)
    assert all(np.array_equal(sub[k], whole["N"][k][ids]) for k in whole["N"])


@pytest.mark.parametrize("population,ids,message", [
    ("X", None, r"no population 'X'; known: A, N, G, Z, S"),
    ("S", None, r"population 'S' is a spike source"),
    ("G", [0, 50], r"population 'G': ids must be integers in \[0, 50\)"),
    ("G", [0.5], r"ids must be integers"),
])
def test_bad_requests_are_refused(population, ids, message):
    with pytest.raises(ValueError, match=message):
        distsnn.parameters(free_membranes(), population, ids=ids)
