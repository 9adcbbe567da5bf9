"""Neuron models: parameters, validation and exact-integration propagators.

iaf_psc_exp (leaky integrate-and-fire, exponential post-synaptic currents), as in NEST:
  C_m dV/dt = -(C_m / tau_m) (V - E_L) + I_syn_ex + I_syn_in + I_e + I_dc
  dI_syn_X/dt = -I_syn_X / tau_syn_X;  a spike of weight w (pA) makes I_syn_X jump by w.
Units: C_m pF, tau_* ms, t_ref ms, E_L / V_th / V_reset mV, I_e pA.

iaf_psc_delta (NEST's, with refractory_input False and no V_min): the same membrane without
synaptic currents; a spike of weight w (mV) makes V jump by w in the step it arrives, and
spikes arriving while the neuron is refractory are lost.

iaf_psc_alpha (NEST's): alpha-shaped currents, I_X(t) = w (t / tau_X) e^(1 - t / tau_X) for
a spike of weight w (pA): dI_X/dt = dJ_X - I_X / tau_X, d(dJ_X)/dt = -dJ_X / tau_X, and a
spike makes dJ_X jump by w e / tau_X, so that I_X peaks at w, tau_X after the spike.

iaf_cond_alpha (NEST's): iaf_cond_exp's membrane with alpha-shaped conductances,
g_X(t) = w (t / tau_X) e^(1 - t / tau_X) for a spike of weight w (nS): dg_X/dt = dG_X - g_X / tau_X,
d(dG_X)/dt = -dG_X / tau_X, and a spike makes dG_X jump by w e / tau_X (g_X peaks at w after tau_X).

aeif_cond_exp (NEST's, Brette & Gerstner 2005): the adaptive exponential integrate-and-fire
neuron with exponential conductances,
  C_m dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_th) / Delta_T) - g_ex (V - E_ex)
              - g_in (V - E_in) - w + I_e + I_dc,
  tau_w dw/dt = a (V - E_L) - w,   dg_X/dt = -g_X / tau_syn_X,
with V bounded by V_peak inside the exponential. When V reaches V_peak (V_th if Delta_T is
0) V is reset to V_reset and w grows by b (pA); while refractory V stays at V_reset and w
and the conductances go on. Integrated as NEST does, by an embedded Runge-Kutta-Fehlberg
4(5) step with error control (rkf45.py), so its V follows NEST's to the solver's tolerance.
aeif_psc_exp (NEST's): the same with exponential currents, + I_ex + I_in (pA; I_in < 0)
in place of the conductance terms, dI_X/dt = -I_X / tau_syn_X.
aeif_psc_delta (NEST's, with refractory_input False): the same neuron without synaptic
currents; a spike of weight w (mV) makes V jump by w in the step it arrives (after the
solver's first step within it, where NEST adds it), and is lost while the neuron is refractory.
"""
import math

import numpy as np

from ..numbers import is_real, shown
from ..rng.portable_math import pexp, pexpm1

