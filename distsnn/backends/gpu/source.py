"""Assemble the CUDA sources: a header generated from the Python modules (table column
indices, stream tags, the portable-math coefficients as exact decimal literals), the shared
device functions, and one kernel file per operation. Generating the header keeps the CUDA
code and the NumPy specification on the very same numbers."""
import ctypes
import pathlib
import re
from dataclasses import dataclass

import numpy as np

from ...build import plan as bp
from ...build import poisson_input
from ...build import long_term, short_term
from ...model import rkf45
from ...model.neurons import MODEL_CODES
from ...rng import permutation as perm
from ...rng import portable_math as pm
from ...rng import streams
from ...rng import synapse_variates
from . import delivery_items, layout

KERNEL_DIR = pathlib.Path(__file__).resolve().parent / "kernels"
# one file per operation; each file holds the entry points listed here
KERNELS = ("neuron_update", "neuron_update_aeif", "spike_sources", "poisson_sources", "record_state", "advance_step",
           "deliver_procedural", "deliver_stored", "counts", "input_bounds", "build_stored", "step_loop", "flush",
           "stp", "stdp")
# files whose kernels call the device functions of others: compiled with those (their entry
# points left out; the emulated device's one translation unit has every file once, in the
# order of KERNELS)
USES = {"step_loop": ("neuron_update", "record_state", "deliver_procedural", "deliver_stored")}
# device functions every kernel file is compiled with, in this order
COMMON_FILES = ("common.cuh", "grid_barrier.cuh", "stdp.cuh")
# files whose kernels hold grid barriers: launched cooperatively (every block resident)
COOPERATIVE = ("step_loop",)
# files whose kernels use warp-synchronous operations (shuffles, votes): plain launches on a
# GPU, run as fibers by the emulated device (host_shim.h), as the cooperative ones are
WARP_SYNC = ("deliver_procedural", "step_loop")
# (kernels that touch the ring buffers or stored weights have an int32 twin, suffix R32, both
# generated from one template body: ring_entry_points)
R32 = "_r32"
# Variants by the connection rules they regenerate (template bodies with a `u32 RULES`
# parameter, ring_entry_points): every rule (no suffix), or every rule but fixed_indegree
# ("_no_indegree"). Registers are allocated for a kernel's costliest path, and
# fixed_indegree's (the permutation of a chunk's input slots, its keys and bounds held
# through the row) is procedural delivery's: without it delivery fits 80 registers without
# spilling, against 88 (ptxas, sm_90), so a multiprocessor holds 6 of its blocks of 128
# threads, not 5. Networks of fixed_probability (or any rule but fixed_indegree) get the
# smaller variant; Brunel's (fixed_indegree), and the microcircuit and the multi-area model
# (which redraw, below), "_no_kinds". The suffix comes before R32; rule_variant picks the
# variant for a plan.
# Delays redrawn below dt (JF_DREDRAW, rng.redraw) count as one more "rule", bit REDRAW_BIT,
# not in "_no_indegree": the redraw is a call (common.cuh redraw_delay), and the registers a
# call keeps across it do not fit the 80 of "_no_indegree" (it spilled 44 B) but fit 96 in
# delivery (a variant without fixed_indegree but with the redraw also needed 96, so it would
# gain no block per multiprocessor).
# Weights or delays drawn from a Uniform or an Exponential, and LogNormal weights (JF_KINDS,
# rng.synapse_variates), are another, bit KINDS_BIT, in the full variant only. Its word 3, log
# and exp took delivery past the 96 registers of the redraw's variant (16 B spilled with the
# Exponential's log), so the full variant has a cap of its own, 104 (4 blocks of 128 per
# multiprocessor), and "_no_kinds", every rule and the redraw, keeps 96 for the models that
# redraw their delays (the microcircuit, the multi-area model). The rare models with these
# draws take the full variant.
# Short-term plasticity (build.short_term) is bit STP_BIT, in a variant of its own, "_stp" (the
# full one and the weights scaled by each spike's efficacy), so that the others keep their
# registers; models with it are rare, and slower anyway by their efficacies' kernel.
REDRAW_BIT = 6
KINDS_BIT = 7
STP_BIT = 8
RULE_VARIANTS = {"": (bp.RULE_FP, bp.RULE_FTN, bp.RULE_FOUT, bp.RULE_O2O, bp.RULE_A2A, bp.RULE_FIN, REDRAW_BIT,
                      KINDS_BIT),
                 "_stp": (bp.RULE_FP, bp.RULE_FTN, bp.RULE_FOUT, bp.RULE_O2O, bp.RULE_A2A, bp.RULE_FIN, REDRAW_BIT,
                          KINDS_BIT, STP_BIT),
                 "_no_kinds": (bp.RULE_FP, bp.RULE_FTN, bp.RULE_FOUT, bp.RULE_O2O, bp.RULE_A2A, bp.RULE_FIN,
                               REDRAW_BIT),
                 "_no_indegree": (bp.RULE_FP, bp.RULE_FTN, bp.RULE_FOUT, bp.RULE_O2O, bp.RULE_A2A)}
