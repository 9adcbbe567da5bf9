"""Redrawn normals: a value drawn again until it lies at or above a bound (NumPy specification).

A delay `Normal(mean, sd, outside="redraw")` is the normal truncated at dt, as NEST 2's
`normal_clipped` (the multi-area model's own code) and GeNN's `NormalClippedDelay` draw it,
where `outside="clip"` puts every draw below dt on dt; `Normal(..., low=dt / 2)` truncates
at dt / 2 as NEST 3's `nest.math.redraw` in the microcircuit example (its draws in [dt / 2,
dt) then clip to dt, one step), and a bound above dt truncates there. A synapse first draws
its value from its own counter's words 1 and 2, as every rule does. If that value is below
the bound, the redraws come from REDRAW counters of the synapse: block 0 is Philox of (c0,
c1, c2, REDRAW tag), where c0..c2 are the synapse's own SYN counter words, and block b + 1
is Philox of words 0..2 of block b (a chain, as the counter has no free word for a redraw
index). Each block gives four candidates, in the order z_cos, z_sin of Box-Muller (words 0,
1), then z_cos, z_sin of (words 2, 3), and the first mean + sd z at or above the bound is
the value. So the value is a pure function of the seed and the synapse's counter: every
engine, rank and thread gets it.

With mean >= bound (connect checks that a delay's bound is <= its mean) a candidate passes with
probability >= 1/2, so a block fails with probability <= 1/16: the loop ends. The numba and
CUDA versions (backends/cpu/rng_kernels.redraw_normal, kernels/common.cuh) are tested equal.
"""
import numpy as np

from . import streams
from .philox import philox4x32, uniform_open0_closed1
from .portable_math import box_muller


def redraw_tag(syn_tag):
    """The REDRAW-domain counter word 3 of a projection, from its SYN-domain word."""
    return streams.retag(syn_tag, streams.DOM_REDRAW)


def redrawn(c0, c1, c2, syn_tag, key0, key1, mean, sd, low):
    """The redrawn value (mean + sd z >= low) of each synapse with SYN counter words
    (c0[i], c1[i], c2[i]) of the projection with SYN word `syn_tag` (arrays broadcast together;
    float64 out, in the unit of mean, e.g. ms)."""
    c = [np.asarray(x, dtype=np.uint64) for x in np.broadcast_arrays(c0, c1, c2)]
    shape, n = c[0].shape, c[0].size
    out = np.full(n, np.nan)
    todo = np.arange(n)
    c = [x.reshape(-1) for x in c]
    tag = redraw_tag(syn_tag)
    while todo.size:
        w = philox4x32(c[0], c[1], c[2], tag, key0, key1)
        za, zb = box_muller(uniform_open0_closed1(w[0]), uniform_open0_closed1(w[1]))
        zc, zd = box_muller(uniform_open0_closed1(w[2]), uniform_open0_closed1(w[3]))
        done = np.zeros(todo.size, dtype=bool)
        for z in (za, zb, zc, zd):   # the first candidate at or above the bound, in this order
            x = mean + sd * z
            take = ~done & (x >= low)
            out[todo[take]] = x[take]
            done |= take
        todo = todo[~done]
        c = [x[~done] for x in w[:3]]   # the chain: the next block's counter
    return out.reshape(shape)
