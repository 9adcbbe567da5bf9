// One thread per local Poisson source (build.poisson_source): the threshold of the step from
// its population's rate segments (a binary search, as the CPU kernel's; a sinusoidal segment
// modulates it, with the same operations), then one Bernoulli
// draw: word (g & 3) of the quad's Philox call below the threshold is a spike, appended
// (gid, step) to the spike buffer like the neurons' (the driver sorts them). A MIP population's
// sources compare with the copy threshold instead, in the steps where its parent spikes (word 0
// of the population's PARENT call below the threshold: each thread draws it again, one call).
extern "C" __global__ void poisson_sources(
    u64* state, const int p, const int n_src, const i64* __restrict__ src_gids, const int* __restrict__ pop_of,
    const i64* __restrict__ pop_i, const i64* __restrict__ ps_seg, const u32 key0, const u32 key1, i64* spk_gid,
    i64* spk_step, int* spk_pop, const i64 spk_cap)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_src || !state[SLOT(ST_LIVE, p)]) return;
    const i64 t = (i64)state[SLOT(ST_T, p)];
    const i64 g = src_gids[i];
    const int k = pop_of[g];
    const i64* pi = pop_i + (i64)k * N_PI;
    const i64 s0 = pi[PI_PS_SEG_START];
    i64 lo = s0, hi = pi[PI_PS_SEG_END];
    while (lo < hi) {                                // the last segment starting at or before t
        const i64 mid = (lo + hi) / 2;
        if (ps_seg[mid * N_SEG + SEG_STEP] <= t) lo = mid + 1; else hi = mid;
    }
    if (lo == s0) return;                            // before the first segment: rate 0
    const i64* seg = ps_seg + (lo - 1) * N_SEG;
    i64 thresh = seg[SEG_THRESH];
    if (seg[SEG_AMP] != 0) {                         // sinusoidal: build.poisson_source.modulated
        const double a = (double)seg[SEG_THRESH]
                         + (double)seg[SEG_AMP] * sine_at((u64)seg[SEG_CYCLE], (u64)seg[SEG_PHASE], (u64)(t + 1));
        thresh = a <= 0.0 ? 0 : (i64)floor(a + 0.5);
        if (thresh > (1ll << 32)) thresh = 1ll << 32;
    }
    if (thresh == 0) return;
    u32 w[4];
    if (seg[SEG_COPY] != 0) {                        // MIP: the parent's spike, then the copy
        philox((u32)(t & 0xFFFFFFFFll), (u32)(t >> 32), (u32)pi[PI_OFFSET], PARENT_TAG, key0, key1, w);
        if ((i64)w[0] >= thresh) return;
        thresh = seg[SEG_COPY];
    }
    philox((u32)(t & 0xFFFFFFFFll), (u32)(t >> 32), (u32)(g >> 2), SOURCE_TAG, key0, key1, w);
    if ((i64)w[g & 3] < thresh) append_spike(state, spk_gid, spk_step, spk_pop, spk_cap, g, t, k);
}
