"""A pulse-coupled network of Izhikevich neurons after Izhikevich (2003): 80 % regular-spiking
excitatory cells and 20 % fast-spiking inhibitory ones, random coupling (weights in mV, added
to V), 1 ms delays, and noisy thalamic input (a current redrawn every 1 ms per neuron). At full
scale 10,000 neurons, each receiving K_E = 800 excitatory and K_I = 200 inhibitory inputs (the
paper's 1000-neuron network has all-to-all coupling, so the same in-degrees); the in-degrees
stay when scaled.

The cells: `cells="published"` gives each cell its own parameters as the paper draws them, from
one r ~ U(0, 1) per cell: excitatory c = -65 + 15 r**2, d = 8 - 6 r**2 (regular spiking to
chattering), inhibitory a = 0.02 + 0.08 r, b = 0.25 - 0.05 r (fast spiking to low-threshold
spiking). The r are part of the model, drawn from NumPy's generator seeded with `cells_seed`
(the simulation's seed draws connectivity, weights and noise), as the paper's script draws
them once. `cells="central"` (the default, as before) gives each class one set, the paper's
at r = 0 for the excitatory cells (regular spiking) and a fast-spiking set for the inhibitory.
The weights are Normal with the paper's means (it draws 0.5 U(0,1) and -U(0,1): 0.25 and
-0.5 mV)."""
import numpy as np

from ..model import FixedIndegree, Network, Normal
from ..numbers import is_real, shown

N_E_FULL, N_I_FULL = 8000, 2000
K_E, K_I = 800, 200
W_E, W_I = Normal(0.25, 0.05), Normal(-0.5, 0.1)   # mV
DELAY = 1.0                                          # ms
NOISE_STD = {"E": 5.0, "I": 2.0}                     # thalamic input: std of the current, redrawn every NOISE_DT
NOISE_DT = 1.0                                       # ms
CELLS = {"E": {"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0},   # regular spiking
         "I": {"a": 0.1, "b": 0.2, "c": -65.0, "d": 2.0}}    # fast spiking
CELL_CHOICES = ("central", "published")


def published_cells(pop, r):
    """The paper's parameters of the cells of class `pop` ('E' or 'I') with r ~ U(0, 1) each."""
    if pop == "E":
        return {"a": 0.02, "b": 0.2, "c": -65.0 + 15.0 * r ** 2, "d": 8.0 - 6.0 * r ** 2}
    return {"a": 0.02 + 0.08 * r, "b": 0.25 - 0.05 * r, "c": -65.0, "d": 2.0}


def build(scale=1.0, record_voltage=0, cells="central", cells_seed=2003):
    """The network with a fraction `scale` of the neurons (in-degrees kept); record_voltage:
    the state (V_m, U_m) of the first K neurons of each population; cells: 'central' or
    'published' (the module docstring), the latter's r from NumPy's generator seeded with
    cells_seed."""
    if not is_real(scale) or not 0 < scale <= 1:
        raise ValueError(f"izhikevich: scale must be in (0, 1], got {shown(scale)}")
    if cells not in CELL_CHOICES:
        raise ValueError(f"izhikevich: cells must be one of {', '.join(CELL_CHOICES)}, got {cells!r}")
    net = Network(dt=0.1, name="izhikevich")
    net.metadata.update({"model": "izhikevich", "scale": scale, "cells": cells})
    sizes = {"E": max(1, int(round(N_E_FULL * scale))), "I": max(1, int(round(N_I_FULL * scale)))}
    if cells == "published":
        net.metadata["cells_seed"] = cells_seed
        rng = np.random.default_rng(cells_seed)
        r = {pop: rng.random(n) for pop, n in sizes.items()}
    for pop, n in sizes.items():
        net.add_population(pop, n, "izhikevich", CELLS[pop] if cells == "central" else published_cells(pop, r[pop]))
    for post in sizes:
        net.connect("E", post, FixedIndegree(K_E), W_E, DELAY)
        net.connect("I", post, FixedIndegree(K_I), W_I, DELAY)
        net.add_noise_input(post, std=NOISE_STD[post], dt=NOISE_DT)
        net.record_spikes(post)
        if record_voltage:
            net.record_state(post, range(min(record_voltage, sizes[post])), ("V_m", "U_m"))
    return net
