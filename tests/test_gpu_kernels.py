"""CUDA kernels, checked without a GPU: every kernel compiles for sm_80 and sm_90 with the
determinism flags, by the machine's nvcc and by NVRTC (what CuPy uses at run time), no fused
multiply-add reaches the PTX, and the generated header carries exactly the Python constants.
(Running them: test_gpu_emulated.py on the host, test_gpu_device.py on a GPU.)"""
import re
import shutil
import subprocess

import numpy as np
import pytest

from distsnn.backends.gpu.source import (ENTRY_POINTS, KERNELS, NVCC_FLAGS, REGISTER_CAPS, VARIANT_REGISTERS,
                                         compile_options, constants_header, kernel_source, register_cap, signatures)
from distsnn.build import long_term
from distsnn.build import plan as bp
from distsnn.model.neurons import MODEL_CODES
from distsnn.rng import portable_math as pm

NVCC = shutil.which("nvcc")
try:
    from cupy.cuda import nvrtc
    nvrtc.getVersion()
    HAVE_NVRTC = True
except Exception:   # CuPy or its NVRTC library missing
    HAVE_NVRTC = False


@pytest.mark.skipif(NVCC is None, reason="nvcc not found")
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_compiles_without_fma(tmp_path, kernel, arch):
    src = tmp_path / f"{kernel}.cu"
    src.write_text(kernel_source(kernel))
    ptx = tmp_path / f"{kernel}.ptx"
    # (the determinism flags: a register cap acts in ptxas, not on the PTX)
    proc = subprocess.run([NVCC, f"-arch={arch}", "--ptx", *NVCC_FLAGS, "-Werror", "all-warnings", "-o", str(ptx),
                           str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    text = ptx.read_text()
    for entry in ENTRY_POINTS[kernel]:
        assert f".entry {entry}(" in text
    assert "fma." not in text      # --fmad=false: every a*b+c rounds twice, as on the CPU


@pytest.mark.skipif(NVCC is None, reason="nvcc not found")
@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_registers_fit_without_spills(tmp_path, kernel):
    """ptxas's report for sm_90 with the run-time options: no entry point uses local memory,
    neither spilled registers (a register cap that spilled would slow every step) nor a stack
    frame (an array indexed at run time, a store and a load on a thread's chain), and the
    cap holds."""
    src = tmp_path / f"{kernel}.cu"
    src.write_text(kernel_source(kernel))
    proc = subprocess.run([NVCC, "-arch=sm_90", "-cubin", "-Xptxas", "-v", *compile_options(kernel), "-o",
                           str(tmp_path / "k.cubin"), str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # one report per function: the entry points and the functions they call (redraw_delay)
    spills = re.findall(r"(\d+) bytes spill stores, (\d+) bytes spill loads", proc.stderr)
    regs = [int(r) for r in re.findall(r"Used (\d+) registers", proc.stderr)]
    assert len(regs) == len(ENTRY_POINTS[kernel]) and len(spills) >= len(regs), proc.stderr
    assert all(s == ("0", "0") for s in spills), proc.stderr
    frames = re.findall(r"(\d+) bytes stack frame", proc.stderr)
    assert len(frames) == len(spills) and set(frames) == {"0"}, proc.stderr
    # each entry point within its cap: its rule variant's, else the file's (6 blocks of 128
    # threads per multiprocessor at 80, 5 at 96, 4 at 104)
    used = dict(zip(re.findall(r"Compiling entry function '(\w+)'", proc.stderr), regs))
    assert set(used) == set(ENTRY_POINTS[kernel]), proc.stderr
    for entry, n in used.items():
        cap = register_cap(kernel, entry)
        assert cap is None or n <= cap, (entry, n, cap)


def test_register_caps_by_variant():
    """The caps the entry points are compiled with: the redraw's variant keeps procedural
    delivery's 96, the full one (Uniform, Exponential and LogNormal draws) 104, the one
    without fixed_indegree 80, short-term plasticity's 112; files without variants their
    file's cap or none."""
    assert register_cap("deliver_procedural", "deliver_procedural_no_kinds_r32") == REGISTER_CAPS["deliver_procedural"]
    assert register_cap("deliver_procedural", "deliver_procedural") == VARIANT_REGISTERS[""] == 104
    assert register_cap("step_loop", "step_loop_no_indegree") == VARIANT_REGISTERS["_no_indegree"] == 80
    # short-term plasticity's variant: the full one with the efficacies (106 registers; spilled at 96)
    assert register_cap("deliver_procedural", "deliver_procedural_stp_r32") == VARIANT_REGISTERS["_stp"] == 112
    assert register_cap("deliver_stored", "deliver_stored_r32") is None
    text = kernel_source("deliver_procedural")
    assert "__maxnreg__(104) deliver_procedural_r32(" in text and "__maxnreg__(80) deliver_procedural_no_indegree(" in text
    assert " deliver_procedural_no_kinds(" in text and "__maxnreg__(104) deliver_procedural_no_kinds" not in text
    assert "__maxnreg__" not in kernel_source("neuron_update_aeif")   # no variants, no variant's cap


@pytest.mark.skipif(not HAVE_NVRTC, reason="CuPy with NVRTC not installed (pip install 'distsnn[gpu]')")
@pytest.mark.parametrize("arch", ["compute_80", "compute_90"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_compiles_with_nvrtc_without_fma(kernel, arch):
    from distsnn.backends.gpu.device import nvrtc_ptx
    text = nvrtc_ptx(kernel, arch)
    for entry in ENTRY_POINTS[kernel]:
        assert f".entry {entry}(" in text
    assert "fma." not in text


def test_nvrtc_error_is_reported_with_its_log(monkeypatch):
    if not HAVE_NVRTC:
        pytest.skip("CuPy with NVRTC not installed")
    from distsnn.backends.gpu import device
    monkeypatch.setattr(device, "kernel_source", lambda name: "this is not CUDA;")
    with pytest.raises(RuntimeError, match="NVRTC failed on counts.cu"):
        device.nvrtc_ptx("counts")


@pytest.mark.parametrize("name", ["neuron_update", "neuron_update_aeif", "deliver_procedural", "deliver_stored",
                                  "build_stored"])
def test_ring_width_twins_are_generated_alike(name):
    """The int64 and int32 entry points of a ring-width template differ only in the type of
    the parameters the template's R types: the ring buffers (and stored weights)."""
    sigs = signatures(name)
    plain = [k for k in sigs if not k.endswith("_r32") and k + "_r32" in sigs]
    assert plain
    for k in plain:
        a, b = sigs[k].params, sigs[k + "_r32"].params
        assert [p.name for p in a] == [p.name for p in b]
        differ = {p.name for p, q in zip(a, b) if p.dtype is not q.dtype}
        assert "ring" in differ or "syn_w" in differ
        assert all(p.dtype is np.int64 and q.dtype is np.int32 for p, q in zip(a, b) if p.name in differ)
    assert f"{plain[0]}_body<" in kernel_source(name).split("generated by distsnn")[-1]


def test_signatures_give_every_parameter_a_dtype():
    sig = signatures("neuron_update")["neuron_update"]
    by_name = {p.name: p for p in sig.params}
    assert by_name["state"].dtype is np.uint64 and by_name["state"].pointer
    assert by_name["n_local"].dtype is np.int32 and not by_name["n_local"].pointer
    assert by_name["local_pop"].dtype is np.int32 and by_name["local_pop"].pointer
    assert by_name["key0"].dtype is np.uint32
    args = [np.zeros(1, dtype=p.dtype) if p.pointer else 0 for p in sig.params]
    sig.convert(args)                                   # the right dtypes pass
    args[sig.params.index(by_name["gids"])] = np.zeros(1, dtype=np.int32)
    with pytest.raises(TypeError, match="argument gids needs a C-contiguous int64 array"):
        sig.convert(args)
    args[sig.params.index(by_name["gids"])] = np.zeros(1, dtype=np.int64)
    args[sig.params.index(by_name["key0"])] = 2 ** 32
    with pytest.raises(OverflowError, match="key0"):
        sig.convert(args)
    with pytest.raises(TypeError, match=f"{len(sig.params)} arguments expected, got {len(sig.params) - 1}"):
        sig.convert(args[:-1])


def test_generated_header_carries_the_python_constants():
    header = constants_header()
    for name, coeffs in (("LOG_C", pm.LOG_COEFFS), ("SIN_C", pm.SIN_COEFFS), ("COS_C", pm.COS_COEFFS),
                         ("EXPM1_C", pm.EXPM1_COEFFS)):
        values = re.search(rf"__constant__ double {name}\[\d+\] = {{(.*?)}};", header).group(1).split(", ")
        assert [float(v) for v in values] == list(coeffs)       # exact binary64 round trip
    for name in ("PF_P22", "PF_DT", "PI_MODEL", "PI_RING_IN", "JF_SCALE", "JI_COUNT_OFF", "UI_SCHED_END",
                 "UI_RING_OFF", "RULE_FP"):
        assert f"#define {name} {getattr(bp, name)}" in header
    assert f"#define N_UI {bp.UI_RING_OFF + 1}" in header and f"#define N_QI {bp.QI_STOP + 1}" in header
    assert f"#define MODEL_DELTA {MODEL_CODES['iaf_psc_delta']}" in header
    assert f"#define MODEL_COND {MODEL_CODES['iaf_cond_exp']}" in header
    assert f"#define MODEL_ALPHA {MODEL_CODES['iaf_psc_alpha']}" in header
    assert f"#define PF_A31EX {bp.PF_GL}" in header and f"#define PF_AJ0IN {bp.PF_PHIN}" in header
    assert float(re.search(r"#define LN2_HI (\S+)", header).group(1)) == pm.LN2_HI
    # STDP's NEST constants, the same doubles as the CPU's (build.long_term)
    for name in ("STDP_EPS", "MS_PER_TIC", "SMALLEST_NORMAL"):
        assert float(re.search(rf"#define {name} \((\S+)\)", header).group(1)) == getattr(long_term, name)
    assert f"#define STDP_CODE0 {long_term.STDP_CODE0}" in header


def test_unknown_kernel_is_an_error():
    with pytest.raises(ValueError, match="unknown kernel 'nope'"):
        kernel_source("nope")
