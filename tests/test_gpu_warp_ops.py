"""Warp-synchronous operations: the emulator's shuffles and votes (host_shim.h) on their own,
and procedural delivery's fixed_probability rows, which the 32 lanes of a warp draw together
and place by a scan over the warp (deliver_procedural.cu, fp_row_team), bit for bit as the
CPU engine draws them one after another, whatever the team."""
import ctypes

import numpy as np
import pytest

from distsnn.backends.gpu.emulator import EmulatedDevice
from distsnn.backends.gpu.simulator import GpuSimulator
from distsnn.build import make_plan
from distsnn.model import FixedProbability, Network, Normal
from distsnn.runtime import simulate
from test_gpu_step_loop import orders, shim_library

# test kernels: an inclusive scan of each lane's value over segments of `width` lanes (the
# pattern of fp_row_team), with the segment's total and a ballot of the odd values; one
# where a lane of the mask skips the shuffle the others wait at
WARP_KERNELS = r'''
__global__ void segment_scan(const long long* x, long long* scan, long long* total, unsigned* odd, const int width) {
    const int me = blockIdx.x * blockDim.x + threadIdx.x, l = threadIdx.x % width;
    const unsigned mask = width == 32 ? 0xFFFFFFFFu : ((1u << width) - 1u) << ((threadIdx.x % 32) & ~(unsigned)(width - 1));
    long long acc = x[me];
    for (int d = 1; d < width; d <<= 1) {
        const long long below_l = __shfl_up_sync(mask, acc, d, width);
        if (l >= d) acc += below_l;
    }
    scan[me] = acc;
    total[me] = __shfl_sync(mask, acc, width - 1, width);
    odd[me] = __ballot_sync(mask, x[me] & 1);
}
__global__ void one_lane_skips(long long* x) {
    if (threadIdx.x == 1) return;
    x[threadIdx.x] = __shfl_sync(0xFu, x[threadIdx.x], 0, 4);
}
extern "C" int run_scan(unsigned gx, unsigned bx, const unsigned* bo, const unsigned* to, const long long* x,
                        long long* scan, long long* total, unsigned* odd, int width) {
    gridDim.x = gx; gridDim.y = 1; blockDim.x = bx;
    const std::function<void()> call = [&]() { segment_scan(x, scan, total, odd, width); };
    return emu_fibers(gx, bx, bo, to, call);
}
extern "C" int run_skip(unsigned gx, unsigned bx, const unsigned* bo, const unsigned* to, long long* x) {
    gridDim.x = gx; gridDim.y = 1; blockDim.x = bx;
    const std::function<void()> call = [&]() { one_lane_skips(x); };
    return emu_fibers(gx, bx, bo, to, call);
}
'''


@pytest.fixture(scope="module")
def warp_lib(tmp_path_factory):
    lib = shim_library(tmp_path_factory.mktemp("warp"), WARP_KERNELS)
    u, ptr = ctypes.c_uint32, ctypes.c_void_p
    lib.run_scan.argtypes = [u, u, ptr, ptr, ptr, ptr, ptr, ptr, ctypes.c_int]
    lib.run_skip.argtypes = [u, u, ptr, ptr, ptr]
    return lib


@pytest.mark.parametrize("width,block", [(1, 3), (2, 6), (4, 8), (8, 40), (32, 64)])
def test_emulated_shuffles_scan_each_segment(warp_lib, width, block):
    """Blocks of 40 threads end in a partial warp; every segment is scanned on its own."""
    gx, seed = 3, width
    n = gx * block
    x = np.random.default_rng(seed).integers(0, 1000, n).astype(np.int64)
    scan, total = np.zeros(n, np.int64), np.zeros(n, np.int64)
    odd = np.zeros(n, np.uint32)
    bo, to = orders(gx, block, seed)
    assert warp_lib.run_scan(gx, block, bo.ctypes.data, to.ctypes.data, x.ctypes.data, scan.ctypes.data,
                             total.ctypes.data, odd.ctypes.data, width) == 0
    seg = x.reshape(-1, width)
    assert np.array_equal(scan, np.cumsum(seg, axis=1).ravel())
    assert np.array_equal(total, np.repeat(seg.sum(axis=1), width))
    lane = np.arange(n) % block % 32
    first = lane - lane % width                      # the segment's first lane in its warp
    bits = ((seg & 1) << (first.reshape(-1, width) + np.arange(width))).sum(axis=1)
    assert np.array_equal(odd, np.repeat(bits, width).astype(np.uint32))


def test_emulated_shuffle_reports_a_lane_that_never_comes(warp_lib):
    bo, to = orders(2, 4, 0)
    x = np.arange(8, dtype=np.int64)
    assert warp_lib.run_skip(2, 4, bo.ctypes.data, to.ctypes.data, x.ctypes.data) == 2


def long_rows_network():
    """fixed_probability rows of every length in chunks of 256: about 77 synapses (p 0.3, with
    normal weights and delays), full rows (p 1: every position, the row ends at the chunk's
    end), rows of 0 or 1 synapse (p 0.004) and long rows of fixed weight and delay (p 0.9)."""
    net = Network(dt=0.1, chunk_size=256)
    net.add_population("E", 600, v_init=Normal(-60.0, 4.0))
    net.add_population("I", 150, v_init=-65.0)
    net.connect("E", "E", FixedProbability(0.3), Normal(3.0, 0.3), Normal(1.5, 0.75))
    net.connect("E", "I", FixedProbability(1.0), 1.5, 0.8)
    net.connect("I", "E", FixedProbability(0.004), -60.0, 0.6)
    net.connect("I", "I", FixedProbability(0.9), -4.0, 1.1)
    net.add_poisson_input("E", indegree=1000, rate=16.0, weight=45.0, delay=1.5)
    net.add_poisson_input("I", indegree=1000, rate=14.0, weight=45.0, delay=1.5)
    net.record_spikes("E")
    net.record_spikes("I")
    net.record_voltage("E", np.arange(3))
    return net


T_SIM = 40.0


@pytest.fixture(scope="module")
def long_rows_reference():
    return simulate(long_rows_network(), T_SIM, seed=5, backend="cpu", progress=False)


# (threads per block, team, step loop): teams of whole warps draw a row on one warp (a team of
# 32, in separate launches and in the step loop; one of 64, whose second warp has no part in
# the row), others on one lane (teams of 2 and 3)
@pytest.mark.parametrize("block,team,loop", [(6, 3, False), (4, 2, False), (32, 32, False), (32, 32, True),
                                             (128, 64, False)])
def test_fixed_probability_rows_same_as_cpu_for_any_team(long_rows_reference, block, team, loop):
    ref = long_rows_reference
    assert ref.spike_gids.size > 300 and ref.events > 50000          # the rows are delivered
    plan = make_plan(long_rows_network(), 5)
    dev = EmulatedDevice(seed=block, block_threads=block, team=team, step_loop=loop)
    sim = GpuSimulator(plan, device=dev).build()
    assert (sim.loop_kernel is not None) == loop
    n = int(round(T_SIM / 0.1))
    out = np.empty(100000, np.int64), np.empty(100000, np.int64)
    vrec = np.empty((n, sim.vrec_gids.size))
    done, n_out = sim.run(n, out[0], out[1], 0, vrec)
    assert done == n and np.array_equal(out[0][:n_out], ref.spike_gids)
    assert np.array_equal(out[1][:n_out], ref.spike_steps)
    # the driver records V relative to E_L (-70 mV here); the run adds E_L back
    assert np.array_equal(vrec - 70.0, ref.vrec) and sim.events == ref.events
