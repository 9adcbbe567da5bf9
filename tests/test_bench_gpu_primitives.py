"""scripts/bench_gpu_primitives.py: its kernels (scripts/gpu_primitives.cu) compile for sm_80
and sm_90 by nvcc and by NVRTC, what it makes of its measurements, and a clear exit where no
GPU is. (Running it needs a GPU: scripts/gpu_session.sh does.)"""
import shutil
import subprocess
import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
import bench_gpu_primitives as prim  # noqa: E402

NVCC = shutil.which("nvcc")
ENTRIES = ("chase_init", "chase", "scatter_add")


@pytest.mark.skipif(NVCC is None, reason="nvcc not found")
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_kernels_compile_with_nvcc(tmp_path, arch):
    ptx = tmp_path / "p.ptx"
    proc = subprocess.run([NVCC, f"-arch={arch}", "--ptx", "-Werror", "all-warnings", "-o", str(ptx),
                           str(prim.SOURCE)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    text = ptx.read_text()
    assert all(f".entry {e}(" in text for e in ENTRIES)
    assert "ld.global.cg.u32" in text and ("atom.global.add.u32" in text or "red.global.add.u32" in text)


@pytest.mark.parametrize("arch", ["compute_80", "compute_90"])
def test_kernels_compile_with_nvrtc(arch):
    try:
        from cupy.cuda import nvrtc
        nvrtc.getVersion()
    except Exception:   # CuPy or its NVRTC library missing
        pytest.skip("CuPy with NVRTC not installed (pip install 'distsnn[gpu]')")
    prog = nvrtc.createProgram(prim.SOURCE.read_text(), "gpu_primitives.cu", [], [])
    try:
        nvrtc.compileProgram(prog, [f"-arch={arch}", "--std=c++14"])
        ptx = nvrtc.getPTX(prog)
    finally:
        nvrtc.destroyProgram(prog)
    ptx = ptx.decode() if isinstance(ptx, bytes) else ptx
    assert all(f".entry {e}(" in ptx for e in ENTRIES)


def test_analysis_and_report():
    chase = {"L2 (16 MiB)": 250.0, "DRAM (4096 MiB)": 700.0}
    scatter = {"rings (32 MiB)": 4.8e10, "DRAM (4096 MiB)": 6e9}
    a = prim.analyse(chase, scatter)
    assert a["chain_link_us"] == {"L2 (16 MiB)": 0.25, "DRAM (4096 MiB)": 0.7}
    micro = a["us_per_step_from_atomics"]["microcircuit"]
    assert micro["rings (32 MiB)"] == pytest.approx(9.6e4 / 4.8e10 * 1e6) == pytest.approx(2.0)
    assert a["us_per_step_from_atomics"]["multi-area model"]["DRAM (4096 MiB)"] == pytest.approx(6.4e6 / 6e9 * 1e6)
    md = prim.markdown({"device_name": "GPU X", "date": "2026-11-22", "cupy": "14", "multiprocessors": 132,
                        "chase_ns": chase, "scatter_per_s": scatter, "analysis": a})
    assert "| dependent load (pointer chase, ld.global.cg) | DRAM (4096 MiB) | 700 ns |" in md
    assert "| scattered 32-bit atomic adds, full grid | rings (32 MiB) | 4.8e+10 per s |" in md
    assert "- microcircuit (9.6e+04 events per step): 2.0 µs per step at the rings (32 MiB) rate" in md


def test_without_a_gpu_a_clear_exit(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_gpu_primitives.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "needs CuPy and an NVIDIA GPU" in proc.stderr
    assert not list(tmp_path.iterdir())


def test_sizes_must_be_powers_of_two():
    with pytest.raises(SystemExit, match="--dram-mib must be a power of two, got 3000"):
        prim.main(["--dram-mib", "3000"])
