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
// synapse's code (build.long_term.syn_codes): -1 static; a short-term plasticity group q >= 0,
// whose weight is scaled by the spike's efficacy, eff[(s - *lo) * n_groups + q] (stp.cu,
// launched before); or an STDP group, whose weight syn_wf[x] is updated (stdp_synapse) from the
// spike's presynaptic state, pre (stdp.cu's stdp_pre_state, launched before), and its target's
// history. A synapse is one thread's, and the spikes of one launch are of distinct neurons (the
// driver launches received spikes step by step), so no two threads update one weight.
// STDP synapse x of group p (its weight syn_wf[x]) for a spike emitted at `step` (pre: the
// spike's presynaptic states, a pair per group) onto chunk-local target loc >> 1 of the unit
// whose row of the units table is `un`: its new weight, kept, and the fixed-point weight it sends
// (floor(w * 2**k + 1/2), the build's rounding; delivery_kernels.stdp_synapse). A call, as
// stdp_weight is: the static synapses' loop keeps its registers.
__device__ __noinline__ i64 stdp_synapse(double* syn_wf, const i64 x, const i64 p, const double* pre, const i64 step,
                                         const int loc, const int d, const i64* un, const double* stdp_f,
                                         const double* hist, const i64* hist_hn, const i64 cap, const double* scales,
                                         const i64 tics) {
    const i64 i = un[UI_LOCAL_START] + (loc >> 1);
    const double w = stdp_weight(syn_wf[x], stdp_f + p * N_LF, pre[2 * p], pre[2 * p + 1], stdp_ms(step + 1, tics),
                                 (double)d * ((double)tics / 1000.0), hist + i * cap * 2, hist_hn[2 * i],
                                 hist_hn[2 * i + 1], cap);
    syn_wf[x] = w;
    return (i64)floor(w * scales[un[UI_POP] * 2 + (loc & 1)] + 0.5);
}

// one body for both ring widths and with or without STDP: its entry points deliver_stored,
// deliver_stored_r32, deliver_stored_stdp and deliver_stored_stdp_r32 are generated
// (backends.gpu.source.ring_entry_points)
template <bool STDP, typename R>
__device__ __forceinline__ void deliver_stored_body(
    const u64* lo, const u64* hi, u64* state, const int finish, const i64* spk_gid, const i64* spk_step,
    const int* spk_pop, const i64* __restrict__ item_ptr, const i64* __restrict__ item_rec, const int split,
    const int n_units, const int by_row, const i64* __restrict__ row_of,
    const i64* __restrict__ ptr, const int* __restrict__ syn_loc, const R* __restrict__ syn_w,
    const int* __restrict__ syn_d, R* ring, u64* events, const int team, const short* __restrict__ syn_q,
    const double* __restrict__ eff, const int n_groups, const int has_q, double* syn_wf,
    const double* __restrict__ pre, const double* __restrict__ stdp_f, const int n_stdp,
    const double* __restrict__ hist, const i64* __restrict__ hist_hn, const i64 hist_cap,
    const double* __restrict__ scales, const i64* __restrict__ units, const i64 tics)
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
                    else if (STDP && q <= STDP_CODE0)
                        w = stdp_synapse(syn_wf, x, STDP_CODE0 - q, pre + (s - begin) * n_stdp * 2, step, loc,
                                         syn_d[x], units + cl.unit * N_UI, stdp_f, hist, hist_hn, hist_cap, scales,
                                         tics);
                }
                ring_add(ring, cl.base + slot * n_u + (loc >> 1), w);
            }
            if (cl.part == 0) ev += (u64)(end - first);
        }
    }
    if (lane == 0 && ev) events[my_team] += ev;   // the team's own entry (see deliver_procedural.cu)
}
