"""Step currents (Network.add_step_current_input, NEST's step_current_generator) and currents
into some neurons of a population (`neurons` of add_dc_input, add_ac_input,
add_step_current_input and add_noise_input): V and spikes are NEST 3.10's (tests/data/nest_step_current.json, from
scripts/peers/nest_step_current.py) on the CPU and the emulated GPU once the generators'
connection delay is moved into the times; the plan's tables give each neuron the current of
the inputs that flow into it; every engine gives the same run; the fingerprints of models
without them are as before; bad settings are refused."""
import json
import math
import pathlib

import numpy as np
import pytest

from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.dc_inputs import dc_current, flows_into, noise_flows_into
from distsnn.io.checkpoint import fingerprint
from distsnn.model import FixedProbability, Network, Normal, Uniform
from distsnn.runtime import simulate
from test_gpu_emulated import assert_same_run
from test_uniform_synapses import ENGINES

DATA = json.loads((pathlib.Path(__file__).parent / "data" / "nest_step_current.json").read_text())
P = DATA["protocol"]


def nest_protocol(delay):
    """NEST's generators of the protocol as distsnn inputs, their times moved by `delay` ms
    (NEST's generator -> neuron delay): each population of the protocol's models, every
    neuron's V recorded."""
    net = Network(dt=P["dt"])
    for model, params in P["models"].items():
        net.add_population(model, P["size"], model, params)
        net.record_voltage(model, range(P["size"]))
        net.record_spikes(model)
        for g in P["generators"]:
            q, ids = g["params"], g["neurons"]
            window = {"start": q.get("start", 0.0) + delay, "stop": q.get("stop", math.inf) + delay}
            if g["model"] == "step_current_generator":
                net.add_step_current_input(model, np.add(q["amplitude_times"], delay), q["amplitude_values"],
                                           neurons=ids, **window)
            elif g["model"] == "dc_generator":
                net.add_dc_input(model, q["amplitude"], neurons=ids, **window)
            else:
                net.add_ac_input(model, q["amplitude"], q["frequency"],
                                 q["phase"] - 360.0 * q["frequency"] * delay / 1000.0, q["offset"], neurons=ids,
                                 **window)
    return net


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_v_and_spikes_are_nests(backend):
    res = simulate(nest_protocol(P["delay"]), P["t_sim"], backend=backend, progress=False)
    for k, model in enumerate(P["models"]):
        ref = np.array(DATA["v_m"][model]).T   # (steps, neurons)
        got = res.vrec[:, k * P["size"]:(k + 1) * P["size"]]
        assert np.max(np.abs(got - ref)) < 1e-9, model
        ids, times = res.spikes(model)
        assert sorted(zip(np.round(times, 6).tolist(), ids.tolist())) == \
            [(round(t, 6), i) for t, i in DATA["spikes"][model]]
    assert len(DATA["spikes"]["iaf_psc_alpha"]) >= 8   # the currents drive spikes
    # the timing and the subsets matter: without the delay, or with the currents into every
    # neuron, the traces part
    off = simulate(nest_protocol(0.0), P["t_sim"], backend="cpu", progress=False)
    assert np.max(np.abs(off.vrec - res.vrec)) > 1e-3
    everyone = nest_protocol(P["delay"])
    everyone.dc_inputs[:] = [type(d)(**{**d.__dict__, "neurons": None}) for d in everyone.dc_inputs]
    assert np.max(np.abs(simulate(everyone, P["t_sim"], backend="cpu", progress=False).vrec - res.vrec)) > 1e-3


def two_populations():
    """A: 70 neurons, B: 45, each input into a subset: its bits lie in dc_mask one after the
    other, so a neuron past a subset's last id must not read the next one's."""
    net = Network(dt=0.1)
    net.add_population("A", 70)
    net.add_population("B", 45)
    net.add_step_current_input("B", [0.0, 1.0, 2.5, 4.0], [10.0, -3.0, 0.0, 7.5], neurons=[0, 31, 32, 33])
    net.add_dc_input("A", 5.0, start=0.5, stop=3.0, neurons=[3, 40])
    net.add_ac_input("A", 3.0, 100.0, offset=1.0)
    net.add_dc_input("A", 2.0, neurons=[41, 69])
    net.add_step_current_input("B", [1.2], [4.0], start=2.0)
    return net


