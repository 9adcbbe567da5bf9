"""`mpiexec -n R distsnn run ...` as a user runs it: same spike file for R = 1..4, and a
failing rank takes the whole job down within seconds."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from distsnn.io import read_spikes
from distsnn.io.sonata import read_metadata

MPIEXEC = shutil.which("mpiexec", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("mpiexec")
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install 'distsnn[mpi]')")
RUN = ["-m", "distsnn", "run", "microcircuit", "--scale", "0.03", "--t-sim", "60", "--no-progress"]


def launch(ranks, args, cwd, env=None, timeout=300):
    cmd = [sys.executable] + RUN + args
    if ranks > 1:
        cmd = [MPIEXEC, "-n", str(ranks)] + cmd
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def same_files(a, b):
    x, y = read_spikes(a), read_spikes(b)
    return sorted(x) == sorted(y) and all(np.array_equal(x[k][0], y[k][0]) and np.array_equal(x[k][1], y[k][1])
                                          for k in x)


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_same_spike_file_for_any_rank_count(tmp_path, connectivity):
    ref = tmp_path / "r1.h5"
    proc = launch(1, ["--connectivity", connectivity, "--output", str(ref)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    one = json.loads((tmp_path / "r1_summary.json").read_text())["memory"]["held_bytes"]
    for ranks in (2, 3, 4):
        out = tmp_path / f"r{ranks}.h5"
        proc = launch(ranks, ["--connectivity", connectivity, "--output", str(out)], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert same_files(ref, out), ranks
        assert f"{ranks} ranks" in proc.stdout and proc.stdout.count("mean rates") == 1   # rank 0 prints once
        assert "[rank 0/" in proc.stdout
        # the largest rank's memory (runtime.memory): its own neurons' buffers, less than one process's
        assert "(largest rank); held (largest rank): input buffers" in proc.stdout
        held = json.loads((tmp_path / f"r{ranks}_summary.json").read_text())["memory"]["held_bytes"]
        assert 0 < held["rings"] < one["rings"] and 0 < held["state"] < one["state"]
        assert 0 < held["counts"] <= one["counts"]


@pytest.mark.parametrize("phase", ["build", "simulate", "write"])
def test_failing_rank_takes_the_job_down(tmp_path, phase):
    good = tmp_path / "kept.h5"
    assert launch(2, ["--output", str(good)], tmp_path).returncode == 0
    before = good.read_bytes()
    t0 = time.monotonic()
    proc = launch(2, ["--output", str(good)], tmp_path, env={"DISTSNN_INJECT_FAULT": f"1:{phase}"}, timeout=120)
    elapsed = time.monotonic() - t0
    assert proc.returncode != 0
    assert f"[rank 1/2] distsnn: error: RuntimeError: injected fault on rank 1 during {phase}" in proc.stderr
    assert elapsed < 60
    assert good.read_bytes() == before               # earlier output untouched and readable
    assert read_spikes(str(good))["L4E"][0].size > 0
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_rewriting_a_virtual_file_keeps_one_parts_folder(tmp_path):
    out = tmp_path / "v.h5"
    for _ in range(2):
        proc = launch(2, ["--output", str(out), "--write-mode", "virtual"], tmp_path)
        assert proc.returncode == 0, proc.stderr
    parts = [p.name for p in tmp_path.iterdir() if p.name.startswith("v.h5.ranks-")]
    assert len(parts) == 1
    assert read_spikes(str(out))["L23I"][0].size > 0


@pytest.mark.parametrize("sampling", [[], ["--record-interval", "0.5", "--record-start", "5", "--record-stop", "50"]])
def test_state_reports_under_mpi_equal_single_process(tmp_path, sampling):
    from distsnn.io import read_report
    outs = {}
    for ranks in (1, 3):
        out = tmp_path / f"v{ranks}.h5"
        proc = launch(ranks, ["--output", str(out), "--record", "3", "--record-from", "V_m,I_syn_ex,I_syn_in"]
                      + sampling, tmp_path)
        assert proc.returncode == 0, proc.stderr
        outs[ranks] = {var: read_report(str(tmp_path / f"v{ranks}_{var}.h5")) for var in ("voltage", "I_syn_ex",
                                                                                         "I_syn_in")}
    for var, one in outs[1].items():
        three = outs[3][var]
        assert sorted(one) == sorted(three) and len(one) == 8
        for pop in one:
            for a, b in zip(one[pop], three[pop]):
                assert np.array_equal(a, b)
    times = outs[3]["voltage"]["L4E"][1]
    assert np.allclose(times, np.arange(11, 101) * 0.5 if sampling else np.arange(1, 601) * 0.1)
    inh = outs[1]["I_syn_in"]        # negative, as NEST reports iaf_psc_exp's
    assert all(np.all(inh[p][2] <= 0) and inh[p][2].min() < 0 for p in inh)


def test_failing_rank_while_checkpointing_keeps_the_previous_checkpoint(tmp_path):
    ck = tmp_path / "ck"
    assert launch(2, ["--t-sim", "30", "--output", str(tmp_path / "a.h5"), "--checkpoint", str(ck)],
                  tmp_path).returncode == 0
    manifest = (ck / "checkpoint.json").read_bytes()
    t0 = time.monotonic()
    proc = launch(2, ["--t-sim", "30", "--output", str(tmp_path / "b.h5"), "--restart", str(ck), "--checkpoint",
                      str(ck)], tmp_path, env={"DISTSNN_INJECT_FAULT": "1:checkpoint"}, timeout=120)
    assert proc.returncode == 1 and time.monotonic() - t0 < 60
    assert "writing the checkpoint" in proc.stderr and "failed on rank 1" in proc.stderr
    assert "injected fault on rank 1 during checkpoint" in proc.stderr
    assert (ck / "checkpoint.json").read_bytes() == manifest   # the old checkpoint stands, parts included
    assert sorted(p.name for p in ck.iterdir() if p.name.startswith("part-")) == [
        p["file"] for p in json.loads(manifest)["parts"]]        # and no half of the new one
    b = read_spikes(str(tmp_path / "b.h5"))                      # the failed run's spikes are kept
    assert sum(t.size for _, t in b.values()) > 0 and min(t.min() for _, t in b.values() if t.size) > 30
    from distsnn.io.sonata import read_metadata
    assert "checkpoint" not in read_metadata(str(tmp_path / "b.h5"))   # no claim of a checkpoint that failed
    # ... and still continues the first run exactly, here on one process
    assert launch(1, ["--t-sim", "60", "--output", str(tmp_path / "whole.h5")], tmp_path).returncode == 0
    proc = launch(1, ["--t-sim", "30", "--output", str(tmp_path / "c.h5"), "--restart", str(ck)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    whole, c = read_spikes(str(tmp_path / "whole.h5")), read_spikes(str(tmp_path / "c.h5"))
    for pop, (ids, t) in whole.items():
        assert np.array_equal(c[pop][0], ids[t > 30]) and np.array_equal(c[pop][1], t[t > 30])


@pytest.mark.parametrize("write_mode", ["virtual", "gather"])
def test_job_killed_on_one_rank_resumes_on_another_rank_count(tmp_path, write_mode):
    """SIGKILL on rank 1 of 2 right after the checkpoint at 20 ms takes the job down; the same
    command on 3 ranks (another partition) finishes it, and the output equals the
    one-process run, recorded state included."""
    from distsnn.io import read_report
    record = ["--record-voltage", "2", "--record-from", "V_m,I_syn_ex"]
    common = record + ["--output", str(tmp_path / "out.h5"), "--checkpoint", str(tmp_path / "ck"),
                       "--checkpoint-every", "10", "--resume", "--write-mode", write_mode]
    assert launch(1, record + ["--output", str(tmp_path / "one.h5")], tmp_path).returncode == 0
    t0 = time.monotonic()
    proc = launch(2, common, tmp_path, env={"DISTSNN_INJECT_FAULT": "1:checkpointed:2:kill"}, timeout=120)
    assert proc.returncode != 0 and time.monotonic() - t0 < 60
    assert json.loads((tmp_path / "ck" / "checkpoint.json").read_text())["step"] == 200
    assert not (tmp_path / "out.h5").exists()
    proc = launch(3, common, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "40 ms (from 20 ms, resumed from" in proc.stdout and "6 segments joined, 0 to 60 ms" in proc.stdout
    assert same_files(tmp_path / "one.h5", tmp_path / "out.h5")
    # every segment's simulate time (of its slowest rank, on 2 ranks and then 3), and their sum
    joined = json.loads((tmp_path / "out_summary.json").read_text())["joined"]
    spent = [seg["simulate_s"] for seg in read_metadata(str(tmp_path / "out.h5"))["segments"]]
    assert len(spent) == 6 and min(spent) > 0 and joined["simulate_s"] == pytest.approx(sum(spent))
    for var in ("voltage", "I_syn_ex"):
        a, b = read_report(str(tmp_path / f"one_{var}.h5")), read_report(str(tmp_path / f"out_{var}.h5"))
        assert sorted(a) == sorted(b) and all(np.array_equal(a[p][2], b[p][2]) for p in a) and len(a) == 8
    # killed after the last checkpoint, writing the output: on 2 ranks, the same command only joins
    # the segments (spikes and both reports) and writes the summary
    for name in ("out.h5", "out_summary.json", "out_voltage.h5", "out_I_syn_ex.h5"):
        (tmp_path / name).unlink()
    proc = launch(2, common, tmp_path)
    assert proc.returncode == 0 and "nothing left to simulate" in proc.stdout, proc.stderr
    assert same_files(tmp_path / "one.h5", tmp_path / "out.h5")
    only = json.loads((tmp_path / "out_summary.json").read_text())
    assert only["nothing_simulated"] and only["joined"] == joined and sorted(only["reports"]) == ["I_syn_ex", "V_m"]
    for var in ("voltage", "I_syn_ex"):
        a, b = read_report(str(tmp_path / f"one_{var}.h5")), read_report(str(tmp_path / f"out_{var}.h5"))
        assert sorted(a) == sorted(b) and all(np.allclose(a[p][1], b[p][1], rtol=0, atol=1e-9) for p in a)
