"""Spike-source populations: scheduled spikes, their delivery, validation."""
import numpy as np
import pytest

from distsnn.model import FixedProbability, Network, OneToOne
from distsnn.runtime import simulate

E_L, C_M, TAU_M = -70.0, 250.0, 10.0


def test_scheduled_spikes_are_emitted_on_the_grid():
    net = Network(dt=0.1, chunk_size=8)
    ids = np.array([0, 3, 3, 3, 19, 7])
    times = np.array([0.1, 5.0, 5.04, 9.96, 2.5, 100.0])     # 5.0 and 5.04 fall in the same step
    net.add_spike_source("src", 20, ids, times)
    net.record_spikes("src")
    res = simulate(net, 50.0, progress=False)
    got_ids, got_t = res.spikes("src")
    # both spikes of neuron 3 in the step ending at 5.0 ms count, as NEST's multiplicity
    assert list(zip(got_ids.tolist(), np.round(got_t, 6).tolist())) == [(0, 0.1), (19, 2.5), (3, 5.0), (3, 5.0),
                                                                        (3, 10.0)]


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_spikes_in_one_step_each_count(backend, connectivity):
    """k spikes of a source neuron in one step act as one spike of k times the weight (NEST's
    multiplicity), bit for bit, also beyond a unit's size in one step (3000 spikes of one
    neuron, units of 8 neurons: the engines' spike buffers grow by a source's repeats)."""
    def run(times, weight):
        net = Network(dt=0.1, chunk_size=8)
        net.add_spike_source("src", 10, np.zeros(len(times), dtype=np.int64), times)
        net.add_population("post", 3, params={"tau_syn_ex": 2.0})
        net.connect("src", "post", FixedProbability(1.0), weight, 1.0)
        net.record_voltage("post", [0, 2])
        net.record_spikes("src")
        return simulate(net, 20.0, seed=1, backend=backend, connectivity=connectivity, progress=False)
    w = 2.0 ** -4   # pA: k w is exact in any fixed-point scale, so one spike of k w must equal k of w
    for k in (2, 3000):
        many = run([5.0] * (k - 1) + [5.04], w)
        one = run([5.0], w * k)
        assert np.array_equal(many.vrec, one.vrec)
        assert many.spikes("src")[0].size == k and many.events == 3 * k
    assert np.max(many.vrec) > E_L + 1.0   # the 3000 spikes' PSP (187.5 pA), not an overflowed sum


def test_source_spike_drives_target_like_a_neuron():
    """One scheduled spike through a one-to-one synapse gives the analytic PSP."""
    net = Network(dt=0.1)
    net.add_spike_source("src", 1, [0], [0.1])
    net.add_population("post", 1, params={"tau_syn_ex": 2.0})
    net.connect("src", "post", OneToOne(), 100.0, 1.0)
    net.record_voltage("post", [0])
    res = simulate(net, 20.0, progress=False)
    t = (np.arange(res.n_steps) + 1) * 0.1
    s = np.clip(t - 1.1, 0, None)
    v = E_L + 100.0 / C_M * 2.0 * TAU_M / (TAU_M - 2.0) * (np.exp(-s / TAU_M) - np.exp(-s / 2.0))
    assert np.max(np.abs(res.vrec[:, 0] - v)) < 1e-10


def test_procedural_and_stored_agree_with_sources():
    rng = np.random.default_rng(3)
    net = Network(dt=0.1, chunk_size=64)
    net.add_spike_source("in", 300, rng.integers(0, 300, 4000), rng.uniform(0.1, 200.0, 4000))
    net.add_population("E", 200)
    net.connect("in", "E", FixedProbability(0.2), 60.0, 1.0)
    net.record_spikes("E")
    a = simulate(net, 200.0, progress=False)
    b = simulate(net, 200.0, connectivity="stored", progress=False)
    assert a.spike_gids.size > 50
    assert np.array_equal(a.spike_gids, b.spike_gids) and np.array_equal(a.spike_steps, b.spike_steps)


def test_spike_source_validation():
    net = Network(dt=0.1)
    with pytest.raises(ValueError, match=r"ids must be integers in \[0, 5\), got 0..5"):
        net.add_spike_source("s", 5, [0, 5], [1.0, 2.0])
    assert "s" not in net.populations
    with pytest.raises(ValueError, match="spike times must be finite and >= dt/2"):
        net.add_spike_source("s", 5, [0], [0.01])
    with pytest.raises(ValueError, match="same length"):
        net.add_spike_source("s", 5, [0, 1], [1.0])
    net.add_spike_source("s", 5, [0], [1.0])
    net.add_population("n", 5)
    with pytest.raises(ValueError, match="is a spike source and cannot receive projections"):
        net.connect("n", "s", OneToOne(), 1.0, 1.0)
    with pytest.raises(ValueError, match="cannot receive input"):
        net.add_poisson_input("s", 10, 5.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="a spike source has no state to record"):
        net.record_voltage("s", [0])


EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", bool)])   # tonic's layout


def synthetic_events(n, width=34, height=34, seed=0):
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ev["x"] = rng.integers(0, width, n)
    ev["y"] = rng.integers(0, height, n)
    ev["t"] = np.sort(rng.integers(0, 300_000, n))       # 300 ms in microseconds
    ev["p"] = rng.integers(0, 2, n).astype(bool)
    return ev


