"""STDP on ranks (mpiexec -n 2 / -n 4 ... --only-mpi): each synapse lives on its target's
rank, with its target's history; each rank computes the presynaptic traces of the spikes
it receives. So the ranks give the one process's spikes and every synapse's weight."""
import numpy as np
import pytest

from distsnn.runtime import simulate
from test_stdp import plastic_network

pytestmark = pytest.mark.mpi(min_size=2)


@pytest.mark.parametrize("method", ["allgatherv", "alltoallv"])
def test_same_spikes_and_weights_as_one_process(method):
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    ref = simulate(plastic_network(), 150.0, seed=9, connectivity="stored", backend="cpu", progress=False)
    res = simulate(plastic_network(), 150.0, seed=9, connectivity="stored", backend="cpu", progress=False,
                   comm=comm, exchange=method, partition="split")
    g, s = res.all_spikes()
    assert ref.spike_gids.size > 1000
    assert np.array_equal(g, ref.spike_gids) and np.array_equal(s, ref.spike_steps)
    assert res.exchange["interval_steps"] > 1   # received spikes come in batches of several steps
    mine = res.plastic
    assert mine.size < ref.plastic.size          # each rank holds the synapses onto its neurons
    every = np.concatenate(comm.allgather(mine))
    order = np.lexsort((every["weight"], every["delay"], every["target"], every["source"]))
    want = ref.plastic[np.lexsort((ref.plastic["weight"], ref.plastic["delay"], ref.plastic["target"],
                                   ref.plastic["source"]))]
    assert np.array_equal(every[order], want)
