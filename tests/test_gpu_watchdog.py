"""The GPU watchdog (backends/gpu/watchdog.py): a block of steps that never ends (a hung kernel,
here DISTSNN_INJECT_FAULT's 'device' hang inside the watched wait) ends the job within the
limit, one process or the whole MPI job, with an error that says what hung; output written
before stays as it was."""
import time

import pytest

from distsnn.backends.gpu.watchdog import DEFAULT_LIMIT_S, EXIT_CODE, Watchdog, watchdog_limit
from distsnn.io import read_spikes
from test_mpi_cli import MPIEXEC, launch


def test_a_wait_past_the_limit_expires_once():
    said = []
    dog = Watchdog(0.2, expire=said.append)
    with dog.watch("a short wait"):
        time.sleep(0.05)
    time.sleep(0.3)              # nothing is watched between waits
    assert not said and not dog.expired
    with dog.watch("a long wait"):
        time.sleep(0.8)
    assert dog.expired and len(said) == 1
    assert said[0].startswith("the GPU did not finish a long wait within 0.2 s (DISTSNN_GPU_WATCHDOG_S)")


def test_stop_ends_the_watching_thread():
    dog = Watchdog(5.0, expire=pytest.fail)
    with dog.watch("a wait"):
        pass
    dog.stop()
    dog._thread.join(2.0)
    assert not dog._thread.is_alive()


def test_off_watches_nothing():
    dog = Watchdog(0.0, expire=pytest.fail)
    with dog.watch("anything"):
        time.sleep(0.05)
    assert dog._thread is None


def test_the_limit_from_the_environment(monkeypatch):
    monkeypatch.delenv("DISTSNN_GPU_WATCHDOG_S", raising=False)
    assert watchdog_limit() == DEFAULT_LIMIT_S and watchdog_limit(3) == 3.0
    monkeypatch.setenv("DISTSNN_GPU_WATCHDOG_S", "0")
    assert watchdog_limit() == 0.0
    for bad, match in (("soon", "not a number of seconds"), ("-1", "0 \\(off\\) or more seconds"),
                       ("nan", "0 \\(off\\) or more seconds")):
        monkeypatch.setenv("DISTSNN_GPU_WATCHDOG_S", bad)
        with pytest.raises(ValueError, match=match):
            watchdog_limit()


GPU = ["--backend", "gpu-emu", "--share-gpus"]


@pytest.mark.parametrize("ranks", [1, 2])
def test_a_hung_block_of_steps_ends_the_job(tmp_path, ranks):
    """The second block of steps of the last rank hangs: the job ends a few seconds after the
    limit (1 s), with that rank's error, where it would otherwise wait forever."""
    if ranks > 1 and MPIEXEC is None:
        pytest.skip("no mpiexec")
    good = tmp_path / "kept.h5"
    assert launch(ranks, GPU + ["--output", str(good)], tmp_path).returncode == 0
    before = good.read_bytes()
    t0 = time.monotonic()
    proc = launch(ranks, GPU + ["--output", str(good)], tmp_path, timeout=120,
                  env={"DISTSNN_INJECT_FAULT": f"{ranks - 1}:device:2:hang", "DISTSNN_GPU_WATCHDOG_S": "1"})
    elapsed = time.monotonic() - t0
    assert proc.returncode != 0 and (ranks > 1 or proc.returncode == EXIT_CODE)
    prefix = f"[rank {ranks - 1}/{ranks}] " if ranks > 1 else ""
    assert f"{prefix}distsnn: error: the GPU did not finish a block of up to" in proc.stderr
    assert "within 1 s (DISTSNN_GPU_WATCHDOG_S)" in proc.stderr
    assert elapsed < 60
    assert good.read_bytes() == before and read_spikes(str(good))["L4E"][0].size > 0
