"""Brunel (2000) sparse network of excitatory and inhibitory delta-synapse neurons (model A:
one neuron type, relative inhibition g), as NEST's brunel_delta_nest.py sets it up.

- 10,000 excitatory and 2,500 inhibitory iaf_psc_delta neurons (tau_m 20 ms, theta 20 mV,
  V_r 10 mV, t_ref 2 ms, E_L 0, C_m 1 pF), dt 0.1 ms.
- Every neuron receives exactly C_E = 1,000 excitatory and C_I = 250 inhibitory inputs
  (fixed_indegree, epsilon = 0.1), J = 0.1 mV and -g J, all delays D = 1.5 ms.
- External drive: C_E independent Poisson inputs per neuron at nu_ext = eta nu_thr, with
  nu_thr = theta / (J C_E tau_m) = 10 Hz the rate that brings the mean input to threshold.
- delay_spread w > 0 (ms) spreads the recurrent delays uniformly over [D - w/2, D + w/2]
  (Uniform; NEST's nest.random.uniform), w <= 2 (D - dt); the external input keeps D.
- weight_sigma s > 0 draws the recurrent weights from LogNormals of means J and -g J with
  their logarithm's sd s (mu = ln(|mean|) - s**2 / 2; NEST's nest.random.lognormal), s <= 3;
  the external input keeps J.
- The default (g = 5, eta = 2) is the asynchronous irregular state; g = 3, eta = 2 gives
  synchronous regular firing, g = 6, eta = 4 fast oscillations, g = 4.5, eta = 0.9 slow ones
  (Brunel 2000, fig. 8).

Differences from NEST's example, chosen for the model rather than the script: V_r = 10 mV
(the paper's; the example resets to 0) and initial V uniform in [0, theta) (the example starts
every neuron at 0, which gives a synchronous first volley). `scale` multiplies the numbers
of neurons and keeps the in-degrees (Brunel's C and the mean-field operating point stay
put; below scale 1 neurons share more of their inputs).
"""
import math

import numpy as np

from ..model import Exponential, FixedIndegree, LogNormal, Network, Uniform
from ..numbers import is_real, shown

ORDER = 2500
N_E_FULL, N_I_FULL = 4 * ORDER, ORDER
EPSILON = 0.1
C_E, C_I = int(EPSILON * N_E_FULL), int(EPSILON * N_I_FULL)
J = 0.1           # mV
DELAY = 1.5       # ms
DT = 0.1          # ms
THETA = 20.0      # mV
TAU_M = 20.0      # ms
PARAMS = {"C_m": 1.0, "tau_m": TAU_M, "t_ref": 2.0, "E_L": 0.0, "V_th": THETA, "V_reset": 10.0}


def _positive(name, value):
    if not is_real(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {shown(value)}")
    return float(value)


def recurrent_delay(spread, beta=0.0):
    """The recurrent connections' delay (ms): D, or Uniform(D - spread/2, D + spread/2) for a
    spread in (0, 2 (D - dt)], or D - beta + an exponential of mean beta (mean D) for a beta
    in (0, D - dt]."""
    if not is_real(spread) or not 0 <= spread <= 2 * (DELAY - DT):
        raise ValueError(f"delay_spread must be a number of ms in [0, {2 * (DELAY - DT):g}] (the delays must stay "
                         f">= dt = {DT} ms around D = {DELAY} ms), got {shown(spread)}")
    if not is_real(beta) or not 0 <= beta <= DELAY - DT:
        raise ValueError(f"delay_beta must be a number of ms in [0, {DELAY - DT:g}] (the delays, D - beta + an "
                         f"exponential of mean beta, must stay >= dt = {DT} ms), got {shown(beta)}")
    if spread > 0 and beta > 0:
        raise ValueError("delay_spread and delay_beta: give one (uniform or exponential delays), not both")
    if beta > 0:
        return Exponential(float(beta), DELAY - float(beta))
    return Uniform(DELAY - 0.5 * spread, DELAY + 0.5 * spread) if spread > 0 else DELAY


def recurrent_weight(mean, sigma, exponential=False):
    """A recurrent weight (mV): `mean`, or a LogNormal of that mean whose logarithm has sd
    sigma in (0, 3], or (exponential) an Exponential of that mean."""
    if not is_real(sigma) or not 0 <= sigma <= 3:
        raise ValueError(f"weight_sigma must be a number in [0, 3] (the sd of a weight's logarithm), got "
                         f"{shown(sigma)}")
    if sigma > 0 and exponential:
        raise ValueError("weight_sigma and weight_exponential: give one (lognormal or exponential weights), not both")
    if exponential:
        return Exponential(abs(mean), 0.0, 1.0 if mean > 0 else -1.0)
    if sigma == 0:
        return mean
    w = LogNormal(math.log(abs(mean)) - 0.5 * float(sigma) ** 2, float(sigma))
    return w if mean > 0 else -w


def threshold_rate():
    """nu_thr (Hz): the external rate per input that holds the mean free membrane at theta."""
    return THETA / (J * C_E * TAU_M) * 1e3


def build(scale=1.0, record_voltage=0, g=5.0, eta=2.0, delay_spread=0.0, weight_sigma=0.0, delay_beta=0.0,
          weight_exponential=False):
    """The network at `scale` (fraction of neurons, in-degrees kept), relative inhibition g,
    external rate eta (in units of nu_thr), recurrent delays spread uniformly over
    delay_spread ms around D (0: all D) or D - delay_beta + an exponential of mean delay_beta
    (ms), recurrent weights LogNormal with their logarithm's sd weight_sigma or (with
    weight_exponential) Exponential, of means J and -g J (else all J and -g J)."""
    scale, g, eta = _positive("scale", scale), _positive("g", g), _positive("eta", eta)
    delay = recurrent_delay(delay_spread, delay_beta)
    if not isinstance(weight_exponential, bool):
        raise ValueError(f"weight_exponential must be True or False, got {weight_exponential!r}")
    recurrent_weight(J, weight_sigma, weight_exponential)   # checked before any population is made
    sizes = {"E": max(1, int(round(N_E_FULL * scale))), "I": max(1, int(round(N_I_FULL * scale)))}
    net = Network(dt=DT, chunk_size=1024, name="brunel")
    net.metadata.update({"model": "brunel", "scale": scale, "g": g, "eta": eta, "delay_spread_ms": float(delay_spread),
                         "weight_sigma": float(weight_sigma), "delay_beta_ms": float(delay_beta),
                         "weight_exponential": weight_exponential,
                         "reference": "Brunel (2000) J Comput Neurosci 8:183; NEST brunel_delta_nest.py"})
    for pop, n in sizes.items():
        net.add_population(pop, n, "iaf_psc_delta", PARAMS, v_init=Uniform(PARAMS["E_L"], THETA))
        net.record_spikes(pop)
        if record_voltage:
            net.record_voltage(pop, np.arange(min(record_voltage, n)))
    for src, k, w in (("E", C_E, J), ("I", C_I, -g * J)):
        for dst in sizes:
            net.connect(src, dst, FixedIndegree(k), recurrent_weight(w, weight_sigma, weight_exponential), delay)
    for dst in sizes:
        net.add_poisson_input(dst, indegree=C_E, rate=eta * threshold_rate(), weight=J, delay=DELAY)
    return net
