// Microbenchmarks of the GPU's memory primitives that bound a distsnn step (scripts/
// bench_gpu_primitives.py): the latency of one dependent load from the L2 and from DRAM (what
// a chain of loads costs per link), and the throughput of scattered 32-bit atomic adds into
// an array that fits the L2 and one that does not (what the ring buffers' one atomic per
// synaptic event costs). Not part of the simulator: compiled by CuPy at run time like it.
typedef unsigned int u32;
typedef unsigned long long u64;

// next[i] = (A i + C) mod 2**bits: one cycle through every index (A = 1 mod 4, C odd), whose
// neighbours in the cycle lie far apart
extern "C" __global__ void chase_init(u32* next, const u64 n, const u32 mask) {
    for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (u64)gridDim.x * blockDim.x)
        next[i] = (u32)((1664525ull * i + 1013904223ull) & mask);
}

// One thread follows the cycle for `steps` loads, each through the L2 (ld.global.cg: not
// kept in L1), so the time per step is one round trip to wherever the array lives. It starts
// where the last call stopped (pos[0]): an array larger than the L2 is then met at lines no
// call has touched, as a chain of a large model meets its tables
extern "C" __global__ void chase(const u32* next, const u64 steps, u32* pos) {
    u32 j = pos[0];
    for (u64 s = 0; s < steps; ++s) {
        u32 v;
        asm volatile("ld.global.cg.u32 %0, [%1];" : "=r"(v) : "l"(next + j));
        j = v;
    }
    pos[0] = j;
}

// Every thread adds 1 at `per_thread` addresses of a hash of (thread, k) within n words: the
// ring buffers' pattern (one atomic per synaptic event, targets and slots at random)
extern "C" __global__ void scatter_add(u32* a, const u64 n_mask, const int per_thread) {
    const u64 tid = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    u64 x = tid * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    for (int k = 0; k < per_thread; ++k) {
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9ull;
        x ^= x >> 29;
        atomicAdd(a + (x & n_mask), 1u);
    }
}
