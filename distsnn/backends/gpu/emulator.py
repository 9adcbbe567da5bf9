"""Emulated device: the CUDA kernel files compiled as host C++ and run on the CPU.

It exists so that the GPU backend (kernels *and* driver) is tested everywhere, on machines
without a GPU included: `--backend gpu-emu` runs `GpuSimulator` with this device, and the
tests compare its spikes bit for bit with the CPU engine. The kernels are the very files
CuPy compiles on a GPU, wrapped by a generated loop over blocks and threads (host_shim.h);
blocks and threads run in an order shuffled at every launch, so order-dependent results
(a race on a GPU) differ between runs and fail the tests. Kernels with grid barriers or warp
shuffles and votes run every thread as a fiber, so that threads wait for one another where a
GPU's would. What it cannot show: real
concurrency, memory-model effects, launch limits and speed; those need a GPU (tests marked
`gpu`). It is slow (one host thread) and meant for tests and debugging.
"""
import ctypes
import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile

import numpy as np

from .launches import launch_choices, row_rounds
from .step_setups import trial_steps, tune_choice
from .source import COOPERATIVE, CTYPES, KERNELS, WARP_SYNC, common_source, kernel_file, signatures

SHIM = pathlib.Path(__file__).resolve().parent / "host_shim.h"
# files whose kernels run as fibers (host_shim.h emu_fibers): grid barriers or warp operations
FIBER_FILES = COOPERATIVE + WARP_SYNC
# what a fiber launch reports by its return code
HANGS = {1: "some threads returned while others waited at a grid barrier",
         2: "a warp operation waited for lanes that never reached it"}
