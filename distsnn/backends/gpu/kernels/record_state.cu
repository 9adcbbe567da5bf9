// One thread per probe (recorded variable of one neuron): after the current step's update,
// the state its code names (model.neurons.RECORDABLES: 0 V relative to E_L, 1 i_ex, 2 i_in,
// 3 dj_ex, 4 -i_in) into row (t - t0) of the device recording buffer (flushed in blocks).
// A grid-stride loop, so that the step loop (step_loop.cu) runs it on its own grid; state
// and the neuron state are plain pointers, as the step loop writes them in the same launch.
__device__ __forceinline__ void record_state_body(
    const u64* state, const int p, const int n_rec, const i64* __restrict__ rec_local,
    const int* __restrict__ rec_code, const double* v, const double* i_ex, const double* i_in, const double* dj_ex,
    double* out)
{
    if (!state[SLOT(ST_LIVE, p)]) return;
    const i64 row = (i64)(state[SLOT(ST_T, p)] - state[ST_T0]) * n_rec;
    for (int r = blockIdx.x * blockDim.x + threadIdx.x; r < n_rec; r += gridDim.x * blockDim.x) {
        const i64 l = rec_local[r];
        const int code = rec_code[r];
        const double x = code == 0 ? v[l] : code == 1 ? i_ex[l] : code == 2 ? i_in[l] : code == 3 ? dj_ex[l] : -i_in[l];
        out[row + r] = x;
    }
}

extern "C" __global__ void record_state(
    const u64* state, const int p, const int n_rec, const i64* __restrict__ rec_local,
    const int* __restrict__ rec_code, const double* v, const double* i_ex, const double* i_in, const double* dj_ex,
    double* out)
{
    record_state_body(state, p, n_rec, rec_local, rec_code, v, i_ex, i_in, dj_ex, out);
}
