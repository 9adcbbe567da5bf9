// Stored delivery: each spike of spk_*[*lo, *hi) is shared by `split` teams of
// threads; team q of a spike of population src takes units q, q + split, ... of src's list
// (delivery_items.py: the local units its projections reach, each a record of its ring block
// and slots) and walks the CSR cell (row, unit), one thread per synapse, into the unit's ring
// block (build.ring_layout; syn_loc = chunk-local target * 2 + receptor). Where rows are in
// parts (delivery_items.stored_parts), the list holds each unit once per part, and an item
// walks its part of the cell. The row of a spike is its gid (the rules' CSR, by_row 0) or
// row_of[gid] (the synapse lists' CSR, by_row 1: rows for their sources only, -1 for other
// neurons). Events are counted per team and the spike buffer is read through plain pointers,
// as in procedural delivery. Where some synapse is plastic (has_q), syn_q holds each
// synapse's short-term plasticity group (-1: static) and its weight is scaled by the spike's
// efficacy, eff[(s - *lo) * n_groups + group] (stp.cu, launched before).
// one body for both ring widths: its entry points deliver_stored and deliver_stored_r32 are generated
// (backends.gpu.source.ring_entry_points)
template <typename R>
__device__ __forceinline__ void deliver_stored_body(
    const u64* lo, const u64* hi, u64* state, const int finish, const i64* spk_gid, const i64* spk_step,
    const int* spk_pop, const i64* __restrict__ item_ptr, const i64* __restrict__ item_rec, const int split,
    const int n_units, const int by_row, const i64* __restrict__ row_of,
    const i64* __restrict__ ptr, const int* __restrict__ syn_loc, const R* __restrict__ syn_w,
    const int* __restrict__ syn_d, R* ring, u64* events, const int team, const short* __restrict__ syn_q,
    const double* __restrict__ eff, const int n_groups, const int has_q)
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
        const int src = spk_pop[s];
        const i64 row = by_row ? row_of[gid] : gid;
        if (row < 0) continue;   // no list synapses from this neuron
        // the spike's efficacies, one per group; null where no synapse is plastic (one
        // pointer held through the loops: 56 registers, as without it; the flag read in the
        // loop took 62, ptxas sm_90)
        const double* e = has_q ? eff + (s - begin) * n_groups : nullptr;
        for (i64 o = item_ptr[src] + p % split; o < item_ptr[src + 1]; o += split) {
            // the item's record (delivery_items.stored_records): the unit, its ring block and slots
            const Cell cl = load_cell(item_rec + o * N_CR);
            const i64 cell = row * n_units + cl.unit, n_u = cl.n_u, lex = cl.lex, lin = cl.lin;
            const i64 s_ex = step % lex, s_in = step % lin;
            const i64 first = ptr[cell], end = ptr[cell + 1];
            // part p of a row in parts (delivery_items.stored_parts): synapses p * team + lane, by
            // steps of parts * team; part 0 counts the row's events
            for (i64 x = first + cl.part * team + lane; x < end; x += (i64)cl.parts * team) {
                const int loc = syn_loc[x];
                const i64 slot = (loc & 1) ? lex + wrap_slot(s_in, syn_d[x], lin) : wrap_slot(s_ex, syn_d[x], lex);
                i64 w = syn_w[x];
                if (e != nullptr) {
                    const int q = syn_q[x];
                    if (q >= 0) w = (i64)rint((double)w * e[q]);   // as stp_scaled
                }
                ring_add(ring, cl.base + slot * n_u + (loc >> 1), w);
            }
            if (cl.part == 0) ev += (u64)(end - first);
        }
    }
    if (lane == 0 && ev) events[my_team] += ev;   // the team's own entry (see deliver_procedural.cu)
}
