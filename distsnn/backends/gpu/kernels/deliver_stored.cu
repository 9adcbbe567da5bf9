// Stored delivery: block (spike s, local unit u) walks the CSR cell (gid, u), one thread per synapse.
extern "C" __global__ void deliver_stored(
    const int n_spk, const i64* __restrict__ spk_gid, const i64* __restrict__ spk_step, const int n_units,
    const i64* __restrict__ units, const i64* __restrict__ ptr, const int* __restrict__ syn_loc,
    const i64* __restrict__ syn_w, const int* __restrict__ syn_d, i64* ring, const i64 ring_len,
    const i64 n_local, u64* events)
{
    const int s = blockIdx.x;
    const int u = blockIdx.y;
    if (s >= n_spk) return;
    const i64 cell = spk_gid[s] * n_units + u, step = spk_step[s];
    const i64 l0 = units[(i64)u * N_UI + UI_LOCAL_START];
    for (i64 x = ptr[cell] + threadIdx.x; x < ptr[cell + 1]; x += blockDim.x) {
        const int loc = syn_loc[x];
        const i64 slot = (step + syn_d[x]) % ring_len;
        ring_add(ring, (slot * 2 + (loc & 1)) * n_local + l0 + (loc >> 1), syn_w[x]);
    }
    if (threadIdx.x == 0) atomicAdd(events, (u64)(ptr[cell + 1] - ptr[cell]));
}
