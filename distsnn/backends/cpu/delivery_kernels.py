"""Numba kernels: synaptic delivery into the input ring buffer (int32 or int64, plan.ring_bits).

Parallel over post chunks ("units"): each unit owns its block of the ring (build.ring_layout),
so no two threads write the same address and integer sums make the order irrelevant anyway.
A spike emitted at step s with delay d (steps) lands in slot (s + d) % L of its receptor's
ring (L: that receptor's slots in the target population), found as (s % L) + d minus L at
most once (wrap_slot): no 64-bit division per synaptic event. Most of those adds miss every
cache, so both deliveries prefetch the entries of a row before adding to them (prefetch.py).
"""
import numpy as np
from numba import prange

from ...build import long_term as lt
from ...build import plan as bp
from .connectivity_kernels import gen_row
from .jit import kernel
from .prefetch import prefetch_write
from .stdp_kernels import fixed_weight, stamp_ms, stdp_weight
from .stp_kernels import scale_row, scaled


@kernel(inline="always")
def wrap_slot(slot0, d, ring_len):
    """(slot0 + d) % ring_len for 0 <= slot0 < ring_len and 0 < d < ring_len (a ring has one slot
    more than the longest delay it receives): one compare instead of a 64-bit division per event."""
    s = slot0 + d
    return s - ring_len if s >= ring_len else s


@kernel(inline="always")
def ring_addresses(base, slot0, ring_len, n_u, n, tgt, d):
    """d[x] = the ring entry of synapse x of a row (target tgt[x], delay d[x] steps) for a spike
    whose step is in slot slot0 of a receptor's ring of ring_len slots starting at `base`.

    A loop of its own, without a branch (the wrap is a mask), so that LLVM vectorises it; the
    scatter that follows then only loads, adds and stores. Measured on the full microcircuit's
    rows (2 threads, medians): 10 ns per event of delivery against 14 to 16 with the address
    computed in the scatter loop, by a branch or a mask alike. Most of the scatter's loads miss the L2 (a step touches
    about 240 KB of every unit's ring), and a shorter loop body lets the core keep more of
    them in flight."""
    for x in range(n):
        s = slot0 + d[x]
        s -= ring_len & -np.int64(s >= ring_len)
        d[x] = base + s * n_u + tgt[x]


@kernel(inline="always")
def scatter(ring, addr, w, n):
    """ring[addr[x]] += w[x] for the first n entries (addresses from ring_addresses)."""
    for x in range(n):
        ring[addr[x]] += w[x]


@kernel(parallel=True)
def deliver_procedural(spk_gid, spk_step, pop_ptr, ring, units, pop_i, in_proj,
                       proj_f, proj_i, counts, chunk_size, key0, key1, dt, sc_t, sc_w, sc_d, events,
                       proj_stp, eff):
    """Regenerate, for every spike, the rows that land on each local unit, and accumulate.

    proj_stp[j]: the short-term plasticity group of projection j (-1: static, and always
    where proj_stp is empty); a row of a plastic projection has its weights scaled by the
    spike's efficacy eff[s, group] (stp_kernels.stp_efficacies, computed before).

    sc_t: a row buffer per unit; sc_w, sc_d: two each, side by side (CpuSimulator.build: twice
    sc_t's width). A row is scattered only after the next one is generated: its addresses
    are prefetched first (most miss every cache), and the next row's generation is the work
    the core does while those lines come in. The sums are integers, so the order of the adds
    changes nothing."""
    width = sc_t.shape[1]
    if sc_w.shape[1] < 2 * width or sc_d.shape[1] < 2 * width:
        raise ValueError("deliver_procedural: sc_w and sc_d need two row buffers per unit (twice sc_t's width)")
    for u in prange(units.shape[0]):
        k = units[u, bp.UI_POP]
        chunk = units[u, bp.UI_CHUNK]
        n_u = units[u, bp.UI_GID_END] - units[u, bp.UI_GID_START]
        lex = pop_i[k, bp.PI_RING_EX]
        ev = 0
        w, a = sc_w[u, :width], sc_d[u, :width]                # the row being generated
        w_prev, a_prev = sc_w[u, width:], sc_d[u, width:]      # the row waiting to be scattered
        n_prev = 0
        for jj in range(pop_i[k, bp.PI_IN_START], pop_i[k, bp.PI_IN_END]):
            j = in_proj[jj]
            src = proj_i[j, bp.JI_PRE_POP]
            off = proj_i[j, bp.JI_PRE_OFF]
            rec = proj_i[j, bp.JI_REC]
            slots = pop_i[k, bp.PI_RING_IN] if rec else lex
            base = units[u, bp.UI_RING_OFF] + rec * lex * n_u   # slot 0 of the receptor's ring
            q = proj_stp[j] if proj_stp.size else -1
            for s in range(pop_ptr[src], pop_ptr[src + 1]):
                n = gen_row(j, spk_gid[s] - off, chunk, proj_f, proj_i, counts, chunk_size, key0, key1, dt,
                            sc_t[u], w, a)
                if q >= 0:
                    scale_row(w, n, eff[s, q])
                ring_addresses(base, spk_step[s] % slots, slots, n_u, n, sc_t[u], a)
                for x in range(n):
                    prefetch_write(ring, a[x])
                scatter(ring, a_prev, w_prev, n_prev)
                w, w_prev = w_prev, w
                a, a_prev = a_prev, a
                n_prev = n
                ev += n
        scatter(ring, a_prev, w_prev, n_prev)
        events[u] += ev


