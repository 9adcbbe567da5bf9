"""Numba kernels of short-term plasticity (build.short_term): each spike's efficacy, and the
weights it scales.

The efficacies of a batch of spikes are computed before the batch is delivered, one spike
after another in buffer order: a step's own spikes (one per neuron), or the spikes received
from other ranks, sorted by gid with each neuron's in step order (comm.exchange's stable
sort). So every neuron's spikes update its state in time order, and the state after a
spike is a function of the neuron's spike train alone: equal on every rank and backend.
"""
import numpy as np

from ...build import short_term as st
from ...rng.portable_math import EXP_ARG_MIN
from .jit import kernel
from .rng_kernels import pexp


@kernel(inline="always")
def decay(h, tau):
    """exp(-h / tau) for h >= 0 ms, tau > 0 ms: pexp, the portable exp, 0 below its domain
    (portable_math.EXP_ARG_MIN; the GPU's stp.cu: the same bits)."""
    a = -h / tau
    return 0.0 if a < EXP_ARG_MIN else pexp(a)


@kernel
def stp_efficacies(spk_gid, spk_step, n, stp_f, stp_i, su, sx, slast, dt, eff):
    """eff[s, q] = the efficacy x u of spike s (gid spk_gid[s], emitted at step spk_step[s])
    in group q, for the first n spikes and every group whose source population holds the
    spike's neuron; updates the groups' state (su, sx, slast: u, x and the last spike's
    stamp, the step after its emission as NEST stamps it) as NEST's tsodyks2_synapse does
    (model.short_term.TsodyksMarkram). Entries of other groups are left as they are."""
    G = stp_i.shape[0]
    for s in range(n):
        g = spk_gid[s]
        stamp = spk_step[s] + 1
        for q in range(G):
            i = g - stp_i[q, st.SI_GID0]
            if i < 0 or i >= stp_i[q, st.SI_SIZE]:
                continue
            k = stp_i[q, st.SI_OFF] + i
            u = su[k]
            x = sx[k]
            if slast[k] != st.NO_SPIKE:   # a neuron's first spike uses the initial u and x
                h = (stamp - slast[k]) * dt
                big_u = stp_f[q, st.SF_U]
                tau_fac = stp_f[q, st.SF_TAU_FAC]
                u_decay = 0.0 if tau_fac < 1e-10 else decay(h, tau_fac)
                x = 1.0 + (x - x * u - 1.0) * decay(h, stp_f[q, st.SF_TAU_REC])
                u = big_u + u * (1.0 - big_u) * u_decay
                su[k] = u
                sx[k] = x
            slast[k] = stamp
            eff[s, q] = x * u


@kernel(inline="always")
def scaled(w, e):
    """A fixed-point weight w scaled by efficacy e (0 <= e <= 1): the nearest integer, ties to
    even (rint; the GPU's __double2ll_rn). |result| <= |w|, so the input bound still holds."""
    return np.int64(np.rint(np.float64(w) * e))


@kernel(inline="always")
def scale_row(w, n, e):
    """w[x] = scaled(w[x], e) for the first n weights of a regenerated row."""
    for x in range(n):
        w[x] = scaled(w[x], e)
