// Stored delivery: blocks stride over the (spike, local unit) pairs of spk_*[bounds[0],
// bounds[1]) and walk the CSR cell (gid, unit), one thread per synapse.
extern "C" __global__ void deliver_stored(
    const u64* __restrict__ bounds, const i64* __restrict__ spk_gid, const i64* __restrict__ spk_step,
    const int n_units, const i64* __restrict__ units, const i64* __restrict__ ptr, const int* __restrict__ syn_loc,
    const i64* __restrict__ syn_w, const int* __restrict__ syn_d, i64* ring, const i64 ring_len,
    const i64 n_local, u64* events)
{
    const i64 begin = (i64)bounds[0];
    const i64 n_pairs = ((i64)bounds[1] - begin) * n_units;
    for (i64 p = blockIdx.x; p < n_pairs; p += gridDim.x) {
        const i64 s = begin + p / n_units, u = p % n_units;
        const i64 cell = spk_gid[s] * n_units + u, step = spk_step[s];
        const i64 l0 = units[u * N_UI + UI_LOCAL_START];
        for (i64 x = ptr[cell] + threadIdx.x; x < ptr[cell + 1]; x += blockDim.x) {
            const int loc = syn_loc[x];
            const i64 slot = (step + syn_d[x]) % ring_len;
            ring_add(ring, (slot * 2 + (loc & 1)) * n_local + l0 + (loc >> 1), syn_w[x]);
        }
        if (threadIdx.x == 0) atomicAdd(events, (u64)(ptr[cell + 1] - ptr[cell]));
    }
}
