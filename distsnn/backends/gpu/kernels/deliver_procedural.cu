// Procedural delivery. The spikes to deliver are spk_*[*lo, *hi) (bounds on the device: the
// current step's own spikes, or the received spikes after an exchange), so the launch needs
// no host synchronisation. Each spike is shared by `split` teams of threads; team q of a
// spike of population src takes items q, q + split, ... of src's list (delivery_items.py:
// the (local unit, projection) pairs its spikes reach, each a record of what its row needs)
// and regenerates each item's row, parallel over the synapses of the row: a spike with
// thousands of targets does not serialise, and no team looks at units or projections the
// spike never reaches. An item may be one part of a row cut into parts (delivery_items.
// row_parts): it then takes every parts-th round of the row's synapses. The rows come from
// the rule functions of common.cuh; a fixed_probability row runs on the team's first warp
// (fp_row_team; on one lane where teams are not whole warps), a one_to_one row on one
// thread. Each team counts its synaptic events
// in a register and adds them to its own entry of `events` at the end (one entry per team of
// the grid, summed by the driver): no atomic on one shared counter per row. The spike buffer
// is read through plain pointers, not the read-only path: the step loop (step_loop.cu) writes
// it in the same launch.

// Row (pre, chunk) of a fixed_probability projection on `width` lanes: a whole warp (32), or
// one lane (1); `l` is this lane's place among them, and all of them call. Returns the row's
// synapses. Synapse n sits at pos_n = pos_(n-1) + 1 + skip_n (pos_(-1) = -1), skip_n from
// draw n alone, and the row ends at the first position reaching the chunk length (fp_next,
// one draw after another). Here the lanes take draws k0 + l together, add 1 + skip up by an
// inclusive scan over the warp, and deliver the draws whose positions fall inside the chunk:
// those are a prefix of the lanes (positions grow with l), so the row ends within the block
// whose last position reaches the chunk. e: the spike's efficacy (short-term plasticity; -1
// for a static projection). A skip is clipped at the chunk length, which ends
// the row just the same and keeps the sums in range (the CPU's fp_block does likewise); a
// draw past the chunk length is never needed, as a row has at most clen synapses.
// The width is a constant: the shuffles' width and mask fold into the code, which keeps
// delivery and the step loop within their 96 registers without spilling (test_gpu_kernels;
// a width given at run time, or one instance per power of two, spilled).
template <u32 RULES, int width, typename R>
__device__ __forceinline__ u64 fp_row_team(const Row& r, const int l, const u32 key0,
                                           const u32 key1, const double dt, const double inv_dt, R* ring,
                                           const i64 base, const i64 slot0, const i64 slots, const i64 n_u,
                                           const double e) {
    if (!(r.jf[JF_P] > 0.0)) return 0;
    static_assert(width == 32 || width == 1, "a whole warp or one lane");
    const u32 mask = width == 32 ? 0xFFFFFFFFu : 1u << (threadIdx.x % 32);
    // 32-bit draws and positions: a chunk has fewer than 2**32 neurons (network validation)
    const u32 clen = (u32)r.clen;
    u64 next = 0;                                // the position after the row's last synapse so far
    u64 n = 0;
    for (u32 k0 = 0; k0 < clen; k0 += (u32)width) {
        const u32 k = k0 + (u32)l;
        u32 w[4];
        u64 acc = (u64)clen + 1;                 // no draw k >= clen: a step past the end
        if (k < clen) {
            philox(k, (u32)r.chunk, (u32)r.pre, r.tag, key0, key1, w);
            const double skip = floor(plog(u01(w[0])) * r.jf[JF_R]);
            acc = 1 + (skip < (double)clen ? (u64)skip : (u64)clen);
        }
        for (int d = 1; d < width; d <<= 1) {    // inclusive scan of 1 + skip over the lanes
            const u64 below_l = __shfl_up_sync(mask, acc, d, width);
            if (l >= d) acc += below_l;
        }
        const u64 at = next + acc - 1;           // this draw's position
        const bool in_row = at < (u64)clen;
        if (in_row) {
            i64 w_int, d;
            synapse<RULES>(w[1], w[2], w[3], Counter{k, (u32)r.chunk, (u32)r.pre, r.tag}, key0, key1, r.jf, dt, inv_dt,
                           &w_int, &d);
            ring_add(ring, base + wrap_slot(slot0, d, slots) * n_u + (i64)at, stp_scaled<RULES>(w_int, e));
        }
        n += (u64)__popc(__ballot_sync(mask, in_row));
        next = __shfl_sync(mask, at, width - 1, width) + 1;
        if (next > (u64)clen) break;             // the last lane's draw ended the row
    }
    return n;
}

