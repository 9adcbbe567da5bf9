"""Numba kernels of STDP (model.long_term.STDP; NEST's stdp_synapse, operation for operation).

Times are in ms as NEST computes them, so that the comparisons of its history (eps 1e-6 ms)
and the exponentials' arguments are NEST's: a spike stamped s (the step after its emission)
is at (s * tics) * 0.001 ms, a delay of d steps is d * (tics / 1000) ms (build.long_term).

The target's history: per local neuron a ring of up to C entries (its spike times, ms, and
K- just after each, hist_t and hist_k, (n_local, C)), hist_h the oldest entry's column and
hist_n the entries. An entry is dropped only when no synapse onto the neuron can read it
again (trim_histories); the driver grows C when a neuron's ring is more than half full after
a trim (CpuSimulator), so a silent source keeps every spike it will need, as NEST does.
"""
import numpy as np
from numba import prange

from ...build import long_term as lt
from ...build import plan as bp
from ...rng.portable_math import EXP_ARG_MIN
from .jit import kernel
from .rng_kernels import pexp, plog

STDP_EPS, MS_PER_TIC, SMALLEST_NORMAL = lt.STDP_EPS, lt.MS_PER_TIC, lt.SMALLEST_NORMAL


@kernel(inline="always")
def stamp_ms(stamp, tics):
    """NEST's time in ms of a spike stamped `stamp` (steps): Time::get_ms of its tics."""
    return MS_PER_TIC * np.float64(stamp * tics)


@kernel(inline="always")
def expo(a):
    """exp(a) by pexp, the portable exp; 0 below its domain (portable_math.EXP_ARG_MIN)."""
    return 0.0 if a < EXP_ARG_MIN else pexp(a)


@kernel(inline="always")
def power(x, mu):
    """x**mu for x >= 0 and mu >= 0, as std::pow gives it for mu 0 and 1 (1 and x, the
    defaults: exactly), else by the portable exp and log (NEST's libm may differ by an ulp)."""
    if mu == 0.0:
        return 1.0
    if mu == 1.0:
        return x
    if x < SMALLEST_NORMAL:
        return 0.0
    return expo(mu * plog(x))


@kernel(inline="always")
def facilitate(w, kplus, f):
    """NEST's facilitate_ with the group's parameters f (a row of stdp_f): stdp_synapse's, or
    stdp_pl_synapse_hom's (kind KIND_POWER_LAW), kept below the bound Wmax."""
    wmax = f[lt.LF_WMAX]
    if f[lt.LF_KIND] == lt.KIND_POWER_LAW:
        new_w = w + (f[lt.LF_LAMBDA] * power(w, f[lt.LF_MU_PLUS]) * kplus)
        return new_w if new_w < wmax else wmax
    norm_w = (w / wmax) + (f[lt.LF_LAMBDA] * power(1.0 - (w / wmax), f[lt.LF_MU_PLUS]) * kplus)
    return norm_w * wmax if norm_w < 1.0 else wmax


@kernel(inline="always")
def depress(w, kminus, f):
    """NEST's depress_ with the group's parameters f (stdp_synapse's or stdp_pl_synapse_hom's)."""
    if f[lt.LF_KIND] == lt.KIND_POWER_LAW:
        new_w = w - (f[lt.LF_LAMBDA] * f[lt.LF_ALPHA] * w * kminus)
        return new_w if new_w > 0.0 else 0.0
    wmax = f[lt.LF_WMAX]
    norm_w = (w / wmax) - (f[lt.LF_ALPHA] * f[lt.LF_LAMBDA] * power(w / wmax, f[lt.LF_MU_MINUS]) * kminus)
    return norm_w * wmax if norm_w > 0.0 else 0.0


@kernel(inline="always")
def plus_decay(dt, f):
    """dt / tau_plus as NEST computes it: stdp_synapse divides; stdp_pl_synapse_hom multiplies
    by its tau_plus_inv (1 / tau_plus), which may differ in the last bit."""
    if f[lt.LF_KIND] == lt.KIND_POWER_LAW:
        return dt * (1.0 / f[lt.LF_TAU_PLUS])
    return dt / f[lt.LF_TAU_PLUS]


@kernel
def stdp_pre_state(spk_gid, spk_step, n, stdp_i, stdp_f, kplus, tlast, tics, pre_k, pre_t):
    """pre_k[s, p], pre_t[s, p] = K+ and the last spike's time (ms) of spike s's neuron in group
    p before spike s, for the first n spikes (in buffer order: each neuron's in time order)
    and every group whose source population holds the neuron; then updates the state as
    NEST's stdp_synapse does after sending: K+ <- K+ e^((t_last - t) / tau_plus) + 1, t_last <- t.
    Entries of other groups are left as they are."""
    G = stdp_i.shape[0]
    for s in range(n):
        g = spk_gid[s]
        t = stamp_ms(spk_step[s] + 1, tics)
        for p in range(G):
            i = g - stdp_i[p, lt.LI_GID0]
            if i < 0 or i >= stdp_i[p, lt.LI_SIZE]:
                continue
            e = stdp_i[p, lt.LI_OFF] + i
            pre_k[s, p] = kplus[e]
            pre_t[s, p] = tlast[e]
            kplus[e] = kplus[e] * expo(plus_decay(tlast[e] - t, stdp_f[p])) + 1.0
            tlast[e] = t


