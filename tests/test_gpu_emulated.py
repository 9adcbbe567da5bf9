"""The GPU backend (its CUDA kernels and its driver) on the emulated device, on any machine:
the same spikes, voltages and event counts as the CPU engine, bit for bit, whatever order
the emulator runs blocks and threads in. On a GPU, test_gpu_device.py checks the same on
the real device."""
import subprocess
import sys

import h5py
import numpy as np
import pytest

from distsnn.backends.cpu.simulator import CpuSimulator, compute_counts
from distsnn.backends.gpu import layout
from distsnn.backends.gpu import simulator as gpu_simulator
from distsnn.backends.gpu.emulator import EmulatedDevice
from distsnn.backends.gpu.row_counts import device_counts
from distsnn.backends.gpu.simulator import GpuSimulator
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.model import FixedOutdegree, Network
from distsnn.models import MODELS
from distsnn.runtime import simulate
from test_determinism import mixed_network


def assert_same_run(res, ref):
    assert np.array_equal(res.spike_gids, ref.spike_gids)
    assert np.array_equal(res.spike_steps, ref.spike_steps)
    assert np.array_equal(res.vrec, ref.vrec)          # exact: same operations in the same order
    assert res.events == ref.events


def mixed_with(bits):
    net = mixed_network()
    net.ring_bits = bits
    return net


@pytest.fixture(scope="module")
def mixed_reference():
    """CPU runs; key: connectivity (default ring width, int32 here) or (connectivity, 64)."""
    out = {c: simulate(mixed_network(), 200.0, seed=12, backend="cpu", connectivity=c, progress=False)
           for c in ("procedural", "stored")}
    out.update({(c, 64): simulate(mixed_with(64), 200.0, seed=12, backend="cpu", connectivity=c, progress=False)
                for c in ("procedural", "stored")})
    return out


@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_every_rule_and_input_same_as_cpu(mixed_reference, connectivity, bits):
    """Both ring widths: the int32 kernels (the default) and their int64 twins."""
    ref = mixed_reference[connectivity if bits == 32 else (connectivity, 64)]
    assert ref.plan.ring_bits == bits
    assert ref.spike_gids.size > 1000 and ref.events > 10000     # an active network
    res = simulate(mixed_with(bits), 200.0, seed=12, backend="gpu-emu", connectivity=connectivity, progress=False)
    assert res.backend == "gpu-emu" and res.device["name"].startswith("emulated")
    assert res.plan.ring_bits == bits and res.plan is not ref.plan
    assert_same_run(res, ref)


@pytest.mark.parametrize("order_seed", ["1", "987654"])
def test_result_does_not_depend_on_block_and_thread_order(mixed_reference, monkeypatch, order_seed):
    monkeypatch.setenv("DISTSNN_GPU_EMU_ORDER_SEED", order_seed)
    res = simulate(mixed_network(), 200.0, seed=12, backend="gpu-emu", progress=False)
    assert_same_run(res, mixed_reference["procedural"])


@pytest.mark.parametrize("block,team", [(1, 1), (6, 3), (8, 8)])
def test_result_does_not_depend_on_launch_geometry(mixed_reference, block, team):
    """Threads per block and per delivery team change who does what, not the result."""
    plan = make_plan(mixed_network(), 12)
    sim = GpuSimulator(plan, device=EmulatedDevice(seed=5, block_threads=block, team=team)).build()
    out = np.empty(100000, np.int64), np.empty(100000, np.int64)
    vrec = np.empty((2000, sim.vrec_gids.size))
    done, n = sim.run(2000, out[0], out[1], 0, vrec)
    ref = mixed_reference["procedural"]
    assert done == 2000 and np.array_equal(out[0][:n], ref.spike_gids) and np.array_equal(out[1][:n], ref.spike_steps)
    assert sim.events == ref.events


def test_team_must_divide_the_block():
    with pytest.raises(ValueError, match="must divide the block"):
        EmulatedDevice(block_threads=4, team=3)


