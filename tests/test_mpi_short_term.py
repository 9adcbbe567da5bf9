"""Short-term plasticity on ranks (mpiexec -n 2 / -n 4 ... --only-mpi): each rank computes
the efficacies of the spikes it receives from the spike trains alone, so the ranks give the
one process's spikes, on the CPU and the emulated GPU, and a checkpoint of ranks restarts on
one process."""
import os

import numpy as np
import pytest

from distsnn.runtime import simulate
from test_short_term_plasticity import plastic_network

pytestmark = pytest.mark.mpi(min_size=2)


@pytest.fixture
def comm():
    from mpi4py import MPI
    return MPI.COMM_WORLD


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
@pytest.mark.parametrize("method, backend", [("allgatherv", "cpu"), ("alltoallv", "cpu"), ("allgatherv", "gpu-emu")])
@pytest.mark.parametrize("lists", [False, True])
def test_same_spikes_as_one_process(comm, connectivity, method, backend, lists):
    """On the CPU and on the emulated GPU (ranks sharing it): a received batch's efficacies
    are computed step by step there (backends.gpu.efficacies.remote)."""
    ref = simulate(plastic_network(lists), 150.0, seed=7, connectivity=connectivity, backend="cpu", progress=False)
    res = simulate(plastic_network(lists), 150.0, seed=7, connectivity=connectivity, backend=backend, progress=False,
                   comm=comm, exchange=method, partition="split", share_gpus=True)
    g, s = res.all_spikes()
    assert ref.spike_gids.size > 1000
    assert np.array_equal(g, ref.spike_gids) and np.array_equal(s, ref.spike_steps)
    assert res.events == ref.events   # the whole run's, on every rank
    # some neuron fired twice within one exchange interval: a batch held two of its spikes
    interval = res.exchange["interval_steps"]
    assert interval > 1
    twice = False
    for gid in np.unique(ref.spike_gids):
        steps = ref.spike_steps[ref.spike_gids == gid]
        twice = twice or bool(np.any(steps[1:] // interval == steps[:-1] // interval))
    assert twice


def test_checkpoint_of_ranks_restarts_on_one_process(comm, tmp_path):
    path = comm.bcast(str(tmp_path), root=0)
    path = os.path.join(path, "c")
    first = simulate(plastic_network(), 90.0, seed=8, backend="cpu", progress=False, comm=comm,
                     partition="split", checkpoint=path)
    whole = simulate(plastic_network(), 200.0, seed=8, backend="cpu", progress=False)
    if comm.Get_rank() == 0:
        rest = simulate(plastic_network(), 110.0, seed=8, backend="cpu", progress=False, restart=path)
        after = whole.spike_steps >= first.n_steps
        assert rest.spike_gids.size > 100
        assert np.array_equal(rest.spike_gids, whole.spike_gids[after])
        assert np.array_equal(rest.spike_steps, whole.spike_steps[after])
    comm.Barrier()
    # and on ranks again
    rest = simulate(plastic_network(), 110.0, seed=8, backend="cpu", progress=False, comm=comm, restart=path,
                    exchange="alltoallv")
    g, s = rest.all_spikes()
    after = whole.spike_steps >= first.n_steps
    assert np.array_equal(g, whole.spike_gids[after]) and np.array_equal(s, whole.spike_steps[after])
