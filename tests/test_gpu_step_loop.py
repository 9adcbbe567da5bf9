"""The step loop (kernels/step_loop.cu): blocks of steps run by one cooperative launch with
grid barriers, on the emulated device. The same spikes, voltages and event counts as the CPU
engine, bit for bit, whatever the grid and the order of threads between barriers; the
emulator's barrier holds every thread until all have arrived, and refuses what would hang
a GPU. On a GPU, test_gpu_device.py checks the same on the real device."""
import ctypes
import subprocess

import numpy as np
import pytest

from distsnn.backends.gpu import emulator
from distsnn.backends.gpu import simulator as gpu_simulator
from distsnn.backends.gpu.emulator import EmulatedDevice
from distsnn.backends.gpu.simulator import GpuSimulator
from distsnn.build import make_plan
from distsnn.model import (AllToAll, FixedIndegree, FixedOutdegree, FixedProbability, FixedTotalNumber, Network,
                           Normal, OneToOne, Uniform)
from distsnn.models import MODELS
from distsnn.runtime import simulate
from test_determinism import mixed_network
from test_gpu_emulated import assert_same_run, small_buffers

T_SIM = 150.0   # ms


def loop_network(ring_bits="auto"):
    """What the step loop runs (no spike or Poisson sources, AdEx neurons or synapse lists):
    every connection rule, both receptors, delays of one step, Poisson, DC, AC and noise
    input, iaf_psc_exp with thresholds per neuron, iaf_psc_delta with parameters per
    neuron, iaf_cond_exp, iaf_psc_alpha, iaf_cond_alpha and izhikevich neurons, every
    recordable kind of state."""
    net = Network(dt=0.1, chunk_size=64, ring_bits=ring_bits)
    net.add_population("E", 300, params={"tau_syn_ex": 0.5, "V_th": Normal(-55.0, 1.0)}, v_init=Normal(-60.0, 5.0))
    net.add_population("I", 90, v_init=-65.0)
    net.add_population("X", 90, params={"I_e": 380.0})
    net.connect("E", "E", FixedTotalNumber(12000), Normal(40.0, 4.0), Normal(1.5, 0.75))
    net.connect("E", "I", FixedProbability(0.1), Normal(60.0, 6.0), 0.1)
    net.connect("I", "E", FixedOutdegree(50), Normal(-60.0, 6.0), Normal(0.8, 0.4))
    net.connect("I", "I", AllToAll(), -50.0, 0.5)
    net.connect("X", "I", OneToOne(), 200.0, 2.0)
    net.connect("E", "I", FixedIndegree(30), Normal(20.0, 2.0), Normal(1.2, 0.4), label="k")
    net.add_poisson_input("E", indegree=1000, rate=18.0, weight=45.0, delay=1.5)
    net.add_poisson_input("I", indegree=1000, rate=9.0, weight=45.0, delay=1.5, start=20.0, stop=120.0)
    net.add_dc_input("I", 100.0, start=50.0, stop=130.0)
    net.add_ac_input("E", 30.0, 40.0, phase=20.0, offset=5.0, start=60.0)
    net.add_noise_input("I", mean=20.0, std=80.0, dt=0.5, start=20.0, stop=140.0)
    net.add_population("D", 60, "iaf_psc_delta", {"t_ref": Uniform(1.0, 2.0), "tau_m": Normal(10.0, 1.0)},
                       v_init=Normal(-62.0, 4.0))
    net.connect("E", "D", FixedIndegree(25), Normal(0.5, 0.1), Normal(1.3, 0.4))
    net.connect("D", "E", FixedProbability(0.1), 25.0, 0.1)
    net.add_poisson_input("D", indegree=400, rate=6.0, weight=0.5, delay=1.0)
    net.add_population("C", 40, "iaf_cond_exp", {"I_e": Uniform(240.0, 300.0)})
    net.connect("D", "C", FixedTotalNumber(1200), 4.0, 0.7)
    net.connect("C", "I", FixedProbability(0.1), 20.0, 1.0)
    net.add_population("A", 40, "iaf_psc_alpha", {"tau_syn_ex": 1.0, "tau_syn_in": 3.0, "I_e": 360.0},
                       v_init=Normal(-62.0, 4.0))
    net.connect("E", "A", FixedIndegree(15), Normal(50.0, 5.0), 1.7)
    net.connect("A", "E", FixedTotalNumber(600), 40.0, 1.3)
    net.add_population("G", 40, "iaf_cond_alpha", {"tau_syn_ex": 0.5, "I_e": 280.0}, v_init=Normal(-60.0, 3.0))
    net.connect("E", "G", FixedIndegree(15), Normal(2.5, 0.25), Normal(1.1, 0.3))
    net.connect("I", "G", FixedProbability(0.1), -3.0, 0.6)
    net.add_population("Y", 30, "izhikevich", {"I_e": 8.0, "b": Normal(0.2, 0.01)}, v_init=Normal(-65.0, 3.0))
    net.connect("E", "Y", FixedIndegree(10), Normal(2.0, 0.2), 1.2)
    net.connect("Y", "I", FixedProbability(0.2), 20.0, 0.9)
    for name in ("E", "I", "X", "D", "C", "A", "G", "Y"):
        net.record_spikes(name)
    net.record_voltage("E", [0, 150, 299])
    net.record_state("A", [3], ("V_m", "I_syn_ex"))
    net.record_state("G", [5], ("V_m", "g_ex", "g_in"))
    net.record_state("Y", [7], ("V_m", "U_m"))
    return net


