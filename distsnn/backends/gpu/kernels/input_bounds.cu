// The input bound on the device (build.input_bound; the CPU's connectivity_kernels.input_bounds):
// every synapse onto the given units placed once, by its row's draw of its target (word 0,
// no weight or delay), and per neuron and receptor two integer sums: the in-degree
// (acc_d) and the weight bounds in fixed units (acc_a: wq[j] per synapse of projection j).
// Integer sums with atomics: the same numbers in any order, as the CPU's in its order; the
// driver then takes each unit's maxima (GpuSimulator.unit_bounds).
//
// Work: block b takes unit b % n_units, and share b / n_units of its rows, so `split` blocks
// share a unit; their threads stride over the presynaptic neurons of each incoming projection,
// a row (pre, chunk) each. fixed_indegree and all_to_all give every neuron of the chunk the
// same inputs (K, or every pre), added without placing them, as the CPU does.
// acc_a, acc_d: receptor r of local neuron l (units' UI_LOCAL_START numbering) at r n_local + l.
extern "C" __global__ void input_bounds(
    const int n_units, const int split, const i64* __restrict__ units, const i64* __restrict__ pop_i,
    const i64* __restrict__ in_proj, const double* __restrict__ proj_f, const i64* __restrict__ proj_i,
    const u32* __restrict__ counts, const i64* __restrict__ wq, const i64 chunk_size, const u32 key0,
    const u32 key1, const i64 n_local, u64* acc_a, u64* acc_d)
{
    for (i64 b = blockIdx.x; b < (i64)n_units * split; b += gridDim.x) {
        const i64* un = units + (b % n_units) * N_UI;
        const i64 first = (b / n_units) * blockDim.x + threadIdx.x, stride = (i64)split * blockDim.x;
        const i64 k = un[UI_POP], chunk = un[UI_CHUNK], l0 = un[UI_LOCAL_START];
        const i64 clen = un[UI_GID_END] - un[UI_GID_START];
        for (i64 jj = pop_i[k * N_PI + PI_IN_START]; jj < pop_i[k * N_PI + PI_IN_END]; ++jj) {
            const i64 j = in_proj[jj];
            const i64* pj = proj_i + j * N_JI;
            const i64 rec = pj[JI_REC], w = wq[j], rule = pj[JI_RULE];
            u64* a = acc_a + rec * n_local + l0;
            u64* d = acc_d + rec * n_local + l0;
            if (rule == RULE_FIN || rule == RULE_A2A) {   // every neuron: K inputs, or one per pre
                const i64 n = (rule == RULE_FIN) ? pj[JI_N] : pj[JI_PRE_SIZE];
                for (i64 t = first; t < clen; t += stride) {
                    atomicAdd(a + t, (u64)(n * w));
                    atomicAdd(d + t, (u64)n);
                }
                continue;
            }
            for (i64 pre = first; pre < pj[JI_PRE_SIZE]; pre += stride) {
                Row r = make_row(pj, proj_f + j * N_JF, pre, chunk, chunk_size);
                u32 words[4];
                if (rule == RULE_FTN || rule == RULE_FOUT) {   // indexed_synapse's target
                    const i64 n = open_indexed_row(r, pj, counts, key0, key1);
                    for (i64 x = 0; x < n; ++x) {
                        philox((u32)x, (u32)chunk, (u32)pre, r.tag, key0, key1, words);
                        const i64 t = below(words[0], r.clen);
                        atomicAdd(a + t, (u64)w);
                        atomicAdd(d + t, 1ull);
                    }
                } else if (rule == RULE_FP) {
                    i64 pos = -1;
                    for (i64 x = 0; fp_next(r, x, key0, key1, &pos, words); ++x) {
                        atomicAdd(a + pos, (u64)w);
                        atomicAdd(d + pos, 1ull);
                    }
                } else if (rule == RULE_O2O && pre >= chunk * chunk_size && pre < chunk * chunk_size + clen) {
                    atomicAdd(a + (pre - chunk * chunk_size), (u64)w);   // o2o_words' test, without its draw
                    atomicAdd(d + (pre - chunk * chunk_size), 1ull);
                }
            }
        }
    }
}
