"""scripts/profile_gpu.py: the summary of Nsight Compute's CSV (as ncu 2025 writes it on an
H100: its log lines and the program's output first, thousands separators in the values),
the top stall reasons, the run again with the basic metrics where ncu refuses the others
(a stand-in ncu that prints such CSV), and a clear error without ncu. (Running ncu needs a
GPU: scripts/gpu_session.sh does.)"""
import json
import subprocess
import sys
import textwrap

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
STALLS = "\n".join([
    row(1, "deliver_procedural_r32", "launch__block_size", "", "128"),
    row(1, "deliver_procedural_r32", "sm__throughput.avg.pct_of_peak_sustained_elapsed", "%", "31.5"),
    row(1, "deliver_procedural_r32", "lts__t_sector_hit_rate.pct", "%", "71.25"),
    row(1, "deliver_procedural_r32", "smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio",
        "", "4.25"),
    row(1, "deliver_procedural_r32", "smsp__average_warps_issue_stalled_selected_per_issue_active.ratio", "", "1"),
    row(1, "deliver_procedural_r32", "smsp__average_warps_issue_stalled_wait_per_issue_active.ratio", "", "1.5"),
    row(1, "deliver_procedural_r32", "smsp__average_warps_issue_stalled_barrier_per_issue_active.ratio", "", "0.25"),
    row(1, "deliver_procedural_r32", "smsp__average_warps_issue_stalled_membar_per_issue_active.ratio", "", "0.5"),
    row(1, "deliver_procedural_r32", "smsp__average_warps_issue_stalled_misc_per_issue_active.ratio", "", "n/a"),
])


def test_summary_per_kernel_in_microseconds():
    s = profile_gpu.summarize(SAMPLE)
    assert set(s) == {"neuron_update_r32", "deliver_procedural_r32"}
    t = s["neuron_update_r32"]["gpu__time_duration.sum"]
    assert t["n"] == 2 and t["unit"] == "us"
    assert t["mean"] == pytest.approx((8.128 + 10.4) / 2) and t["min"] == pytest.approx(8.128) and t["max"] == 10.4
    assert s["deliver_procedural_r32"]["gpu__time_duration.sum"]["mean"] == pytest.approx(12.0)
    text = profile_gpu.table(s)
    assert "| neuron_update_r32 | 2 | 9.26 | 8.13–10.40 | n/a × n/a | 72 | n/a | n/a | n/a | n/a | n/a | n/a |" in text
    assert text.splitlines()[1].count("---") == text.splitlines()[0].count("|") - 1
    assert "| deliver_procedural_r32 | 1 | 12.00 |" in text


def test_top_stall_reasons_without_the_issuing():
    s = profile_gpu.summarize(SAMPLE + "\n" + STALLS)["deliver_procedural_r32"]
    assert profile_gpu.stalls(s) == [("long_scoreboard", 4.25), ("wait", 1.5), ("membar", 0.5)]
    text = profile_gpu.table({"deliver_procedural_r32": s})
    assert "| n/a × 128 | n/a | n/a | 31.5 | n/a | 71.2 | n/a | long_scoreboard 4.25, wait 1.50, membar 0.50 |" in text


def stand_in_ncu(tmp_path, knows_stalls=True):
    """An ncu that prints the CSV above (an H100's) and logs the metrics it was asked for; one
    that does not know the stall metrics fails when asked for them."""
    fake = tmp_path / "ncu"
    fake.write_text(textwrap.dedent(f'''\
        #!{sys.executable}
        import sys
        args = sys.argv[1:]
        with open({str(tmp_path / "calls")!r}, "a") as fh:
            fh.write(args[args.index("--metrics") + 1] + "\\n")
        if "stalled" in args[args.index("--metrics") + 1] and not {knows_stalls}:
            sys.exit("==ERROR== Failed to find metric smsp__average_warps_issue_stalled_misc_per_issue_active")
        print({(SAMPLE + chr(10) + STALLS)!r})
        '''))
    fake.chmod(0o755)
    return fake


def profile(tmp_path, fake, *options):
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "profile_gpu.py"), "--ncu", str(fake), *options,
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("gpu_kernels_*.json")
    return json.loads(js.read_text())["command"], js.with_suffix(".txt").read_text(), js.name


@pytest.mark.parametrize("knows_stalls", [True, False])
def test_an_ncu_without_the_stall_metrics_gives_the_times(tmp_path, knows_stalls):
    """The script asks again for the basic metrics where ncu refuses the stall reasons."""
    cmd, text, name = profile(tmp_path, stand_in_ncu(tmp_path, knows_stalls), "--step-loop")
    calls = (tmp_path / "calls").read_text().split()
    assert "stalled" in calls[0] and "gpu__time_duration.sum" in calls[0]
    assert calls[1:] == ([] if knows_stalls else [",".join(profile_gpu.METRICS)])
    assert name.startswith("gpu_kernels_microcircuit_step_loop_nvidia_h100_80gb_hbm3_")
    assert cmd[cmd.index("--metrics") + 1] == calls[-1] and cmd[cmd.index("--kernel-name") + 1] == "regex:^step_loop"
    assert "long_scoreboard 4.25" in text


def test_kernels_by_name(tmp_path):
    """--kernels: ncu profiles only the kernels it names (the multi-area model's steps); no
    filter by default."""
    cmd, _, name = profile(tmp_path, stand_in_ncu(tmp_path), "--model", "multi_area", "--kernels",
                           "^(neuron_update|deliver)")
    assert cmd[cmd.index("--kernel-name") + 1] == "regex:^(neuron_update|deliver)"
    assert cmd[cmd.index("run") + 1] == "multi_area" and name.startswith("gpu_kernels_multi_area_nvidia")
    (tmp_path / name).unlink()
    cmd, _, _ = profile(tmp_path, stand_in_ncu(tmp_path))
    assert "--kernel-name" not in cmd


def test_output_without_a_table_is_an_error():
    with pytest.raises(ValueError, match="no ncu metrics table"):
        profile_gpu.summarize("==PROF== Connected to process 1\n==ERROR== no kernels were profiled\n")


def test_missing_ncu_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "profile_gpu.py"), "--ncu", "no-such-ncu",
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 1 and "Nsight Compute (ncu)" in proc.stderr and "Traceback" not in proc.stderr
