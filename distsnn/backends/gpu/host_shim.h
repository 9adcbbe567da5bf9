// Host shim: lets the CUDA kernel files compile as plain C++ so that the emulated device
// (distsnn.backends.gpu.emulator) runs the very same kernel code on the CPU. One host
// thread plays every GPU thread in turn; blocks and the threads of a block run in an order
// shuffled at each launch, so a result that depended on the order would show up in tests.
// Compiled with -ffp-contract=off: no fused multiply-add, as --fmad=false on the GPU.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <vector>

struct emu_dim3 { unsigned int x, y, z; };
static emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __noinline__
#define __constant__ static const
#define __maxnreg__(n)   // a register cap: nothing on the host

template <class T> static inline T min(T a, T b) { return b < a ? b : a; }
template <class T> static inline T max(T a, T b) { return a < b ? b : a; }
static inline unsigned int __umulhi(unsigned int a, unsigned int b) {
    return (unsigned int)(((unsigned long long)a * (unsigned long long)b) >> 32);
}
// leading zero bits of a 32-bit word (32 for 0), like CUDA's __clz
static inline int __clz(unsigned int x) { return x ? __builtin_clz(x) : 32; }
// the kernels' loads issued in place (common.cuh): plain loads here
template <class T> static inline T ld_now(const T* p) { return *p; }
template <class T> static inline T ld_now_ro(const T* p) { return *p; }
static inline void ld2_ro(const long long* p, long long* a, long long* b) { *a = p[0]; *b = p[1]; }
// one host thread at a time: read-modify-write is atomic; returns the old value like CUDA
static inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
    const unsigned long long old = *p; *p = old + v; return old;
}
static inline unsigned int atomicAdd(unsigned int* p, unsigned int v) {
    const unsigned int old = *p; *p = old + v; return old;
}
static inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) {
    const unsigned long long old = *p; if (v < old) *p = v; return old;
}

// Launches as fibers: kernels with grid barriers (source.COOPERATIVE) or warp-synchronous
// operations (source.WARP_SYNC). Every GPU thread of the grid is a coroutine (ucontext) with
// its own stack. The launcher resumes the running ones in a shuffled order, round after
// round; a thread gives way at a grid barrier (until every thread is there), and at a warp
// operation until the lanes of its mask have reached it too. When none runs any more, those
// at the grid barrier go on together, reshuffled. So no thread passes a barrier or a warp
// operation early, and the order within each stretch between them changes, as for plain
// launches. What would hang a GPU is reported instead: some threads returned while others
// wait at a grid barrier (1), or a warp operation waits for lanes that never reach it (2).

enum { EMU_RUNNING = 0, EMU_AT_BARRIER = 1, EMU_RETURNED = 2, EMU_AT_WARP = 3 };
struct emu_fiber {
    ucontext_t ctx;
    unsigned int block, thread;
    size_t warp;                                         // its warp's index in emu_warps
    int where;
    unsigned int wait_mask;                              // at a warp operation: the lanes it waits for
    unsigned long long wait_for;                         // ... to have reached this many
};
// a warp's exchange: how many warp operations each lane has reached, and each lane's value
// in the last two, by the parity of that count (a lane cannot be two operations ahead of
// one that has yet to read it: the next operation waits for that one)
struct emu_warp {
    unsigned long long arrived[32];
    unsigned long long value[2][32];
};
static const size_t EMU_STACK_BYTES = 1 << 18;
static std::vector<std::unique_ptr<char[]>> emu_stacks;  // kept from launch to launch
static ucontext_t emu_launcher;
static emu_fiber* emu_current = nullptr;                 // the fiber running now; none in plain launches
static std::vector<emu_warp> emu_warps;
static unsigned long long emu_progress = 0;              // arrivals and passes, to tell a hang
static const std::function<void()>* emu_kernel_call = nullptr;

// whether every lane of the mask has reached `count` warp operations
static inline bool emu_lanes_arrived(const emu_warp& w, unsigned int mask, unsigned long long count) {
    for (unsigned int l = 0; l < 32; ++l)
        if (((mask >> l) & 1u) && w.arrived[l] < count) return false;
    return true;
}

static void emu_fiber_main() {
    (*emu_kernel_call)();
    emu_current->where = EMU_RETURNED;                   // then back to the launcher (uc_link)
    ++emu_progress;
}

