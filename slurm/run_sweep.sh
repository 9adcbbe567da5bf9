#!/usr/bin/env bash
# A parameter sweep as a SLURM job array: one array task per point not yet done (each a
# `distsnn sweep ... --only K` job, see sweep.sbatch), then a job that writes the sweep's
# table (and plot) once every task has succeeded.
#
#   slurm/run_sweep.sh MODEL --vary NAME=V1,V2,... [--vary ...] --output-dir DIR [options of `distsnn sweep`]
#
# The sweep and its points are checked here, before anything is submitted. After a failed or
# cancelled task, run the same command again: it submits only the points not done.
# SBATCH_OPTS: options for every array task (e.g. "--ntasks=4 --time=00:30:00 --gpus-per-task=1");
# ARRAY_LIMIT: at most this many tasks running at once; DISTSNN and SRUN_MPI as in sweep.sbatch.
# Prints the array job's id, then the collecting job's.
set -euo pipefail
if [ $# -lt 1 ]; then
    sed -n '2,14p' "$0" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
DISTSNN=${DISTSNN:-distsnn}
read -r -a OPTS <<< "${SBATCH_OPTS:-}"
listing=$($DISTSNN sweep "$@" --list)   # a bad sweep or point: distsnn's one-line error, exit 2
todo=$(awk '$NF == "run" {print $1}' <<< "$listing" | paste -sd, -)
printf -v quoted '%q ' "$@"
dep=()
if [ -n "$todo" ]; then
    array=$(sbatch --parsable "${OPTS[@]}" --array="$todo${ARRAY_LIMIT:+%$ARRAY_LIMIT}" "$HERE/sweep.sbatch" "$@")
    array=${array%%;*}
    echo "$array"
    dep=(--dependency="afterok:$array")
else
    echo "run_sweep.sh: every point is done; only the table is written" >&2
fi
sbatch --parsable "${dep[@]}" --ntasks=1 --job-name=distsnn-sweep-collect --output="distsnn-sweep-collect-%j.out" \
    --wrap "$DISTSNN sweep $quoted--collect" | cut -d';' -f1
