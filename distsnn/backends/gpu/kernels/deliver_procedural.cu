// Procedural delivery. The spikes to deliver are spk_*[*lo, *hi) (bounds on the device: the
// current step's own spikes, or the received spikes after an exchange), so the launch needs
// no host synchronisation. Each spike is shared by `split` teams of threads;
// team q of a spike of population src takes items q, q + split, ... of src's list
// (delivery_items.py: the (local unit, projection) pairs its spikes reach) and regenerates
// each item's row, parallel over the synapses of the row: a spike with thousands of targets
// does not serialise, and no team looks at units or projections the spike never reaches.
// The rows come from the rule functions of common.cuh; fixed_probability and one_to_one
// rows run on one thread. Each team counts its synaptic events in a register and adds them
// to its own entry of `events` at the end (one entry per team of the grid, summed by the
// driver): no atomic on one shared counter per row. The spike buffer is read through plain
// pointers, not the read-only path: the step loop (step_loop.cu) writes it in the same launch.
// one body for both ring widths: its entry points deliver_procedural and deliver_procedural_r32 are generated
// (backends.gpu.source.ring_entry_points)
template <typename R>
__device__ __forceinline__ void deliver_procedural_body(
    const u64* lo, const u64* hi, u64* state, const int finish, const i64* spk_gid, const i64* spk_step,
    const i64* __restrict__ item_ptr, const int* __restrict__ item_unit, const int* __restrict__ item_proj,
    const int split, const i64* __restrict__ units, const int* __restrict__ pop_of,
    const i64* __restrict__ pop_i, const double* __restrict__ proj_f,
    const i64* __restrict__ proj_i, const u32* __restrict__ counts, const i64 chunk_size, const u32 key0,
    const u32 key1, const double dt, R* ring, u64* events, const int team)
{
    // the step's own spikes: this launch ends the step too (finish: its parity; -1 for others)
    if (finish >= 0 && blockIdx.x == 0 && threadIdx.x == 0) finish_step(state, finish);
    const i64 begin = (i64)*lo;
    const i64 n_work = ((i64)*hi - begin) * split;
    // teams of `team` threads (a divisor of blockDim.x, e.g. a warp)
    const int lane = threadIdx.x % team;
    const i64 teams = blockDim.x / team, my_team = (i64)blockIdx.x * teams + threadIdx.x / team;
    u64 ev = 0;
    for (i64 p = my_team; p < n_work; p += (i64)gridDim.x * teams) {
        const i64 s = begin + p / split;
        const i64 gid = spk_gid[s], step = spk_step[s];
        const int src = pop_of[gid];
        for (i64 o = item_ptr[src] + p % split; o < item_ptr[src + 1]; o += split) {
            const i64* un = units + (i64)item_unit[o] * N_UI;
            const i64 j = item_proj[o];
            const i64* pj = proj_i + j * N_JI;
            const i64 k = un[UI_POP], chunk = un[UI_CHUNK];
            const i64 n_u = un[UI_GID_END] - un[UI_GID_START], lex = pop_i[k * N_PI + PI_RING_EX];
            Row r = make_row(pj, proj_f + j * N_JF, gid - pj[JI_PRE_OFF], chunk, chunk_size);
            // the receptor's ring in the unit's block (build.ring_layout): slot 0, slots
            const i64 base = un[UI_RING_OFF] + pj[JI_REC] * lex * n_u;
            const i64 slots = pj[JI_REC] ? pop_i[k * N_PI + PI_RING_IN] : lex, slot0 = step % slots;
            u32 w[4];
            i64 tgt, w_int, d;
            if (indexed_rule(r)) {
                const i64 n = open_indexed_row(r, pj, counts, key0, key1);
                for (i64 x = lane; x < n; x += team) {
                    indexed_synapse(r, x, key0, key1, dt, &tgt, &w_int, &d);
                    ring_add(ring, base + wrap_slot(slot0, d, slots) * n_u + tgt, w_int);
                }
                ev += (u64)n;
            } else if (lane == 0) {
                if (r.rule == RULE_O2O) {
                    if (o2o_words(r, chunk_size, key0, key1, w)) {
                        synapse(w[1], w[2], r.jf, dt, &w_int, &d);
                        ring_add(ring, base + wrap_slot(slot0, d, slots) * n_u
                                           + (r.pre - r.chunk * chunk_size), w_int);
                        ev += 1;
                    }
                } else if (r.rule == RULE_FP) {
                    i64 pos = -1, n = 0;
                    while (fp_next(r, n, key0, key1, &pos, w)) {
                        synapse(w[1], w[2], r.jf, dt, &w_int, &d);
                        ring_add(ring, base + wrap_slot(slot0, d, slots) * n_u + pos, w_int);
                        ++n;
                    }
                    ev += (u64)n;
                }
            }
        }
    }
    // the team's own entry: teams of one launch write distinct entries, launches are ordered
    if (lane == 0 && ev) events[my_team] += ev;
}
