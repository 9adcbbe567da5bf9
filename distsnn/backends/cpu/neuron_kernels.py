"""Numba kernel: exact iaf_psc_exp update with the Poisson input fused in.

Per neuron and step t (NEST's order of operations):
  1. read and clear the input slot t % L (int64 fixed point, excitatory and inhibitory);
     add this step's Poisson counts (emitted at t - delay) times their fixed-point weight;
  2. if not refractory: V = V*P22 + I_ex*P21ex + I_in*P21in + (I_e + I_dc)*P20, else count down;
  3. I_X = I_X*P11X + input_X * 2**-k_X;
  4. V >= V_th: spike (time (t+1)*dt), V = V_reset, refractory for ref_steps.
V is stored relative to E_L (mV), currents in pA.

iaf_cond_exp keeps conductances (nS) where iaf_psc_exp keeps currents, and step 2 becomes an
exponential integrator with mid-step conductances (second order, deterministic):
  g_X' = g_X * exp(-dt / (2 tau_X)),  g = g_L + g_ex' + g_in',
  V_inf = (g_ex' E_ex + g_in' E_in + I_e + I_dc) / g,  V = V_inf + (V - V_inf) * exp(-dt g / C_m)
with exp the project's portable exp; steps 3-4 are unchanged (g_X decays exactly).
Neurons are visited in aligned quads
(gid >> 2) because one Philox call gives the Poisson uniforms of four neurons
(see build.poisson_input for the streams).
"""
import numpy as np
from numba import prange

from ...build import plan as bp
from ...build.poisson_input import KCAP
from ...rng import streams
from .jit import kernel
from .rng_kernels import pexp, philox

M32 = np.uint64(0xFFFFFFFF)
NOISE_TAG = np.int64(streams.DOM_NOISE << streams.DOMAIN_SHIFT)
TWO_M32 = 2.0 ** -32
EARLY = 8   # poisson_sample: table entries compared without branches (<= KCAP)


@kernel(inline="always")
def poisson_sample(word, cdf):
    """Smallest k <= KCAP with u <= cdf[k], u = (word + 0.5) * 2**-32.

    The table is nondecreasing, so k is the number of entries below u. The first EARLY are
    counted without branches: a search loop's exit is random and mispredicts about once per
    neuron and step, which cost more than the Philox call; larger counts (rare for the
    means of up to 8 per part) continue the plain search."""
    u = (float(word) + 0.5) * TWO_M32
    k = 0
    for i in range(EARLY):
        k += u > cdf[i]
    if k == EARLY:
        while k < KCAP and u > cdf[k]:
            k += 1
    return k


@kernel(inline="always")
def _word(r, w0, w1, w2, w3):
    if r == 0:
        return w0
    if r == 1:
        return w1
    if r == 2:
        return w2
    return w3


@kernel(inline="always")
def quad_poisson_input(t, quad, lo, hi, q0, q1, pin_i, pin_cdf, key0, key1, acc):
    """Add the Poisson input of neurons lo..hi-1 (one quad) at step t to acc[rec * 4 + gid & 3]."""
    for q in range(q0, q1):
        s = t - pin_i[q, bp.QI_DELAY]
        if s < 0:
            continue
        base = NOISE_TAG | (pin_i[q, bp.QI_INDEX] << 16)
        w_int = pin_i[q, bp.QI_WINT]
        off = pin_i[q, bp.QI_REC] * 4
        cdf = pin_cdf[q]
        for j in range(pin_i[q, bp.QI_NSUB]):
            w0, w1, w2, w3 = philox(np.uint64(s) & M32, np.uint64(s) >> np.uint64(32), quad, base | j, key0, key1)
            for g in range(lo, hi):
                acc[off + (g & 3)] += poisson_sample(_word(g & 3, w0, w1, w2, w3), cdf) * w_int


