"""Checkpoint and restart: a run stopped at step s and restarted from its checkpoint gives
exactly the spikes, voltages and synaptic events of a run that never stopped, whatever the
backend or connectivity mode of either half; bad or foreign checkpoints are refused clearly."""
import json
import os

import h5py
import numpy as np
import pytest

from distsnn.io.checkpoint import MANIFEST, load_manifest
from distsnn.model import FixedIndegree, FixedOutdegree, FixedProbability, FixedTotalNumber, Network, Normal
from distsnn.runtime import simulate

T_ALL = 160.0     # ms
T_CUT = 63.7      # ms: not a multiple of the driver's block, nor of any delay


def restart_network(ring_bits="auto", window=(40.0, 100.0)):
    """All five neuron models, a spike source firing on both sides of the cut, Poisson input
    whose delay reaches back across it, a DC window and a Poisson stimulus window open at
    the cut, delays up to 4.5 ms."""
    net = Network(dt=0.1, chunk_size=64, ring_bits=ring_bits)
    net.add_population("E", 300, v_init=Normal(-60.0, 5.0))
    net.add_population("I", 80)
    net.add_population("C", 70, "iaf_cond_exp", {"I_e": 100.0}, v_init=Normal(-65.0, 3.0))
    net.connect("E", "E", FixedTotalNumber(12000), Normal(40.0, 4.0), Normal(1.5, 0.7))
    net.connect("E", "I", FixedProbability(0.15), 60.0, 1.0)
    net.connect("I", "E", FixedOutdegree(50), Normal(-70.0, 7.0), Normal(2.0, 1.0))
    net.connect("E", "C", FixedProbability(0.1), 2.0, 4.5)
    net.connect("I", "C", FixedProbability(0.1), -3.0, 0.8)
    net.add_population("D", 60, "iaf_psc_delta", {"t_ref": 1.0}, v_init=Normal(-60.0, 4.0))
    net.connect("E", "D", FixedIndegree(20), 1.5, 2.7)
    net.connect("D", "I", FixedTotalNumber(900), 30.0, 1.1)
    net.add_poisson_input("D", indegree=500, rate=4.0, weight=0.5, delay=1.0)
    net.add_population("A", 50, "iaf_psc_alpha", {"tau_syn_ex": 1.0, "tau_syn_in": 3.0}, v_init=Normal(-62.0, 4.0))
    net.connect("E", "A", FixedIndegree(15), Normal(50.0, 5.0), 1.7)
    net.connect("I", "A", FixedProbability(0.2), -4.0, 0.9)
    net.connect("A", "E", FixedTotalNumber(600), 40.0, 1.3)
    net.add_population("G", 40, "iaf_cond_alpha", {"tau_syn_ex": 0.6, "tau_syn_in": 2.5, "I_e": 250.0},
                       v_init=Normal(-62.0, 3.0))
    net.connect("E", "G", FixedIndegree(12), Normal(3.0, 0.3), 1.2)
    net.connect("I", "G", FixedProbability(0.05), -1.0, 0.9)     # NEST's sign: an inhibitory conductance
    net.connect("G", "I", FixedTotalNumber(400), 30.0, 1.4)
    # w and the solver's step size carry over: a restart continues them exactly
    net.add_population("W", 40, "aeif_cond_exp", {"I_e": 800.0, "t_ref": 1.0, "tau_syn_ex": 0.5},
                       v_init=Normal(-62.0, 3.0))
    net.connect("E", "W", FixedIndegree(10), Normal(2.0, 0.2), 1.1)
    net.connect("I", "W", FixedProbability(0.1), -2.0, 0.8)
    net.connect("W", "E", FixedTotalNumber(300), 30.0, 1.2)
    net.add_population("Q", 30, "aeif_psc_delta", {"I_e": 650.0, "t_ref": 1.0}, v_init=Normal(-62.0, 3.0))
    net.connect("E", "Q", FixedIndegree(10), 1.0, 1.1)
    net.connect("Q", "I", FixedTotalNumber(200), 30.0, 1.3)
    rng = np.random.default_rng(4)
    net.add_spike_source("S", 40, rng.integers(0, 40, 600), rng.uniform(0.1, T_ALL, 600))
    net.connect("S", "E", FixedProbability(0.2), 90.0, 2.3)
    net.add_pulse_packet_source("K", 20, [30.0, 65.0], 4, 3.0)   # a packet straddles the cut at 63.7 ms
    net.connect("K", "E", FixedProbability(0.2), 60.0, 1.2)
    net.add_poisson_input("E", indegree=900, rate=18.0, weight=45.0, delay=3.3)
    net.add_poisson_input("I", indegree=900, rate=9.0, weight=45.0, delay=1.5)
    net.add_dc_input("I", 120.0, start=40.0, stop=90.0)
    # intervals of 0.7 ms counted from t = 0: the cut at 63.7 ms falls inside one
    net.add_noise_input("A", mean=10.0, std=90.0, dt=0.7)
    net.add_poisson_input("C", indegree=300, rate=30.0, weight=3.0, delay=2.0, start=window[0], stop=window[1])
    for name in ("E", "I", "C", "D", "A", "G", "W", "Q", "S", "K"):
        net.record_spikes(name)
    net.record_voltage("E", [0, 299])
    net.record_voltage("C", [3])
    net.record_voltage("D", [0, 59])
    net.record_state("A", [7], ["V_m", "I_syn_in"])
    net.record_state("W", [2], ["V_m", "w", "g_ex"])   # w carries over too
    net.record_state("Q", [0], ["V_m", "w"])
    return net


