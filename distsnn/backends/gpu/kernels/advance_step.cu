// End of a step (one thread): the spikes appended in it become the delivered range's past,
// and the device-resident step counter moves on.
extern "C" __global__ void advance_step(u64* state)
{
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        state[ST_BEGIN] = state[ST_END];
        state[ST_T] += 1ull;
    }
}
