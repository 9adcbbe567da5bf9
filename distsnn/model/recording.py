"""The checks of recording requests (Network.record_state, record_variables, sample_state):
variable names against what a model records, and the sampling's interval and window."""
import math

from .inputs import whole_steps, window
from .neurons import RECORDABLES


def variable_names(where, variables):
    """`variables` as a tuple of distinct names, checked to be a non-empty list of strings."""
    if isinstance(variables, str):
        variables = (variables,)
    variables = tuple(variables)
    if not variables or not all(isinstance(v, str) for v in variables):
        raise ValueError(f"{where}: need one or more variable names, got {variables!r}")
    return tuple(dict.fromkeys(variables))


def checked_sampling(where, sampling, dt):
    """(interval, start, stop) ms of a state sampling, checked: the interval a whole number
    of steps of dt, 0 <= start < stop, both on the grid (stop may be inf)."""
    interval, start, stop = sampling
    whole_steps(f"{where}: interval", interval, dt)
    start, stop = window(where, start, stop)
    if start == stop:
        raise ValueError(f"{where}: need start < stop, got start={start:g}, stop={stop:g}")
    if start > 0:
        whole_steps(f"{where}: start", start, dt)
    if math.isfinite(stop):
        whole_steps(f"{where}: stop", stop, dt)
    return float(interval), start, stop


def recordable(where, model, variables):
    """The names `variables`, checked against what `model` can record, in that order."""
    variables = variable_names(where, variables)
    unknown = [v for v in variables if v not in RECORDABLES[model]]
    if unknown:
        raise ValueError(f"{where}: {model} has no state variable {', '.join(map(repr, unknown))}; "
                         f"recordable: {', '.join(RECORDABLES[model])}")
    return variables
