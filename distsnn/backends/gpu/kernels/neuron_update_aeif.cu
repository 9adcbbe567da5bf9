// The AdEx models (aeif_cond_exp, aeif_psc_exp, aeif_psc_delta): one thread per local neuron, all their
// populations in one launch (the other neurons return at once; neuron_update skips these).
// A kernel of its own because the solver's stages take registers that would lower the
// occupancy of neuron_update for every model. The adaptive RKF45 solver of
// distsnn.model.rkf45, with the operations of the CPU kernel (backends/cpu/aeif_kernels.py)
// in the same order, so both engines give the same bits.
// State: V in v, g_ex and g_in in i_ex and i_in (aeif_psc_exp: the currents I_ex, I_in, pA),
// w in dj_ex, the solver's step size in dj_in (aeif_psc_delta: currents 0, the step's input added to V after
// the first solver step unless refractory, as NEST adds it). A neuron found numerically unstable (NEST's
// check) is reported through state[ST_BAD] (layout.py).

// the divisors of the derivatives as reciprocals, as on the CPU (aeif_kernels.aeif_constants)
struct AeifConst {
    double g_l, inv_c_m, e_ex, e_in, a, d_t, inv_d_t, inv_tau_w, v_peak, v_th, v_reset, inv_tau_ex, inv_tau_in, i_stim;
    bool cond;                                       // aeif_cond_exp; else aeif_psc_exp
};

// derivatives of (V, g_ex, g_in, w): while refractory V is held at V_reset and does not move;
// otherwise V is bounded by V_peak, as in NEST. aeif_psc_exp's currents enter as -(-I) = +I.
__device__ __forceinline__ void aeif_rhs(const double* y, const bool refractory, const AeifConst& c, double* f)
{
    const double vv = refractory ? c.v_reset : (c.v_peak < y[0] ? c.v_peak : y[0]);
    const double i_syn_ex = c.cond ? y[1] * (vv - c.e_ex) : -y[1];
    const double i_syn_in = c.cond ? y[2] * (vv - c.e_in) : -y[2];
    double i_spike = 0.0;
    if (c.d_t != 0.0) {
        const double x = (vv - c.v_th) * c.inv_d_t;
        i_spike = c.g_l * c.d_t * pexp_tree(x > RK_EXP_ARG_MIN ? x : RK_EXP_ARG_MIN);
    }
    f[0] = refractory ? 0.0 : (-c.g_l * vv + i_spike - i_syn_ex - i_syn_in - y[3] + c.i_stim) * c.inv_c_m;
    f[1] = -y[1] * c.inv_tau_ex;
    f[2] = -y[2] * c.inv_tau_in;
    f[3] = (c.a * vv - y[3]) * c.inv_tau_w;
}

// one Fehlberg step of size h from y with derivative k1: the new state, its error estimate and
// the derivative there
__device__ __forceinline__ void rkf45_step(const double* y, const double* k1, const double h, const bool refractory,
                                           const AeifConst& c, double* y_new, double* err, double* deriv)
{
    double k2[4], k3[4], k4[4], k5[4], k6[4], tmp[4];
    for (int i = 0; i < 4; ++i) tmp[i] = y[i] + RK_A[0] * h * k1[i];
    aeif_rhs(tmp, refractory, c, k2);
    for (int i = 0; i < 4; ++i) tmp[i] = y[i] + h * (RK_B3[0] * k1[i] + RK_B3[1] * k2[i]);
    aeif_rhs(tmp, refractory, c, k3);
    for (int i = 0; i < 4; ++i) tmp[i] = y[i] + h * (RK_B4[0] * k1[i] + RK_B4[1] * k2[i] + RK_B4[2] * k3[i]);
    aeif_rhs(tmp, refractory, c, k4);
    for (int i = 0; i < 4; ++i)
        tmp[i] = y[i] + h * (RK_B5[0] * k1[i] + RK_B5[1] * k2[i] + RK_B5[2] * k3[i] + RK_B5[3] * k4[i]);
    aeif_rhs(tmp, refractory, c, k5);
    for (int i = 0; i < 4; ++i)
        tmp[i] = y[i] + h * (RK_B6[0] * k1[i] + RK_B6[1] * k2[i] + RK_B6[2] * k3[i] + RK_B6[3] * k4[i]
                             + RK_B6[4] * k5[i]);
    aeif_rhs(tmp, refractory, c, k6);
    for (int i = 0; i < 4; ++i)
        y_new[i] = y[i] + h * (RK_C[0] * k1[i] + RK_C[1] * k3[i] + RK_C[2] * k4[i] + RK_C[3] * k5[i] + RK_C[4] * k6[i]);
    aeif_rhs(y_new, refractory, c, deriv);
    for (int i = 0; i < 4; ++i)
        err[i] = h * (RK_EC[0] * k1[i] + RK_EC[1] * k3[i] + RK_EC[2] * k4[i] + RK_EC[3] * k5[i] + RK_EC[4] * k6[i]);
}

