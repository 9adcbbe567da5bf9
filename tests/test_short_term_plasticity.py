"""Short-term plasticity (model.TsodyksMarkram, NEST's tsodyks2_synapse): NEST's traces on
the CPU and the emulated GPU, the same spikes in both connectivity modes and on both
engines, through synapse lists, across a checkpoint (written by one engine, read by the
other) and on ranks (test_mpi_short_term.py), and clear errors for bad parameters."""
import json
import math
import os
import pathlib

import numpy as np
import pytest

from distsnn.build.plan import make_plan
from distsnn.model import AllToAll, FixedIndegree, FromList, Network, OneToOne, TsodyksMarkram
from distsnn.runtime import simulate

DATA = json.loads((pathlib.Path(__file__).parent / "data" / "nest_stp_traces.json").read_text())
P = DATA["protocol"]
# NEST and distsnn compute the same update; they differ in the exp (the portable one against
# libm's), the interval (steps times dt against a difference of times) and the fixed-point
# weight scaled by the efficacy (rounded to 2**-32 pA): measured 2.2e-10 pA and 1.6e-12 mV
TOL = 1e-8


def protocol_network(spec=P):
    # int64 rings: a fixed-point unit of 2**-32 pA, so that the weights' rounding stays far
    # below the tolerance (int32's here is 2**-19 pA)
    net = Network(dt=spec["dt"], ring_bits=64)
    for name, trains in spec["sources"].items():
        ids = np.concatenate([np.full(len(t), i) for i, t in enumerate(trains)]).astype(int)
        net.add_spike_source(name, len(trains), ids, np.concatenate(trains))
    net.add_population("n", spec["n_targets"], "iaf_psc_exp", dict(spec["target_params"]))
    for source, weight, delay, label, stp in spec["projections"]:
        net.connect(source, "n", AllToAll(), weight, delay, label=label,
                    stp=None if stp is None else TsodyksMarkram(**stp))
    net.record_spikes("n")
    net.record_state("n", list(range(spec["n_targets"])), ["V_m", "I_syn_ex", "I_syn_in"])
    return net


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_traces_equal_nest_tsodyks2(connectivity, backend):
    res = simulate(protocol_network(), P["t_sim"], backend=backend, connectivity=connectivity, progress=False)
    for i, ref in DATA["traces"].items():
        steps = np.rint(np.array(ref["t"]) / P["dt"]).astype(int) - 1   # the state at t is after step t/dt - 1
        ids, times = res.spikes("n")
        assert np.allclose(times[ids == int(i)], ref["spikes"], atol=1e-9, rtol=0)
        for var in ("V_m", "I_syn_ex", "I_syn_in"):
            got = res.state("n", var)[2][steps, int(i)]
            assert np.max(np.abs(got - np.array(ref[var]))) < TOL, var
    assert sum(len(r["spikes"]) for r in DATA["traces"].values()) > 0


def test_the_reference_needs_plasticity():
    """Static synapses of the same weights miss NEST's trace by far: the test above can fail."""
    spec = dict(P, projections=[[s, w, d, lbl, None] for s, w, d, lbl, _ in P["projections"]])
    res = simulate(protocol_network(spec), P["t_sim"], backend="cpu", progress=False)
    ref = DATA["traces"]["0"]
    steps = np.rint(np.array(ref["t"]) / P["dt"]).astype(int) - 1
    assert np.max(np.abs(res.state("n", "I_syn_ex")[2][steps, 0] - np.array(ref["I_syn_ex"]))) > 50.0


def tsodyks2_efficacies(times, U, tau_rec, tau_fac, u, x):
    """NEST 3.10's tsodyks2_synapse in plain Python (libm's exp): the efficacy x u of each spike."""
    out, last = [], None
    for t in times:
        if last is not None:
            h = t - last
            x = 1.0 + (x - x * u - 1.0) * math.exp(-h / tau_rec)
            u = U + u * (1.0 - U) * (math.exp(-h / tau_fac) if tau_fac >= 1e-10 else 0.0)
        out.append(x * u)
        last = t
    return out