@kernel(inline="always")
def stdp_weight(w, f, kplus, t_last, t_spike, d_ms, hist_t, hist_k, h, n, i, km_t, km_v):
    """The weight NEST's stdp_synapse sends a spike at t_spike (ms) with, and keeps, from its
    weight w, the parameters f, the source's K+ and last spike time before it, the synapse's
    delay d_ms and the history (hist_t, hist_k; oldest column h, n entries) of its target,
    local neuron i: facilitation by the target's spikes t in [t_last - d, t - d) + eps
    (NEST's get_history), oldest first, then depression by K- at t - d (get_K_value).

    km_t[i], km_v[i]: the last time t - d whose K- was computed for neuron i, and that K-. Every
    spike of a step with one delay reads the same K- from a target (the HPC benchmark: some ten
    per step), and it cannot change: entries join the history later in time, and a trim keeps
    the entries later reads need; so the value is reused, bit for bit (the GPU computes it
    each time: its threads would race for the pair)."""
    m = hist_t.shape[1] - 1   # the ring's length is a power of two: an index mod it is a mask
    t1_lim = (t_last - d_ms) + STDP_EPS
    t2 = t_spike - d_ms
    t2_lim = t2 + STDP_EPS
    # the entries, newest first: skip those at or after t2_lim, then find the first before t1_lim
    end = n
    while end > 0 and hist_t[i, (h + end - 1) & m] >= t2_lim:
        end -= 1
    start = end
    while start > 0 and hist_t[i, (h + start - 1) & m] >= t1_lim:
        start -= 1
    for j in range(start, end):
        minus_dt = t_last - (hist_t[i, (h + j) & m] + d_ms)
        w = facilitate(w, kplus * expo(plus_decay(minus_dt, f)), f)
    if km_t[i] == t2:
        return depress(w, km_v[i], f)
    kminus = 0.0
    inv = 1.0 / f[lt.LF_TAU_MINUS]
    # the latest entry strictly (by more than eps) before t2: none at or after end (t >= t2 + eps)
    for j in range(end - 1, -1, -1):
        c = (h + j) & m
        if t2 - hist_t[i, c] > STDP_EPS:
            kminus = hist_k[i, c] * expo((hist_t[i, c] - t2) * inv)
            break
    km_t[i] = t2
    km_v[i] = kminus
    return depress(w, kminus, f)


@kernel(inline="always")
def fixed_weight(w, scale):
    """The fixed-point weight of w (the build's rounding: floor(w * scale + 1/2))."""
    return np.int64(np.floor(w * scale + 0.5))


@kernel(inline="always")
def record_spike(i, t, tau_minus, hist_t, hist_k, hist_h, hist_n):
    """Append a spike of local neuron i at t (ms) to its history, K- <- K- e^((t_last - t) /
    tau_minus) + 1 as NEST's ArchivingNode (its first spike: 1); returns whether the ring is
    now full (the caller stops before the next step: trim_histories, or a larger ring)."""
    m = hist_t.shape[1] - 1   # the ring's length is a power of two: an index mod it is a mask
    n = hist_n[i]
    h = hist_h[i]
    k = 1.0
    if n > 0:
        last = (h + n - 1) & m
        k = hist_k[i, last] * expo((hist_t[i, last] - t) * (1.0 / tau_minus)) + 1.0
    c = (h + n) & m
    hist_t[i, c] = t
    hist_k[i, c] = k
    hist_n[i] = n + 1
    return n + 1 == m + 1


@kernel
def record_histories(t, units, spk_unit, spk_cnt, tau_minus, tics, hist_t, hist_k, hist_h, hist_n, hist_full):
    """Add step t's spikes of the neurons that keep an STDP history (record_spike;
    NEST stamps them t + 1); hist_full[0] = 1 where a ring filled."""
    for u in range(units.shape[0]):
        tm = tau_minus[units[u, bp.UI_POP]]
        if tm > 0.0:
            l0 = units[u, bp.UI_LOCAL_START] - units[u, bp.UI_GID_START]
            for x in range(spk_cnt[u]):
                if record_spike(l0 + spk_unit[u, x], stamp_ms(t + 1, tics), tm, hist_t, hist_k, hist_h, hist_n):
                    hist_full[0] = 1


@kernel(parallel=True)
def oldest_needed(units, row_gid, ptr, syn_loc, syn_d, syn_code, stdp_i, tlast, ms_per_step, need):
    """need[i] = min(need[i], the earliest time (ms) a future spike's update reads from local
    neuron i's history through the STDP synapses of one CSR (deliver_stored's cells, row r's
    source gid r or row_gid[r]): t_last - d of each synapse (t_last its source's last spike)."""
    U = units.shape[0]
    rows = (ptr.size - 1) // max(U, 1)
    for u in prange(U):
        l0 = units[u, bp.UI_LOCAL_START]
        for r in range(rows):
            cell = r * U + u
            g = row_gid[r] if row_gid.size else r
            for x in range(ptr[cell], ptr[cell + 1]):
                code = syn_code[x]
                if code > lt.STDP_CODE0:
                    continue
                p = lt.STDP_CODE0 - code
                e = stdp_i[p, lt.LI_OFF] + g - stdp_i[p, lt.LI_GID0]
                t = tlast[e] - syn_d[x] * ms_per_step
                i = l0 + (syn_loc[x] >> 1)
                if t < need[i]:
                    need[i] = t


@kernel(parallel=True)
def drop_unneeded(need, hist_t, hist_h, hist_n):
    """Drop each history's oldest entries while the next one is older than need[i]: no
    update reads them again (facilitation starts at t_last - d + eps; K- at a later time
    takes a later entry). The newest entry stays (the next spike's K- starts from it)."""
    m = hist_t.shape[1] - 1   # the ring's length is a power of two: an index mod it is a mask
    for i in prange(need.size):
        h = hist_h[i]
        n = hist_n[i]
        while n > 1 and hist_t[i, (h + 1) & m] < need[i]:
            h = (h + 1) & m
            n -= 1
        hist_h[i] = h
        hist_n[i] = n
