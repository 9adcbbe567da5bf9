"""The GPU engine's exchange windows on the emulated device: a flush copies back once (the step
state and the spikes packed by kernel pack_spikes; a second copy only for recorded state) and
copies nothing to the device (kernel reset_state starts the next block there), and received
spikes go to the device in one copy (DESIGN.md §7: one device-to-host copy, one collective,
one host-to-device copy per exchange). The spikes stay the CPU engine's."""
import numpy as np
import pytest

from distsnn.backends.cpu.simulator import CpuSimulator
from distsnn.backends.gpu import layout
from distsnn.backends.gpu import simulator as gpu_simulator
from distsnn.backends.gpu.emulator import EmulatedDevice
from distsnn.backends.gpu.simulator import GpuSimulator
from distsnn.build import make_plan
from test_determinism import mixed_network

STEPS = 240


def copies_during(dev, call):
    before = dict(dev.copies)
    out = call()
    return out, {k: dev.copies[k] - before[k] for k in before}


@pytest.fixture(scope="module")
def plan_and_reference():
    """The mixed network (every rule, spike and Poisson sources, synapse lists, recorded
    voltages) and the CPU engine's spikes, events and voltages for STEPS steps."""
    plan = make_plan(mixed_network(), 12)
    cpu = CpuSimulator(plan).build()
    gid, step = np.empty(100000, np.int64), np.empty(100000, np.int64)
    vrec = np.empty((STEPS, cpu.vrec_gids.size))
    done, n = cpu.run(STEPS, gid, step, 0, vrec)
    assert done == STEPS and n > 200
    return plan, (gid[:n], step[:n], cpu.events, vrec)


def test_two_processes_exchanging_in_windows(plan_and_reference):
    """Two simulators in one process, each with half of the units, run as two ranks do
    (runtime.run._DistributedLoop), exchanging after every step (the network's shortest delay
    between the halves is one step, as in the microcircuit and the multi-area model): every
    flush is one copy back, plus one for the recorded rows where the simulator records, and
    none to the device; every delivery of received spikes (odd and even numbers of them) is
    one copy to the device and none back. Together they give the CPU engine's spikes and
    events, and after each flush the device's step state is the one the host would have
    written (layout.initial_state)."""
    plan, (ref_gid, ref_step, ref_events, _) = plan_and_reference
    half = np.arange(plan.units.shape[0]) % 2 == 0
    sims = [GpuSimulator(plan, device=EmulatedDevice(seed=s), owned=m).build() for s, m in ((1, half), (2, ~half))]
    assert all(sim.n_local and sim.units.shape[0] for sim in sims) and sum(bool(s.n_rec) for s in sims) >= 1
    out = [(np.empty(100000, np.int64), np.empty(100000, np.int64)) for _ in sims]
    n_out = [0, 0]
    assert min(plan.proj_min_delay) == 1
    done, width, odd = 0, 1, 0
    while done < STEPS:
        sent = []
        for i, sim in enumerate(sims):
            ex = np.empty(10000, np.int64), np.empty(10000, np.int64)
            vrec = np.empty((width, sim.n_rec))
            (got, n_out[i], n_ex), c = copies_during(sim.dev, lambda: sim.run(width, *out[i], n_out[i], vrec, *ex, 0))
            assert got == width
            assert c == {"to_host": 1 + bool(sim.n_rec), "to_device": 0}
            state = sim.dev.to_host(sim.state)
            assert list(state) == layout.initial_state(sim.t, sim.per_step, sim.spk_cap, sim.block_steps)
            sent.append((ex[0][:n_ex], ex[1][:n_ex]))
        for i, sim in enumerate(sims):
            gid, step = sent[1 - i]
            order = np.argsort(gid, kind="stable")   # as SpikeExchange hands them over
            _, c = copies_during(sim.dev, lambda: sim.deliver(gid[order], step[order]))
            assert c == {"to_host": 0, "to_device": int(gid.size > 0)}
            odd += gid.size % 2
        done += width
    assert odd > 0 and sims[0].remote.size > gpu_simulator.remote_words(1)
    gid = np.concatenate([out[i][0][:n_out[i]] for i in range(2)])
    step = np.concatenate([out[i][1][:n_out[i]] for i in range(2)])
    order = np.lexsort((gid, step))
    assert np.array_equal(gid[order], ref_gid) and np.array_equal(step[order], ref_step)
    assert sum(sim.events for sim in sims) == ref_events


def test_more_spikes_than_the_flush_copy_holds(plan_and_reference, monkeypatch):
    """A block with more spikes than the flush's copy takes: the rest comes from d_flush (one
    more copy). The next copy is sized for twice the spikes, and the next block is one copy
    again. The spikes and voltages are the CPU engine's."""
    plan, (ref_gid, ref_step, ref_events, ref_vrec) = plan_and_reference
    monkeypatch.setattr(gpu_simulator, "FLUSH_COPY_MIN", 5)
    sim = GpuSimulator(plan, device=EmulatedDevice(seed=3)).build()
    assert sim.d_flush.size == layout.N_ST + sim.spk_cap and sim._flush_copy == 5
    gid, step = np.empty(100000, np.int64), np.empty(100000, np.int64)
    vrec = np.empty((STEPS, sim.n_rec))
    half = STEPS // 2
    (done, n), c = copies_during(sim.dev, lambda: sim.run(half, gid, step, 0, vrec))
    assert done == half and n > 5 and sim.n_rec and c == {"to_host": 3, "to_device": 0}
    assert sim._flush_copy >= 2 * n
    (more, n), c = copies_during(sim.dev, lambda: sim.run(STEPS - half, gid, step, n, vrec[half:]))
    assert more == STEPS - half and c == {"to_host": 2, "to_device": 0}
    assert np.array_equal(gid[:n], ref_gid) and np.array_equal(step[:n], ref_step)
    assert np.array_equal(vrec, ref_vrec) and sim.events == ref_events
