from setuptools import find_packages, setup

setup(
    name="distsnn",
    version="0.1.0",
    description="Large spiking neural networks with procedural connectivity: same spikes on CPU, GPU and MPI ranks",
    python_requires=">=3.10",
    packages=find_packages(include=["distsnn", "distsnn.*", "partitioning", "partitioning.*"]),
    package_data={"distsnn.backends.gpu": ["kernels/*.cu", "kernels/*.cuh", "host_shim.h"]},
    install_requires=["numpy>=1.26", "numba>=0.60", "h5py>=3.10"],
    extras_require={
        # CuPy's wheels do not carry NVRTC (the run-time compiler of the kernels): add it alone
        # rather than the whole toolkit (cupy-cuda12x[ctk] pulls cuBLAS, cuFFT, ... ~2 GB)
        "gpu": ["cupy-cuda12x>=13", "nvidia-cuda-nvrtc-cu12>=12.0,<13", "nvidia-ml-py"],
        "mpi": ["mpi4py>=4.0", "mpich"],
        "analysis": ["matplotlib"],
        "neo": ["neo", "nixio"],
        "test": ["pytest>=8", "pytest-mpi>=0.6", "pytest-timeout", "scipy", "matplotlib", "elephant", "nixio"],
    },
    entry_points={"console_scripts": ["distsnn = distsnn.cli:main"]},
)