IAF_PSC_EXP_DEFAULTS = {
    "C_m": 250.0, "tau_m": 10.0, "t_ref": 2.0, "E_L": -70.0, "V_th": -55.0,
    "V_reset": -70.0, "tau_syn_ex": 2.0, "tau_syn_in": 2.0, "I_e": 0.0,
}
IAF_PSC_ALPHA_DEFAULTS = dict(IAF_PSC_EXP_DEFAULTS)   # NEST's defaults are iaf_psc_exp's
IAF_PSC_DELTA_DEFAULTS = {
    "C_m": 250.0, "tau_m": 10.0, "t_ref": 2.0, "E_L": -70.0, "V_th": -55.0, "V_reset": -70.0, "I_e": 0.0,
}
# iaf_cond_exp (NEST's defaults): C_m dV/dt = -g_L (V - E_L) - g_ex (V - E_ex) - g_in (V - E_in) + I_e,
# dg_X/dt = -g_X / tau_syn_X; a spike of weight w (nS) makes g_X jump by w. g_L nS, E_* mV.
IAF_COND_EXP_DEFAULTS = {
    "C_m": 250.0, "g_L": 16.6667, "t_ref": 2.0, "E_L": -70.0, "V_th": -55.0, "V_reset": -60.0,
    "E_ex": 0.0, "E_in": -85.0, "tau_syn_ex": 0.2, "tau_syn_in": 2.0, "I_e": 0.0,
}
IAF_COND_ALPHA_DEFAULTS = dict(IAF_COND_EXP_DEFAULTS)   # NEST's defaults are iaf_cond_exp's
# aeif_cond_exp (NEST's defaults): a nS, b pA, Delta_T mV, tau_w ms, V_peak mV; gsl_error_tol:
# the absolute error allowed per step of the solver (NEST's name, so NEST scripts port as they are)
AEIF_COND_EXP_DEFAULTS = {
    "C_m": 281.0, "g_L": 30.0, "t_ref": 0.0, "E_L": -70.6, "V_th": -50.4, "V_reset": -60.0, "V_peak": 0.0,
    "E_ex": 0.0, "E_in": -85.0, "tau_syn_ex": 0.2, "tau_syn_in": 2.0, "a": 4.0, "b": 80.5, "Delta_T": 2.0,
    "tau_w": 144.0, "I_e": 0.0, "gsl_error_tol": 1e-6,
}
# aeif_psc_exp (NEST's): the same neuron with exponential currents (pA) for conductances
AEIF_PSC_EXP_DEFAULTS = {k: v for k, v in AEIF_COND_EXP_DEFAULTS.items() if k not in ("E_ex", "E_in")}
# aeif_psc_delta (NEST's): the same neuron with weights in mV added to V (no synaptic time constants)
AEIF_PSC_DELTA_DEFAULTS = {k: v for k, v in AEIF_PSC_EXP_DEFAULTS.items() if k not in ("tau_syn_ex", "tau_syn_in")}
# izhikevich (NEST's defaults; Izhikevich 2003): dv/dt = 0.04 v^2 + 5 v + 140 - u + I (v mV, t ms),
# du/dt = a (b v - u); v >= V_th: v = c, u += d; a spike of weight w (mV) adds w to v, as
# iaf_psc_delta's; V_min bounds v from below; no refractory time. consistent_integration
# (NEST's, default True): forward Euler; False: Izhikevich's published scheme (two half steps
# of v with the input inside each, then u from the new v). U_m: the initial u (NEST's state
# default), mV
IZHIKEVICH_DEFAULTS = {
    "a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0, "I_e": 0.0, "V_th": 30.0, "V_min": -1.7976931348623157e308,
    "U_m": -13.0, "consistent_integration": True,
}
# parameters that are switches (True / False), not numbers
BOOL_PARAMS = ("consistent_integration",)
NEST_TICS_PER_MS = 1000   # NEST's default tic, 1 us: the resolution of its times (t_ref, spike stamps)
IZHIKEVICH_V_M = -65.0   # NEST's initial V_m (mV): the default v_init (the model has no E_L)
NEURON_MODELS = {"iaf_psc_exp": IAF_PSC_EXP_DEFAULTS, "iaf_cond_exp": IAF_COND_EXP_DEFAULTS,
                 "iaf_psc_delta": IAF_PSC_DELTA_DEFAULTS, "iaf_psc_alpha": IAF_PSC_ALPHA_DEFAULTS,
                 "iaf_cond_alpha": IAF_COND_ALPHA_DEFAULTS, "aeif_cond_exp": AEIF_COND_EXP_DEFAULTS,
                 "aeif_psc_exp": AEIF_PSC_EXP_DEFAULTS, "aeif_psc_delta": AEIF_PSC_DELTA_DEFAULTS,
                 "izhikevich": IZHIKEVICH_DEFAULTS}
# the kernels branch on these codes (pop_i[:, PI_MODEL]); sources never integrate: spike_source
# emits a given schedule, poisson_source draws its spikes step by step (Network.add_poisson_source)
MODEL_CODES = {"iaf_psc_exp": 0, "iaf_cond_exp": 1, "spike_source": 2, "iaf_psc_delta": 3, "iaf_psc_alpha": 4,
               "iaf_cond_alpha": 5, "aeif_cond_exp": 6, "aeif_psc_exp": 7, "poisson_source": 8, "izhikevich": 9,
               "aeif_psc_delta": 10}