def test_the_tables_give_each_neuron_its_inputs():
    """dc_current and flows_into (the reference the engines match) against the inputs as
    given: the steps' amplitudes from each time on (0 before the first, none outside the
    window), and each input into its ids alone."""
    net = two_populations()
    plan = make_plan(net, 1)
    gids = np.arange(115)
    into = {d: np.nonzero(flows_into(plan, d, gids))[0].tolist() for d in range(5)}
    # sorted by population: A's three in the order given, then B's two
    assert into == {0: [3, 40], 1: list(range(70)), 2: [41, 69], 3: [70, 101, 102, 103], 4: list(range(70, 115))}
    assert plan.dc_mask.size == -(-(70 + 70 + 45) // 32)   # a population's worth of bits each
    assert [dc_current(plan, 3, t) for t in (0, 9, 10, 24, 25, 39, 40, 10 ** 6)] == \
        [10.0, 10.0, -3.0, -3.0, 0.0, 0.0, 7.5, 7.5]
    assert [dc_current(plan, 4, t) for t in (11, 12, 19, 20, 10 ** 6)] == [0.0, 0.0, 0.0, 4.0, 4.0]
    assert [dc_current(plan, 0, t) for t in (4, 5, 29, 30)] == [0.0, 5.0, 5.0, 0.0]
    assert plan.dc_i[[0, 2, 3], bp.DI_MASKED].tolist() == [1, 1, 1] and plan.dc_i[[1, 4], bp.DI_MASKED].sum() == 0


def test_each_neuron_gets_the_current_of_its_inputs():
    """V of every neuron on the CPU and the emulated GPU is that of a population of its own
    driven by the sum of the inputs that flow into it (the same inputs without subsets): the
    ids reach the right neurons, a neuron past a subset's last id included."""
    net = two_populations()
    plan = make_plan(net, 1)
    in_plan = sorted(net.dc_inputs, key=lambda dc: list(net.populations).index(dc.target))   # the plan's order
    gids = np.arange(115)
    runs = {b: simulate(two_populations_recorded(), 6.0, backend=b, progress=False).vrec for b in ("cpu", "gpu-emu")}
    assert np.array_equal(runs["cpu"], runs["gpu-emu"])
    for g in (0, 3, 40, 41, 69, 70, 71, 101, 114):
        alone = Network(dt=0.1)
        pop = "A" if g < 70 else "B"
        alone.add_population(pop, 1)
        for d, dc in enumerate(in_plan):
            if flows_into(plan, d, gids)[g]:
                alone.dc_inputs.append(type(dc)(**{**dc.__dict__, "neurons": None}))
        alone.record_voltage(pop, [0])
        v = simulate(alone, 6.0, backend="cpu", progress=False).vrec[:, 0]
        assert np.array_equal(runs["cpu"][:, g], v), g
    assert not np.array_equal(runs["cpu"][:, 40], runs["cpu"][:, 39])   # the subsets make a difference


def two_populations_recorded():
    net = two_populations()
    net.record_voltage("A", range(70))
    net.record_voltage("B", range(45))
    return net


def test_a_step_current_is_its_steps_as_dc_inputs():
    """A step current of 300 amplitudes (a sampled recording; the binary search) gives V bit
    for bit as 300 DC inputs each over its interval, on the CPU and the emulated GPU."""
    times = np.round(np.arange(300) * 0.3 + 0.2, 10)
    values = 200.0 * np.sin(np.arange(300) / 7.0) + 50.0

    def net(steps):
        n = Network(dt=0.1)
        n.add_population("n", 3, "iaf_cond_exp", {"V_th": 1000.0})
        if steps:
            n.add_step_current_input("n", times, values)
        else:
            for i in range(300):
                n.add_dc_input("n", values[i], start=times[i], stop=times[i + 1] if i < 299 else math.inf)
        n.record_voltage("n", [0])
        return n
    ref = simulate(net(False), 100.0, backend="cpu", progress=False).vrec
    assert np.ptp(ref) > 5.0
    for backend in ("cpu", "gpu-emu"):
        assert np.array_equal(simulate(net(True), 100.0, backend=backend, progress=False).vrec, ref), backend


def stimulated_network(lists=True):
    """A recurrent network (three populations, several units each) with inputs into subsets of
    every kind (noise currents redrawn every step and held over intervals too), mixed with
    inputs into all and distributed I_e (the current per neuron then sums them). `lists` is
    not used (the engines' helpers pass it)."""
    net = Network(dt=0.1, chunk_size=32)
    net.add_population("E", 160, v_init=Uniform(-65.0, -55.0), params={"I_e": Normal(150.0, 40.0)})
    net.add_population("I", 60, "iaf_cond_exp", v_init=Uniform(-65.0, -55.0))
    net.add_population("A", 50, "iaf_psc_alpha")
    net.connect("E", "E", FixedProbability(0.1), 40.0, 1.5)
    net.connect("E", "I", FixedProbability(0.1), 3.0, 1.0)
    net.connect("I", "E", FixedProbability(0.2), -8.0, 0.8)
    net.connect("E", "A", FixedProbability(0.1), 60.0, 1.0)
    rng = np.random.default_rng(3)
    net.add_step_current_input("E", [10.0, 40.0, 70.0, 100.0], [250.0, 0.0, 400.0, 120.0],
                               neurons=rng.choice(160, 50, replace=False))
    net.add_dc_input("E", 80.0, start=20.0, stop=90.0)
    net.add_noise_input("E", 0.0, 60.0, dt=1.0)
    net.add_noise_input("E", 30.0, 200.0, neurons=np.arange(0, 160, 3), start=50.0)
    net.add_noise_input("I", 5.0, 40.0, dt=0.5, neurons=[0, 1, 59])
    net.add_ac_input("E", 200.0, 20.0, offset=100.0, neurons=np.arange(100, 160))
    net.add_dc_input("I", 7.0, start=5.0, neurons=np.arange(0, 60, 2))
    net.add_step_current_input("A", np.arange(0.0, 150.0, 2.5), rng.uniform(0.0, 900.0, 60), neurons=[1, 2, 3, 40])
    net.add_dc_input("A", 390.0, start=30.0, stop=120.0)
    for pop in ("E", "I", "A"):
        net.record_spikes(pop)
    net.record_voltage("E", range(95, 105))
    net.record_voltage("A", range(5))
    return net


@pytest.fixture(scope="module")
def stimulated_reference():
    return simulate(stimulated_network(), 150.0, seed=12, backend="cpu", progress=False)


@pytest.mark.parametrize("backend,connectivity", ENGINES)
def test_engines_agree(stimulated_reference, backend, connectivity):
    """CPU stored and the emulated GPU (procedural and stored) give the CPU procedural
    engine's spikes, voltages and events with currents into subsets."""
    assert stimulated_reference.spike_gids.size > 500
    res = simulate(stimulated_network(), 150.0, seed=12, backend=backend, connectivity=connectivity, progress=False)
    assert_same_run(res, stimulated_reference)


def test_emulated_step_loop_agrees(monkeypatch):
    """The step loop's copy of the neuron update gives the currents alike."""
    ref = simulate(stimulated_network(), 60.0, seed=12, backend="cpu", progress=False)
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1")
    res = simulate(stimulated_network(), 60.0, seed=12, backend="gpu-emu", progress=False)
    assert res.device["step_launches"].startswith("step loop (") and ref.spike_gids.size > 200
    assert_same_run(res, ref)


@pytest.mark.parametrize("every", [0.1, 0.5])
def test_a_noise_current_into_some_neurons_is_theirs_alone(every):
    """A noise current given `neurons` (redrawn every step, or held over 0.5 ms) gives those
    neurons the V they have when it flows into all (each neuron's draws are its own), and the
    others the V they have without it, bit for bit, on the CPU and the emulated GPU, with a
    noise current into all and DC inputs beside it."""
    ids = [0, 7, 31, 32, 33, 60]

    def net(neurons):
        n = Network(dt=0.1, chunk_size=32)
        n.add_population("n", 70, "iaf_cond_exp", {"V_th": 1000.0})
        n.add_dc_input("n", 100.0, start=1.0, neurons=[5, 7])
        n.add_noise_input("n", 0.0, 30.0)
        if neurons != "none":
            n.add_noise_input("n", 50.0, 300.0, dt=every, start=2.0, stop=15.0, neurons=neurons)
        n.add_dc_input("n", 40.0)
        n.record_voltage("n", range(70))
        return n
    runs = {b: simulate(net(ids), 20.0, backend=b, progress=False).vrec for b in ("cpu", "gpu-emu")}
    assert np.array_equal(runs["cpu"], runs["gpu-emu"])
    into_all = simulate(net(None), 20.0, backend="cpu", progress=False).vrec
    without = simulate(net("none"), 20.0, backend="cpu", progress=False).vrec
    others = np.setdiff1d(np.arange(70), ids)
    assert np.array_equal(runs["cpu"][:, ids], into_all[:, ids])
    assert np.array_equal(runs["cpu"][:, others], without[:, others])
    assert np.min(np.max(np.abs(into_all - without), axis=0)) > 1e-2   # the current reaches every neuron
    plan = make_plan(net(ids), 1)
    assert np.nonzero(noise_flows_into(plan, 1, np.arange(70)))[0].tolist() == ids
    assert noise_flows_into(plan, 0, np.arange(70)).all()


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_a_restart_continues_the_currents(tmp_path, backend):
    """Cut at 43.7 ms (inside a held interval of a noise current into some neurons, between
    a step current's times) and restarted: the spikes and V of the run in one piece."""
    whole = simulate(stimulated_network(), 100.0, seed=12, backend=backend, progress=False)
    simulate(stimulated_network(), 43.7, seed=12, backend=backend, progress=False, checkpoint=str(tmp_path / "ck"))
    rest = simulate(stimulated_network(), 56.3, seed=12, backend=backend, progress=False,
                    restart=str(tmp_path / "ck"))
    late = whole.spike_steps >= 437
    assert late.sum() > 100
    assert np.array_equal(rest.spike_gids, whole.spike_gids[late])
    assert np.array_equal(rest.spike_steps, whole.spike_steps[late])
    assert np.array_equal(rest.vrec, whole.vrec[437:])


def test_fingerprints_are_as_before_unless_used():
    """A model with DC and AC inputs into all neurons has the fingerprint it had before step
    currents and subsets existed (their columns and tables hashed only where used); a step
    current, or a subset, changes it."""
    def plan(*extra):
        net = Network(dt=0.1)
        net.add_population("n", 40)
        net.add_dc_input("n", 50.0, start=1.0, stop=9.0)
        net.add_ac_input("n", 10.0, 5.0)
        for kind, args in extra:
            getattr(net, kind)("n", *args)
        return make_plan(net, 1)
    p = plan()
    before = fingerprint(p)["model_tables_sha256"]
    p.dc_i = p.dc_i[:, :bp.N_DI_BEFORE_SEG].copy()   # the columns and tables the earlier format had
    p.dc_seg_i, p.dc_seg_f, p.dc_mask = (np.zeros(0, dtype=a.dtype) for a in (p.dc_seg_i, p.dc_seg_f, p.dc_mask))
    assert fingerprint(p)["model_tables_sha256"] == before
    prints = {fingerprint(plan(*e))["model_tables_sha256"] for e in (
        [("add_dc_input", (5.0, 0.0, math.inf, [1, 2]))], [("add_dc_input", (5.0, 0.0, math.inf, [1, 3]))],
        [("add_step_current_input", ([1.0, 2.0], [3.0, 4.0]))], [("add_step_current_input", ([1.0, 2.0], [3.0, 5.0]))],
        [("add_step_current_input", ([1.0, 2.1], [3.0, 4.0]))], [("add_noise_input", (0.0, 5.0))],
        [("add_noise_input", (0.0, 5.0, None, 0.0, math.inf, [3]))])}
    assert len(prints) == 7 and before not in prints


@pytest.mark.parametrize("call,message", [
    (lambda n: n.add_step_current_input("n", [1.0, 0.5], [1.0, 2.0]), "must increase by at least one step"),
    (lambda n: n.add_step_current_input("n", [1.0, 1.04], [1.0, 2.0]), "1 and 1.04 ms do not"),
    (lambda n: n.add_step_current_input("n", [1.0], [1.0, 2.0]), "the same, nonzero length"),
    (lambda n: n.add_step_current_input("n", [], []), "the same, nonzero length"),
    (lambda n: n.add_step_current_input("n", [-1.0], [1.0]), "finite times >= 0 ms"),
    (lambda n: n.add_step_current_input("n", [math.nan], [1.0]), "finite times >= 0 ms"),
    (lambda n: n.add_step_current_input("n", [1.0, 2.0], [1.0, math.inf]), r"amplitude_values\[1\] = inf"),
    (lambda n: n.add_step_current_input("n", [1.0], ["a"]), "must be numbers"),
    (lambda n: n.add_step_current_input("n", [1.0], [1.0], start=5.0, stop=2.0), "need 0 <= start <= stop"),
    (lambda n: n.add_step_current_input("src", [1.0], [1.0]), "is a spike source and cannot receive input"),
    (lambda n: n.add_step_current_input("m", [1.0], [1.0]), "unknown population 'm'"),
    (lambda n: n.add_dc_input("n", 1.0, neurons=[0, 10]), r"neuron id 10 is outside the population \(0 .. 9\)"),
    (lambda n: n.add_dc_input("n", 1.0, neurons=[-1]), "neuron id -1 is outside"),
    (lambda n: n.add_ac_input("n", 1.0, 5.0, neurons=[]), "nonempty 1-D sequence"),
    (lambda n: n.add_dc_input("n", 1.0, neurons=[0.5]), "population-local ids"),
    (lambda n: n.add_dc_input("n", 1.0, neurons=[[0, 1]]), "nonempty 1-D sequence"),
    (lambda n: n.add_noise_input("n", 1.0, 2.0, neurons=[3, 12]), "noise input to 'n': neuron id 12 is outside"),
])
def test_bad_settings_are_refused(call, message):
    net = Network(dt=0.1)
    net.add_population("n", 10)
    net.add_spike_source("src", 2, [0], [1.0])
    with pytest.raises(ValueError, match=message):
        call(net)
    assert not net.dc_inputs and not net.noise_inputs


def test_repeated_ids_count_once():
    net = Network(dt=0.1)
    net.add_population("n", 10)
    net.add_dc_input("n", 1.0, neurons=np.array([4, 2, 4, 2], dtype=np.int32))
    assert net.dc_inputs[0].neurons.tolist() == [2, 4] and net.dc_inputs[0].neurons.dtype == np.int64