def test_emulator_really_shuffles_the_spike_appends():
    """The raw spike buffer (before the driver sorts it) comes out in a different order for
    two block orders: the atomic appends are order-dependent, and the sort must fix that."""
    plan = make_plan(mixed_network(), 12)
    raw = []
    for seed in (0, 1):
        sim = GpuSimulator(plan, device=EmulatedDevice(seed=seed)).build()
        sim._enqueue(400)
        end = int(sim.dev.to_host(sim.state)[layout.ST_END])
        raw.append(sim.dev.to_host(sim.spk_gid[:end]))
    assert raw[0].size == raw[1].size > 100
    assert not np.array_equal(raw[0], raw[1])
    assert np.array_equal(np.sort(raw[0]), np.sort(raw[1]))


@pytest.mark.parametrize("model,connectivity", [("microcircuit", "procedural"), ("microcircuit", "stored"),
                                                ("coba", "procedural"), ("brunel", "procedural"),
                                                ("izhikevich", "procedural")])
def test_library_models_same_as_cpu(model, connectivity):
    """The microcircuit (fixed_total_number, Poisson input, DC), the COBA network
    (iaf_cond_exp, fixed_probability, a spike-source stimulus), Brunel's network
    (iaf_psc_delta, fixed_indegree with chunks of 1024 and a shorter last one) and
    Izhikevich's (izhikevich neurons, noise currents)."""
    scale = {"microcircuit": 0.03, "coba": 0.1, "brunel": 0.11, "izhikevich": 0.05}[model]
    net = lambda: MODELS[model](scale=scale, record_voltage=2)   # noqa: E731
    ref = simulate(net(), 150.0, seed=3, backend="cpu", connectivity=connectivity, progress=False)
    assert ref.spike_gids.size > 100
    res = simulate(net(), 150.0, seed=3, backend="gpu-emu", connectivity=connectivity, progress=False)
    assert_same_run(res, ref)


def small_buffers(monkeypatch):
    """A spike buffer of two worst-case steps and blocks of 7 steps for the GpuSimulators made
    next; returns the list that the number of steps of each flush is appended to."""
    monkeypatch.setattr(gpu_simulator, "SPIKE_BUFFER_ENTRIES", 0)
    monkeypatch.setattr(gpu_simulator, "MAX_BLOCK_STEPS", 7)
    flushes = []
    original = gpu_simulator.GpuSimulator._flush

    def counting_flush(self):
        out = original(self)
        flushes.append(out[0])
        return out
    monkeypatch.setattr(gpu_simulator.GpuSimulator, "_flush", counting_flush)
    return flushes


def test_small_buffers_skipped_steps_and_graph_remainders(mixed_reference, monkeypatch):
    """A spike buffer of two worst-case steps, blocks of 7 steps and graphs of 3: steps are
    skipped on the device whenever the buffer might overflow and run again after the flush,
    blocks end mid-graph, graphs start at either parity of the step state (layout.py), and
    the state resets at every flush."""
    monkeypatch.setattr(gpu_simulator, "GRAPH_STEPS", 3)
    flushes = small_buffers(monkeypatch)
    res = simulate(mixed_network(), 200.0, seed=12, backend="gpu-emu", progress=False)
    assert_same_run(res, mixed_reference["procedural"])
    assert sum(flushes) == 2000 and max(flushes) == 7
    assert min(flushes) < 7          # some blocks stopped early: the buffer was nearly full


