"""GPU backend (CUDA C kernels compiled at run time by CuPy/NVRTC).

Status: the kernels (one per operation, merged over populations) exist and are compiled for
sm_80 and sm_90 in the tests; the CuPy driver that runs them, and the bit-for-bit checks
against the CPU engine, need a GPU and are the next step (see docs/design.md).
"""
from .source import KERNELS, kernel_source, constants_header

__all__ = ["KERNELS", "kernel_source", "constants_header"]
