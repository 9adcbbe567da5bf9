"""Which steps' state is recorded: NEST's multimeter interval, start and stop, in steps.

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
