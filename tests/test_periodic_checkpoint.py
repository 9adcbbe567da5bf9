"""Checkpoints during a run (simulate(checkpoint_every=...)) and the spike segments written
beside them (io.segments): the run is unchanged by them, every checkpoint on the way
restarts exactly, and the segments hold the spikes and voltages of the run up to it."""
import json
import os
import shutil

import h5py
import numpy as np
import pytest

from distsnn.io.checkpoint import MANIFEST, check_target, load_manifest, segment_files
from distsnn.io import segments as seg
from distsnn.io.segments import SegmentWriter, join_reports, join_spike_files, resumable
from distsnn.io.sonata import read_metadata, read_report, read_spikes, write_report, write_spikes
from distsnn.runtime import simulate
from test_checkpoint import T_ALL, T_CUT, restart_network

EVERY = 40.0    # ms


@pytest.fixture(scope="module")
def whole():
    return simulate(restart_network(), T_ALL, seed=21, progress=False)


class Recorder:
    """on_checkpoint hook: keeps every window, and a copy of the checkpoint directory as it is
    when the hook runs (holding the checkpoint of the previous window)."""

    def __init__(self, path, snapshots):
        self.path, self.snapshots, self.windows = path, snapshots, []

    def __call__(self, window):
        self.windows.append(window)
        if os.path.exists(os.path.join(self.path, MANIFEST)):
            step = load_manifest(self.path)["step"]
            shutil.copytree(self.path, os.path.join(self.snapshots, str(step)))
        return {"windows_so_far": len(self.windows)}


@pytest.fixture(scope="module")
def periodic(tmp_path_factory):
    base = tmp_path_factory.mktemp("periodic")
    rec = Recorder(str(base / "ck"), str(base / "snap"))
    res = simulate(restart_network(), T_ALL, seed=21, progress=False, checkpoint=rec.path, checkpoint_every=EVERY,
                   on_checkpoint=rec)
    return res, rec


def test_periodic_checkpoints_leave_the_run_unchanged(whole, periodic):
    res, rec = periodic
    assert np.array_equal(res.spike_gids, whole.spike_gids) and np.array_equal(res.spike_steps, whole.spike_steps)
    assert np.array_equal(res.vrec, whole.vrec) and res.events == whole.events
    assert set(res.timers.as_dict()) >= {"simulate", "checkpoint", "write"}   # hook time is 'write', not 'simulate'
    man = load_manifest(rec.path)
    assert man["step"] == whole.n_steps and res.checkpoint["written"]["step"] == whole.n_steps
    assert man["metadata"]["windows_so_far"] == 4 and "error" not in res.checkpoint


def test_windows_cover_the_run(whole, periodic):
    _, rec = periodic
    w = rec.windows
    assert [(x.first_step, x.n_steps) for x in w] == [(0, 400), (400, 400), (800, 400), (1200, 400)]
    assert np.array_equal(np.concatenate([x.spike_gids for x in w]), whole.spike_gids)
    assert np.array_equal(np.concatenate([x.spike_steps for x in w]), whole.spike_steps)
    assert all(x.spike_steps.size and x.spike_steps.min() >= x.first_step
               and x.spike_steps.max() < x.first_step + x.n_steps for x in w)
    assert np.array_equal(np.concatenate([x.vrec for x in w]), whole.vrec)   # in mV, E_L added
    assert sum(x.events for x in w) == whole.events and all(x.events > 0 for x in w)


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_every_checkpoint_on_the_way_restarts_exactly(whole, periodic, backend):
    _, rec = periodic
    assert sorted(os.listdir(rec.snapshots), key=int) == ["400", "800", "1200"]
    for step in (400, 1200):
        res = simulate(restart_network(), T_ALL - step * 0.1, seed=21, progress=False, backend=backend,
                       restart=os.path.join(rec.snapshots, str(step)))
        after = whole.spike_steps >= step
        assert res.first_step == step
        assert np.array_equal(res.spike_steps, whole.spike_steps[after])
        assert np.array_equal(res.spike_gids, whole.spike_gids[after])
        assert np.array_equal(res.vrec, whole.vrec[step:])


