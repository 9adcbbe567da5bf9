"""STDP on ranks (mpiexec -n 2 / -n 4 ... --only-mpi): each synapse lives on its target's
rank, with its target's history; each rank computes the presynaptic traces of the spikes
it receives. So the ranks give the one process's spikes and every synapse's weight."""
import os

import numpy as np
import pytest

from distsnn.runtime import simulate
from test_stdp import plastic_network

pytestmark = pytest.mark.mpi(min_size=2)


@pytest.mark.parametrize("method, backend", [("allgatherv", "cpu"), ("alltoallv", "cpu"), ("alltoallv", "gpu-emu")])
def test_same_spikes_and_weights_as_one_process(method, backend):
    """Exchanges every 4 ms or more, and E neurons that can fire every 0.5 ms: a batch of received
    spikes holds several of one neuron, which its synapses must see in time order (the GPU
    engine, emulated, with the ranks sharing it, delivers them step by step)."""
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    kw = dict(seed=9, connectivity="stored", progress=False)
    ref = simulate(plastic_network(2.5, 0.5), 150.0, backend="cpu", **kw)
    res = simulate(plastic_network(2.5, 0.5), 150.0, backend=backend, comm=comm, exchange=method, partition="split",
                   share_gpus=backend != "cpu", **kw)
    g, s = res.all_spikes()
    assert ref.spike_gids.size > 1000
    assert np.array_equal(g, ref.spike_gids) and np.array_equal(s, ref.spike_steps)
    interval = res.exchange["interval_steps"]
    assert interval >= 40   # received spikes come in batches of 40 steps or more
    first = ref.spike_gids < 400   # some E neuron spikes twice within such a batch
    pairs = np.stack([ref.spike_gids[first], ref.spike_steps[first] // interval], axis=1)
    assert np.unique(pairs, axis=0).shape[0] < pairs.shape[0]
    mine = res.plastic
    assert mine.size < ref.plastic.size          # each rank holds the synapses onto its neurons
    every = np.concatenate(comm.allgather(mine))
    order = np.lexsort((every["weight"], every["delay"], every["target"], every["source"]))
    want = ref.plastic[np.lexsort((ref.plastic["weight"], ref.plastic["delay"], ref.plastic["target"],
                                   ref.plastic["source"]))]
    assert np.array_equal(every[order], want)


def test_a_checkpoint_of_ranks_restarts_on_one_process_and_back(tmp_path):
    """Written on ranks, read on one process; written there, read on ranks: each unit's
    synapses and weights are the same on any partition."""
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    path = os.path.join(comm.bcast(str(tmp_path), root=0), "c")
    kw = dict(seed=5, connectivity="stored", backend="cpu", progress=False)
    whole = simulate(plastic_network(), 150.0, **kw)
    first = simulate(plastic_network(), 60.0, comm=comm, partition="split", checkpoint=path, **kw)
    after = whole.spike_steps >= first.n_steps
    if comm.Get_rank() == 0:
        rest = simulate(plastic_network(), 90.0, restart=path, **kw)
        assert rest.spike_gids.size > 500
        assert np.array_equal(rest.spike_gids, whole.spike_gids[after])
        assert np.array_equal(rest.spike_steps, whole.spike_steps[after])
        assert np.array_equal(rest.plastic, whole.plastic)
        simulate(plastic_network(), 60.0, checkpoint=path + "-one", **kw)
    comm.Barrier()
    rest = simulate(plastic_network(), 90.0, comm=comm, partition="split", restart=path + "-one",
                    exchange="alltoallv", **kw)
    g, s = rest.all_spikes()
    assert np.array_equal(g, whole.spike_gids[after]) and np.array_equal(s, whole.spike_steps[after])
    every = np.concatenate(comm.allgather(rest.plastic))
    key = ("source", "target", "delay", "weight")
    assert np.array_equal(np.sort(every, order=key), np.sort(whole.plastic, order=key))
