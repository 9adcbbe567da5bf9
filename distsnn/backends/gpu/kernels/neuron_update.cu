// One thread per local neuron, all populations in one launch (parameter tables indexed by
// population), but the AdEx models' (kernel neuron_update_aeif: its solver would raise this
// kernel's registers for all). The same step as the numba kernel: read and clear the input
// slot and add this step's Poisson counts (neuron_input, common.cuh), integrate
// (iaf_psc_exp exactly, iaf_cond_exp by the mid-step exponential scheme, iaf_psc_delta with
// the input added to V, iaf_psc_alpha exactly with the currents' derivatives dj, iaf_cond_alpha
// by the mid-step scheme with the conductances' derivatives in dj, izhikevich by forward Euler),
// threshold, reset.
// Spikes are appended (gid, step) to the block's spike buffer with an atomic counter; their
// order is irrelevant downstream (integer input sums) and the driver sorts them. The step t
// is read from the device-resident state, so the launch is the same at every step.
// V (relative to E_L) after one step of a conductance-based neuron: relaxation towards V_inf
// with the conductances at their exact mid-step values, from g and (alpha shapes) dg; the same
// operations as the CPU kernel's cond_step, so both engines give the same bits
__device__ __forceinline__ double cond_step(double vm, double g_ex, double g_in, double dg_ex, double dg_in,
                                            const double* pf, double i_stim)
{
    const double half = 0.5 * pf[PF_DT];
    const double gex = (g_ex + dg_ex * half) * pf[PF_PHEX];
    const double gin = (g_in + dg_in * half) * pf[PF_PHIN];
    const double g_tot = pf[PF_GL] + gex + gin;
    const double vinf = (gex * pf[PF_EEX] + gin * pf[PF_EIN] + i_stim) / g_tot;
    return vinf + (vm - vinf) * pexp((-pf[PF_DT] * g_tot) / pf[PF_CM]);
}