# the files whose entry points come in these variants
RULE_FILES = ("deliver_procedural", "step_loop")
# registers per thread of a variant's entry points (__maxnreg__, in place of the file's cap):
# 80 x 128 threads lets a multiprocessor (65,536 registers) hold 6 blocks; 82 would allow 5.
# "_stp" spilled 48 B at delivery's 96 and takes 106 under a cap of 112 (ptxas, sm_90)
VARIANT_REGISTERS = {"_no_indegree": 80, "": 104, "_stp": 112}


def register_cap(name, entry):
    """The register cap of entry point `entry` of kernel file `name`: its rule variant's
    (VARIANT_REGISTERS) where it has one, else the file's (REGISTER_CAPS), else None."""
    if name in RULE_FILES:
        variant = entry[len(name):].removesuffix(R32)
        if variant in VARIANT_REGISTERS:
            return VARIANT_REGISTERS[variant]
    return REGISTER_CAPS.get(name)


# Stored delivery's STDP path (stdp.cuh, deliver_stored.cu's stdp_synapse) is a variant of its
# own, a body with a `bool STDP` parameter: its calls took the static synapses' loop from 56
# registers to 121 (ptxas, sm_90), as registers are allocated for a kernel's costliest path
STDP_VARIANT = "_stdp"
STDP_FILES = ("deliver_stored",)


def _entries(name):
    """Entry point names of a ring-width template (and its rule variants, RULE_FILES, or STDP's,
    STDP_FILES)."""
    variants = RULE_VARIANTS if name in RULE_FILES else ("", STDP_VARIANT) if name in STDP_FILES else ("",)
    return tuple(name + v + w for v in variants for w in ("", R32))


ENTRY_POINTS = {"neuron_update": _entries("neuron_update"), "neuron_update_aeif": _entries("neuron_update_aeif"),
                "spike_sources": ("spike_sources",), "poisson_sources": ("poisson_sources",),
                "record_state": ("record_state",), "advance_step": ("advance_step",),
                "deliver_procedural": _entries("deliver_procedural"), "deliver_stored": _entries("deliver_stored"),
                "counts": ("counts_fixed_total", "counts_fixed_outdegree", "counts_fixed_indegree"),
                "input_bounds": ("input_bounds",),
                "build_stored": ("stored_lengths", "stored_fill", "stored_fill" + R32, "stored_groups"),
                "step_loop": _entries("step_loop"), "flush": ("pack_spikes", "reset_state"),
                "stp": ("stp_efficacies",),
                "stdp": ("stdp_pre_state", "stdp_record", "stdp_initial_weights", "stdp_oldest_needed", "stdp_drop")}


def rule_mask(rules):
    """The RULES template argument (bit r for rule code r) of a set of rule codes."""
    return sum(1 << int(r) for r in set(rules))


