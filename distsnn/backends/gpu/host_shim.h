// Host shim: lets the CUDA kernel files compile as plain C++ so that the emulated device
// (distsnn.backends.gpu.emulator) runs the very same kernel code on the CPU. One host
// thread plays every GPU thread in turn; blocks and the threads of a block run in an order
// shuffled at each launch, so a result that depended on the order would show up in tests.
// Compiled with -ffp-contract=off: no fused multiply-add, as --fmad=false on the GPU.
#include <math.h>
#include <stdint.h>

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
