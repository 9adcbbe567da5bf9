// Per (pre, post chunk) synapse counts of the counted rules: every draw from its own
// counter, histogrammed with integer atomics (the result does not depend on the launch).
extern "C" __global__ void counts_fixed_total(
    const i64 n_total, const i64 n_pre, const i64 n_post, const i64 nch, const i64 chunk_size, const u32 tag,
    const u32 key0, const u32 key1, u32* counts)
{
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n_total; i += (i64)gridDim.x * blockDim.x) {
        u32 w[4];
        philox((u32)(i & 0xFFFFFFFFll), (u32)(i >> 32), 0u, tag, key0, key1, w);
        atomicAdd(&counts[below(w[0], n_pre) * nch + below(w[1], n_post) / chunk_size], 1u);
    }
}

extern "C" __global__ void counts_fixed_outdegree(
    const i64 n_out, const i64 n_pre, const i64 n_post, const i64 nch, const i64 chunk_size, const u32 tag,
    const u32 key0, const u32 key1, u32* counts)
{
    for (i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x; idx < n_pre * n_out; idx += (i64)gridDim.x * blockDim.x) {
        const i64 pre = idx / n_out, i = idx % n_out;
        u32 w[4];
        philox((u32)i, 0u, (u32)pre, tag, key0, key1, w);
        atomicAdd(&counts[pre * nch + below(w[0], n_post) / chunk_size], 1u);
    }
}