// one body for both ring widths: its entry points neuron_update and neuron_update_r32 are generated
// (backends.gpu.source.ring_entry_points)
template <typename R>
__device__ __forceinline__ void neuron_update_body(
    u64* state, const int p, const int n_local, const i64* __restrict__ gids, const int* __restrict__ local_pop,
    const int* __restrict__ local_unit, const i64* __restrict__ units,
    double* v, double* i_ex, double* i_in, double* dj_ex, double* dj_in, i64* refr,
    const double* __restrict__ vth, const double* __restrict__ izp, const i64* __restrict__ nrow,
    const double* __restrict__ nf, R* ring,
    const double* __restrict__ pop_f, const i64* __restrict__ pop_i, const i64* __restrict__ pin_i,
    const double* __restrict__ pin_cdf, const double* __restrict__ dc_f, const i64* __restrict__ dc_i,
    const i64* __restrict__ dc_seg_i, const double* __restrict__ dc_seg_f, const u32* __restrict__ dc_mask,
    const double* __restrict__ noise_f, const i64* __restrict__ noise_i, const int n_noise,
    const double* __restrict__ ie_given, const u32 key0, const u32 key1, i64* spk_gid, i64* spk_step,
    int* spk_pop, const i64 spk_cap)
{
    // a grid-stride loop: one pass where the grid covers the neurons (this kernel's own
    // launches), several in the step loop's fixed grid (step_loop.cu)
    for (int li = blockIdx.x * blockDim.x + threadIdx.x; li < n_local; li += gridDim.x * blockDim.x) {
        // latency, not bandwidth, bounds this kernel: what depends on nothing but li and the
        // step is loaded at once (ld_now, common.cuh), then the population's and unit's rows.
        // ptxas still sinks a load below a branch its value is not needed for, so the two
        // branches that leave early also test values that decide nothing (t >= 0; the
        // population and unit >= 0: else they came after the step's test; ring lengths >= 1:
        // this kernel divides by them; ranges that do not end before they start), without
        // short circuits, to keep those loads before them
        const bool live = ld_now(state + SLOT(ST_LIVE, p)) != 0;
        const i64 t = (i64)ld_now(state + SLOT(ST_T, p));
        const i64 g = ld_now_ro(gids + li);
        const int k = ld_now_ro(local_pop + li), unit = ld_now_ro(local_unit + li);
        const double v0 = ld_now(v + li), iex0 = ld_now(i_ex + li), iin0 = ld_now(i_in + li);
        const double th = ld_now_ro(vth + li);
        const i64 refr0 = ld_now(refr + li);
        if (!live | (t < 0) | ((k | unit) < 0)) return;   // the same for every neuron of the step
        const i64* pi = pop_i + (i64)k * N_PI;
        const i64 own_row = ld_now_ro(pi + PI_ROWS), source = ld_now_ro(pi + PI_SOURCE);
        const i64 model = ld_now_ro(pi + PI_MODEL);
        const InputRows rows = input_rows(li, unit, pi, units);
        // the population's constants, or the neuron's own row (parameters per neuron: build.param_rows)
        const double* pf = own_row ? nf + nrow[li] * N_PF : pop_f + (i64)k * N_PF;
        if (source || model == MODEL_AEIF || model == MODEL_AEIF_PSC || model == MODEL_AEIF_DELTA || rows.lex < 1
            || rows.lin < 1 || rows.q1 < rows.q0 || rows.d1 < rows.d0)
            continue;                            // kernels spike_sources, poisson_sources, neuron_update_aeif
        i64 in_ex, in_in;
        double i_stim;
        neuron_input(t, li, g, k, pf, rows, ring, pin_i, pin_cdf, dc_f, dc_i, dc_seg_i, dc_seg_f, dc_mask, noise_f,
                     noise_i, n_noise, ie_given, key0, key1, &in_ex, &in_in, &i_stim);
        const double x_ex = (double)in_ex * pf[PF_INVSC_EX], x_in = (double)in_in * pf[PF_INVSC_IN];
        const bool delta = model == MODEL_DELTA;
        const bool refractory = refr0 != 0;              // V stays, the count goes down (delta input is lost)
        if (refractory) refr[li] = refr0 - 1;
        double vm = v0;
        const bool izh = model == MODEL_IZH;
        if (izh) {                                       // NEST's order (the CPU's integrate_izhikevich)
            const double h = pf[PF_DT], um = iex0;       // u lives in i_ex; V is absolute; never refractory
            // a, b of this neuron (izp: a, b, c, d per neuron, build.neuron_values.izhikevich_parameters)
            const double ha = h * izp[(i64)li * 4], b = izp[(i64)li * 4 + 1];
            const double x = x_ex + x_in;
            double v_new;
            if (pf[PF_IZ_PUBLISHED] != 0.0) {            // Izhikevich's published scheme: two half steps
                const double h2 = h * 0.5;
                const double v_half = vm + h2 * (0.04 * vm * vm + 5.0 * vm + 140.0 - um + i_stim + x);
                v_new = v_half + h2 * (0.04 * v_half * v_half + 5.0 * v_half + 140.0 - um + i_stim + x);
                i_ex[li] = um + ha * (b * v_new - um);
            } else {                                     // forward Euler (consistent_integration)
                v_new = vm + (h * (0.04 * vm * vm + 5.0 * vm + 140.0 - um + i_stim) + x);
                i_ex[li] = um + ha * (b * vm - um);
            }
            vm = v_new < pf[PF_IZ_VMIN] ? pf[PF_IZ_VMIN] : v_new;
        } else if (model == MODEL_ALPHA || model == MODEL_COND_ALPHA) {   // NEST's order: V, I (g) from the old dj, dj
            const bool cond = model == MODEL_COND_ALPHA;
            if (!refractory && cond)
                vm = cond_step(vm, iex0, iin0, dj_ex[li], dj_in[li], pf, i_stim);
            else if (!refractory)
                vm = vm * pf[PF_P22] + dj_ex[li] * pf[PF_A31EX] + iex0 * pf[PF_P21EX] + dj_in[li] * pf[PF_A31IN]
                    + iin0 * pf[PF_P21IN] + i_stim * pf[PF_P20];
            const double a21ex = cond ? pf[PF_GA21EX] : pf[PF_A21EX], a21in = cond ? pf[PF_GA21IN] : pf[PF_A21IN];
            const double j0ex = cond ? pf[PF_GJ0EX] : pf[PF_AJ0EX], j0in = cond ? pf[PF_GJ0IN] : pf[PF_AJ0IN];
            i_ex[li] = iex0 * pf[PF_P11EX] + dj_ex[li] * a21ex;
            i_in[li] = iin0 * pf[PF_P11IN] + dj_in[li] * a21in;
            dj_ex[li] = dj_ex[li] * pf[PF_P11EX] + (double)in_ex * (pf[PF_INVSC_EX] * j0ex);
            dj_in[li] = dj_in[li] * pf[PF_P11IN] + (double)in_in * (pf[PF_INVSC_IN] * j0in);
        } else {
            if (!refractory && model == MODEL_COND) {
                vm = cond_step(vm, iex0, iin0, 0.0, 0.0, pf, i_stim);
            } else if (!refractory && delta) {
                vm = vm * pf[PF_P22] + i_stim * pf[PF_P20] + (x_ex + x_in);
            } else if (!refractory) {                    // iaf_psc_exp
                vm = vm * pf[PF_P22] + iex0 * pf[PF_P21EX] + iin0 * pf[PF_P21IN] + i_stim * pf[PF_P20];
            }
            i_ex[li] = iex0 * pf[PF_P11EX] + (delta ? 0.0 : x_ex);   // iaf_psc_delta: no currents
            i_in[li] = iin0 * pf[PF_P11IN] + (delta ? 0.0 : x_in);
        }
        if (vm >= th) {                                  // the neuron's threshold (build.neuron_values.thresholds)
            vm = izh ? izp[(i64)li * 4 + 2] : pf[PF_VRESET];   // izhikevich: this neuron's c, u += d
            if (izh) i_ex[li] += izp[(i64)li * 4 + 3];
            refr[li] = own_row ? (i64)pf[PF_REF] : pi[PI_REF];
            append_spike(state, spk_gid, spk_step, spk_pop, spk_cap, g, t, k);
        }
        v[li] = vm;
    }
}