def test_checkpoint_times_are_absolute_after_a_restart(whole, tmp_path):
    """A run restarted at 63.7 ms checkpoints at 80, 120 and 160 ms: the multiples of EVERY."""
    simulate(restart_network(), T_CUT, seed=21, progress=False, checkpoint=str(tmp_path / "a"))
    rec = Recorder(str(tmp_path / "b"), str(tmp_path / "snap"))
    res = simulate(restart_network(), T_ALL - T_CUT, seed=21, progress=False, restart=str(tmp_path / "a"),
                   checkpoint=rec.path, checkpoint_every=EVERY, on_checkpoint=rec)
    assert [(x.first_step, x.n_steps) for x in rec.windows] == [(637, 163), (800, 400), (1200, 400)]
    assert np.array_equal(res.spike_steps, whole.spike_steps[whole.spike_steps >= 637])


def test_a_failed_checkpoint_does_not_stop_the_run(whole, tmp_path, monkeypatch):
    # the second checkpoint fails on its part: it is reported, the run goes on, the next ones are written
    monkeypatch.setenv("DISTSNN_INJECT_FAULT", "0:checkpoint:2")
    res = simulate(restart_network(), T_ALL, seed=21, progress=False, checkpoint=str(tmp_path / "c"),
                   checkpoint_every=EVERY)
    assert np.array_equal(res.spike_steps, whole.spike_steps) and np.array_equal(res.vrec, whole.vrec)
    assert "injected fault on rank 0 during checkpoint" in res.checkpoint["error"]
    assert res.checkpoint["written"]["step"] == whole.n_steps
    man = load_manifest(str(tmp_path / "c"))
    assert sorted(os.listdir(tmp_path / "c")) == sorted([MANIFEST] + [p["file"] for p in man["parts"]])


def test_run_options_are_checked():
    """The length (whole steps), the periodic checkpoints and the distributed options: ValueErrors
    that name them, before anything is built."""
    net = restart_network()
    for bad, text in ((10.05, r"t_sim = 10.05 ms is not a whole number of time steps \(dt = 0.1 ms\)"),
                      (0.04, "t_sim = 0.04 ms is not a whole"), (0.0, "t_sim must be a positive number of ms")):
        with pytest.raises(ValueError, match=text):
            simulate(net, bad, progress=False)
    assert simulate(net, np.int64(2), progress=False).n_steps == 20   # NumPy's numbers are numbers
    # the options of distributed runs are checked on one process too: the call must work under mpiexec
    for bad, text in (({"partition": "areaz"}, r"partition strategy must be one of \('populations', 'areas'"),
                      ({"exchange": "bcast"}, r"exchange must be one of \('allgatherv', 'alltoallv'\), got 'bcast'"),
                      ({"connectivity": "csr"}, r"connectivity must be one of \('procedural', 'stored'\)")):
        with pytest.raises(ValueError, match=text):
            simulate(net, 1.0, progress=False, **bad)
    with pytest.raises(ValueError, match="need a checkpoint directory"):
        simulate(net, 10.0, checkpoint_every=5.0, progress=False)
    for bad, text in ((0.05, "not a whole number of time steps"), (-1.0, "positive number of ms"),
                      (True, "positive number of ms")):
        with pytest.raises(ValueError, match=text):
            simulate(net, 10.0, checkpoint="unused", checkpoint_every=bad, progress=False)


def join_and_compare(writer, whole, tmp_path):
    """Join the writer's segments into all.h5, all_v.h5 and all_w.h5 and check that they hold
    the spikes, voltages and w of the run kept in memory; returns the voltage report's times (ms)."""
    join_spike_files(writer.paths(), str(tmp_path / "all.h5"))
    assert writer.variables() == ["V_m", "I_syn_in", "w", "g_ex"]
    join_reports(writer.paths("V_m"), str(tmp_path / "all_v.h5"))
    join_reports(writer.paths("w"), str(tmp_path / "all_w.h5"))
    spikes = read_spikes(str(tmp_path / "all.h5"))
    for name in ("E", "I", "C", "S"):
        ids, t = whole.spikes(name)
        assert np.array_equal(spikes[name][0], ids) and np.array_equal(spikes[name][1], t)
    _, times, data = read_report(str(tmp_path / "all_v.h5"))["E"]
    assert np.array_equal(data, whole.state("E", "V_m")[2])
    ids, w_times, w = read_report(str(tmp_path / "all_w.h5"))["W"]
    assert np.array_equal(w, whole.state("W", "w")[2]) and ids.tolist() == [2] and np.array_equal(w_times, times)
    with h5py.File(tmp_path / "all_w.h5", "r") as f:
        assert dict(f["report/W/data"].attrs) == {"units": "pA", "variable": "w"}
    return times


