// Device functions shared by the kernels: Philox4x32-10 and the portable math, in the same
// operations and order as distsnn.rng (the NumPy specification) and the numba kernels.
// Compiled with --fmad=false: no a*b+c is ever fused, so every rounding matches.
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long i64;

__device__ __forceinline__ void philox(u32 c0, u32 c1, u32 c2, u32 c3, u32 k0, u32 k1, u32 out[4]) {
    for (int r = 0; r < 10; ++r) {
        if (r > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
        const u32 hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        const u32 hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        const u32 n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

// (x + 1) * 2**-32 in (0, 1]; integers in [0, n): high word of x * n
__device__ __forceinline__ double u01(u32 w) { return ((double)w + 1.0) * 2.3283064365386962890625e-10; }
__device__ __forceinline__ i64 below(u32 w, i64 n) { return (i64)(((u64)w * (u64)n) >> 32); }

__device__ __forceinline__ double horner(double x, const double* c, int n) {
    double acc = c[n - 1] + 0.0 * x;
    for (int i = n - 2; i >= 0; --i) acc = c[i] + x * acc;
    return acc;
}

__device__ __forceinline__ double plog(double x) {
    int e;
    double m = frexp(x, &e);                      // exact
    if (m < SQRT_HALF) { m = m * 2.0; e = e - 1; }
    const double ef = (double)e;
    const double f = m - 1.0;
    const double s = f / (2.0 + f);
    const double s2 = s * s;
    const double poly = s2 * horner(s2, LOG_C, N_LOG_C);
    const double log_m = (2.0 * s) + (2.0 * s) * poly;
    return ef * LN2_HI + (ef * LN2_LO + log_m);
}

__device__ __forceinline__ double pexp(double x) {
    const double k = floor(x * INV_LN2 + 0.5);
    const double r = (x - k * LN2_HI) - k * LN2_LO;
    const double em1 = r + (r * r) * horner(r, EXPM1_C, N_EXPM1_C);
    return ldexp(1.0 + em1, (int)k);              // exact scaling by 2**k
}

// exp as pexp with its polynomial evaluated as a tree (portable_math.pexp_tree, written out
// for the 13 coefficients of EXPM1_C): a shorter dependent chain, for aeif_cond_exp's solver
static_assert(N_EXPM1_C == 13, "pexp_tree is written out for 13 coefficients");
__device__ __forceinline__ double pexp_tree(double x) {
    const double k = floor(x * INV_LN2 + 0.5);
    const double r = (x - k * LN2_HI) - k * LN2_LO;
    const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    const double q0 = (EXPM1_C[0] + EXPM1_C[1] * r) + (EXPM1_C[2] + EXPM1_C[3] * r) * r2;
    const double q1 = (EXPM1_C[4] + EXPM1_C[5] * r) + (EXPM1_C[6] + EXPM1_C[7] * r) * r2;
    const double q2 = (EXPM1_C[8] + EXPM1_C[9] * r) + (EXPM1_C[10] + EXPM1_C[11] * r) * r2;
    const double poly = (q0 + q1 * r4) + (q2 + EXPM1_C[12] * r4) * r8;
    const double em1 = r + r2 * poly;
    return ldexp(1.0 + em1, (int)k);
}

__device__ __forceinline__ void psincos_2pi(double u, double* sin_v, double* cos_v) {
    const double v = 4.0 * u;
    const double q = floor(v + 0.5);
    const double f = v - q;
    const double x = f * HALF_PI;
    const double x2 = x * x;
    const double s = x + (x * x2) * horner(x2, SIN_C, N_SIN_C);
    const double c = 1.0 + x2 * horner(x2, COS_C, N_COS_C);
    const i64 qi = ((i64)q) & 3;
    const bool swap = (qi & 1) == 1;
    const double sign_s = 1.0 - 2.0 * (double)((qi >> 1) & 1);
    const double sign_c = 1.0 - 2.0 * (double)(((qi + 1) >> 1) & 1);
    *sin_v = (swap ? c : s) * sign_s;
    *cos_v = (swap ? s : c) * sign_c;
}

// sin(2 pi u) at step n of a sinusoid given by its phase words (build.phase_words): the word
// wraps modulo 2**64, u = (x >> 11) 2**-53 is exact
__device__ __forceinline__ double sine_at(u64 cycles, u64 phase, u64 n) {
    const u64 x = phase + cycles * n;
    double s, c;
    psincos_2pi(ldexp((double)(x >> 11), -53), &s, &c);
    return s;
}

__device__ __forceinline__ void box_muller(double u1, double u2, double* z0, double* z1) {
    const double r = sqrt(-2.0 * plog(u1));       // IEEE sqrt (--prec-sqrt=true)
    double s, c;
    psincos_2pi(u2, &s, &c);
    *z0 = r * c;
    *z1 = r * s;
}

// The counter of a synapse, for its redraw: SYN words 0..2 and 3 (the projection's tag)
struct Counter {
    u32 c0, c1, c2, tag;
};

// the first delay dmean + dsd z >= low (ms) of the redraw chain of the synapse at counter `at`
// (rng.redraw, the NumPy specification): four candidates a block, block b + 1 from words
// 0..2 of block b. A rare path (3 to 4 % of the models' delays) inside delivery's loop, so a
// call: inlined, its loop held registers across delivery's and spilled (ptxas, sm_90)
__device__ __noinline__ double redraw_delay(Counter at, const u32 key0, const u32 key1, const double* jf,
                                            const double low) {
    const u32 rtag = (at.tag & ID_MASK) | REDRAW_TAG;
    for (;;) {
        u32 w[4];
        philox(at.c0, at.c1, at.c2, rtag, key0, key1, w);
        for (int h = 0; h < 4; h += 2) {
            double za, zb;
            box_muller(u01(w[h]), u01(w[h + 1]), &za, &zb);
            double x = jf[JF_DMEAN] + jf[JF_DSD] * za;
            if (x >= low) return x;
            x = jf[JF_DMEAN] + jf[JF_DSD] * zb;
            if (x >= low) return x;
        }
        at.c0 = w[0];
        at.c1 = w[1];
        at.c2 = w[2];
    }
}

// the variate of one word: -log u (an Exponential's) or u - 1/2 (a Uniform's), u in (0, 1]
__device__ __forceinline__ double word_variate(const u32 w, const bool exponential) {
    const double u = u01(w);
    return exponential ? -plog(u) : u - 0.5;
}

// the weight's and the delay's variates of one synapse from its counter words 1 to 3 where
// the projection has a kind of draw of its own (JF_KINDS's bits; rng.synapse_variates, the
// specification; a LogNormal weight's variate is a normal's):
// normals from Box-Muller of words 1 and 2, a Uniform's or an Exponential's one-word variate
// from its own word of the pair, or word 3 where the other quantity draws a normal
__device__ __forceinline__ void variates(const u32 w1, const u32 w2, const u32 w3, const double* jf, double* z0,
                                         double* z1) {
    const int bits = (int)jf[JF_KINDS];
    const bool wu = (bits & WORD_WEIGHT) != 0, du = (bits & WORD_DELAY) != 0;
    const bool wn = !wu && jf[JF_WSD] != 0.0, dn = !du && jf[JF_DSD] != 0.0;
    *z0 = 0.0;
    *z1 = 0.0;
    if (wn || dn) box_muller(u01(w1), u01(w2), z0, z1);
    if (wu) *z0 = word_variate(dn ? w3 : w1, (bits & EXPONENTIAL_WEIGHT) != 0);
    if (du) *z1 = word_variate(wn ? w3 : w2, (bits & EXPONENTIAL_DELAY) != 0);
}

// fixed-point weight and delay (steps) of one synapse from counter words 1 to 3 (word 3 only
// where the variant has Uniform, Exponential or LogNormal draws: bit KINDS_BIT of RULES,
// source.RULE_VARIANTS, and the projection has one: variates; a LogNormal weight is
// sign exp(mu + sigma z0), mu and sigma in JF_WMEAN and JF_WSD; an Exponential's
// sign (low + beta z0), its low and beta there, the clip leaving low + beta z0 >= 0); a delay
// drawn below the projection's bound JF_DREDRAW * dt is redrawn where it has one (from the
// synapse's counter `at`) and the variant has the redraw (bit REDRAW_BIT of RULES); then, or
// otherwise, clipped to dt. inv_dt is 1 / dt as the host divides (IEEE, the same double as
// the CPU's 1.0 / dt): a kernel parameter, read from the constant bank, where a quotient
// computed here would hold two of delivery's scarce registers for the whole launch
template <u32 RULES = RULES_ALL>
__device__ __forceinline__ void synapse(u32 w1, u32 w2, u32 w3, const Counter at, const u32 key0, const u32 key1,
                                        const double* jf, const double dt, const double inv_dt,
                                        i64* w_int, i64* d_steps) {
    const double wmean = jf[JF_WMEAN], wsd = jf[JF_WSD], dmean = jf[JF_DMEAN], dsd = jf[JF_DSD];
    double z0 = 0.0, z1 = 0.0;
    if (((RULES >> KINDS_BIT) & 1u) && jf[JF_KINDS] != 0.0) variates(w1, w2, w3, jf, &z0, &z1);
    else if (wsd != 0.0 || dsd != 0.0) box_muller(u01(w1), u01(w2), &z0, &z1);
    double w = wmean + wsd * z0;
    if (wmean >= 0.0) w = (w >= 0.0) ? w : 0.0;   // keep the sign of the mean (as the numba max/min)
    else w = (w <= 0.0) ? w : 0.0;
    if ((RULES >> KINDS_BIT) & 1u) {   // a LogNormal's exp(mu + sigma z0); a LogNormal's or Exponential's sign
        if (((int)jf[JF_KINDS]) & LOGNORMAL_WEIGHT) w = pexp(wmean + wsd * z0);
        if (((int)jf[JF_KINDS]) & NEGATIVE_WEIGHT) w = -w;
    }
    double d = dmean + dsd * z1;
    if ((RULES >> REDRAW_BIT) & 1u) {
        const double low = jf[JF_DREDRAW] * dt;   // 0 where the projection clips
        if (low != 0.0 && d < low) d = redraw_delay(at, key0, key1, jf, low);
    }
    d = (d >= dt) ? d : dt;
    *w_int = (i64)floor(w * jf[JF_SCALE] + 0.5);
    *d_steps = (i64)floor(d * inv_dt + 0.5);   // NEST's rounding (plan._delay_steps)
}

// integer accumulation: two's complement addition makes signed sums exact in any order.
// Ring buffers are int64 or int32 (the build proves that one step's input fits 32 bits);
// the kernels that touch them are templates with one entry point per width (suffix _r32).
__device__ __forceinline__ void ring_add(i64* ring, i64 index, i64 value) {
    atomicAdd((u64*)(ring + index), (u64)value);
}
__device__ __forceinline__ void ring_add(int* ring, i64 index, i64 value) {
    atomicAdd((unsigned int*)(ring + index), (unsigned int)(int)value);
}

// (slot0 + d) % ring_len for 0 <= slot0 < ring_len and 0 < d < ring_len (a ring has one slot more
// than the longest delay it receives): a compare per synapse instead of a 64-bit division
__device__ __forceinline__ i64 wrap_slot(const i64 slot0, const i64 d, const i64 ring_len) {
    const i64 s = slot0 + d;
    return (s >= ring_len) ? s - ring_len : s;
}

// append one spike (gid g, step t, population k) to the spike buffer (the driver sizes it so
// that it cannot overflow; a full buffer drops the spike and the driver reports the count it
// saw). Its population goes with it: delivery reads it beside the gid, where looking it up
// by the gid cost one more round trip before the spike's items
__device__ __forceinline__ void append_spike(u64* state, i64* spk_gid, i64* spk_step, int* spk_pop, const i64 cap,
                                             const i64 g, const i64 t, const int k) {
    const u64 pos = atomicAdd(&state[ST_END], 1ull);
    if (pos < (u64)cap) { spk_gid[pos] = g; spk_step[pos] = t; spk_pop[pos] = k; }
}

// The end of a step of parity p (layout.py), by one thread: the step's spikes become the
// past of the delivered range and the step counter moves on, both in slot 1 - p, if the step
// ran. Then whether the next step may run: only if a worst-case step fits the spike buffer,
// the recording buffer has a row left and no STDP history ring is full. A skipped step leaves its slot's values as they
// were. Reads slot p and the shared fields, writes slot 1 - p alone: the other threads of the
// launch that calls it (delivery, reading slot p) are not disturbed.
__device__ __forceinline__ void finish_step(u64* state, const int p) {
    const int q = 1 - p;
    const u64 live = state[SLOT(ST_LIVE, p)];
    const u64 t = state[SLOT(ST_T, p)] + (live ? 1ull : 0ull);
    state[SLOT(ST_BEGIN, q)] = state[ST_END];   // == slot p's begin if the step was skipped
    state[SLOT(ST_T, q)] = t;
    state[SLOT(ST_LIVE, q)] = (state[ST_END] + state[ST_PER_STEP] <= state[ST_CAP]
                               && t - state[ST_T0] < state[ST_ROWS] && state[ST_FULL] == 0ull) ? 1ull : 0ull;
}

static_assert(KCAP >= 4, "neuron_input reads the first four CDF entries at once");

// Loads issued where they are written. The compiler sinks a load below a branch that can
// leave before the load's value is used (a skipped step's return, the sources' continue), so
// loads that depend on nothing but the neuron's index went out one round trip after another
// (SASS of neuron_update: the ring entry was the 8th load in a chain, now the 4th). A
// volatile asm load keeps its place in the PTX; ptxas may still sink it below a branch that
// does not test its value, which neuron_update.cu answers. They read what the plain loads
// did: ld_now as through a plain pointer (data a launch writes), ld_now_ro by the
// non-coherent path that `const __restrict__` gives (tables no launch writes). ld_now also
// clobbers memory, so that the compiler keeps it after the stores before it (the step loop
// reads what the same thread wrote a step earlier). The emulated device reads plainly
// (host_shim.h).
#ifdef __CUDACC__
__device__ __forceinline__ i64 ld_now(const i64* p) {
    i64 v; asm volatile("ld.global.s64 %0, [%1];" : "=l"(v) : "l"(p) : "memory"); return v;
}
__device__ __forceinline__ u64 ld_now(const u64* p) {
    u64 v; asm volatile("ld.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory"); return v;
}
__device__ __forceinline__ double ld_now(const double* p) {
    double v; asm volatile("ld.global.f64 %0, [%1];" : "=d"(v) : "l"(p) : "memory"); return v;
}
__device__ __forceinline__ i64 ld_now_ro(const i64* p) {
    i64 v; asm volatile("ld.global.nc.s64 %0, [%1];" : "=l"(v) : "l"(p)); return v;
}
__device__ __forceinline__ int ld_now_ro(const int* p) {
    int v; asm volatile("ld.global.nc.s32 %0, [%1];" : "=r"(v) : "l"(p)); return v;
}
__device__ __forceinline__ double ld_now_ro(const double* p) {
    double v; asm volatile("ld.global.nc.f64 %0, [%1];" : "=d"(v) : "l"(p)); return v;
}
// two neighbouring words of a read-only table (p 16-byte aligned) in one 16-byte load
__device__ __forceinline__ void ld2_ro(const i64* p, i64* a, i64* b) {
    asm volatile("ld.global.nc.v2.s64 {%0, %1}, [%2];" : "=l"(*a), "=l"(*b) : "l"(p));
}
#endif

// the low 32 bits of an int64 table entry (little-endian, as every CUDA device and the
// emulating host), for fields known to fit them
__device__ __forceinline__ const int* low_word(const i64* p) { return (const int*)p; }

// Whether bit b of the words `mask` is set (build.dc_inputs: an input into some neurons flows
// into gid g if bit DI_MASK_AT + g, or NZ_MASK_AT + g, is; the CPU's current_kernels.has_bit)
__device__ __forceinline__ bool has_bit(const u32* mask, const i64 b) {
    return (mask[b >> 5] >> (u32)(b & 31)) & 1u;
}

// The amplitude (pA) at step t of a step current, rows s0..s1 of (seg_i: first steps, increasing;
// seg_f: amplitudes): the last row whose first step is <= t, by binary search; 0 before the
// first (the CPU's current_kernels.step_amplitude)
__device__ __forceinline__ double step_amplitude(const i64* seg_i, const double* seg_f, i64 lo, const i64 s1,
                                                 const i64 t) {
    const i64 s0 = lo;
    i64 hi = s1;
    while (lo < hi) {
        const i64 mid = (lo + hi) >> 1;
        if (seg_i[mid] <= t) lo = mid + 1;
        else hi = mid;
    }
    return lo > s0 ? seg_f[lo - 1] : 0.0;
}

// What the neuron kernels read of a neuron's unit and population rows for its input: its ring
// entry (in the unit's block, build.ring_layout), the unit's length, the ring lengths, and the
// ranges of the population's Poisson inputs and DC inputs; all loaded at once (ld_now_ro).
struct InputRows {
    i64 at, n_u, lex, lin, q0, q1, d0, d1;
};

__device__ __forceinline__ InputRows input_rows(const int li, const int unit, const i64* pi, const i64* units) {
    const i64* un = units + (i64)unit * N_UI;
    const i64 end = ld_now_ro(un + UI_GID_END), start = ld_now_ro(un + UI_GID_START);
    const i64 off = ld_now_ro(un + UI_RING_OFF), local = ld_now_ro(un + UI_LOCAL_START);
    InputRows r;
    r.lex = ld_now_ro(pi + PI_RING_EX);
    r.lin = ld_now_ro(pi + PI_RING_IN);
    r.q0 = ld_now_ro(pi + PI_PIN_START);
    r.q1 = ld_now_ro(pi + PI_PIN_END);
    r.d0 = ld_now_ro(pi + PI_DC_START);
    r.d1 = ld_now_ro(pi + PI_DC_END);
    r.n_u = end - start;
    r.at = off + (li - local);
    return r;
}

// The input of local neuron li (id g; its population's parameter row pf; its rows' fields
// `rows`, input_rows) at step t, shared by the neuron kernels: reads and clears its ring slots,
// adds this step's Poisson counts (word g & 3 of the quad's Philox call, as on the CPU) in fixed
// point, and sums the injected current I_e + DC + noise currents (pA; an I_e given per neuron,
// NZ_GIVEN, from ie_given[li]).
template <typename R>
__device__ __forceinline__ void neuron_input(
    const i64 t, const int li, const i64 g, const int k, const double* pf, const InputRows& rows,
    R* ring, const i64* __restrict__ pin_i,
    const double* __restrict__ pin_cdf, const double* __restrict__ dc_f, const i64* __restrict__ dc_i,
    const i64* __restrict__ dc_seg_i, const double* __restrict__ dc_seg_f, const u32* __restrict__ dc_mask,
    const double* __restrict__ noise_f, const i64* __restrict__ noise_i, const int n_noise,
    const double* __restrict__ ie_given, const u32 key0, const u32 key1, i64* in_ex_out, i64* in_in_out,
    double* i_stim_out)
{
    const i64 ex_at = rows.at + (t % rows.lex) * rows.n_u, in_at = rows.at + (rows.lex + t % rows.lin) * rows.n_u;
    i64 in_ex = ring[ex_at], in_in = ring[in_at];
    ring[ex_at] = 0;
    ring[in_at] = 0;
    for (i64 q = rows.q0; q < rows.q1; ++q) {
        // the input's row and the first four entries of its CDF at once (ld_now_ro), with no
        // branch between them: ptxas sank each field below the test of the one before it,
        // each CDF entry below the comparison with the one before, and all of them below any
        // branch that can skip their use (the window's, the loop's entry), which made up to
        // eight loads in a row on the neuron's chain. So the first draw is made whatever the
        // window and its count dropped outside it
        const i64* qi = pin_i + q * N_QI;
        const double* cdf = pin_cdf + q * (KCAP + 1);
        const i64 delay = ld_now_ro(qi + QI_DELAY), start = ld_now_ro(qi + QI_START), stop = ld_now_ro(qi + QI_STOP);
        const i64 wint = ld_now_ro(qi + QI_WINT);
        // small fields by their low words (a register each; the step loop spilled otherwise)
        const int index = ld_now_ro(low_word(qi + QI_INDEX)), nsub = ld_now_ro(low_word(qi + QI_NSUB));
        const int rec = ld_now_ro(low_word(qi + QI_REC));
        const double c0 = ld_now_ro(cdf), c1 = ld_now_ro(cdf + 1), c2 = ld_now_ro(cdf + 2), c3 = ld_now_ro(cdf + 3);
        const i64 s = t - delay;
        // outside the window (start >= 0: also before the run), no draws
        const int draws = ((s >= start) & (s < stop)) ? nsub : 0;
        const u32 base = NOISE_TAG | ((u32)index << 16);
        i64 total = 0;
        int j = 0;
        do {
            u32 w[4];
            philox((u32)(s & 0xFFFFFFFFll), (u32)(s >> 32), (u32)(g >> 2), base | (u32)j, key0, key1, w);
            // word g & 3 by selects, not w[g & 3]: an array indexed at run time goes to local
            // memory (a store and a load on every neuron's chain; ptxas showed a stack frame)
            const u32 wg = (g & 2) ? ((g & 1) ? w[3] : w[2]) : ((g & 1) ? w[1] : w[0]);
            const double u = ((double)wg + 0.5) * 2.3283064365386962890625e-10;
            // the smallest n with u <= cdf[n] (at most KCAP): counted over the first four
            // entries (the CDF does not decrease), as the CPU kernel does, with no branch
            // between their loads; the count is rarely 4 or more
            int n = (int)(u > c0) + (int)(u > c1) + (int)(u > c2) + (int)(u > c3);
            if (n == 4)
                while (n < KCAP && u > cdf[n]) ++n;
            total += (j < draws) ? n : 0;
        } while (++j < draws);
        if (rec == 0) in_ex += total * wint;
        else in_in += total * wint;
    }
    double i_stim = pf[PF_IE];
    for (i64 d = rows.d0; d < rows.d1; ++d) {   // DC, AC and step currents (the CPU's current_kernels)
        const double* df = dc_f + d * N_DF;
        const i64* di = dc_i + d * N_DI;
        if (di[DI_START] <= t && t < di[DI_STOP]) {
            if (di[DI_MASKED] && !has_bit(dc_mask, di[DI_MASK_AT] + g)) continue;   // into some neurons only
            double a = df[DF_AMP];
            const i64 s0 = di[DI_SEG_START], s1 = di[DI_SEG_END];
            if (s1 > s0) a = a + step_amplitude(dc_seg_i, dc_seg_f, s0, s1, t);
            if (df[DF_AC] != 0.0) a = a + df[DF_AC] * sine_at((u64)di[DI_CYCLE], (u64)di[DI_PHASE], (u64)t);
            i_stim = i_stim + a;
        }
    }
    // noise currents of population k active at t, in the order they were added (the CPU's
    // injected_current): this interval's normal (or uniform) of gid g, from its pair's Philox call
    for (int q = 0; q < n_noise; ++q) {
        const i64* nz = noise_i + (i64)q * N_NZ;
        if (nz[NZ_POP] != k || t < nz[NZ_START] || t >= nz[NZ_STOP]) continue;
        if (nz[NZ_MASKED] && !has_bit(dc_mask, nz[NZ_MASK_AT] + g)) continue;   // into some neurons only
        if (nz[NZ_KIND] == NZ_GIVEN) {               // I_e given per neuron: no draw
            i_stim = i_stim + ie_given[li];
            continue;
        }
        const i64 interval = t / nz[NZ_EVERY];
        u32 w[4];
        philox((u32)(interval & 0xFFFFFFFFll), (u32)(interval >> 32), (u32)(g >> 1), CURRENT_TAG | (u32)nz[NZ_INDEX],
               key0, key1, w);
        double z0, z1;
        if (nz[NZ_KIND] == NZ_UNIFORM) {             // a distributed I_e: a + b u
            z0 = u01(w[0]);
            z1 = u01(w[1]);
        } else {
            box_muller(u01(w[0]), u01(w[1]), &z0, &z1);
        }
        i_stim = i_stim + (noise_f[2 * q] + noise_f[2 * q + 1] * ((g & 1) ? z1 : z0));
    }
    *in_ex_out = in_ex;
    *in_in_out = in_in;
    *i_stim_out = i_stim;
}

// Rows of the connection rules: row (pre, chunk) of one projection, with the same counters,
// words and arithmetic as connectivity_kernels.gen_row (shared by procedural delivery and
// the device build of the stored CSR).
struct Row {
    const double* jf;
    i64 pre, chunk, clen;
    int rule;
    u32 tag;
    // fixed_indegree (open_indexed_row): the row's first input slot, the in-degree, the
    // chunk's slots and the Philox words of the round keys; 32-bit (a chunk has fewer than
    // 2**32 slots) to keep delivery's registers down
    u32 start, k_in, domain, keys[4];
};

// the n words of a record (n even; records are 16-byte aligned) by 16-byte loads issued at once
template <int n>
__device__ __forceinline__ void load_record(const i64* rec, i64 (&w)[n]) {
    static_assert(n % 2 == 0, "records are read 16 bytes at a time");
    for (int c = 0; c < n; c += 2) ld2_ro(rec + c, &w[c], &w[c + 1]);
}

// A procedural delivery item (delivery_items.procedural_records, columns IR_*): what a row of
// it needs, in one record read by four 16-byte loads at once, where the unit's, the
// projection's and the population's rows were read one after another
struct Item {
    i64 base, count, pre_off;
    int n_u, slots, clen, chunk, rule, cols, proj, k_in, wide, part, parts;
    u32 tag;
};
static_assert(N_IR == 8 && IR_NU_SLOTS == 3 && IR_KIN_WIDE == 7, "struct Item reads the records of delivery_items");

__device__ __forceinline__ Item load_item(const i64* rec) {
    i64 w[N_IR];
    load_record(rec, w);
    Item it;
    it.base = w[IR_BASE];
    it.count = w[IR_COUNT];
    it.pre_off = w[IR_PRE_OFF];
    it.n_u = (int)w[IR_NU_SLOTS];             // int32 pairs, low word first
    it.slots = (int)(w[IR_NU_SLOTS] >> 32);
    it.clen = (int)w[IR_CLEN_CHUNK];
    it.chunk = (int)(w[IR_CLEN_CHUNK] >> 32);
    it.rule = (int)w[IR_RULE_TAG];
    it.tag = (u32)(w[IR_RULE_TAG] >> 32);
    it.cols = (int)w[IR_COLS_PROJ];
    it.proj = (int)(w[IR_COLS_PROJ] >> 32);
    it.k_in = (int)w[IR_KIN_WIDE];
    const int high = (int)(w[IR_KIN_WIDE] >> 32);   // the cells' width, the part, the parts
    it.wide = high & IR_WIDE_MASK;
    it.part = (high >> IR_PART_SHIFT) & IR_PART_MASK;
    it.parts = high >> IR_PARTS_SHIFT;
    return it;
}

// A stored delivery item (delivery_items.stored_records, columns CR_*): the unit's ring
// block, its index and length, its population's ring slots, the item's part of its row and
// the row's parts (1: whole); two 16-byte loads
struct Cell {
    i64 base;
    int unit, n_u, lex, lin, part, parts;
};
static_assert(N_CR == 4 && CR_UNIT_NU == 1 && CR_LEX_LIN == 2 && CR_PART_PARTS == 3,
              "struct Cell reads the records of delivery_items");

__device__ __forceinline__ Cell load_cell(const i64* rec) {
    i64 w[N_CR];
    load_record(rec, w);
    Cell cl;
    cl.base = w[CR_BASE];
    cl.unit = (int)w[CR_UNIT_NU];
    cl.n_u = (int)(w[CR_UNIT_NU] >> 32);
    cl.lex = (int)w[CR_LEX_LIN];
    cl.lin = (int)(w[CR_LEX_LIN] >> 32);
    cl.part = (int)w[CR_PART_PARTS];
    cl.parts = (int)(w[CR_PART_PARTS] >> 32);
    return cl;
}

__device__ __forceinline__ Row make_row(const i64* pj, const double* jf, const i64 pre, const i64 chunk,
                                        const i64 chunk_size) {
    Row r;
    r.jf = jf;
    r.pre = pre;
    r.chunk = chunk;
    r.clen = min(chunk_size, pj[JI_POST_SIZE] - chunk * chunk_size);
    r.rule = (int)pj[JI_RULE];
    r.tag = (u32)pj[JI_TAG];
    return r;
}

// row (gid - pre_off, chunk) of an item's projection, for a spike of source gid
__device__ __forceinline__ Row item_row(const Item& it, const double* proj_f, const i64 gid) {
    Row r;
    r.jf = proj_f + (i64)it.proj * N_JF;
    r.pre = gid - it.pre_off;
    r.chunk = it.chunk;
    r.clen = it.clen;
    r.rule = it.rule;
    r.tag = it.tag;
    return r;
}

// Whether row r has rule `rule` and the kernel variant, which regenerates the rules in
// RULES (bit c for rule code c; source.RULE_VARIANTS), handles it: a constant false for
// the rules left out, so their code and the registers it holds are not in the variant at
// all. The driver launches a variant that handles every rule of its plan
// (source.rule_variant).
template <u32 RULES>
__device__ __forceinline__ bool has_rule(const Row& r, const int rule) {
    return ((RULES >> rule) & 1u) && r.rule == rule;
}

// whether a variant scales weights by short-term plasticity's efficacies (STP_BIT; only the
// "_stp" variant, so the others keep their registers)
template <u32 RULES>
__device__ __forceinline__ bool has_stp() {
    return (RULES >> STP_BIT) & 1u;
}

// a fixed-point weight scaled by a spike's efficacy e (0 <= e <= 1; e < 0: a static
// projection): the nearest integer, ties to even, as the CPU's stp_kernels.scaled (rint)
template <u32 RULES>
__device__ __forceinline__ i64 stp_scaled(const i64 w, const double e) {
    if (!has_stp<RULES>() || e < 0.0) return w;
    return (i64)rint((double)w * e);
}

// counted rules and all-to-all: synapse x depends on x alone, so a row is parallel over x
template <u32 RULES = RULES_ALL>
__device__ __forceinline__ bool indexed_rule(const Row& r) {
    return has_rule<RULES>(r, RULE_FTN) || has_rule<RULES>(r, RULE_FOUT) || has_rule<RULES>(r, RULE_FIN)
        || has_rule<RULES>(r, RULE_A2A);
}

// The keyed permutation of a chunk's input slots (distsnn.rng.permutation): a Feistel network
// on b-bit values, halves of lbits and rbits, then cycle walking into [0, domain).
__device__ __forceinline__ u32 mix32(u32 x) {
    x ^= x >> 16; x *= PERM_MIX_A; x ^= x >> 15; x *= PERM_MIX_B; x ^= x >> 16;
    return x;
}

// round key i: Philox word i % 4 XOR i * golden ratio (permutation.round_keys)
__device__ __forceinline__ u32 feistel(const u32 x, const u32* keys, const int lbits, const int rbits) {
    int wl = lbits, wr = rbits;
    u32 left = x >> wr, right = x & ((1u << wr) - 1u);   // (wr <= 16)
    for (int i = 0; i < PERM_ROUNDS; ++i) {
        const u32 nl = right;
        const u32 key = keys[i % 4] ^ (u32)((u64)i * PERM_GOLDEN);
        right = left ^ (mix32(right ^ key) & ((1u << wl) - 1u));
        left = nl;
        const int t = wl; wl = wr; wr = t;
    }
    return (left << wr) | right;
}

// b = max(MIN_BITS, bit length of domain - 1) bits, halves floor(b/2) and ceil(b/2)
__device__ __forceinline__ u32 permute(const u32 x, const u32 domain, const u32* keys) {
    const int b = max(PERM_MIN_BITS, 32 - __clz(domain - 1u));
    u32 y = feistel(x, keys, b / 2, b - b / 2);
    while (y >= domain) y = feistel(y, keys, b / 2, b - b / 2);
    return y;
}

// cell `at` of a projection whose cells are uint32 (wide) or uint16, in the uint32 words
// `counts` (build.count_layout: two uint16 cells a word, the first in its low half)
__device__ __forceinline__ u32 count_at(const u32* counts, const i64 at, const int wide) {
    return wide ? counts[at] : (u32)reinterpret_cast<const unsigned short*>(counts)[at];
}

// Length of an indexed row whose count is cell `at` (a projection whose counts hold `cols`
// chunks a row in cells of width `wide`, build.count_layout, and of in-degree k_in); for
// fixed_indegree also its first slot and permutation (cells of running sums: plan.count_cells)
template <u32 RULES = RULES_ALL>
__device__ __forceinline__ i64 open_row_at(Row& r, const i64 at, const i64 cols, const i64 k_in, const int wide,
                                           const u32* counts, const u32 key0, const u32 key1) {
    if (r.rule == RULE_A2A) return r.clen;
    if (!has_rule<RULES>(r, RULE_FIN)) return (i64)count_at(counts, at, wide);
    r.start = count_at(counts, at, wide);
    r.k_in = (u32)k_in;
    r.domain = (u32)(r.clen * k_in);   // < 2**32 (model validation)
    philox((u32)r.chunk, 0u, 0u, (r.tag & ID_MASK) | PERM_TAG, key0, key1, r.keys);
    return (i64)count_at(counts, at + cols, wide) - (i64)r.start;
}

// the same for row r of projection row pj (the device build of the stored CSR)
template <u32 RULES = RULES_ALL>
__device__ __forceinline__ i64 open_indexed_row(Row& r, const i64* pj, const u32* counts, const u32 key0,
                                                const u32 key1) {
    return open_row_at<RULES>(r, pj[JI_COUNT_OFF] + r.pre * pj[JI_COUNT_COLS] + r.chunk - pj[JI_COUNT_COL0],
                              pj[JI_COUNT_COLS], pj[JI_N], (int)pj[JI_COUNT_WIDE], counts, key0, key1);
}

// synapse x of a fixed_indegree row: input slot pi(start + x) of the chunk, of post
// slot / K, its words from counter (slot, chunk, 0)
template <u32 RULES = RULES_ALL>
__device__ __forceinline__ void indegree_synapse(const Row& r, const i64 x, const u32 key0, const u32 key1,
                                                 const double dt, const double inv_dt, i64* tgt, i64* w_int,
                                                 i64* d) {
    u32 w[4];
    const u32 slot = permute(r.start + (u32)x, r.domain, r.keys);
    philox(slot, (u32)r.chunk, 0u, r.tag, key0, key1, w);
    *tgt = (i64)(slot / r.k_in);
    synapse<RULES>(w[1], w[2], w[3], Counter{slot, (u32)r.chunk, 0u, r.tag}, key0, key1, r.jf, dt, inv_dt, w_int, d);
}

// synapse x of an indexed row: chunk-local target, fixed-point weight, delay (steps)
template <u32 RULES = RULES_ALL>
__device__ __forceinline__ void indexed_synapse(const Row& r, const i64 x, const u32 key0, const u32 key1,
                                                const double dt, const double inv_dt, i64* tgt, i64* w_int,
                                                i64* d) {
    if (has_rule<RULES>(r, RULE_FIN)) {
        indegree_synapse<RULES>(r, x, key0, key1, dt, inv_dt, tgt, w_int, d);
        return;
    }
    u32 w[4];
    philox((u32)x, (u32)r.chunk, (u32)r.pre, r.tag, key0, key1, w);
    *tgt = (r.rule == RULE_A2A) ? x : below(w[0], r.clen);
    synapse<RULES>(w[1], w[2], w[3], Counter{(u32)x, (u32)r.chunk, (u32)r.pre, r.tag}, key0, key1, r.jf, dt, inv_dt,
                   w_int, d);
}

// one_to_one: whether the row has its synapse (target pre - chunk start), and its words
__device__ __forceinline__ bool o2o_words(const Row& r, const i64 chunk_size, const u32 key0, const u32 key1,
                                          u32 w[4]) {
    const i64 c0 = r.chunk * chunk_size;
    if (!(c0 <= r.pre && r.pre < c0 + r.clen)) return false;
    philox(0u, (u32)r.chunk, (u32)r.pre, r.tag, key0, key1, w);
    return true;
}

// fixed_probability: the synapse after position *pos, from draw x (geometric skip); false at
// the end of the row. Each position depends on the previous one: a row runs on one thread.
__device__ __forceinline__ bool fp_next(const Row& r, const i64 x, const u32 key0, const u32 key1, i64* pos,
                                        u32 w[4]) {
    if (!(r.jf[JF_P] > 0.0)) return false;
    philox((u32)x, (u32)r.chunk, (u32)r.pre, r.tag, key0, key1, w);
    const double skip = floor(plog(u01(w[0])) * r.jf[JF_R]);
    if ((double)*pos + 1.0 + skip >= (double)r.clen) return false;
    *pos = *pos + 1 + (i64)skip;
    return true;
}
