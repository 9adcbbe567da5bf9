"""CUDA kernels, checked without a GPU: every kernel compiles for sm_80 and sm_90 with the
determinism flags, no fused multiply-add reaches the PTX, and the generated header carries
exactly the Python constants. (Running them needs a GPU: tests marked `gpu` skip here.)"""
import re
import shutil
import subprocess

import pytest

from distsnn.backends.gpu.source import KERNELS, NVCC_FLAGS, constants_header, kernel_source
from distsnn.build import plan as bp
from distsnn.rng import portable_math as pm

NVCC = shutil.which("nvcc")
ENTRY_POINTS = {"neuron_update": ["neuron_update"], "spike_sources": ["spike_sources"],
                "deliver_procedural": ["deliver_procedural"], "deliver_stored": ["deliver_stored"],
                "counts": ["counts_fixed_total", "counts_fixed_outdegree"]}


@pytest.mark.skipif(NVCC is None, reason="nvcc not found")
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_compiles_without_fma(tmp_path, kernel, arch):
    src = tmp_path / f"{kernel}.cu"
    src.write_text(kernel_source(kernel))
    ptx = tmp_path / f"{kernel}.ptx"
    proc = subprocess.run([NVCC, f"-arch={arch}", "--ptx", *NVCC_FLAGS, "-Werror", "all-warnings", "-o", str(ptx),
                           str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    text = ptx.read_text()
    for entry in ENTRY_POINTS[kernel]:
        assert f".entry {entry}(" in text
    assert "fma." not in text      # --fmad=false: every a*b+c rounds twice, as on the CPU


def test_generated_header_carries_the_python_constants():
    header = constants_header()
    for name, coeffs in (("LOG_C", pm.LOG_COEFFS), ("SIN_C", pm.SIN_COEFFS), ("COS_C", pm.COS_COEFFS),
                         ("EXPM1_C", pm.EXPM1_COEFFS)):
        values = re.search(rf"__constant__ double {name}\[\d+\] = {{(.*?)}};", header).group(1).split(", ")
        assert [float(v) for v in values] == list(coeffs)       # exact binary64 round trip
    for name in ("PF_P22", "PF_DT", "PI_MODEL", "JF_SCALE", "JI_COUNT_OFF", "UI_SCHED_END", "RULE_FP"):
        assert f"#define {name} {getattr(bp, name)}" in header
    assert f"#define N_UI {bp.UI_SCHED_END + 1}" in header and f"#define N_QI {bp.QI_INDEX + 1}" in header
    assert float(re.search(r"#define LN2_HI (\S+)", header).group(1)) == pm.LN2_HI


def test_unknown_kernel_is_an_error():
    with pytest.raises(ValueError, match="unknown kernel 'nope'"):
        kernel_source("nope")