#define RK_DEC (-1)
#define RK_NIL 0
#define RK_INC 1

// the step size control (distsnn.model.rkf45): the next step in *h; RK_DEC, RK_NIL or RK_INC
__device__ __forceinline__ int adjust_step(const double h_old, const double* err, const double* deriv,
                                           const double tol, double* h)
{
    double rmax = RK_DBL_MIN;
    for (int i = 0; i < 4; ++i) {
        const double r = fabs(err[i]) / fabs(tol * (h_old * fabs(deriv[i])) + tol);
        rmax = r > rmax ? r : rmax;
    }
    if (rmax > RK_SHRINK_ABOVE) {
        // an infinite error ratio (a blown-up trial step) shrinks by the largest factor
        const double h_new = rmax <= RK_DBL_MAX ? h_old * RK_SAFETY / pexp(plog(rmax) * (1.0 / RK_ORDER)) : 0.0;
        const double low = RK_MAX_SHRINK * h_old;
        *h = low > h_new ? low : h_new;
        return RK_DEC;
    }
    if (rmax < RK_GROW_BELOW) {
        const double f = RK_SAFETY / pexp(plog(rmax) * (1.0 / (RK_ORDER + 1.0)));
        const double h_new = h_old * (f > 1.0 ? f : 1.0);
        const double high = RK_MAX_GROW * h_old;
        *h = high < h_new ? high : h_new;
        return RK_INC;
    }
    *h = h_old;
    return RK_NIL;
}