def test_segment_writer_files_and_resumable(whole, tmp_path):
    path = str(tmp_path / "ck")
    writer = SegmentWriter(path, metadata={"model": "test", "seed": 21, "scale": 1.0})
    simulate(restart_network(), T_ALL, seed=21, progress=False, checkpoint=path, checkpoint_every=EVERY,
             on_checkpoint=writer)
    man, segments = resumable(path)
    assert segments == man["metadata"]["segments"] == writer.segments and len(segments) == 4
    assert sorted(os.listdir(path)) == sorted([MANIFEST] + [p["file"] for p in man["parts"]]
                                              + [f for s in segments for f in segment_files(s).values()])
    assert all(len(segment_files(s)) == 5 for s in segments)   # spikes and 4 variables
    meta = read_metadata(writer.paths()[1])
    assert (meta["t_start"], meta["t_stop"], meta["model"]) == (40.0, 80.0, "test")
    times = join_and_compare(writer, whole, tmp_path)
    assert times.size == whole.n_steps
    assert times[0] == pytest.approx(0.1) and times[-1] == pytest.approx(T_ALL)
    assert sum(read_metadata(p)["synaptic_events"] for p in writer.paths()) == whole.events
    assert read_metadata(str(tmp_path / "all.h5"))["synaptic_events"] == whole.events

    # what resumable() refuses, and why
    os.remove(os.path.join(path, segments[2]["reports"]["w"]))
    with pytest.raises(ValueError, match="lists the segment state-w-0000000800-0000001200-.*which is missing"):
        resumable(path)
    m = json.load(open(os.path.join(path, MANIFEST)))
    del m["metadata"]["segments"][2]
    json.dump(m, open(os.path.join(path, MANIFEST), "w"))
    with pytest.raises(ValueError, match="leave a gap: spikes-0000000400-0000000800-.* ends at step 800, "
                                         "spikes-0000001200-0000001600-.* starts at step 1200"):
        resumable(path)
    del m["metadata"]["segments"]
    json.dump(m, open(os.path.join(path, MANIFEST), "w"))
    with pytest.raises(ValueError, match="holds no spike segments .* with --restart instead"):
        resumable(path)
    assert resumable(str(tmp_path / "new")) is None


def test_without_keeping_the_recordings_the_files_hold_the_run(whole, tmp_path, monkeypatch):
    """keep_recorded=False: each window goes to the segment files only, so memory does not grow
    with the run; joined, they equal the run kept in memory, and the rates computed from them
    equal RunResult.mean_rates for any start, inside a segment or on its edge."""
    path = str(tmp_path / "ck")
    writer = SegmentWriter(path, metadata={"model": "test", "seed": 21, "scale": 1.0})
    res = simulate(restart_network(), T_ALL, seed=21, progress=False, checkpoint=path, checkpoint_every=EVERY,
                   on_checkpoint=writer, keep_recorded=False)
    assert not res.kept and res.spike_gids.size == res.spike_steps.size == 0
    assert res.vrec.shape == (0, whole.vrec.shape[1]) and res.events == whole.events
    with pytest.raises(ValueError, match="kept no spikes"):
        res.mean_rates()
    monkeypatch.setattr(seg, "BLOCK", 3)    # small blocks: the bisection and the block copies run
    join_and_compare(writer, whole, tmp_path)
    recorded = {name: whole.recorded_count(name) for name in whole.plan.pop_names}
    for t_from in (0.0, 40.0, 63.7, 150.05):
        assert seg.mean_rates(writer.paths(), recorded, t_from, T_ALL) == whole.mean_rates(t_from)
    for t_from in (0.0, 40.0, 63.7, 150.05, T_ALL):
        counts = seg.spike_counts(writer.paths(), t_from)
        assert counts == {n: int(np.sum(whole.spikes(n)[1] > t_from)) for n in whole.plan.pop_names}
    assert sum(seg.spike_counts([str(tmp_path / "all.h5")], 63.7).values()) == np.sum(whole.spike_steps >= 637)
    with pytest.raises(ValueError, match="keep_recorded=False needs an on_checkpoint hook"):
        simulate(restart_network(), 10.0, progress=False, checkpoint=str(tmp_path / "x"), keep_recorded=False)


