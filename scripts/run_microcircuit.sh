#!/usr/bin/env bash
# Set up distsnn in ./.venv (first time only) and run the cortical microcircuit on the best
# device present, writing results/microcircuit.h5 and results/microcircuit_summary.json.
# Extra arguments go to `distsnn run` (e.g. --scale 0.25 --t-sim 2000).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/distsnn ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e .
fi
exec .venv/bin/distsnn run microcircuit --scale "${SCALE:-1}" --t-sim 1000 --seed 1 --backend auto \
    --connectivity procedural --output results/microcircuit.h5 "$@"