@kernel(inline="always")
def stored_address(loc, d, off, n_u, s_ex, lex, s_in, lin):
    """The ring entry of a stored synapse (loc: chunk-local target * 2 + receptor, delay d
    steps) for a spike whose step is in slot s_ex of the excitatory ring, s_in of the inhibitory."""
    if loc & 1:
        slot = lex + wrap_slot(s_in, d, lin)
    else:
        slot = wrap_slot(s_ex, d, lex)
    return off + slot * n_u + (loc >> 1)


@kernel(parallel=True)
def deliver_stored(spk_gid, spk_step, n_spk, ring, units, pop_i, row_of, ptr, syn_loc, syn_w, syn_d, events,
                   syn_q, eff, syn_wf, stdp):
    """Walk the stored CSR rows (source row, unit) of every spike and accumulate; syn_loc =
    chunk-local target * 2 + receptor. syn_q: each synapse's plasticity code (build.long_term
    syn_codes; empty where no synapse is plastic): -1 static; a short-term plasticity group
    q >= 0, whose weight is scaled by the spike's efficacy eff[s, q]; or an STDP group, whose
    weight syn_wf[x] changes (stdp_kernels.stdp_weight; `stdp`: StdpState.args). The source row of gid g
    is g itself if row_of is empty (the rules' CSR: a row per neuron), else row_of[g], -1 for
    a neuron without synapses there (the synapse lists' CSR: rows for their sources only). A
    cell's ring entries are prefetched in one pass and added to in a second (prefetch.py: all
    its misses in flight at once); the second pass recomputes the addresses, cheaper than
    storing them."""
    U = units.shape[0]
    by_row = row_of.size > 0
    for u in prange(U):
        k = units[u, bp.UI_POP]
        n_u = units[u, bp.UI_GID_END] - units[u, bp.UI_GID_START]
        off = units[u, bp.UI_RING_OFF]
        lex = pop_i[k, bp.PI_RING_EX]
        lin = pop_i[k, bp.PI_RING_IN]
        ev = 0
        for s in range(n_spk):
            r = row_of[spk_gid[s]] if by_row else spk_gid[s]
            if r < 0:
                continue
            cell = r * U + u
            s_ex = spk_step[s] % lex
            s_in = spk_step[s] % lin
            for x in range(ptr[cell], ptr[cell + 1]):
                prefetch_write(ring, stored_address(syn_loc[x], syn_d[x], off, n_u, s_ex, lex, s_in, lin))
            if syn_q.size:
                for x in range(ptr[cell], ptr[cell + 1]):
                    q = syn_q[x]
                    if q == -1:
                        w = syn_w[x]
                    elif q >= 0:
                        w = scaled(syn_w[x], eff[s, q])
                    else:
                        w = stdp_synapse(syn_wf, x, q, s, spk_step[s], u, k, syn_loc[x], syn_d[x], units, stdp)
                    ring[stored_address(syn_loc[x], syn_d[x], off, n_u, s_ex, lex, s_in, lin)] += w
            else:
                for x in range(ptr[cell], ptr[cell + 1]):
                    ring[stored_address(syn_loc[x], syn_d[x], off, n_u, s_ex, lex, s_in, lin)] += syn_w[x]
            ev += ptr[cell + 1] - ptr[cell]
        events[u] += ev


@kernel(inline="always")
def stdp_synapse(syn_wf, x, code, s, step, u, k, loc, d, units, stdp):
    """Update STDP synapse x (weight syn_wf[x]; code: its group, build.long_term) for spike s,
    emitted at `step`, onto unit u of population k; returns the fixed-point weight it sends.
    stdp: the tuple of StdpState.args (the groups, the spikes' presynaptic states, the
    targets' histories, the populations' fixed-point scales, NEST's tics per step, the
    targets' last K-)."""
    stdp_f, pre_k, pre_t, hist_t, hist_k, hist_h, hist_n, scales, tics, km_t, km_v = stdp
    p = lt.STDP_CODE0 - code
    i = units[u, bp.UI_LOCAL_START] + (loc >> 1)
    w = stdp_weight(syn_wf[x], stdp_f[p], pre_k[s, p], pre_t[s, p], stamp_ms(step + 1, tics),
                    d * (tics / lt.TICS_PER_MS), hist_t, hist_k, hist_h[i], hist_n[i], i, km_t, km_v)
    syn_wf[x] = w
    return fixed_weight(w, scales[k, loc & 1])
