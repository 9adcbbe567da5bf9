"""Numba kernel of the AdEx models (aeif_cond_exp, aeif_psc_exp, aeif_psc_delta): the adaptive
RKF45 solver of distsnn.model.rkf45, per neuron.

State (build.plan.NEURON_STATE): V (mV relative to E_L) in v, g_ex and g_in (nS; aeif_psc_exp:
the currents I_ex, I_in in pA, I_in < 0) in i_ex and i_in, the adaptation current w (pA) in
dj_ex, the solver's step size (ms) in dj_in. One time
step of one neuron, as NEST's update: integrate from 0 to dt in solver steps; after each,
a refractory neuron's V is put back to V_reset, and V >= V_peak (V_th if Delta_T is 0) is a
spike: V = V_reset, w += b, and the neuron is refractory from then on if t_ref > 0. Then
this step's input is added to the conductances (aeif_psc_delta: its currents stay 0, and
the step's input, mV, is added to V after the first solver step if the neuron was not
refractory at the step's start, before the threshold is checked, as NEST adds it). As
NEST, after each solver step a V below rkf45.V_UNSTABLE or |w| above rkf45.W_UNSTABLE (or
a NaN) is a numerical instability: the kernel returns the first such neuron and the driver
stops the run with an error. A neuron emits at most one spike per step: with t_ref 0 a
second crossing in the same step (over 10 kHz at dt 0.1 ms) resets V and adds b again, but
is not emitted.

Every operation is written in the order of the CUDA twin (kernels/neuron_update_aeif.cu),
so that both engines give the same bits; the vector operations are spelled out over the
four state variables (V, g_ex, g_in, w) instead of loops over small arrays, which numba
would allocate on the heap.
"""
from ...build import plan as bp
from ...model import rkf45 as rk
from .jit import kernel
from .rng_kernels import pexp, pexp_tree, plog

A0, A1, A2, A3, A4 = rk.A
B30, B31 = rk.B3
B40, B41, B42 = rk.B4
B50, B51, B52, B53 = rk.B5
B60, B61, B62, B63, B64 = rk.B6
C1, C3, C4, C5, C6 = rk.C
E1, E3, E4, E5, E6 = rk.EC
INV_ORDER = 1.0 / rk.ORDER
INV_ORDER1 = 1.0 / (rk.ORDER + 1.0)
DEC, NIL, INC = -1, 0, 1


@kernel(inline="always")
def aeif_constants(pf, j, i_stim, cond, v_th):
    """The constants of row j (column j of pf: a population's pop_f row, or a neuron's own;
    v_th: the neuron's threshold, mV relative to E_L), as one tuple of locals; the divisors
    of the derivatives as reciprocals (NEST divides: the same to rounding, and a fifth less
    time per update, since five divisions per derivative sat on the solver's critical path)."""
    d_t = pf[bp.PF_DELTA_T, j]
    return (pf[bp.PF_GL, j], 1.0 / pf[bp.PF_CM, j], pf[bp.PF_EEX, j], pf[bp.PF_EIN, j], pf[bp.PF_A, j], d_t,
            1.0 / (d_t if d_t != 0.0 else 1.0), 1.0 / pf[bp.PF_TAU_W, j], pf[bp.PF_VPEAK, j], v_th,
            pf[bp.PF_VRESET, j], 1.0 / pf[bp.PF_TAU_SYN_EX, j], 1.0 / pf[bp.PF_TAU_SYN_IN, j], i_stim, cond)


@kernel(inline="always")
def aeif_rhs(v, gex, gin, w, refractory, c):
    """(dV/dt mV/ms, dg_ex/dt, dg_in/dt nS/ms, dw/dt pA/ms): while refractory V is held at
    V_reset and does not move; otherwise V is bounded by V_peak, as in NEST. For aeif_psc_exp
    (cond False) gex, gin are the currents (pA): they enter as -(-I), which is +I exactly."""
    g_l, inv_c_m, e_ex, e_in, a, d_t, inv_d_t, inv_tau_w, v_peak, v_th, v_reset, inv_tau_ex, inv_tau_in, i_stim, \
        cond = c
    vv = v_reset if refractory else (v_peak if v_peak < v else v)
    i_syn_ex = gex * (vv - e_ex) if cond else -gex
    i_syn_in = gin * (vv - e_in) if cond else -gin
    i_spike = 0.0
    if d_t != 0.0:
        x = (vv - v_th) * inv_d_t
        i_spike = g_l * d_t * pexp_tree(x if x > rk.EXP_ARG_MIN else rk.EXP_ARG_MIN)
    f_v = 0.0 if refractory else (-g_l * vv + i_spike - i_syn_ex - i_syn_in - w + i_stim) * inv_c_m
    return f_v, -gex * inv_tau_ex, -gin * inv_tau_in, (a * vv - w) * inv_tau_w


@kernel(inline="always")
def _stage2(y, h, k1, k2):
    return y + h * (B30 * k1 + B31 * k2)


