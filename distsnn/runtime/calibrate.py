"""Calibration: the value of one model option at which a population's measure (its rate,
say) reaches a target, found by runs of the model, as a modeller tunes an external drive by
hand.

The search is the Illinois variant of regula falsi on f(x) = measure(x) - target over a
bracket [lo, hi] in which f changes sign: each run's value is interpolated between the
bracket's ends, and an end that stays twice in a row has its f halved, so the bracket
shrinks from both sides (superlinear, and never slower than bisection by much). Every run
uses the same seed, so f is a deterministic function of x (common random numbers): the
search ends, its result is reproducible, and run again with the same options it asks for
the same values, so the runs already done are reused. It stops when |f| <= tolerance, when the
bracket is narrower than xtol, or after max_runs runs. A network's measure over a finite
window fluctuates with the run (chaotic dynamics): a tolerance below that spread makes the
search chase it, so each value may run several seeds and take their mean (the spread over
them is reported).
"""
from .sweep import SweepDirectory


class NoBracket(ValueError):
    """f has the same sign at both ends: the target is not reached inside the range."""


def illinois(f, lo, hi, tolerance, max_runs, xtol=None):
    """(history [(x, f(x)), ...], (x, f(x)) the run nearest the target (the latest of equals),
    converged).

    f(x): measure minus target at x (a run); lo < hi; tolerance >= 0 (on f); max_runs >= 2;
    xtol: the narrowest bracket worth a run (default 1e-6 of hi - lo)."""
    xtol = (hi - lo) * 1e-6 if xtol is None else xtol
    history = []

    def run(x):
        fx = f(x)
        history.append((x, fx))
        return fx

    a, b = lo, hi
    fa = run(a)
    if abs(fa) <= tolerance:
        return history, (a, fa), True
    fb = run(b)
    if abs(fb) <= tolerance:
        return history, (b, fb), True
    if (fa > 0) == (fb > 0):
        raise NoBracket(f"the target is not inside the range: the measure minus the target is {fa:.4g} at "
                        f"{a:g} and {fb:.4g} at {b:g}, of one sign")
    side = 0
    while len(history) < max_runs and b - a > xtol:
        c = (a * fb - b * fa) / (fb - fa)
        if not a < c < b:   # rounding at a bracket this narrow: halve it instead
            c = 0.5 * (a + b)
        fc = run(c)
        if abs(fc) <= tolerance:
            return history, (c, fc), True
        if (fc > 0) == (fb > 0):   # the root lies in [a, c]
            b, fb = c, fc
            if side == -1:
                fa *= 0.5
            side = -1
        else:                      # in [c, b]
            a, fa = c, fc
            if side == 1:
                fb *= 0.5
            side = 1
    best = min(reversed(history), key=lambda h: abs(h[1]))   # among equals the latest, in the narrowest bracket
    return history, best, False


class CalibrationDirectory(SweepDirectory):
    """A calibration's files: its runs named as a sweep's points (run_0000.h5, ...), each the
    value the search asked for, in order; calibration.json beside them."""
    word = "run"
    kind = "calibration"

    def __init__(self, directory, model, name, search, options):
        super().__init__(directory, model, {name: (search["lo"],)}, options)
        self.name = name
        self.points = []
        self.identity.pop("vary")
        self.identity["calibrate"] = dict(search, option=name)

    def add(self, value, seed=None):
        """The index of the next run, at `value` (and `seed`, where each value runs several)."""
        self.points.append({self.name: value} if seed is None else {self.name: value, "seed": seed})
        return len(self.points) - 1

    def check_done(self, k, values):
        """Whether run k is done, and at the values asked now (a run of an interrupted search
        run again). A done run at other values means the files are not this search's."""
        if not self.done(k):
            return False
        if values != self.points[k]:
            raise ValueError(f"{self.stats_path(k)} was run at {values}, this search asks for {self.points[k]}: "
                             f"give another --output-dir")
        return True
