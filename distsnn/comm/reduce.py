"""Values reduced over the ranks of a communicator (an mpi4py one, or None for one process)."""


def sum_over_ranks(value, comm):
    """value summed over the ranks of comm (collective); value itself on one process."""
    return value if comm is None or comm.Get_size() == 1 else comm.allreduce(value)


def max_over_ranks(value, comm):
    """The largest value over the ranks of comm (collective); value itself on one process."""
    if comm is None or comm.Get_size() == 1:
        return value
    from mpi4py import MPI
    return comm.allreduce(value, op=MPI.MAX)
