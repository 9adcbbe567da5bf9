"""Log lines that carry the rank."""
import sys


def rank_log(comm, stream=None, all_ranks=False):
    """A log function printing '[rank r/R] message'; by default only rank 0 prints."""
    rank = comm.Get_rank() if comm is not None else 0
    size = comm.Get_size() if comm is not None else 1
    stream = stream or sys.stdout

    def log(message, everywhere=False):
        if rank == 0 or all_ranks or everywhere:
            prefix = f"[rank {rank}/{size}] " if size > 1 else ""
            print(prefix + message, file=stream, flush=True)
    return log
