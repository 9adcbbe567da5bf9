"""The command line, run as a user would."""
import json
import subprocess
import sys

import h5py

from distsnn.models.microcircuit import FULL_SIZES


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "distsnn", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_run_microcircuit_writes_files_and_prints_summary(tmp_path):
    proc = run("run", "microcircuit", "--scale", "0.02", "--t-sim", "100", "--seed", "1", "--backend", "cpu",
               "--connectivity", "procedural", "--output", "results/mc.h5", "--record-voltage", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for text in ("build", "simulate", "write", "real-time factor", "synaptic events", "L23E", "L6I"):
        assert text in out
    with h5py.File(tmp_path / "results" / "mc.h5", "r") as f:
        assert f.attrs["magic"] == 0x0A7A and "L4E" in f["spikes"]
    summary = json.loads((tmp_path / "results" / "mc_summary.json").read_text())
    assert summary["seed"] == 1 and summary["n_neurons"] == sum(round(n * 0.02) for n in FULL_SIZES)
    assert set(summary["timers_s"]) == {"build", "simulate", "write"}
    assert summary["synaptic_events"] > 0 and summary["mean_rates_hz"]["L5I"] > 0
    assert summary["ring_bits"] == 32                  # 'auto' proves int32 safe for the microcircuit
    assert (tmp_path / "results" / "mc_voltage.h5").exists()


def test_ring_bits_option_is_recorded_and_checked(tmp_path):
    proc = run("run", "microcircuit", "--scale", "0.02", "--t-sim", "20", "--ring-bits", "64", "--no-progress",
               "--output", "mc64.h5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "mc64_summary.json").read_text())["ring_bits"] == 64
    assert "input ring buffers: int64" in proc.stdout + proc.stderr
    proc = run("run", "microcircuit", "--ring-bits", "16", cwd=tmp_path)
    assert proc.returncode == 2 and "--ring-bits: invalid choice: '16'" in proc.stderr


def test_same_spikes_from_the_cli_in_both_connectivity_modes(tmp_path):
    files = []
    for mode in ("procedural", "stored"):
        proc = run("run", "microcircuit", "--scale", "0.02", "--t-sim", "50", "--connectivity", mode,
                   "--output", f"{mode}.h5", "--no-progress", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        files.append(tmp_path / f"{mode}.h5")
    with h5py.File(files[0], "r") as a, h5py.File(files[1], "r") as b:
        for name in a["spikes"]:
            for ds in ("node_ids", "timestamps"):
                assert (a["spikes"][name][ds][()] == b["spikes"][name][ds][()]).all()


def test_bad_input_is_a_one_line_error(tmp_path):
    proc = run("run", "microcircuit", "--scale", "-1", cwd=tmp_path)
    assert proc.returncode == 2
    assert "scale must be in (0, 1], got -1.0" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("run", "nosuchmodel", cwd=tmp_path)
    assert proc.returncode == 2 and "unknown model 'nosuchmodel'" in proc.stderr
