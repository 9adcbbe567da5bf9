"""On a real GPU (tests marked `gpu`, skipped without one): the CUDA kernels compiled by
NVRTC give the CPU engine's spikes, voltages and event counts bit for bit, with and without
CUDA graphs; NVML reports memory, power and energy. Run on a GPU machine with
`scripts/run_tests.sh -m gpu` (the log goes to bench/results)."""
import numpy as np
import pytest

from distsnn.backends.gpu import launches
from distsnn.backends.gpu.device import CudaDevice
from distsnn.backends.gpu.simulator import GpuSimulator
from distsnn.build import make_plan
from distsnn.models import MODELS
from distsnn.runtime import simulate
from test_gpu_emulated import assert_same_run, mixed_with
from test_gpu_step_loop import loop_network
from test_gpu_warp_ops import long_rows_network

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_mixed_network_same_as_cpu(connectivity, bits):
    """Both ring widths: the int32 entry points (32-bit atomics) and their int64 twins."""
    ref = simulate(mixed_with(bits), 300.0, seed=12, backend="cpu", connectivity=connectivity, progress=False)
    res = simulate(mixed_with(bits), 300.0, seed=12, backend="gpu", connectivity=connectivity, progress=False)
    assert res.backend == "gpu" and res.plan.ring_bits == ref.plan.ring_bits == bits
    assert_same_run(res, ref)


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
@pytest.mark.parametrize("loop", [False, True])
@pytest.mark.parametrize("draws", ["uniform", "lognormal", "exponential", "stimulated"])
def test_uniform_lognormal_and_exponential_draws_same_as_cpu(monkeypatch, draws, connectivity, loop):
    """Uniform weights and delays of every pairing, LogNormal weights, and Exponential weights
    and delays (the full rule variant's word 3, exp and log), with separate launches (synapse
    lists too) and in the step loop; and step, DC and AC currents into some neurons."""
    from test_exponential_synapses import exponential_network
    from test_lognormal_weights import lognormal_network
    from test_step_current import stimulated_network
    from test_uniform_synapses import uniform_network
    network = {"uniform": uniform_network, "lognormal": lognormal_network, "exponential": exponential_network,
               "stimulated": stimulated_network}[draws]
    ref = simulate(network(not loop), 150.0, seed=12, backend="cpu", connectivity=connectivity, progress=False)
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1" if loop else "0")
    res = simulate(network(not loop), 150.0, seed=12, backend="gpu", connectivity=connectivity, progress=False)
    assert res.backend == "gpu" and ref.spike_gids.size > 500
    assert res.device["step_launches"].startswith("step loop") == loop
    assert_same_run(res, ref)


def test_sonata_circuit_gives_nests_spikes():
    """The SONATA test circuit on the device: NEST 3.10's spikes (tests/test_sonata_circuit.py),
    repeated input spikes in one step and synapse lists included, with and without current
    clamps."""
    from test_sonata_circuit import CIRCUIT, ICLAMP, NEST, as_pairs, load_circuit, nest_spikes
    for connectivity in ("procedural", "stored"):
        for config, nest in (("simulation_config", NEST), ("simulation_config_iclamp", ICLAMP)):
            net = load_circuit(CIRCUIT / f"{config}.json")
            res = simulate(net, net.metadata["tstop"], seed=1, backend="gpu", connectivity=connectivity,
                           progress=False)
            assert res.backend == "gpu" and as_pairs(*res.spikes("v1")) == nest_spikes(nest=nest)


@pytest.mark.parametrize("model,scale", [("microcircuit", 0.25), ("coba", 1.0), ("izhikevich", 1.0)])
def test_library_models_same_as_cpu(model, scale):
    for connectivity in ("procedural", "stored"):
        ref = simulate(MODELS[model](scale=scale, record_voltage=3), 200.0, seed=5, backend="cpu",
                       connectivity=connectivity, progress=False)
        res = simulate(MODELS[model](scale=scale, record_voltage=3), 200.0, seed=5, backend="gpu",
                       connectivity=connectivity, progress=False)
        assert ref.spike_gids.size > 1000
        assert_same_run(res, ref)


