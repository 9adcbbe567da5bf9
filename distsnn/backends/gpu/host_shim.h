// Host shim: lets the CUDA kernel files compile as plain C++ so that the emulated device
// (distsnn.backends.gpu.emulator) runs the very same kernel code on the CPU. One host
// thread plays every GPU thread in turn; blocks and the threads of a block run in an order
// shuffled at each launch, so a result that depended on the order would show up in tests.
// Compiled with -ffp-contract=off: no fused multiply-add, as --fmad=false on the GPU.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
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
#define __constant__ static const

template <class T> static inline T min(T a, T b) { return b < a ? b : a; }
template <class T> static inline T max(T a, T b) { return a < b ? b : a; }
static inline unsigned int __umulhi(unsigned int a, unsigned int b) {
    return (unsigned int)(((unsigned long long)a * (unsigned long long)b) >> 32);
}
// leading zero bits of a 32-bit word (32 for 0), like CUDA's __clz
static inline int __clz(unsigned int x) { return x ? __builtin_clz(x) : 32; }
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

// Cooperative launches (kernels with grid barriers, source.COOPERATIVE): every GPU thread of
// the grid is a coroutine (ucontext) with its own stack. The launcher resumes them one at a
// time in a shuffled order until each has reached the grid barrier or returned, then
// reshuffles and resumes them again: no thread passes a barrier before all have reached it,
// and the order within each stretch between barriers changes, as for plain launches. A grid
// where some threads return while others wait at a barrier would hang a GPU: the launcher
// reports it instead.

enum { EMU_RUNNING = 0, EMU_AT_BARRIER = 1, EMU_RETURNED = 2 };
struct emu_fiber {
    ucontext_t ctx;
    std::unique_ptr<char[]> stack;
    unsigned int block, thread;
    int where;
};
static const size_t EMU_STACK_BYTES = 1 << 18;
static ucontext_t emu_launcher;
static emu_fiber* emu_current = nullptr;                 // the fiber running now; none in plain launches
static const std::function<void()>* emu_kernel_call = nullptr;

static void emu_fiber_main() {
    (*emu_kernel_call)();
    emu_current->where = EMU_RETURNED;                   // then back to the launcher (uc_link)
}

// returns 0, or 1 where some threads returned while others waited at a barrier
static int emu_cooperative(unsigned int gx, unsigned int bx, const unsigned int* border, const unsigned int* torder,
                           const std::function<void()>& call) {
    const size_t n = (size_t)gx * bx;
    std::vector<emu_fiber> fibers(n);
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) {
        emu_fiber& f = fibers[i];
        f.block = border[i / bx];
        f.thread = torder[i % bx];
        f.where = EMU_RUNNING;
        f.stack.reset(new char[EMU_STACK_BYTES]);
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack.get();
        f.ctx.uc_stack.ss_size = EMU_STACK_BYTES;
        f.ctx.uc_link = &emu_launcher;
        makecontext(&f.ctx, emu_fiber_main, 0);
        order[i] = i;
    }
    std::mt19937_64 rng(((unsigned long long)border[0] << 32) ^ torder[0] ^ n);
    emu_kernel_call = &call;
    for (;;) {
        for (size_t i : order) {
            emu_fiber& f = fibers[i];
            f.where = EMU_RUNNING;
            blockIdx.x = f.block % gridDim.x; blockIdx.y = f.block / gridDim.x; blockIdx.z = 0;
            threadIdx.x = f.thread; threadIdx.y = 0; threadIdx.z = 0;
            emu_current = &f;
            swapcontext(&emu_launcher, &f.ctx);
        }
        emu_current = nullptr;
        size_t returned = 0;
        for (const emu_fiber& f : fibers) returned += f.where == EMU_RETURNED;
        if (returned == n) return 0;
        if (returned) return 1;
        std::shuffle(order.begin(), order.end(), rng);
    }
}

// a grid barrier: back to the launcher, which resumes this thread once every thread is here;
// the clobber makes the compiler read blockIdx and threadIdx again after it
static inline void grid_barrier(unsigned long long*) {
    if (emu_current == nullptr) abort();                 // a barrier outside a cooperative launch
    emu_current->where = EMU_AT_BARRIER;
    swapcontext(&emu_current->ctx, &emu_launcher);
    __asm__ __volatile__("" ::: "memory");
}
