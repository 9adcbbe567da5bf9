"""Membrane and synaptic parameters per neuron (tau_m, C_m, t_ref, E_L, V_reset, tau_syn_*,
g_L, the AdEx constants, ...): each neuron gets a row of constants of its own (build.param_rows).
Every neuron of such a population must behave exactly as a population of one with its numbers,
on both engines; rows equal to the population's must change nothing; draws come from each
neuron's own streams; every value is checked, the neuron named; checkpoints know the values."""
import numpy as np
import pytest

from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.param_rows import neuron_parameters, neuron_rows
from distsnn.model import AllToAll, FixedIndegree, Network, Normal, Uniform
from distsnn.model.per_neuron import row_params
from distsnn.runtime import simulate

N = 5
R = np.linspace(0.0, 1.0, N)
# per model: the values of every parameter that may vary (row_params), one per neuron; I_e
# (pA) and the input weights (pA; nS for conductances; mV for delta synapses) that make all fire
IAF = {"C_m": 200.0 + 100.0 * R, "t_ref": 0.5 + 2.5 * R, "E_L": -72.0 + 4.0 * R, "V_reset": -72.0 + 12.0 * R}
CELLS = {
    "iaf_psc_exp": (dict(IAF, tau_m=8.0 + 12.0 * R, tau_syn_ex=0.5 + 2.0 * R, tau_syn_in=3.0 - 2.0 * R), 420.0, 300.0),
    "iaf_psc_alpha": (dict(IAF, tau_m=8.0 + 12.0 * R, tau_syn_ex=0.5 + 2.0 * R, tau_syn_in=3.0 - 2.0 * R), 500.0,
                      200.0),
    "iaf_psc_delta": (dict(IAF, tau_m=8.0 + 12.0 * R), 420.0, 2.0),
    "iaf_cond_exp": (dict(IAF, g_L=12.0 + 8.0 * R, E_ex=-5.0 + 5.0 * R, E_in=-90.0 + 10.0 * R, tau_syn_ex=0.3 + R,
                          tau_syn_in=3.0 - 2.0 * R), 350.0, 6.0),
    "iaf_cond_alpha": (dict(IAF, g_L=12.0 + 8.0 * R, E_ex=-5.0 + 5.0 * R, E_in=-90.0 + 10.0 * R, tau_syn_ex=0.3 + R,
                            tau_syn_in=3.0 - 2.0 * R), 350.0, 3.0),
    "aeif_cond_exp": (dict(IAF, g_L=25.0 + 10.0 * R, V_reset=-60.0 + 13.0 * R, V_peak=-5.0 + 5.0 * R,
                           E_ex=-5.0 + 5.0 * R, E_in=-90.0 + 10.0 * R, tau_syn_ex=0.3 + R, tau_syn_in=3.0 - 2.0 * R,
                           a=-2.0 + 12.0 * R, b=80.0 - 50.0 * R, Delta_T=0.5 + 2.0 * R, tau_w=30.0 + 110.0 * R),
                      900.0, 10.0),
    "aeif_psc_exp": (dict(IAF, g_L=25.0 + 10.0 * R, V_reset=-60.0 + 13.0 * R, V_peak=-5.0 + 5.0 * R,
                          tau_syn_ex=0.3 + R, tau_syn_in=3.0 - 2.0 * R, a=-2.0 + 12.0 * R, b=80.0 - 50.0 * R,
                          Delta_T=0.5 + 2.0 * R, tau_w=30.0 + 110.0 * R), 900.0, 300.0),
    "aeif_psc_delta": (dict(IAF, g_L=25.0 + 10.0 * R, V_reset=-60.0 + 13.0 * R, V_peak=-5.0 + 5.0 * R,
                            a=-2.0 + 12.0 * R, b=80.0 - 50.0 * R, Delta_T=0.5 + 2.0 * R, tau_w=30.0 + 110.0 * R),
                       900.0, 3.0),
    "izhikevich": ({"V_min": -68.0 + 4.0 * R}, 10.0, 3.0),
}


def cells(model, values, n):
    """n neurons of `model` with the given values (one per neuron, or numbers for n = 1), an AC
    current on top of their I_e and the same spike train from a source through both receptors."""
    _, i_e, w = CELLS[model]
    net = Network(dt=0.1)
    net.add_population("n", n, model, dict(values, I_e=i_e))
    net.add_ac_input("n", amplitude=0.3 * i_e, frequency=9.0)
    times = np.arange(2.0, 150.0, 2.7)
    net.add_spike_source("src", 1, np.zeros(times.size, dtype=np.int64), times)
    net.connect("src", "n", AllToAll(), w, 1.0)
    net.connect("src", "n", AllToAll(), -0.5 * w, 1.5, label="inh")
    net.record_spikes("n")
    net.record_state("n", range(n), list(_recorded(model)))
    return net


def _recorded(model):
    from distsnn.model.neurons import RECORDABLES
    return RECORDABLES[model]


