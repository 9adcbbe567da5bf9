"""Vectorised NumPy reference of the connection rules (for tests and small networks)."""
import numpy as np

from ..build import plan as bp
from ..rng import streams
from ..rng import permutation
from ..rng.philox import philox4x32, uniform_open0_closed1, uint_below
from ..rng.portable_math import plog
from ..rng.redraw import redrawn
from ..rng.synapse_variates import variates, weight_values


def count_tag(syn_tag):
    """The COUNT-domain counter word of a projection, from its SYN-domain word."""
    return streams.retag(syn_tag, streams.DOM_COUNT)


def indegree_slots(plan, j):
    """Running sums of a fixed_indegree projection, shape (n_pre + 1, n_chunks): entry (pre,
    chunk) is the number of the chunk's input slots taken by pres before `pre` (row n_pre: the
    chunk's clen x K slots). Slot i of chunk c draws its pre from COUNT counter (i, c, 0)."""
    pi = plan.proj_i[j]
    n_pre, n_post, nch, K = (int(pi[x]) for x in (bp.JI_PRE_SIZE, bp.JI_POST_SIZE, bp.JI_NCHUNK, bp.JI_N))
    tag = count_tag(pi[bp.JI_TAG])
    out = np.zeros((n_pre + 1, nch), dtype=np.uint32)
    for c in range(nch):
        clen = min(plan.chunk_size, n_post - c * plan.chunk_size)
        w = philox4x32(np.arange(clen * K, dtype=np.uint64), c, 0, tag, plan.key0, plan.key1)
        hist = np.bincount(uint_below(w[0], n_pre).astype(np.int64), minlength=n_pre)
        out[1:, c] = np.cumsum(hist)
    return out


def projection_counts(plan, j):
    """Synapse counts per (pre, post chunk) of counted projection j, shape (n_pre, n_chunks)
    (fixed_indegree: its running sums, shape (n_pre + 1, n_chunks): indegree_slots)."""
    pi = plan.proj_i[j]
    rule, n_pre, n_post, nch = pi[bp.JI_RULE], pi[bp.JI_PRE_SIZE], pi[bp.JI_POST_SIZE], pi[bp.JI_NCHUNK]
    tag = count_tag(pi[bp.JI_TAG])
    if rule == bp.RULE_FIN:
        return indegree_slots(plan, j)
    if rule == bp.RULE_FTN:
        i = np.arange(pi[bp.JI_N], dtype=np.uint64)
        w = philox4x32(i & np.uint64(0xFFFFFFFF), i >> np.uint64(32), 0, tag, plan.key0, plan.key1)
        pre = uint_below(w[0], n_pre).astype(np.int64)
        post = uint_below(w[1], n_post).astype(np.int64)
    elif rule == bp.RULE_FOUT:
        n = pi[bp.JI_N]
        pre = np.repeat(np.arange(n_pre, dtype=np.int64), n)
        i = np.tile(np.arange(n, dtype=np.uint64), n_pre)
        w = philox4x32(i, 0, pre, tag, plan.key0, plan.key1)
        post = uint_below(w[0], n_post).astype(np.int64)
    else:
        raise ValueError(f"projection {j} has no per-row counts (rule {rule})")
    cells = pre * nch + post // plan.chunk_size
    return np.bincount(cells, minlength=n_pre * nch).astype(np.uint32).reshape(n_pre, nch)


def synapse_values(words, jf, dt, counter=None):
    """Weights (pA), fixed-point weights and delays (steps) from the synapses' counter words
    (the four arrays of their Philox calls; words 1 to 3 feed rng.synapse_variates).

    counter: (c0, c1, c2, SYN tag, key0, key1) of the synapses, for a projection that
    redraws its delays below its bound (JF_DREDRAW * dt, rng.redraw); then, or otherwise, they
    are clipped to dt."""
    z0, z1 = variates(words[1], words[2], words[3], jf[bp.JF_KINDS], jf[bp.JF_WSD], jf[bp.JF_DSD])
    w = weight_values(z0, jf[bp.JF_WMEAN], jf[bp.JF_WSD], jf[bp.JF_KINDS])
    w_int = np.floor(w * jf[bp.JF_SCALE] + 0.5).astype(np.int64)
    d = jf[bp.JF_DMEAN] + jf[bp.JF_DSD] * z1
    bound = jf[bp.JF_DREDRAW] * dt
    low = d < bound
    if jf[bp.JF_DREDRAW] != 0.0 and low.any():
        c0, c1, c2, tag, key0, key1 = counter
        c0, c1, c2 = (x[low] for x in np.broadcast_arrays(c0, c1, c2))
        d = d.copy()
        d[low] = redrawn(c0, c1, c2, tag, key0, key1, jf[bp.JF_DMEAN], jf[bp.JF_DSD], bound)
    d = np.where(d < dt, dt, d)
    d_steps = np.floor(d * (1.0 / dt) + 0.5).astype(np.int64)   # NEST's rounding (plan._delay_steps)
    return w, w_int, d_steps