def plan_rules(plan):
    """The rule codes of a plan's projections, REDRAW_BIT where one redraws its delays, and
    KINDS_BIT where one draws a weight or delay from a Uniform or an Exponential or a weight from
    a LogNormal, STP_BIT where one has short-term plasticity."""
    rules = {int(r) for r in plan.proj_i[:, bp.JI_RULE]}
    rules |= {REDRAW_BIT} if (plan.proj_f[:, bp.JF_DREDRAW] != 0).any() else set()
    rules |= {STP_BIT} if short_term.plastic(plan.proj_stp) else set()
    return rules | ({KINDS_BIT} if (plan.proj_f[:, bp.JF_KINDS] != 0).any() else set())


def rule_variant(rules):
    """The suffix of the smallest variant that regenerates every rule code in `rules` (those
    of the projections a kernel delivers, REDRAW_BIT where one redraws: plan_rules; with none,
    the smallest variant)."""
    need = {int(r) for r in rules}
    fits = [v for v, have in RULE_VARIANTS.items() if need <= set(have)]
    if not fits:
        raise ValueError(f"no kernel variant regenerates the connection rules {sorted(need)}")
    return min(fits, key=lambda v: len(RULE_VARIANTS[v]))


# compile with these (DESIGN §3): no fused multiply-add, IEEE division and square root
NVCC_FLAGS = ("--fmad=false", "--prec-div=true", "--prec-sqrt=true")
# per-file register caps, where the compiler's own choice costs occupancy: procedural
# delivery needed 96 registers per thread (5 blocks of 128 threads per SM) until the
# fixed_indegree loop, whose permutation state took it to 106 (4 blocks); capped at 96,
# ptxas recomputes that state instead, without spilling (test_gpu_kernels checks: no spills
# anywhere). The cap acts where CuPy has NVRTC build a cubin (its default); a PTX build
# (CUPY_COMPILE_WITH_PTX) leaves the choice to the driver.
# The step loop's full variant needs 100 with the redraw's call (it spilled 44 B at 96): 104
# after rounding, 4 blocks of 128 per multiprocessor; the loop is opt-in until measured.
REGISTER_CAPS = {"deliver_procedural": 96, "step_loop": 104}


def compile_options(name):
    """The NVCC / NVRTC options of one kernel file: the determinism flags and its register cap."""
    cap = REGISTER_CAPS.get(name)
    return NVCC_FLAGS + ((f"--maxrregcount={cap}",) if cap else ())


def _double(x):
    return repr(float(x))   # shortest repr that round-trips: the same binary64 value


