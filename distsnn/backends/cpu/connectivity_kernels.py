"""Numba kernels of the connection rules: per-row counts, row generation, CSR expansion.

`gen_row` is the one row generator: procedural delivery calls it at every spike, stored
mode calls it once per row to fill the CSR. Same streams as `distsnn.connectivity`.
"""
import math

import numpy as np
from numba import prange

from ...build import plan as bp
from ...rng import streams
from .jit import kernel
from .kind_loops import counted_kinds, fp_kinds, slot_kinds
from .rng_kernels import philox, u01, below, box_muller, plog, perm_keys, half_bits, permute_range, kind_flags
from .synapse_kernels import delay_floor, redraw_delays, synapse, synapse_from_normals

M32 = np.uint64(0xFFFFFFFF)
# draws per block of the counting kernels: a branch-free loop computes a block's cells (LLVM
# vectorises its Philox calls), a second loop adds them up; in one loop the scattered
# increments kept the Philox calls scalar, 2.4 to 3.9 times slower
COUNT_BLOCK = 256


@kernel(parallel=True)
def counts_fixed_total(n_total, n_pre, n_post, col0, cols, chunk_size, tag, key0, key1, nt):
    """Per (pre, chunk) counts of a fixed_total_number projection, for the chunks
    col0 <= chunk < col0 + cols (n_pre x cols cells, build.count_layout): draw every
    synapse's (pre, post) cell from its own counter and histogram those in the span. Exact,
    O(n_total) whatever the span; nt private histograms (one per thread block) are summed,
    so the result does not depend on nt."""
    ncell = n_pre * cols
    hist = np.zeros((nt, ncell), dtype=np.uint32)
    block = (n_total + nt - 1) // nt
    for t in prange(nt):
        lo = t * block
        hi = min(n_total, lo + block)
        cell = np.empty(COUNT_BLOCK, dtype=np.int64)
        for b in range(lo, hi, COUNT_BLOCK):
            m = min(COUNT_BLOCK, hi - b)
            for x in range(m):
                i = b + x
                w0, w1, w2, w3 = philox(np.uint64(i) & M32, np.uint64(i) >> np.uint64(32), 0, tag, key0, key1)
                c = below(w1, n_post) // chunk_size - col0
                cell[x] = below(w0, n_pre) * cols + c if (c >= 0) & (c < cols) else -1   # a select: vectorised
            for x in range(m):
                if cell[x] >= 0:
                    hist[t, cell[x]] += 1
    out = np.zeros(ncell, dtype=np.uint32)
    for t in range(nt):
        out += hist[t]
    return out


@kernel(parallel=True)
def counts_fixed_outdegree(n_out, n_pre, n_post, col0, cols, chunk_size, tag, key0, key1):
    """Per (pre, chunk) counts of a fixed_outdegree projection, for the chunks
    col0 <= chunk < col0 + cols."""
    out = np.zeros(n_pre * cols, dtype=np.uint32)
    for pre in prange(n_pre):
        col = np.empty(COUNT_BLOCK, dtype=np.int64)
        for b in range(0, n_out, COUNT_BLOCK):   # in blocks, as counts_fixed_total
            m = min(COUNT_BLOCK, n_out - b)
            for x in range(m):
                w0, w1, w2, w3 = philox(b + x, 0, pre, tag, key0, key1)
                col[x] = below(w0, n_post) // chunk_size - col0
            for x in range(m):
                if (col[x] >= 0) & (col[x] < cols):
                    out[pre * cols + col[x]] += 1
    return out