def test_each_spike_scaled_by_its_efficacy():
    """One source, one target with a delta synapse: each arriving spike moves V by its
    efficacy times the weight (a current of one step would blur it)."""
    times = [2.0, 2.1, 5.0, 9.0, 9.3, 40.0, 41.0, 150.0]
    stp = dict(U=0.2, tau_rec=30.0, tau_fac=80.0, u=0.4, x=0.9)
    net = Network(dt=0.1, ring_bits=64)
    net.add_spike_source("s", 1, np.zeros(len(times), int), times)
    net.add_population("n", 1, "iaf_psc_delta", {"tau_m": 1e12, "V_th": 1e6})   # no leak to speak of, no spike
    net.connect("s", "n", OneToOne(), 2.0, 1.0, stp=TsodyksMarkram(**stp))
    net.record_state("n", [0], ["V_m"])
    res = simulate(net, 160.0, backend="cpu", progress=False)
    v = res.state("n", "V_m")[2][:, 0]
    jumps = np.diff(v)[np.abs(np.diff(v)) > 1e-9]
    want = 2.0 * np.array(tsodyks2_efficacies(times, **stp))
    assert np.allclose(jumps, want, rtol=1e-9, atol=0)


def plastic_network(lists=False):
    """E and I with Poisson drive, facilitating E->E, depressing E->I and I->I, static I->E;
    with lists=True E->I is a FromList. I's short refractory time lets its neurons fire
    more than once within an exchange interval of ranks (1.5 ms, the shortest delay), so that a rank receives
    several spikes of one neuron at once (test_mpi_short_term). Chunks of 128: units for 4 ranks."""
    net = Network(dt=0.1, chunk_size=128)
    net.add_population("E", 400, "iaf_psc_exp", {})
    net.add_population("I", 100, "iaf_psc_exp", {"t_ref": 0.3})
    net.add_poisson_input("E", 2000, 8.0, 87.8, 1.5)
    net.add_poisson_input("I", 1900, 8.0, 87.8, 1.5)
    net.connect("E", "E", FixedIndegree(40), 87.8, 1.5, stp=TsodyksMarkram(U=0.2, tau_rec=100.0, tau_fac=300.0))
    if lists:
        rng = np.random.default_rng(5)
        pre, post = rng.integers(0, 400, 4000), np.repeat(np.arange(100), 40)
        net.connect("E", "I", FromList(pre, post), 87.8, 1.5, stp=TsodyksMarkram(U=0.5, tau_rec=300.0))
    else:
        net.connect("E", "I", FixedIndegree(40), 87.8, 1.5, stp=TsodyksMarkram(U=0.5, tau_rec=300.0))
    net.connect("I", "E", FixedIndegree(10), -351.2, 2.5)
    net.connect("I", "I", FixedIndegree(10), -351.2, 2.5, stp=TsodyksMarkram(U=0.5, tau_rec=300.0))
    net.record_spikes("E")
    net.record_spikes("I")
    return net


@pytest.mark.parametrize("lists", [False, True])
@pytest.mark.parametrize("backend, connectivity", [("cpu", "stored"), ("gpu-emu", "procedural"),
                                                   ("gpu-emu", "stored")])
def test_every_engine_and_mode_gives_the_same_spikes(lists, backend, connectivity):
    ref = simulate(plastic_network(lists), 200.0, seed=3, connectivity="procedural", backend="cpu", progress=False)
    res = simulate(plastic_network(lists), 200.0, seed=3, connectivity=connectivity, backend=backend, progress=False)
    assert ref.spike_gids.size > 1000 and res.backend == backend
    assert np.array_equal(res.spike_gids, ref.spike_gids) and np.array_equal(res.spike_steps, ref.spike_steps)
    assert res.events == ref.events


