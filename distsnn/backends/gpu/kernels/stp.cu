// Short-term plasticity (build/short_term.py, backends/cpu/stp_kernels.py): the efficacy of
// each spike of spk_*[*lo, *hi) in each group whose source population holds its neuron,
// eff[(s - *base) * n_groups + q], and the groups' state (u, x, the last spike's stamp)
// updated as NEST's tsodyks2_synapse does. One thread per spike: the spikes of one launch
// are of one step (a step's own spikes; the received spikes one step at a time, as the driver
// launches them), and a neuron spikes at most once in a step (the plan refuses plasticity
// from spike sources that repeat spikes within a step), so no two threads touch one state,
// and each state sees its neuron's spikes in time order. The same arithmetic as the CPU's
// stp_efficacies (pexp, no FMA): the same bits.

// exp(-h / tau) for h >= 0 ms: pexp, 0 below its domain (portable_math.EXP_ARG_MIN)
__device__ __forceinline__ double stp_decay(const double h, const double tau) {
    const double a = -h / tau;
    return a < EXP_ARG_MIN ? 0.0 : pexp(a);
}

extern "C" __global__ void stp_efficacies(
    const u64* base, const u64* lo, const u64* hi, const i64* spk_gid, const i64* spk_step, const int n_groups,
    const double* __restrict__ stp_f, const i64* __restrict__ stp_i, double* su, double* sx, i64* slast,
    const double dt, double* eff)
{
    const i64 first = (i64)*lo, n = (i64)*hi - first, row0 = first - (i64)*base;
    for (i64 k = (i64)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += (i64)gridDim.x * blockDim.x) {
        const i64 g = spk_gid[first + k];
        const i64 stamp = spk_step[first + k] + 1;
        for (int q = 0; q < n_groups; ++q) {
            const i64* gi = stp_i + (i64)q * N_SI;
            const i64 i = g - gi[SI_GID0];
            if (i < 0 || i >= gi[SI_SIZE]) continue;
            const i64 at = gi[SI_OFF] + i;
            double u = su[at], x = sx[at];
            if (slast[at] != STP_NO_SPIKE) {   // a neuron's first spike uses the initial u and x
                const double* gf = stp_f + (i64)q * N_SF;
                const double h = (double)(stamp - slast[at]) * dt;
                const double big_u = gf[SF_U], tau_fac = gf[SF_TAU_FAC];
                const double u_decay = tau_fac < 1e-10 ? 0.0 : stp_decay(h, tau_fac);
                x = 1.0 + (x - x * u - 1.0) * stp_decay(h, gf[SF_TAU_REC]);
                u = big_u + u * (1.0 - big_u) * u_decay;
                su[at] = u;
                sx[at] = x;
            }
            slast[at] = stamp;
            eff[(row0 + k) * n_groups + q] = x * u;
        }
    }
}