SOURCE_MODELS = ("spike_source", "poisson_source")
AEIF_MODELS = ("aeif_cond_exp", "aeif_psc_exp", "aeif_psc_delta")   # integrated by the adaptive solver (rkf45.py)
# weights in nS, >= 0 in the kernels
CONDUCTANCE_MODELS = ("iaf_cond_exp", "iaf_cond_alpha", "aeif_cond_exp")
# Recordable state (NEST's names, as its multimeter's record_from takes them, with its signs).
# Every model keeps the same state arrays (backends: v, i_ex, i_in, dj_ex, dj_in), so a
# variable is recorded by a code naming the array that holds it and the kernels need no
# per-model branch: 0 v (V_m, relative to E_L: E_L is added on output), 1 i_ex, 2 i_in,
# 3 dj_ex (AdEx: w), 4 -i_in (aeif_psc_exp: NEST reports its I_syn_in positive, iaf_psc_exp's
# and iaf_psc_alpha's negative; distsnn holds all three negative).
STATE_V = 0
STATE_UNITS = {"V_m": "mV", "I_syn_ex": "pA", "I_syn_in": "pA", "g_ex": "nS", "g_in": "nS", "w": "pA", "U_m": "mV"}
# model -> {variable: state code}
RECORDABLES = {
    "iaf_psc_exp": {"V_m": 0, "I_syn_ex": 1, "I_syn_in": 2}, "iaf_psc_alpha": {"V_m": 0, "I_syn_ex": 1, "I_syn_in": 2},
    "iaf_psc_delta": {"V_m": 0}, "iaf_cond_exp": {"V_m": 0, "g_ex": 1, "g_in": 2},
    "iaf_cond_alpha": {"V_m": 0, "g_ex": 1, "g_in": 2}, "aeif_cond_exp": {"V_m": 0, "g_ex": 1, "g_in": 2, "w": 3},
    "aeif_psc_exp": {"V_m": 0, "I_syn_ex": 1, "I_syn_in": 4, "w": 3}, "aeif_psc_delta": {"V_m": 0, "w": 3},
    "izhikevich": {"V_m": 0, "U_m": 1},   # u in i_ex (the model has no synaptic currents)
}
# exp's argument (V - V_th) / Delta_T at V_peak must stay this far below overflow: NEST's
# margin of 1e20 under the largest double, for the sums the exponential goes into
MAX_EXP_ARG = math.log(1.7976931348623157e308 / 1e20)


def validate_params(where, model, params):
    """Return a complete, validated parameter dict for `model`."""
    if model not in NEURON_MODELS:
        raise ValueError(f"{where}: unknown neuron model {model!r}; known: {sorted(NEURON_MODELS)}")
    defaults = NEURON_MODELS[model]
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"{where}: unknown parameter(s) {unknown} for {model}; known: {sorted(defaults)}")
    full = dict(defaults)
    for name, value in params.items():
        if name in BOOL_PARAMS:
            if not isinstance(value, bool):
                raise ValueError(f"{where}: parameter {name} must be True or False, got {value!r}")
            full[name] = value
            continue
        if not is_real(value):
            raise ValueError(f"{where}: parameter {name} must be a finite number, got {shown(value)}")
        full[name] = float(value)
    check_values(where, model, full)
    return full


def check_values(where, model, p):
    """The model's checks of a complete parameter dict whose numbers may be arrays (one value
    per neuron, for parameters given or drawn per neuron): a ValueError names the parameter
    and, for arrays, the first neuron (its index in the arrays) that fails."""
    for name in ("C_m", "tau_m", "tau_syn_ex", "tau_syn_in", "g_L", "tau_w", "gsl_error_tol"):
        if name in p:
            _refuse(where, np.asarray(p[name]) <= 0, p, lambda q, n=name: f"parameter {n} must be > 0, got {q[n]}")
    _refuse(where, np.asarray(p.get("t_ref", 0.0)) < 0, p, lambda q: f"parameter t_ref must be >= 0, got {q['t_ref']}")
    if model in AEIF_MODELS:
        _check_aeif(where, p)
    elif model == "izhikevich":   # NEST checks nothing more; V_min must allow reaching V_th
        _refuse(where, np.asarray(p["V_min"]) >= p["V_th"], p,
                lambda q: f"V_min ({q['V_min']}) must be below V_th ({q['V_th']})")
    else:
        _refuse(where, np.asarray(p["V_reset"]) >= p["V_th"], p,
                lambda q: f"V_reset ({q['V_reset']}) must be below V_th ({q['V_th']})")


