// The step loop's grid barrier (step_loop.cu): no thread of the grid passes it before every
// thread has reached it, and what any thread wrote before it is seen by every thread after
// it. It needs every block resident at once: the step loop is launched cooperatively
// (cuLaunchCooperativeKernel refuses a grid that cannot be). The emulated device has its own
// (host_shim.h); tests/test_grid_barrier.py runs grid_arrive_and_wait on host threads, with
// host atomics in place of the four primitives below (GRID_BARRIER_HOST).
#if defined(__CUDACC__) || defined(GRID_BARRIER_HOST)

#ifdef __CUDACC__
// The count is the word ST_BAR of the step state. Release and acquire are fences with
// acquire-release semantics at GPU scope (MEMBAR.ALL.GPU in the SASS), around a relaxed
// atomic and plain volatile reads of the count: the PTX memory model's fence-based release
// and acquire patterns. __threadfence is sequentially consistent (MEMBAR.SC.GPU), more than
// a barrier needs. (The atomic and the reads as asm with release and relaxed semantics of
// their own made the step loop's smaller variant spill, as ptxas allocated them.)
// The arrival: release (this thread's writes, and its block's before the __syncthreads, are
// visible to whoever sees the add), then the add; returns the old count.
__device__ __forceinline__ u64 barrier_arrive(u64* state, const u64 add) {
    asm volatile("fence.acq_rel.gpu;" ::: "memory");
    return atomicAdd(state + ST_BAR, add);
}
// a read of the count while waiting
__device__ __forceinline__ u64 barrier_peek(const u64* state) {
    return *(const volatile u64*)(state + ST_BAR);
}
// after the wait: acquire (what the other blocks wrote before arriving is visible from here)
__device__ __forceinline__ void barrier_acquire() { asm volatile("fence.acq_rel.gpu;" ::: "memory"); }
// between two reads of the count: nothing on a GPU (a host test gives way to other threads)
__device__ __forceinline__ void barrier_pause() {}
#endif

// One block's arrival and wait, by one of its threads: the scheme of cooperative groups' grid
// sync (whose header NVRTC cannot find without the CUDA toolkit). Every block adds to the
// count once: the master block 2**63 - (n_blocks - 1), the others 1. Together that is 2**63,
// so the count's top bit flips exactly when the last block arrives, whatever the order, and
// its other bits are where they were: the count needs no reset between barriers or
// launches. A block waits until the top bit differs from the one its own add found.
// One atomic per block on the barrier's path: the last arrival's add is what the waiting
// blocks see. (Before, the last block also reset the count and moved a generation word on,
// two more round trips to the L2 per barrier, and every block read the generation before
// arriving.)
__device__ __forceinline__ void grid_arrive_and_wait(u64* state, const bool master, const u32 n_blocks) {
    const u64 top = 1ull << 63;
    const u64 old = barrier_arrive(state, master ? top - (u64)(n_blocks - 1u) : 1ull);
    while (((old ^ barrier_peek(state)) & top) == 0)
        barrier_pause();
    barrier_acquire();
}

#ifdef __CUDACC__
// the whole block waits while its thread 0 arrives; block 0 is the master (a 1-D grid)
__device__ __forceinline__ void grid_barrier(u64* state) {
    __syncthreads();
    if (threadIdx.x == 0) grid_arrive_and_wait(state, blockIdx.x == 0, gridDim.x);
    __syncthreads();
}
#endif

#endif