def test_the_gpu_runs_separate_launches_for_it(monkeypatch):
    """The step loop has no phase for the efficacies: asked for, it is not used for such a model."""
    from distsnn.backends.gpu.emulator import EmulatedDevice
    from distsnn.backends.gpu.simulator import GpuSimulator
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1")
    plan = make_plan(plastic_network(), 3)
    sim = GpuSimulator(plan, "procedural", device=EmulatedDevice(seed=1)).build()
    assert sim.entry_point("deliver_procedural") == "deliver_procedural_stp_r32"
    assert sim.n_groups == 3
    assert sim.step_kernels == ["neuron_update_r32", "stp_efficacies", "deliver_procedural_stp_r32"]
    static = make_plan(plastic_network(), 3)
    static.stp_i, static.proj_stp = static.stp_i[:0], np.full_like(static.proj_stp, -1)
    assert "stp" not in GpuSimulator(static, "procedural", device=EmulatedDevice(seed=1)).entry_point(
        "deliver_procedural")


def test_groups_share_state_by_source_and_parameters():
    plan = make_plan(plastic_network(), 1, bound_inputs=False)
    # E->E, and one group for E->I and I->I each (same parameters, different sources)
    assert plan.stp_i.shape[0] == 3
    # the rule projections in plan order (by target): E->E, I->E (static), E->I, I->I
    assert plan.proj_stp.tolist() == [0, -1, 1, 2]
    assert plan.stp_f.tolist() == [[0.2, 100.0, 300.0, 0.2, 1.0], [0.5, 300.0, 0.0, 0.5, 1.0],
                                   [0.5, 300.0, 0.0, 0.5, 1.0]]   # U, tau_rec, tau_fac, u, x
    assert plan.stp_i[:, 0].tolist() == [0, 0, 1]                  # source populations
    assert np.array_equal(plan.stp_i[:, 2], [400, 400, 100])   # each group's source neurons


def test_depression_lowers_the_rate():
    """Strongly depressing E->E (resources gone after a few spikes) against static E->E."""
    def net(stp):
        n = Network(dt=0.1)
        n.add_population("E", 500, "iaf_psc_exp", {})
        n.add_poisson_input("E", 300, 8.0, 87.8, 1.5)
        n.connect("E", "E", FixedIndegree(100), 40.0, 1.5, stp=stp)
        n.record_spikes("E")
        return n
    static = simulate(net(None), 300.0, backend="cpu", progress=False).mean_rates()["E"]
    depressed = simulate(net(TsodyksMarkram(U=0.9, tau_rec=5000.0)), 300.0, backend="cpu",
                         progress=False).mean_rates()["E"]
    assert static > 2 * depressed > 0


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
@pytest.mark.parametrize("first_on, then_on", [("cpu", "cpu"), ("gpu-emu", "cpu"), ("cpu", "gpu-emu")])
def test_restart_continues_the_run(tmp_path, connectivity, first_on, then_on):
    whole = simulate(plastic_network(), 200.0, seed=4, connectivity=connectivity, backend="cpu", progress=False)
    path = os.path.join(tmp_path, "c")
    first = simulate(plastic_network(), 90.0, seed=4, connectivity=connectivity, backend=first_on, progress=False,
                     checkpoint=path)
    rest = simulate(plastic_network(), 110.0, seed=4, connectivity=connectivity, backend=then_on, progress=False,
                    restart=path)
    after = whole.spike_steps >= first.n_steps
    assert np.array_equal(rest.spike_gids, whole.spike_gids[after])
    assert np.array_equal(rest.spike_steps, whole.spike_steps[after])
    assert rest.spike_gids.size > 100


def test_restart_without_the_state_would_differ(tmp_path):
    """The state is what carries the run over: restarting the same checkpoint with the
    resources refilled (x = 1) and no spike seen gives other spikes. (I's depressing synapses
    sit near their steady state, where the last spike's time alone changes little.)"""
    import h5py
    whole = simulate(plastic_network(), 200.0, seed=4, backend="cpu", progress=False)
    path = os.path.join(tmp_path, "c")
    first = simulate(plastic_network(), 90.0, seed=4, backend="cpu", progress=False, checkpoint=path)
    for name in os.listdir(path):
        if name.endswith(".h5"):
            with h5py.File(os.path.join(path, name), "r+") as f:
                f["stp_last"][...] = -1
                f["stp_x"][...] = 1.0
    rest = simulate(plastic_network(), 110.0, seed=4, backend="cpu", progress=False, restart=path)
    after = whole.spike_steps >= first.n_steps
    assert not np.array_equal(rest.spike_gids, whole.spike_gids[after])