@kernel(inline="always")
def _stage3(y, h, k1, k2, k3):
    return y + h * (B40 * k1 + B41 * k2 + B42 * k3)


@kernel(inline="always")
def _stage4(y, h, k1, k2, k3, k4):
    return y + h * (B50 * k1 + B51 * k2 + B52 * k3 + B53 * k4)


@kernel(inline="always")
def _stage5(y, h, k1, k2, k3, k4, k5):
    return y + h * (B60 * k1 + B61 * k2 + B62 * k3 + B63 * k4 + B64 * k5)


@kernel(inline="always")
def _final(y, h, k1, k3, k4, k5, k6):
    return y + h * (C1 * k1 + C3 * k3 + C4 * k4 + C5 * k5 + C6 * k6)


@kernel(inline="always")
def _error(h, k1, k3, k4, k5, k6):
    return h * (E1 * k1 + E3 * k3 + E4 * k4 + E5 * k5 + E6 * k6)


@kernel(inline="always")
def rkf45_step(y, k1, h, refractory, c):
    """One Fehlberg step of size h (ms) from y with derivative k1: (the new state, its error
    estimate, the derivative there), each a 4-tuple (V, g_ex, g_in, w)."""
    y0, y1, y2, y3 = y
    p0, p1, p2, p3 = k1
    q0, q1, q2, q3 = aeif_rhs(y0 + A0 * h * p0, y1 + A0 * h * p1, y2 + A0 * h * p2, y3 + A0 * h * p3, refractory, c)
    r0, r1, r2, r3 = aeif_rhs(_stage2(y0, h, p0, q0), _stage2(y1, h, p1, q1), _stage2(y2, h, p2, q2),
                              _stage2(y3, h, p3, q3), refractory, c)
    s0, s1, s2, s3 = aeif_rhs(_stage3(y0, h, p0, q0, r0), _stage3(y1, h, p1, q1, r1), _stage3(y2, h, p2, q2, r2),
                              _stage3(y3, h, p3, q3, r3), refractory, c)
    u0, u1, u2, u3 = aeif_rhs(_stage4(y0, h, p0, q0, r0, s0), _stage4(y1, h, p1, q1, r1, s1),
                              _stage4(y2, h, p2, q2, r2, s2), _stage4(y3, h, p3, q3, r3, s3), refractory, c)
    v0, v1, v2, v3 = aeif_rhs(_stage5(y0, h, p0, q0, r0, s0, u0), _stage5(y1, h, p1, q1, r1, s1, u1),
                              _stage5(y2, h, p2, q2, r2, s2, u2), _stage5(y3, h, p3, q3, r3, s3, u3), refractory, c)
    n0 = _final(y0, h, p0, r0, s0, u0, v0)
    n1 = _final(y1, h, p1, r1, s1, u1, v1)
    n2 = _final(y2, h, p2, r2, s2, u2, v2)
    n3 = _final(y3, h, p3, r3, s3, u3, v3)
    err = (_error(h, p0, r0, s0, u0, v0), _error(h, p1, r1, s1, u1, v1), _error(h, p2, r2, s2, u2, v2),
           _error(h, p3, r3, s3, u3, v3))
    return (n0, n1, n2, n3), err, aeif_rhs(n0, n1, n2, n3, refractory, c)


@kernel(inline="always")
def _ratio(e, d, h_old, tol, rmax):
    r = abs(e) / abs(tol * (h_old * abs(d)) + tol)
    return r if r > rmax else rmax


@kernel(inline="always")
def _root(r, inv_k):
    """r**(1/k) for a positive normal r, portable: exp(log(r) / k)."""
    return pexp(plog(r) * inv_k)


@kernel(inline="always")
def adjust_step(h_old, err, deriv, tol):
    """The step size control (rkf45 module docstring): (the next h, DEC | NIL | INC)."""
    rmax = rk.DBL_MIN
    rmax = _ratio(err[0], deriv[0], h_old, tol, rmax)
    rmax = _ratio(err[1], deriv[1], h_old, tol, rmax)
    rmax = _ratio(err[2], deriv[2], h_old, tol, rmax)
    rmax = _ratio(err[3], deriv[3], h_old, tol, rmax)
    if rmax > rk.SHRINK_ABOVE:
        # an infinite error ratio (a blown-up trial step) shrinks by the largest factor
        h_new = h_old * rk.SAFETY / _root(rmax, INV_ORDER) if rmax <= rk.DBL_MAX else 0.0
        low = rk.MAX_SHRINK * h_old
        return (low if low > h_new else h_new), DEC
    if rmax < rk.GROW_BELOW:
        f = rk.SAFETY / _root(rmax, INV_ORDER1)
        h_new = h_old * (f if f > 1.0 else 1.0)
        high = rk.MAX_GROW * h_old
        return (high if high < h_new else h_new), INC
    return h_old, NIL