@pytest.mark.parametrize("split", [None, 3])
def test_multi_area_same_as_cpu(shared_data, monkeypatch, split):
    """Two areas of the multi-area model (cortico-cortical projections: long lists of delivery
    items per population), with the default teams per spike and with 3, so that each team
    walks several items."""
    from distsnn.backends.gpu import delivery_items
    from distsnn.models import multi_area
    net = lambda: multi_area.build(data=str(shared_data), areas=["V1", "V2"], scale=0.005)   # noqa: E731
    ref = simulate(net(), 200.0, seed=3, backend="cpu", progress=False)
    if split is not None:
        monkeypatch.setattr(delivery_items, "FAN_SPLIT", split)
    res = simulate(net(), 200.0, seed=3, backend="gpu", progress=False)
    assert ref.spike_gids.size > 1000
    assert_same_run(res, ref)


def test_graphs_and_plain_launches_agree():
    plan = make_plan(MODELS["microcircuit"](scale=0.1), 2)
    runs = []
    for graphs in (True, False):
        sim = GpuSimulator(plan, device=CudaDevice(0, graphs=graphs)).build()
        out = np.empty(sim.output_capacity * 4, np.int64), np.empty(sim.output_capacity * 4, np.int64)
        done, n = sim.run(2000, out[0], out[1], 0, np.empty((2000, 0)))
        assert done == 2000
        runs.append((out[0][:n].copy(), out[1][:n].copy(), sim.events))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2] > 0


@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_step_loop_same_as_cpu(monkeypatch, connectivity, bits):
    """The step loop (one cooperative launch per block of steps, grid barriers between its
    phases) on the device: the CPU's spikes, voltages and events, on a network of every plain
    neuron model with delays of one step, and on the microcircuit."""
    ref = simulate(loop_network(bits), 150.0, seed=4, backend="cpu", connectivity=connectivity, progress=False)
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1")
    res = simulate(loop_network(bits), 150.0, seed=4, backend="gpu", connectivity=connectivity, progress=False)
    assert res.device["step_launches"].startswith("step loop")
    assert_same_run(res, ref)

    def net():
        out = MODELS["microcircuit"](scale=0.25, record_voltage=3)
        out.ring_bits = bits
        return out
    ref = simulate(net(), 200.0, seed=5, backend="cpu", connectivity=connectivity, progress=False)
    res = simulate(net(), 200.0, seed=5, backend="gpu", connectivity=connectivity, progress=False)
    assert res.device["step_launches"].startswith("step loop")
    assert ref.spike_gids.size > 1000
    assert_same_run(res, ref)


def test_step_loop_grid_is_what_the_device_holds():
    """The step loop's shape: every block resident (the cooperative launch's condition), as
    the occupancy calculator gives it for the loop's registers, in the fewest blocks that
    hold the most threads (launches.loop_shape: one block per multiprocessor, at 80 or 94
    registers, where 128-thread blocks would be 6 or 5)."""
    dev = CudaDevice(0, step_loop=True)
    sim = GpuSimulator(make_plan(MODELS["microcircuit"](scale=0.1), 2), device=dev).build()
    per_sm = sim.loop_grid // dev.multiprocessors
    assert sim.loop_grid == per_sm * dev.multiprocessors and per_sm == 1
    assert sim.loop_block % dev.team == 0 and sim.loop_block >= 5 * dev.block_threads
    resident = dev.cooperative_grid(sim.loop_kernel, dev.block_threads) * dev.block_threads
    assert sim.loop_grid * sim.loop_block >= resident   # as many threads as blocks of 128 would hold
    with pytest.raises(Exception, match="COOPERATIVE_LAUNCH_TOO_LARGE"):
        dev.launch(sim.loop_kernel, dev.cooperative_grid(sim.loop_kernel, sim.loop_block) + 1, sim.loop_block,
                   launches.loop_args(sim, sim.prepared, 1))


