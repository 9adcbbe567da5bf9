// One thread per recorded neuron: V (mV relative to E_L) after the current step's update,
// into row (t - t0) of the device recording buffer (flushed by the driver in blocks).
extern "C" __global__ void record_voltage(
    const u64* __restrict__ state, const int n_rec, const i64* __restrict__ rec_local,
    const double* __restrict__ v, double* out)
{
    const int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= n_rec || !state[ST_LIVE]) return;
    out[(i64)(state[ST_T] - state[ST_T0]) * n_rec + r] = v[rec_local[r]];
}
