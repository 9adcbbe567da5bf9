"""Numba kernel: exact iaf_psc_exp update with the Poisson input fused in.

Per neuron and step t (NEST's order of operations):
  1. read and clear the input slot t % L (int64 fixed point, excitatory and inhibitory);
     add this step's Poisson counts (emitted at t - delay) times their fixed-point weight;
  2. if not refractory: V = V*P22 + I_ex*P21ex + I_in*P21in + (I_e + I_dc)*P20, else count down;
  3. I_X = I_X*P11X + input_X * 2**-k_X;
  4. V >= V_th: spike (time (t+1)*dt), V = V_reset, refractory for ref_steps.
V is stored relative to E_L (mV), currents in pA.
"""
import numpy as np
from numba import njit, prange

from ...build import plan as bp
from ...build.poisson_input import KCAP
from ...rng import streams
from .rng_kernels import philox

M32 = np.uint64(0xFFFFFFFF)
NOISE_TAG = np.int64(streams.DOM_NOISE << streams.DOMAIN_SHIFT)
TWO_M32 = 2.0 ** -32


@njit(cache=True, inline="always")
def poisson_inv(u, explam, ratio):
    """Poisson sample by sequential inversion of u in (0, 1) (see build.poisson_input)."""
    k = 0
    p = explam
    f = p
    while u > f and k < KCAP:
        k += 1
        p = p * ratio[k]
        f = f + p
    return k


@njit(cache=True, inline="always")
def poisson_count(t, g, q, pin_f, pin_i, pin_ratio, key0, key1):
    """Total Poisson count of input q for neuron g arriving at step t (emitted at t - delay)."""
    s = t - pin_i[q, bp.QI_DELAY]
    nsub = pin_i[q, bp.QI_NSUB]
    if s < 0 or nsub == 0:
        return 0
    explam = pin_f[q, bp.QF_EXPLAM]
    ratio = pin_ratio[q]
    base = NOISE_TAG | (pin_i[q, bp.QI_INDEX] << 16)
    s_lo = np.uint64(s) & M32
    s_hi = np.uint64(s) >> np.uint64(32)
    total = 0
    w0 = w1 = w2 = w3 = np.uint64(0)
    for sub in range(nsub):
        r = sub & 3
        if r == 0:
            w0, w1, w2, w3 = philox(s_lo, s_hi, g, base | (sub >> 2), key0, key1)
        word = w0 if r == 0 else (w1 if r == 1 else (w2 if r == 2 else w3))
        total += poisson_inv((float(word) + 0.5) * TWO_M32, explam, ratio)
    return total


@njit(cache=True, parallel=True)
def update_neurons(t, v, i_ex, i_in, refr, ring, ring_len, n_local, units, pop_f, pop_i,
                   pin_f, pin_i, pin_ratio, dc_f, dc_i, key0, key1, spk_unit, spk_cnt):
    """Advance every local neuron from step t to t+1; spikes go to spk_unit[u, :spk_cnt[u]]."""
    slot = t % ring_len
    ex0 = (slot * 2) * n_local
    in0 = (slot * 2 + 1) * n_local
    for u in prange(units.shape[0]):
        k = units[u, bp.UI_POP]
        g0 = units[u, bp.UI_GID_START]
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
        for d in range(pop_i[k, bp.PI_DC_START], pop_i[k, bp.PI_DC_END]):
            if dc_i[d, 0] <= t < dc_i[d, 1]:
                i_stim = i_stim + dc_f[d, 0]
        q0 = pop_i[k, bp.PI_PIN_START]
        q1 = pop_i[k, bp.PI_PIN_END]
        n_spk = 0
        for g in range(g0, units[u, bp.UI_GID_END]):
            li = l0 + (g - g0)
            in_ex = ring[ex0 + li]
            in_in = ring[in0 + li]
            ring[ex0 + li] = 0
            ring[in0 + li] = 0
            for q in range(q0, q1):
                c = poisson_count(t, g, q, pin_f, pin_i, pin_ratio, key0, key1)
                if pin_i[q, bp.QI_REC] == 0:
                    in_ex += c * pin_i[q, bp.QI_WINT]
                else:
                    in_in += c * pin_i[q, bp.QI_WINT]
            vm = v[li]
            if refr[li] == 0:
                vm = vm * p22 + i_ex[li] * p21ex + i_in[li] * p21in + i_stim * p20
            else:
                refr[li] -= 1
            i_ex[li] = i_ex[li] * p11ex + float(in_ex) * inv_ex
            i_in[li] = i_in[li] * p11in + float(in_in) * inv_in
            if vm >= vth:
                vm = vreset
                refr[li] = ref_steps
                spk_unit[u, n_spk] = g
                n_spk += 1
            v[li] = vm
        spk_cnt[u] = n_spk
