"""GPU backend: CUDA C kernels (kernels/*.cu) compiled at run time by CuPy/NVRTC.

source.py assembles the sources and parses their signatures; simulator.py is the driver
(same interface as the CPU engine); device.py the CUDA device through CuPy; emulator.py an
emulated device that runs the same kernel files as host C++ (tests without a GPU);
binding.py one rank per GPU; nvml.py memory, power and energy. See docs/design.md.
"""
from .source import KERNELS, kernel_source, constants_header

__all__ = ["KERNELS", "kernel_source", "constants_header"]