def test_run_keeps_what_does_not_fit_the_output_buffer():
    """Spikes that do not fit the caller's buffer stay pending: the call returns early and
    the next call, with a larger buffer, writes them first; nothing is lost."""
    plan = make_plan(mixed_network(), 12)
    sim = GpuSimulator(plan, device=EmulatedDevice()).build()
    vrec = np.empty((300, sim.vrec_gids.size))
    small = np.empty(10, np.int64), np.empty(10, np.int64)
    done, n_out = sim.run(300, small[0], small[1], 0, vrec)
    assert done < 300 and n_out <= 10 and sim._pending is not None
    big = np.empty(100000, np.int64), np.empty(100000, np.int64)
    big[0][:n_out], big[1][:n_out] = small[0][:n_out], small[1][:n_out]
    more, n_out = sim.run(300 - done, big[0], big[1], n_out, vrec[done:])
    assert done + more == 300 and sim._pending is None
    cpu = CpuSimulator(plan).build()
    ref = np.empty(100000, np.int64), np.empty(100000, np.int64)
    vrec_cpu = np.empty((300, sim.vrec_gids.size))
    assert cpu.run(300, ref[0], ref[1], 0, vrec_cpu) == (300, n_out)
    assert np.array_equal(big[0][:n_out], ref[0][:n_out]) and np.array_equal(big[1][:n_out], ref[1][:n_out])
    assert np.array_equal(vrec, vrec_cpu) and sim.events == cpu.events


def test_device_counts_equal_the_cpu_counts():
    net = Network(dt=0.1, chunk_size=32)
    net.add_population("A", 300)
    net.add_population("B", 130)
    net.connect("A", "B", FixedOutdegree(25), 10.0, 1.0)
    net.connect("B", "A", FixedOutdegree(7), -10.0, 1.0)
    # bound_inputs=False: no host counts in the plan, so the device histograms its own
    for plan in (make_plan(net, 5, bound_inputs=False), make_plan(MODELS["microcircuit"](scale=0.05), 9, False)):
        assert plan.counts is None
        sim = GpuSimulator(plan, device=EmulatedDevice(seed=2))
        counts = device_counts(sim.dev, plan)
        expected = compute_counts(plan)
        assert counts.sum() > 0
        assert np.array_equal(counts[:expected.size], expected)


def test_device_csr_equals_the_cpu_csr():
    """Stored connectivity built on the device: the CPU engine's arrays exactly (every rule,
    several projections into one population, rows in in_proj order within a cell); the
    synapse lists beside it: the CPU engine's list CSR."""
    from distsnn.backends.cpu.simulator import build_lists, build_stored
    plan = make_plan(mixed_network(), 12)
    sim = GpuSimulator(plan, "stored", device=EmulatedDevice(seed=4)).build()
    ptr, loc, w, d, q = build_stored(plan, sim.units, compute_counts(plan), lambda msg: None)
    lists = build_lists(plan, sim.units, lambda msg: None)
    assert q.size == 0 and lists[5].size == 0   # no short-term plasticity: no groups per synapse
    lists = lists[:5]
    assert lists[1][-1] == sum(sl.n for sl in plan.lists) == 2800
    assert all(np.array_equal(a, b[:a.size]) for a, b in zip(lists, sim.d_lists))
    assert sim.n_synapses == ptr[-1] + lists[1][-1] and ptr[-1] > 10000
    assert np.array_equal(sim.d_ptr, ptr)
    n = int(ptr[-1])
    assert np.array_equal(sim.d_syn_loc[:n], loc) and np.array_equal(sim.d_syn_w[:n], w)
    assert np.array_equal(sim.d_syn_d[:n], d)


class _SmallDevice(EmulatedDevice):
    """An emulated device with 1 MiB free: what does not fit must be refused up front."""
    def free_bytes(self):
        return 2 ** 20


def test_what_does_not_fit_the_device_is_refused_before_allocating():
    plan = make_plan(MODELS["microcircuit"](scale=0.05), 1)
    dev = _SmallDevice()
    with pytest.raises(MemoryError, match=r"needs .* GiB but the device has 0.00 GiB free; use a smaller model or "
                                          r"more GPUs$"):
        GpuSimulator(plan, device=dev).build()
    assert dev.peak_bytes == 0
    # a stored CSR: procedural connectivity is proposed, before anything is counted
    with pytest.raises(MemoryError, match=r"stored connectivity: about .* synapses need at least .* GiB but emulated "
                                          r"GPU \(host C\+\+\) has 0.00 GiB free; use procedural connectivity"):
        GpuSimulator(make_plan(MODELS["microcircuit"](scale=0.05), 1, bound_inputs=False), "stored",
                     device=dev).bound_inputs()
    assert dev.peak_bytes == 0