// returns 0; 1 where some threads returned while others waited at a grid barrier; 2 where
// warp operations wait for lanes that never come
static int emu_fibers(unsigned int gx, unsigned int bx, const unsigned int* border, const unsigned int* torder,
                      const std::function<void()>& call) {
    const size_t n = (size_t)gx * bx, warps_per_block = (bx + 31) / 32;
    while (emu_stacks.size() < n) emu_stacks.emplace_back(new char[EMU_STACK_BYTES]);
    emu_warps.assign((size_t)gx * warps_per_block, emu_warp());
    std::vector<emu_fiber> fibers(n);
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) {
        emu_fiber& f = fibers[i];
        f.block = border[i / bx];
        f.thread = torder[i % bx];
        f.warp = (size_t)f.block * warps_per_block + f.thread / 32;
        f.where = EMU_RUNNING;
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = emu_stacks[i].get();
        f.ctx.uc_stack.ss_size = EMU_STACK_BYTES;
        f.ctx.uc_link = &emu_launcher;
        makecontext(&f.ctx, emu_fiber_main, 0);
        order[i] = i;
    }
    std::mt19937_64 rng(((unsigned long long)border[0] << 32) ^ torder[0] ^ n);
    emu_kernel_call = &call;
    for (;;) {
        std::shuffle(order.begin(), order.end(), rng);
        for (;;) {                                       // rounds until none runs or waits at a warp operation
            const unsigned long long before = emu_progress;
            bool active = false;
            for (size_t i : order) {
                emu_fiber& f = fibers[i];
                if (f.where == EMU_AT_BARRIER || f.where == EMU_RETURNED) continue;
                active = true;
                if (f.where == EMU_AT_WARP && !emu_lanes_arrived(emu_warps[f.warp], f.wait_mask, f.wait_for))
                    continue;                            // not yet: no need to resume it to find out
                blockIdx.x = f.block % gridDim.x; blockIdx.y = f.block / gridDim.x; blockIdx.z = 0;
                threadIdx.x = f.thread; threadIdx.y = 0; threadIdx.z = 0;
                emu_current = &f;
                swapcontext(&emu_launcher, &f.ctx);
            }
            emu_current = nullptr;
            if (!active) break;
            if (emu_progress == before) return 2;        // every one left waits at a warp operation
            std::shuffle(order.begin(), order.end(), rng);
        }
        size_t returned = 0;
        for (const emu_fiber& f : fibers) returned += f.where == EMU_RETURNED;
        if (returned == n) return 0;
        if (returned) return 1;
        for (emu_fiber& f : fibers) f.where = EMU_RUNNING;   // the grid barrier opens
    }
}

// a grid barrier: back to the launcher, which resumes this thread once every thread is here;
// the clobber makes the compiler read blockIdx and threadIdx again after it
static inline void grid_barrier(unsigned long long*) {
    if (emu_current == nullptr) abort();                 // a barrier outside a fiber launch
    emu_current->where = EMU_AT_BARRIER;
    ++emu_progress;
    swapcontext(&emu_current->ctx, &emu_launcher);
    __asm__ __volatile__("" ::: "memory");
}

// Warp-synchronous operations, for lanes of one warp named in `mask` (each calling with the
// same mask, as CUDA requires; a lane outside its own mask, or a width that is not a power
// of two up to 32, aborts). A lane publishes its value and waits until every lane of the
// mask has reached this operation, then reads.
static inline emu_warp& emu_arrive(unsigned int mask, unsigned long long value, unsigned long long* count) {
    if (emu_current == nullptr) abort();                 // warp operations need a fiber launch
    emu_warp& w = emu_warps[emu_current->warp];          // the table does not move during a launch
    const unsigned int lane = threadIdx.x % 32;
    if (!((mask >> lane) & 1u)) abort();
    const unsigned long long mine = w.arrived[lane] + 1;
    w.value[mine & 1][lane] = value;
    w.arrived[lane] = mine;
    ++emu_progress;
    if (!emu_lanes_arrived(w, mask, mine)) {             // the launcher resumes it once they have
        emu_current->where = EMU_AT_WARP;
        emu_current->wait_mask = mask;
        emu_current->wait_for = mine;
        swapcontext(&emu_current->ctx, &emu_launcher);
        __asm__ __volatile__("" ::: "memory");
        emu_current->where = EMU_RUNNING;
    }
    *count = mine;
    return w;
}

template <class T> static inline T emu_exchange(unsigned int mask, T v, unsigned int src) {
    static_assert(sizeof(T) <= sizeof(unsigned long long), "one word per lane");
    if (src >= 32 || !((mask >> src) & 1u)) abort();
    unsigned long long word = 0, count;
    memcpy(&word, &v, sizeof(T));
    const emu_warp& w = emu_arrive(mask, word, &count);
    T out;
    memcpy(&out, &w.value[count & 1][src], sizeof(T));
    return out;
}

static inline void emu_check_width(int width) {
    if (width < 1 || width > 32 || (width & (width - 1))) abort();
}

// the value of lane - delta within this lane's segment of `width` lanes (its own below that)
template <class T> static inline T __shfl_up_sync(unsigned int mask, T v, unsigned int delta, int width = 32) {
    emu_check_width(width);
    const unsigned int lane = threadIdx.x % 32;
    return emu_exchange(mask, v, (lane % width) >= delta ? lane - delta : lane);
}

// the value of lane srcLane of this lane's segment of `width` lanes
template <class T> static inline T __shfl_sync(unsigned int mask, T v, int src_lane, int width = 32) {
    emu_check_width(width);
    const unsigned int lane = threadIdx.x % 32;
    return emu_exchange(mask, v, (lane & ~(unsigned int)(width - 1)) + ((unsigned int)src_lane % width));
}

// bit l set where lane l of the mask has pred nonzero
static inline unsigned int __ballot_sync(unsigned int mask, int pred) {
    unsigned long long count;
    const emu_warp& w = emu_arrive(mask, pred != 0, &count);
    unsigned int bits = 0;
    for (unsigned int l = 0; l < 32; ++l)
        if (((mask >> l) & 1u) && w.value[count & 1][l]) bits |= 1u << l;
    return bits;
}

static inline int __popc(unsigned int x) { return __builtin_popcount(x); }
