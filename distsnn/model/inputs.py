"""The inputs of a network (Poisson input, DC and noise currents) and the checks of times
and rates that the network's add_* methods share: pure data, validated eagerly."""
import math
from dataclasses import dataclass

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
    """Constant current (pA) into every neuron of `target` for start <= t < stop (ms); with
    an ac_amplitude (AC input, NEST's ac_generator) plus ac_amplitude * sin(2 pi frequency t
    + phase) (pA, Hz with t in s, degrees) at the start time t of each step."""
    target: str
    amplitude: float
    start: float
    stop: float
    ac_amplitude: float = 0.0
    frequency: float = 0.0
    phase: float = 0.0


@dataclass
class NoiseInput:
    """Gaussian white-noise current into every neuron of `target` (NEST's noise_generator):
    each neuron draws its own I = mean + std * z (pA, z standard normal) for every interval
    of `dt` ms, counted from t = 0, and holds it; the current flows for start <= t < stop (ms).
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
