// STDP on the device (build.long_term; backends/gpu/stdp.py drives these; stdp.cuh has the
// arithmetic and the layouts). The CPU's kernels (backends/cpu/stdp_kernels.py, stdp_state.py)
// one for one, so the weights are the same bits.

// The presynaptic state of each spike of spk_*[*lo, *hi) in each group whose source population
// holds its neuron, pre[((s - *base) * n_groups + q) * 2 + {0, 1}] = K+ and the last spike's
// time (ms) before the spike; then K+ <- K+ e^((t_last - t) / tau_plus) + 1 and t_last <- t,
// as NEST after sending (stdp_kernels.stdp_pre_state). One thread per spike: the spikes of one
// launch are of one step and a neuron spikes at most once in a step (as stp_efficacies).
extern "C" __global__ void stdp_pre_state(
    const u64* base, const u64* lo, const u64* hi, const i64* spk_gid, const i64* spk_step, const int n_groups,
    const double* __restrict__ stdp_f, const i64* __restrict__ stdp_i, double* kplus, double* tlast, const i64 tics,
    double* pre)
{
    const i64 first = (i64)*lo, n = (i64)*hi - first, row0 = first - (i64)*base;
    for (i64 k = (i64)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += (i64)gridDim.x * blockDim.x) {
        const i64 g = spk_gid[first + k];
        const double t = stdp_ms(spk_step[first + k] + 1, tics);
        for (int q = 0; q < n_groups; ++q) {
            const i64* gi = stdp_i + (i64)q * N_LI;
            const i64 i = g - gi[LI_GID0];
            if (i < 0 || i >= gi[LI_SIZE]) continue;
            const i64 e = gi[LI_OFF] + i;
            double* out = pre + ((row0 + k) * n_groups + q) * 2;
            out[0] = kplus[e];
            out[1] = tlast[e];
            kplus[e] = kplus[e] * stdp_expo(stdp_plus_decay(tlast[e] - t, stdp_f + (i64)q * N_LF)) + 1.0;
            tlast[e] = t;
        }
    }
}

// The spikes of the step of parity p (the spike buffer from slot p's begin) of neurons that
// keep a history (tau_minus of their population > 0) join it: (t, K- <- K- e^((t_last - t) /
// tau_minus) + 1; the first 1), t the spike's stamp in ms (stdp_kernels.record_spike). A ring
// now full sets ST_FULL, and the next steps are skipped until the driver makes room. One thread
// per spike: a neuron spikes at most once in a step, so no two threads share a ring.
extern "C" __global__ void stdp_record(
    u64* state, const int p, const i64* spk_gid, const i64* spk_step, const int* spk_pop,
    const double* __restrict__ tau_minus, const int* __restrict__ local_of, const i64 tics, double* hist,
    i64* hist_hn, const i64 cap)
{
    const i64 first = (i64)state[SLOT(ST_BEGIN, p)], n = (i64)state[ST_END] - first;
    for (i64 k = (i64)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += (i64)gridDim.x * blockDim.x) {
        const double tm = tau_minus[spk_pop[first + k]];
        if (!(tm > 0.0)) continue;
        const i64 i = local_of[spk_gid[first + k]];
        const double t = stdp_ms(spk_step[first + k] + 1, tics);
        double* ring = hist + i * cap * 2;
        const i64 h = hist_hn[2 * i], m = hist_hn[2 * i + 1];
        double kminus = 1.0;
        if (m > 0) {
            const double* last = ring + ((h + m - 1) & (cap - 1)) * 2;
            kminus = last[1] * stdp_expo((last[0] - t) * (1.0 / tm)) + 1.0;
        }
        double* c = ring + ((h + m) & (cap - 1)) * 2;
        c[0] = t;
        c[1] = kminus;
        hist_hn[2 * i + 1] = m + 1;
        if (m + 1 == cap) state[ST_FULL] = 1ull;   // every writer writes 1
    }
}

// The weight (pA, nS or mV) of each STDP synapse of a CSR (cells (row, unit), n_units per
// row): its fixed-point weight times 2**-k of its target population and receptor, inv_scales
// (P, 2) (stdp_state.initial_weights). A thread per cell.
extern "C" __global__ void stdp_initial_weights(
    const i64 n_cells, const int n_units, const i64* __restrict__ units, const i64* __restrict__ ptr,
    const int* __restrict__ syn_loc, const i64* __restrict__ syn_w, const short* __restrict__ syn_code,
    const double* __restrict__ inv_scales, double* syn_wf)
{
    for (i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x; c < n_cells; c += (i64)gridDim.x * blockDim.x) {
        const i64 k = units[(c % n_units) * N_UI + UI_POP];
        for (i64 x = ptr[c]; x < ptr[c + 1]; ++x)
            if (syn_code[x] <= STDP_CODE0) syn_wf[x] = (double)syn_w[x] * inv_scales[k * 2 + (syn_loc[x] & 1)];
    }
}

// need[i] = min(need[i], the key (stdp_key) of the earliest time (ms) a future spike's update
// reads from local neuron i's history through the STDP synapses of a CSR: t_last - d of each
// (stdp_kernels.oldest_needed). Row r's source: gid r, or row_gid[r] (by_row). A thread per cell.
extern "C" __global__ void stdp_oldest_needed(
    const i64 n_cells, const int n_units, const i64* __restrict__ units, const int by_row,
    const i64* __restrict__ row_gid, const i64* __restrict__ ptr, const int* __restrict__ syn_loc,
    const int* __restrict__ syn_d, const short* __restrict__ syn_code, const i64* __restrict__ stdp_i,
    const double* __restrict__ tlast, const double ms_per_step, u64* need)
{
    for (i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x; c < n_cells; c += (i64)gridDim.x * blockDim.x) {
        const i64 r = c / n_units, g = by_row ? row_gid[r] : r;
        const i64 l0 = units[(c % n_units) * N_UI + UI_LOCAL_START];
        for (i64 x = ptr[c]; x < ptr[c + 1]; ++x) {
            const int code = syn_code[x];
            if (code > STDP_CODE0) continue;
            const i64* gi = stdp_i + (i64)(STDP_CODE0 - code) * N_LI;
            const double t = tlast[gi[LI_OFF] + g - gi[LI_GID0]] - (double)syn_d[x] * ms_per_step;
            atomicMin(&need[l0 + (syn_loc[x] >> 1)], stdp_key(t));
        }
    }
}

// Drop each history's oldest entries while the next one is older than need (a key): no update
// reads them again; the newest stays (stdp_kernels.drop_unneeded). A thread per local neuron.
extern "C" __global__ void stdp_drop(const i64 n_local, const u64* __restrict__ need, const double* __restrict__ hist,
                                     i64* hist_hn, const i64 cap)
{
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n_local; i += (i64)gridDim.x * blockDim.x) {
        i64 h = hist_hn[2 * i], n = hist_hn[2 * i + 1];
        while (n > 1 && stdp_key(hist[(i * cap + ((h + 1) & (cap - 1))) * 2]) < need[i]) {
            h = (h + 1) & (cap - 1);
            --n;
        }
        hist_hn[2 * i] = h;
        hist_hn[2 * i + 1] = n;
    }
}