def test_an_interrupted_first_checkpoint_may_be_replaced(tmp_path):
    """A job killed before its first manifest leaves a part and a segment: the directory is
    still a valid target; a folder with anything else is not."""
    d = tmp_path / "ck"
    d.mkdir()
    (d / "part-1-r0.h5.tmp").write_bytes(b"")
    (d / "spikes-0000000000-0000000400-x.h5").write_bytes(b"")
    (d / ".distsnn-probe-x").write_bytes(b"")    # another rank probing the directory at this moment
    check_target(str(d))
    (d / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"other files in it \(notes.txt"):
        check_target(str(d))


def test_voltage_reports_of_other_neurons_do_not_join(tmp_path):
    a = simulate(restart_network(), 10.0, seed=1, progress=False, checkpoint=str(tmp_path / "ck"))
    net = restart_network()
    net.record_voltage("E", [5])
    b = simulate(net, 10.0, seed=1, progress=False, restart=str(tmp_path / "ck"))   # continues a
    write_report(str(tmp_path / "a.h5"), a, "V_m")
    write_report(str(tmp_path / "b.h5"), b, "V_m")
    with pytest.raises(ValueError, match="the recorded neurons of E differ"):
        join_reports([str(tmp_path / "a.h5"), str(tmp_path / "b.h5")], str(tmp_path / "ab.h5"))
    assert not (tmp_path / "ab.h5").exists()


def test_segments_of_another_seed_do_not_join(tmp_path):
    """A file that follows in time but comes from a run with another seed is refused, its
    value shown as written (2, not np.int64(2))."""
    a = simulate(restart_network(), 10.0, seed=1, progress=False)
    simulate(restart_network(), 10.0, seed=2, progress=False, checkpoint=str(tmp_path / "ck2"))
    d = simulate(restart_network(), 10.0, seed=2, progress=False, restart=str(tmp_path / "ck2"))   # 10 to 20 ms
    write_spikes(str(tmp_path / "a.h5"), a, {"seed": 1})
    write_spikes(str(tmp_path / "d.h5"), d, {"seed": 2})
    with pytest.raises(ValueError, match=r"d.h5: seed is 2, in .*a.h5 1: not segments of one run$"):
        join_spike_files([str(tmp_path / "a.h5"), str(tmp_path / "d.h5")], str(tmp_path / "ad.h5"))
    assert not (tmp_path / "ad.h5").exists()


def test_a_segment_that_cannot_be_opened_leaves_the_others_closed(tmp_path):
    """Joining stops at an unreadable segment with its error, leaves no output, and closes
    the segments it had opened (they can be opened for writing again at once)."""
    a = simulate(restart_network(), 10.0, seed=1, progress=False)
    write_report(str(tmp_path / "a.h5"), a, "V_m")
    (tmp_path / "broken.h5").write_bytes(b"not an HDF5 file")
    with pytest.raises(ValueError, match="broken.h5: cannot be read as HDF5"):
        join_reports([str(tmp_path / "a.h5"), str(tmp_path / "broken.h5")], str(tmp_path / "ab.h5"))
    assert not (tmp_path / "ab.h5").exists()
    with h5py.File(tmp_path / "a.h5", "r+") as f:    # refused while a read-only handle is open
        assert "report" in f


def test_segments_listed_before_other_variables_could_be_recorded_still_resolve():
    """A manifest's segment of an earlier version names its V_m report 'voltage'."""
    assert segment_files({"spikes": "s.h5", "voltage": "v.h5"}) == {"spikes": "s.h5", "V_m": "v.h5"}
    assert segment_files({"spikes": "s.h5", "voltage": None}) == {"spikes": "s.h5"}
    assert segment_files({"spikes": "s.h5", "reports": {"w": "w.h5"}}) == {"spikes": "s.h5", "w": "w.h5"}
