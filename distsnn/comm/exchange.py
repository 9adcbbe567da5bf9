"""Spike exchange between ranks, once per exchange interval of D steps.

Only spikes travel, each packed in one int64: (step offset in the interval) << 32 | gid.
Methods:
  allgatherv  every rank receives every spike: one Allgather of fixed slots, each a rank's
              count and up to SLOT - 1 of its spikes, and an Allgatherv of the rest only
              when some rank's spikes overflow its slot (every rank sees every count, so all
              take that second round together). The slot follows the traffic: twice the
              most spikes a rank sent in the window before, the same on every rank. One
              collective per exchange where there were two (the counts, then the spikes;
              DESIGN.md §7). On 2 ranks here the collectives took 3.7 us instead of 8, and
              an exchange of 6 spikes per rank 10.9 us instead of 13.4;
  alltoallv   each rank receives only spikes of populations that project onto its neurons
              (Alltoall of counts + Alltoallv); pays off when most pairs of ranks do not
              talk, as in area-partitioned multi-area models;
Only other ranks' spikes are returned (a rank delivers its own spikes every step), sorted
by gid (stable), as the delivery kernels expect.
"""
import numpy as np

EXCHANGE_METHODS = ("allgatherv", "alltoallv")
SLOT_MIN = 16   # words of a rank's slot in the allgather at least (its count and 15 spikes)


def check_exchange_method(method):
    """A ValueError unless `method` is one of EXCHANGE_METHODS."""
    if method not in EXCHANGE_METHODS:
        raise ValueError(f"exchange must be one of {EXCHANGE_METHODS}, got {method!r}")


class SpikeExchange:
    """Exchanges the spikes of one interval. `needs[r]` (alltoallv): boolean per population,
    True where rank r owns neurons that population projects onto. Counts what went over the
    wire (bytes_sent, bytes_received: 8 B per word, the allgather's whole slots included)
    and the collectives made."""

    def __init__(self, comm, method="allgatherv", pop_offsets=None, needs=None):
        check_exchange_method(method)
        self.comm = comm
        self.method = method
        self.size = comm.Get_size() if comm is not None else 1
        self.pop_offsets = pop_offsets
        self.needs = needs
        self.bytes_sent = 0
        self.bytes_received = 0
        self.calls = 0
        self.collectives = 0   # MPI collectives made
        self.slot = SLOT_MIN   # allgatherv: words per rank in the allgather (its count and spikes)
        self._send = self._recv = None

    def exchange(self, gids, offsets):
        """Local spikes (gid, step offset) -> the other ranks' spikes this rank needs, sorted by gid."""
        packed = (offsets.astype(np.int64) << 32) | gids.astype(np.int64)
        self.calls += 1
        if self.size == 1:
            out = packed[:0]
        elif self.method == "allgatherv":
            out = self._allgatherv(packed)
        else:
            out = self._alltoallv(packed, gids)
        gid = out & 0xFFFFFFFF
        order = np.argsort(gid, kind="stable")
        return gid[order], (out >> 32)[order]

    def _allgatherv(self, packed):
        """The other ranks' spikes, in rank order: one Allgather of slots, then an Allgatherv of
        what overflowed them, if anything did."""
        from mpi4py import MPI
        slot, size, me = self.slot, self.size, self.comm.Get_rank()
        if self._send is None or self._send.size != slot:   # buffers kept while the slot stays
            self._send = np.empty(slot, dtype=np.int64)
            self._recv = np.empty((size, slot), dtype=np.int64)
        send, recv = self._send, self._recv
        head = min(packed.size, slot - 1)
        send[0] = packed.size
        send[1:1 + head] = packed[:head]
        self.comm.Allgather([send, MPI.INT64_T], [recv, MPI.INT64_T])
        self.collectives += 1
        self.bytes_sent += 8 * slot * (size - 1)
        self.bytes_received += 8 * slot * (size - 1)
        counts = recv[:, 0]
        most = int(counts.max())
        # twice the most spikes, and their count: a power of two, so that it rarely changes
        self.slot = max(SLOT_MIN, 1 << (2 * most + 1).bit_length())
        if most < slot:   # nothing overflowed: the slots in rank order, each up to its count
            keep = np.arange(1, most + 1) <= counts[:, None]
            keep[me] = False
            return recv[:, 1:most + 1][keep]
        over = np.maximum(counts - (slot - 1), 0)   # the same on every rank: all make this call
        rest = np.empty(int(over.sum()), dtype=np.int64)
        displ = np.zeros(size, dtype=np.int64)
        np.cumsum(over[:-1], out=displ[1:])
        self.comm.Allgatherv([packed[head:], MPI.INT64_T], [rest, (over, displ), MPI.INT64_T])
        self.collectives += 1
        self.bytes_sent += 8 * int(over[me]) * (size - 1)
        self.bytes_received += 8 * int(over.sum() - over[me])
        parts = [np.concatenate([recv[r, 1:1 + min(counts[r], slot - 1)], rest[displ[r]:displ[r] + over[r]]])
                 for r in range(size) if r != me]
        return np.concatenate(parts)

    def _alltoallv(self, packed, gids):
        from mpi4py import MPI
        pop = np.searchsorted(self.pop_offsets, gids, side="right") - 1
        parts = [packed[self.needs[r][pop]] if gids.size else packed[:0] for r in range(self.size)]
        send_counts = np.array([p.size for p in parts], dtype=np.int64)
        recv_counts = np.empty(self.size, dtype=np.int64)
        self.comm.Alltoall([send_counts, MPI.INT64_T], [recv_counts, MPI.INT64_T])
        send = np.concatenate(parts) if parts else packed[:0]
        sdispl = np.zeros(self.size, dtype=np.int64)
        rdispl = np.zeros(self.size, dtype=np.int64)
        np.cumsum(send_counts[:-1], out=sdispl[1:])
        np.cumsum(recv_counts[:-1], out=rdispl[1:])
        out = np.empty(int(recv_counts.sum()), dtype=np.int64)
        self.comm.Alltoallv([send, (send_counts, sdispl), MPI.INT64_T], [out, (recv_counts, rdispl), MPI.INT64_T])
        self.collectives += 2
        me = self.comm.Get_rank()
        self.bytes_sent += 8 * int(send_counts.sum() - send_counts[me])
        self.bytes_received += 8 * int(recv_counts.sum() - recv_counts[me])
        return np.concatenate([out[:rdispl[me]], out[rdispl[me] + recv_counts[me]:]])