@pytest.fixture(scope="module")
def reference():
    """CPU runs by (connectivity, ring width)."""
    return {(c, bits): simulate(loop_network(bits), T_SIM, seed=4, backend="cpu", connectivity=c, progress=False)
            for c in ("procedural", "stored") for bits in (32, 64)}


def loop_run(monkeypatch, connectivity="procedural", bits=32, **kw):
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1")
    res = simulate(loop_network(bits), T_SIM, seed=4, backend="gpu-emu", connectivity=connectivity,
                   progress=False, **kw)
    # every rule, no kinds of draws: "_no_kinds"; stored: the smallest (its procedural delivery never runs)
    variant = "_no_indegree" if connectivity == "stored" else "_no_kinds"
    kernel = "step_loop" + variant + ("_r32" if bits == 32 else "")
    assert res.device["step_launches"].startswith(f"step loop ({kernel},")
    return res


def test_the_network_is_active(reference):
    res = reference[("procedural", 32)]
    for name in ("E", "I", "X", "D", "C", "A", "G", "Y"):
        assert res.spikes(name)[0].size > 5, name
    assert res.plan.ring_bits == 32 and res.events > 100000


@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_step_loop_same_as_cpu(reference, monkeypatch, connectivity, bits):
    res = loop_run(monkeypatch, connectivity, bits)
    assert res.plan.ring_bits == bits
    assert_same_run(res, reference[(connectivity, bits)])


@pytest.mark.parametrize("order_seed", ["1", "4242"])
def test_step_loop_does_not_depend_on_thread_order(reference, monkeypatch, order_seed):
    """The emulator reshuffles every thread of the grid between barriers."""
    monkeypatch.setenv("DISTSNN_GPU_EMU_ORDER_SEED", order_seed)
    assert_same_run(loop_run(monkeypatch), reference[("procedural", 32)])


