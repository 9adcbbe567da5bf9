"""Numba kernels: synaptic delivery into the input ring buffer (int32 or int64, plan.ring_bits).

Parallel over post chunks ("units"): each unit owns its neurons' buffer entries, so no two
threads write the same address and integer sums make the order irrelevant anyway.
A spike emitted at step s with delay d (steps) lands in slot (s + d) % L, found as
(s % L) + d minus L at most once (wrap_slot): no 64-bit division per synaptic event.
"""
from numba import prange

from ...build import plan as bp
from .connectivity_kernels import gen_row
from .jit import kernel


@kernel(inline="always")
def wrap_slot(slot0, d, ring_len):
    """(slot0 + d) % ring_len for 0 <= slot0 < ring_len and 0 < d < ring_len (every delay is at
    most max_delay_steps = ring_len - 1): one compare instead of a 64-bit division per event."""
    s = slot0 + d
    return s - ring_len if s >= ring_len else s


@kernel(parallel=True)
def deliver_procedural(spk_gid, spk_step, pop_ptr, ring, ring_len, n_local, units, pop_i, in_proj,
                       proj_f, proj_i, counts, chunk_size, key0, key1, dt, sc_t, sc_w, sc_d, events):
    """Regenerate, for every spike, the rows that land on each local unit, and accumulate."""
    for u in prange(units.shape[0]):
        k = units[u, bp.UI_POP]
        chunk = units[u, bp.UI_CHUNK]
        l0 = units[u, bp.UI_LOCAL_START]
        ev = 0
        for jj in range(pop_i[k, bp.PI_IN_START], pop_i[k, bp.PI_IN_END]):
            j = in_proj[jj]
            src = proj_i[j, bp.JI_PRE_POP]
            off = proj_i[j, bp.JI_PRE_OFF]
            rec_off = proj_i[j, bp.JI_REC] * n_local + l0
            for s in range(pop_ptr[src], pop_ptr[src + 1]):
                n = gen_row(j, spk_gid[s] - off, chunk, proj_f, proj_i, counts, chunk_size, key0, key1, dt,
                            sc_t[u], sc_w[u], sc_d[u])
                slot0 = spk_step[s] % ring_len
                for x in range(n):
                    slot = wrap_slot(slot0, sc_d[u, x], ring_len)
                    ring[slot * 2 * n_local + rec_off + sc_t[u, x]] += sc_w[u, x]
                ev += n
        events[u] += ev


@kernel(parallel=True)
def deliver_stored(spk_gid, spk_step, n_spk, ring, ring_len, n_local, units, ptr, syn_loc, syn_w, syn_d, events):
    """Walk the stored CSR rows (source gid, unit) of every spike and accumulate."""
    U = units.shape[0]
    for u in prange(U):
        l0 = units[u, bp.UI_LOCAL_START]
        ev = 0
        for s in range(n_spk):
            cell = spk_gid[s] * U + u
            slot0 = spk_step[s] % ring_len
            for x in range(ptr[cell], ptr[cell + 1]):
                loc = syn_loc[x]
                slot = wrap_slot(slot0, syn_d[x], ring_len)
                ring[(slot * 2 + (loc & 1)) * n_local + l0 + (loc >> 1)] += syn_w[x]
            ev += ptr[cell + 1] - ptr[cell]
        events[u] += ev
