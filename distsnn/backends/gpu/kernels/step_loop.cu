// The step loop: several steps in one launch. A grid whose blocks are all resident at once
// runs n_steps steps (the first of parity 0: the driver resets the state before each block
// of steps). Each step runs the bodies of the launches it replaces:
//   the neuron update (neuron_update.cu);
//   a grid barrier (delivery reads the step's spikes);
//   the recording (record_state.cu) and the delivery of the step's spikes, which ends the
//   step (deliver_procedural.cu, or deliver_stored.cu where `stored`: item_rec holds that
//   delivery's records, the other delivery's arrays are unread and the driver passes
//   stand-ins);
//   a grid barrier (the next update reads the ring slots delivery wrote, and the step slot
//   it ended).
// One launch per block of steps instead of two or three per step, with the launches'
// results: the same bodies in the same order, each reading what the one before it wrote.
// For models whose steps need only these launches (launches.loop_kernel: no spike or
// Poisson sources, AdEx neurons or synapse lists). The bodies are grid-stride loops, so they
// run on this grid whatever its size. What one body writes and another reads within the
// launch (spikes, ring, neuron state, step state) goes through plain pointers, never the
// read-only path, which may keep stale lines across a barrier.
// (RULES: the rules its procedural delivery regenerates, as deliver_procedural's variants)
template <u32 RULES, typename R>
__device__ __forceinline__ void step_loop_body(
    const int n_steps, u64* state, const int n_local, const i64* __restrict__ gids, const int* __restrict__ local_pop,
    const int* __restrict__ local_unit, const i64* __restrict__ units,
    double* v, double* i_ex, double* i_in, double* dj_ex, double* dj_in, i64* refr,
    const double* __restrict__ vth, const double* __restrict__ izp, const i64* __restrict__ nrow,
    const double* __restrict__ nf, R* ring,
    const double* __restrict__ pop_f, const i64* __restrict__ pop_i, const i64* __restrict__ pin_i,
    const double* __restrict__ pin_cdf, const double* __restrict__ dc_f, const i64* __restrict__ dc_i,
    const i64* __restrict__ dc_seg_i, const double* __restrict__ dc_seg_f, const u32* __restrict__ dc_mask,
    const double* __restrict__ noise_f, const i64* __restrict__ noise_i, const int n_noise,
    const double* __restrict__ ie_given, const u32 key0, const u32 key1, i64* spk_gid, i64* spk_step,
    int* spk_pop, const i64 spk_cap, const int n_rec, const i64* __restrict__ rec_local,
    const int* __restrict__ rec_code, double* vrec, const i64* __restrict__ item_ptr,
    const i64* __restrict__ item_rec, const int split, const double* __restrict__ proj_f,
    const u32* __restrict__ counts, const i64 chunk_size, const double dt, const double inv_dt, const int stored,
    const int n_units, const i64* __restrict__ ptr, const int* __restrict__ syn_loc, const R* __restrict__ syn_w,
    const int* __restrict__ syn_d, u64* events, const int team)
{
    for (int i = 0; i < n_steps; ++i) {
        const int p = i & 1;
        neuron_update_body(state, p, n_local, gids, local_pop, local_unit, units, v, i_ex, i_in, dj_ex, dj_in, refr,
                           vth, izp, nrow, nf, ring, pop_f, pop_i, pin_i, pin_cdf, dc_f, dc_i, dc_seg_i, dc_seg_f,
                           dc_mask, noise_f, noise_i, n_noise, ie_given, key0, key1, spk_gid, spk_step, spk_pop, spk_cap);
        grid_barrier(state);
        record_state_body(state, p, n_rec, rec_local, rec_code, v, i_ex, i_in, dj_ex, vrec);
        const u64* lo = state + SLOT(ST_BEGIN, p);
        // no plasticity here (launches.loop_kernel: models with short-term plasticity or STDP run
        // separate launches), so its arrays are never read: null, and no groups
        if (stored)   // the rules' CSR (by_row 0: row_of unread)
            deliver_stored_body<false>(lo, state + ST_END, state, p, spk_gid, spk_step, spk_pop, item_ptr, item_rec,
                                       split, n_units, 0, ptr, ptr, syn_loc, syn_w, syn_d, ring, events, team, nullptr,
                                       nullptr, 0, 0, nullptr, nullptr, nullptr, 0, nullptr, nullptr, 0, nullptr, nullptr,
                                       0);
        else
            deliver_procedural_body<RULES>(lo, state + ST_END, state, p, spk_gid, spk_step, spk_pop, item_ptr,
                                           item_rec, split, proj_f, counts, chunk_size, key0, key1, dt, inv_dt, ring,
                                           events, team, nullptr, nullptr, 0);
        grid_barrier(state);
    }
}