@pytest.mark.parametrize("block,team,resident,forced,shape", [
    (1, 1, 1, None, (1, 2)),      # one thread per multiprocessor
    (6, 3, 2, None, (12, 2)),     # room for 2 x 6 threads: one block of 12 per multiprocessor
    (8, 4, 40, None, (128, 1)),   # room for more than delivery's 16 blocks of 8: one block of 128
    (6, 3, 2, "3", (3, 4)),       # DISTSNN_GPU_LOOP_BLOCK: blocks of 3, two per multiprocessor
    (8, 4, 40, "8", (8, 16)),     # blocks of 8: as many as delivery's grid
])
def test_step_loop_does_not_depend_on_its_grid(reference, monkeypatch, block, team, resident, forced, shape):
    """The loop's shape (launches.loop_shape: the fewest blocks that hold the most threads, no
    more threads than delivery's grid; or the block asked for). One thread per
    multiprocessor, and grids whose neurons and spikes take several passes of a
    grid-stride loop: the CPU's spikes."""
    if forced:
        monkeypatch.setenv("DISTSNN_GPU_LOOP_BLOCK", forced)
    plan = make_plan(loop_network(), 4)
    dev = EmulatedDevice(seed=3, block_threads=block, team=team, step_loop=True)
    dev.resident_blocks = resident
    sim = GpuSimulator(plan, device=dev).build()
    assert (sim.loop_block, sim.loop_grid) == shape
    assert sim.step_launches.endswith(f"{shape[1]} blocks of {shape[0]})")
    n = int(round(T_SIM / 0.1))
    out = np.empty(200000, np.int64), np.empty(200000, np.int64)
    vrec = np.empty((n, sim.vrec_gids.size))
    done, n_out = sim.run(n, out[0], out[1], 0, vrec)
    ref = reference[("procedural", 32)]
    assert done == n and np.array_equal(out[0][:n_out], ref.spike_gids)
    assert np.array_equal(out[1][:n_out], ref.spike_steps) and sim.events == ref.events


def test_step_loop_with_small_buffers_skips_steps_and_runs_them_again(reference, monkeypatch):
    """A spike buffer of two worst-case steps and blocks of 7 steps: inside one launch, steps
    that might overflow the buffer are skipped, and run by the next launch after the flush."""
    flushes = small_buffers(monkeypatch)
    res = loop_run(monkeypatch)
    assert_same_run(res, reference[("procedural", 32)])
    assert sum(flushes) == 1500 and max(flushes) == 7 and min(flushes) < 7


def test_step_loop_checkpoint_restarts_on_the_cpu(reference, monkeypatch, tmp_path):
    """A run stopped mid-way by the step loop, restarted on the CPU: the uninterrupted run."""
    whole = reference[("procedural", 32)]
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1")
    first = simulate(loop_network(), 63.7, seed=4, backend="gpu-emu", progress=False, checkpoint=str(tmp_path / "c"))
    assert first.device["step_launches"].startswith("step loop")
    second = simulate(loop_network(), T_SIM - 63.7, seed=4, backend="cpu", progress=False, restart=str(tmp_path / "c"))
    assert np.array_equal(np.concatenate([first.spike_gids, second.spike_gids]), whole.spike_gids)
    assert np.array_equal(np.concatenate([first.spike_steps, second.spike_steps]), whole.spike_steps)
    assert np.array_equal(np.concatenate([first.vrec, second.vrec]), whole.vrec)


@pytest.mark.parametrize("model,connectivity", [("microcircuit", "procedural"), ("microcircuit", "stored"),
                                                ("brunel", "procedural")])
def test_library_models_on_the_step_loop(monkeypatch, model, connectivity):
    scale = {"microcircuit": 0.03, "brunel": 0.11}[model]
    net = lambda: MODELS[model](scale=scale, record_voltage=2)   # noqa: E731
    ref = simulate(net(), 100.0, seed=3, backend="cpu", connectivity=connectivity, progress=False)
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1")
    res = simulate(net(), 100.0, seed=3, backend="gpu-emu", connectivity=connectivity, progress=False)
    assert res.device["step_launches"].startswith("step loop")
    assert ref.spike_gids.size > 100
    assert_same_run(res, ref)


def test_models_the_loop_does_not_cover_run_as_separate_launches():
    """Spike and Poisson sources, AdEx neurons and synapse lists have launches of their own:
    such a model runs step by step even when the loop is asked for; without asking, every
    model does."""
    asked = EmulatedDevice(step_loop=True)
    plain = GpuSimulator(make_plan(mixed_network(), 12), device=asked).build()
    assert plain.loop_kernel is None and plain.step_launches == "separate launches"
    assert GpuSimulator(make_plan(loop_network(), 4), device=asked).build().loop_kernel == "step_loop_no_kinds_r32"
    unasked = GpuSimulator(make_plan(loop_network(), 4), device=EmulatedDevice(step_loop=False)).build()
    assert unasked.loop_kernel is None