// one body for both ring widths: its entry points neuron_update_aeif and neuron_update_aeif_r32 are generated
// (backends.gpu.source.ring_entry_points). Its parameters are neuron_update's, so that one argument tuple
// launches both (izp, izhikevich's parameters, is unused here)
template <typename R>
__device__ __forceinline__ void neuron_update_aeif_body(
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
    const int li = blockIdx.x * blockDim.x + threadIdx.x;
    if (li >= n_local || !state[SLOT(ST_LIVE, p)]) return;
    const i64 t = (i64)state[SLOT(ST_T, p)];
    const i64 g = gids[li];
    const int k = local_pop[li];
    const i64* pi = pop_i + (i64)k * N_PI;
    // the population's constants, or the neuron's own row (parameters per neuron: build.param_rows)
    const double* pf = pi[PI_ROWS] ? nf + nrow[li] * N_PF : pop_f + (i64)k * N_PF;
    if (pi[PI_MODEL] != MODEL_AEIF && pi[PI_MODEL] != MODEL_AEIF_PSC && pi[PI_MODEL] != MODEL_AEIF_DELTA) return;
    i64 in_ex, in_in;
    double i_stim;
    neuron_input(t, li, g, k, pf, input_rows(li, local_unit[li], pi, units), ring, pin_i, pin_cdf, dc_f, dc_i,
                 dc_seg_i, dc_seg_f, dc_mask, noise_f, noise_i, n_noise, ie_given, key0, key1, &in_ex, &in_in, &i_stim);
    const double d_t = pf[PF_DELTA_T];
    const double v_th = vth[li];                      // the neuron's threshold (build.neuron_values.thresholds)
    const AeifConst c = {pf[PF_GL], 1.0 / pf[PF_CM], pf[PF_EEX], pf[PF_EIN], pf[PF_A], d_t,
                         1.0 / (d_t != 0.0 ? d_t : 1.0), 1.0 / pf[PF_TAU_W], pf[PF_VPEAK], v_th, pf[PF_VRESET],
                         1.0 / pf[PF_TAU_SYN_EX], 1.0 / pf[PF_TAU_SYN_IN], i_stim, pi[PI_MODEL] == MODEL_AEIF};
    const double dt = pf[PF_DT], tol = pf[PF_TOL], b = pf[PF_B];
    const double v_spike = pf[PF_DELTA_T] > 0.0 ? pf[PF_VPEAK] : v_th;
    const double first = RK_FIRST_STEP < dt ? RK_FIRST_STEP : dt;
    const i64 ref_steps = pi[PI_ROWS] ? (i64)pf[PF_REF] : pi[PI_REF];
    const double v_min = RK_V_UNSTABLE - pf[PF_EL];   // relative to E_L, as V
    bool bad = false;
    double y[4] = {v[li], i_ex[li], i_in[li], dj_ex[li]};
    double h = dj_in[li] > 0.0 ? dj_in[li] : first;
    const i64 r = refr[li];
    bool refractory = r > 0, spiked = false;
    double tt = 0.0;                                 // time within the step (ms)
    double k1[4];
    bool fresh = false;                              // k1 holds the derivative at y
    // aeif_psc_delta: the step's input (mV), added once, after the first solver step
    const bool delta = pi[PI_MODEL] == MODEL_AEIF_DELTA;
    const double jump = delta ? (double)in_ex * pf[PF_INVSC_EX] + (double)in_in * pf[PF_INVSC_IN] : 0.0;
    bool pending = delta;
    while (tt < dt) {
        const double t0 = tt;
        double y_new[4], err[4], deriv[4];
        if (!fresh) aeif_rhs(y, refractory, c, k1);
        while (true) {                               // attempts from t0 until one stands
            const bool final_step = h > dt - t0;
            const double h0 = final_step ? dt - t0 : h;
            rkf45_step(y, k1, h0, refractory, c, y_new, err, deriv);
            tt = final_step ? dt : t0 + h0;
            if (adjust_step(h0, err, deriv, tol, &h) == RK_DEC) {
                if (h < h0 && tt + h != tt) continue;   // retry from y with the smaller step
                h = h0;                              // no smaller step is possible: this one stands
            }
            break;
        }
        // the derivative at the new point is the next step's k1 (GSL evaluates it again: the same
        // function of the same numbers); also when refractory, as V does not enter it then
        for (int i = 0; i < 4; ++i) { y[i] = y_new[i]; k1[i] = deriv[i]; }
        fresh = true;
        if (!(y[0] >= v_min && fabs(y[3]) <= RK_W_UNSTABLE)) bad = true;   // NEST's check (and NaN)
        if (refractory) {
            y[0] = pf[PF_VRESET];                    // (a pending jump is lost)
        } else if (pending && jump != 0.0) {
            y[0] = y[0] + jump;
            fresh = false;                           // V moved: the next step's derivative is taken anew
        }
        pending = false;
        if (!refractory && y[0] >= v_spike) {
            y[0] = pf[PF_VRESET];
            y[3] = y[3] + b;
            spiked = true;
            refractory = ref_steps > 0;
            fresh = false;
        }
    }
    v[li] = y[0];
    i_ex[li] = delta ? y[1] : y[1] + (double)in_ex * pf[PF_INVSC_EX];
    i_in[li] = delta ? y[2] : y[2] + (double)in_in * pf[PF_INVSC_IN];
    dj_ex[li] = y[3];
    dj_in[li] = h;
    refr[li] = spiked ? ref_steps : (r > 0 ? r - 1 : 0);
    if (spiked) append_spike(state, spk_gid, spk_step, spk_pop, spk_cap, g, t, k);
    // the earliest step's lowest unstable gid, as the CPU engine reports it (layout.ST_BAD)
    if (bad) atomicMin(&state[ST_BAD], ((u64)t << 32) | (u64)g);
}
