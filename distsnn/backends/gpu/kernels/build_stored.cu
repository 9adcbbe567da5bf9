// Stored connectivity built on the device, in the layout of the CPU engine's CSR: cells
// (source gid, local unit), rows of the unit's incoming projections in in_proj order,
// syn_loc = chunk-local target * 2 + receptor, weights fixed point, delays in steps.
// stored_lengths counts each cell's synapses, the driver scans them into row pointers, and
// stored_fill writes the rows. One thread per cell; rows come from the same counters and
// arithmetic as procedural delivery (connectivity_kernels.gen_row on the CPU).

// Length of row (pre, chunk) of projection j; with fill, also write it from position `at`.
__device__ i64 stored_row(const i64* pj, const double* jf, const i64 pre, const i64 chunk, const u32* counts,
                          const i64 chunk_size, const u32 key0, const u32 key1, const double dt, const bool fill,
                          const i64 at, int* syn_loc, i64* syn_w, int* syn_d)
{
    const u32 tag = (u32)pj[JI_TAG];
    const i64 c0 = chunk * chunk_size;
    const i64 clen = min(chunk_size, pj[JI_POST_SIZE] - c0);
    const i64 rule = pj[JI_RULE];
    const int rec = (int)pj[JI_REC];
    u32 w[4];
    i64 w_int, d;
    if (rule == RULE_FTN || rule == RULE_FOUT || rule == RULE_A2A) {
        const i64 n = (rule == RULE_A2A) ? clen : (i64)counts[pj[JI_COUNT_OFF] + pre * pj[JI_NCHUNK] + chunk];
        if (fill) {
            for (i64 x = 0; x < n; ++x) {
                philox((u32)x, (u32)chunk, (u32)pre, tag, key0, key1, w);
                const i64 tgt = (rule == RULE_A2A) ? x : below(w[0], clen);
                synapse(w[1], w[2], jf, dt, &w_int, &d);
                syn_loc[at + x] = (int)(tgt * 2 + rec);
                syn_w[at + x] = w_int;
                syn_d[at + x] = (int)d;
            }
        }
        return n;
    }
    if (rule == RULE_O2O) {
        if (!(c0 <= pre && pre < c0 + clen)) return 0;
        if (fill) {
            philox(0u, (u32)chunk, (u32)pre, tag, key0, key1, w);
            synapse(w[1], w[2], jf, dt, &w_int, &d);
            syn_loc[at] = (int)((pre - c0) * 2 + rec);
            syn_w[at] = w_int;
            syn_d[at] = (int)d;
        }
        return 1;
    }
    if (rule != RULE_FP || !(jf[JF_P] > 0.0)) return 0;
    i64 pos = -1, x = 0;
    while (true) {
        philox((u32)x, (u32)chunk, (u32)pre, tag, key0, key1, w);
        const double skip = floor(plog(u01(w[0])) * jf[JF_R]);
        if ((double)pos + 1.0 + skip >= (double)clen) break;
        pos = pos + 1 + (i64)skip;
        if (fill) {
            synapse(w[1], w[2], jf, dt, &w_int, &d);
            syn_loc[at + x] = (int)(pos * 2 + rec);
            syn_w[at + x] = w_int;
            syn_d[at + x] = (int)d;
        }
        ++x;
    }
    return x;
}

// Every row of cell c = gid * n_units + u, in in_proj order; returns the cell's length.
__device__ i64 stored_cell(const i64 c, const int n_units, const i64* units, const int* pop_of, const i64* pop_i,
                           const i64* in_proj, const double* proj_f, const i64* proj_i, const u32* counts,
                           const i64 chunk_size, const u32 key0, const u32 key1, const double dt, const bool fill,
                           const i64 at, int* syn_loc, i64* syn_w, int* syn_d)
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
        n += stored_row(pj, proj_f + j * N_JF, gid - pj[JI_PRE_OFF], chunk, counts, chunk_size, key0, key1, dt,
                        fill, at + n, syn_loc, syn_w, syn_d);
    }
    return n;
}

extern "C" __global__ void stored_lengths(
    const i64 n_cells, const int n_units, const i64* __restrict__ units, const int* __restrict__ pop_of,
    const i64* __restrict__ pop_i, const i64* __restrict__ in_proj, const double* __restrict__ proj_f,
    const i64* __restrict__ proj_i, const u32* __restrict__ counts, const i64 chunk_size, const u32 key0,
    const u32 key1, const double dt, i64* lens)
{
    for (i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x; c < n_cells; c += (i64)gridDim.x * blockDim.x)
        lens[c] = stored_cell(c, n_units, units, pop_of, pop_i, in_proj, proj_f, proj_i, counts, chunk_size, key0,
                              key1, dt, false, 0, 0, 0, 0);
}

extern "C" __global__ void stored_fill(
    const i64 n_cells, const int n_units, const i64* __restrict__ units, const int* __restrict__ pop_of,
    const i64* __restrict__ pop_i, const i64* __restrict__ in_proj, const double* __restrict__ proj_f,
    const i64* __restrict__ proj_i, const u32* __restrict__ counts, const i64 chunk_size, const u32 key0,
    const u32 key1, const double dt, const i64* __restrict__ ptr, int* syn_loc, i64* syn_w, int* syn_d)
{
    for (i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x; c < n_cells; c += (i64)gridDim.x * blockDim.x)
        stored_cell(c, n_units, units, pop_of, pop_i, in_proj, proj_f, proj_i, counts, chunk_size, key0, key1, dt,
                    true, ptr[c], syn_loc, syn_w, syn_d);
}
