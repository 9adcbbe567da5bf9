"""Everything MPI. The communicator is always passed in (an mpi4py communicator or None for
a single process); nothing here touches a module-level COMM_WORLD."""
from .exchange import EXCHANGE_METHODS, SpikeExchange
from .logging import rank_log
from .faults import fail_whole_job, maybe_inject_fault

__all__ = ["EXCHANGE_METHODS", "SpikeExchange", "rank_log", "fail_whole_job", "maybe_inject_fault"]
