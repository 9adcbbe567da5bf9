// Stored connectivity built on the device, in the layout of the CPU engine's CSR: cells
// (source gid, local unit), rows of the unit's incoming projections in in_proj order,
// syn_loc = chunk-local target * 2 + receptor, weights fixed point, delays in steps.
// stored_lengths counts each cell's synapses, the driver scans them into row pointers, and
// stored_fill writes the rows. One thread per cell; the rows come from the rule functions
// of common.cuh, as in procedural delivery.

template <typename W>
__device__ __forceinline__ void put_synapse(const i64 at, const i64 tgt, const int rec, const i64 w_int, const i64 d,
                                            int* syn_loc, W* syn_w, int* syn_d)
{
    syn_loc[at] = (int)(tgt * 2 + rec);
    syn_w[at] = (W)w_int;   // int32: the build proved |w_int| < 2**31
    syn_d[at] = (int)d;
}

// Length of row (pre, chunk) of projection j; with fill, also write it from position `at`.
template <typename W>
__device__ i64 stored_row(const i64* pj, const double* jf, const i64 pre, const i64 chunk, const u32* counts,
                          const i64 chunk_size, const u32 key0, const u32 key1, const double dt, const double inv_dt,
                          const bool fill, const i64 at, int* syn_loc, W* syn_w, int* syn_d)
{
    Row r = make_row(pj, jf, pre, chunk, chunk_size);
    const int rec = (int)pj[JI_REC];
    u32 w[4];
    i64 tgt, w_int, d;
    if (indexed_rule(r)) {
        const i64 n = open_indexed_row(r, pj, counts, key0, key1);
        for (i64 x = 0; fill && x < n; ++x) {
            indexed_synapse(r, x, key0, key1, dt, inv_dt, &tgt, &w_int, &d);
            put_synapse(at + x, tgt, rec, w_int, d, syn_loc, syn_w, syn_d);
        }
        return n;
    }
    i64 n = 0;
    if (r.rule == RULE_O2O) {
        if (o2o_words(r, chunk_size, key0, key1, w)) {
            if (fill) {
                synapse(w[1], w[2], w[3], Counter{0u, (u32)chunk, (u32)pre, r.tag}, key0, key1, jf, dt, inv_dt, &w_int,
                        &d);
                put_synapse(at, pre - chunk * chunk_size, rec, w_int, d, syn_loc, syn_w, syn_d);
            }
            n = 1;
        }
    } else if (r.rule == RULE_FP) {
        i64 pos = -1;
        while (fp_next(r, n, key0, key1, &pos, w)) {
            if (fill) {
                synapse(w[1], w[2], w[3], Counter{(u32)n, (u32)chunk, (u32)pre, r.tag}, key0, key1, jf, dt, inv_dt,
                        &w_int, &d);
                put_synapse(at + n, pos, rec, w_int, d, syn_loc, syn_w, syn_d);
            }
            ++n;
        }
    }
    return n;
}

// Every row of cell c = gid * n_units + u, in in_proj order; returns the cell's length.
template <typename W>
__device__ i64 stored_cell(const i64 c, const int n_units, const i64* units, const int* pop_of, const i64* pop_i,
                           const i64* in_proj, const double* proj_f, const i64* proj_i, const u32* counts,
                           const i64 chunk_size, const u32 key0, const u32 key1, const double dt, const double inv_dt,
                           const bool fill, const i64 at, int* syn_loc, W* syn_w, int* syn_d)
{
    const i64 gid = c / n_units;
    const i64* un = units + (c % n_units) * N_UI;
    const i64 k = un[UI_POP], chunk = un[UI_CHUNK];
    const int src = pop_of[gid];
    i64 n = 0;
    for (i64 jj = pop_i[k * N_PI + PI_IN_START]; jj < pop_i[k * N_PI + PI_IN_END]; ++jj) {
        const i64 j = in_proj[jj];
        const i64* pj = proj_i + j * N_JI;
        if (pj[JI_PRE_POP] != src) continue;
        n += stored_row(pj, proj_f + j * N_JF, gid - pj[JI_PRE_OFF], chunk, counts, chunk_size, key0, key1, dt, inv_dt,
                        fill, at + n, syn_loc, syn_w, syn_d);
    }
    return n;
}

