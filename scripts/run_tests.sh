#!/usr/bin/env bash
# Set up distsnn with its MPI, test and GPU extras in ./.venv and run the test suite:
# the MPI tests on 2 and 4 ranks (oversubscribed is fine), then the serial suite.
# Without a GPU the GPU backend runs on its emulated device and the tests marked `gpu` skip;
# on a GPU machine they run. Extra arguments go to the serial pytest (e.g. `-m gpu`).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! .venv/bin/python -c "import distsnn, partitioning, scipy, mpi4py, pytest_mpi, pytest_timeout, cupy, pynvml" 2>/dev/null; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[mpi,test,gpu]"
fi
export PY_COLORS=0
PYTEST_MPI=(.venv/bin/python -m mpi4py -m pytest -q --only-mpi -p no:cacheprovider --timeout=900 --timeout-method=thread tests)
# `python -m mpi4py` turns an uncaught exception on one rank into MPI_Abort: no hung job
timeout 1800 .venv/bin/mpiexec -n 2 "${PYTEST_MPI[@]}"
timeout 1800 .venv/bin/mpiexec -n 4 "${PYTEST_MPI[@]}"
# last, so that the log ends with the serial summary
exec .venv/bin/python -m pytest -q --timeout=1200 tests "$@"
