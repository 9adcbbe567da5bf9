"""One rank per GPU: which device a rank uses, from its node-local rank.

Ranks on one node are found by an MPI shared-memory split. Ranks that see the same devices
(the same CUDA_VISIBLE_DEVICES, or none set) share them: the i-th such rank takes visible
device i. Ranks given different CUDA_VISIBLE_DEVICES (SLURM's --gpus-per-task, say) do not
compete. More ranks than devices is an error unless sharing is asked for (tests, small runs).
"""
import os
import socket


def assign_devices(visible_sets, n_visible, share=False, where="this node"):
    """Device index of each rank of one node.

    visible_sets: per node-local rank, its CUDA_VISIBLE_DEVICES (None when unset);
    n_visible: per rank, how many devices it sees. Raises ValueError when ranks would share
    a device and share is False.
    """
    index = []
    seen = {}
    for key, n in zip(visible_sets, n_visible):
        i = seen.get(key, 0)
        seen[key] = i + 1
        if n < 1:
            raise ValueError(f"a rank on {where} sees no GPU (CUDA_VISIBLE_DEVICES={key!r})")
        index.append(i % n)
    for key, count in seen.items():
        n = min(v for k, v in zip(visible_sets, n_visible) if k == key)
        if count > n and not share:
            shown = "unset" if key is None else repr(key)
            raise ValueError(f"{count} ranks on {where} share {n} GPU(s) (CUDA_VISIBLE_DEVICES {shown}): start at "
                             f"most {n} rank(s) per node, one per GPU, or pass --share-gpus")
    return index


def bind_rank(comm, n_visible, share=False):
    """This rank's device index (0 without a communicator)."""
    key = os.environ.get("CUDA_VISIBLE_DEVICES")
    if comm is None or comm.Get_size() == 1:
        return assign_devices([key], [n_visible], share, socket.gethostname())[0]
    from mpi4py import MPI
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        keys = local.allgather(key)
        counts = local.allgather(n_visible)
        host = socket.gethostname()
        try:
            mine = assign_devices(keys, counts, share, f"node {host}")[local.Get_rank()]
            err = None
        except ValueError as e:
            mine, err = None, str(e)
    finally:
        local.Free()
    # every rank of the job learns whether some node failed, so all raise together
    errors = [e for e in comm.allgather(err) if e]
    if errors:
        raise ValueError(errors[0])
    return mine
