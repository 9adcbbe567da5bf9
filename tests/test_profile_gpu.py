"""scripts/profile_gpu.py: the summary of Nsight Compute's CSV (as ncu 2025 writes it on an
H100: its log lines and the program's output first, thousands separators in the values)
and a clear error without ncu. (Running ncu needs a GPU: scripts/gpu_session.sh does.)"""
import subprocess
import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
import profile_gpu  # noqa: E402

HEADER = ('"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size",'
          '"Grid Size","Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"')


def row(i, kernel, metric, unit, value):
    return (f'"{i}","1375","python3.12","127.0.0.1","{kernel}","1","13","(128, 1, 1)","(603, 1, 1)","0","9.0",'
            f'"Command line profiler metrics","{metric}","{unit}","{value}"')


SAMPLE = "\n".join([
    "==PROF== Connected to process 1375 (/usr/bin/python3.12)",
    "neuron state, input buffers, row counts and spike buffers: 120.9 MiB on NVIDIA H100 80GB HBM3",
    "  simulate     4.235 s   real-time factor 14.117",
    HEADER,
    row(0, "neuron_update_r32", "gpu__time_duration.sum", "ns", "8,128"),
    row(0, "neuron_update_r32", "launch__registers_per_thread", "register/thread", "72"),
    row(1, "deliver_procedural_r32", "gpu__time_duration.sum", "ns", "12,000"),
    row(2, "neuron_update_r32", "gpu__time_duration.sum", "us", "10.4"),
    row(2, "neuron_update_r32", "launch__registers_per_thread", "register/thread", "72"),
])


def test_summary_per_kernel_in_microseconds():
    s = profile_gpu.summarize(SAMPLE)
    assert set(s) == {"neuron_update_r32", "deliver_procedural_r32"}
    t = s["neuron_update_r32"]["gpu__time_duration.sum"]
    assert t["n"] == 2 and t["unit"] == "us"
    assert t["mean"] == pytest.approx((8.128 + 10.4) / 2) and t["min"] == pytest.approx(8.128) and t["max"] == 10.4
    assert s["deliver_procedural_r32"]["gpu__time_duration.sum"]["mean"] == pytest.approx(12.0)
    text = profile_gpu.table(s)
    assert "| neuron_update_r32 | 2 | 9.26 | 8.13–10.40 | n/a | 72 | n/a |" in text
    assert "| deliver_procedural_r32 | 1 | 12.00 |" in text


def test_output_without_a_table_is_an_error():
    with pytest.raises(ValueError, match="no ncu metrics table"):
        profile_gpu.summarize("==PROF== Connected to process 1\n==ERROR== no kernels were profiled\n")


def test_missing_ncu_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "profile_gpu.py"), "--ncu", "no-such-ncu",
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 1 and "Nsight Compute (ncu)" in proc.stderr and "Traceback" not in proc.stderr
