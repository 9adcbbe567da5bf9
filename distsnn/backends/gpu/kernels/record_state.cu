// One thread per probe (recorded variable of one neuron): after the current step's update,
// the state its code names (model.neurons.RECORDABLES: 0 V relative to E_L, 1 i_ex, 2 i_in,
// 3 dj_ex, 4 -i_in) into row (t - t0) of the device recording buffer (flushed in blocks).
extern "C" __global__ void record_state(
    const u64* __restrict__ state, const int p, const int n_rec, const i64* __restrict__ rec_local,
    const int* __restrict__ rec_code, const double* __restrict__ v, const double* __restrict__ i_ex,
    const double* __restrict__ i_in, const double* __restrict__ dj_ex, double* out)
{
    const int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= n_rec || !state[SLOT(ST_LIVE, p)]) return;
    const i64 l = rec_local[r];
    const int code = rec_code[r];
    const double x = code == 0 ? v[l] : code == 1 ? i_ex[l] : code == 2 ? i_in[l] : code == 3 ? dj_ex[l] : -i_in[l];
    out[(i64)(state[SLOT(ST_T, p)] - state[ST_T0]) * n_rec + r] = x;
}
