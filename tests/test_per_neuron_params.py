"""Parameters that differ between the neurons of a population: izhikevich's a, b, c, d drawn
(Normal, Uniform) or given (Values: a list or array, one per neuron), given thresholds and
initial potentials. Each neuron of a heterogeneous population must behave exactly as a
population of one with its own numbers; draws come from the neuron's own streams; bad values
are refused with the neuron named; checkpoints know the values."""
import numpy as np
import pytest

from distsnn.build import make_plan
from distsnn.build.neuron_values import izhikevich_parameters, thresholds
from distsnn.model import Network, Normal, Uniform, Values
from distsnn.runtime import simulate

# Izhikevich (2003): regular spiking to chattering (c, d from one r per cell), and fast
# spiking to low-threshold spiking (a, b from one r per cell)
N = 12
R = np.linspace(0.0, 1.0, N)
CELLS = {"a": 0.02 + 0.08 * R, "b": 0.25 - 0.05 * R, "c": -65.0 + 15.0 * R ** 2, "d": 8.0 - 6.0 * R ** 2}
V_TH = 30.0 - R          # mV
V_INIT = -70.0 + 5.0 * R


def cells(n, params, v_init, i_e, scheme):
    net = Network(dt=0.1)
    net.add_population("n", n, "izhikevich", dict(params, I_e=i_e, consistent_integration=scheme), v_init=v_init)
    net.add_ac_input("n", amplitude=4.0, frequency=7.0, offset=0.0)   # an input that varies
    net.record_spikes("n")
    net.record_state("n", range(n), ["V_m", "U_m"])
    return net


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
@pytest.mark.parametrize("scheme", [True, False])
def test_each_neuron_is_the_cell_of_its_own_numbers(backend, scheme):
    """A population of 12 with given a, b, c, d, V_th and V_m: every neuron's V_m and U_m equal,
    bit for bit at every step, those of a population of one with its numbers as scalars."""
    params = dict(CELLS, V_th=V_TH)
    res = simulate(cells(N, params, V_INIT, 10.0, scheme), 300.0, backend=backend, progress=False)
    spiking = 0
    for i in range(N):
        one = {k: float(v[i]) for k, v in params.items()}
        ref = simulate(cells(1, one, float(V_INIT[i]), 10.0, scheme), 300.0, backend=backend, progress=False)
        for var in ("V_m", "U_m"):
            assert np.array_equal(res.state("n", var)[2][:, i], ref.state("n", var)[2][:, 0]), (i, var)
        ids, times = res.spikes("n")
        assert np.array_equal(times[ids == i], ref.spikes("n")[1])
        spiking += (ids == i).sum() > 0
    assert spiking == N   # every cell fired: resets to its c and jumps by its d were exercised
    # the classes differ: chattering cells (large r: high c, small d) fire more than regular spiking ones
    counts = np.bincount(res.spikes("n")[0], minlength=N)
    assert counts[-1] > counts[0]


def test_drawn_parameters_come_from_each_neurons_own_streams():
    net = Network(dt=0.1)
    net.add_population("pre", 100, "iaf_psc_exp")
    net.add_population("n", 20000, "izhikevich", {"a": Normal(0.02, 0.002), "b": Uniform(0.2, 0.25),
                                                  "c": Normal(-65.0, 3.0), "d": Uniform(2.0, 8.0)})
    plan = make_plan(net, seed=9)
    p = izhikevich_parameters(plan)
    assert p.shape == (20100, 4) and np.all(p[:100] == 0.0)   # other models' rows: 0
    a, b, c, d = p[100:].T
    assert a.mean() == pytest.approx(0.02, abs=3e-5) and a.std() == pytest.approx(0.002, rel=0.03)
    assert c.mean() == pytest.approx(-65.0, abs=0.05) and c.std() == pytest.approx(3.0, rel=0.03)
    assert 0.2 < b.min() and b.max() <= 0.25 and b.mean() == pytest.approx(0.225, abs=3e-4)
    assert 2.0 < d.min() and d.max() <= 8.0 and d.mean() == pytest.approx(5.0, abs=0.03)
    # four streams, not one: the draws of the four parameters are uncorrelated
    z = (p[100:] - p[100:].mean(axis=0)) / p[100:].std(axis=0)
    corr = z.T @ z / z.shape[0]
    assert np.all(np.abs(corr[np.triu_indices(4, 1)]) < 0.03)
    # any subset of neurons (a rank's) gets the same values; another seed other ones
    sub = np.array([100, 5000, 20099, 101])
    assert np.array_equal(izhikevich_parameters(plan, sub), p[sub])
    assert not np.array_equal(izhikevich_parameters(make_plan(net, seed=10))[100:, 0], a)
    # a population's scalar parameters are the distributions' means (the tables, the summary)
    assert net.populations["n"].params["b"] == pytest.approx(0.225)