def _refuse(where, bad, p, message):
    """Raise ValueError(where: message) if `bad` (a bool, or an array of them, one per neuron)
    holds anywhere: message(values) with the numbers of the first neuron where it does."""
    if not bad.any():
        return
    if bad.ndim == 0:
        raise ValueError(f"{where}: {message(p)}")
    i = int(np.argmax(bad))
    at = {k: (float(v[i]) if np.ndim(v) else v) for k, v in p.items()}
    raise ValueError(f"{where}: {message(at)} (neuron {i})")


def _check_aeif(where, p):
    """NEST's checks of the AdEx models' parameters. V_reset may lie above V_th (bursting
    parameter sets do), but not at or above V_peak, where the neuron would fire forever."""
    v_peak, v_th, delta_t = np.asarray(p["V_peak"]), np.asarray(p["V_th"]), np.asarray(p["Delta_T"])
    _refuse(where, v_peak < v_th, p, lambda q: f"V_peak ({q['V_peak']}) must be >= V_th ({q['V_th']})")
    _refuse(where, delta_t < 0, p, lambda q: f"parameter Delta_T must be >= 0, got {q['Delta_T']}")
    with np.errstate(divide="ignore", invalid="ignore"):
        arg = (v_peak - v_th) / np.where(delta_t > 0, delta_t, 1.0)
    _refuse(where, (delta_t > 0) & (arg >= MAX_EXP_ARG), p,
            lambda q: f"(V_peak - V_th) / Delta_T = {(q['V_peak'] - q['V_th']) / q['Delta_T']:.6g} would overflow "
                      f"the exponential at a spike (it must stay below {MAX_EXP_ARG:.4g}); increase Delta_T or "
                      "lower V_peak")
    _refuse(where, np.asarray(p["V_reset"]) >= v_peak, p,
            lambda q: f"V_reset ({q['V_reset']}) must be below V_peak ({q['V_peak']})")


def _p21(tau_syn, tau_m, c_m, h):
    """Propagator from I_syn to V over one step h (mV/pA), with the tau_syn == tau_m limit.
    Numbers or arrays (a value per neuron) alike, element by element."""
    tau_syn, tau_m, c_m = np.asarray(tau_syn, float), np.asarray(tau_m, float), np.asarray(c_m, float)
    equal = np.abs(tau_m - tau_syn) < 1e-12 * tau_m
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = tau_syn * tau_m / (tau_m - tau_syn)
        # exp(-h/tau_m) - exp(-h/tau_syn) = exp(-h/tau_syn) * expm1(h/tau_syn - h/tau_m), stable
        apart = beta / c_m * pexp(-h / tau_syn) * pexpm1(h / tau_syn - h / tau_m)
    return _number(np.where(equal, h / c_m * pexp(-h / tau_m), apart))


def _p31(tau_syn, tau_m, c_m, h):
    """Propagator from dJ (the alpha current's derivative) to V over one step h:
    (1 / C_m) e^(-h/tau_m) (1 - e^(-x) (1 + x)) / a^2 with a = 1/tau_syn - 1/tau_m, x = a h;
    a series in x where the closed form would cancel (tau_syn near tau_m). Numbers or arrays."""
    tau_syn, tau_m, c_m = np.asarray(tau_syn, float), np.asarray(tau_m, float), np.asarray(c_m, float)
    a = 1.0 / tau_syn - 1.0 / tau_m
    x = a * h
    with np.errstate(divide="ignore", invalid="ignore"):
        closed = (-pexpm1(-x) - x * pexp(-x)) / (a * a)
    f = np.where(np.abs(x) < 1e-4, h * h * (0.5 - x / 3.0 + x * x / 8.0), closed)   # the series to x^2
    return _number(pexp(-h / tau_m) * f / c_m)


