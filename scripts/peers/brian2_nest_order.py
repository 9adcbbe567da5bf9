"""NEST's order of events in a Brian2 network, for the Brian2 peers (import it with brian2 on
the path).

Brian2's default schedule (groups, thresholds, synapses, resets) checks the threshold before
the input of a step is added, so input takes effect one step after it arrives and has leaked
for that step first; and `refractory=t_ref` frees a neuron t_ref after its spike step, one step
earlier than NEST's t_ref / dt clamped steps. Both lower the Brunel network's rate by about
0.3 Hz against NEST's (and distsnn's, which follows NEST). With

- the schedule groups, synapses, thresholds, resets (input added before the threshold test),
- synaptic delays of D - dt (a spike is queued by its pathway one step after it is emitted,
  once the schedule puts the pathway before the threshold), and
- refractory periods of t_ref + dt,

one iaf_psc_delta neuron in Brian2 follows NEST's trace of tests/data/nest_neuron_traces.json
to 5e-14 mV with the same spike times (`brian2_neuron_trace.py` checks it). Spike times read
from a SpikeMonitor are step starts; add dt for NEST's and distsnn's step ends."""

SCHEDULE = ["start", "groups", "synapses", "thresholds", "resets", "end"]


def delay_ms(delay, dt):
    """Brian2 delay (ms) that delivers a spike in the step NEST's delay `delay` (ms) does."""
    if delay < dt - 1e-12:
        raise ValueError(f"delay {delay} ms is shorter than one step ({dt} ms)")
    return max(delay - dt, 0.0)


def refractory_ms(t_ref, dt):
    """Brian2 refractory period (ms) that clamps the t_ref / dt steps after a spike, as NEST."""
    return t_ref + dt


def use_nest_order(net):
    """Put a brian2.Network's input before its threshold test (see the module's text)."""
    net.schedule = list(SCHEDULE)
    return net
