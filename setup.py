from setuptools import find_packages, setup

setup(
    name="distsnn",
    version="0.1.0",
    description="Large spiking neural networks with procedural connectivity: same spikes on CPU, GPU and MPI ranks",
    python_requires=">=3.10",
    packages=find_packages(include=["distsnn", "distsnn.*", "partitioning", "partitioning.*"]),
    install_requires=["numpy>=1.26", "numba>=0.60", "h5py>=3.10"],
    extras_require={
        "gpu": ["cupy-cuda12x", "nvidia-ml-py"],
        "mpi": ["mpi4py>=4.0", "mpich"],
        "analysis": ["matplotlib"],
        "neo": ["neo", "nixio"],
        "test": ["pytest>=8", "pytest-mpi>=0.6", "pytest-timeout", "scipy", "matplotlib", "elephant", "nixio"],
    },
    entry_points={"console_scripts": ["distsnn = distsnn.cli:main"]},
)
