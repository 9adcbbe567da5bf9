// Procedural delivery. The spikes to deliver are spk_*[bounds[0], bounds[1]) (bounds on the
// device: the current step's own spikes, or the received spikes after an exchange), so the
// launch needs no host synchronisation. Teams of threads stride over (spike, local unit)
// pairs; a team regenerates the rows of its spike that land on its unit, parallel over the
// synapses of a row (a spike with thousands of targets does not serialise). The rows come
// from the rule functions of common.cuh; fixed_probability and one_to_one rows run on one
// thread.
template <typename R>
__device__ __forceinline__ void deliver_procedural_body(
    const u64* __restrict__ bounds, const i64* __restrict__ spk_gid, const i64* __restrict__ spk_step,
    const int n_units, const i64* __restrict__ units, const int* __restrict__ pop_of,
    const i64* __restrict__ pop_i, const i64* __restrict__ in_proj, const double* __restrict__ proj_f,
    const i64* __restrict__ proj_i, const u32* __restrict__ counts, const i64 chunk_size, const u32 key0,
    const u32 key1, const double dt, R* ring, u64* events, const int team)
{
    const i64 begin = (i64)bounds[0];
    const i64 n_pairs = ((i64)bounds[1] - begin) * n_units;
    // teams of `team` threads (a divisor of blockDim.x, e.g. a warp) each take one pair
    const int lane = threadIdx.x % team;
    const i64 teams = blockDim.x / team;
    for (i64 p = (i64)blockIdx.x * teams + threadIdx.x / team; p < n_pairs; p += (i64)gridDim.x * teams) {
        const i64 s = begin + p / n_units;
        const i64* un = units + (p % n_units) * N_UI;
        const i64 gid = spk_gid[s], step = spk_step[s];
        const int src = pop_of[gid];
        const i64 k = un[UI_POP], chunk = un[UI_CHUNK];
        const i64 n_u = un[UI_GID_END] - un[UI_GID_START], lex = pop_i[k * N_PI + PI_RING_EX];
        for (i64 jj = pop_i[k * N_PI + PI_IN_START]; jj < pop_i[k * N_PI + PI_IN_END]; ++jj) {
            const i64 j = in_proj[jj];
            const i64* pj = proj_i + j * N_JI;
            if (pj[JI_PRE_POP] != src) continue;
            const Row r = make_row(pj, proj_f + j * N_JF, gid - pj[JI_PRE_OFF], chunk, chunk_size);
            // the receptor's ring in the unit's block (build.ring_layout): slot 0, slots
            const i64 base = un[UI_RING_OFF] + pj[JI_REC] * lex * n_u;
            const i64 slots = pj[JI_REC] ? pop_i[k * N_PI + PI_RING_IN] : lex, slot0 = step % slots;
            u32 w[4];
            i64 tgt, w_int, d;
            if (indexed_rule(r)) {
                const i64 n = indexed_row_length(r, pj, counts);
                for (i64 x = lane; x < n; x += team) {
                    indexed_synapse(r, x, key0, key1, dt, &tgt, &w_int, &d);
                    ring_add(ring, base + wrap_slot(slot0, d, slots) * n_u + tgt, w_int);
                }
                if (lane == 0) atomicAdd(events, (u64)n);
            } else if (lane == 0) {
                i64 n = 0;
                if (r.rule == RULE_O2O) {
                    if (o2o_words(r, chunk_size, key0, key1, w)) {
                        synapse(w[1], w[2], r.jf, dt, &w_int, &d);
                        ring_add(ring, base + wrap_slot(slot0, d, slots) * n_u
                                           + (r.pre - r.chunk * chunk_size), w_int);
                        n = 1;
                    }
                } else if (r.rule == RULE_FP) {
                    i64 pos = -1;
                    while (fp_next(r, n, key0, key1, &pos, w)) {
                        synapse(w[1], w[2], r.jf, dt, &w_int, &d);
                        ring_add(ring, base + wrap_slot(slot0, d, slots) * n_u + pos, w_int);
                        ++n;
                    }
                }
                if (n) atomicAdd(events, (u64)n);
            }
        }
    }
}

// entry points: int64 and int32 ring buffers
extern "C" __global__ void deliver_procedural(
    const u64* __restrict__ bounds, const i64* __restrict__ spk_gid, const i64* __restrict__ spk_step,
    const int n_units, const i64* __restrict__ units, const int* __restrict__ pop_of,
    const i64* __restrict__ pop_i, const i64* __restrict__ in_proj, const double* __restrict__ proj_f,
    const i64* __restrict__ proj_i, const u32* __restrict__ counts, const i64 chunk_size, const u32 key0,
    const u32 key1, const double dt, i64* ring, u64* events, const int team)
{
    deliver_procedural_body(bounds, spk_gid, spk_step, n_units, units, pop_of, pop_i, in_proj, proj_f, proj_i,
                            counts, chunk_size, key0, key1, dt, ring, events, team);
}

extern "C" __global__ void deliver_procedural_r32(
    const u64* __restrict__ bounds, const i64* __restrict__ spk_gid, const i64* __restrict__ spk_step,
    const int n_units, const i64* __restrict__ units, const int* __restrict__ pop_of,
    const i64* __restrict__ pop_i, const i64* __restrict__ in_proj, const double* __restrict__ proj_f,
    const i64* __restrict__ proj_i, const u32* __restrict__ counts, const i64 chunk_size, const u32 key0,
    const u32 key1, const double dt, int* ring, u64* events, const int team)
{
    deliver_procedural_body(bounds, spk_gid, spk_step, n_units, units, pop_of, pop_i, in_proj, proj_f, proj_i,
                            counts, chunk_size, key0, key1, dt, ring, events, team);
}

