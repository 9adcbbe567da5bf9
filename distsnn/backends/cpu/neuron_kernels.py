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
iaf_psc_delta has no currents (they stay 0): step 2 adds this step's input (mV) to V,
  V = V*P22 + (I_e + I_dc)*P20 + (input_ex * 2**-k_ex + input_in * 2**-k_in),
so input that arrives while the neuron is refractory is lost (NEST's refractory_input False).
iaf_psc_alpha (integrate_alpha) keeps dJ_X too, and NEST's order: V from the old dJ_X and I_X
(P31, P21), then I_X = I_X*P11X + dJ_X*P21aX, dJ_X = dJ_X*P11X + input_X * 2**-k_X * e/tau_X.
iaf_cond_alpha (integrate_alpha too) keeps g_X and dG_X there, with iaf_cond_exp's V step at
the exact mid-step conductances g_X' = (g_X + dG_X dt/2) exp(-dt / (2 tau_X)), then the same
updates of g_X (from dG_X) and dG_X.
The AdEx models are integrated by an adaptive solver, in aeif_kernels.integrate_aeif;
izhikevich by forward Euler (or Izhikevich's published half steps) in NEST's order of
operations, in integrate_izhikevich (absolute V; u in i_ex). Every model compares V with its
neuron's own threshold (vth: build.neuron_values.thresholds).
Noise currents (Network.add_noise_input) make the injected current per neuron: a unit with
one active fills stim[:n] with I_e + I_dc plus each active input's mean + std * z
(noise_kernels.injected_current), and the update reads it in place of the unit's one value.
The Poisson input of a unit (post chunk) is drawn first, in passes over all its neurons that
vectorise: the Philox words (one call gives the uniforms of the four neurons of an aligned
quad, gid >> 2; see build.poisson_input for the streams), then the counts by inversion; the
update loop then reads them.
"""
import math

import numpy as np
from numba import prange

from ...build import plan as bp
from ...build.poisson_input import KCAP
from ...model.neurons import MODEL_CODES
from ...rng import streams
from .aeif_kernels import integrate_aeif
from .jit import kernel
from .current_kernels import neuron_currents, sine_at, unit_current
from .noise_kernels import injected_current
from .rng_kernels import pexp, philox

M32 = np.uint64(0xFFFFFFFF)
NOISE_TAG = np.int64(streams.DOM_NOISE << streams.DOMAIN_SHIFT)
TWO_M32 = 2.0 ** -32
MODEL_COND = MODEL_CODES["iaf_cond_exp"]
MODEL_DELTA = MODEL_CODES["iaf_psc_delta"]
MODEL_ALPHA = MODEL_CODES["iaf_psc_alpha"]
MODEL_COND_ALPHA = MODEL_CODES["iaf_cond_alpha"]
MODEL_AEIF = MODEL_CODES["aeif_cond_exp"]
MODEL_AEIF_PSC = MODEL_CODES["aeif_psc_exp"]
MODEL_AEIF_DELTA = MODEL_CODES["aeif_psc_delta"]
MODEL_POISSON_SOURCE = MODEL_CODES["poisson_source"]
MODEL_IZH = MODEL_CODES["izhikevich"]
SOURCE_TAG = np.int64(streams.tag(streams.DOM_SOURCE, 0))
PARENT_TAG = np.int64(streams.tag(streams.DOM_SOURCE, 1))   # MIP sources' parent (build.poisson_source)
EARLY = 8   # add_poisson_counts: table entries compared without branches (<= KCAP)


@kernel
def unit_words(s, g0, g1, tag, key0, key1, words):
    """Philox words of neurons g0..g1-1 for emission step s: word (g & 3) of the call of quad
    g >> 2 lands in words[g - g0 + (g0 & 3)]. One call per quad, in a loop LLVM vectorises."""
    q0 = g0 >> 2
    c0 = np.uint64(s) & M32
    c1 = np.uint64(s) >> np.uint64(32)
    for quad in range(q0, ((g1 - 1) >> 2) + 1):
        w0, w1, w2, w3 = philox(c0, c1, quad, tag, key0, key1)
        i = (quad - q0) * 4
        words[i] = w0
        words[i + 1] = w1
        words[i + 2] = w2
        words[i + 3] = w3


@kernel
def add_poisson_counts(words, shift, n, cdf, w_int, acc):
    """acc[i] += k_i * w_int for i < n, k_i = the smallest k <= KCAP with u_i <= cdf[k],
    u_i = (words[i + shift] + 0.5) * 2**-32.

    The table is nondecreasing, so k is the number of entries below u. The first EARLY are
    counted without branches in a loop over all neurons that LLVM vectorises (a search
    loop's exit is random and mispredicts); the rare larger counts (means of up to 8 per
    part) continue in a second pass, only if some neuron reached EARLY."""
    top = 0
    for i in range(n):
        u = (float(words[i + shift]) + 0.5) * TWO_M32
        k = 0
        for e in range(EARLY):
            k += u > cdf[e]
        acc[i] += k * w_int
        top = max(top, k)
    if top < EARLY:
        return
    for i in range(n):
        u = (float(words[i + shift]) + 0.5) * TWO_M32
        if u > cdf[EARLY - 1]:
            k = EARLY
            while k < KCAP and u > cdf[k]:
                k += 1
            acc[i] += (k - EARLY) * w_int


@kernel(parallel=True)
def poisson_input(t, units, pop_i, pin_i, pin_cdf, key0, key1, noise_acc, noise_words):
    """The Poisson input (fixed point) of every local neuron at step t, into
    noise_acc[u, receptor, :] of its unit u (noise_words: (units, chunk_size + 8) scratch).

    Per unit, input and part, first the Philox words of the whole unit, then the counts: two
    passes over the neurons that LLVM vectorises. A kernel of its own, because inside the
    neuron update's loop body the same passes did not vectorise (4x slower)."""
    for u in prange(units.shape[0]):
        k = units[u, bp.UI_POP]
        if pop_i[k, bp.PI_SOURCE] == 1:
            continue
        g0 = units[u, bp.UI_GID_START]
        g1 = units[u, bp.UI_GID_END]
        clen = g1 - g0
        noise_acc[u, 0, :clen] = 0
        noise_acc[u, 1, :clen] = 0
        for q in range(pop_i[k, bp.PI_PIN_START], pop_i[k, bp.PI_PIN_END]):
            s = t - pin_i[q, bp.QI_DELAY]
            if s < pin_i[q, bp.QI_START] or s >= pin_i[q, bp.QI_STOP]:
                continue   # outside the input's window (its start is >= 0: also before the run)
            tag = NOISE_TAG | (pin_i[q, bp.QI_INDEX] << 16)
            for j in range(pin_i[q, bp.QI_NSUB]):
                unit_words(s, g0, g1, tag | j, key0, key1, noise_words[u])
                add_poisson_counts(noise_words[u], g0 & 3, clen, pin_cdf[q], pin_i[q, bp.QI_WINT],
                                   noise_acc[u, pin_i[q, bp.QI_REC]])


@kernel(inline="always")
def settle(vm, v_new, r, vth, vreset, mark):
    """(V, refractory count) after a step: V moves to v_new unless refractory (then the count
    goes down), and a threshold crossing resets V and sets the count to `mark` (see spiked).
    Branch-free selects, for the vectorised loops of both integrate kernels."""
    vm = v_new if r == 0 else vm
    r = r - 1 if r != 0 else r
    spike = vm >= vth
    return (vreset if spike else vm), (mark if spike else r)


@kernel(inline="always")
def cond_constants(pf, j):
    """The constants of row j (column j of pf, an (N_PF, rows) table) for cond_step, read once
    per unit (as locals, so that LLVM needs no alias checks of the table against the state it
    writes), or per neuron from its own row."""
    return (0.5 * pf[bp.PF_DT, j], pf[bp.PF_PHEX, j], pf[bp.PF_PHIN, j], pf[bp.PF_GL, j], pf[bp.PF_EEX, j],
            pf[bp.PF_EIN, j], pf[bp.PF_DT, j], pf[bp.PF_CM, j])


@kernel(inline="always")
def cond_step(vm, g_ex, g_in, dg_ex, dg_in, cc, i_stim):
    """V (mV, relative to E_L) after one step of a conductance-based neuron: relaxation
    towards V_inf with the conductances (nS) frozen at their exact mid-step values, from
    g_X and, for alpha shapes, dG_X (nS/ms; 0 for iaf_cond_exp). cc: cond_constants. Shared
    by both integrate kernels, so both conductance models take the same step."""
    half, ph_ex, ph_in, g_l, e_ex, e_in, h, c_m = cc
    gex = (g_ex + dg_ex * half) * ph_ex
    gin = (g_in + dg_in * half) * ph_in
    g_tot = g_l + gex + gin
    vinf = (gex * e_ex + gin * e_in + i_stim) / g_tot
    return vinf + (vm - vinf) * pexp((-h * g_tot) / c_m)


@kernel(inline="always")
def mark_of(pf, j, ref_steps, rows):
    """The refractory mark (see spiked) of row j: max(refractory steps, 1), the row's own
    steps (PF_REF) for rows per neuron, else the population's ref_steps."""
    return max(np.int64(pf[bp.PF_REF, j]), np.int64(1)) if rows else max(ref_steps, np.int64(1))


@kernel(inline="always")
def psc_constants(pf, j, ref_steps, rows):
    """Row j's constants of integrate's step: the propagators, V_reset, cond_step's and the mark."""
    return (pf[bp.PF_P22, j], pf[bp.PF_P20, j], pf[bp.PF_VRESET, j], pf[bp.PF_P11EX, j], pf[bp.PF_P11IN, j],
            pf[bp.PF_P21EX, j], pf[bp.PF_P21IN, j], cond_constants(pf, j), mark_of(pf, j, ref_steps, rows))


@kernel(inline="always")
def psc_neuron(i, v, i_ex, i_in, refr, vth, ring_ex, ring_in, acc_ex, acc_in, inv_ex, inv_in, k, cond, delta, ist):
    """integrate's step of neuron i with the constants k (psc_constants)."""
    p22, p20, vreset, p11ex, p11in, p21ex, p21in, cc, mark = k
    x_ex = float(ring_ex[i] + acc_ex[i]) * inv_ex
    x_in = float(ring_in[i] + acc_in[i]) * inv_in
    vm = v[i]
    r = refr[i]
    if cond:
        v_new = cond_step(vm, i_ex[i], i_in[i], 0.0, 0.0, cc, ist)
    elif delta:
        v_new = vm * p22 + ist * p20 + (x_ex + x_in)
    else:
        v_new = vm * p22 + i_ex[i] * p21ex + i_in[i] * p21in + ist * p20
    i_ex[i] = i_ex[i] * p11ex + (0.0 if delta else x_ex)
    i_in[i] = i_in[i] * p11in + (0.0 if delta else x_in)
    v[i], refr[i] = settle(vm, v_new, r, vth[i], vreset, mark)


@kernel
def integrate(v, i_ex, i_in, refr, vth, ring_ex, ring_in, acc_ex, acc_in, pf, rows, ref_steps, model, i_stim, stim,
              noisy):
    """Steps 1-4 (module docstring) for the neurons of one unit: their state, their
    thresholds (mV relative to E_L), this step's ring slots (cleared) and Poisson input; pf:
    their population's row of pop_f as a column (shape (N_PF, 1)), or if rows a row per neuron
    (build.param_rows); model: its code (neurons.MODEL_CODES); i_stim: I_e plus DC input
    (pA), or, if noisy, stim[i] per neuron (with noise currents). A neuron that spikes gets
    refr = max(its refractory steps, 1) (see spiked).

    Branch-free and writing only the four state arrays in its loop, so that LLVM vectorises
    it (with more arrays written, its run-time alias checks give up). Two loops over one
    body: the population's constants held as locals, or each neuron's read from its row."""
    inv_ex, inv_in = pf[bp.PF_INVSC_EX, 0], pf[bp.PF_INVSC_IN, 0]
    cond = model == MODEL_COND    # the same for the whole unit: LLVM takes the branches out of the loop
    delta = model == MODEL_DELTA
    if rows:
        for i in range(v.size):
            psc_neuron(i, v, i_ex, i_in, refr, vth, ring_ex, ring_in, acc_ex, acc_in, inv_ex, inv_in,
                       psc_constants(pf, i, ref_steps, True), cond, delta, stim[i] if noisy else i_stim)
    else:
        k = psc_constants(pf, 0, ref_steps, False)
        for i in range(v.size):
            psc_neuron(i, v, i_ex, i_in, refr, vth, ring_ex, ring_in, acc_ex, acc_in, inv_ex, inv_in, k, cond, delta,
                       stim[i] if noisy else i_stim)
    ring_ex[:] = 0
    ring_in[:] = 0


@kernel(inline="always")
def alpha_constants(pf, j, ref_steps, rows, cond):
    """Row j's constants of integrate_alpha's step (the jumps of dJ in fixed-point units)."""
    if cond:
        a21ex, a21in, j0ex, j0in = pf[bp.PF_GA21EX, j], pf[bp.PF_GA21IN, j], pf[bp.PF_GJ0EX, j], pf[bp.PF_GJ0IN, j]
    else:
        a21ex, a21in, j0ex, j0in = pf[bp.PF_A21EX, j], pf[bp.PF_A21IN, j], pf[bp.PF_AJ0EX, j], pf[bp.PF_AJ0IN, j]
    return (pf[bp.PF_P22, j], pf[bp.PF_P20, j], pf[bp.PF_VRESET, j], pf[bp.PF_P11EX, j], pf[bp.PF_P11IN, j],
            pf[bp.PF_P21EX, j], pf[bp.PF_P21IN, j], pf[bp.PF_A31EX, j], pf[bp.PF_A31IN, j], cond_constants(pf, j),
            a21ex, a21in, j0ex * pf[bp.PF_INVSC_EX, j], j0in * pf[bp.PF_INVSC_IN, j], mark_of(pf, j, ref_steps, rows))


@kernel(inline="always")
def alpha_neuron(i, v, i_ex, i_in, dj_ex, dj_in, refr, vth, ring_ex, ring_in, acc_ex, acc_in, k, cond, ist):
    """integrate_alpha's step of neuron i with the constants k (alpha_constants)."""
    p22, p20, vreset, p11ex, p11in, p21ex, p21in, p31ex, p31in, cc, a21ex, a21in, j0ex, j0in, mark = k
    vm = v[i]
    r = refr[i]
    if cond:
        v_new = cond_step(vm, i_ex[i], i_in[i], dj_ex[i], dj_in[i], cc, ist)
    else:
        v_new = vm * p22 + dj_ex[i] * p31ex + i_ex[i] * p21ex + dj_in[i] * p31in + i_in[i] * p21in + ist * p20
    i_ex[i] = i_ex[i] * p11ex + dj_ex[i] * a21ex
    i_in[i] = i_in[i] * p11in + dj_in[i] * a21in
    dj_ex[i] = dj_ex[i] * p11ex + float(ring_ex[i] + acc_ex[i]) * j0ex
    dj_in[i] = dj_in[i] * p11in + float(ring_in[i] + acc_in[i]) * j0in
    v[i], refr[i] = settle(vm, v_new, r, vth[i], vreset, mark)


@kernel
def integrate_alpha(v, i_ex, i_in, dj_ex, dj_in, refr, vth, ring_ex, ring_in, acc_ex, acc_in, pf, rows, ref_steps,
                    model, i_stim, stim, noisy):
    """integrate for iaf_psc_alpha and iaf_cond_alpha (module docstring; i_X, dj_X hold
    g_X, dG_X for the latter): two more state arrays, so a loop of its own, which leaves the
    other models' loop (four arrays written) as LLVM vectorises it. pf, rows: as integrate's."""
    cond = model == MODEL_COND_ALPHA   # the same for the whole unit: out of the loop
    if rows:
        for i in range(v.size):
            alpha_neuron(i, v, i_ex, i_in, dj_ex, dj_in, refr, vth, ring_ex, ring_in, acc_ex, acc_in,
                         alpha_constants(pf, i, ref_steps, True, cond), cond, stim[i] if noisy else i_stim)
    else:
        k = alpha_constants(pf, 0, ref_steps, False, cond)
        for i in range(v.size):
            alpha_neuron(i, v, i_ex, i_in, dj_ex, dj_in, refr, vth, ring_ex, ring_in, acc_ex, acc_in, k, cond,
                         stim[i] if noisy else i_stim)
    ring_ex[:] = 0
    ring_in[:] = 0


@kernel
def integrate_izhikevich(v, u, refr, vth, izp, ring_ex, ring_in, acc_ex, acc_in, pf, rows, i_stim, stim, noisy):
    """One step of izhikevich neurons, in NEST's order of operations (which gives NEST's
    bits). Forward Euler (consistent_integration), from the old v and u:
        v += h (0.04 v v + 5 v + 140 - u + I) + x,   u += h a (b v - u);
    the published scheme: twice v += h/2 (0.04 v v + 5 v + 140 - u + I + x), then
    u += h a (b v - u) from the new v. x: the step's input (mV, as iaf_psc_delta's). Then
    v = max(v, V_min); v >= V_th: v = c, u += d, and refr = 1, the mark spiked clears (no
    refractory time). V is absolute (mV), u (mV) lives in i_ex; I is I_e plus DC (pA), or
    stim[i] with noise currents. a, b, c, d: each neuron's row of izp; pf: the population's
    pop_f row as a column (shape (N_PF, 1)), or if rows a row per neuron (their V_min, build.param_rows)."""
    h = pf[bp.PF_DT, 0]
    vmin0 = pf[bp.PF_IZ_VMIN, 0]
    published, h2 = pf[bp.PF_IZ_PUBLISHED, 0] != 0.0, h * 0.5
    inv_ex, inv_in = pf[bp.PF_INVSC_EX, 0], pf[bp.PF_INVSC_IN, 0]
    for i in range(v.size):
        ha, b, c, d = h * izp[i, 0], izp[i, 1], izp[i, 2], izp[i, 3]
        vmin = pf[bp.PF_IZ_VMIN, i] if rows else vmin0
        x = float(ring_ex[i] + acc_ex[i]) * inv_ex + float(ring_in[i] + acc_in[i]) * inv_in
        vm = v[i]
        um = u[i]
        ist = stim[i] if noisy else i_stim
        if published:
            v_half = vm + h2 * (0.04 * vm * vm + 5.0 * vm + 140.0 - um + ist + x)
            v_new = v_half + h2 * (0.04 * v_half * v_half + 5.0 * v_half + 140.0 - um + ist + x)
            u_new = um + ha * (b * v_new - um)
        else:
            v_new = vm + (h * (0.04 * vm * vm + 5.0 * vm + 140.0 - um + ist) + x)
            u_new = um + ha * (b * vm - um)
        v_new = vmin if v_new < vmin else v_new
        spike = v_new >= vth[i]
        v[i] = c if spike else v_new
        u[i] = u_new + d if spike else u_new
        refr[i] = 1 if spike else 0
    ring_ex[:] = 0
    ring_in[:] = 0


@kernel
def spiked(refr, pf, rows, ref_steps, g0, out):
    """Write the gids (g0 + index) of the neurons that integrate marked as spiking (refr ==
    max(refractory steps, 1): the population's ref_steps, or if rows each neuron's own, in its
    row of pf) into out; return their number. After integrate only those have the mark: the
    others had 0 and kept it, or counted down below their steps. With no refractory time the
    mark was only that, and is cleared."""
    mark = max(ref_steps, 1)
    n = 0
    for i in range(refr.size):
        out[n] = g0 + i       # kept only if it spiked: n moves on
        n += 1 if refr[i] == (mark_of(pf, i, ref_steps, True) if rows else mark) else 0
    for x in range(n):
        j = out[x] - g0
        if (pf[bp.PF_REF, j] == 0.0) if rows else ref_steps == 0:
            refr[j] = 0
    return n


@kernel
def source_segment(ps_seg, s0, s1, t):
    """The row of the rate segments ps_seg[s0:s1] (sorted by first step) that holds step t,
    -1 before the first: a binary search, as the GPU kernel does."""
    lo, hi = s0, s1
    while lo < hi:
        mid = (lo + hi) // 2
        if ps_seg[mid, bp.SEG_STEP] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1 if lo > s0 else -1


@kernel
def source_threshold(ps_seg, r, t):
    """The spike threshold in step t of segment row r (0 for r = -1, before the first); a
    sinusoidal segment's threshold is modulated (build.poisson_source.modulated, the same
    operations)."""
    if r < 0:
        return np.int64(0)
    if ps_seg[r, bp.SEG_AMP] == 0:
        return ps_seg[r, bp.SEG_THRESH]
    a = float(ps_seg[r, bp.SEG_THRESH]) + float(ps_seg[r, bp.SEG_AMP]) * sine_at(ps_seg[r, bp.SEG_CYCLE],
                                                                                ps_seg[r, bp.SEG_PHASE], t + 1)
    if a <= 0.0:
        return np.int64(0)
    return min(np.int64(math.floor(a + 0.5)), np.int64(1) << 32)


@kernel(parallel=True)
def poisson_sources(t, units, pop_i, ps_seg, key0, key1, spk_unit, spk_cnt, noise_words):
    """The spikes of step t of every unit of Poisson sources, into spk_unit[u, :spk_cnt[u]] in
    gid order: word (g & 3) of the quad's Philox call (streams.DOM_SOURCE; unit_words, into
    the unit's row of noise_words) below the population's threshold of the step is a spike
    (build.poisson_source). A MIP population's sources compare with the copy threshold, in the
    steps where its parent spikes (word 0 of the population's PARENT call below the threshold)."""
    for u in prange(units.shape[0]):
        k = units[u, bp.UI_POP]
        if pop_i[k, bp.PI_MODEL] != MODEL_POISSON_SOURCE:
            continue
        r = source_segment(ps_seg, pop_i[k, bp.PI_PS_SEG_START], pop_i[k, bp.PI_PS_SEG_END], t)
        thresh = np.uint64(source_threshold(ps_seg, r, t))
        if thresh > 0 and ps_seg[r, bp.SEG_COPY] != 0:   # every unit of the population draws the same parent
            parent = philox(np.uint64(t) & M32, np.uint64(t) >> np.uint64(32), pop_i[k, bp.PI_OFFSET], PARENT_TAG,
                            key0, key1)[0]
            thresh = np.uint64(ps_seg[r, bp.SEG_COPY]) if parent < thresh else np.uint64(0)
        g0 = units[u, bp.UI_GID_START]
        g1 = units[u, bp.UI_GID_END]
        n = 0
        if thresh > 0:
            words = noise_words[u]
            unit_words(t, g0, g1, SOURCE_TAG, key0, key1, words)
            shift = g0 & 3
            for i in range(g1 - g0):
                if words[i + shift] < thresh:
                    spk_unit[u, n] = g0 + i
                    n += 1
        spk_cnt[u] = n


@kernel
def integrate_span(model, l0, n, v, i_ex, i_in, dj_ex, dj_in, refr, vth, izp, ring, ex0, in0, acc_ex, acc_in, pf, rows,
                   ref_steps, i_stim, stim, noisy, hetero):
    """One step of the n neurons of a unit from local index l0 with the constants pf (their
    population's pop_f row as a column, shape (N_PF, 1), or if rows a column per neuron): the model's
    integrate kernel on their state, this step's ring slots (from ex0, in0) and the unit's
    Poisson input and injected current. Returns the index of the first AdEx neuron found
    numerically unstable, or -1. A function of its own: inside update_neurons' loop body
    LLVM did not vectorise the kernels."""
    l1 = l0 + n
    rex, rin = ring[ex0:ex0 + n], ring[in0:in0 + n]
    if model == MODEL_AEIF or model == MODEL_AEIF_PSC or model == MODEL_AEIF_DELTA:   # dj_ex, dj_in: w, h
        return integrate_aeif(v[l0:l1], i_ex[l0:l1], i_in[l0:l1], dj_ex[l0:l1], dj_in[l0:l1], refr[l0:l1],
                              vth[l0:l1], rex, rin, acc_ex, acc_in, pf, rows, ref_steps, i_stim, stim, noisy,
                              model == MODEL_AEIF, model == MODEL_AEIF_DELTA, hetero)
    if model == MODEL_IZH:
        integrate_izhikevich(v[l0:l1], i_ex[l0:l1], refr[l0:l1], vth[l0:l1], izp[l0:l1], rex, rin, acc_ex, acc_in, pf,
                             rows, i_stim, stim, noisy)
    elif model == MODEL_ALPHA or model == MODEL_COND_ALPHA:
        integrate_alpha(v[l0:l1], i_ex[l0:l1], i_in[l0:l1], dj_ex[l0:l1], dj_in[l0:l1], refr[l0:l1], vth[l0:l1], rex,
                        rin, acc_ex, acc_in, pf, rows, ref_steps, model, i_stim, stim, noisy)
    else:
        integrate(v[l0:l1], i_ex[l0:l1], i_in[l0:l1], refr[l0:l1], vth[l0:l1], rex, rin, acc_ex, acc_in, pf, rows,
                  ref_steps, model, i_stim, stim, noisy)
    return -1


@kernel(parallel=True)
def update_neurons(t, v, i_ex, i_in, dj_ex, dj_in, refr, vth, izp, nrow, nf, ring, units, pop_f, pop_i, dc_f, dc_i,
                   dc_seg_i, dc_seg_f, dc_mask, noise_f, noise_i, key0, key1, held, held_at, held_iv, stim, spk_unit,
                   spk_cnt, noise_acc, sched_step, sched_gid, sched_cursor, unit_bad):
    """Advance every local neuron from step t to t+1; spikes go to spk_unit[u, :spk_cnt[u]].
    unit_bad[u] = (gid, t) of the first AdEx neuron of unit u found numerically unstable
    (aeif_kernels; left at -1 otherwise).

    vth: the local neurons' thresholds (mV relative to E_L; build.neuron_values.thresholds);
    izp: izhikevich's a, b, c, d of the local neurons, a row each ((0, 4) without izhikevich
    populations; build.neuron_values.izhikevich_parameters);
    nrow, nf: the rows of the local neurons of populations with parameters per neuron (pop_i's
    PI_ROWS; build.param_rows.neuron_rows), held as columns: neuron l's is nf[:, nrow[l]], so
    that a unit's neurons read each constant from consecutive addresses;
    noise_acc: (units, 2, chunk_size) the Poisson input of step t (poisson_input); held,
    held_at, held_iv: the noise currents held over their intervals (injected_current,
    held_layout; held_at and held_iv a row per unit); stim: (units, chunk_size) scratch
    for the injected current of units with noise currents. Units of spike sources emit their
    scheduled spikes of step t instead (sched_cursor: next entry per unit); those of Poisson
    sources are left to poisson_sources.
    """
    for u in prange(units.shape[0]):
        k = units[u, bp.UI_POP]
        if pop_i[k, bp.PI_MODEL] == MODEL_POISSON_SOURCE:
            continue
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
        d0, d1 = pop_i[k, bp.PI_DC_START], pop_i[k, bp.PI_DC_END]
        i_stim, some = unit_current(pop_f[k, bp.PF_IE], dc_f, dc_i, dc_seg_i, dc_seg_f, d0, d1, t)
        n = g1 - g0
        l1 = l0 + n
        if some:   # an input into some of the neurons: a current per neuron
            neuron_currents(pop_f[k, bp.PF_IE], dc_f, dc_i, dc_seg_i, dc_seg_f, dc_mask, d0, d1, t, g0, n, stim[u])
        noisy = injected_current(t, k, g0, g1, i_stim, noise_f, noise_i, dc_mask, key0, key1, held, held_at[u],
                                 held_iv[u], stim[u], some)
        # this step's slot of each receptor in the unit's ring block (build.ring_layout)
        lex = pop_i[k, bp.PI_RING_EX]
        ex0 = units[u, bp.UI_RING_OFF] + (t % lex) * n
        in0 = units[u, bp.UI_RING_OFF] + (lex + t % pop_i[k, bp.PI_RING_IN]) * n
        model = pop_i[k, bp.PI_MODEL]
        # the population's constants, or each neuron's own row (parameters per neuron: a
        # unit's rows are consecutive, build.param_rows.neuron_rows), as columns: pf[c, j]
        rows = pop_i[k, bp.PI_ROWS] != 0
        pf = nf[:, nrow[l0]:nrow[l0] + n] if rows else pop_f[k:k + 1].T
        bad = integrate_span(model, l0, n, v, i_ex, i_in, dj_ex, dj_in, refr, vth, izp, ring, ex0, in0,
                             noise_acc[u, 0], noise_acc[u, 1], pf, rows, pop_i[k, bp.PI_REF], i_stim, stim[u], noisy,
                             pop_i[k, bp.PI_VTH_DIST] != bp.VTH_FIXED)
        spk_cnt[u] = spiked(refr[l0:l1], pf, rows, pop_i[k, bp.PI_REF], g0, spk_unit[u])
        if bad >= 0 and unit_bad[u, 0] < 0:
            unit_bad[u, 0] = g0 + bad
            unit_bad[u, 1] = t
