"""Event-camera data (tonic's structured format) as a spike-source population.

tonic gives events as a NumPy structured array with fields x, y (pixel), t (microseconds)
and p (polarity), and a sensor_size (width, height, polarities). Each pixel and polarity
becomes one neuron, id = (p * height + y) * width + x; an event at t us becomes a spike at
t / 1000 + t_offset ms (t_offset defaults to dt, so an event at t = 0 is emitted in the first
step). Vectorised: no loop over pixels or events. Events of one neuron within one step merge.
"""
import numpy as np


def events_to_spikes(events, sensor_size, t_offset=0.1):
    """(neuron ids, spike times in ms) of tonic-style events."""
    names = events.dtype.names or ()
    missing = [f for f in ("x", "y", "t", "p") if f not in names]
    if missing:
        raise ValueError(f"events: structured array needs fields x, y, t, p; missing {missing}")
    width, height, pols = (int(v) for v in sensor_size)
    x = events["x"].astype(np.int64)
    y = events["y"].astype(np.int64)
    p = events["p"].astype(np.int64)
    for name, arr, top in (("x", x, width), ("y", y, height), ("p", p, pols)):
        if arr.size and (arr.min() < 0 or arr.max() >= top):
            raise ValueError(f"events: {name} must be in [0, {top}), got {arr.min()}..{arr.max()}")
    t = events["t"].astype(np.float64)
    if t.size and t.min() < 0:
        raise ValueError(f"events: t must be >= 0 us, got {t.min()}")
    return (p * height + y) * width + x, t * 1e-3 + t_offset


def add_event_input(network, name, events, sensor_size, t_offset=None):
    """Add a spike-source population `name` of width*height*polarities neurons driven by `events`."""
    width, height, pols = (int(v) for v in sensor_size)
    ids, times = events_to_spikes(events, sensor_size, network.dt if t_offset is None else t_offset)
    # a pixel's events within one step merge into one spike (a spike source would count each)
    steps = np.floor(times / network.dt + 0.5).astype(np.int64)
    keep = np.unique(np.stack([ids, steps]), axis=1, return_index=True)[1] if ids.size else np.zeros(0, np.int64)
    return network.add_spike_source(name, width * height * pols, ids[keep], times[keep])
