"""Failing fast: one rank's exception ends the whole job, and a hook to test exactly that."""
import os
import sys
import time
import traceback


def fail_whole_job(comm, err, code=1):
    """Print this rank's error and abort every rank (MPI_Abort), so no rank waits forever in
    a collective. In a single process simply return the exit code."""
    rank = comm.Get_rank() if comm is not None else 0
    size = comm.Get_size() if comm is not None else 1
    prefix = f"[rank {rank}/{size}] " if size > 1 else ""
    print(f"{prefix}distsnn: error: {err}", file=sys.stderr, flush=True)
    if size > 1:
        if not isinstance(err, (ValueError, MemoryError)):
            traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        # MPI_Abort tears the launcher down at once and can drop output it has not forwarded
        # yet; half a second lets this rank's message reach the user
        time.sleep(0.5)
        comm.Abort(code)
    return code


def maybe_inject_fault(comm, phase):
    """Testing hook: DISTSNN_INJECT_FAULT='RANK:PHASE' raises on that rank in that phase
    (build, simulate, checkpoint or write), to check that the whole job goes down promptly."""
    spec = os.environ.get("DISTSNN_INJECT_FAULT")
    if not spec:
        return
    rank_s, _, target = spec.partition(":")
    rank = comm.Get_rank() if comm is not None else 0
    if target == phase and rank_s.isdigit() and int(rank_s) == rank:
        raise RuntimeError(f"injected fault on rank {rank} during {phase}")