def row(plan, j, pre, chunk, counts=None):
    """Row (pre, chunk) of projection j: post-population-local targets, w (pA), w_int, delay steps."""
    pi, jf = plan.proj_i[j], plan.proj_f[j]
    C = plan.chunk_size
    c0 = chunk * C
    clen = min(C, int(pi[bp.JI_POST_SIZE]) - c0)
    rule = pi[bp.JI_RULE]
    key = (plan.key0, plan.key1)
    c2 = pre   # the synapses' counter words 0 (k, set below) and 2, for a redraw
    if rule in (bp.RULE_FTN, bp.RULE_FOUT):
        n = int(counts[pre, chunk])
        k = np.arange(n, dtype=np.uint64)
        w = philox4x32(k, chunk, pre, pi[bp.JI_TAG], *key)
        tgt = c0 + uint_below(w[0], clen).astype(np.int64)
    elif rule == bp.RULE_FIN:
        # synapse k: input slot pi(S + k) of the chunk, of post slot // K, its words from
        # SYN counter (slot, chunk, 0) (rng.permutation)
        K, start = int(pi[bp.JI_N]), int(counts[pre, chunk])
        n = int(counts[pre + 1, chunk]) - start
        keys = permutation.round_keys(chunk, pi[bp.JI_TAG], *key)
        slot = permutation.permute(np.arange(start, start + n, dtype=np.uint64), clen * K, keys)
        w = philox4x32(slot, chunk, 0, pi[bp.JI_TAG], *key)
        tgt = c0 + (slot // np.uint64(max(K, 1))).astype(np.int64)
        k, c2 = slot, 0
    elif rule == bp.RULE_FP:
        p = jf[bp.JF_P]
        if p <= 0:
            k = np.zeros(0, dtype=np.uint64)
        else:
            k = np.arange(clen, dtype=np.uint64)        # at most clen synapses in a row
        w = philox4x32(k, chunk, pre, pi[bp.JI_TAG], *key)
        step = np.floor(plog(uniform_open0_closed1(w[0])) * jf[bp.JF_R])
        step = np.minimum(step, clen).astype(np.int64)
        pos = np.cumsum(1 + step) - 1
        keep = pos < clen
        w = tuple(x[keep] for x in w)
        tgt = c0 + pos[keep]
        k = k[keep]
    elif rule == bp.RULE_O2O:
        k = np.arange(1 if c0 <= pre < c0 + clen else 0, dtype=np.uint64)
        w = philox4x32(k, chunk, pre, pi[bp.JI_TAG], *key)
        tgt = np.full(k.size, pre, dtype=np.int64)
    else:
        k = np.arange(clen, dtype=np.uint64)
        w = philox4x32(k, chunk, pre, pi[bp.JI_TAG], *key)
        tgt = c0 + k.astype(np.int64)
    wf, w_int, d = synapse_values(w, jf, plan.dt, (k, chunk, c2, pi[bp.JI_TAG], *key))
    return tgt, wf, w_int, d


def expand_projection(plan, j, counts=None):
    """All synapses of projection j as arrays (pre, post, w pA, w_int, delay steps), row order."""
    pi = plan.proj_i[j]
    if pi[bp.JI_RULE] in bp.COUNTED_RULES and counts is None:
        counts = projection_counts(plan, j)
    out = [[], [], [], [], []]
    for pre in range(int(pi[bp.JI_PRE_SIZE])):
        for chunk in range(int(pi[bp.JI_NCHUNK])):
            tgt, wf, wi, d = row(plan, j, pre, chunk, counts)
            for lst, arr in zip(out, (np.full(tgt.size, pre), tgt, wf, wi, d)):
                lst.append(arr)
    return tuple(np.concatenate(x) if x else np.zeros(0) for x in out)
