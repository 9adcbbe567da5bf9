"""Numba kernels of one synapse's weight and delay: from its variates to the fixed-point
weight and the delay in steps (or a redraw's mark), the redraws after a row's loop, and the
delay bound below which a projection redraws. The row generators (connectivity_kernels)
call them in their loops; rng_kernels draws the variates."""
import math

import numpy as np

from ...build import plan as bp
from ...rng.synapse_variates import LOGNORMAL_WEIGHT, NEGATIVE_WEIGHT
from .jit import kernel
from .rng_kernels import pexp, redraw_normal, variates


@kernel(inline="always")
def synapse_from_normals(z0, z1, wmean, wsd, scale, dmean, dsd, dt, dlow, c0):
    """(fixed-point weight, delay in steps) from the synapse's two standard normals.

    Weights are clipped at 0 to keep the sign of their mean, delays clipped below at dt;
    written as min / max selects so the loops around it can be vectorised. A delay below
    dlow (the projection's redraw bound, -inf where it clips: delay_floor) is marked
    -1 - c0 instead (c0: the synapse's counter word 0), for redraw_delays to replace after
    the loop.
    """
    w = wmean + wsd * z0
    w = max(w, 0.0) if wmean >= 0.0 else min(w, 0.0)
    d = dmean + dsd * z1
    steps = np.int64(math.floor(max(d, dt) * (1.0 / dt) + 0.5))
    return np.int64(math.floor(w * scale + 0.5)), steps if d >= dlow else -1 - np.int64(c0)


@kernel(inline="always")
def synapse_from_variates(z0, z1, kinds, wmean, wsd, scale, dmean, dsd, dt, dlow, c0):
    """synapse_from_normals, but a LogNormal weight (kinds: JF_KINDS) is sign exp(mu + sigma
    z0) with wmean, wsd its mu and sigma, exp the specification's (pexp), and an Exponential
    weight's low + beta z0 (>= 0, unclipped) is negated where its sign is -1
    (rng.synapse_variates.weight_values). For the projections with a kind of draw of their
    own."""
    w_int, d = synapse_from_normals(z0, z1, wmean, wsd, scale, dmean, dsd, dt, dlow, c0)
    bits = np.int64(kinds)
    if (bits & (LOGNORMAL_WEIGHT | NEGATIVE_WEIGHT)) != 0:
        w = pexp(wmean + wsd * z0) if (bits & LOGNORMAL_WEIGHT) != 0 else wmean + wsd * z0
        w = -w if (bits & NEGATIVE_WEIGHT) != 0 else w
        w_int = np.int64(math.floor(w * scale + 0.5))
    return w_int, d


@kernel(inline="always")
def synapse(w1, w2, w3, kinds, wmean, wsd, scale, dmean, dsd, dt, dlow, c0):
    """(fixed-point weight, delay in steps or a redraw's mark) of one synapse from its counter
    words 1 to 3 (variates, synapse_from_variates)."""
    z0, z1 = variates(w1, w2, w3, kinds, wsd, dsd)
    return synapse_from_variates(z0, z1, kinds, wmean, wsd, scale, dmean, dsd, dt, dlow, c0)


@kernel(inline="always")
def delay_floor(proj_f, j, dt):
    """The delay (ms) below which projection j redraws: its bound JF_DREDRAW * dt, or -inf where
    it clips."""
    return proj_f[j, bp.JF_DREDRAW] * dt if proj_f[j, bp.JF_DREDRAW] != 0.0 else -math.inf


@kernel
def redraw_delays(n, out_d, c1, c2, tag, key0, key1, dmean, dsd, dt, dlow):
    """Replace each mark -1 - c0 in out_d[:n] (synapse_from_normals) by the delay, in steps,
    redrawn at or above dlow (ms) for the synapse with counter words (c0, c1, c2) (rng.redraw),
    then clipped to dt (a bound below dt). A pass after a row's vectorised loop, so that the
    rare redraw does not keep that loop scalar."""
    for k in range(n):
        if out_d[k] < 0:
            d = redraw_normal(-1 - out_d[k], c1, c2, tag, key0, key1, dmean, dsd, dlow)
            out_d[k] = np.int64(math.floor(max(d, dt) * (1.0 / dt) + 0.5))
