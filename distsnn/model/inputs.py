"""The inputs of a network (Poisson input, DC and noise currents) and the checks of times
and rates that the network's add_* methods share: pure data, validated eagerly."""
import math
from dataclasses import dataclass

import numpy as np

from ..numbers import is_number, is_real, shown


@dataclass
class PoissonInput:
    """Independent Poisson spike input to every neuron of `target` (not stored as synapses).

    indegree * rate (Hz) is the total rate per neuron; weight in pA; delay in ms; the sources
    fire for start <= t < stop (ms), their spikes arrive `delay` later.
    """
    target: str
    indegree: float
    rate: float
    weight: float
    delay: float
    receptor: str
    start: float = 0.0
    stop: float = math.inf


@dataclass
class DCInput:
    """Constant current (pA) into the neurons of `target` for start <= t < stop (ms); with
    an ac_amplitude (AC input, NEST's ac_generator) plus ac_amplitude * sin(2 pi frequency t
    + phase) (pA, Hz with t in s, degrees) at the start time t of each step; with step times
    (a step current, NEST's step_current_generator) plus step_amplitudes[i] (pA) from
    step_times[i] (ms, on the grid, increasing) to the next, 0 before the first. neurons:
    the population-local ids it flows into (sorted, unique), None for all of them."""
    target: str
    amplitude: float
    start: float
    stop: float
    ac_amplitude: float = 0.0
    frequency: float = 0.0
    phase: float = 0.0
    step_times: object = None         # float64 array (ms), or None
    step_amplitudes: object = None    # float64 array (pA), or None
    neurons: object = None            # int64 array of population-local ids, or None: all


@dataclass
class NoiseInput:
    """Gaussian white-noise current into every neuron of `target`, or the population-local ids
    `neurons` (NEST's noise_generator): each neuron draws its own I = mean + std * z (pA, z
    standard normal) for every interval of `dt` ms, counted from t = 0, and holds it; the
    current flows for start <= t < stop (ms).
    With dt = inf the draw is frozen: a population's distributed I_e (add_population) is
    such a current, kind 'normal' (mean, std) or 'uniform' (mean = low, std = high - low:
    I = low + (high - low) * u, u uniform in (0, 1]); I_e given per neuron is one of kind
    'given', whose `values` (one per neuron, pA) take the place of the draws."""
    target: str
    mean: float
    std: float
    dt: float
    start: float
    stop: float
    kind: str = "normal"
    values: object = None    # kind 'given': a read-only float64 array, one per neuron (pA)
    neurons: object = None   # int64 array of the population-local ids it flows into, or None: all


def check_rate(where, rate, dt):
    """A Poisson source's rate (Hz): a finite number, 0 up to one spike per step of dt ms."""
    if not is_real(rate) or rate < 0:
        raise ValueError(f"{where}: rate must be a finite number >= 0 (Hz), got {shown(rate)}")
    if rate * dt * 1e-3 > 1.0:
        raise ValueError(f"{where}: rate {rate:g} Hz exceeds one spike per step (1 / dt = {1e3 / dt:g} Hz)")


def whole_steps(name, ms, dt):
    """`ms` as a whole number of time steps of `dt` ms, checked (a ValueError names `name`):
    a positive finite number within 1e-9 (relative, or absolute below 1 ms) of k * dt."""
    if not is_real(ms) \
            or ms <= 0:
        raise ValueError(f"{name} must be a positive number of ms, got {shown(ms)}")
    ms = float(ms)
    k = int(round(ms / dt))
    if k < 1 or abs(k * dt - ms) > 1e-9 * max(1.0, ms):
        raise ValueError(f"{name} = {ms:g} ms is not a whole number of time steps (dt = {dt:g} ms)")
    return k


def window(where, start, stop):
    """(start, stop) in ms as floats, checked: 0 <= start <= stop (stop may be inf)."""
    ok = all(is_number(x) for x in (start, stop))
    if not (ok and 0 <= start <= stop):   # also refuses nan: every comparison with it is false
        raise ValueError(f"{where}: need 0 <= start <= stop, got start={start!r}, stop={stop!r}")
    return float(start), float(stop)


def step_schedule(where, times, amplitudes, dt):
    """(times, amplitudes) of a step current as float64 arrays, checked: 1-D, the same
    nonzero length, finite amplitudes (pA), finite times >= 0 (ms) that increase by at least
    one step once rounded to the grid of dt ms (the engines' rounding, round(t / dt)); the
    times are returned on that grid."""
    ok = np.ndim(times) == 1 and np.ndim(amplitudes) == 1 and np.size(times) == np.size(amplitudes) > 0
    if not ok:
        raise ValueError(f"{where}: amplitude_times and amplitude_values must be 1-D sequences of the same, "
                         "nonzero length")
    try:
        t = np.asarray(times, dtype=np.float64)
        a = np.asarray(amplitudes, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: amplitude_times (ms) and amplitude_values (pA) must be numbers") from None
    steps = grid_steps(where, "amplitude_times", t, dt)
    if not np.all(np.isfinite(a)):
        i = int(np.argmin(np.isfinite(a)))
        raise ValueError(f"{where}: amplitude_values[{i}] = {shown(a[i])} is not a finite current (pA)")
    return steps * dt, a


def grid_steps(where, name, times, dt):
    """The steps of `times` (a 1-D float64 array, ms) on the grid of dt ms, round(t / dt),
    checked: finite times >= 0 that lie at least one step apart there (the schedules of
    step currents and inhomogeneous Poisson sources)."""
    if not np.all(np.isfinite(times)) or times.min() < 0:
        raise ValueError(f"{where}: {name} must be finite times >= 0 ms")
    steps = np.floor(times / dt + 0.5)
    if np.any(np.diff(steps) < 1):
        i = int(np.argmax(np.diff(steps) < 1))
        raise ValueError(f"{where}: {name} must increase by at least one step (dt = {dt:g} ms) on the grid; "
                         f"{times[i]:g} and {times[i + 1]:g} ms do not")
    return steps


def neuron_subset(where, neurons, size):
    """The population-local ids `neurons` (a sequence of integers in [0, size)) as a sorted
    int64 array without repeats; None stays None (every neuron)."""
    if neurons is None:
        return None
    ids = np.asarray(neurons)
    if ids.ndim != 1 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{where}: neurons must be a nonempty 1-D sequence of population-local ids (integers)")
    ids = np.unique(ids.astype(np.int64))
    if ids[0] < 0 or ids[-1] >= size:
        bad = ids[0] if ids[0] < 0 else ids[-1]
        raise ValueError(f"{where}: neuron id {int(bad)} is outside the population (0 .. {size - 1})")
    return ids
