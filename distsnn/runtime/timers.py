"""Wall-clock phase timers (s)."""
import time
from contextlib import contextmanager


class PhaseTimers:
    """Accumulates wall time (s) per named phase: build, simulate, write, ..."""

    def __init__(self):
        self.seconds = {}

    @contextmanager
    def phase(self, name):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0

    def as_dict(self):
        return dict(self.seconds)