def test_spike_sources_alone():
    """A network of spike sources only: no neuron-update launch, spikes from the schedule."""
    net = Network(dt=0.1)
    net.add_spike_source("S", 5, [0, 1, 1, 4, 2], [0.1, 0.5, 0.5, 3.0, 7.25])
    net.add_population("N", 3)
    net.connect("S", "N", FixedOutdegree(2), 500.0, 1.0)
    net.record_spikes("S")
    ref = simulate(net, 10.0, backend="cpu", progress=False)
    res = simulate(net, 10.0, backend="gpu-emu", progress=False)
    assert ref.spike_gids.size == 5                       # the repeated spike counts (NEST's multiplicity)
    assert_same_run(res, ref)


def test_cli_gpu_emu_writes_the_cpu_file(tmp_path):
    files = {}
    for backend in ("cpu", "gpu-emu"):
        out = tmp_path / f"{backend}.h5"
        proc = subprocess.run([sys.executable, "-m", "distsnn", "run", "microcircuit", "--scale", "0.02", "--t-sim",
                               "100", "--backend", backend, "--output", str(out), "--no-progress"],
                              capture_output=True, text=True, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        files[backend] = out
    assert "device   emulated GPU" in proc.stdout
    with h5py.File(files["cpu"]) as a, h5py.File(files["gpu-emu"]) as b:
        for name in a["spikes"]:
            for key in ("node_ids", "timestamps"):
                assert np.array_equal(a["spikes"][name][key][()], b["spikes"][name][key][()])


def poisson_shapes_network(window=True):
    net = Network(dt=0.1)
    net.add_population("N", 45, "iaf_psc_exp", {"I_e": 250.0})
    net.add_poisson_input("N", indegree=2000, rate=110.0, weight=2.0, delay=1.0)            # 22 per step: 3 parts
    if window:   # its sources fire at steps 80 .. 212, arriving from step 85
        net.add_poisson_input("N", indegree=1000, rate=95.0, weight=-6.0, delay=0.5, start=8.0, stop=21.3)
    net.add_poisson_input("N", indegree=300, rate=0.0, weight=5.0, delay=0.2)              # no parts
    net.connect("N", "N", FixedOutdegree(5), 10.0, 1.0)
    net.record_spikes("N")
    net.record_voltage("N", np.arange(45))
    return net


@pytest.mark.parametrize("step_loop", [False, True])
def test_poisson_inputs_of_several_parts_windows_and_rate_zero(monkeypatch, step_loop):
    """The neuron update's Poisson input in every shape its loop takes: means above
    LAMBDA_MAX (several parts, each its own draw), a window (the first draw made and
    dropped outside it), an input of rate 0 (no parts), the excitatory and the inhibitory
    receptor: the CPU engine's bits, in separate launches and in the step loop."""
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1" if step_loop else "0")
    ref = simulate(poisson_shapes_network(), 30.0, seed=3, backend="cpu", progress=False)
    res = simulate(poisson_shapes_network(), 30.0, seed=3, backend="gpu-emu", progress=False)
    assert res.device["step_launches"].startswith("step loop") == step_loop
    assert ref.plan.pin_i[0, bp.QI_NSUB] == 3 and ref.plan.pin_i[2, bp.QI_NSUB] == 0
    assert ref.spike_gids.size > 50
    assert_same_run(res, ref)
    # the windowed input acts from its first arrival on, not before
    alone = simulate(poisson_shapes_network(window=False), 30.0, seed=3, backend="gpu-emu", progress=False)
    assert np.array_equal(alone.vrec[:85], res.vrec[:85]) and not np.array_equal(alone.vrec[:95], res.vrec[:95])