def _number(x):
    """A float for a 0-d result (one population's constants), the array otherwise."""
    x = np.asarray(x, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


def nest_steps(t, dt, strict=False):
    """Times t (ms) in whole steps of dt (ms) as NEST counts them
    (Time(Time::ms(t)).get_steps()): rounded to NEST's tic (1 us), then up to whole steps.
    In integer tics where dt is a whole number of them; otherwise in floats, or with strict
    a ValueError (NEST allows no such dt). An int, or an int64 array for an array of t."""
    tics = np.floor(np.asarray(t, dtype=np.float64) * NEST_TICS_PER_MS + 0.5)
    per_step = dt * NEST_TICS_PER_MS
    whole = round(per_step)
    if whole >= 1 and abs(per_step - whole) <= 1e-9 * per_step:   # dt a whole number of tics: exact
        steps = -(-tics.astype(np.int64) // whole)
    elif strict:
        raise ValueError(f"dt {dt} ms is not a whole number of NEST's tics (1 us)")
    else:
        steps = np.ceil(tics / per_step).astype(np.int64)
    return int(steps) if steps.ndim == 0 else steps


def refractory_steps(t_ref, dt):
    """The refractory time t_ref (ms) in whole steps of dt (ms) as NEST counts them
    (nest_steps): 2.04 ms is 21 steps of 0.1 ms and 0.15 ms is 2 (measured in NEST 3.10,
    tests/test_single_neuron.py). An int, or an int64 array for an array of t_ref."""
    return nest_steps(t_ref, dt)


def iaf_psc_alpha_propagators(p, dt):
    """Host-computed propagators of iaf_psc_alpha for one step dt (ms): the membrane's, the
    currents' decay P11 (dJ and I alike), I from dJ (P21a = h e^(-h/tau)), V from I (P21, as
    iaf_psc_exp's) and V from dJ (P31), and the jump of dJ per pA of weight (e / tau)."""
    out = iaf_psc_exp_propagators(p, dt)
    for rec in ("ex", "in"):
        tau = p[f"tau_syn_{rec}"]
        out[f"P21a{rec}"] = _number(dt * pexp(-dt / tau))
        out[f"P31{rec}"] = _p31(tau, p["tau_m"], p["C_m"], dt)
        out[f"J0{rec}"] = math.e / tau
    return out


def iaf_cond_exp_propagators(p, dt):
    """Host-computed constants of the iaf_cond_exp step (see the neuron kernel): full-step and
    half-step conductance decays; the membrane factor exp(-dt g_tot / C_m) is computed per
    neuron and step with the portable exp, because g_tot changes."""
    return {
        "P11ex": _number(pexp(-dt / p["tau_syn_ex"])),
        "P11in": _number(pexp(-dt / p["tau_syn_in"])),
        "PHex": _number(pexp(-0.5 * dt / p["tau_syn_ex"])),
        "PHin": _number(pexp(-0.5 * dt / p["tau_syn_in"])),
        "ref_steps": refractory_steps(p["t_ref"], dt),
    }


def iaf_cond_alpha_propagators(p, dt):
    """iaf_cond_exp's constants (its conductances and their derivatives dG decay alike), and
    those of the alpha shape: g from dG over one step (A21 = dt e^(-dt/tau)) and the jump of
    dG per nS of weight (e / tau)."""
    out = iaf_cond_exp_propagators(p, dt)
    for rec in ("ex", "in"):
        tau = p[f"tau_syn_{rec}"]
        out[f"A21{rec}"] = _number(dt * pexp(-dt / tau))
        out[f"J0{rec}"] = math.e / tau
    return out


def default_v_init(model, params):
    """A population's initial V (mV) when none is given: E_L, or izhikevich's NEST default."""
    return IZHIKEVICH_V_M if model == "izhikevich" else params["E_L"]


def aeif_step_constants(p, dt):
    """The AdEx models have no propagators (the solver integrates them); their refractory steps."""
    return {"ref_steps": refractory_steps(p["t_ref"], dt)}


def iaf_psc_delta_propagators(p, dt):
    """Host-computed propagators of iaf_psc_delta for one step dt (ms): the membrane's P22
    (NEST's P33) and P20 (P30), and the refractory steps."""
    return {
        "P22": _number(pexp(-dt / p["tau_m"])),
        "P20": _number(-p["tau_m"] / p["C_m"] * pexpm1(-dt / p["tau_m"])),
        "ref_steps": refractory_steps(p["t_ref"], dt),
    }


def iaf_psc_exp_propagators(p, dt):
    """Host-computed propagators for one step dt (ms), with the project's portable exp:
    iaf_psc_delta's membrane terms and the synaptic currents'."""
    return dict(iaf_psc_delta_propagators(p, dt), **{
        "P11ex": _number(pexp(-dt / p["tau_syn_ex"])),
        "P11in": _number(pexp(-dt / p["tau_syn_in"])),
        "P21ex": _p21(p["tau_syn_ex"], p["tau_m"], p["C_m"], dt),
        "P21in": _p21(p["tau_syn_in"], p["tau_m"], p["C_m"], dt),
    })