// one body for both ring widths and the rule variants (RULES: the rules this variant
// regenerates, has_rule): its entry points deliver_procedural, deliver_procedural_r32,
// deliver_procedural_no_indegree, ... are generated (backends.gpu.source.ring_entry_points).
// The variant "_stp" (has_stp) scales a plastic projection's weights (proj_stp[j]: its
// group, -1 for static ones) by the spike's efficacy, eff[(s - *lo) * n_groups + group]
// (stp.cu, launched before); the other variants never read proj_stp and eff.
template <u32 RULES, typename R>
__device__ __forceinline__ void deliver_procedural_body(
    const u64* lo, const u64* hi, u64* state, const int finish, const i64* spk_gid, const i64* spk_step,
    const int* spk_pop, const i64* __restrict__ item_ptr, const i64* __restrict__ item_rec, const int split,
    const double* __restrict__ proj_f, const u32* __restrict__ counts,
    const i64 chunk_size, const u32 key0, const u32 key1, const double dt, const double inv_dt, R* ring, u64* events,
    const int team, const i64* __restrict__ proj_stp, const double* __restrict__ eff, const int n_groups)
{
    // the step's own spikes: this launch ends the step too (finish: its parity; -1 for others)
    if (finish >= 0 && blockIdx.x == 0 && threadIdx.x == 0) finish_step(state, finish);
    const i64 begin = (i64)*lo;
    const i64 n_work = ((i64)*hi - begin) * split;
    // teams of `team` threads (a divisor of blockDim.x, e.g. a warp)
    const int lane = threadIdx.x % team;
    // 32-bit team numbers (a grid has fewer than 2**31 threads): registers are scarce here
    const u32 teams = blockDim.x / team, my_team = blockIdx.x * teams + threadIdx.x / team;
    u64 ev = 0;
    for (i64 p = my_team; p < n_work; p += gridDim.x * teams) {
        const i64 s = begin + p / split;
        const i64 gid = spk_gid[s], step = spk_step[s];
        const int src = spk_pop[s];
        const int o_end = (int)item_ptr[src + 1];
        for (int o = (int)item_ptr[src] + (int)(p % split); o < o_end; o += split) {
            // the item's record (delivery_items.procedural_records): its ring block (the
            // receptor's, in the unit's block: build.ring_layout), slots, row and count
            const Item it = load_item(item_rec + (i64)o * N_IR);
            double e = -1.0;   // the spike's efficacy in the projection's group; -1: static
            if (has_stp<RULES>()) {
                const int q = (int)proj_stp[it.proj];
                if (q >= 0) e = eff[(s - begin) * n_groups + q];
            }
            Row r = item_row(it, proj_f, gid);
            const i64 base = it.base, slots = it.slots, n_u = it.n_u, slot0 = step % slots;
            u32 w[4];
            i64 tgt, w_int, d;
            if (indexed_rule<RULES>(r)) {
                const i64 n = open_row_at<RULES>(r, it.count + gid * it.cols, it.cols, it.k_in, it.wide, counts, key0,
                                                 key1);
                if (it.part == 0) ev += (u64)n;   // a row's events, once
                // part p of a row in parts (delivery_items.row_parts): synapses p * team + lane, by
                // parts * team; 32-bit (a row has fewer than 2**32 synapses: model validation), as
                // registers are scarce here
                const u32 stride = (u32)it.parts * (u32)team, n32 = (u32)n;
                for (u32 x = (u32)it.part * (u32)team + (u32)lane; x < n32; x += stride) {
                    indexed_synapse<RULES>(r, (i64)x, key0, key1, dt, inv_dt, &tgt, &w_int, &d);
                    ring_add(ring, base + wrap_slot(slot0, d, slots) * n_u + tgt, stp_scaled<RULES>(w_int, e));
                }
            } else if (has_rule<RULES>(r, RULE_FP)) {
                // a whole warp where teams are whole warps (the default), else one lane
                if (team % 32 == 0 && lane < 32)
                    ev += fp_row_team<RULES, 32>(r, lane, key0, key1, dt, inv_dt, ring, base, slot0, slots, n_u, e);
                else if (team % 32 != 0 && lane == 0)
                    ev += fp_row_team<RULES, 1>(r, 0, key0, key1, dt, inv_dt, ring, base, slot0, slots, n_u, e);
            } else if (has_rule<RULES>(r, RULE_O2O) && lane == 0) {
                if (o2o_words(r, chunk_size, key0, key1, w)) {
                    synapse<RULES>(w[1], w[2], w[3], Counter{0u, (u32)r.chunk, (u32)r.pre, r.tag}, key0, key1, r.jf, dt,
                                   inv_dt, &w_int, &d);
                    ring_add(ring, base + wrap_slot(slot0, d, slots) * n_u + (r.pre - r.chunk * chunk_size),
                             stp_scaled<RULES>(w_int, e));
                    ev += 1;
                }
            }
        }
    }
    // the team's own entry: teams of one launch write distinct entries, launches are ordered
    if (lane == 0 && ev) events[my_team] += ev;
}
