"""A CUDA device through CuPy: kernels compiled at run time by NVRTC, one stream, CUDA graphs.

The interface (shared with emulator.EmulatedDevice): to_device, zeros, to_host, copy_to,
bind, launch, cooperative_grid, graph, synchronize, free_bytes, memory_info, close; attributes
name, kind, index, xp, multiprocessors, block_threads, team, step_loop, rule_variants,
row_rounds (rounds of a team per part of a delivery row: launches.row_rounds), tune (try the
step setups on a run's first steps: step_setups), copies (host <-> device copies made so far,
by direction).
"""
import ctypes
import os

import numpy as np

from .launches import env_int, launch_choices, row_rounds
from .step_setups import trial_steps, tune_choice
from .source import COOPERATIVE, KERNELS, NVCC_FLAGS, compile_options, kernel_params, kernel_source, signatures


def _short(err):
    text = f"{type(err).__name__}: {err}".strip()
    return text.splitlines()[0][:200]


def cuda_device_count():
    """(number of visible CUDA devices, reason when 0). Creates no CUDA context."""
    try:
        import cupy
    except Exception as err:   # ImportError, or a broken CUDA install
        return 0, f"CuPy is not importable ({_short(err)}); install the GPU extra: pip install 'distsnn[gpu]'"
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:
        return 0, f"no usable CUDA driver or device ({_short(err)})"
    if n < 1:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        return 0, "no CUDA device is visible" + (f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else "")
    return n, ""


def kernel_works(index):
    """(True, '') if a tiny NVRTC-compiled kernel runs on device `index`, else (False, reason)."""
    try:
        import cupy
        with cupy.cuda.Device(index):
            k = cupy.RawKernel(r'extern "C" __global__ void probe(int* x) { x[threadIdx.x] = 7 * threadIdx.x; }',
                               "probe", options=NVCC_FLAGS)
            x = cupy.zeros(32, dtype=cupy.int32)
            k((1,), (32,), (x,))
            ok = bool((x.get() == 7 * np.arange(32)).all())
        return (True, "") if ok else (False, f"a test kernel gave wrong results on device {index}")
    except Exception as err:
        return False, (f"a test kernel failed on device {index} ({_short(err)}); NVRTC may be missing: "
                       "pip install 'cupy-cuda12x[ctk]' or install the CUDA toolkit")


def usable_gpu(index=0):
    """(True, '') if CUDA device `index` is visible and runs a test kernel, else (False, reason)."""
    n, reason = cuda_device_count()
    if n <= index:
        return False, reason or f"no CUDA device {index} ({n} visible)"
    return kernel_works(index)


