"""STDP on the GPU engine (backends/gpu/stdp.py, kernels/stdp.cu, stored delivery's `_stdp`
variant), run on the emulated device: NEST 3.10's weights, V and spikes through rule
projections and synapse lists; history rings of 2 entries that fill mid-block, skip the
block's rest, are trimmed and grow; the CPU engine's spikes and every weight bit for bit in
a network with Poisson drive; checkpoints that pass between the engines; and every launch
order giving the same result. Ranks: test_mpi_stdp.py."""
import numpy as np
import pytest

from distsnn.backends.cpu.simulator import CpuSimulator
from distsnn.backends.gpu import stdp as gpu_stdp
from distsnn.backends.gpu.emulator import EmulatedDevice
from distsnn.backends.gpu.simulator import GpuSimulator
from distsnn.build.plan import make_plan
from distsnn.runtime import simulate
from test_stdp import P, assert_as_nest, plastic_network, protocol_network


@pytest.mark.parametrize("lists, connectivity", [(False, "stored"), (True, "stored"), (True, "procedural")])
def test_weights_spikes_and_voltage_equal_nest(lists, connectivity):
    res = simulate(protocol_network(lists), P["t_sim"], backend="gpu-emu", connectivity=connectivity, progress=False)
    assert res.backend == "gpu-emu"
    assert_as_nest(res)


def run_steps(sim, n_steps):
    out = np.zeros(8192, dtype=np.int64), np.zeros(8192, dtype=np.int64)
    done, n_out = sim.run(n_steps, out[0], out[1], 0, np.zeros((n_steps, sim.vrec_gids.size)))
    assert done == n_steps
    return out[0][:n_out], out[1][:n_out]


def test_full_rings_skip_the_block_then_are_trimmed_and_grown():
    """Rings of 2 entries: a ring filled in a step skips the rest of its block (the device's
    step counter stops), is trimmed at the flush and doubled where a silent source still
    needs its entries; the spikes and every weight are the CPU engine's."""
    n_steps = int(round(P["t_sim"] / P["dt"]))
    plan = make_plan(protocol_network(), 1)
    cpu = CpuSimulator(plan, "stored").build()
    gpu = GpuSimulator(make_plan(protocol_network(), 1), "stored", device=EmulatedDevice(seed=3))
    gpu.history_capacity = 2
    gpu.build()
    assert gpu.hist_cap == 2
    flushes = []
    flush = gpu._flush
    gpu._flush = lambda: flushes.append(flush()) or flushes[-1]
    want, got = run_steps(cpu, n_steps), run_steps(gpu, n_steps)
    assert all(np.array_equal(a, b) for a, b in zip(want, got))
    assert gpu.stdp_trims >= 5 and gpu.stdp_grows >= 5 and gpu.hist_cap >= 64
    assert sum(f[0] < gpu.block_steps for f in flushes[:-1]) >= 3   # blocks cut short at full rings
    # the CPU engine's weights, which are NEST's (test_stdp's rings of two entries too)
    cpu_w, gpu_w = cpu.plastic_synapses(), gpu.plastic_synapses()
    assert gpu_w.size == cpu_w.size > 0 and np.array_equal(cpu_w, gpu_w)


@pytest.fixture(scope="module")
def cpu_reference():
    return simulate(plastic_network(), 150.0, seed=4, connectivity="stored", backend="cpu", progress=False)


def test_same_spikes_and_weights_as_the_cpu_engine(cpu_reference):
    res = simulate(plastic_network(), 150.0, seed=4, connectivity="stored", backend="gpu-emu", progress=False)
    ref = cpu_reference
    assert ref.spike_gids.size > 1000
    assert np.array_equal(res.spike_gids, ref.spike_gids) and np.array_equal(res.spike_steps, ref.spike_steps)
    assert np.array_equal(res.plastic, ref.plastic)
    assert np.abs(res.weights("E", "E")[3] - 80.0).max() > 1.0   # they moved


@pytest.mark.parametrize("block, team", [(1, 1), (8, 4)])
def test_launch_geometry_and_order_do_not_matter(cpu_reference, block, team):
    plan = make_plan(plastic_network(), 4)
    sim = GpuSimulator(plan, "stored", device=EmulatedDevice(seed=block + 7, block_threads=block, team=team)).build()
    n = cpu_reference.n_steps
    out = np.zeros(1 << 16, dtype=np.int64), np.zeros(1 << 16, dtype=np.int64)
    done, n_out = sim.run(n, out[0], out[1], 0, np.zeros((n, 0)))
    assert done == n and np.array_equal(out[0][:n_out], cpu_reference.spike_gids)
    assert np.array_equal(sim.plastic_synapses(), cpu_reference.plastic)


@pytest.mark.parametrize("first, then", [("gpu-emu", "cpu"), ("cpu", "gpu-emu")])
def test_checkpoints_pass_between_the_engines(tmp_path, cpu_reference, first, then):
    """A checkpoint holds the traces, the histories and every weight, whichever engine wrote
    it: the other engine restarts to the spikes and weights of the whole run."""
    path = str(tmp_path / "c")
    kw = dict(seed=4, connectivity="stored", progress=False)
    done = simulate(plastic_network(), 70.0, backend=first, checkpoint=path, **kw)
    rest = simulate(plastic_network(), 80.0, backend=then, restart=path, **kw)
    after = cpu_reference.spike_steps >= done.n_steps
    assert rest.spike_gids.size > 500
    assert np.array_equal(rest.spike_gids, cpu_reference.spike_gids[after])
    assert np.array_equal(rest.spike_steps, cpu_reference.spike_steps[after])
    assert np.array_equal(rest.plastic, cpu_reference.plastic)


def test_device_bytes_count_the_rings():
    plan = make_plan(plastic_network(), 4)
    assert gpu_stdp.device_bytes(plan, 500, 500) >= 500 * 16 * gpu_stdp.HISTORY_START
    plan = make_plan(protocol_network(plastic=False), 1)
    assert gpu_stdp.device_bytes(plan, 3, 3) == 0