extern "C" __global__ void stored_lengths(
    const i64 n_cells, const int n_units, const i64* __restrict__ units, const int* __restrict__ pop_of,
    const i64* __restrict__ pop_i, const i64* __restrict__ in_proj, const double* __restrict__ proj_f,
    const i64* __restrict__ proj_i, const u32* __restrict__ counts, const i64 chunk_size, const u32 key0,
    const u32 key1, const double dt, const double inv_dt, i64* lens)
{
    for (i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x; c < n_cells; c += (i64)gridDim.x * blockDim.x)
        lens[c] = stored_cell<i64>(c, n_units, units, pop_of, pop_i, in_proj, proj_f, proj_i, counts, chunk_size, key0,
                                   key1, dt, inv_dt, false, 0, 0, 0, 0);
}

// one body for both ring widths: its entry points stored_fill and stored_fill_r32 are generated
// (backends.gpu.source.ring_entry_points)
template <typename R>
__device__ __forceinline__ void stored_fill_body(
    const i64 n_cells, const int n_units, const i64* __restrict__ units, const int* __restrict__ pop_of,
    const i64* __restrict__ pop_i, const i64* __restrict__ in_proj, const double* __restrict__ proj_f,
    const i64* __restrict__ proj_i, const u32* __restrict__ counts, const i64 chunk_size, const u32 key0,
    const u32 key1, const double dt, const double inv_dt, const i64* __restrict__ ptr, int* syn_loc, R* syn_w,
    int* syn_d)
{
    for (i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x; c < n_cells; c += (i64)gridDim.x * blockDim.x)
        stored_cell(c, n_units, units, pop_of, pop_i, in_proj, proj_f, proj_i, counts, chunk_size, key0, key1, dt,
                    inv_dt, true, ptr[c], syn_loc, syn_w, syn_d);
}

// The plasticity code of every stored synapse (syn_q, build.long_term.syn_codes: its
// projection's, proj_code), as the CPU's stored_rows writes it: the rows of each cell in
// in_proj order, each row's length counted again (stored_row without filling).
extern "C" __global__ void stored_groups(
    const i64 n_cells, const int n_units, const i64* __restrict__ units, const int* __restrict__ pop_of,
    const i64* __restrict__ pop_i, const i64* __restrict__ in_proj, const double* __restrict__ proj_f,
    const i64* __restrict__ proj_i, const u32* __restrict__ counts, const i64 chunk_size, const u32 key0,
    const u32 key1, const double dt, const double inv_dt, const i64* __restrict__ ptr,
    const i64* __restrict__ proj_code, short* syn_q)
{
    for (i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x; c < n_cells; c += (i64)gridDim.x * blockDim.x) {
        const i64 gid = c / n_units;
        const i64* un = units + (c % n_units) * N_UI;
        const i64 k = un[UI_POP], chunk = un[UI_CHUNK];
        const int src = pop_of[gid];
        i64 at = ptr[c];
        for (i64 jj = pop_i[k * N_PI + PI_IN_START]; jj < pop_i[k * N_PI + PI_IN_END]; ++jj) {
            const i64 j = in_proj[jj];
            const i64* pj = proj_i + j * N_JI;
            if (pj[JI_PRE_POP] != src) continue;
            const i64 n = stored_row<i64>(pj, proj_f + j * N_JF, gid - pj[JI_PRE_OFF], chunk, counts, chunk_size, key0,
                                          key1, dt, inv_dt, false, 0, 0, 0, 0);
            for (i64 x = 0; x < n; ++x) syn_q[at + x] = (short)proj_code[j];
            at += n;
        }
    }
}