@pytest.fixture(scope="module")
def whole():
    return simulate(restart_network(), T_ALL, seed=21, progress=False)


@pytest.fixture(scope="module")
def first_half(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "cut"
    res = simulate(restart_network(), T_CUT, seed=21, progress=False, checkpoint=str(path))
    return res, str(path)


def assert_continues(res, whole, first):
    """res (started from first's checkpoint) plus first equal `whole`, exactly."""
    cut = first.n_steps
    assert res.first_step == cut and res.t_start == pytest.approx(T_CUT) and res.t_stop == pytest.approx(T_ALL)
    after = whole.spike_steps >= cut
    assert after.any() and (~after).any()
    assert np.array_equal(first.spike_steps, whole.spike_steps[~after])
    assert np.array_equal(first.spike_gids, whole.spike_gids[~after])
    assert np.array_equal(res.spike_steps, whole.spike_steps[after])
    assert np.array_equal(res.spike_gids, whole.spike_gids[after])
    assert np.array_equal(res.vrec_gids, whole.vrec_gids) and np.array_equal(res.vrec_var, whole.vrec_var)
    assert np.array_equal(res.vrec, whole.vrec[cut:])
    assert first.events + res.events == whole.events


def test_network_is_active_on_both_sides(whole):
    cut = int(round(T_CUT / 0.1))
    for name in ("E", "I", "C", "D", "A", "G", "S"):
        _, t = whole.spikes(name)
        assert (t <= T_CUT).sum() > 10 and (t > T_CUT).sum() > 10, name
    assert whole.plan.ring_bits == 32 and whole.n_steps > cut


@pytest.mark.parametrize("backend,connectivity", [("cpu", "procedural"), ("cpu", "stored"),
                                                  ("gpu-emu", "procedural"), ("gpu-emu", "stored")])
def test_restart_continues_the_run(whole, first_half, backend, connectivity):
    first, path = first_half
    res = simulate(restart_network(), T_ALL - T_CUT, seed=21, progress=False, restart=path, backend=backend,
                   connectivity=connectivity)
    assert_continues(res, whole, first)
    assert res.checkpoint["restart"]["step"] == first.n_steps
    # the rates of the second half are those of the whole run after the cut
    assert res.mean_rates() == whole.mean_rates(T_CUT)


def test_checkpoint_written_on_the_emulated_gpu_restarts_on_the_cpu(whole, tmp_path):
    first = simulate(restart_network(), T_CUT, seed=21, progress=False, backend="gpu-emu", connectivity="stored",
                     checkpoint=str(tmp_path / "c"))
    res = simulate(restart_network(), T_ALL - T_CUT, seed=21, progress=False, restart=str(tmp_path / "c"))
    assert_continues(res, whole, first)


def test_int64_rings_and_a_chain_of_three_segments(tmp_path):
    whole = simulate(restart_network(64), T_ALL, seed=5, progress=False)
    a = simulate(restart_network(64), 30.0, seed=5, progress=False, checkpoint=str(tmp_path / "c"))
    b = simulate(restart_network(64), 50.0, seed=5, progress=False, restart=str(tmp_path / "c"),
                 checkpoint=str(tmp_path / "c"))   # read, then replaced in place
    c = simulate(restart_network(64), T_ALL - 80.0, seed=5, progress=False, restart=str(tmp_path / "c"))
    assert c.plan.ring_bits == 64 and c.first_step == 800
    assert np.array_equal(np.concatenate([a.spike_steps, b.spike_steps, c.spike_steps]), whole.spike_steps)
    assert np.array_equal(np.concatenate([a.spike_gids, b.spike_gids, c.spike_gids]), whole.spike_gids)
    assert np.array_equal(np.concatenate([a.vrec, b.vrec, c.vrec]), whole.vrec)
    # one manifest, the parts of the last checkpoint only
    assert sorted(os.listdir(tmp_path / "c")) == sorted([MANIFEST] + [p["file"] for p in load_manifest(
        str(tmp_path / "c"))["parts"]])


def test_checkpoint_layout(first_half):
    res, path = first_half
    man = load_manifest(path)
    assert man["step"] == res.n_steps and man["t_ms"] == pytest.approx(T_CUT)
    assert man["n_neurons"] == res.plan.n_neurons == sum(p["n_neurons"] for p in man["parts"])
    with h5py.File(os.path.join(path, man["parts"][0]["file"]), "r") as f:
        assert np.array_equal(f["gids"][()], np.arange(res.plan.n_neurons))
        assert f["ring"].shape == (res.plan.n_neurons, 2, res.plan.ring_len) and f["ring"].dtype == np.int32
        # the last recorded V (relative to E_L in the file) is the checkpoint's V
        v = f["v"][()]
    e_l = res.plan.network.populations["E"].params["E_L"]
    assert np.array_equal(v[res.vrec_gids[:2]] + e_l, res.vrec[-1, :2])


def test_checkpoint_written_before_alpha_neurons_restarts(tmp_path):
    """Checkpoints written before iaf_psc_alpha have no dj_ex / dj_in: they restart, with 0
    (their models have no alpha neurons), and continue exactly."""
    def net():
        n = Network(dt=0.1, chunk_size=64)
        n.add_population("E", 200, v_init=Normal(-60.0, 5.0))
        n.connect("E", "E", FixedIndegree(30), 45.0, 1.2)
        n.add_poisson_input("E", indegree=900, rate=18.0, weight=45.0, delay=1.0)
        n.record_spikes("E")
        return n
    whole = simulate(net(), 80.0, seed=3, progress=False)
    first = simulate(net(), 30.0, seed=3, progress=False, checkpoint=str(tmp_path / "c"))
    for p in load_manifest(str(tmp_path / "c"))["parts"]:
        with h5py.File(tmp_path / "c" / p["file"], "a") as f:
            assert not f["dj_ex"][()].any()
            del f["dj_ex"], f["dj_in"]
    rest = simulate(net(), 50.0, seed=3, progress=False, restart=str(tmp_path / "c"))
    after = whole.spike_steps >= first.n_steps
    assert after.sum() > 100 and rest.first_step == first.n_steps
    assert np.array_equal(rest.spike_steps, whole.spike_steps[after])
    assert np.array_equal(rest.spike_gids, whole.spike_gids[after])


def _rewrite_manifest(path, change):
    file = os.path.join(path, MANIFEST)
    with open(file) as fh:
        man = json.load(fh)
    change(man)
    with open(file, "w") as fh:
        json.dump(man, fh)


def test_a_foreign_checkpoint_is_refused_with_the_reason(first_half):
    _, path = first_half
    with pytest.raises(ValueError, match=r"different model.*seed: 21 in the checkpoint, 22 here"):
        simulate(restart_network(), 10.0, seed=22, progress=False, restart=path)
    other = restart_network()
    other.connect("C", "C", FixedProbability(0.1), 1.0, 1.0)
    with pytest.raises(ValueError, match="model parameters and connectivity"):
        simulate(other, 10.0, seed=21, progress=False, restart=path)
    with pytest.raises(ValueError, match="model parameters and connectivity"):
        simulate(restart_network(window=(40.0, 101.0)), 10.0, seed=21, progress=False, restart=path)
    with pytest.raises(ValueError, match=r"ring-buffer width \(bits\): 32 in the checkpoint, 64 here"):
        simulate(restart_network(64), 10.0, seed=21, progress=False, restart=path)


def test_incomplete_or_damaged_checkpoints_are_refused(first_half, tmp_path):
    _, path = first_half
    with pytest.raises(ValueError, match="does not exist"):
        simulate(restart_network(), 10.0, seed=21, progress=False, restart=str(tmp_path / "none"))
    (tmp_path / "spikes.h5").write_text("a file given for the checkpoint directory")
    with pytest.raises(ValueError, match=r"'.*spikes.h5' is not a directory \(expected a directory written by"):
        simulate(restart_network(), 10.0, seed=21, progress=False, restart=str(tmp_path / "spikes.h5"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a complete checkpoint"):
        simulate(restart_network(), 10.0, seed=21, progress=False, restart=str(tmp_path / "empty"))
    import shutil
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    _rewrite_manifest(copy, lambda m: m.update(version=99))
    with pytest.raises(ValueError, match="format version 99"):
        simulate(restart_network(), 10.0, seed=21, progress=False, restart=str(copy))
    _rewrite_manifest(copy, lambda m: m.update(version=1))
    for p in load_manifest(str(copy))["parts"]:
        os.remove(copy / p["file"])
    with pytest.raises(ValueError, match="incomplete: part .* is missing"):
        simulate(restart_network(), 10.0, seed=21, progress=False, restart=str(copy))


# under MPI (run_tests.sh: 2 and 4 ranks) --------------------------------------------------
@pytest.fixture
def shared_dir(tmp_path):
    """rank 0's tmp_path, on every rank."""
    from mpi4py import MPI
    return MPI.COMM_WORLD.bcast(str(tmp_path), root=0)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_checkpoint_of_many_ranks_restarts_on_one_and_on_another_partition(whole, shared_dir, connectivity):
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    path = os.path.join(shared_dir, "c")
    first = simulate(restart_network(), T_CUT, seed=21, progress=False, comm=comm, connectivity=connectivity,
                     checkpoint=path)
    man = load_manifest(path)
    assert man["written_by"]["ranks"] == comm.Get_size() == len(man["parts"])
    g, s = first.all_spikes()
    first = type("First", (), {"spike_gids": g, "spike_steps": s, "n_steps": first.n_steps,
                               "events": first.events})
    # one process reads every rank's part
    res = simulate(restart_network(), T_ALL - T_CUT, seed=21, progress=False, restart=path)
    assert_continues(res, whole, first)
    # the ranks again, split differently
    res = simulate(restart_network(), T_ALL - T_CUT, seed=21, progress=False, comm=comm, partition="split",
                   restart=path)
    g, s = res.all_spikes()
    after = whole.spike_steps >= first.n_steps
    assert np.array_equal(g, whole.spike_gids[after]) and np.array_equal(s, whole.spike_steps[after])
    assert first.events + res.events == whole.events


@pytest.mark.mpi(min_size=2)
def test_checkpoint_of_one_process_restarts_on_many_ranks(whole, first_half, shared_dir):
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    path = os.path.join(shared_dir, "one")
    if comm.Get_rank() == 0:
        simulate(restart_network(), T_CUT, seed=21, progress=False, checkpoint=path)
    comm.Barrier()
    res = simulate(restart_network(), T_ALL - T_CUT, seed=21, progress=False, comm=comm, restart=path,
                   exchange="alltoallv")
    g, s = res.all_spikes()
    after = whole.spike_steps >= first_half[0].n_steps
    assert np.array_equal(g, whole.spike_gids[after]) and np.array_equal(s, whole.spike_steps[after])
    assert res.mean_rates() == whole.mean_rates(T_CUT)
    # voltages, on whichever rank owns each recorded neuron
    got = dict(zip(zip(res.vrec_var.tolist(), res.vrec_gids.tolist()), res.vrec.T))
    for probe, trace in zip(zip(whole.vrec_var.tolist(), whole.vrec_gids.tolist()), whole.vrec.T):
        if probe in got:
            assert np.array_equal(got[probe], trace[first_half[0].n_steps:])


def test_unusable_checkpoint_targets_are_refused_before_simulating(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "keep.txt").write_text("mine")
    for target, text in (("file", "exists and is not a directory"), ("results", "other files in it"),
                         ("file/ck", "file is a file, not a directory")):
        with pytest.raises(ValueError, match=text):
            simulate(restart_network(), 10.0, seed=21, progress=False, checkpoint=str(tmp_path / target))
    assert (tmp_path / "results" / "keep.txt").read_text() == "mine"


def test_a_failed_checkpoint_keeps_the_old_one_and_the_results(whole, tmp_path, monkeypatch):
    path = str(tmp_path / "c")
    first = simulate(restart_network(), T_CUT, seed=21, progress=False, checkpoint=path)
    manifest = open(os.path.join(path, MANIFEST)).read()
    monkeypatch.setenv("DISTSNN_INJECT_FAULT", "0:checkpoint")     # fails with its part written
    res = simulate(restart_network(), 20.0, seed=21, progress=False, restart=path, checkpoint=path)
    assert "failed" in res.checkpoint["error"] and "injected fault" in res.checkpoint["error"]
    assert "written" not in res.checkpoint
    after = (whole.spike_steps >= first.n_steps) & (whole.spike_steps < first.n_steps + 200)
    assert np.array_equal(res.spike_gids, whole.spike_gids[after])   # the run itself is complete
    assert open(os.path.join(path, MANIFEST)).read() == manifest
    assert sorted(os.listdir(path)) == sorted([MANIFEST] + [p["file"] for p in json.loads(manifest)["parts"]])
    monkeypatch.delenv("DISTSNN_INJECT_FAULT")
    res = simulate(restart_network(), T_ALL - T_CUT, seed=21, progress=False, restart=path)
    assert_continues(res, whole, first)