# the grid barrier alone (grid_barrier.cuh): every thread counts itself in, and after each
# barrier reads the count, which must be the whole grid's by then
BARRIER_KERNEL = r'''
extern "C" __global__ void count_then_read(u64* state, u64* count, u64* seen, const int rounds) {
    const u64 n = (u64)gridDim.x * blockDim.x, me = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    for (int r = 0; r < rounds; ++r) {
        atomicAdd(count, 1ull);
        grid_barrier(state);
        seen[r * n + me] = *(volatile u64*)count;
        grid_barrier(state);
    }
}
'''


@pytest.mark.parametrize("block,start", [(768, 0), (128, 2 ** 63), (1024, 2 ** 63)])
def test_grid_barrier_holds_every_thread_until_all_arrive(block, start):
    """Many rounds on as many blocks as the device holds (one per multiprocessor, or 16 of 128
    threads per multiprocessor: 2,112 arrivals on an H100), the count starting at 0 and at
    2**63: no thread reads the count before the whole grid has added to it, and the barrier
    count's top bit flips once per barrier while its other bits stay."""
    import ctypes

    import cupy
    from cupy_backends.cuda.api import driver

    from distsnn.backends.gpu import layout, source
    dev = CudaDevice(0)
    fn = cupy.RawModule(code=source.common_source() + BARRIER_KERNEL,
                        options=source.compile_options("step_loop")).get_function("count_then_read")
    grid = driver.occupancyMaxActiveBlocksPerMultiprocessor(fn.kernel.ptr, block, 0) * dev.multiprocessors
    rounds, n = 100, grid * block
    state = cupy.zeros(layout.N_ST, np.uint64)
    state[layout.ST_BAR] = np.uint64(start)   # typed: a Python int may be taken as int64, which 2**63 overflows
    count, seen = cupy.zeros(1, np.uint64), cupy.zeros(rounds * n, np.uint64)
    args = [ctypes.c_void_p(a.data.ptr) for a in (state, count, seen)] + [ctypes.c_int(rounds)]
    params = (ctypes.c_void_p * 4)(*[ctypes.addressof(a) for a in args])
    driver.launchCooperativeKernel(fn.kernel.ptr, grid, 1, 1, block, 1, 1, 0, dev.stream.ptr,
                                   ctypes.addressof(params))
    dev.synchronize()
    after_round = np.arange(1, rounds + 1, dtype=np.uint64) * np.uint64(n)   # the grid's count after round r
    assert grid >= dev.multiprocessors
    assert (seen.get().reshape(rounds, n) == after_round[:, None]).all()
    assert int(state.get()[layout.ST_BAR]) == start   # 2 * rounds flips: back where it began


@pytest.mark.parametrize("team,loop", [(64, False), (32, True), (16, False)])
def test_fixed_probability_rows_same_as_cpu(monkeypatch, team, loop):
    """fixed_probability rows of every length drawn by a whole warp (teams of 64 and 32, the
    latter in the step loop) and by one lane (teams of 16): the CPU's spikes, voltages and
    events, with real shuffles and ballots on the device."""
    ref = simulate(long_rows_network(), 200.0, seed=5, backend="cpu", progress=False)
    monkeypatch.setenv("DISTSNN_GPU_TEAM", str(team))
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1" if loop else "0")
    res = simulate(long_rows_network(), 200.0, seed=5, backend="gpu", progress=False)
    assert res.device["step_launches"].startswith("step loop") == loop
    assert ref.spike_gids.size > 1000
    assert_same_run(res, ref)


@pytest.mark.parametrize("variants", ["1", "0"])
@pytest.mark.parametrize("loop", [False, True])
def test_rule_variants_same_as_cpu(monkeypatch, variants, loop):
    """Delivery's rule variants (test_gpu_rule_variants.py) on the device: a model with every
    rule but fixed_indegree, on the smaller variant (its 80 registers a real cap here) and
    on the full one, in separate launches and in the step loop."""
    from test_gpu_rule_variants import network
    ref = simulate(network(32), 150.0, seed=6, backend="cpu", progress=False)
    monkeypatch.setenv("DISTSNN_GPU_RULE_VARIANTS", variants)
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1" if loop else "0")
    res = simulate(network(32), 150.0, seed=6, backend="gpu", progress=False)
    kernel = ("step_loop" if loop else "deliver_procedural") + ("_no_indegree" if variants == "1" else "") + "_r32"
    assert res.device["step_kernels"][-1] == kernel
    assert_same_run(res, ref)


