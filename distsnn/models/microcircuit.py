"""The cortical microcircuit of Potjans & Diesmann (2014), Cereb Cortex 24:785-806.

Parameters as in NEST's PyNEST example (Potjans_2014, network_params.py / helpers.py):
8 populations of iaf_psc_exp, fixed_total_number connectivity (multapses, autapses),
Poisson background at 8 Hz, normal weights (relative sd 0.1, clipped to keep the sign; the
example redraws, but no draw gets 10 sd from the mean) and delays (relative sd 0.5, redrawn
below dt / 2 as the example's nest.math.redraw, so [dt / 2, dt) rounds to one step;
`delays="clip"` puts every draw below dt on dt, as distsnn did before 2026-11-23; for part of
that day distsnn redrew below dt), dt = 0.1 ms. The example's two stimuli are
off by default, as there (stimulus_params.py):
- thalamus: 902 thalamic neurons (population "TH", not scaled) fire as Poisson sources at
  120 Hz for 10 ms from 700 ms and project onto L4 and L6 by fixed_total_number with the
  connection probabilities conn_probs_th (PSP 0.15 mV, relative sd 0.1; delays 1.5 ms,
  relative sd 0.5). Their spikes fall in (701.1, 711.1] ms, as NEST's: its poisson_generator
  stamps its spikes in (start + dt, stop + dt] and drives parrot_neurons through its default
  delay of 1 ms.
- dc: a DC current of 0.3 pA per external input (0.3 K_ext pA) from 650 to 750 ms.

`scale` reduces neuron numbers and in-degrees together (N_scaling = K_scaling = scale);
as in NEST's example, weights are scaled by 1/sqrt(scale) and a DC current (through I_e)
compensates the mean input lost, using NEST's full-scale rates, so small runs keep their
activity statistics close to the full model.
"""
import math

import numpy as np

from ..model import FixedTotalNumber, Network, Normal
from ..model.distributions import OUTSIDE
from ..numbers import is_real, shown
from ..rng.portable_math import plog

POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
FULL_SIZES = (20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948)
# connection probabilities, rows = target, columns = source (order above)
CONN_PROBS = (
    (0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0),
    (0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0),
    (0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0),
    (0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0),
    (0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0),
    (0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0),
    (0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252),
    (0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443),
)
K_EXT = (1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100)
BG_RATE = 8.0                        # Hz per external input
PSP_EXC = 0.15                       # mV
G = -4.0
# PSC amplitude per PSP amplitude (pA/mV) for C_m=250, tau_m=10, tau_syn=0.5 (NEST helpers.py
# postsynaptic_potential_to_current); a literal so every platform builds the same weights.
PSC_OVER_PSP = 585.3899568613896
W_EXC = PSP_EXC * PSC_OVER_PSP       # 87.81 pA
W_REL_SD = 0.1
DELAY_EXC, DELAY_INH, DELAY_REL_SD = 1.5, 0.75, 0.5   # ms
POISSON_DELAY = 1.5                  # ms
NEURON_PARAMS = {"C_m": 250.0, "tau_m": 10.0, "t_ref": 2.0, "E_L": -65.0, "V_th": -50.0,
                 "V_reset": -65.0, "tau_syn_ex": 0.5, "tau_syn_in": 0.5}
V0_MEAN = (-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43)
V0_SD = (5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48)
# NEST's full-scale single-run rates (Hz), network_params.py at commit 6151de27 (2022-12-02):
# used for the DC compensation of scaled-down runs and as the benchmark reference.
FULL_MEAN_RATES = (0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829)
T_PRESIM = 500.0   # ms: the example's warm-up, after which it measures those rates (over 1,000 ms)
CHUNK_SIZE = 1024
# stimuli of the NEST example (stimulus_params.py); times in ms
STIMULI = ("thalamus", "dc")
TH_NEURONS, TH_RATE, TH_START, TH_DURATION = 902, 120.0, 700.0, 10.0
TH_CONN_PROBS = (0.0, 0.0, 0.0983, 0.0619, 0.0, 0.0, 0.0512, 0.0196)
PSP_TH, DELAY_TH, DELAY_TH_REL_SD = 0.15, 1.5, 0.5
PARROT_DELAY = 1.0                   # NEST's default delay of poisson_generator -> parrot_neuron
DT = 0.1                             # ms; a NEST poisson_generator's spikes lag its window by a step
REDRAW_BELOW = DT - 0.5 * DT         # ms; the example's bound of a delay's redraw
DC_START, DC_DURATION, DC_PER_K_EXT = 650.0, 100.0, 0.3