@kernel(parallel=True)
def counts_fixed_indegree(k_in, n_pre, n_post, col0, cols, chunk_size, tag, key0, key1):
    """Running sums of a fixed_indegree projection for the chunks col0 <= c < col0 + cols
    ((n_pre + 1) x cols cells, plan.count_cells): slot i of chunk c draws its pre from
    counter (i, c, 0); cell (pre, c) holds the slots taken by pres before `pre`. One chunk
    per iteration: independent of the thread count; O(slots of the span's chunks)."""
    out = np.zeros((n_pre + 1) * cols, dtype=np.uint32)
    for col in prange(cols):
        c = col0 + col
        hist = np.zeros(n_pre + 1, dtype=np.int64)
        pre = np.empty(COUNT_BLOCK, dtype=np.int64)
        n_slots = min(chunk_size, n_post - c * chunk_size) * k_in
        for b in range(0, n_slots, COUNT_BLOCK):   # in blocks, as counts_fixed_total
            m = min(COUNT_BLOCK, n_slots - b)
            for x in range(m):
                w0, w1, w2, w3 = philox(b + x, c, 0, tag, key0, key1)
                pre[x] = below(w0, n_pre)
            for x in range(m):
                hist[pre[x] + 1] += 1
        acc = 0
        for p in range(n_pre + 1):
            acc += hist[p]
            out[p * cols + col] = acc
    return out


PERM_DOMAIN = np.uint64(streams.DOM_PERM << streams.DOMAIN_SHIFT)
ID_MASK = np.uint64(streams.ID_MASK)


@kernel(inline="always")
def perm_tag(tag):
    """The PERM-domain counter word of a projection from its SYN-domain word (permutation.perm_tag)."""
    return (np.uint64(tag) & ID_MASK) | PERM_DOMAIN


@kernel(inline="always")
def count_at(counts, at, wide):
    """Cell `at` of a projection whose cells are uint32 (wide) or uint16 in the uint32 words
    `counts` (build.count_layout)."""
    if wide:
        return np.int64(counts[at])
    return np.int64(counts.view(np.uint16)[at])


@kernel(inline="always")
def row_extent(j, pre, chunk, proj_i, counts):
    """(first input slot, length) of row (pre, chunk) of a counted projection j (first slot:
    fixed_indegree only, 0 for the others); the cell's place and width: build.count_layout."""
    cols = proj_i[j, bp.JI_COUNT_COLS]
    at = proj_i[j, bp.JI_COUNT_OFF] + pre * cols + chunk - proj_i[j, bp.JI_COUNT_COL0]
    wide = proj_i[j, bp.JI_COUNT_WIDE]
    if proj_i[j, bp.JI_RULE] == bp.RULE_FIN:
        start = count_at(counts, at, wide)
        return start, count_at(counts, at + cols, wide) - start
    return np.int64(0), count_at(counts, at, wide)


@kernel(inline="always")
def indegree_row(j, pre, chunk, clen, proj_i, counts, tag, key0, key1, out_slot, out_t, scratch):
    """Row (pre, chunk) of fixed_indegree projection j: the input slot pi(start + k) of each
    synapse into out_slot, then its chunk-local target slot // K into out_t; returns the row
    length. out_slot, out_t and scratch are distinct (out_t is scratch until the targets)."""
    start, n = row_extent(j, pre, chunk, proj_i, counts)
    k_in = proj_i[j, bp.JI_N]
    keys = perm_keys(chunk, perm_tag(tag), key0, key1)
    lbits, rbits = half_bits(clen * k_in)
    permute_range(start, n, clen * k_in, keys, lbits, rbits, out_slot, out_t, scratch)
    # slot // K in binary64, so that it vectorises: exact, as slot and K are below 2**32
    # (then slot / K is at least 1 / K below the next integer, far more than its rounding)
    kf = float(k_in)
    for k in range(n):
        out_t[k] = np.int64(float(out_slot[k]) / kf)
    return n


# Draws of a fixed_probability row past the first block, taken together: enough to amortise a
# block's loop set-up, few enough that the draws computed past the row's end cost little
FP_BLOCK = 32