def test_a_checkpoint_of_another_plasticity_is_refused(tmp_path):
    path = os.path.join(tmp_path, "c")
    simulate(plastic_network(), 20.0, seed=4, backend="cpu", progress=False, checkpoint=path)
    other = plastic_network()
    other.projections[0].stp = TsodyksMarkram(U=0.25, tau_rec=100.0, tau_fac=300.0)
    with pytest.raises(ValueError, match="model parameters and connectivity"):
        simulate(other, 20.0, seed=4, backend="cpu", progress=False, restart=path)


@pytest.mark.parametrize("kwargs, message", [
    (dict(U=1.5), "U must be in"), (dict(u=-0.1), "u must be in"), (dict(x=1.2), "x must be in"),
    (dict(tau_rec=0.0), "tau_rec must be > 0"), (dict(tau_fac=-1.0), "tau_fac must be >= 0"),
    (dict(U=float("nan")), "U must be a finite number"), (dict(tau_rec="800"), "tau_rec must be a finite number"),
])
def test_bad_parameters_are_named(kwargs, message):
    net = Network()
    net.add_population("a", 10, "iaf_psc_exp", {})
    with pytest.raises(ValueError, match=f"projection a->a: short-term plasticity {message}"):
        net.connect("a", "a", FixedIndegree(2), 10.0, 1.0, stp=TsodyksMarkram(**kwargs))
    with pytest.raises(ValueError, match="stp must be a TsodyksMarkram"):
        net.connect("a", "a", FixedIndegree(2), 10.0, 1.0, stp={"U": 0.5})


def test_plasticity_from_repeating_spike_sources_is_refused():
    """Two spikes of one neuron in one step are one event with a multiplicity in NEST, whose
    synapse state changes once: refused rather than computed otherwise."""
    net = Network()
    net.add_spike_source("s", 2, [0, 0, 1], [1.0, 1.0, 2.0])
    net.add_population("n", 2, "iaf_psc_exp", {})
    net.connect("s", "n", OneToOne(), 10.0, 1.0, stp=TsodyksMarkram())
    with pytest.raises(ValueError, match="projection s->n: short-term plasticity from a spike source that repeats"):
        make_plan(net, 1)
    net.connect("s", "n", OneToOne(), 10.0, 1.0, label="static")   # a static one alone is fine
    net.projections.pop(0)
    assert make_plan(net, 1).stp_i.shape[0] == 0


def test_edge_files_keep_the_plasticity(tmp_path):
    """synapses() gives each synapse's weight before its efficacy scales it, and the
    projection's plasticity; an edge file keeps both, so a network connected by it gives the
    same spikes."""
    from distsnn.connectivity import synapses
    from distsnn.io.sonata_edges import connect_edges, write_edges
    path = str(tmp_path / "edges.h5")
    sets = synapses(plastic_network(), 6)
    assert [s.stp is not None for s in sets] == [True, True, False, True]
    write_edges(path, sets)

    def by_file():
        net = plastic_network()
        net.projections.clear()
        connect_edges(net, path)
        return net
    again = by_file()
    assert [p.stp for p in again.projections] == [p.stp.validated("") if p.stp else None
                                                  for p in plastic_network().projections]
    a = simulate(plastic_network(), 150.0, seed=6, backend="cpu", progress=False)
    b = simulate(by_file(), 150.0, seed=6, backend="cpu", progress=False)
    assert a.spike_gids.size > 1000
    assert np.array_equal(a.spike_gids, b.spike_gids) and np.array_equal(a.spike_steps, b.spike_steps)
