#!/usr/bin/env bash
# The collective-write (mpio) leg of the MPI tests: h5py built against Open MPI's parallel
# HDF5 in ./.venv-ph5 (PyPI's h5py is serial), then the MPI tests under Open MPI's mpiexec.
# Needs root for apt-get (as on CI and the development machines).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! .venv-ph5/bin/python -c "import h5py, sys; sys.exit(not h5py.get_config().mpi)" 2>/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends openmpi-bin libopenmpi-dev libhdf5-openmpi-dev pkg-config >/dev/null
    rm -rf .venv-ph5
    "$PYTHON" -m venv .venv-ph5
    .venv-ph5/bin/python -m pip install -q --upgrade pip
    # no PyPI MPICH here: mpi4py must use the same MPI (Open MPI) as h5py
    .venv-ph5/bin/python -m pip install -q numpy cython pkgconfig "setuptools>=77" "mpi4py>=4.1" numba scipy \
        pytest pytest-mpi pytest-timeout
    # --no-build-isolation: otherwise h5py's build pins and compiles its own mpi4py (slow, 20 GB)
    CC=mpicc.openmpi HDF5_MPI=ON HDF5_DIR=/usr/lib/x86_64-linux-gnu/hdf5/openmpi CFLAGS=-O0 \
        .venv-ph5/bin/python -m pip install -q --no-binary=h5py --no-build-isolation h5py
    .venv-ph5/bin/python -m pip install -q --no-deps --no-build-isolation -e .
fi
.venv-ph5/bin/python -c "import h5py; assert h5py.get_config().mpi; print('h5py', h5py.__version__, 'with MPI')"
export PY_COLORS=0 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
exec timeout 1200 mpiexec.openmpi -n 2 .venv-ph5/bin/python -m mpi4py -m pytest -q --only-mpi -p no:cacheprovider \
    --timeout=600 --timeout-method=thread tests/test_mpi.py "$@"
