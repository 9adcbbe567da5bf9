"""The step loop's grid barrier (kernels/grid_barrier.cuh) under real concurrency: its
arrival and wait, the very text the GPU compiles, run by host threads (one per block), with
C++ atomics and fences in place of the GPU's. Each thread counts itself in before the
barrier and checks after it that every thread has (and sees the values the others wrote
before it), round after round, with the count starting at 0 and at 2**63 (its top bit
flips once per barrier, the other bits stay). A run without the barrier fails the check,
so it can fail. The emulated device's own barrier is tested in test_gpu_step_loop.py; on
a GPU, test_gpu_device.py runs the step loop itself."""
import shutil
import subprocess

import pytest

from distsnn.backends.gpu.source import KERNEL_DIR

HARNESS = r'''
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <thread>
#include <vector>
typedef unsigned long long u64;
typedef unsigned int u32;
#define __device__
#define __forceinline__ inline
#define GRID_BARRIER_HOST
#define ST_BAR 3
// the GPU's fence-based release and acquire, relaxed atomic and relaxed reads
static inline u64 barrier_arrive(u64* state, const u64 add) {
    __atomic_thread_fence(__ATOMIC_RELEASE);
    return __atomic_fetch_add(state + ST_BAR, add, __ATOMIC_RELAXED);
}
static inline u64 barrier_peek(const u64* state) { return __atomic_load_n(state + ST_BAR, __ATOMIC_RELAXED); }
static inline void barrier_acquire() { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
static inline void barrier_pause() { sched_yield(); }   // more threads than cores
#include "@BARRIER_FILE@"

int main(int argc, char** argv) {
    const u32 n = (u32)atoi(argv[1]);
    const int rounds = atoi(argv[2]);
    u64 state[8] = {0};
    state[ST_BAR] = strtoull(argv[3], nullptr, 10);
    const u64 start = state[ST_BAR];
    std::vector<u64> arrived(rounds, 0), written((size_t)rounds * n, 0);
    u64 early = 0, stale = 0;
    std::vector<std::thread> blocks;
    for (u32 b = 0; b < n; ++b)
        blocks.emplace_back([&, b]() {
            for (int r = 0; r < rounds; ++r) {
                __atomic_fetch_add(&arrived[r], 1ull, __ATOMIC_RELAXED);
                written[(size_t)r * n + b] = (u64)r * n + b + 1;   // a plain write before the barrier
#ifndef NO_BARRIER
                grid_arrive_and_wait(state, b == 0, n);
#endif
                if (__atomic_load_n(&arrived[r], __ATOMIC_RELAXED) != n) __atomic_fetch_add(&early, 1ull, __ATOMIC_RELAXED);
#ifndef NO_BARRIER
                for (u32 o = 0; o < n; ++o)                          // plain reads after it
                    if (written[(size_t)r * n + o] != (u64)r * n + o + 1) __atomic_fetch_add(&stale, 1ull, __ATOMIC_RELAXED);
#endif
            }
        });
    for (auto& t : blocks) t.join();
    const u64 top = 1ull << 63;
    const u64 flips = ((state[ST_BAR] ^ start) & top) ? 1 : 0;
    printf("early %llu stale %llu flipped %llu rest %llu\n", early, stale, flips, state[ST_BAR] & ~top);
    return 0;
}
'''


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no C++ compiler")
    tmp = tmp_path_factory.mktemp("barrier")
    src = tmp / "barrier.cpp"
    src.write_text(HARNESS.replace("@BARRIER_FILE@", str(KERNEL_DIR / "grid_barrier.cuh")))
    built = {}
    for name, flags in (("barrier", []), ("none", ["-DNO_BARRIER"])):
        exe = tmp / name
        proc = subprocess.run([cxx, "-O2", "-std=c++17", "-pthread", *flags, "-o", str(exe), str(src)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        built[name] = exe
    return built


def run(exe, n, rounds, start):
    proc = subprocess.run([str(exe), str(n), str(rounds), str(start)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return dict(zip(*[iter(proc.stdout.split())] * 2))


@pytest.mark.parametrize("start", [0, 2 ** 63])
@pytest.mark.parametrize("n,rounds", [(1, 100), (3, 2000), (8, 1000)])
def test_no_thread_passes_the_barrier_early(harness, n, rounds, start):
    out = run(harness["barrier"], n, rounds, start)
    assert out["early"] == "0" and out["stale"] == "0"
    # the top bit flipped once per barrier, the other bits are where they were
    assert int(out["flipped"]) == rounds % 2 and int(out["rest"]) == start % 2 ** 63


def test_without_the_barrier_threads_pass_early(harness):
    assert int(run(harness["none"], 8, 1000, 0)["early"]) > 0