@kernel(inline="always")
def fp_block(k0, k1, chunk, pre, tag, key0, key1, r, clen, weights, uni, wmean, wsd, scale, dmean, dsd, dt, dlow,
             out_t, out_w, out_d):
    """Draws k0 <= k < k1 of fixed_probability row (pre, chunk): the geometric skip of each
    (r = 1 / log(1 - p)) into out_t[k], clipped at the chunk length (any larger skip ends the
    row just the same), and, if `weights`, its weight and delay (or a redraw's mark, dlow:
    synapse_from_normals) into out_w[k], out_d[k].

    No draw depends on another, and the loop has no branch, so LLVM vectorises the Philox
    rounds, the logarithm and Box-Muller; fp_row then adds the skips up in order. A
    projection with a kind of draw of its own (uni != 0) takes a loop of its own (fp_kinds,
    called), branch-free as well."""
    fclen = float(clen)
    if weights and uni != 0.0:
        fp_kinds(k0, k1, chunk, pre, tag, key0, key1, r, fclen, kind_flags(uni, wsd, dsd), uni, wmean, wsd, scale,
                 dmean, dsd, dt, dlow, out_t, out_w, out_d)
    elif weights and (wsd != 0.0 or dsd != 0.0):
        for k in range(k0, k1):
            w0, w1, w2, w3 = philox(k, chunk, pre, tag, key0, key1)
            out_t[k] = np.int64(min(math.floor(plog(u01(w0)) * r), fclen))
            z0, z1 = box_muller(u01(w1), u01(w2))
            out_w[k], out_d[k] = synapse_from_normals(z0, z1, wmean, wsd, scale, dmean, dsd, dt, dlow, k)
    else:
        for k in range(k0, k1):
            w0, w1, w2, w3 = philox(k, chunk, pre, tag, key0, key1)
            out_t[k] = np.int64(min(math.floor(plog(u01(w0)) * r), fclen))
        if weights:
            for k in range(k0, k1):
                out_w[k], out_d[k] = synapse_from_normals(0.0, 0.0, wmean, wsd, scale, dmean, dsd, dt, dlow, k)


@kernel(inline="always")
def fp_row(j, pre, chunk, clen, proj_f, tag, key0, key1, weights, dt, out_t, out_w, out_d):
    """Row (pre, chunk) of fixed_probability projection j: the chunk-local targets into out_t
    and, if `weights`, the fixed-point weights and delays (steps, or a redraw's mark:
    synapse_from_normals) into out_w, out_d; returns the row length.

    Synapse k is at position pos_k = pos_(k-1) + 1 + skip_k (pos_(-1) = -1), and the row ends
    at the first draw whose position reaches clen, so it has at most clen synapses, and the
    draw clen is never needed (connectivity.reference: the same cumulative sum). The skips are
    drawn in blocks (fp_block), the first as long as the row's expected length, then added up
    in order; the draws of a block past the row's end are wasted, but are few against the
    vectorised loop's gain. out_* must hold clen entries."""
    p = proj_f[j, bp.JF_P]
    if not p > 0.0:
        return 0
    r = proj_f[j, bp.JF_R]
    wmean = proj_f[j, bp.JF_WMEAN]
    wsd = proj_f[j, bp.JF_WSD]
    scale = proj_f[j, bp.JF_SCALE]
    dmean = proj_f[j, bp.JF_DMEAN]
    dsd = proj_f[j, bp.JF_DSD]
    uni = proj_f[j, bp.JF_KINDS]
    dlow = delay_floor(proj_f, j, dt) if weights else -math.inf
    pos = np.int64(-1)
    k0 = 0
    block = min(clen, np.int64(clen * p) + 1)
    while k0 < clen:
        k1 = min(k0 + block, clen)
        fp_block(k0, k1, chunk, pre, tag, key0, key1, r, clen, weights, uni, wmean, wsd, scale, dmean, dsd, dt,
                 dlow, out_t, out_w, out_d)
        for k in range(k0, k1):
            pos += 1 + out_t[k]
            if pos >= clen:
                return k
            out_t[k] = pos
        k0 = k1
        block = FP_BLOCK
    return clen


