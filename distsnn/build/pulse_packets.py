"""Pulse packet sources (Network.add_pulse_packet_source, NEST's pulsepacket_generator): their
spike times, drawn when the plan is made (they depend on the seed), then emitted as a spike
source's given spikes.

Around each pulse time t_k (ms) every source emits `activity` spikes at t_k + sdev * z, z
standard normal. The z of spikes 2m and 2m + 1 of source gid g in pulse k come from one Philox
call with counter (m, k, g, PACKET) by Box-Muller (the portable box_muller, as every normal of
the project), so a source's packets are a pure function of (seed, gid, pulse, spike): the same
on every backend, rank count and restart. Times are rounded to the step grid as a spike
source's (build.spike_schedule); a spike before dt / 2 (its step would precede the first) is
left out, as NEST leaves out spikes drawn before the present."""
import numpy as np

from ..rng import streams
from ..rng.philox import philox4x32, uniform_open0_closed1
from ..rng.portable_math import box_muller

PACKET_TAG = streams.tag(streams.DOM_SOURCE, 2)


def packet_spikes(pop, gid0, key0, key1, dt):
    """(population-local ids, times ms) of the pulse packets of `pop` (first gid gid0), in
    source, pulse, spike order."""
    pulse_times, activity, sdev = pop.packets
    n, m = pop.size, (activity + 1) // 2
    src, pulse, pair = np.meshgrid(np.arange(n, dtype=np.int64), np.arange(pulse_times.size, dtype=np.int64),
                                   np.arange(m, dtype=np.int64), indexing="ij")
    w = philox4x32(pair, pulse, src + gid0, PACKET_TAG, key0, key1)
    z0, z1 = box_muller(uniform_open0_closed1(w[0]), uniform_open0_closed1(w[1]))
    z = np.stack([z0, z1], axis=-1).reshape(n, pulse_times.size, 2 * m)[:, :, :activity]
    times = pulse_times[None, :, None] + sdev * z
    ids = np.broadcast_to(np.arange(n, dtype=np.int64)[:, None, None], times.shape)
    keep = times >= 0.5 * dt
    return ids[keep], times[keep]


def source_spikes(pops, offsets, key0, key1, dt):
    """Per population: (population-local ids, times ms) of a spike source's spikes, given or
    drawn (pulse packets); None for the others."""
    out = []
    for k, pop in enumerate(pops):
        if pop.model != "spike_source":
            out.append(None)
        elif pop.packets is not None:
            out.append(packet_spikes(pop, int(offsets[k]), key0, key1, dt))
        else:
            out.append((pop.spike_ids, pop.spike_times))
    return out
