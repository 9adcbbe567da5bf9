// The end of a block of steps (GpuSimulator._flush): what the host needs of it in one copy,
// then the step state of the next block, without a copy from the host. At an exchange with
// other ranks every D steps (one step apart in the multi-area model), each copy is a round
// trip through the driver and the bus; the host waits for these words anyway.

// A thread per word of out: out[0, N_ST) the step state as the block left it (steps run, the
// spike count, a numerically unstable neuron), then the block's first min(end, n_max) spikes
// as the exchange's words, (step - t0) << 32 | gid (t0: the block's first step, ST_T0; steps of
// a block and gids below 2**32, as layout.py's ST_BAD). A grid-stride loop.
extern "C" __global__ void pack_spikes(const u64* state, const i64* spk_gid, const i64* spk_step, const i64 n_max,
                                       u64* out)
{
    const u64 end = state[ST_END];
    const i64 n = (end < (u64)n_max) ? (i64)end : n_max;
    const i64 t0 = (i64)state[ST_T0];
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < N_ST + n; i += gridDim.x * (i64)blockDim.x)
        out[i] = (i < N_ST) ? state[i] : ((u64)(spk_step[i - N_ST] - t0) << 32) | (u64)spk_gid[i - N_ST];
}

// One thread, after pack_spikes in the same stream: the state at the start of the next block
// (layout.initial_state), which begins at the step in slot q (the slot of the step after the
// last one enqueued); the run's constants (ST_PER_STEP, ST_CAP, ST_ROWS) stay.
extern "C" __global__ void reset_state(u64* state, const int q)
{
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    const u64 t = state[SLOT(ST_T, q)];
    for (int p = 0; p < 2; ++p) {
        state[SLOT(ST_T, p)] = p ? 0ull : t;
        state[SLOT(ST_BEGIN, p)] = 0ull;
        state[SLOT(ST_LIVE, p)] = p ? 0ull : 1ull;
    }
    state[ST_END] = 0ull;
    state[ST_T0] = t;
    state[ST_BAD] = NO_BAD;
    state[ST_BAR] = 0ull;
    state[ST_FULL] = 0ull;
}