def mean_weight(target, source):
    """Mean PSC amplitude (pA) of source -> target at full scale."""
    if POPULATIONS[source].endswith("I"):
        return G * W_EXC
    if POPULATIONS[target] == "L23E" and POPULATIONS[source] == "L4E":
        return 2.0 * W_EXC
    return W_EXC


def full_synapse_counts():
    """Float synapse numbers of the full model: ln(1-p) / ln((N_t N_s - 1) / (N_t N_s))."""
    counts = np.zeros((8, 8))
    for t in range(8):
        for s in range(8):
            p = CONN_PROBS[t][s]
            if p > 0:
                nn = float(FULL_SIZES[t]) * float(FULL_SIZES[s])
                # NEST's expression, evaluated the same way (so the rounded counts agree)
                counts[t, s] = float(plog(1.0 - p)) / float(plog((nn - 1.0) / nn))
    return counts


def thalamic_synapse_counts():
    """Float synapse numbers TH -> each population at full scale (NEST's formula, with the
    902 thalamic neurons and the full population sizes)."""
    counts = np.zeros(8)
    for t, p in enumerate(TH_CONN_PROBS):
        if p > 0:
            nn = float(TH_NEURONS) * float(FULL_SIZES[t])
            counts[t] = float(plog(1.0 - p)) / float(plog((nn - 1.0) / nn))
    return counts


def stimuli(text):
    """The stimuli named in `text` ('thalamus', 'dc', 'thalamus,dc'; '' or None: none), checked."""
    names = tuple(dict.fromkeys(x.strip() for x in (text or "").split(",") if x.strip()))
    unknown = [x for x in names if x not in STIMULI]
    if unknown:
        raise ValueError(f"microcircuit: unknown stimulus {', '.join(map(repr, unknown))}; known: {', '.join(STIMULI)}")
    return names


