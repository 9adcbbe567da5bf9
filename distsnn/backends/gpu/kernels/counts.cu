// Per (pre, post chunk) synapse counts of the counted rules, for the chunks
// col0 <= chunk < col0 + cols this process holds (build.count_layout: n_pre x cols cells):
// every draw from its own counter, histogrammed with integer atomics (the result does not
// depend on the launch). Draws onto chunks outside the span are made and dropped: a cell is
// the histogram of all the projection's draws.
extern "C" __global__ void counts_fixed_total(
    const i64 n_total, const i64 n_pre, const i64 n_post, const i64 col0, const i64 cols, const i64 chunk_size,
    const u32 tag, const u32 key0, const u32 key1, u32* counts)
{
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n_total; i += (i64)gridDim.x * blockDim.x) {
        u32 w[4];
        philox((u32)(i & 0xFFFFFFFFll), (u32)(i >> 32), 0u, tag, key0, key1, w);
        const i64 c = below(w[1], n_post) / chunk_size - col0;
        if (c >= 0 && c < cols) atomicAdd(&counts[below(w[0], n_pre) * cols + c], 1u);
    }
}

extern "C" __global__ void counts_fixed_outdegree(
    const i64 n_out, const i64 n_pre, const i64 n_post, const i64 col0, const i64 cols, const i64 chunk_size,
    const u32 tag, const u32 key0, const u32 key1, u32* counts)
{
    const i64 stride = (i64)gridDim.x * blockDim.x;
    for (i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x; idx < n_pre * n_out; idx += stride) {
        const i64 pre = idx / n_out, i = idx % n_out;
        u32 w[4];
        philox((u32)i, 0u, (u32)pre, tag, key0, key1, w);
        const i64 c = below(w[0], n_post) / chunk_size - col0;
        if (c >= 0 && c < cols) atomicAdd(&counts[pre * cols + c], 1u);
    }
}

// fixed_indegree: slot i of chunk c draws its pre from counter (i, c, 0); counted into cell
// (pre + 1, c), and the driver's running sum over pres turns the cells into running sums
// (plan.count_cells). Only the span's chunks are drawn; their slots in one range: chunk c
// holds [c C K, (c C + clen) K).
extern "C" __global__ void counts_fixed_indegree(
    const i64 k_in, const i64 n_pre, const i64 n_post, const i64 col0, const i64 cols, const i64 chunk_size,
    const u32 tag, const u32 key0, const u32 key1, u32* counts)
{
    const i64 per_chunk = chunk_size * k_in;
    const i64 end = min(n_post, (col0 + cols) * chunk_size) * k_in;
    const i64 stride = (i64)gridDim.x * blockDim.x;
    for (i64 idx = col0 * per_chunk + (i64)blockIdx.x * blockDim.x + threadIdx.x; idx < end; idx += stride) {
        const i64 c = idx / per_chunk, i = idx - c * per_chunk;
        u32 w[4];
        philox((u32)i, (u32)c, 0u, tag, key0, key1, w);
        atomicAdd(&counts[(below(w[0], n_pre) + 1) * cols + c - col0], 1u);
    }
}
