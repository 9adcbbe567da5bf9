// One thread per local unit: the scheduled spikes of spike-source units at the current step
// (the schedule is sorted by step within each unit; cursor = next entry).
extern "C" __global__ void spike_sources(
    u64* state, const int p, const int n_units, const i64* __restrict__ units, const i64* __restrict__ pop_i,
    const i64* __restrict__ sched_step, const i64* __restrict__ sched_gid, i64* cursor, i64* spk_gid,
    i64* spk_step, int* spk_pop, const i64 spk_cap)
{
    const int u = blockIdx.x * blockDim.x + threadIdx.x;
    if (u >= n_units || !state[SLOT(ST_LIVE, p)]) return;
    const i64* un = units + (i64)u * N_UI;
    const int k = (int)un[UI_POP];
    if (!pop_i[(i64)k * N_PI + PI_SOURCE]) return;
    const i64 t = (i64)state[SLOT(ST_T, p)];
    i64 c = cursor[u];
    const i64 end = un[UI_SCHED_END];
    while (c < end && sched_step[c] < t) ++c;
    while (c < end && sched_step[c] == t) {
        append_spike(state, spk_gid, spk_step, spk_pop, spk_cap, sched_gid[c], t, k);
        ++c;
    }
    cursor[u] = c;
}
