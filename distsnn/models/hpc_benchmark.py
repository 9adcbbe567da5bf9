"""NEST's HPC benchmark (pynest/examples/hpc_benchmark.py; Morrison et al. 2007, Helias et al.
2012, Kunkel et al. 2014): a balanced random network whose excitatory-excitatory synapses
learn by power-law STDP (stdp_pl_synapse_hom: model.STDPPowerLaw), the network NEST's
scaling studies run.

- 9,000 `scale` excitatory and 2,250 `scale` inhibitory iaf_psc_alpha neurons (C_m 250 pF,
  tau_m 10 ms, t_ref 0.5 ms, E_L = V_reset = 0, V_th 20 mV, tau_syn 0.3258 ms; tau_minus 30
  ms), initial V Normal(5.7, 7.2) mV, dt 0.1 ms.
- Every neuron receives 9,000 excitatory and 2,250 inhibitory inputs whatever the scale
  (fixed_indegree, multapses allowed), all delays 1.5 ms, weights J = 0.14 mV as a current
  (JE_pA = J / the peak of a 1 pA alpha PSP: convert_synapse_weight) and g JE_pA with
  g = -5; E->E through STDPPowerLaw(tau_plus 15 ms, lambda 0.1, alpha 0.0513, mu 0.4).
- External drive: a Poisson train per neuron at CE nu_ext, nu_ext = eta nu_thresh with
  eta 1.685 (as CE inputs at nu_ext each), weight JE_pA.

Differences from NEST's script: NEST forbids autapses (an E neuron's 9,000 inputs include
itself once on average at scale 1, never in NEST); distsnn's fixed_indegree allows them. NEST
draws its own random numbers, so the two agree as two samples of one model. As NEST's script
warns, below scale 10 the inputs are strongly correlated and the weights grow: use scale >= 10
for long runs, short ones (NEST's example: 50 ms of presimulation and 250 ms) below.
The STDP synapses are stored: run it with connectivity 'stored'.
"""
import math

import numpy as np

from ..model import FixedIndegree, Network, Normal, STDPPowerLaw
from ..numbers import is_real, shown

N_E, N_I = 9000, 2250        # neurons at scale 1; also the in-degrees at every scale
DT = 0.1                     # ms
DELAY = 1.5                  # ms
TAU_SYN = 0.32582722403722841   # ms
PARAMS = {"E_L": 0.0, "C_m": 250.0, "tau_m": 10.0, "t_ref": 0.5, "V_th": 20.0, "V_reset": 0.0,
          "tau_syn_ex": TAU_SYN, "tau_syn_in": TAU_SYN}
TAU_MINUS = 30.0             # ms: the neurons' STDP depression time constant
V_MEAN, V_SD = 5.7, 7.2      # mV: initial membrane potentials
JE = 0.14                    # mV: the peak of an excitatory PSP
G = -5.0
ETA = 1.685
STDP_PARAMS = {"tau_plus": 15.0, "lambda_": 0.1, "alpha": 0.0513, "mu": 0.4}


def lambert_wm1(x):
    """W_{-1}(x), the lower branch of Lambert's W, for x in [-1/e, 0): Halley's iteration from
    the branch point's series (x near -1/e) or the asymptote ln(-x) - ln(-ln(-x)) (near 0);
    scipy.special.lambertw(x, -1) to a few ulp away from the branch point (where the model uses
    it: x = -0.0315), to 1e-6 at it (where W's slope is infinite)."""
    if not -1.0 / math.e <= x < 0.0:
        raise ValueError(f"W_-1 is defined on [-1/e, 0), got {x}")
    if x < -0.25:
        p = -math.sqrt(max(2.0 * (1.0 + math.e * x), 0.0))
        w = -1.0 + p - p * p / 3.0 + 11.0 / 72.0 * p ** 3
    else:
        w = math.log(-x) - math.log(-math.log(-x))
    for _ in range(50):
        if w == -1.0:
            break
        ew = math.exp(w)
        f = w * ew - x
        step = f / (ew * (w + 1.0) - (w + 2.0) * f / (2.0 * w + 2.0))
        w -= step
        if abs(step) <= 4e-16 * abs(w):
            break
    return w


def convert_synapse_weight(tau_m, tau_syn, c_m):
    """pA per mV of PSP peak for iaf_psc_alpha (NEST's script's function of that name): 1 / the
    peak of the membrane's response to a 1 pA alpha current (tau_m, tau_syn in ms, C_m in pF)."""
    a = tau_m / tau_syn
    b = 1.0 / tau_syn - 1.0 / tau_m
    t_rise = 1.0 / b * (-lambert_wm1(-math.exp(-1.0 / a) / a) - 1.0 / a)
    v_max = (math.exp(1.0) / (tau_syn * c_m * b)
             * ((math.exp(-t_rise / tau_m) - math.exp(-t_rise / tau_syn)) / b - t_rise * math.exp(-t_rise / tau_syn)))
    return 1.0 / v_max


def je_pa():
    """The excitatory weight (pA): JE mV as a current."""
    return convert_synapse_weight(PARAMS["tau_m"], TAU_SYN, PARAMS["C_m"]) * JE


def external_rate():
    """The rate of each of a neuron's CE external inputs (Hz): nu_ext = eta nu_thresh (NEST's
    script drives each neuron with one Poisson train of CE nu_ext)."""
    nu_thresh = PARAMS["V_th"] / (N_E * PARAMS["tau_m"] / PARAMS["C_m"] * je_pa() * math.exp(1.0) * TAU_SYN)
    return ETA * nu_thresh * 1000.0


def build(scale=1.0, record_voltage=0, record=1000):
    """The network at `scale` (9,000 scale E and 2,250 scale I neurons; in-degrees kept),
    spikes recorded from the first `record` E neurons (NEST's script's Nrec; all: None) and
    from every I neuron."""
    if not is_real(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number, got {shown(scale)}")
    sizes = {"E": max(1, int(N_E * scale)), "I": max(1, int(N_I * scale))}
    w = je_pa()
    net = Network(dt=DT, chunk_size=1024, name="hpc_benchmark")
    net.metadata.update({"model": "hpc_benchmark", "scale": float(scale), "JE_pA": w,
                         "reference": "NEST pynest/examples/hpc_benchmark.py; Morrison et al. (2007) Neural "
                                      "Comput 19:1437; Kunkel et al. (2014) Front Neuroinform 8:78"})
    for pop, n in sizes.items():
        net.add_population(pop, n, "iaf_psc_alpha", PARAMS, v_init=Normal(V_MEAN, V_SD))
        if pop == "I" or record is None:
            net.record_spikes(pop)
        else:
            net.record_spikes(pop, np.arange(min(int(record), n)))
        if record_voltage:
            net.record_voltage(pop, np.arange(min(record_voltage, n)))
    net.connect("E", "E", FixedIndegree(N_E), w, DELAY, stdp=STDPPowerLaw(tau_minus=TAU_MINUS, **STDP_PARAMS))
    net.connect("E", "I", FixedIndegree(N_E), w, DELAY)
    for dst in sizes:
        net.connect("I", dst, FixedIndegree(N_I), G * w, DELAY)
        net.add_poisson_input(dst, indegree=N_E, rate=external_rate(), weight=w, delay=DELAY)
    return net