class CudaDevice:
    kind = "gpu"

    def __init__(self, index=0, block_threads=128, graphs=None, team=None, step_loop=None, rows=None, tune=None):
        import cupy
        self.cp = cupy
        self.xp = cupy
        self.index = index
        self.block_threads = block_threads
        # threads per row in delivery: two warps by default (full-scale microcircuit on an H100:
        # 23.3 us per step with 64, 27.4 with 32, 25.2 with 128; bench/results)
        self.team = env_int("DISTSNN_GPU_TEAM", 64, "threads") if team is None else team
        if self.team < 1 or block_threads % self.team:
            raise ValueError(f"the delivery team ({self.team} threads) must divide the block ({block_threads})")
        self.use_graphs = (os.environ.get("DISTSNN_CUDA_GRAPHS", "1") != "0") if graphs is None else graphs
        self.step_loop, self.rule_variants = launch_choices(step_loop)
        self.row_rounds = row_rounds(rows)   # delivery's rows in parts (0: whole)
        self.tune = tune_choice(tune)        # try the step setups on a run's first steps (step_setups)
        self.tune_steps = trial_steps() if self.tune else None   # (checked before anything is built)
        cupy.cuda.Device(index).use()
        props = cupy.cuda.runtime.getDeviceProperties(index)
        name = props["name"]
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.multiprocessors = int(props["multiProcessorCount"])
        self.pci_bus_id = cupy.cuda.Device(index).pci_bus_id
        self.stream = cupy.cuda.Stream(non_blocking=True)
        self.stream.use()   # every copy, allocation and launch of this process goes here, in order
        self.pool = cupy.get_default_memory_pool()
        self.peak_bytes = 0
        self.copies = {"to_host": 0, "to_device": 0}   # host <-> device copies made (each a trip to the driver)
        self.sigs, self.funcs = {}, {}
        self.cooperative = {k for name in COOPERATIVE for k in signatures(name)}
        for name in KERNELS:
            module = cupy.RawModule(code=kernel_source(name), options=compile_options(name))
            for kernel, sig in signatures(name).items():
                self.sigs[kernel] = sig
                self.funcs[kernel] = module.get_function(kernel)   # compiles and loads now, not in a capture

    def _track(self, a):
        self.peak_bytes = max(self.peak_bytes, self.pool.used_bytes())
        return a

    def to_device(self, a, dtype=None):
        self.copies["to_device"] += 1
        return self._track(self.cp.asarray(np.ascontiguousarray(a, dtype=dtype)))

    def zeros(self, shape, dtype):
        return self._track(self.cp.zeros(shape, dtype=dtype))

    def to_host(self, a):
        self.copies["to_host"] += 1
        return a.get(stream=self.stream)   # blocking: waits for the stream

    def copy_to(self, dst, src):
        self.copies["to_device"] += 1
        dst.set(np.ascontiguousarray(src, dtype=dst.dtype), stream=self.stream)

    def assign(self, dst, src):
        """Host array src into a device view dst of the same shape, strided views included."""
        self.copies["to_device"] += 1
        dst[...] = self.cp.asarray(np.ascontiguousarray(src, dtype=dst.dtype))

    def bind(self, kernel, grid, block, args):
        """The launch as a callable, arguments checked and converted once (for launches
        repeated every step)."""
        grid = (grid,) if isinstance(grid, int) else tuple(grid)
        fn, vals = self.funcs[kernel], self.sigs[kernel].convert(args)
        if kernel in self.cooperative:
            return self._bind_cooperative(kernel, grid, block, vals)
        return lambda: fn(grid, (block,), vals)

    def _bind_cooperative(self, kernel, grid, block, vals):
        """A cooperative launch (cuLaunchCooperativeKernel: every block resident at once, or
        the driver refuses the launch) with its arguments marshalled here. CuPy's own
        (enable_cooperative_groups) would compile the module as relocatable code, which
        needs the CUDA toolkit's cudadevrt in some versions, and would shrink a grid that is
        too large instead of failing."""
        from cupy_backends.cuda.api import driver
        params, keep = kernel_params(self.sigs[kernel], vals, lambda a: a.data.ptr)
        ptr = self.funcs[kernel].kernel.ptr
        gx, gy = (tuple(grid) + (1,))[:2]

        def run():
            driver.launchCooperativeKernel(ptr, gx, gy, 1, block, 1, 1, 0, self.stream.ptr, ctypes.addressof(params))
        run.keep = (vals, params, keep)   # the arguments and their block live as long as the launch
        return run

    def launch(self, kernel, grid, block, args):
        self.bind(kernel, grid, block, args)()

    def cooperative_grid(self, kernel, block):
        """The most blocks of `block` threads a cooperative launch of `kernel` may have: as
        many as its registers and shared memory let each multiprocessor hold at once."""
        from cupy_backends.cuda.api import driver
        ptr = self.funcs[kernel].kernel.ptr
        # a block larger than the kernel's registers allow is none at all (launches.loop_shape
        # tries every size)
        if block > driver.funcGetAttribute(driver.CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, ptr):
            return 0
        per_sm = driver.occupancyMaxActiveBlocksPerMultiprocessor(ptr, block, 0)
        return int(per_sm) * self.multiprocessors

    def graph(self, record):
        """Capture the launches of record() into a CUDA graph; returns its launcher (falls
        back to plain launches where capture is unavailable or disabled)."""
        if not self.use_graphs:
            return record
        try:
            self.stream.begin_capture()
            try:
                record()
            finally:
                graph = self.stream.end_capture()
        except Exception as err:   # capture unsupported here: plain launches, same results
            self.use_graphs = False
            self.graph_error = f"{type(err).__name__}: {err}"
            return record
        return lambda: graph.launch(self.stream)

    def synchronize(self):
        self.stream.synchronize()

    def free_bytes(self):
        free, _ = self.cp.cuda.runtime.memGetInfo()
        return int(free) + int(self.pool.free_bytes())

    def memory_info(self):
        self._track(None)
        free, total = self.cp.cuda.runtime.memGetInfo()
        return {"peak_allocated_bytes": int(self.peak_bytes), "pool_total_bytes": int(self.pool.total_bytes()),
                "device_total_bytes": int(total), "device_free_bytes": int(free)}

    def close(self):
        self.synchronize()


def nvrtc_ptx(name, arch="compute_90"):
    """PTX of one kernel file compiled by NVRTC (through CuPy) with the run-time options.
    Needs no device: CI checks with it that what CuPy compiles on a GPU compiles."""
    from cupy.cuda import nvrtc
    prog = nvrtc.createProgram(kernel_source(name), f"{name}.cu", [], [])
    try:
        try:
            nvrtc.compileProgram(prog, [f"-arch={arch}", *compile_options(name)])
        except nvrtc.NVRTCError as err:
            raise RuntimeError(f"NVRTC failed on {name}.cu for {arch}: {err}\n{nvrtc.getProgramLog(prog)}") from None
        ptx = nvrtc.getPTX(prog)
    finally:
        nvrtc.destroyProgram(prog)
    return ptx.decode() if isinstance(ptx, bytes) else ptx