@kernel
def gen_row(j, pre, chunk, proj_f, proj_i, counts, chunk_size, key0, key1, dt, out_t, out_w, out_d):
    """Generate row (pre, chunk) of projection j into out_*; return its length.

    out_t: chunk-local target index; out_w: fixed-point weight; out_d: delay (steps).
    """
    rule = proj_i[j, bp.JI_RULE]
    tag = proj_i[j, bp.JI_TAG]
    c0 = chunk * chunk_size
    clen = min(chunk_size, proj_i[j, bp.JI_POST_SIZE] - c0)
    wmean = proj_f[j, bp.JF_WMEAN]
    wsd = proj_f[j, bp.JF_WSD]
    scale = proj_f[j, bp.JF_SCALE]
    dmean = proj_f[j, bp.JF_DMEAN]
    dsd = proj_f[j, bp.JF_DSD]
    uni = proj_f[j, bp.JF_KINDS]   # a Uniform, Exponential or LogNormal: loops of their own (kind_pair)
    dlow = delay_floor(proj_f, j, dt)
    n = 0
    if rule == bp.RULE_FTN or rule == bp.RULE_FOUT:
        cnt = row_extent(j, pre, chunk, proj_i, counts)[1]
        if uni != 0.0:
            counted_kinds(cnt, chunk, pre, tag, key0, key1, clen, kind_flags(uni, wsd, dsd), uni, wmean, wsd, scale,
                          dmean, dsd, dt, dlow, out_t, out_w, out_d)
        elif wsd != 0.0 or dsd != 0.0:
            # the hot loop of procedural delivery: branch-free, so LLVM can vectorise it
            for k in range(cnt):
                w0, w1, w2, w3 = philox(k, chunk, pre, tag, key0, key1)
                out_t[k] = below(w0, clen)
                z0, z1 = box_muller(u01(w1), u01(w2))
                out_w[k], out_d[k] = synapse_from_normals(z0, z1, wmean, wsd, scale, dmean, dsd, dt, dlow, k)
        else:
            for k in range(cnt):
                w0, w1, w2, w3 = philox(k, chunk, pre, tag, key0, key1)
                out_t[k] = below(w0, clen)
                out_w[k], out_d[k] = synapse_from_normals(0.0, 0.0, wmean, wsd, scale, dmean, dsd, dt, dlow, k)
        n = cnt
    elif rule == bp.RULE_FIN:
        # input slot pi(start + k) of the chunk belongs to post slot // K (rng.permutation).
        # The slots wait in out_d (out_w is the permutation's scratch until then) for the
        # weights and delays, in a branch-free loop that LLVM vectorises, as above
        n = indegree_row(j, pre, chunk, clen, proj_i, counts, tag, key0, key1, out_d, out_t, out_w)
        if uni != 0.0:
            slot_kinds(n, chunk, tag, key0, key1, kind_flags(uni, wsd, dsd), uni, wmean, wsd, scale, dmean, dsd, dt,
                       dlow, out_w, out_d)
        elif wsd != 0.0 or dsd != 0.0:
            for k in range(n):
                slot = out_d[k]
                w0, w1, w2, w3 = philox(slot, chunk, 0, tag, key0, key1)
                z0, z1 = box_muller(u01(w1), u01(w2))
                out_w[k], out_d[k] = synapse_from_normals(z0, z1, wmean, wsd, scale, dmean, dsd, dt, dlow, slot)
        else:
            for k in range(n):
                out_w[k], out_d[k] = synapse_from_normals(0.0, 0.0, wmean, wsd, scale, dmean, dsd, dt, dlow, 0)
    elif rule == bp.RULE_FP:
        n = fp_row(j, pre, chunk, clen, proj_f, tag, key0, key1, True, dt, out_t, out_w, out_d)
    elif rule == bp.RULE_O2O:
        if c0 <= pre < c0 + clen:
            w0, w1, w2, w3 = philox(0, chunk, pre, tag, key0, key1)
            out_t[0] = pre - c0
            out_w[0], out_d[0] = synapse(w1, w2, w3, uni, wmean, wsd, scale, dmean, dsd, dt, dlow, 0)
            n = 1
    else:
        for k in range(clen):
            w0, w1, w2, w3 = philox(k, chunk, pre, tag, key0, key1)
            out_t[k] = k
            out_w[k], out_d[k] = synapse(w1, w2, w3, uni, wmean, wsd, scale, dmean, dsd, dt, dlow, k)
        n = clen
    if dlow > 0.0:   # the delays drawn below dlow, marked by synapse_from_normals: counter (c0, chunk, pre or 0)
        redraw_delays(n, out_d, chunk, 0 if rule == bp.RULE_FIN else pre, tag, key0, key1, dmean, dsd, dt, dlow)
    return n


