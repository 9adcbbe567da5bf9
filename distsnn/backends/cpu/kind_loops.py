"""The row loops of the projections with a kind of draw of their own (a Uniform, Exponential
or LogNormal weight or delay: rng.synapse_variates), for the row generators of
connectivity_kernels: fixed_probability's blocks of draws (fp_kinds), fixed_total_number's
and fixed_outdegree's rows (counted_kinds) and fixed_indegree's (slot_kinds). The Normals'
and constants' loops stay inlined in the generators themselves."""
import math

import numpy as np

from .jit import kernel
from .rng_kernels import below, kind_pair, philox, plog, u01
from .synapse_kernels import synapse_from_variates


@kernel(inline="always")
def _fp_kinds(k0, k1, chunk, pre, tag, key0, key1, r, fclen, flags, logs, uni, wmean, wsd, scale, dmean, dsd, dt, dlow,
              out_t, out_w, out_d):
    """fp_block's draws k0 <= k < k1 for a projection with a kind of draw of its own (flags:
    rng_kernels.kind_flags; logs: a constant, True where it has an Exponential)."""
    for k in range(k0, k1):
        w0, w1, w2, w3 = philox(k, chunk, pre, tag, key0, key1)
        out_t[k] = np.int64(min(math.floor(plog(u01(w0)) * r), fclen))
        z0, z1 = kind_pair(w1, w2, w3, flags, logs)
        out_w[k], out_d[k] = synapse_from_variates(z0, z1, uni, wmean, wsd, scale, dmean, dsd, dt, dlow, k)


@kernel(inline="always")
def _counted_kinds(cnt, chunk, pre, tag, key0, key1, clen, flags, logs, uni, wmean, wsd, scale, dmean, dsd, dt, dlow,
                   out_t, out_w, out_d):
    """A fixed_total_number or fixed_outdegree row's cnt synapses for a projection with a kind
    of draw of its own (as _fp_kinds)."""
    for k in range(cnt):
        w0, w1, w2, w3 = philox(k, chunk, pre, tag, key0, key1)
        out_t[k] = below(w0, clen)
        z0, z1 = kind_pair(w1, w2, w3, flags, logs)
        out_w[k], out_d[k] = synapse_from_variates(z0, z1, uni, wmean, wsd, scale, dmean, dsd, dt, dlow, k)


@kernel(inline="always")
def _slot_kinds(n, chunk, tag, key0, key1, flags, logs, uni, wmean, wsd, scale, dmean, dsd, dt, dlow, out_w, out_d):
    """A fixed_indegree row's n synapses, their input slots waiting in out_d, for a projection
    with a kind of draw of its own (as _fp_kinds)."""
    for k in range(n):
        slot = out_d[k]
        w0, w1, w2, w3 = philox(slot, chunk, 0, tag, key0, key1)
        z0, z1 = kind_pair(w1, w2, w3, flags, logs)
        out_w[k], out_d[k] = synapse_from_variates(z0, z1, uni, wmean, wsd, scale, dmean, dsd, dt, dlow, slot)


# The loops of the projections with a kind of draw of their own, each in two copies: with the
# Exponential's log (logs True) and without, so that a Uniform's loop holds no logarithm (with
# it, LLVM kept a select and computed both: a third more time). Not inlined into the row
# generators, unlike the Normals' loops: inlined, the six copies went into every kernel that
# generates rows, and a fresh machine's first compile took 126 s instead of 77; called, they
# are compiled once, for a call per row.
@kernel
def fp_kinds(k0, k1, chunk, pre, tag, key0, key1, r, fclen, flags, uni, wmean, wsd, scale, dmean, dsd, dt, dlow,
             out_t, out_w, out_d):
    if flags[3] or flags[4]:
        _fp_kinds(k0, k1, chunk, pre, tag, key0, key1, r, fclen, flags, True, uni, wmean, wsd, scale, dmean, dsd, dt,
                  dlow, out_t, out_w, out_d)
    else:
        _fp_kinds(k0, k1, chunk, pre, tag, key0, key1, r, fclen, flags, False, uni, wmean, wsd, scale, dmean, dsd, dt,
                  dlow, out_t, out_w, out_d)


@kernel
def counted_kinds(cnt, chunk, pre, tag, key0, key1, clen, flags, uni, wmean, wsd, scale, dmean, dsd, dt, dlow, out_t,
                  out_w, out_d):
    if flags[3] or flags[4]:
        _counted_kinds(cnt, chunk, pre, tag, key0, key1, clen, flags, True, uni, wmean, wsd, scale, dmean, dsd, dt,
                       dlow, out_t, out_w, out_d)
    else:
        _counted_kinds(cnt, chunk, pre, tag, key0, key1, clen, flags, False, uni, wmean, wsd, scale, dmean, dsd, dt,
                       dlow, out_t, out_w, out_d)


@kernel
def slot_kinds(n, chunk, tag, key0, key1, flags, uni, wmean, wsd, scale, dmean, dsd, dt, dlow, out_w, out_d):
    if flags[3] or flags[4]:
        _slot_kinds(n, chunk, tag, key0, key1, flags, True, uni, wmean, wsd, scale, dmean, dsd, dt, dlow, out_w, out_d)
    else:
        _slot_kinds(n, chunk, tag, key0, key1, flags, False, uni, wmean, wsd, scale, dmean, dsd, dt, dlow, out_w,
                    out_d)
