"""The host's waits for a GPU, watched.

A kernel that never ends (a grid barrier that some block never reaches, a loop that never
exits) blocks its rank in the driver for good: in the flush's copy back, or in a launch once
the driver's queue is full. Under MPI every other rank then waits in the next exchange, and
the job holds its nodes until the batch system's time limit. A running kernel cannot be
cancelled, so the process has nothing left to do but end.

A Watchdog thread does that: when one block of steps (enqueue and flush) takes longer than
`limit` seconds (DISTSNN_GPU_WATCHDOG_S, default DEFAULT_LIMIT_S; 0: off), it prints what was
waited for and ends the job as a failing rank does (comm.faults.fail_whole_job: MPI_Abort
under MPI), or ends this process. A block of 500 steps takes about a second on a GPU for the
full-scale multi-area model, so the default leaves a wide margin while still ending a hung job
in minutes, not hours.
"""
import os
import sys
import threading
import time
from contextlib import contextmanager

from ...comm.faults import fail_whole_job, maybe_inject_fault

DEFAULT_LIMIT_S = 600.0
EXIT_CODE = 70   # EX_SOFTWARE: an internal error (a hung kernel), not bad input


def watchdog_limit(limit=None):
    """Seconds one block of steps may take before the job is ended: given, or
    DISTSNN_GPU_WATCHDOG_S, else DEFAULT_LIMIT_S; 0 turns the watchdog off."""
    if limit is None:
        text = os.environ.get("DISTSNN_GPU_WATCHDOG_S", "").strip()
        try:
            limit = float(text) if text else DEFAULT_LIMIT_S
        except ValueError:
            raise ValueError(f"DISTSNN_GPU_WATCHDOG_S={text!r} is not a number of seconds") from None
    if not limit >= 0:
        raise ValueError(f"the GPU watchdog's limit must be 0 (off) or more seconds, got {limit}")
    return float(limit)


def end_job(comm, message):
    """Print `message` as this rank's error and end the job: MPI_Abort under MPI (through
    fail_whole_job), else this process (os._exit: the main thread is stuck in the driver and
    cannot unwind)."""
    fail_whole_job(comm, RuntimeError(message), EXIT_CODE)
    sys.stderr.flush()
    os._exit(EXIT_CODE)


class Watchdog:
    """Watches the waits of one simulator's blocks of steps (`watch`). comm: the job's
    communicator (None for one process); expire(message): what to do when a wait runs past
    the limit (default: end_job)."""

    def __init__(self, limit_s, comm=None, expire=None):
        self.limit = float(limit_s)
        self.comm = comm
        self.expire = expire or (lambda message: end_job(comm, message))
        self._lock = threading.Lock()
        self._deadline = None
        self._what = None
        self._thread = None
        self._stop = threading.Event()
        self.expired = False

    @contextmanager
    def watch(self, what):
        """The enclosed wait must end within the limit; `what` says what was waited for."""
        if self.limit:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="distsnn-gpu-watchdog", daemon=True)
                self._thread.start()
            with self._lock:
                self._deadline, self._what = time.monotonic() + self.limit, what
        try:
            # testing hook: DISTSNN_INJECT_FAULT='RANK:device:N:hang' hangs here, as a kernel would
            maybe_inject_fault(self.comm, "device")
            yield
        finally:
            with self._lock:
                self._deadline = None

    def stop(self):
        """End the watching thread (the run is over)."""
        self._stop.set()

    def _run(self):
        poll = min(1.0, self.limit / 20)
        while not self._stop.wait(poll):
            with self._lock:
                deadline, what = self._deadline, self._what
            if deadline is not None and time.monotonic() > deadline:
                self.expired = True
                self.expire(f"the GPU did not finish {what} within {self.limit:g} s (DISTSNN_GPU_WATCHDOG_S): "
                            "a kernel hangs, or the limit is too short for this model")
                return
