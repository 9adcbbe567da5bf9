#!/usr/bin/env bash
# Set up distsnn in ./.venv (first time only) and run the cortical microcircuit on the best
# device present, writing results/microcircuit.h5 and results/microcircuit_summary.json.
# With an NVIDIA GPU (nvidia-smi lists one) the GPU extra (CuPy, NVRTC, NVML) is installed
# and `--backend auto` runs there; otherwise on the CPU, with a one-line notice.
# Extra arguments go to `distsnn run` (e.g. --scale 0.25 --t-sim 2000).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
EXTRAS=""
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    EXTRAS="[gpu]"
fi
if [ ! -x .venv/bin/distsnn ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
fi
if [ ! -x .venv/bin/distsnn ] || { [ -n "$EXTRAS" ] && ! .venv/bin/python -c "import cupy, pynvml" 2>/dev/null; }; then
    .venv/bin/python -m pip install -q -e ".$EXTRAS"
fi
# 1.5 s as NEST's example runs it: 0.5 s to settle, then the rates over the last second,
# printed next to NEST's full-scale ones
exec .venv/bin/distsnn run microcircuit --scale "${SCALE:-1}" --t-sim 1500 --rates-from 500 --seed 1 \
    --backend auto --connectivity procedural --output results/microcircuit.h5 "$@"