def test_given_thresholds_and_initial_potentials_for_any_model():
    net = Network(dt=0.1)
    v_th = np.linspace(-55.0, -50.0, 7)
    pop = net.add_population("n", 7, "iaf_psc_alpha", {"V_th": v_th, "I_e": 600.0}, v_init=list(-70.0 + np.arange(7)))
    assert isinstance(pop.v_th, Values) and pop.params["V_th"] == pytest.approx(-52.5)
    net.add_population("m", 3, "iaf_psc_exp")
    plan = make_plan(net, seed=1)
    assert np.array_equal(thresholds(plan)[:7], v_th + 70.0)   # relative to E_L
    net.record_spikes("n")
    net.record_voltage("n", range(7))
    res = simulate(net, 100.0, progress=False)
    _, _, v = res.state("n")
    dt_v = v[0] - (-70.0 + np.arange(7))
    assert np.all(np.abs(dt_v) < 1.0)   # the first sample is one step after the given start
    ids, times = res.spikes("n")
    first = np.array([times[ids == i].min() for i in range(7)])
    assert np.all(np.diff(first) >= 0) and first[-1] > first[0]   # higher thresholds are reached later


@pytest.mark.parametrize("params,v_init,message", [
    ({"c": [1.0, 2.0]}, None, r"population 'x': c: expected one value per neuron \(3\), got an array of shape \(2,\)"),
    ({"d": [1.0, np.nan, 2.0]}, None, r"population 'x': d: value nan of neuron 1 is not a finite number"),
    ({"I_e": [1.0, 2.0]}, None, r"population 'x': I_e: expected one value per neuron \(3\), got an array"),
    ({"U_m": [1.0, np.inf, 3.0]}, None, r"population 'x': U_m: value inf of neuron 1 is not a finite number"),
    ({"V_th": [30.0, -80.0, 30.0], "V_min": -70.0}, None,
     r"V_min \(-70.0\) must be below V_th \(-80.0\) \(neuron 1\)"),
    ({}, [[-65.0, -65.0, -65.0]], r"v_init: expected one value per neuron \(3\), got an array of shape \(1, 3\)"),
])
def test_bad_values_are_refused_with_the_neuron_named(params, v_init, message):
    with pytest.raises(ValueError, match=message):
        Network().add_population("x", 3, "izhikevich", params, v_init=v_init)


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
@pytest.mark.parametrize("model", ["iaf_psc_exp", "iaf_cond_alpha", "aeif_cond_exp"])
def test_given_bias_currents(backend, model):
    """I_e given per neuron: every neuron's V_m equals, bit for bit at every step, that of a
    population of one with its I_e as a scalar (with an AC input on top: its current is added
    to the given one), on the update kernels of the iaf models and of the AdEx models."""
    i_e = np.linspace(300.0, 900.0, 7)

    def net(values):
        n = Network(dt=0.1)
        n.add_population("n", len(values), model, {"I_e": values if len(values) > 1 else float(values[0])})
        n.add_ac_input("n", amplitude=40.0, frequency=9.0)
        n.record_spikes("n")
        n.record_voltage("n", range(len(values)))
        return n
    res = simulate(net(i_e), 200.0, backend=backend, progress=False)
    counts = np.bincount(res.spikes("n")[0], minlength=7)
    assert counts[0] < counts[-1] and counts[-1] > 5, counts
    for i in (0, 3, 6):
        ref = simulate(net([i_e[i]]), 200.0, backend=backend, progress=False)
        assert np.array_equal(res.state("n")[2][:, i], ref.state("n")[2][:, 0]), i


def test_given_bias_currents_in_checkpoints(tmp_path):
    """A restart continues exactly with the same given I_e, and is refused with others."""
    def net(values):
        n = Network(dt=0.1)
        n.add_population("n", 3, params={"I_e": values})
        n.record_spikes("n")
        return n
    whole = simulate(net([380.0, 420.0, 500.0]), 200.0, seed=3, progress=False)
    simulate(net([380.0, 420.0, 500.0]), 100.0, seed=3, progress=False, checkpoint=str(tmp_path / "ck"))
    second = simulate(net([380.0, 420.0, 500.0]), 100.0, seed=3, progress=False, restart=str(tmp_path / "ck"))
    late = whole.spike_steps >= 1000
    assert late.sum() > 5 and np.array_equal(second.spike_gids, whole.spike_gids[late])
    with pytest.raises(ValueError, match="model parameters and connectivity"):
        simulate(net([380.0, 430.0, 490.0]), 100.0, seed=3, progress=False, restart=str(tmp_path / "ck"))