@kernel
def _row_len(j, pre, chunk, proj_f, proj_i, counts, chunk_size, key0, key1, dt, sc_t, sc_w, sc_d):
    rule = proj_i[j, bp.JI_RULE]
    if rule == bp.RULE_FTN or rule == bp.RULE_FOUT or rule == bp.RULE_FIN:
        return row_extent(j, pre, chunk, proj_i, counts)[1]
    return gen_row(j, pre, chunk, proj_f, proj_i, counts, chunk_size, key0, key1, dt, sc_t, sc_w, sc_d)


@kernel(parallel=True)
def stored_rows(fill, cell_pos, units, pop_i, in_proj, proj_f, proj_i, counts, chunk_size, key0, key1, dt,
                sc_t, sc_w, sc_d, syn_loc, syn_w, syn_d, proj_code, syn_q):
    """The two passes of the stored CSR, rows ordered by (source gid, unit).

    fill False: cell_pos[(gid * U + u)] += synapse count of the cell (counted rules read
    their counts, others generate the row to count it). fill True: cell_pos holds each
    cell's next free position (a copy of the row pointers) and the rows are written:
    syn_loc = chunk-local target * 2 + receptor, and where syn_q is not empty the
    synapse's plasticity code (proj_code of its projection: build.long_term.syn_codes). Each unit touches
    only its own cells, so the parallel loop has no races.
    """
    U = units.shape[0]
    for u in prange(U):
        k = units[u, bp.UI_POP]
        chunk = units[u, bp.UI_CHUNK]
        for jj in range(pop_i[k, bp.PI_IN_START], pop_i[k, bp.PI_IN_END]):
            j = in_proj[jj]
            off = proj_i[j, bp.JI_PRE_OFF]
            rec = proj_i[j, bp.JI_REC]
            for pre in range(proj_i[j, bp.JI_PRE_SIZE]):
                cell = (off + pre) * U + u
                if not fill:
                    cell_pos[cell] += _row_len(j, pre, chunk, proj_f, proj_i, counts, chunk_size, key0, key1, dt,
                                               sc_t[u], sc_w[u], sc_d[u])
                    continue
                n = gen_row(j, pre, chunk, proj_f, proj_i, counts, chunk_size, key0, key1, dt,
                            sc_t[u], sc_w[u], sc_d[u])
                at = cell_pos[cell]
                for s in range(n):
                    syn_loc[at + s] = np.int32(sc_t[u, s] * 2 + rec)
                    syn_w[at + s] = sc_w[u, s]
                    syn_d[at + s] = np.int32(sc_d[u, s])
                if syn_q.size:
                    for s in range(n):
                        syn_q[at + s] = np.int16(proj_code[j])
                cell_pos[cell] = at + n


@kernel
def row_targets(j, pre, chunk, proj_f, proj_i, counts, chunk_size, key0, key1, out_t):
    """The chunk-local targets of row (pre, chunk) of projection j, as gen_row places them
    (the same counters and word 0), without weights and delays; returns the row length."""
    rule = proj_i[j, bp.JI_RULE]
    tag = proj_i[j, bp.JI_TAG]
    c0 = chunk * chunk_size
    clen = min(chunk_size, proj_i[j, bp.JI_POST_SIZE] - c0)
    n = 0
    if rule == bp.RULE_FTN or rule == bp.RULE_FOUT:
        cnt = row_extent(j, pre, chunk, proj_i, counts)[1]
        for k in range(cnt):
            w0, w1, w2, w3 = philox(k, chunk, pre, tag, key0, key1)
            out_t[k] = below(w0, clen)
        n = cnt
    elif rule == bp.RULE_FIN:
        # not on a hot path (the input bound adds K per post without placing): plain scratch
        n_row = row_extent(j, pre, chunk, proj_i, counts)[1]
        n = indegree_row(j, pre, chunk, clen, proj_i, counts, tag, key0, key1, np.empty(n_row, np.int64), out_t,
                         np.empty(n_row, np.int64))
    elif rule == bp.RULE_FP:
        # the weight buffers are not written (weights=False)
        n = fp_row(j, pre, chunk, clen, proj_f, tag, key0, key1, False, 0.0, out_t, out_t, out_t)
    elif rule == bp.RULE_O2O:
        if c0 <= pre < c0 + clen:
            out_t[0] = pre - c0
            n = 1
    else:
        for k in range(clen):
            out_t[k] = k
        n = clen
    return n