@pytest.mark.parametrize("indegree,connectivity", [(False, "procedural"), (True, "procedural"), (True, "stored")])
@pytest.mark.parametrize("loop", [False, True])
def test_rows_in_parts_same_as_cpu(monkeypatch, indegree, connectivity, loop):
    """Rows in parts of one round of a team (test_gpu_row_parts.py) on the device: every rule,
    fixed_indegree too, procedural and stored, in separate launches and in the step loop."""
    from test_gpu_rule_variants import network
    ref = simulate(network(32, indegree=indegree), 150.0, seed=6, backend="cpu", connectivity=connectivity,
                   progress=False)
    monkeypatch.setenv("DISTSNN_GPU_ROW_ROUNDS", "1")
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1" if loop else "0")
    res = simulate(network(32, indegree=indegree), 150.0, seed=6, backend="gpu", connectivity=connectivity,
                   progress=False)
    assert res.device["row_rounds"] == 1 and res.device["step_launches"].startswith("step loop") == loop
    assert_same_run(res, ref)


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_a_tuned_run_same_as_cpu(monkeypatch, connectivity):
    """The step setups tried in trial blocks of 5 steps on the first 320 of 1,500
    (test_gpu_step_setups.py) on the device: the CPU engine's run, whichever setup wins."""
    from test_gpu_rule_variants import network
    ref = simulate(network(32, indegree=True), 150.0, seed=6, backend="cpu", connectivity=connectivity,
                   progress=False)
    monkeypatch.setenv("DISTSNN_GPU_TUNE", "1")
    monkeypatch.setenv("DISTSNN_GPU_TUNE_STEPS", "5")
    res = simulate(network(32, indegree=True), 150.0, seed=6, backend="gpu", connectivity=connectivity,
                   progress=False)
    tuning = res.device["tuning"]
    # the step loop on and off, teams of 64 and 32 (the rows, at most 64 synapses, are never cut)
    assert len(tuning["setups"]) == 4
    assert all(t["us_per_step"] > 0 for t in tuning["setups"]) and tuning["chosen"]
    assert_same_run(res, ref)


