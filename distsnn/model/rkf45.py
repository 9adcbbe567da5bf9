"""The adaptive Runge-Kutta-Fehlberg 4(5) solver of aeif_cond_exp: its tableau and its step
size control, shared by the CPU kernel and the CUDA header (as exact decimal literals), so
that both engines take the very same steps.

It is the algorithm NEST integrates aeif_cond_exp with (GSL's rkf45 stepper, its "yp" step
control and gsl_odeiv_evolve_apply), written again from its definition; with the same
tolerance the two follow each other to rounding, except where a borderline step decision
goes the other way. Within each time step dt (ms), from t = 0 until t = dt:

  one attempt from t with step h0 = min(h, dt - t): the Fehlberg stages give y(t + h0) (the
  fifth-order sum) and an error estimate e_i; the derivative y'_i at the new point scales
  the tolerance, D_i = tol (1 + h0 |y'_i|), and r = max_i |e_i| / D_i (at least DBL_MIN);
  r > 1.1: the step is retried with h0 = max(0.2 h0, 0.9 h0 r^(-1/5)) (unless that no longer
           changes h0 or t, when the attempt stands);
  r < 0.5: accepted, and the next step may grow: h = min(5 h0, h0 max(1, 0.9 r^(-1/6)));
  else:    accepted with h = h0.

The step size h is part of the neuron's state (it carries over from step to step, and into
checkpoints). The powers are exp(log(r) / k) with the project's portable exp and log.
The kernels multiply by reciprocals where NEST divides and reuse the derivative at the end
of a step as the next step's first (docs/design.md): the same to rounding.
"""
from ..rng import portable_math

# Fehlberg's nodes and weights (zeros left out), as GSL lists them
A = (1.0 / 4.0, 3.0 / 8.0, 12.0 / 13.0, 1.0, 1.0 / 2.0)
B3 = (3.0 / 32.0, 9.0 / 32.0)
B4 = (1932.0 / 2197.0, -7200.0 / 2197.0, 7296.0 / 2197.0)
B5 = (8341.0 / 4104.0, -32832.0 / 4104.0, 29440.0 / 4104.0, -845.0 / 4104.0)
B6 = (-6080.0 / 20520.0, 41040.0 / 20520.0, -28352.0 / 20520.0, 9295.0 / 20520.0, -5643.0 / 20520.0)
# the fifth-order solution: weights of k1, k3, k4, k5, k6
C = (902880.0 / 7618050.0, 3953664.0 / 7618050.0, 3855735.0 / 7618050.0, -1371249.0 / 7618050.0,
     277020.0 / 7618050.0)
# the error estimate: differences of the fifth- and fourth-order weights of k1, k3, k4, k5, k6
EC = (1.0 / 360.0, -128.0 / 4275.0, -2197.0 / 75240.0, 1.0 / 50.0, 2.0 / 55.0)

ORDER = 5            # the stepper's order (the control's exponents are 1/ORDER and 1/(ORDER + 1))
SAFETY = 0.9         # the control's safety factor S
SHRINK_ABOVE = 1.1   # error ratios above this reject the step ...
GROW_BELOW = 0.5     # ... below this let the next one grow
MAX_SHRINK = 0.2     # by at most these factors per attempt
MAX_GROW = 5.0
FIRST_STEP = 0.01    # ms: the first step of a neuron (NEST's), or dt if that is smaller
DBL_MIN = 2.2250738585072014e-308   # the error ratio's floor: the smallest normal double
DBL_MAX = 1.7976931348623157e308
EXP_ARG_MIN = portable_math.EXP_ARG_MIN  # exp's argument in the spike current is bounded below here
# NEST's check after every solver step: V below V_UNSTABLE (mV, absolute) or |w| above
# W_UNSTABLE (pA) is a numerical instability, and the run stops with an error (a NaN too)
V_UNSTABLE = -1000.0
W_UNSTABLE = 1e6

TABLES = {"RK_A": A, "RK_B3": B3, "RK_B4": B4, "RK_B5": B5, "RK_B6": B6, "RK_C": C, "RK_EC": EC}
SCALARS = {"RK_ORDER": float(ORDER), "RK_SAFETY": SAFETY, "RK_SHRINK_ABOVE": SHRINK_ABOVE,
           "RK_GROW_BELOW": GROW_BELOW, "RK_MAX_SHRINK": MAX_SHRINK, "RK_MAX_GROW": MAX_GROW,
           "RK_FIRST_STEP": FIRST_STEP, "RK_DBL_MIN": DBL_MIN, "RK_DBL_MAX": DBL_MAX, "RK_EXP_ARG_MIN": EXP_ARG_MIN,
           "RK_V_UNSTABLE": V_UNSTABLE, "RK_W_UNSTABLE": W_UNSTABLE}


class NumericalInstability(RuntimeError):
    """An AdEx neuron's state left the bounds of NEST's check (V_UNSTABLE, W_UNSTABLE)."""


def instability_error(plan, gid, step):
    """The NumericalInstability of neuron `gid` (global id) found in step `step` of `plan`."""
    k = int(plan.pop_of[gid])
    name = plan.pop_names[k]
    local = int(gid - plan.pop_slice(name).start)
    model = plan.network.populations[name].model
    return NumericalInstability(
        f"numerical instability in population {name!r} ({model}), neuron {local}, at t = {(step + 1) * plan.dt:g} ms: "
        f"V fell below {V_UNSTABLE:g} mV or |w| rose above {W_UNSTABLE:g} pA (or became NaN), as NEST checks; "
        "the parameters or the input drive this neuron beyond what the model describes")
