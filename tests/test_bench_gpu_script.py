"""The GPU benchmark script runs end to end (on the emulated device here), so a session
with a GPU can run it as it is."""
import json
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_bench_gpu_smoke(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_gpu.py"), "--backend", "gpu-emu", "--scale",
                           "0.01", "--t-sim", "20", "--overhead-steps", "100", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("gpu_microcircuit_*.json")
    report = json.loads(js.read_text())
    assert [r["mode"] for r in report["runs"]] == ["procedural", "stored"]
    proc_run, stored_run = report["runs"]
    assert proc_run["events"] == stored_run["events"] > 0          # the same network in both modes
    assert proc_run["n_steps"] == 200 and proc_run["real_time_factor"] > 0
    assert [o["graphs"] for o in report["overhead"]] == [True, False]
    assert "smoke test of this script" in js.with_suffix(".md").read_text()