def test_every_parameter_of_the_rows_is_in_the_table():
    """The table above varies every parameter each model lets vary through rows."""
    for model, (values, _, _) in CELLS.items():
        assert set(values) == set(row_params(model)), model


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
@pytest.mark.parametrize("model", sorted(CELLS))
def test_each_neuron_is_the_cell_of_its_own_numbers(backend, model):
    """Every recorded variable of every neuron equals, bit for bit at every step, that of a
    population of one with its numbers as scalars; the spikes too."""
    values = CELLS[model][0]
    res = simulate(cells(model, values, N), 150.0, backend=backend, progress=False)
    ids, times = res.spikes("n")
    counts = np.bincount(ids, minlength=N)
    assert np.all(counts > 0), counts          # every neuron fired: its reset and refractory time acted
    for i in range(N):
        one = simulate(cells(model, {k: float(v[i]) for k, v in values.items()}, 1), 150.0, backend=backend,
                       progress=False)
        for var in _recorded(model):
            assert np.array_equal(res.state("n", var)[2][:, i], one.state("n", var)[2][:, 0]), (i, var)
        assert np.array_equal(times[ids == i], one.spikes("n")[1]), i
    # the neurons differ: not all the same trace
    v = res.state("n", "V_m")[2]
    assert len({v[:, i].tobytes() for i in range(N)}) == N


def _busy(model, values):
    """A recurrent population over several chunks with Poisson input and a noise current."""
    net = Network(dt=0.1, chunk_size=16)
    w = CELLS[model][2]
    net.add_population("n", 40, model, dict(values, I_e=CELLS[model][1] * 0.6))
    net.add_poisson_input("n", indegree=200, rate=20.0, weight=w, delay=1.0)
    net.add_noise_input("n", mean=0.0, std=0.2 * CELLS[model][1], dt=0.5)
    net.connect("n", "n", FixedIndegree(8), 0.5 * w, Normal(1.5, 0.5))
    net.record_spikes("n")
    net.record_voltage("n", range(0, 40, 3))
    return net


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
@pytest.mark.parametrize("model", ["iaf_psc_alpha", "iaf_cond_exp", "aeif_cond_exp"])
def test_rows_equal_to_the_populations_change_nothing(backend, model):
    """Parameters given per neuron, all equal to the population's numbers, take the rows' path
    (one neuron at a time, each with its row) and give the same spikes and traces as the
    population without them, with Poisson input, a noise current and recurrent synapses."""
    numbers = {k: float(v[2]) for k, v in CELLS[model][0].items()}
    same = {k: np.full(40, x) for k, x in numbers.items()}
    plain = simulate(_busy(model, numbers), 100.0, backend=backend, seed=4, progress=False)
    rows = simulate(_busy(model, same), 100.0, backend=backend, seed=4, progress=False)
    assert plain.spike_gids.size > 20
    assert np.array_equal(plain.spike_gids, rows.spike_gids) and np.array_equal(plain.spike_steps, rows.spike_steps)
    assert np.array_equal(plain.vrec, rows.vrec)


def test_drawn_values_come_from_each_neurons_own_streams():
    net = Network(dt=0.1)
    net.add_population("pre", 10)
    net.add_population("n", 20000, "iaf_psc_exp", {"tau_m": Normal(15.0, 2.0), "t_ref": Uniform(1.0, 3.0),
                                                   "C_m": [250.0] * 19999 + [300.0]})
    plan = make_plan(net, seed=5)
    gids = np.arange(10, 20010)
    p = neuron_parameters(plan, 1, gids)
    assert p["tau_m"].mean() == pytest.approx(15.0, abs=0.05) and p["tau_m"].std() == pytest.approx(2.0, rel=0.03)
    assert 1.0 < p["t_ref"].min() and p["t_ref"].max() <= 3.0 and p["t_ref"].mean() == pytest.approx(2.0, abs=0.02)
    assert p["C_m"][-1] == 300.0 and np.all(p["C_m"][:-1] == 250.0)
    assert abs(np.corrcoef(p["tau_m"], p["t_ref"])[0, 1]) < 0.03   # a stream per parameter
    assert net.populations["n"].params["tau_m"] == pytest.approx(15.0)   # the scalar: the mean
    # the rows: each neuron's constants and its refractory steps; any subset (a rank's) gets the same
    index, rows = neuron_rows(plan, np.arange(plan.n_neurons))
    assert np.all(index[:10] == -1) and np.array_equal(index[10:], np.arange(20000))
    # NEST's count: t_ref rounded to 1 us tics, then up to whole steps of 100 tics
    assert np.array_equal(rows[:, bp.PF_REF], np.ceil(np.floor(p["t_ref"] * 1000 + 0.5) / 100))
    assert np.allclose(rows[:, bp.PF_P22], np.exp(-0.1 / p["tau_m"]), rtol=1e-15, atol=0)
    sub = np.array([20009, 10, 777])
    i_sub, r_sub = neuron_rows(plan, sub)
    assert np.array_equal(r_sub[i_sub], rows[index[sub]])
    other = neuron_parameters(make_plan(net, seed=6), 1, gids)
    assert not np.array_equal(other["tau_m"], p["tau_m"])
    # populations without values per neuron have no rows
    assert plan.pop_i[:, bp.PI_ROWS].tolist() == [0, 1]


