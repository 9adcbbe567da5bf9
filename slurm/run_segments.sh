#!/usr/bin/env bash
# A long simulation as a chain of SLURM jobs: segment k restarts from the checkpoint of
# segment k-1, so no job needs more wall time than one segment, and a failed job loses only
# its own segment. A last job joins the segments' spike files into one, identical to the
# file of one uninterrupted run.
#
#   slurm/run_segments.sh N SEGMENT_MS PREFIX MODEL [options of `distsnn run`]
#
# writes PREFIX.seg<k>.h5 (k = 0..N-1, each with its summary), the checkpoints
# PREFIX.ckpt<k>/ (delete them once the next segment has run) and, for N > 1, PREFIX.h5
# (all segments joined).
# SBATCH_OPTS: options for every segment job (e.g. "--ntasks=8 --time=02:00:00
# --gpus-per-task=1"); DISTSNN and SRUN_MPI as in segment.sbatch. Prints the job ids, the
# joining job's last. To go on after a failed segment k, run `sbatch slurm/segment.sbatch
# MODEL ... --restart PREFIX.ckpt<k-1>` by hand: the chain stops at the first failure.
set -euo pipefail
if [ $# -lt 4 ]; then
    sed -n '2,17p' "$0" >&2
    exit 2
fi
N=$1; SEG_MS=$2; PREFIX=$3; shift 3
case $N in ''|*[!0-9]*|0) echo "run_segments.sh: N must be a positive integer, got '$N'" >&2; exit 2;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
DISTSNN=${DISTSNN:-distsnn}
read -r -a OPTS <<< "${SBATCH_OPTS:-}"
dep=()
files=()
for ((k = 0; k < N; k++)); do
    restart=()
    if [ "$k" -gt 0 ]; then restart=(--restart "$PREFIX.ckpt$((k - 1))"); fi
    job=$(sbatch --parsable "${OPTS[@]}" "${dep[@]}" --job-name="distsnn-seg$k" "$HERE/segment.sbatch" "$@" \
          --t-sim "$SEG_MS" --output "$PREFIX.seg$k.h5" --checkpoint "$PREFIX.ckpt$k" "${restart[@]}")
    job=${job%%;*}
    echo "$job"
    dep=(--dependency="afterok:$job")
    files+=("$PREFIX.seg$k.h5")
done
if [ "$N" -gt 1 ]; then
    printf -v quoted '%q ' "${files[@]}"
    sbatch --parsable "${dep[@]}" --ntasks=1 --job-name=distsnn-join --output="distsnn-join-%j.out" \
        --wrap "$DISTSNN join $quoted--output $(printf '%q' "$PREFIX.h5")" | cut -d';' -f1
else
    echo "$job"   # one segment: nothing to join
fi