def h100_resident(registers):
    """Blocks of `block` threads an H100 (132 multiprocessors, 65,536 registers and 2,048
    threads each, at most 32 blocks) holds at once of a kernel using `registers` per thread:
    registers are allocated per warp, in units of 256 (the CUDA occupancy calculator's
    rule for compute capability 9.0)."""
    per_warp = -(-registers * 32 // 256) * 256

    def resident(block):
        warps = -(-block // 32)
        if warps * per_warp > 65536:
            return 0
        return min(32, 65536 // (warps * per_warp), 2048 // block) * 132
    return resident


@pytest.mark.parametrize("registers,team,forced,shape", [
    (80, 64, None, (768, 132)),   # 6 x 128 = 1 x 768 threads per multiprocessor: 132 arrivals, not 792
    (96, 64, None, (640, 132)),   # the full rule variant: 5 x 128 = 1 x 640
    (80, 64, 128, (128, 792)),    # the block of the separate launches, asked for
    (80, 32, None, (800, 132)),   # teams of 32: a 25th warp fits (25 x 32 x 80 registers)
    (80, 16, None, (800, 132)),   # teams of 16 (bench_gpu's loop_team16): still whole warps
    (40, 64, None, (1024, 132)),  # room for 1,536 threads per multiprocessor (3 x 512): more than
])                                # delivery's 135,168 in all, which 132 blocks of 1,024 hold
def test_step_loop_shape_on_an_h100(registers, team, forced, shape):
    cap = 8 * 132 * 128           # delivery's grid: 8 blocks of 128 per multiprocessor
    assert gpu_simulator.launches.loop_shape(h100_resident(registers), team, cap, forced) == shape


@pytest.mark.parametrize("forced", [0, 48, 2048])
def test_a_step_loop_block_off_the_teams_multiples_or_too_large_is_refused(monkeypatch, forced):
    with pytest.raises(ValueError, match="multiple of the delivery team"):
        gpu_simulator.launches.loop_shape(h100_resident(80), 64, 8 * 132 * 128, forced)
    monkeypatch.setenv("DISTSNN_GPU_LOOP_BLOCK", "many")
    with pytest.raises(ValueError, match="not a number of threads"):
        gpu_simulator.launches.forced_loop_block()


def test_a_step_loop_block_the_device_cannot_hold_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DISTSNN_GPU_LOOP_BLOCK", "10")   # room for 2 x 4 threads per multiprocessor
    with pytest.raises(RuntimeError, match="cannot have a block of 10 threads resident"):
        GpuSimulator(make_plan(loop_network(), 4), device=EmulatedDevice(step_loop=True)).build()
    monkeypatch.delenv("DISTSNN_GPU_LOOP_BLOCK")
    dev = EmulatedDevice(step_loop=True)
    dev.resident_threads = 1                              # not even one team of 2 threads
    with pytest.raises(RuntimeError, match="cannot have a block of 2 threads resident"):
        GpuSimulator(make_plan(loop_network(), 4), device=dev).build()


def test_a_cooperative_launch_larger_than_the_device_is_refused():
    plan = make_plan(loop_network(), 4)
    dev = EmulatedDevice(step_loop=True)
    sim = GpuSimulator(plan, device=dev).build()
    too_many = dev.cooperative_grid(sim.loop_kernel, dev.block_threads) + 1
    with pytest.raises(RuntimeError, match="only 4 can be resident"):
        dev.bind(sim.loop_kernel, too_many, dev.block_threads, gpu_simulator.launches.loop_args(sim, sim.prepared, 1))


# the emulator's grid barrier on its own: a kernel where each thread adds to a counter, waits
# at the barrier and reads the counter (every thread must see the grid's total), and one
# where a thread returns before the barrier that the others wait at
BARRIER_KERNELS = r'''
__global__ void count_then_read(unsigned long long* count, unsigned long long* seen, const int rounds) {
    const int me = blockIdx.x * blockDim.x + threadIdx.x;
    for (int r = 0; r < rounds; ++r) {
        atomicAdd(count, 1ull);
        grid_barrier(count);
        seen[r * gridDim.x * blockDim.x + me] = *count;
        grid_barrier(count);
    }
}
__global__ void one_leaves_early(unsigned long long* count) {
    if (blockIdx.x == 1 && threadIdx.x == 2) return;
    grid_barrier(count);
}
extern "C" int run_count(unsigned gx, unsigned bx, const unsigned* bo, const unsigned* to,
                         unsigned long long* count, unsigned long long* seen, int rounds) {
    gridDim.x = gx; gridDim.y = 1; blockDim.x = bx;
    const std::function<void()> call = [&]() { count_then_read(count, seen, rounds); };
    return emu_fibers(gx, bx, bo, to, call);
}
extern "C" int run_early(unsigned gx, unsigned bx, const unsigned* bo, const unsigned* to, unsigned long long* count) {
    gridDim.x = gx; gridDim.y = 1; blockDim.x = bx;
    const std::function<void()> call = [&]() { one_leaves_early(count); };
    return emu_fibers(gx, bx, bo, to, call);
}
'''


def shim_library(path, kernels):
    """Test kernels and their launchers, compiled with the emulator's shim (host_shim.h)."""
    (path / "k.cpp").write_text(emulator.SHIM.read_text() + kernels)
    subprocess.run([emulator.compiler(), *emulator.CXXFLAGS, "-o", str(path / "k.so"), str(path / "k.cpp")],
                   check=True)
    return ctypes.CDLL(str(path / "k.so"))


@pytest.fixture(scope="module")
def barrier_lib(tmp_path_factory):
    lib = shim_library(tmp_path_factory.mktemp("barrier"), BARRIER_KERNELS)
    u, ptr = ctypes.c_uint32, ctypes.c_void_p
    lib.run_count.argtypes = [u, u, ptr, ptr, ptr, ptr, ctypes.c_int]
    lib.run_early.argtypes = [u, u, ptr, ptr, ptr]
    return lib


def orders(gx, bx, seed):
    rng = np.random.default_rng(seed)
    return rng.permutation(gx).astype(np.uint32), rng.permutation(bx).astype(np.uint32)


def test_emulated_barrier_holds_every_thread_until_all_arrive(barrier_lib):
    gx, bx, rounds = 3, 5, 4
    bo, to = orders(gx, bx, 0)
    count = np.zeros(1, np.uint64)
    seen = np.zeros(rounds * gx * bx, np.uint64)
    rc = barrier_lib.run_count(gx, bx, bo.ctypes.data, to.ctypes.data, count.ctypes.data, seen.ctypes.data, rounds)
    assert rc == 0
    # after round r's barrier every thread sees all (r + 1) * 15 additions, none more or fewer
    assert np.array_equal(seen.reshape(rounds, gx * bx), np.repeat(np.arange(1, rounds + 1)[:, None] * 15, 15, 1))


def test_emulated_barrier_reports_a_thread_that_would_hang_the_grid(barrier_lib):
    bo, to = orders(2, 4, 1)
    count = np.zeros(1, np.uint64)
    assert barrier_lib.run_early(2, 4, bo.ctypes.data, to.ctypes.data, count.ctypes.data) == 1


def test_cooperative_launch_arguments_are_marshalled_as_the_kernel_reads_them():
    """On a GPU the step loop is launched through the driver (device.CudaDevice): its argument
    block must hold, per parameter in order, a pointer to a C value of the parameter's width:
    the array's address, or the scalar."""
    from distsnn.backends.gpu.source import CTYPES, kernel_params, signatures
    for kernel, sig in signatures("step_loop").items():
        args = [np.zeros(1, p.dtype) if p.pointer else p.dtype(i + 1) / (2 if p.dtype == np.float64 else 1)
                for i, p in enumerate(sig.params)]
        vals = sig.convert(args)
        block, _keep = kernel_params(sig, vals, lambda a: a.ctypes.data)
        assert len(block) == len(sig.params) > 50
        for i, (p, a) in enumerate(zip(sig.params, vals)):
            if p.pointer:
                assert ctypes.c_void_p.from_address(block[i]).value == a.ctypes.data, (kernel, p.name)
            else:
                assert CTYPES[p.dtype].from_address(block[i]).value == a, (kernel, p.name)
                assert ctypes.sizeof(CTYPES[p.dtype]) == np.dtype(p.dtype).itemsize