def test_auto_picks_the_gpu_and_reports_nvml():
    """5 s of biological time: a simulate phase of half a second on an H100, so that the
    energy counter (which NVML updates every few tens of ms) moves; with 0.5 s (about 50 ms
    of simulate) the counter read 0 J once."""
    res = simulate(MODELS["microcircuit"](scale=0.1), 5000.0, seed=1, progress=False)
    assert res.backend == "gpu"
    nv = res.device["nvml"]
    assert nv["available"], nv
    assert nv["energy_J"] > 0 and nv["peak_used_memory_bytes"] > res.device["peak_allocated_bytes"] > 0


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_checkpoint_moves_between_gpu_and_cpu(tmp_path, connectivity):
    """A checkpoint written on the GPU restarts on the CPU, and one written on the CPU on the
    GPU (strided device copies of the rings, the device step counter moved): both continue
    the uninterrupted CPU run exactly."""
    from test_checkpoint import T_ALL, T_CUT, assert_continues, restart_network
    whole = simulate(restart_network(), T_ALL, seed=21, backend="cpu", progress=False)
    for first_backend, second_backend in (("gpu", "cpu"), ("cpu", "gpu")):
        path = str(tmp_path / f"{first_backend}-{connectivity}")
        first = simulate(restart_network(), T_CUT, seed=21, backend=first_backend, connectivity=connectivity,
                         progress=False, checkpoint=path)
        res = simulate(restart_network(), T_ALL - T_CUT, seed=21, backend=second_backend, connectivity=connectivity,
                       progress=False, restart=path)
        assert res.backend == second_backend
        assert_continues(res, whole, first)


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_row_counts_of_both_widths_same_as_cpu(monkeypatch, connectivity):
    """Cells of 16 and 32 bits counted on the device (build.count_layout): the CPU's words; the
    spikes the same with the cells of 16 bits and all of 32; a projection whose cells turn
    out not to fit 16 bits widened and counted again (test_count_widths.py)."""
    from distsnn.backends.cpu.simulator import compute_counts
    from distsnn.backends.gpu.row_counts import device_counts
    from distsnn.build import count_layout
    from distsnn.build.count_layout import counted, widen
    from test_count_layout import _driven, _run
    from test_count_widths import _crowded, _mixed
    dev = CudaDevice()
    plan = make_plan(_mixed(), 3, bound_inputs=False)
    assert np.array_equal(dev.to_host(device_counts(dev, plan)), compute_counts(plan))
    runs = []
    for engine, wide in (("cpu", False), ("gpu", False), ("gpu", True)):
        plan = make_plan(_driven(), 4)
        if wide:
            widen(plan, counted(plan))
        runs.append(_run(plan, np.ones(plan.units.shape[0], dtype=bool), engine, connectivity))
    assert runs[0][0].size > 0
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert np.array_equal(a, b)
    monkeypatch.setattr(count_layout, "cell_bound", lambda plan, j: 0)
    plan = make_plan(_crowded(), 2, bound_inputs=False)
    got = dev.to_host(device_counts(dev, plan))
    assert plan.info["wide_counts"] == {int(counted(plan)[0])}
    assert np.array_equal(got, compute_counts(plan))


def test_stdp_same_as_cpu():
    """STDP (stdp.cu, stored delivery's "_stdp" variant, the histories' trims and growth with
    concurrent threads): the CPU's spikes and every weight, in CUDA graphs; NEST's weights,
    V and spikes through rule projections and synapse lists."""
    from test_stdp import assert_as_nest, plastic_network, protocol_network, P
    ref = simulate(plastic_network(), 150.0, seed=4, backend="cpu", connectivity="stored", progress=False)
    res = simulate(plastic_network(), 150.0, seed=4, backend="gpu", connectivity="stored", progress=False)
    assert res.backend == "gpu" and ref.spike_gids.size > 1000
    assert np.array_equal(res.spike_gids, ref.spike_gids) and np.array_equal(res.spike_steps, ref.spike_steps)
    assert np.array_equal(res.plastic, ref.plastic)
    for lists in (False, True):
        assert_as_nest(simulate(protocol_network(lists), P["t_sim"], backend="gpu", connectivity="stored",
                                progress=False))


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
@pytest.mark.parametrize("lists", [False, True])
def test_short_term_plasticity_same_as_cpu(connectivity, lists):
    """The efficacies' kernel (stp.cu) and delivery's "_stp" variant: the CPU's spikes and
    events, synapse lists too, with CUDA graphs (the step's efficacies a launch of each); and
    NEST's tsodyks2_synapse traces."""
    from test_short_term_plasticity import DATA, P, TOL, plastic_network, protocol_network
    ref = simulate(plastic_network(lists), 200.0, seed=3, backend="cpu", connectivity=connectivity, progress=False)
    res = simulate(plastic_network(lists), 200.0, seed=3, backend="gpu", connectivity=connectivity, progress=False)
    assert res.backend == "gpu" and ref.spike_gids.size > 1000
    assert np.array_equal(res.spike_gids, ref.spike_gids) and np.array_equal(res.spike_steps, ref.spike_steps)
    assert res.events == ref.events
    res = simulate(protocol_network(), P["t_sim"], backend="gpu", connectivity=connectivity, progress=False)
    ref = DATA["traces"]["0"]
    steps = np.rint(np.array(ref["t"]) / P["dt"]).astype(int) - 1
    assert np.max(np.abs(res.state("n", "I_syn_ex")[2][steps, 0] - np.array(ref["I_syn_ex"]))) < TOL