def constants_header():
    lines = ["// generated by distsnn.backends.gpu.source from the Python modules: do not edit"]
    for name in sorted(vars(bp)):
        value = getattr(bp, name)
        prefix = name.split("_")[0]
        if prefix in ("PF", "PI", "JF", "JI", "QI", "UI", "NZ", "SEG", "DF", "DI", "RULE", "REC", "N") \
                and isinstance(value, int) and not isinstance(value, bool):
            lines.append(f"#define {name} {value}")
    for prefix in ("QI", "UI"):   # row widths of the integer tables without an N_ constant
        lines.append(f"#define N_{prefix} {1 + max(v for n, v in vars(bp).items() if n.startswith(prefix + '_'))}")
    for name in ("ST_T", "ST_BEGIN", "ST_LIVE", "ST_SLOT", "ST_END", "ST_T0", "ST_BAD", "ST_PER_STEP", "ST_CAP",
                 "ST_ROWS", "ST_BAR", "ST_FULL", "N_ST"):
        lines.append(f"#define {name} {getattr(layout, name)}")
    lines.append("#define SLOT(f, p) ((f) + ST_SLOT * (p))   // field f of the step slot of parity p")
    lines.append(f"#define NO_BAD {layout.NO_BAD}ull   // ST_BAD: no unstable neuron")
    for name in sorted(vars(delivery_items)):   # delivery's item records (struct Item, struct Cell)
        if name.split("_")[0] in ("IR", "CR") or name in ("N_IR", "N_CR"):
            lines.append(f"#define {name} {getattr(delivery_items, name)}")
    lines.append(f"#define MODEL_COND {MODEL_CODES['iaf_cond_exp']}")
    lines.append(f"#define MODEL_DELTA {MODEL_CODES['iaf_psc_delta']}")
    lines.append(f"#define MODEL_ALPHA {MODEL_CODES['iaf_psc_alpha']}")
    lines.append(f"#define MODEL_COND_ALPHA {MODEL_CODES['iaf_cond_alpha']}")
    lines.append(f"#define MODEL_AEIF {MODEL_CODES['aeif_cond_exp']}")
    lines.append(f"#define MODEL_AEIF_PSC {MODEL_CODES['aeif_psc_exp']}")
    lines.append(f"#define MODEL_AEIF_DELTA {MODEL_CODES['aeif_psc_delta']}")
    lines.append(f"#define MODEL_IZH {MODEL_CODES['izhikevich']}")
    lines.append(f"#define REDRAW_BIT {REDRAW_BIT}   // the RULES bit of delays redrawn below dt (RULE_VARIANTS)")
    lines.append(f"#define KINDS_BIT {KINDS_BIT}   // the RULES bit of Uniform, Exponential and LogNormal draws "
                 "(RULE_VARIANTS)")
    for name in ("UNIFORM_WEIGHT", "UNIFORM_DELAY", "LOGNORMAL_WEIGHT", "NEGATIVE_WEIGHT", "EXPONENTIAL_WEIGHT",
                 "EXPONENTIAL_DELAY", "WORD_WEIGHT", "WORD_DELAY"):   # JF_KINDS's bits
        lines.append(f"#define {name} {getattr(synapse_variates, name)}")
    lines.append(f"#define RULES_ALL {rule_mask(RULE_VARIANTS[''])}u   // every connection rule (RULE_VARIANTS)")
    lines.append(f"#define STP_BIT {STP_BIT}   // the RULES bit of short-term plasticity (RULE_VARIANTS)")
    for name in ("SF_U", "SF_TAU_REC", "SF_TAU_FAC", "N_SF", "SI_GID0", "SI_SIZE", "SI_OFF", "N_SI"):
        lines.append(f"#define {name} {getattr(short_term, name)}")   # build.short_term's tables
    lines.append(f"#define STP_NO_SPIKE {short_term.NO_SPIKE}")
    for name in ("LF_TAU_PLUS", "LF_TAU_MINUS", "LF_LAMBDA", "LF_ALPHA", "LF_MU_PLUS", "LF_MU_MINUS", "LF_WMAX", "LF_KIND",
                 "N_LF", "KIND_POWER_LAW", "LI_GID0", "LI_SIZE", "LI_OFF", "N_LI", "STDP_CODE0"):
        lines.append(f"#define {name} {getattr(long_term, name)}")   # build.long_term's tables (STDP)
    for name in ("STDP_EPS", "MS_PER_TIC", "SMALLEST_NORMAL"):   # NEST's constants
        lines.append(f"#define {name} ({_double(getattr(long_term, name))})")
    lines.append(f"#define KCAP {poisson_input.KCAP}")
    lines.append(f"#define NOISE_TAG {streams.DOM_NOISE << streams.DOMAIN_SHIFT}u")
    lines.append(f"#define CURRENT_TAG {streams.DOM_CURRENT << streams.DOMAIN_SHIFT}u")
    lines.append(f"#define SOURCE_TAG {streams.tag(streams.DOM_SOURCE, 0)}u")
    lines.append(f"#define PARENT_TAG {streams.tag(streams.DOM_SOURCE, 1)}u   // MIP sources' parent")
    lines.append(f"#define COUNT_TAG {streams.DOM_COUNT << streams.DOMAIN_SHIFT}u")
    lines.append(f"#define PERM_TAG {streams.DOM_PERM << streams.DOMAIN_SHIFT}u")
    lines.append(f"#define REDRAW_TAG {streams.DOM_REDRAW << streams.DOMAIN_SHIFT}u")
    lines.append(f"#define ID_MASK {streams.ID_MASK}u")
    for name in ("ROUNDS", "MIN_BITS"):
        lines.append(f"#define PERM_{name} {getattr(perm, name)}")
    for name in ("MIX_A", "MIX_B", "GOLDEN"):
        lines.append(f"#define PERM_{name} {int(getattr(perm, name))}u")
    for name in ("LN2_HI", "LN2_LO", "INV_LN2", "SQRT_HALF", "HALF_PI"):
        lines.append(f"#define {name} {_double(getattr(pm, name))}")
    lines.append(f"#define EXP_ARG_MIN ({_double(pm.EXP_ARG_MIN)})   // the exponentials' lowest argument")
    for name, coeffs in (("LOG_C", pm.LOG_COEFFS), ("EXPM1_C", pm.EXPM1_COEFFS), ("SIN_C", pm.SIN_COEFFS),
                         ("COS_C", pm.COS_COEFFS)):
        lines.append(f"#define N_{name} {len(coeffs)}")
        lines.append(f"__constant__ double {name}[{len(coeffs)}] = {{{', '.join(_double(c) for c in coeffs)}}};")
    for name, value in rkf45.SCALARS.items():   # the AdEx models' solver (model.rkf45)
        lines.append(f"#define {name} ({_double(value)})")
    for name, coeffs in rkf45.TABLES.items():
        lines.append(f"__constant__ double {name}[{len(coeffs)}] = {{{', '.join(_double(c) for c in coeffs)}}};")
    return "\n".join(lines) + "\n"


