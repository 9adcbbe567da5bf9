"""Which backend a run uses: `auto` (default), `cpu`, `gpu`, or `gpu-emu`.

auto: the GPU when CuPy imports, a device is visible and a test kernel runs on it, else the
CPU with a one-line notice saying why. gpu: the same test, and a clear error (not a CuPy
traceback) when it fails. gpu-emu: the GPU backend's kernels and driver on the emulated
device (host C++; slow; for tests and debugging without a GPU). Under MPI each rank binds
one GPU by its node-local rank (backends.gpu.binding), and all ranks take the same backend.
"""
import os

BACKENDS = ("auto", "cpu", "gpu", "gpu-emu")


class BackendUnavailable(ValueError):
    """The requested backend cannot run here (the message says why and what to do)."""


def _all_agree(comm, ok):
    return ok if comm is None or comm.Get_size() == 1 else bool(comm.allreduce(int(bool(ok)), op=_min_op()))


def _min_op():
    from mpi4py import MPI
    return MPI.MIN


def emulated_devices():
    """How many devices the emulated GPU shows (DISTSNN_GPU_EMU_DEVICES, default 1)."""
    return int(os.environ.get("DISTSNN_GPU_EMU_DEVICES", "1"))


def device_index(backend, comm, share_gpus=False):
    """The device this rank takes among all ranks of `comm` (by its node-local rank), for
    jobs whose ranks then run simulations of their own (sweeps): resolve(..., index=) uses
    it, so that ranks on one node do not all take device 0. None for the CPU, or where
    `auto` finds no GPU (each run then says so itself). Collective over comm."""
    if backend == "cpu":
        return None
    from .gpu.binding import bind_rank
    if backend == "gpu-emu":
        return bind_rank(comm, emulated_devices(), share_gpus)
    from .gpu.device import cuda_device_count
    n, _ = cuda_device_count()
    if not _all_agree(comm, n > 0):
        return None
    return bind_rank(comm, n, share_gpus)


def resolve(backend, comm=None, share_gpus=False, log=None, index=None):
    """(name, device or None): name is 'cpu', 'gpu' or 'gpu-emu'; device the opened device.
    index: the device to take (device_index), else this rank's by its node-local rank in comm."""
    log = log or (lambda msg: None)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "cpu":
        return "cpu", None
    from .gpu.binding import bind_rank   # both device kinds bind one device per rank
    if backend == "gpu-emu":
        from .gpu.emulator import EmulatedDevice
        if index is None:
            index = bind_rank(comm, emulated_devices(), share_gpus)
        rank = comm.Get_rank() if comm is not None else 0
        seed = int(os.environ.get("DISTSNN_GPU_EMU_ORDER_SEED", "0")) + rank
        try:
            return "gpu-emu", EmulatedDevice(seed=seed, index=index)
        except (RuntimeError, OSError) as err:   # no C++ compiler, or it failed
            raise BackendUnavailable(f"--backend gpu-emu: {err}") from None
    from .gpu.device import CudaDevice, cuda_device_count, kernel_works
    n, reason = cuda_device_count()
    if _all_agree(comm, n > 0):
        if index is None:
            index = bind_rank(comm, n, share_gpus)   # a binding error is an error under auto too
        ok, reason = kernel_works(index)
    else:
        ok = False
        reason = reason or "another rank has no usable GPU"
    if not _all_agree(comm, ok):
        reason = reason or "another rank's GPU failed its test kernel"
        if backend == "gpu":
            raise BackendUnavailable(f"--backend gpu: no usable GPU: {reason}")
        log(f"backend auto: no usable GPU ({reason}); running on the CPU")
        return "cpu", None
    return "gpu", CudaDevice(index)
