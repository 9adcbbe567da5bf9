"""The batch script on a real SLURM cluster (CI starts a one-node cluster on localhost)."""
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from distsnn.io import read_spikes
from distsnn.io.sonata import read_metadata

REPO = pathlib.Path(__file__).resolve().parents[1]


def cluster_up():
    if not shutil.which("sbatch") or not shutil.which("sinfo"):
        return False
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and any(s in out.stdout for s in ("idle", "mix", "alloc"))


needs_cluster = pytest.mark.skipif(not cluster_up(), reason="no running SLURM cluster (CI starts one)")


@needs_cluster
@pytest.mark.parametrize("backend", [[], ["--backend", "gpu-emu", "--share-gpus"]], ids=["default", "gpu-emu"])
def test_sbatch_srun_gives_the_single_process_spikes(tmp_path, backend):
    """The default backend, and the GPU backend (emulated device, ranks binding devices by
    their node-local rank under srun) give the single-process CPU spikes."""
    args = ["--scale", "0.03", "--t-sim", "60", "--no-progress"]
    ref = tmp_path / "ref.h5"
    subprocess.run([sys.executable, "-m", "distsnn", "run", "microcircuit", *args, "--backend", "cpu", "--output",
                    str(ref)],
                   check=True, capture_output=True, cwd=tmp_path, timeout=300)
    out = tmp_path / "slurm.h5"
    env = dict(os.environ, DISTSNN=f"{sys.executable} -m distsnn")
    proc = subprocess.run(["sbatch", "--wait", "--ntasks=2", f"--chdir={tmp_path}", "--export=ALL",
                           str(REPO / "slurm" / "microcircuit.sbatch"), *args, *backend, "--output", str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    logs = "".join(p.read_text() for p in tmp_path.glob("distsnn-microcircuit-*.out"))
    assert proc.returncode == 0, proc.stderr + logs
    assert "2 task(s)" in logs and "2 ranks" in logs          # check the job really ran on 2 ranks
    a, b = read_spikes(str(ref)), read_spikes(str(out))
    assert all(np.array_equal(a[k][0], b[k][0]) and np.array_equal(a[k][1], b[k][1]) for k in a)
    meta = read_metadata(str(out))
    assert meta["ranks"] == 2
    if backend:
        assert meta["backend"] == "gpu-emu" and len(meta["devices"]) == 2


def _wait_for(jobs, timeout=600):
    import time
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        out = subprocess.run(["squeue", "-h", "-j", ",".join(jobs), "-o", "%i"], capture_output=True, text=True)
        if out.returncode == 0 and not out.stdout.strip():
            return
        time.sleep(1)
    raise TimeoutError(f"jobs {jobs} still queued or running after {timeout} s")


@needs_cluster
def test_segment_chain_joins_to_the_uninterrupted_run(tmp_path):
    """run_segments.sh: three dependent 2-rank jobs, each restarting from the checkpoint of
    the one before, then a joining job; the joined file is the one-process, one-go file."""
    args = ["--scale", "0.03", "--no-progress"]
    ref = tmp_path / "ref.h5"
    subprocess.run([sys.executable, "-m", "distsnn", "run", "microcircuit", *args, "--t-sim", "60", "--output",
                    str(ref)], check=True, capture_output=True, cwd=tmp_path, timeout=300)
    env = dict(os.environ, DISTSNN=f"{sys.executable} -m distsnn",
               SBATCH_OPTS=f"--ntasks=2 --chdir={tmp_path} --export=ALL")
    proc = subprocess.run(["bash", str(REPO / "slurm" / "run_segments.sh"), "3", "20", str(tmp_path / "mc"),
                           "microcircuit", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    jobs = proc.stdout.split()
    assert len(jobs) == 4
    _wait_for(jobs)
    logs = "".join(p.read_text() for p in tmp_path.glob("distsnn-*.out"))
    assert (tmp_path / "mc.h5").exists(), logs
    assert logs.count("2 task(s)") == 3 and "(from 20 ms, restarted" in logs and "(from 40 ms, restarted" in logs
    assert "3 segments, 0 to 60 ms" in logs
    a, b = read_spikes(str(ref)), read_spikes(str(tmp_path / "mc.h5"))
    assert all(np.array_equal(a[k][0], b[k][0]) and np.array_equal(a[k][1], b[k][1]) for k in a)
    assert [s["ranks"] for s in read_metadata(str(tmp_path / "mc.h5"))["segments"]] == [2, 2, 2]


def _remove_leftover_shm(before):
    """Remove the MPICH shared-memory files the killed run left in /dev/shm (as a site's job
    epilog does): MPICH names them after the PMI kvsname, under srun `jobid.stepid`, so a
    later cluster numbering its jobs from 1 again would open them as its own."""
    in_use = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/maps") as fh:
                in_use.update(line.rsplit("/", 1)[-1].strip() for line in fh if "/dev/shm/" in line)
        except OSError:
            pass
    for name in set(os.listdir("/dev/shm")) - before - in_use:
        if name.startswith("mpich_shm_"):
            os.remove(os.path.join("/dev/shm", name))


@needs_cluster
def test_requeued_job_resumes_from_its_last_checkpoint(tmp_path):
    """`sbatch --requeue microcircuit.sbatch ... --checkpoint-every --resume`: the running
    2-rank job is requeued by SLURM (scontrol requeue: it is killed and queued again), the
    second start resumes the checkpoint, and the output is the one-process, one-go file."""
    args = ["--scale", "0.05", "--t-sim", "3000", "--no-progress"]
    ref = tmp_path / "ref.h5"
    subprocess.run([sys.executable, "-m", "distsnn", "run", "microcircuit", *args, "--output", str(ref)], check=True,
                   capture_output=True, cwd=tmp_path, timeout=300)
    env = dict(os.environ, DISTSNN=f"{sys.executable} -m distsnn")
    shm_before = set(os.listdir("/dev/shm"))
    try:
        job = _submit_and_requeue(tmp_path, args, env)
    finally:
        _remove_leftover_shm(shm_before)
    log = (tmp_path / f"distsnn-microcircuit-{job}.out").read_text()
    assert f"job {job} restart 0" in log and f"job {job} restart 1" in log, log
    assert "DUE TO JOB REQUEUE" in log and "resumed from ck" in log and "0 to 3000 ms" in log, log
    a, b = read_spikes(str(ref)), read_spikes(str(tmp_path / "out.h5"))
    assert all(np.array_equal(a[k][0], b[k][0]) and np.array_equal(a[k][1], b[k][1]) for k in a)
    assert read_metadata(str(tmp_path / "out.h5"))["resumed"]


def _submit_and_requeue(tmp_path, args, env):
    """Submit the resumable job, requeue it once its first checkpoint is written, let it
    start again at once, and wait for it; returns the job id."""
    import json
    import time
    proc = subprocess.run(["sbatch", "--parsable", "--requeue", "--ntasks=2", f"--chdir={tmp_path}", "--export=ALL",
                           str(REPO / "slurm" / "microcircuit.sbatch"), *args, "--checkpoint", "ck",
                           "--checkpoint-every", "50", "--resume", "--output", "out.h5"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    job = proc.stdout.strip().split(";")[0]
    manifest = tmp_path / "ck" / "checkpoint.json"
    t0 = time.monotonic()
    while not manifest.exists():      # the first checkpoint (50 ms) is written: requeue the job
        assert time.monotonic() - t0 < 300, "no checkpoint written"
        time.sleep(0.1)
    assert subprocess.run(["scontrol", "requeue", job], capture_output=True, timeout=30).returncode == 0
    killed_at = json.loads(manifest.read_text())["step"]
    # SLURM holds a requeued job back for a while (BeginTime); once the killed run is gone with
    # its step daemons, let it start again now
    while subprocess.run(["squeue", "-h", "-j", job, "-o", "%t"], capture_output=True, text=True,
                         timeout=30).stdout.strip() not in ("PD", "") or subprocess.run(
            ["pgrep", "-f", rf"slurmstepd: \[{job}\."], capture_output=True).returncode == 0:
        assert time.monotonic() - t0 < 300, "the requeued job did not stop"
        time.sleep(0.5)
    for _ in range(20):
        if subprocess.run(["scontrol", "update", f"jobid={job}", "StartTime=now"], capture_output=True,
                          timeout=30).returncode == 0:
            break
        time.sleep(0.5)
    _wait_for([job])
    assert killed_at < 30000       # requeued before the end (3000 ms = step 30000)
    return job


SWEEP = ["brunel", "--scale", "0.05", "--t-sim", "60", "--rates-from", "10", "--no-progress", "--vary", "eta=1,2,3"]


@needs_cluster
def test_sweep_as_a_job_array_then_a_collecting_job(tmp_path):
    """run_sweep.sh: one array task per point (2 ranks each), then the table once all have
    succeeded; the points are those of one process. Submitted again after a point was lost,
    it runs that point alone."""
    from distsnn.cli import main
    assert main(["sweep", *SWEEP, "--output-dir", str(tmp_path / "one")]) == 0
    d = tmp_path / "array"
    env = dict(os.environ, DISTSNN=f"{sys.executable} -m distsnn", SBATCH_OPTS=f"--ntasks=2 --chdir={tmp_path} "
                                                                               "--export=ALL")

    def submit():
        proc = subprocess.run(["bash", str(REPO / "slurm" / "run_sweep.sh"), *SWEEP, "--output-dir", str(d),
                               "--plot"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
        assert proc.returncode == 0, proc.stderr
        jobs = proc.stdout.split()
        _wait_for(jobs)
        return jobs

    jobs = submit()
    assert len(jobs) == 2
    logs = {p.name: p.read_text() for p in tmp_path.glob("distsnn-sweep-*.out")}
    tasks = [text for name, text in logs.items() if "collect" not in name]
    assert len(tasks) == 3 and all("2 task(s)" in t and "by 1 group of 2 ranks" in t for t in tasks), logs
    assert any("wrote sweep_table.csv, sweep_results.json, sweep.png" in t for t in logs.values()), logs
    for k in range(3):
        x, y = (read_spikes(str(p / f"point_000{k}.h5")) for p in (tmp_path / "one", d))
        assert all(np.array_equal(x[n][0], y[n][0]) and np.array_equal(x[n][1], y[n][1]) for n in x)
        assert read_metadata(str(d / f"point_000{k}.h5"))["ranks"] == 2
    rows = (d / "sweep_table.csv").read_text().splitlines()
    assert len(rows) == 1 + 3 * 2
    (d / "point_0001_stats.json").unlink()   # a point lost: submitted again, it alone runs
    (d / "sweep_table.csv").unlink()
    for log in tmp_path.glob("distsnn-sweep-*.out"):
        log.unlink()
    jobs = submit()
    tasks = [p.read_text() for p in tmp_path.glob("distsnn-sweep-*.out") if "collect" not in p.name]
    assert len(tasks) == 1 and "point 1 (eta=2)" in tasks[0] and "2 done, 1 to run" in tasks[0]
    again = (d / "sweep_table.csv").read_text().splitlines()
    assert [r.rsplit(",", 1)[0] for r in again] == [r.rsplit(",", 1)[0] for r in rows]   # real-time factors aside


def test_sweep_script_refuses_a_bad_sweep_before_submitting(tmp_path):
    env = dict(os.environ, DISTSNN=f"{sys.executable} -m distsnn")
    proc = subprocess.run(["bash", str(REPO / "slurm" / "run_sweep.sh"), "brunel", "--vary", "g=5,-1",
                           "--output-dir", str(tmp_path / "sw")], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 2 and "sweep point 1 (g=-1): g must be a positive number" in proc.stderr
    assert not (tmp_path / "sw").exists()
    proc = subprocess.run(["bash", str(REPO / "slurm" / "run_sweep.sh")], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "run_sweep.sh MODEL --vary" in proc.stderr


def test_segment_chain_usage_errors():
    proc = subprocess.run(["bash", str(REPO / "slurm" / "run_segments.sh"), "x", "20", "p", "microcircuit"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "N must be a positive integer" in proc.stderr
