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
        # the traceback of the exception being handled, if any (none from the GPU watchdog's thread)
        if not isinstance(err, (ValueError, MemoryError)) and sys.exc_info()[0] is not None:
            traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        # MPI_Abort tears the launcher down at once and can drop output it has not forwarded
        # yet; half a second lets this rank's message reach the user
        time.sleep(0.5)
        comm.Abort(code)
    return code


_reached = {}   # (spec, phase) -> times this process reached it under that spec (for 'RANK:PHASE:N')


def maybe_inject_fault(comm, phase):
    """Testing hook: DISTSNN_INJECT_FAULT='RANK:PHASE[:N][:kill|:hang]' fails that rank the N-th
    time (default the first) it reaches PHASE (build, simulate, checkpoint: a part written, no
    manifest yet; checkpointed: a checkpoint complete; write; device: a GPU engine's block of
    steps, watched by its watchdog), by raising, with ':kill' by SIGKILL (a job killed from
    outside, nothing cleaned up), or with ':hang' by never returning (a kernel that never
    ends), to check that the whole job goes down promptly and that nothing written before is
    lost."""
    spec = os.environ.get("DISTSNN_INJECT_FAULT")
    if not spec:
        _reached.clear()   # counting starts afresh with the next spec (tests set and unset it in one process)
        return
    fields = spec.split(":")
    how = fields.pop() if fields[-1] in ("kill", "hang") else "raise"
    rank_s, target = fields[0], fields[1] if len(fields) > 1 else ""
    nth = int(fields[2]) if len(fields) > 2 else 1
    rank = comm.Get_rank() if comm is not None else 0
    if target != phase or not rank_s.isdigit() or int(rank_s) != rank:
        return
    key = (spec, phase)
    _reached[key] = _reached.get(key, 0) + 1
    if _reached[key] != nth:
        return
    if how == "kill":
        import signal
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    while how == "hang":
        time.sleep(3600)
    raise RuntimeError(f"injected fault on rank {rank} during {phase}")