@kernel(parallel=True)
def update_neurons(t, v, i_ex, i_in, refr, ring, ring_len, n_local, units, pop_f, pop_i,
                   pin_i, pin_cdf, dc_f, dc_i, key0, key1, spk_unit, spk_cnt, noise_acc,
                   sched_step, sched_gid, sched_cursor):
    """Advance every local neuron from step t to t+1; spikes go to spk_unit[u, :spk_cnt[u]].

    noise_acc: (units, 8) int64 scratch for the Poisson input of one quad. Units of spike
    sources emit their scheduled spikes of step t instead (sched_cursor: next entry per unit).
    """
    slot = t % ring_len
    ex0 = (slot * 2) * n_local
    in0 = (slot * 2 + 1) * n_local
    for u in prange(units.shape[0]):
        k = units[u, bp.UI_POP]
        if pop_i[k, bp.PI_SOURCE] == 1:
            c = sched_cursor[u]
            end = units[u, bp.UI_SCHED_END]
            n_spk = 0
            while c < end and sched_step[c] < t:
                c += 1
            while c < end and sched_step[c] == t:
                spk_unit[u, n_spk] = sched_gid[c]
                n_spk += 1
                c += 1
            sched_cursor[u] = c
            spk_cnt[u] = n_spk
            continue
        g0 = units[u, bp.UI_GID_START]
        g1 = units[u, bp.UI_GID_END]
        l0 = units[u, bp.UI_LOCAL_START]
        p22 = pop_f[k, bp.PF_P22]
        p11ex = pop_f[k, bp.PF_P11EX]
        p11in = pop_f[k, bp.PF_P11IN]
        p21ex = pop_f[k, bp.PF_P21EX]
        p21in = pop_f[k, bp.PF_P21IN]
        p20 = pop_f[k, bp.PF_P20]
        vth = pop_f[k, bp.PF_VTH]
        vreset = pop_f[k, bp.PF_VRESET]
        inv_ex = pop_f[k, bp.PF_INVSC_EX]
        inv_in = pop_f[k, bp.PF_INVSC_IN]
        ref_steps = pop_i[k, bp.PI_REF]
        i_stim = pop_f[k, bp.PF_IE]
        cond = pop_i[k, bp.PI_MODEL] == 1
        g_l = pop_f[k, bp.PF_GL]
        c_m = pop_f[k, bp.PF_CM]
        e_ex = pop_f[k, bp.PF_EEX]
        e_in = pop_f[k, bp.PF_EIN]
        ph_ex = pop_f[k, bp.PF_PHEX]
        ph_in = pop_f[k, bp.PF_PHIN]
        h = pop_f[k, bp.PF_DT]
        for d in range(pop_i[k, bp.PI_DC_START], pop_i[k, bp.PI_DC_END]):
            if dc_i[d, 0] <= t < dc_i[d, 1]:
                i_stim = i_stim + dc_f[d, 0]
        q0 = pop_i[k, bp.PI_PIN_START]
        q1 = pop_i[k, bp.PI_PIN_END]
        acc = noise_acc[u]
        n_spk = 0
        for quad in range(g0 >> 2, ((g1 - 1) >> 2) + 1):
            lo = max(quad * 4, g0)
            hi = min(quad * 4 + 4, g1)
            acc[:] = 0
            quad_poisson_input(t, quad, lo, hi, q0, q1, pin_i, pin_cdf, key0, key1, acc)
            for g in range(lo, hi):
                li = l0 + (g - g0)
                in_ex = ring[ex0 + li] + acc[g & 3]
                in_in = ring[in0 + li] + acc[4 + (g & 3)]
                ring[ex0 + li] = 0
                ring[in0 + li] = 0
                vm = v[li]
                if refr[li] != 0:
                    refr[li] -= 1
                elif cond:
                    gex = i_ex[li] * ph_ex
                    gin = i_in[li] * ph_in
                    g_tot = g_l + gex + gin
                    vinf = (gex * e_ex + gin * e_in + i_stim) / g_tot
                    vm = vinf + (vm - vinf) * pexp((-h * g_tot) / c_m)
                else:
                    vm = vm * p22 + i_ex[li] * p21ex + i_in[li] * p21in + i_stim * p20
                i_ex[li] = i_ex[li] * p11ex + float(in_ex) * inv_ex
                i_in[li] = i_in[li] * p11in + float(in_in) * inv_in
                if vm >= vth:
                    vm = vreset
                    refr[li] = ref_steps
                    spk_unit[u, n_spk] = g
                    n_spk += 1
                v[li] = vm
        spk_cnt[u] = n_spk