def test_events_become_one_neuron_per_pixel_and_polarity():
    from distsnn.io.event_input import events_to_spikes
    ev = synthetic_events(1000)
    ids, times = events_to_spikes(ev, (34, 34, 2), t_offset=0.1)
    for i in (0, 17, 999):
        assert ids[i] == (int(ev["p"][i]) * 34 + ev["y"][i]) * 34 + ev["x"][i]
        assert times[i] == pytest.approx(ev["t"][i] / 1000 + 0.1)
    big = synthetic_events(2_000_000, seed=1)
    import time
    t0 = time.perf_counter()
    events_to_spikes(big, (34, 34, 2))
    assert time.perf_counter() - t0 < 2.0                 # vectorised: no loop over events
    bad = ev.copy()
    bad["x"][3] = 40
    with pytest.raises(ValueError, match=r"x must be in \[0, 34\), got 0..40"):
        events_to_spikes(bad, (34, 34, 2))


def test_event_input_drives_a_network():
    from distsnn.io.event_input import add_event_input
    ev = synthetic_events(20000, seed=2)
    net = Network(dt=0.1, chunk_size=256)
    add_event_input(net, "retina", ev, (34, 34, 2))
    net.add_population("V1", 34 * 34 * 2)
    net.connect("retina", "V1", OneToOne(), 3000.0, 1.0)     # one event: PSP above threshold
    net.record_spikes("retina")
    net.record_spikes("V1")
    res = simulate(net, 305.0, progress=False)
    ids, times = res.spikes("retina")
    from distsnn.io.event_input import events_to_spikes
    src_ids, src_t = events_to_spikes(ev, (34, 34, 2), t_offset=0.1)   # mapping checked above
    expect = set(zip(src_ids.tolist(), np.floor(src_t / 0.1 + 0.5).astype(int).tolist()))
    assert {(int(i), int(round(s / 0.1))) for i, s in zip(ids, times)} == expect
    assert res.spikes("V1")[0].size > 0                     # the input drives the network


def packet_network(sdev=1.5, seed_pulses=(20.0, 45.0), activity=7):
    net = Network(dt=0.1, chunk_size=16)
    net.add_pulse_packet_source("P", 40, seed_pulses, activity, sdev)
    net.add_population("post", 40, params={"tau_syn_ex": 1.0})
    net.connect("P", "post", OneToOne(), 900.0, 1.0)
    net.record_spikes("P")
    net.record_spikes("post")
    net.record_voltage("post", [0, 39])
    return net


def test_pulse_packets_are_gaussian_around_their_pulses():
    """NEST's pulsepacket_generator, one per source: `activity` spikes per source and pulse,
    centred on the pulse time with the given spread (the grid's rounding added), each source
    its own; another seed draws other times; sdev 0 puts a packet on its pulse, one spike of
    multiplicity `activity`."""
    res = simulate(packet_network(sdev=1.5), 80.0, seed=4, progress=False)
    ids, t = res.spikes("P")
    for pulse in (20.0, 45.0):
        near = np.abs(t - pulse) < 10.0
        assert np.bincount(ids[near], minlength=40).tolist() == [7] * 40
        x = t[near] - pulse   # 280 draws: mean within 4 standard errors, sd within 15 %
        assert abs(x.mean()) < 4 * 1.5 / np.sqrt(280) and abs(x.std() - np.sqrt(1.5 ** 2 + 0.1 ** 2 / 12)) < 0.22
    per_source = {tuple(np.round(t[ids == i], 6)) for i in range(40)}
    assert len(per_source) == 40                                       # each source its own packet
    other = simulate(packet_network(sdev=1.5), 80.0, seed=5, progress=False)
    assert not np.array_equal(other.spikes("P")[1], t)
    exact = simulate(packet_network(sdev=0.0, seed_pulses=(20.0, 20.04)), 40.0, seed=4, progress=False)
    ids, t = exact.spikes("P")
    assert np.allclose(t, 20.0) and np.bincount(ids).tolist() == [14] * 40   # both pulses in one step


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_pulse_packets_same_on_every_engine_and_mode(backend):
    """Drawn at the build from the seed: every engine and connectivity gives the same spikes,
    and the targets' V, with multiplicities (7 spikes of a source within a few steps)."""
    ref = simulate(packet_network(), 80.0, seed=4, backend="cpu", progress=False)
    for connectivity in ("procedural", "stored"):
        res = simulate(packet_network(), 80.0, seed=4, backend=backend, connectivity=connectivity, progress=False)
        assert np.array_equal(res.spike_gids, ref.spike_gids) and np.array_equal(res.spike_steps, ref.spike_steps)
        assert np.array_equal(res.vrec, ref.vrec)
    assert ref.spikes("post")[0].size > 0


def test_pulse_packet_validation():
    net = Network(dt=0.1)
    for args, message in ((([5.0, -1.0], 3, 1.0), "pulse_times must be finite times >= 0"),
                          (([5.0, np.inf], 3, 1.0), "pulse_times must be"), ((["5 ms"], 3, 1.0), "pulse_times must be"),
                          (([5.0], 2.5, 1.0), "activity"),
                          (([5.0], -1, 1.0), "activity"), (([5.0], 3, -0.1), "sdev must be"),
                          (([5.0], 3, np.nan), "sdev must be")):
        with pytest.raises(ValueError, match=message):
            net.add_pulse_packet_source("P", 4, *args)
        assert "P" not in net.populations
    net.add_pulse_packet_source("P", 4, [], 3, 1.0)                    # no pulses: a silent source
    net.record_spikes("P")
    assert simulate(net, 10.0, progress=False).spikes("P")[0].size == 0
