#!/usr/bin/env bash
# Set up distsnn with its test extras in ./.venv and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/pytest ] || ! .venv/bin/python -c "import distsnn, scipy, pytest_mpi, pytest_timeout" 2>/dev/null; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[test]"
fi
export PY_COLORS=0
exec .venv/bin/python -m pytest -q --timeout=1200 tests "$@"