@pytest.mark.parametrize("model,params,at_add,message", [
    ("iaf_psc_exp", {"tau_m": [10.0, -1.0, 10.0]}, True, r"parameter tau_m must be > 0, got -1.0 \(neuron 1\)"),
    ("iaf_psc_exp", {"V_reset": [-70.0, -70.0, -50.0]}, True,
     r"V_reset \(-50.0\) must be below V_th \(-55.0\) \(neuron 2\)"),
    ("iaf_psc_exp", {"V_reset": [-70.0, -60.0, -70.0], "V_th": [-55.0, -61.0, -50.0]}, True,
     r"V_reset \(-60.0\) must be below V_th \(-61.0\) \(neuron 1\)"),
    ("iaf_psc_exp", {"t_ref": Uniform(-1.0, 2.0)}, True, r"parameter t_ref must be >= 0, got -1.0"),
    ("aeif_cond_exp", {"V_peak": [0.0, -60.0, 0.0]}, True, r"V_peak \(-60.0\) must be >= V_th \(-50.4\) \(neuron 1\)"),
    ("aeif_psc_exp", {"gsl_error_tol": [1e-6, 1e-5, 1e-6]}, True,
     r"parameter gsl_error_tol must be a number; only I_e, V_th, C_m, g_L, t_ref, E_L, V_reset, V_peak, "
     r"tau_syn_ex, tau_syn_in, a, b, Delta_T, tau_w may"),
    ("aeif_cond_exp", {"gsl_error_tol": [1e-6, 1e-5, 1e-6]}, True, r"parameter gsl_error_tol must be a number"),
    # draws: every one checked when the plan is made, jointly with the other values per neuron
    ("iaf_psc_exp", {"tau_m": Normal(1.0, 1.0)}, False,
     r"parameter tau_m must be > 0, got -\d.\d+ \(neuron \d+\); drawn with seed 1 from tau_m ~ Normal\(.*\): "
     r"narrow the distribution"),
    ("iaf_cond_exp", {"V_reset": Uniform(-70.0, -58.0), "V_th": Uniform(-60.0, -54.0)}, False,
     r"V_reset \(-\d\d.\d+\) must be below V_th \(-\d\d.\d+\) \(neuron \d+\); drawn with seed 1 from V_reset ~ "
     r"Uniform\(.*\), V_th ~ Uniform\(.*\)"),
])
def test_bad_values_are_refused_with_the_neuron_named(model, params, at_add, message):
    net = Network(dt=0.1)
    if at_add:
        with pytest.raises(ValueError, match=message):
            net.add_population("x", 3, model, params)
        assert not net.populations
    else:
        net.add_population("x", 3000, model, params)
        with pytest.raises(ValueError, match=message):
            make_plan(net, 1)


def _restartable(tau_m):
    net = Network(dt=0.1)
    net.add_population("n", 4, "iaf_psc_exp", {"tau_m": tau_m, "t_ref": Uniform(1.0, 3.0), "I_e": 400.0})
    net.record_spikes("n")
    return net


def test_checkpoints_know_the_values(tmp_path):
    """A restart continues the run exactly with the same values per neuron, and is refused with
    others of the same mean (so that the population's scalar tau_m, in the tables, is the same)."""
    tau = [8.0, 10.0, 12.0, 14.0]
    whole = simulate(_restartable(tau), 200.0, seed=3, progress=False)
    simulate(_restartable(tau), 100.0, seed=3, progress=False, checkpoint=str(tmp_path / "ck"))
    second = simulate(_restartable(tau), 100.0, seed=3, progress=False, restart=str(tmp_path / "ck"))
    late = whole.spike_steps >= 1000
    assert late.sum() > 5 and np.array_equal(second.spike_gids, whole.spike_gids[late])
    assert np.array_equal(second.spike_steps, whole.spike_steps[late])
    with pytest.raises(ValueError, match="model parameters and connectivity"):
        simulate(_restartable([9.0, 9.0, 13.0, 13.0]), 100.0, seed=3, progress=False, restart=str(tmp_path / "ck"))


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_each_neuron_rests_at_its_own_resting_potential(backend):
    """E_L per neuron: without v_init each neuron starts at its own E_L and, without input,
    stays there exactly (V is held relative to it, and the output adds it back per neuron);
    the table says so too."""
    import distsnn
    net = Network(dt=0.1, chunk_size=16)
    net.add_population("n", 40, "iaf_cond_alpha", {"E_L": Normal(-65.0, 3.0), "V_th": -40.0})
    net.record_voltage("n", range(40))
    res = simulate(net, 20.0, backend=backend, seed=8, progress=False)
    table = distsnn.parameters(net, "n", seed=8)
    assert np.array_equal(table["V_m"], table["E_L"]) and table["E_L"].std() == pytest.approx(3.0, rel=0.3)
    v = res.state("n")[2]
    assert np.array_equal(v, np.broadcast_to(table["E_L"], v.shape))
