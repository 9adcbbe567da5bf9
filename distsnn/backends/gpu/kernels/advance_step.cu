// End of a step (one thread): if the step ran, its spikes become the past of the delivered
// range and the device-resident step counter moves on. Then whether the next step may run:
// only if a worst-case step (per_step spikes) fits the spike buffer and the recording buffer
// has a row left (layout.py). A skipped step leaves everything as it was.
extern "C" __global__ void advance_step(u64* state, const i64 per_step, const i64 spk_cap, const i64 max_rows)
{
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        if (state[ST_LIVE]) {
            state[ST_BEGIN] = state[ST_END];
            state[ST_T] += 1ull;
        }
        state[ST_LIVE] = (state[ST_END] + (u64)per_step <= (u64)spk_cap
                          && state[ST_T] - state[ST_T0] < (u64)max_rows) ? 1ull : 0ull;
    }
}
