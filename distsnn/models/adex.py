"""An E/I network of adaptive exponential integrate-and-fire neurons (aeif_cond_exp), in the
style of Zerlaut et al. (2018) and di Volo et al. (2019), the network behind their AdEx
mean-field models: 10,000 neurons, 80 % regular-spiking excitatory neurons with
spike-triggered adaptation b, 20 % fast-spiking inhibitory ones without; random connectivity
with probability 0.05 and exponential conductances (5 ms); every neuron is driven by 400
external Poisson sources at 2.5 Hz. The parameters are this module's constants (their
values after those papers, not a reproduction of their figures). `b` (pA) is the knob
those papers turn: adaptation slows the excitatory population.

`scale` multiplies the number of neurons and keeps the in-degrees (p x N at scale 1, drawn
with FixedIndegree), so that every neuron's input stays as at full size.
"""
import numpy as np

from ..model import FixedIndegree, Network, Uniform
from ..numbers import is_real, shown

N_FULL = 10000
EXC_FRACTION = 0.8
P_CONN = 0.05
DELAY = 0.5                 # ms
Q_EXC, Q_INH = 1.5, 5.0     # nS
K_EXT, NU_EXT = 400, 2.5    # external Poisson sources per neuron, Hz each
B_DEFAULT = 60.0            # pA
COMMON = {"C_m": 200.0, "g_L": 10.0, "V_th": -50.0, "V_reset": -65.0, "V_peak": -40.0, "t_ref": 5.0,
          "E_ex": 0.0, "E_in": -80.0, "tau_syn_ex": 5.0, "tau_syn_in": 5.0, "tau_w": 500.0, "a": 0.0}
EXC_PARAMS = dict(COMMON, E_L=-64.0, Delta_T=2.0)                # regular spiking (b set by build)
INH_PARAMS = dict(COMMON, E_L=-65.0, Delta_T=0.5, b=0.0)         # fast spiking


def build(scale=1.0, record_voltage=0, b=B_DEFAULT):
    """The network at `scale` with adaptation `b` (pA) of the excitatory neurons."""
    if not is_real(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number, got {shown(scale)}")
    if not is_real(b):
        raise ValueError(f"b must be a finite number (pA), got {shown(b)}")
    n = max(2, int(round(N_FULL * scale)))
    n_exc = max(1, int(round(n * EXC_FRACTION)))
    sizes = {"E": n_exc, "I": n - n_exc}
    k = {"E": int(round(P_CONN * N_FULL * EXC_FRACTION)), "I": int(round(P_CONN * N_FULL * (1 - EXC_FRACTION)))}
    net = Network(dt=0.1, chunk_size=1024, name="adex")
    net.metadata.update({"model": "adex", "scale": scale, "b_pA": float(b),
                         "reference": "after Zerlaut et al. (2018); di Volo et al. (2019)"})
    for pop, params in (("E", dict(EXC_PARAMS, b=float(b))), ("I", INH_PARAMS)):
        net.add_population(pop, sizes[pop], "aeif_cond_exp", params, v_init=Uniform(params["V_reset"], params["V_th"]))
        net.record_spikes(pop)
        if record_voltage:
            net.record_voltage(pop, np.arange(min(record_voltage, sizes[pop])))
    for src, w, rec in (("E", Q_EXC, "excitatory"), ("I", Q_INH, "inhibitory")):
        for dst in ("E", "I"):
            net.connect(src, dst, FixedIndegree(min(k[src], sizes[src])), w, DELAY, receptor=rec)
    for dst in ("E", "I"):
        net.add_poisson_input(dst, indegree=K_EXT, rate=NU_EXT, weight=Q_EXC, delay=DELAY)
    return net
