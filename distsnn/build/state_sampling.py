"""Which state is recorded: of which neurons and variables (state_probes), and at which
steps (StateSampling: NEST's multimeter interval, start and stop, in steps).

The engines write the state of every step into a scratch block; the run loop keeps the rows
of the sampled steps only (runtime.run), so sampling changes no kernel and the memory and
files of the recorded state shrink by the interval. The samples lie on a grid of absolute
time, the multiples of the interval in (start, stop] ms, as NEST's multimeter's do: a run
continued from a checkpoint keeps the grid, and segments join into one regular time axis.
"""
import math
from dataclasses import dataclass

import numpy as np

from ..model.inputs import whole_steps
from ..model.neurons import RECORDABLES


@dataclass(frozen=True)
class StateSampling:
    """Samples at the times m * dt (ms) with m a multiple of `every`, after < m <= until
    (until None: no end). The sample at time m * dt is the state after step m - 1."""
    every: int = 1
    after: int = 0
    until: int = None

    @classmethod
    def from_network(cls, network):
        """The network's state sampling (Network.sample_state) in steps of its dt."""
        if network.state_sampling is None:
            return cls()
        interval, start, stop = network.state_sampling
        dt = network.dt
        every = whole_steps("sample_state: interval", interval, dt)
        after = whole_steps("sample_state: start", start, dt) if start > 0 else 0
        until = whole_steps("sample_state: stop", stop, dt) if math.isfinite(stop) else None
        return cls(every, after, until)

    def first_at_or_after(self, m):
        """The first sample index (time in steps) >= m, ignoring `until`."""
        m = max(m, self.after + 1)
        return -(-m // self.every) * self.every

    def steps(self, lo, hi):
        """The absolute steps in [lo, hi) whose state is sampled (ascending)."""
        first = self.first_at_or_after(lo + 1)
        last = hi if self.until is None else min(hi, self.until)
        if first > last:
            return np.zeros(0, dtype=np.int64)
        return np.arange(first, last + 1, self.every, dtype=np.int64) - 1

    def count(self, lo, hi):
        """How many of the steps [lo, hi) are sampled."""
        first = self.first_at_or_after(lo + 1)
        last = hi if self.until is None else min(hi, self.until)
        return 0 if first > last else (last - first) // self.every + 1

    def time_axis(self, lo, hi, dt):
        """SONATA's (start, stop, step) in ms of the samples of the steps [lo, hi): start is
        the first sample's time (where it would fall when there is none), stop the time one
        interval after the last, so that the samples are start + i * step for i < rows."""
        start = self.first_at_or_after(lo + 1)
        return (start * dt, (start + self.count(lo, hi) * self.every) * dt, self.every * dt)


def spike_flags(network, index, offsets):
    """uint8 per neuron: whether its spikes are recorded (Network.spike_records; index and
    offsets as state_probes')."""
    flags = np.zeros(int(offsets[-1]), dtype=np.uint8)
    for name, ids in network.spike_records.items():
        k = index[name]
        if ids is None:
            flags[offsets[k]:offsets[k + 1]] = 1
        else:
            flags[offsets[k] + ids] = 1
    return flags


def state_probes(network, index, offsets):
    """(gids, variable index, state code, variable names) of the network's recorded state
    (Network.state_records; index: population name -> number, offsets: first gid of each):
    grouped by variable, the variables in their order of first appearance, the neurons of
    each in gid order; the code (model.neurons.RECORDABLES) is what the kernels read."""
    records = network.state_records
    names = tuple(dict.fromkeys(v for _, variables in records.values() for v in variables))
    gids, var, code = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for k, name in enumerate(names):
        pops = sorted((pop for pop, (_, variables) in records.items() if name in variables), key=index.get)
        for pop in pops:   # populations in gid order, their ids sorted (Network._ids)
            ids = records[pop][0]
            gids.append(offsets[index[pop]] + ids.astype(np.int64))
            var.append(np.full(ids.size, k, dtype=np.int64))
            code.append(np.full(ids.size, RECORDABLES[network.populations[pop].model][name], dtype=np.int64))
    return np.concatenate(gids), np.concatenate(var), np.concatenate(code), names