CXXFLAGS = ("-O2", "-std=c++17", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math", "-w")


def _wrapper(sig):
    """C++ launcher: loop over the grid's blocks and each block's threads in the given orders."""
    kernel, names = sig.kernel, ", ".join(p.name for p in sig.params)
    return f'''
extern "C" void emu_{kernel}(unsigned int gx, unsigned int gy, unsigned int bx, const unsigned int* border,
                             const unsigned int* torder, {sig.decl}) {{
    gridDim.x = gx; gridDim.y = gy; gridDim.z = 1; blockDim.x = bx; blockDim.y = 1; blockDim.z = 1;
    const unsigned long long nb = (unsigned long long)gx * gy;
    for (unsigned long long b = 0; b < nb; ++b) {{
        blockIdx.x = border[b] % gx; blockIdx.y = border[b] / gx; blockIdx.z = 0;
        for (unsigned int t = 0; t < bx; ++t) {{
            threadIdx.x = torder[t]; threadIdx.y = 0; threadIdx.z = 0;
            {kernel}({names});
        }}
    }}
}}
'''


def _fiber_wrapper(sig):
    """C++ launcher of a kernel with grid barriers or warp operations: every thread a
    coroutine (host_shim.h); returns 1 or 2 where the barriers or the warp operations would
    hang a GPU."""
    kernel, names = sig.kernel, ", ".join(p.name for p in sig.params)
    return f'''
extern "C" int emu_{kernel}(unsigned int gx, unsigned int gy, unsigned int bx, const unsigned int* border,
                            const unsigned int* torder, {sig.decl}) {{
    gridDim.x = gx; gridDim.y = gy; gridDim.z = 1; blockDim.x = bx; blockDim.y = 1; blockDim.z = 1;
    const std::function<void()> call = [&]() {{ {kernel}({names}); }};
    return emu_fibers(gx * gy, bx, border, torder, call);
}}
'''


def host_source():
    """One translation unit: shim, generated header, device functions, every kernel, launchers."""
    parts = [SHIM.read_text(), common_source()]
    for name in KERNELS:
        parts.append(kernel_file(name))
        wrap = _fiber_wrapper if name in FIBER_FILES else _wrapper
        parts.extend(wrap(sig) for sig in signatures(name).values())
    return "\n".join(parts)


def compiler():
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")
    if not cxx:
        raise RuntimeError("the emulated GPU needs a C++ compiler (g++ or clang++, or set CXX)")
    return cxx


def build_library():
    """Compile (once per source hash, cached under ~/.cache/distsnn) and return the .so path."""
    src = host_source()
    cxx = compiler()
    digest = hashlib.sha256((src + cxx + " ".join(CXXFLAGS)).encode()).hexdigest()[:16]
    root = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "distsnn"
    lib = root / f"gpu-emu-{digest}.so"
    if lib.exists():
        return lib
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:   # same file system: the rename is atomic
        cpp = pathlib.Path(tmp) / "kernels.cpp"
        cpp.write_text(src)
        out = pathlib.Path(tmp) / "lib.so"
        proc = subprocess.run([cxx, *CXXFLAGS, "-o", str(out), str(cpp)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"compiling the kernels for the emulated GPU failed:\n{proc.stderr[-4000:]}")
        os.replace(out, lib)   # concurrent ranks: the last rename wins, every copy is identical
    return lib


class EmulatedDevice:
    """The device interface of `GpuSimulator` (see device.py) on the host.

    seed: order of blocks and threads; block_threads: threads per block used by the driver
    (small, to keep emulation fast while still striding); team: threads per row in
    delivery (a divisor of block_threads); step_loop: run blocks of steps as one launch of
    the step loop where the model allows (step_loop.cu); rows: rounds of a team per part of
    a delivery row (launches.row_rounds; 0: whole rows); tune: try the step setups on a
    run's first steps (step_setups.tune_choice).
    """
    name = "emulated GPU (host C++)"
    kind = "gpu-emu"
    xp = np
    multiprocessors = 2
    # what a multiprocessor holds at once (a cooperative launch's limit): at most resident_blocks
    # blocks, and at most resident_threads threads (default: resident_blocks blocks of
    # block_threads), as a GPU's registers bound both
    resident_blocks = 2
    resident_threads = None

    def __init__(self, seed=0, block_threads=4, index=0, team=2, step_loop=None, rows=None, tune=None):
        if team < 1 or block_threads % team:
            raise ValueError(f"the delivery team ({team} threads) must divide the block ({block_threads})")
        self.index = index
        self.step_loop, self.rule_variants = launch_choices(step_loop)   # as on a GPU
        self.row_rounds = row_rounds(rows)
        self.tune = tune_choice(tune)
        self.tune_steps = trial_steps() if self.tune else None   # (checked before anything is built)
        self.block_threads = block_threads
        self.team = team
        self.rng = np.random.default_rng(seed)
        self.lib = ctypes.CDLL(str(build_library()))
        self.sigs = {}
        self.funcs = {}
        self.cooperative = {k for name in COOPERATIVE for k in signatures(name)}
        self.fibers = {k for name in FIBER_FILES for k in signatures(name)}
        for name in KERNELS:
            for kernel, sig in signatures(name).items():
                fn = getattr(self.lib, f"emu_{kernel}")
                fn.argtypes = [ctypes.c_uint32] * 3 + [ctypes.c_void_p] * 2 + [
                    ctypes.c_void_p if p.pointer else CTYPES[p.dtype] for p in sig.params]
                fn.restype = ctypes.c_int if kernel in self.fibers else None
                self.sigs[kernel] = sig
                self.funcs[kernel] = fn
        self.peak_bytes = 0
        self._bytes = 0
        self.copies = {"to_host": 0, "to_device": 0}   # host <-> device copies made (as on a GPU)

    # memory
    def _track(self, a):
        self._bytes += a.nbytes
        self.peak_bytes = max(self.peak_bytes, self._bytes)
        return a

    def to_device(self, a, dtype=None):
        self.copies["to_device"] += 1
        return self._track(np.array(a, dtype=dtype, order="C", copy=True))

    def zeros(self, shape, dtype):
        return self._track(np.zeros(shape, dtype=dtype))

    def to_host(self, a):
        self.copies["to_host"] += 1
        return np.array(a, copy=True)

    def copy_to(self, dst, src):
        """Host array src into device array dst (same size)."""
        self.copies["to_device"] += 1
        dst[...] = src

    def assign(self, dst, src):
        """Host array src into a device view dst of the same shape, strided views included."""
        self.copies["to_device"] += 1
        dst[...] = src

    def synchronize(self):
        pass

    def free_bytes(self):
        from ..cpu.sizes import available_memory
        return available_memory()

    def bind(self, kernel, grid, block, args):
        """The launch as a callable, arguments checked and converted once (for launches
        repeated every step); each call runs blocks and threads in a new shuffled order."""
        gx, gy = (grid, 1) if isinstance(grid, int) else (grid + (1,))[:2]
        sig = self.sigs[kernel]
        vals = sig.convert(args)
        cargs = [a.ctypes.data if p.pointer else a for p, a in zip(sig.params, vals)]
        fn = self.funcs[kernel]
        if kernel in self.cooperative and gx * gy > (resident := self.cooperative_grid(kernel, block)):
            raise RuntimeError(f"cooperative launch of {kernel}: {gx * gy} blocks, but only {resident} can be resident")

        def run():
            if gx * gy == 0:
                return
            border = self.rng.permutation(gx * gy).astype(np.uint32)
            torder = self.rng.permutation(block).astype(np.uint32)
            hang = fn(gx, gy, block, border.ctypes.data, torder.ctypes.data, *cargs)
            if hang:
                raise RuntimeError(f"{kernel}: {HANGS[hang]} (a GPU would hang)")
        run.keep = vals   # the converted arguments live as long as the launch
        return run

    def cooperative_grid(self, kernel, block):
        """The most blocks of `block` threads a cooperative launch of `kernel` may have (all
        resident at once)."""
        threads = self.resident_threads or self.resident_blocks * self.block_threads
        return min(self.resident_blocks, threads // block) * self.multiprocessors

    def launch(self, kernel, grid, block, args):
        self.bind(kernel, grid, block, args)()

    def graph(self, record):
        """A replayable sequence of launches; on the host simply the function itself."""
        return record

    def memory_info(self):
        return {"peak_allocated_bytes": int(self.peak_bytes)}

    def close(self):
        pass