@kernel(parallel=True)
def input_bounds(units, pop_i, in_proj, proj_f, proj_i, counts, chunk_size, key0, key1, wq, sc_t, out_a, out_d):
    """Per unit (post chunk) and receptor, the largest synaptic input any of its neurons can
    receive in one step, in two integer parts: out_a[u, r] = max over the unit's neurons of
    the sum of wq[j] over their incoming synapses (wq: each projection's weight bound in
    fixed units), out_d[u, r] = their largest in-degree. Integer sums: exact in any order,
    so every backend and thread count finds the same numbers. Every synapse is placed once
    (its row's targets), none is stored."""
    U = units.shape[0]
    for u in prange(U):
        k = units[u, bp.UI_POP]
        chunk = units[u, bp.UI_CHUNK]
        clen = units[u, bp.UI_GID_END] - units[u, bp.UI_GID_START]
        acc_a = np.zeros((2, clen), dtype=np.int64)
        acc_d = np.zeros((2, clen), dtype=np.int64)
        for jj in range(pop_i[k, bp.PI_IN_START], pop_i[k, bp.PI_IN_END]):
            j = in_proj[jj]
            rec = proj_i[j, bp.JI_REC]
            w = wq[j]
            if proj_i[j, bp.JI_RULE] == bp.RULE_FIN:   # exactly K inputs each: nothing to place
                for t in range(clen):
                    acc_a[rec, t] += proj_i[j, bp.JI_N] * w
                    acc_d[rec, t] += proj_i[j, bp.JI_N]
                continue
            for pre in range(proj_i[j, bp.JI_PRE_SIZE]):
                n = row_targets(j, pre, chunk, proj_f, proj_i, counts, chunk_size, key0, key1, sc_t[u])
                for x in range(n):
                    t = sc_t[u, x]
                    acc_a[rec, t] += w
                    acc_d[rec, t] += 1
        for r in range(2):
            out_a[u, r] = acc_a[r].max() if clen > 0 else 0
            out_d[u, r] = acc_d[r].max() if clen > 0 else 0


@kernel(parallel=True)
def projection_rows(fill, j, pos, proj_f, proj_i, counts, chunk_size, key0, key1, dt, sc_t, sc_w, sc_d,
                    out_pre, out_post, out_w, out_d):
    """Every synapse of projection j, as gen_row generates them, parallel over post chunks
    (chunk c uses scratch rows sc_*[c]). fill False: pos[c] = the chunk's synapse count.
    fill True: pos[c] is the chunk's first position, and its synapses are written from
    there, by pre then in row order: pre and post (population-local), fixed-point weight,
    delay (steps)."""
    for c in prange(proj_i[j, bp.JI_NCHUNK]):
        at = pos[c]
        for pre in range(proj_i[j, bp.JI_PRE_SIZE]):
            if not fill:
                pos[c] += _row_len(j, pre, c, proj_f, proj_i, counts, chunk_size, key0, key1, dt, sc_t[c], sc_w[c],
                                   sc_d[c])
                continue
            n = gen_row(j, pre, c, proj_f, proj_i, counts, chunk_size, key0, key1, dt, sc_t[c], sc_w[c], sc_d[c])
            for x in range(n):
                out_pre[at + x] = pre
                out_post[at + x] = c * chunk_size + sc_t[c, x]
                out_w[at + x] = sc_w[c, x]
                out_d[at + x] = sc_d[c, x]
            at += n
