"""Every parameter of every neuron of a population as the simulation uses it (NEST's
GetStatus of a NodeCollection): the population's numbers, with the values drawn or given per
neuron in their places, in the model's own units (absolute mV, not relative to E_L). For
inspection (the spread of tau_m, the I_e each neuron drew), analysis (rates against
parameters) and export, without simulating."""
import numpy as np

from ..model.neurons import BOOL_PARAMS
from ..rng import streams
from ..rng.philox import philox4x32, uniform_open0_closed1
from ..rng.portable_math import box_muller
from .neuron_values import drawn, given_currents, initial_currents, izhikevich_parameters
from .param_rows import neuron_parameters


def frozen_currents(plan, gids):
    """The frozen I_e per neuron (pA) of the neurons `gids`: given values, or the draws of a
    Normal or Uniform I_e (interval 0 of its current's stream, the numbers the kernels add:
    mean + std z, z from the pair gid >> 1, Box-Muller or the uniform word); 0 for neurons
    without. A population has one frozen current at most (make_plan)."""
    gids = np.asarray(gids, dtype=np.int64)
    out = given_currents(plan, gids)
    for q, z in enumerate(plan.network.noise_inputs):
        if z.kind == "given" or np.isfinite(z.dt):
            continue
        sel = plan.pop_of[gids] == plan.pop_names.index(z.target)
        g = gids[sel]
        w = philox4x32(0, 0, g >> 1, streams.tag(streams.DOM_CURRENT, q), plan.key0, plan.key1)
        u0, u1 = uniform_open0_closed1(w[0]), uniform_open0_closed1(w[1])
        z0, z1 = (u0, u1) if z.kind == "uniform" else box_muller(u0, u1)
        out[sel] = z.mean + z.std * np.where(g & 1, z1, z0)
    return out


def neuron_table(plan, population, ids=None):
    """{parameter: float64 array, one value per neuron} of the neurons `ids` (population-local,
    default all) of `population`: every numeric parameter of its model (switches such as
    consistent_integration left out), and V_m, the initial membrane potential (mV)."""
    if population not in plan.network.populations:
        raise ValueError(f"no population {population!r}; known: {', '.join(plan.network.populations)}")
    pop = plan.network.populations[population]
    if pop.is_source:
        raise ValueError(f"population {population!r} is a spike source: its neurons have no parameters")
    k = plan.pop_names.index(population)
    sl = plan.pop_slice(population)
    local = np.arange(pop.size, dtype=np.int64) if ids is None else np.asarray(ids)
    if local.ndim != 1 or not np.issubdtype(local.dtype, np.integer) or (local.size and (
            local.min() < 0 or local.max() >= pop.size)):
        raise ValueError(f"population {population!r}: ids must be integers in [0, {pop.size})")
    gids = sl.start + local.astype(np.int64)
    prm = neuron_parameters(plan, k, gids)
    out = {name: np.broadcast_to(np.asarray(value, dtype=np.float64), gids.shape).copy()
           for name, value in prm.items() if name not in BOOL_PARAMS}
    # V_th and V_m as drawn or given (absolute), not the engines' values relative to E_L plus
    # E_L again, which could differ from them in the last bit
    start = sl.start
    out["V_th"] = (np.full(gids.size, pop.params["V_th"]) if pop.v_th is None
                   else drawn(pop.v_th, streams.INIT_VAR_V_TH, gids, start, plan.key0, plan.key1))
    out["I_e"] = out["I_e"] + frozen_currents(plan, gids)   # the scalar is 0 where a current is frozen
    if pop.model == "izhikevich":
        abcd = izhikevich_parameters(plan, gids)
        out.update(a=abcd[:, 0], b=abcd[:, 1], c=abcd[:, 2], d=abcd[:, 3], U_m=initial_currents(plan, gids))
    out["V_m"] = (out["E_L"].copy() if pop.v_init is None     # each neuron at its own E_L
                  else drawn(pop.v_init, streams.INIT_VAR_V_M, gids, start, plan.key0, plan.key1))
    return out