def kernel_source(name):
    """Complete CUDA source of one kernel file (header + common device code + kernel)."""
    if name not in KERNELS:
        raise ValueError(f"unknown kernel {name!r}; known: {KERNELS}")
    used = "".join(device_functions(other) for other in USES.get(name, ()))
    return common_source() + used + kernel_file(name)


def device_functions(name):
    """The device functions of one kernel file: its text before its first entry point (the
    files USES names keep their entry points last)."""
    text = (KERNEL_DIR / f"{name}.cu").read_text()
    return text.split('extern "C" __global__', 1)[0].rstrip() + "\n\n"


# a kernel written once for both ring widths: template <typename R> ... void NAME_body(...),
# template <u32 RULES, typename R> for one written once for the rule variants too, or
# template <bool STDP, typename R> for one with and without STDP (STDP_FILES)
_RING_BODY = re.compile(r"template <(u32 RULES, |bool STDP, )?typename R>\s*__device__ __forceinline__ void "
                        r"(\w+)_body\((.*?)\)\s*\{", re.S)


def ring_entry_points(text):
    """The extern "C" entry points of the ring-width templates in a kernel file's `text`:
    NAME with int64 ring buffers (R = i64) and NAME_r32 with int32 ones (R = int), each
    calling NAME_body with its parameters; for a body with a RULES parameter, each of them
    once per rule variant (RULE_VARIANTS: NAME_no_indegree, NAME_no_indegree_r32, ...), with
    the variant's register cap (VARIANT_REGISTERS); for one with an STDP parameter, NAME
    (false) and NAME_stdp (true). Generated, so that each parameter list is written once, in
    the body."""
    out = []
    for rules, name, params in _RING_BODY.findall(text):
        args = ", ".join(decl.replace("*", " ").split()[-1] for decl in params.split(","))
        stdp = rules.startswith("bool")
        if stdp:   # STDP's own variant (STDP_VARIANT): the others' code unchanged
            variants = {"": "false, ", STDP_VARIANT: "true, "}
        else:
            variants = {v: f"{rule_mask(r)}u, " for v, r in RULE_VARIANTS.items()} if rules else {"": ""}
        for variant, mask in variants.items():
            capped = rules and not stdp and variant in VARIANT_REGISTERS
            cap = f"__maxnreg__({VARIANT_REGISTERS[variant]}) " if capped else ""
            for suffix, ctype in (("", "i64"), (R32, "int")):
                typed = re.sub(r"\bR\b", ctype, params)
                out.append(f'extern "C" __global__ void {cap}{name}{variant}{suffix}({typed})\n{{\n'
                           f'    {name}_body<{mask}{ctype}>({args});\n}}\n')
    return "\n".join(out)


def kernel_file(name):
    """The text of one kernel file alone (no header), with its generated entry points."""
    text = (KERNEL_DIR / f"{name}.cu").read_text()
    entries = ring_entry_points(text)
    if entries:
        text += "\n// entry points, generated by distsnn.backends.gpu.source.ring_entry_points\n" + entries
    return text