def build(scale=1.0, record_voltage=0, stimulus=None, neuron_params=None, delays="redraw"):
    """Return the microcircuit as a Network. record_voltage: first K neurons of each population;
    stimulus: 'thalamus', 'dc' or 'thalamus,dc' (the NEST example's stimuli, module docstring);
    neuron_params: parameters that replace the model's in every population, numbers or values
    per neuron (e.g. {"tau_m": Normal(10.0, 1.0)}: a heterogeneous microcircuit); delays:
    what a delay drawn below dt becomes, 'redraw' (the example's rule: drawn again below dt / 2)
    or 'clip' (the spikes of distsnn runs before 2026-11-23)."""
    if not is_real(scale) or not 0 < scale <= 1:
        raise ValueError(f"microcircuit: scale must be in (0, 1], got {shown(scale)}")
    scale = float(scale)
    if delays not in OUTSIDE:
        raise ValueError(f"microcircuit: delays must be one of {OUTSIDE}, got {delays!r}")
    stim = stimuli(stimulus)
    sizes = [int(np.round(n * scale)) for n in FULL_SIZES]
    full = full_synapse_counts()
    k_full = full / np.array(FULL_SIZES, dtype=np.float64)[:, None]
    w_factor = 1.0 / math.sqrt(scale)
    # DC compensation of the lost mean input (NEST helpers.adjust_weights_and_input_to_synapse_scaling)
    dc = np.zeros(8)
    if scale < 1.0:
        for t in range(8):
            rec = sum(mean_weight(t, s) * k_full[t, s] * FULL_MEAN_RATES[s] for s in range(8))
            ext = W_EXC * K_EXT[t] * BG_RATE
            dc[t] = 0.001 * NEURON_PARAMS["tau_syn_ex"] * (1.0 - math.sqrt(scale)) * (rec + ext)

    net = Network(dt=DT, chunk_size=CHUNK_SIZE, name="microcircuit")
    net.metadata.update({"model": "microcircuit", "scale": scale, "delays": delays,
                         "reference": "Potjans & Diesmann (2014); NEST example Potjans_2014",
                         # what a run's mean rates are shown next to (distsnn run): NEST's, at full scale
                         "reference_rates_hz": dict(zip(POPULATIONS, FULL_MEAN_RATES)),
                         "reference_rates_window_ms": [T_PRESIM, T_PRESIM + 1000.0],
                         "reference_rates_source": "NEST's example Potjans_2014 (network_params.py full_mean_rates, "
                                                   "commit 6151de27), one run at full scale"})
    if delays == "redraw":
        net.metadata["redraw_below_ms"] = REDRAW_BELOW
    if stim:
        net.metadata["stimulus"] = ",".join(stim)
    for t, name in enumerate(POPULATIONS):
        params = {**NEURON_PARAMS, "I_e": float(dc[t]), **(neuron_params or {})}
        net.add_population(name, sizes[t], "iaf_psc_exp", params, v_init=Normal(V0_MEAN[t], V0_SD[t]))
        k_ext = int(np.round(K_EXT[t] * scale))
        net.add_poisson_input(name, indegree=k_ext, rate=BG_RATE, weight=W_EXC * w_factor, delay=POISSON_DELAY)
        net.record_spikes(name)
        if record_voltage:
            net.record_voltage(name, np.arange(min(record_voltage, sizes[t])))
    for t in range(8):
        for s in range(8):
            n_syn = int(np.round(full[t, s] * scale * scale))
            if n_syn == 0:
                continue
            w = mean_weight(t, s) * w_factor
            d = DELAY_INH if POPULATIONS[s].endswith("I") else DELAY_EXC
            net.connect(POPULATIONS[s], POPULATIONS[t], FixedTotalNumber(n_syn),
                        weight=Normal(w, W_REL_SD * abs(w)), delay=delay(d, DELAY_REL_SD * d, delays))
    if "thalamus" in stim:
        _add_thalamus(net, scale, delays)
    if "dc" in stim:
        for t, name in enumerate(POPULATIONS):   # not scaled, as in the example
            net.add_dc_input(name, DC_PER_K_EXT * K_EXT[t], start=DC_START, stop=DC_START + DC_DURATION)
    return net


def delay(mean, sd, delays):
    """A delay Normal (ms) under the rule `delays`: 'redraw' below dt / 2, as the example
    (min = resolution - 0.5 * resolution), or 'clip' to dt."""
    return Normal(mean, sd, "redraw", REDRAW_BELOW) if delays == "redraw" else Normal(mean, sd, "clip")


def _add_thalamus(net, scale, delays):
    """The thalamic population and its projections. As in the NEST example, the number of
    thalamic neurons is not scaled, the synapse numbers scale with the in-degrees (so each
    target keeps its full-scale thalamic in-degree) and the weight by 1/sqrt(scale)."""
    start = TH_START + DT + PARROT_DELAY   # NEST's spike times (add_poisson_source)
    net.add_poisson_source("TH", TH_NEURONS, TH_RATE, start=start, stop=start + TH_DURATION)
    net.record_spikes("TH")
    w = PSP_TH * PSC_OVER_PSP / math.sqrt(scale)
    for t, count in enumerate(thalamic_synapse_counts()):
        n_syn = int(np.round(count * scale))
        if n_syn:
            net.connect("TH", POPULATIONS[t], FixedTotalNumber(n_syn), weight=Normal(w, W_REL_SD * w),
                        delay=delay(DELAY_TH, DELAY_TH_REL_SD * DELAY_TH, delays))
