"""Vogels & Abbott (2005) balanced networks, as benchmarks 1 and 2 of Brette et al. (2007)
(PyNN's VAbenchmarks, which OpSNN ran): 4,000 neurons, 80 % excitatory, connection
probability 0.02, delay 0.2 ms, dt 0.1 ms, initial V uniform in [V_reset, V_th].

COBA: iaf_cond_exp (C_m 200 pF, g_L 10 nS, E_L -60 mV, tau_syn 5 / 10 ms, E_ex 0, E_in -80 mV),
      weights 4 nS (excitatory) and 51 nS (inhibitory); activity is kicked off by 20 Poisson
      sources at 100 Hz for the first 50 ms (p = 0.01, 100 nS).
CUBA: iaf_psc_exp (tau_m 20 ms, E_L -49 mV, i.e. above threshold), weights 0.27 nS * 60 mV
      = 16.2 pA and 4.5 nS * (-20 mV) = -90 pA.
Both: V_th -50 mV, V_reset -60 mV, t_ref 5 ms. `scale` multiplies the number of neurons at
constant connection probability (as PyNN's N_pop scans do).
"""
import numpy as np

from ..model import FixedProbability, Network, Uniform
from ..numbers import is_real, shown

N_FULL = 4000
EXC_FRACTION = 0.8
P_CONN = 0.02
DELAY = 0.2
COMMON = {"C_m": 200.0, "V_th": -50.0, "V_reset": -60.0, "t_ref": 5.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0}
COBA_PARAMS = dict(COMMON, g_L=10.0, E_L=-60.0, E_ex=0.0, E_in=-80.0)
CUBA_PARAMS = dict(COMMON, tau_m=20.0, E_L=-49.0)
COBA_W_EXC, COBA_W_INH = 4.0, 51.0                  # nS
CUBA_W_EXC, CUBA_W_INH = 0.27 * 60.0, 4.5 * -20.0   # pA
STIM_N, STIM_RATE, STIM_DURATION, STIM_P, STIM_W = 20, 100.0, 50.0, 0.01, 100.0


def _sizes(scale):
    if not is_real(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number, got {shown(scale)}")
    n = max(2, int(round(N_FULL * scale)))
    n_exc = int(round(n * EXC_FRACTION))
    return n_exc, n - n_exc


def _network(name, scale, model, params, w_exc, w_inh, record_voltage):
    n_exc, n_inh = _sizes(scale)
    net = Network(dt=0.1, chunk_size=1024, name=name)
    net.metadata.update({"model": name, "scale": scale, "reference": "Vogels & Abbott (2005); Brette et al. (2007)"})
    for pop, n in (("E", n_exc), ("I", n_inh)):
        net.add_population(pop, n, model, params, v_init=Uniform(params["V_reset"], params["V_th"]))
        net.record_spikes(pop)
        if record_voltage:
            net.record_voltage(pop, np.arange(min(record_voltage, n)))
    for src, w, rec in (("E", w_exc, "excitatory"), ("I", w_inh, "inhibitory")):
        for dst in ("E", "I"):
            net.connect(src, dst, FixedProbability(P_CONN), w, DELAY, receptor=rec)
    return net


def coba(scale=1.0, record_voltage=0, stim_seed=1):
    """The conductance-based benchmark (with its 50 ms Poisson kick-off)."""
    net = _network("coba", scale, "iaf_cond_exp", COBA_PARAMS, COBA_W_EXC, COBA_W_INH, record_voltage)
    rng = np.random.default_rng(stim_seed)
    counts = rng.poisson(STIM_RATE * STIM_DURATION * 1e-3, STIM_N)
    ids = np.repeat(np.arange(STIM_N), counts)
    times = rng.uniform(net.dt, STIM_DURATION, ids.size)
    net.add_spike_source("stim", STIM_N, ids, times)
    for dst in ("E", "I"):
        net.connect("stim", dst, FixedProbability(STIM_P), STIM_W, DELAY, receptor="excitatory")
    return net


def cuba(scale=1.0, record_voltage=0):
    """The current-based benchmark (E_L above threshold: no external input needed)."""
    return _network("cuba", scale, "iaf_psc_exp", CUBA_PARAMS, CUBA_W_EXC, CUBA_W_INH, record_voltage)