def common_source():
    """Header and shared device functions (what every kernel file is compiled with)."""
    return constants_header() + "".join((KERNEL_DIR / f).read_text() + "\n" for f in COMMON_FILES)


# C types of kernel parameters -> NumPy dtypes (pointers: the array's dtype; scalars: the value's)
C_TYPES = {"u64": np.uint64, "i64": np.int64, "int": np.int32, "u32": np.uint32, "double": np.float64,
           "short": np.int16}
# NumPy dtypes of scalar parameters -> ctypes (launches that marshal their own arguments)
CTYPES = {np.uint64: ctypes.c_uint64, np.int64: ctypes.c_int64, np.int32: ctypes.c_int32, np.uint32: ctypes.c_uint32,
          np.float64: ctypes.c_double}


@dataclass(frozen=True)
class Param:
    name: str
    dtype: type
    pointer: bool


@dataclass(frozen=True)
class Signature:
    kernel: str
    params: tuple
    decl: str = ""      # the parameter list as written in the .cu file

    def convert(self, args):
        """Check and convert launch arguments: arrays must have the parameter's dtype and be
        C-contiguous; scalars become NumPy scalars of the parameter's type (range-checked)."""
        if len(args) != len(self.params):
            raise TypeError(f"{self.kernel}: {len(self.params)} arguments expected, got {len(args)}")
        out = []
        for p, a in zip(self.params, args):
            if p.pointer:
                if getattr(a, "dtype", None) != np.dtype(p.dtype) or not a.flags.c_contiguous:
                    raise TypeError(f"{self.kernel}: argument {p.name} needs a C-contiguous {np.dtype(p.dtype)} array, "
                                    f"got {type(a).__name__} {getattr(a, 'dtype', '')}")
                out.append(a)
            else:
                if isinstance(a, (np.ndarray,)) or hasattr(a, "__cuda_array_interface__"):
                    raise TypeError(f"{self.kernel}: argument {p.name} is a scalar")
                info = np.iinfo(p.dtype) if np.issubdtype(p.dtype, np.integer) else None
                if info is not None and not (info.min <= int(a) <= info.max):
                    raise OverflowError(f"{self.kernel}: argument {p.name}={a} does not fit {np.dtype(p.dtype)}")
                out.append(p.dtype(a))
        return tuple(out)


def kernel_params(sig, vals, address):
    """The argument block of a driver launch (cuLaunchKernel's kernelParams): an array of
    pointers, one per parameter, each to a C copy of the argument. vals: the arguments as
    Signature.convert gives them; address(array): a device array's address. Returns (block,
    what it points into): both must outlive the launch."""
    cvals = [ctypes.c_void_p(address(a)) if p.pointer else CTYPES[p.dtype](a.item()) for p, a in zip(sig.params, vals)]
    block = (ctypes.c_void_p * max(len(cvals), 1))(*[ctypes.addressof(c) for c in cvals])
    return block, cvals


_ENTRY = re.compile(r'extern "C" __global__ void (?:__maxnreg__\(\d+\) )?(\w+)\((.*?)\)\s*\{', re.S)


def signatures(name):
    """{entry point: Signature} of one kernel file, parsed from its source."""
    out = {}
    for kernel, params in _ENTRY.findall(kernel_file(name)):
        plist = []
        for decl in params.split(","):
            tokens = decl.replace("*", " * ").split()
            pointer = "*" in tokens
            words = [t for t in tokens if t not in ("const", "__restrict__", "*")]
            ctype, pname = words[0], words[-1]
            if ctype not in C_TYPES:
                raise ValueError(f"{name}.cu: kernel {kernel}: parameter type {ctype!r} has no dtype")
            plist.append(Param(pname, C_TYPES[ctype], pointer))
        out[kernel] = Signature(kernel, tuple(plist), params)
    if set(out) != set(ENTRY_POINTS[name]):
        raise ValueError(f"{name}.cu defines {sorted(out)}, expected {ENTRY_POINTS[name]}")
    return out
