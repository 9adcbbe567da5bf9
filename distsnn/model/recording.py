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


def records_of(state_records, models, variables):
    """Network.record_variables: the state recordings {population: (ids, variables)} that
    record `variables` instead, in each population whose model (models[population]) has
    them; a population whose model has none of them is left out. A ValueError names a
    variable that no recorded population's model has."""
    variables = variable_names("record_variables", variables)
    if not state_records:
        raise ValueError("record_variables: no neuron's state is recorded (record_state or record_voltage first)")
    recorded = {models[name] for name in state_records}
    for var in variables:
        if not any(var in RECORDABLES[m] for m in recorded):
            have = sorted({v for m in recorded for v in RECORDABLES[m]})
            raise ValueError(f"record {var!r}: no recorded population's model ({', '.join(sorted(recorded))}) "
                             f"has it; recordable: {', '.join(have)}")
    out = {}
    for name, (ids, _) in state_records.items():
        kept = tuple(v for v in variables if v in RECORDABLES[models[name]])
        if kept:
            out[name] = (ids, kept)
    return out
