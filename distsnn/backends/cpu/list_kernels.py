"""Numba kernels of the synapse lists' build (build.synapse_lists): their drawn variates, the
per-neuron sums of their input bound, and the grouping of their CSR. Each is O(synapses),
where the NumPy versions (a Philox in NumPy, argsorts) took over 1 us per synapse: 107 s
for a list of 8e7 synapses (scripts/bench_rules.py)."""
import numpy as np
from numba import prange

from .jit import kernel
from .rng_kernels import M32, philox, variates


@kernel(parallel=True)
def list_variates(tag, key0, key1, uni, wsd, dsd, z0, z1):
    """The variates of synapses i = 0 .. z0.size-1 of a list projection with kinds
    `uni` and spreads wsd, dsd: SYN counter (i lo, i hi, 0, tag), words 1 to 3 (z0 the
    weight's, z1 the delay's: rng_kernels.variates), as the NumPy specification
    (synapse_lists.reference_variates) draws them."""
    for i in prange(z0.size):
        _, w1, w2, w3 = philox(np.uint64(i) & M32, np.uint64(i) >> np.uint64(32), 0, tag, key0, key1)
        z0[i], z1[i] = variates(w1, w2, w3, uni, wsd, dsd)


@kernel
def per_target_maxima(post, units, n_post):
    """(the largest sum of units[i] over the synapses i onto one target, the largest number of
    synapses onto one target), post: the targets (0 .. n_post-1); exact int64 sums."""
    sums = np.zeros(n_post, dtype=np.int64)
    count = np.zeros(n_post, dtype=np.int64)
    for i in range(post.size):
        sums[post[i]] += units[i]
        count[post[i]] += 1
    return (sums.max(), count.max()) if n_post else (0, 0)


@kernel
def list_cells(pre, post, pre_off, unit_of_chunk, chunk_size, row_of, n_units, counts):
    """counts[cell] += 1 for every synapse of a list onto a local unit (unit_of_chunk: the
    local unit of each chunk of the target population, -1 elsewhere); cell = the source's
    row (row_of, by gid) * n_units + unit."""
    for i in range(pre.size):
        u = unit_of_chunk[post[i] // chunk_size]
        if u >= 0:
            counts[row_of[pre[i] + pre_off] * n_units + u] += 1


@kernel
def list_fill(pre, post, weight, delay, scale, rec, pre_off, unit_of_chunk, chunk_size, row_of, n_units, at,
              syn_loc, syn_w, syn_d, syn_q, group):
    """Write a list's synapses onto local units into their cells (at: each cell's next free
    position, advanced), in the list's order: syn_loc = chunk-local target * 2 + receptor,
    syn_w = floor(weight * scale + 0.5) (the rules' fixed point), syn_d the delay (steps),
    and where syn_q is not empty the list's plasticity code (build.long_term.syn_codes)."""
    for i in range(pre.size):
        u = unit_of_chunk[post[i] // chunk_size]
        if u < 0:
            continue
        cell = row_of[pre[i] + pre_off] * n_units + u
        x = at[cell]
        at[cell] = x + 1
        syn_loc[x] = (post[i] % chunk_size) * 2 + rec
        syn_w[x] = np.int64(np.floor(weight[i] * scale + 0.5))
        syn_d[x] = delay[i]
        if syn_q.size:
            syn_q[x] = group
