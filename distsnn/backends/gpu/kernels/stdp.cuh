// STDP (build.long_term; NEST's stdp_synapse): the device functions of the kernels of stdp.cu
// and of stored delivery, the CPU's backends/cpu/stdp_kernels.py operation for operation
// (pexp and plog, no FMA), so both engines give the same weights to the bit. Times are in ms
// as NEST computes them: a spike stamped s at MS_PER_TIC * (s * tics), a delay of d steps at
// d * (tics / 1000).
// Layouts: a target's history is a ring of C (time, K-) pairs, hist[(i * C + c) * 2 + {0, 1}],
// its oldest entry's column and its entries in hist_hn[2 i], hist_hn[2 i + 1]; a spike's
// presynaptic state per group p, pre[(row * G + p) * 2 + {0, 1}]: K+ and the last spike's time.
// C is a power of two (stdp_state.StdpState), so an index mod C is a mask.

// NEST's time in ms of a spike stamped `stamp` (steps)
__device__ __forceinline__ double stdp_ms(const i64 stamp, const i64 tics) {
    return MS_PER_TIC * (double)(stamp * tics);
}

// exp(a) by pexp; 0 below its domain (portable_math.EXP_ARG_MIN)
__device__ __forceinline__ double stdp_expo(const double a) {
    return a < EXP_ARG_MIN ? 0.0 : pexp(a);
}

// x**mu for x >= 0 and mu >= 0: exact for mu 0 and 1 (std::pow's values), else exp(mu log x)
__device__ __forceinline__ double stdp_power(const double x, const double mu) {
    if (mu == 0.0) return 1.0;
    if (mu == 1.0) return x;
    if (x < SMALLEST_NORMAL) return 0.0;
    return stdp_expo(mu * plog(x));
}

// NEST's facilitate_ and depress_ with a group's parameters f (a row of stdp_f), their
// association: stdp_synapse's, or stdp_pl_synapse_hom's (kind KIND_POWER_LAW; facilitation kept
// below the bound Wmax)
__device__ __forceinline__ double stdp_facilitate(const double w, const double kplus, const double* f) {
    const double wmax = f[LF_WMAX];
    if (f[LF_KIND] == KIND_POWER_LAW) {
        const double new_w = w + (f[LF_LAMBDA] * stdp_power(w, f[LF_MU_PLUS]) * kplus);
        return new_w < wmax ? new_w : wmax;
    }
    const double norm_w = (w / wmax) + (f[LF_LAMBDA] * stdp_power(1.0 - (w / wmax), f[LF_MU_PLUS]) * kplus);
    return norm_w < 1.0 ? norm_w * wmax : wmax;
}

__device__ __forceinline__ double stdp_depress(const double w, const double kminus, const double* f) {
    if (f[LF_KIND] == KIND_POWER_LAW) {
        const double new_w = w - (f[LF_LAMBDA] * f[LF_ALPHA] * w * kminus);
        return new_w > 0.0 ? new_w : 0.0;
    }
    const double wmax = f[LF_WMAX];
    const double norm_w = (w / wmax) - (f[LF_ALPHA] * f[LF_LAMBDA] * stdp_power(w / wmax, f[LF_MU_MINUS]) * kminus);
    return norm_w > 0.0 ? norm_w * wmax : 0.0;
}

// dt / tau_plus as NEST computes it: stdp_synapse divides, stdp_pl_synapse_hom multiplies by
// 1 / tau_plus (stdp_kernels.plus_decay)
__device__ __forceinline__ double stdp_plus_decay(const double dt, const double* f) {
    return f[LF_KIND] == KIND_POWER_LAW ? dt * (1.0 / f[LF_TAU_PLUS]) : dt / f[LF_TAU_PLUS];
}

// The weight a synapse sends a spike at t_spike (ms) with, and keeps: from its weight w, its
// group's parameters f, the source's K+ and last spike time before the spike, its delay d_ms
// and its target's history (hist: the neuron's ring of C pairs, oldest column h, n entries):
// facilitation by the target's spikes in [t_last - d, t - d) + eps, oldest first, then
// depression by K- at t - d (stdp_kernels.stdp_weight). A rare path inside delivery's loop, so
// a call: inlined, its loops' registers would count for every synapse.
__device__ __noinline__ double stdp_weight(double w, const double* f, const double kplus, const double t_last,
                                           const double t_spike, const double d_ms, const double* hist, const i64 h,
                                           const i64 n, const i64 C) {
    const double t1_lim = (t_last - d_ms) + STDP_EPS;
    const double t2 = t_spike - d_ms;
    const double t2_lim = t2 + STDP_EPS;
    // the entries, newest first: skip those at or after t2_lim, then find the first before t1_lim
    i64 end = n;
    while (end > 0 && hist[((h + end - 1) & (C - 1)) * 2] >= t2_lim) --end;
    i64 start = end;
    while (start > 0 && hist[((h + start - 1) & (C - 1)) * 2] >= t1_lim) --start;
    for (i64 j = start; j < end; ++j) {
        const double minus_dt = t_last - (hist[((h + j) & (C - 1)) * 2] + d_ms);
        w = stdp_facilitate(w, kplus * stdp_expo(stdp_plus_decay(minus_dt, f)), f);
    }
    double kminus = 0.0;
    const double inv = 1.0 / f[LF_TAU_MINUS];
    for (i64 j = n - 1; j >= 0; --j) {   // the latest entry strictly (by more than eps) before t2
        const double* e = hist + ((h + j) & (C - 1)) * 2;
        if (t2 - e[0] > STDP_EPS) {
            kminus = e[1] * stdp_expo((e[0] - t2) * inv);
            break;
        }
    }
    return stdp_depress(w, kminus, f);
}

// An order-preserving key of a double (no NaN): a < b iff key(a) < key(b), so that a minimum
// over doubles is an integer atomicMin
__device__ __forceinline__ u64 stdp_key(const double x) {
#ifdef __CUDACC__
    const u64 b = (u64)__double_as_longlong(x);
#else
    u64 b;
    memcpy(&b, &x, sizeof b);
#endif
    return (b >> 63) ? ~b : (b | 0x8000000000000000ull);
}
