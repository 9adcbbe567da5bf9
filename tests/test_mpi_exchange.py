"""Under MPI: the spike exchange itself (comm.exchange.SpikeExchange), against what every rank
sent, gathered by mpi4py's object allgather: each rank gets the others' spikes, sorted by gid
(stably), for counts of none to many, with and without overflowing the allgather's slots,
in one collective where nothing overflows (allgatherv)."""
import numpy as np
import pytest

from distsnn.comm.exchange import SLOT_MIN, SpikeExchange

pytestmark = pytest.mark.mpi(min_size=2)


@pytest.fixture(scope="module")
def comm():
    from mpi4py import MPI
    return MPI.COMM_WORLD


def expected(comm, gids, offsets):
    """The other ranks' (gid, offset) in rank order, then sorted by gid, stably."""
    sent = comm.allgather((gids, offsets))
    me = comm.Get_rank()
    g = np.concatenate([s[0] for r, s in enumerate(sent) if r != me])
    o = np.concatenate([s[1] for r, s in enumerate(sent) if r != me])
    order = np.argsort(g, kind="stable")
    return g[order], o[order]


@pytest.mark.parametrize("method", ["allgatherv", "alltoallv"])
def test_every_rank_gets_the_others_spikes(comm, method):
    rank, size = comm.Get_rank(), comm.Get_size()
    # two populations of 500 neurons; alltoallv: every rank needs both
    xch = SpikeExchange(comm, method, np.array([0, 500]), np.ones((size, 2), dtype=bool))
    rng = np.random.default_rng(100 + rank)
    # per call, this rank's number of spikes: none, a few, a slot's worth, far more than a slot
    # (on one rank only), and a few again after the slot has grown
    plans = [[0] * size, [3 + r for r in range(size)], [SLOT_MIN - 1] * size,
             [700 if r == size - 1 else 2 for r in range(size)], [1 + 2 * r for r in range(size)], [0] * size]
    for call, counts in enumerate(plans):
        n = counts[rank]
        gids = rng.integers(0, 1000, n).astype(np.int64)    # repeats: the sort must be stable
        offsets = rng.integers(0, 9, n).astype(np.int64)
        before = xch.collectives
        g, o = xch.exchange(gids, offsets)
        want_g, want_o = expected(comm, gids, offsets)
        assert np.array_equal(g, want_g) and np.array_equal(o, want_o), (method, call)
        if method == "allgatherv":
            slot = comm.allgather(xch.slot)
            assert len(set(slot)) == 1 and slot[0] >= max(SLOT_MIN, 2 * max(counts) + 2)
            # one collective, two where a rank's spikes overflowed its slot (only the call with 700)
            assert xch.collectives - before == (2 if max(counts) == 700 else 1), call
    assert xch.calls == len(plans)