def test_per_neuron_values_only_where_the_model_has_them():
    from distsnn.model.per_neuron import per_neuron_params
    assert set(per_neuron_params("izhikevich")) == {"I_e", "V_th", "a", "b", "c", "d", "V_min", "U_m"}
    with pytest.raises(ValueError, match=r"parameter gsl_error_tol must be a number; only I_e, V_th, C_m, g_L, .*, "
                                         r"tau_w may differ"):
        Network().add_population("x", 3, "aeif_cond_exp", {"gsl_error_tol": [1e-6, 1e-6, 1e-5]})


def _restartable(d_values):
    net = Network(dt=0.1)
    net.add_population("n", 4, "izhikevich", {"d": d_values, "c": Uniform(-65.0, -60.0), "I_e": 10.0})
    net.record_spikes("n")
    return net


def test_checkpoints_know_the_values(tmp_path):
    """A restart continues the run exactly with the same given values, and is refused with others
    (of the same mean, so that the population's scalar d, in the tables, is the same)."""
    d = [2.0, 4.0, 6.0, 8.0]
    whole = simulate(_restartable(d), 200.0, seed=3, progress=False)
    simulate(_restartable(d), 100.0, seed=3, progress=False, checkpoint=str(tmp_path / "ck"))
    second = simulate(_restartable(d), 100.0, seed=3, progress=False, restart=str(tmp_path / "ck"))
    ids, times = whole.spikes("n")
    late = times > 100.0
    assert np.array_equal(second.spikes("n")[1], times[late]) and late.sum() > 0
    with pytest.raises(ValueError, match="model parameters and connectivity"):
        simulate(_restartable([2.0, 4.0, 6.5, 7.5]), 100.0, seed=3, progress=False,
                 restart=str(tmp_path / "ck"))


def test_the_library_network_with_the_published_cells(tmp_path):
    from distsnn.models import izhikevich
    net = izhikevich.build(scale=0.05, cells="published")
    e, i = net.populations["E"], net.populations["I"]
    c, d = e.per_neuron["c"].values, e.per_neuron["d"].values
    assert np.allclose(d, 8.0 - 6.0 * (c + 65.0) / 15.0) and -65.0 <= c.min() and c.max() <= -50.0
    a, b = i.per_neuron["a"].values, i.per_neuron["b"].values
    assert np.allclose(b, 0.25 - 0.05 * (a - 0.02) / 0.08) and 0.02 <= a.min() and a.max() <= 0.1
    assert np.ptp(c) > 10.0 and np.ptp(a) > 0.05   # spread over the classes, not one cell
    assert set(e.per_neuron) == {"c", "d"} and set(i.per_neuron) == {"a", "b"}
    assert izhikevich.build(scale=0.05).populations["E"].per_neuron is None   # central: as before
    again = izhikevich.build(scale=0.05, cells="published").populations["E"].per_neuron["c"]
    assert again == e.per_neuron["c"]                     # the cells are part of the model
    with pytest.raises(ValueError, match="cells must be one of central, published, got 'paper'"):
        izhikevich.build(cells="paper")
    out = tmp_path / "iz.h5"
    from distsnn.cli import main
    assert main(["run", "izhikevich", "--cells", "published", "--scale", "0.02", "--t-sim", "50", "--backend", "cpu",
                 "--no-progress", "--output", str(out)]) == 0
    assert out.exists()


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_initial_u_per_neuron(backend):
    """izhikevich's U_m given per neuron (the paper's u = b v): each neuron's V_m and U_m equal,
    bit for bit, those of a population of one with its U_m; the table has them."""
    import distsnn
    b = np.linspace(0.2, 0.25, 4)
    u0 = -65.0 * b

    def net(bs, us):
        n = Network(dt=0.1)
        one = len(us) == 1
        n.add_population("n", len(us), "izhikevich", {"b": float(bs[0]) if one else bs,
                                                      "U_m": float(us[0]) if one else us, "I_e": 10.0})
        n.record_state("n", range(len(us)), ["V_m", "U_m"])
        return n
    res = simulate(net(b, u0), 50.0, backend=backend, progress=False)
    assert np.array_equal(distsnn.parameters(net(b, u0), "n")["U_m"], u0)
    assert len(set(res.state("n", "U_m")[2][0])) == 4   # each starts from its own u
    for i in range(4):
        ref = simulate(net(b[i:i + 1], u0[i:i + 1]), 50.0, backend=backend, progress=False)
        for var in ("V_m", "U_m"):
            assert np.array_equal(res.state("n", var)[2][:, i], ref.state("n", var)[2][:, 0]), (i, var)