@kernel
def integrate_aeif(v, g_ex, g_in, w, hstep, refr, vth, ring_ex, ring_in, acc_ex, acc_in, pf, rows, ref_steps, i_stim,
                   stim, noisy, cond, delta, hetero):
    """One time step of the AdEx neurons of one unit (module docstring): their state, their
    thresholds (mV relative to E_L), this step's ring slots (cleared) and Poisson input; pf:
    their population's pop_f row as a column (shape (N_PF, 1)), or if rows a row per neuron
    (build.param_rows; their refractory steps in PF_REF); i_stim: I_e plus DC input (pA), or,
    if noisy, stim[i] per neuron; cond: aeif_cond_exp, delta: aeif_psc_delta (else
    aeif_psc_exp; delta takes the current-based derivatives, its currents 0); hetero: the
    thresholds differ between neurons (else, without rows, all are vth[0]). A neuron that spikes gets refr =
    max(its refractory steps, 1), the mark neuron_kernels.spiked looks for. Returns the index
    of the first neuron found numerically unstable, or -1."""
    v_th = vth[0] if vth.size else 0.0
    c = aeif_constants(pf, 0, i_stim, cond, v_th)
    v_min = rk.V_UNSTABLE - pf[bp.PF_EL, 0]                   # relative to E_L, as V
    bad = -1
    dt, tol, b, v_reset = pf[bp.PF_DT, 0], pf[bp.PF_TOL, 0], pf[bp.PF_B, 0], pf[bp.PF_VRESET, 0]
    peak = pf[bp.PF_DELTA_T, 0] > 0.0
    v_spike = pf[bp.PF_VPEAK, 0] if peak else v_th
    inv_ex, inv_in = pf[bp.PF_INVSC_EX, 0], pf[bp.PF_INVSC_IN, 0]
    first = rk.FIRST_STEP if rk.FIRST_STEP < dt else dt
    mark = max(ref_steps, 1)
    for i in range(v.size):
        if rows:   # the neuron's own constants (dt and the tolerance are the population's)
            b, v_reset, peak = pf[bp.PF_B, i], pf[bp.PF_VRESET, i], pf[bp.PF_DELTA_T, i] > 0.0
            v_min = rk.V_UNSTABLE - pf[bp.PF_EL, i]
            ref_steps = int(pf[bp.PF_REF, i])
            mark = max(ref_steps, 1)
        if hetero or rows:   # rows: V_th - E_L differs where E_L does
            v_th = vth[i]
            v_spike = pf[bp.PF_VPEAK, i if rows else 0] if peak else v_th
        if noisy or hetero or rows:
            c = aeif_constants(pf, i if rows else 0, stim[i] if noisy else i_stim, cond, v_th)
        y = (v[i], g_ex[i], g_in[i], w[i])
        h = hstep[i] if hstep[i] > 0.0 else first
        r = refr[i]
        refractory = r > 0
        spiked = False
        t = 0.0
        k1 = (0.0, 0.0, 0.0, 0.0)
        fresh = False                        # k1 holds the derivative at y
        # aeif_psc_delta: the step's input (mV), added once, after the first solver step
        jump = float(ring_ex[i] + acc_ex[i]) * inv_ex + float(ring_in[i] + acc_in[i]) * inv_in if delta else 0.0
        pending = delta
        while t < dt:
            t0 = t
            if not fresh:
                k1 = aeif_rhs(y[0], y[1], y[2], y[3], refractory, c)
            while True:                      # attempts from t0 until one stands
                final = h > dt - t0
                h0 = dt - t0 if final else h
                y_new, err, deriv = rkf45_step(y, k1, h0, refractory, c)
                t = dt if final else t0 + h0
                h, status = adjust_step(h0, err, deriv, tol)
                if status == DEC:
                    if h < h0 and t + h != t:
                        continue             # retry from y with the smaller step
                    h = h0                   # no smaller step is possible: this one stands
                break
            y = y_new
            if bad < 0 and not (y[0] >= v_min and abs(y[3]) <= rk.W_UNSTABLE):
                bad = i
            # the derivative at the new point is the next step's k1 (GSL evaluates it again: the
            # same function of the same numbers); also when refractory, as V does not enter it then
            k1 = deriv
            fresh = True
            if refractory:
                y = (v_reset, y[1], y[2], y[3])   # (a pending jump is lost)
            elif pending and jump != 0.0:
                y = (y[0] + jump, y[1], y[2], y[3])
                fresh = False                # V moved: the next step's derivative is taken anew
            pending = False
            if not refractory and y[0] >= v_spike:
                y = (v_reset, y[1], y[2], y[3] + b)
                spiked = True
                refractory = ref_steps > 0
                fresh = False
        v[i] = y[0]
        g_ex[i] = y[1] if delta else y[1] + float(ring_ex[i] + acc_ex[i]) * inv_ex
        g_in[i] = y[2] if delta else y[2] + float(ring_in[i] + acc_in[i]) * inv_in
        w[i] = y[3]
        hstep[i] = h
        refr[i] = mark if spiked else (r - 1 if r > 0 else 0)
    ring_ex[:] = 0
    ring_in[:] = 0
    return bad
