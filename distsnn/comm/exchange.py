"""Spike exchange between ranks, once per exchange interval of D steps.

Only spikes travel, each packed in one int64: (step offset in the interval) << 32 | gid.
Methods:
  allgatherv  every rank receives every spike (one Allgather of counts + one Allgatherv);
  alltoallv   each rank receives only spikes of populations that project onto its neurons
              (Alltoall of counts + Alltoallv); pays off when most pairs of ranks do not
              talk, as in area-partitioned multi-area models;
Only other ranks' spikes are returned (a rank delivers its own spikes every step), sorted
by gid (stable), as the delivery kernels expect.
"""
import numpy as np

EXCHANGE_METHODS = ("allgatherv", "alltoallv")


class SpikeExchange:
    """Exchanges the spikes of one interval. `needs[r]` (alltoallv): boolean per population,
    True where rank r owns neurons that population projects onto."""

    def __init__(self, comm, method="allgatherv", pop_offsets=None, needs=None):
        if method not in EXCHANGE_METHODS:
            raise ValueError(f"exchange method must be one of {EXCHANGE_METHODS}, got {method!r}")
        self.comm = comm
        self.method = method
        self.size = comm.Get_size() if comm is not None else 1
        self.pop_offsets = pop_offsets
        self.needs = needs
        self.bytes_sent = 0
        self.bytes_received = 0
        self.calls = 0
        self._counts = np.zeros(self.size, dtype=np.int64)

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
        from mpi4py import MPI
        n = np.array([packed.size], dtype=np.int64)
        self.comm.Allgather([n, MPI.INT64_T], [self._counts, MPI.INT64_T])
        total = int(self._counts.sum())
        out = np.empty(total, dtype=np.int64)
        displ = np.zeros(self.size, dtype=np.int64)
        np.cumsum(self._counts[:-1], out=displ[1:])
        self.comm.Allgatherv([packed, MPI.INT64_T], [out, (self._counts, displ), MPI.INT64_T])
        self.bytes_sent += 8 * packed.size * (self.size - 1)
        self.bytes_received += 8 * (total - packed.size)
        me = self.comm.Get_rank()
        return np.concatenate([out[:displ[me]], out[displ[me] + self._counts[me]:]])

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
        me = self.comm.Get_rank()
        self.bytes_sent += 8 * int(send_counts.sum() - send_counts[me])
        self.bytes_received += 8 * int(recv_counts.sum() - recv_counts[me])
        return np.concatenate([out[:rdispl[me]], out[rdispl[me] + recv_counts[me]:]])
