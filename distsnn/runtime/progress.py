"""A dependency-free progress bar on stderr for long runs."""
import sys
import time


class Progress:
    """Shows biological time done, speed and ETA; silent for runs shorter than `after` s.

    On a terminal the bar redraws in place; otherwise a line is printed every 10 %.
    """

    def __init__(self, total_ms, enabled=True, stream=None, after=2.0):
        self.total = total_ms
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.after = after
        self.t0 = time.perf_counter()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.next_line = 0.1
        self.shown = False

    def update(self, done_ms):
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.t0
        if elapsed < self.after and done_ms < self.total:
            return
        frac = done_ms / self.total if self.total else 1.0
        eta = elapsed * (1 - frac) / frac if frac > 0 else float("nan")
        text = (f"[{'#' * int(30 * frac):<30}] {100 * frac:5.1f}%  {done_ms:.0f}/{self.total:.0f} ms  "
                f"{elapsed:.1f} s elapsed, ETA {eta:.1f} s")
        if self.tty:
            self.stream.write("\r" + text)
            self.shown = True
        elif frac >= self.next_line or frac >= 1.0:
            self.stream.write(text + "\n")
            while self.next_line <= frac:
                self.next_line += 0.1
        self.stream.flush()

    def close(self):
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
