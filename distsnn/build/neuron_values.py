"""Per-neuron values drawn from the INIT streams (streams.DOM_INIT): the initial V, a
threshold drawn per neuron, izhikevich's initial u. Both engines take them from here for any
subset of neurons (a rank's), so the values never depend on the backend or the partition."""
import numpy as np

from ..model.distributions import Constant, Normal, Uniform
from ..model.neurons import resting, validate_params
from ..rng import streams
from ..rng.philox import philox4x32, uniform_open0_closed1
from ..rng.portable_math import box_muller


def _gids(plan, gids):
    """`gids` as an int64 array; None: every neuron of the plan."""
    return np.arange(plan.n_neurons, dtype=np.int64) if gids is None else np.asarray(gids, dtype=np.int64)


def _drawn(dist, variable, gids, key0, key1):
    """Values of `dist` (Constant, Uniform, Normal) for the neurons `gids`, from their INIT
    streams of `variable` (streams.INIT_VAR_*)."""
    if isinstance(dist, Constant):
        return np.full(gids.size, dist.value)
    w = philox4x32(variable, 0, gids, streams.tag(streams.DOM_INIT, 0), key0, key1)
    if isinstance(dist, Uniform):
        return dist.low + (dist.high - dist.low) * uniform_open0_closed1(w[0])
    z0, _ = box_muller(uniform_open0_closed1(w[0]), uniform_open0_closed1(w[1]))
    return dist.mean + dist.sd * z0


def initial_state(plan, gids=None):
    """Initial V (mV relative to E_L) of the neurons `gids` (default all), from the INIT streams."""
    gids = _gids(plan, gids)
    v = np.empty(gids.size)
    pop_of = plan.pop_of[gids]
    for k, pop in enumerate(plan.network.populations.values()):
        sel = pop_of == k
        if sel.any():
            v[sel] = _drawn(pop.v_init, streams.INIT_VAR_V_M, gids[sel], plan.key0, plan.key1) - resting(pop.params)
    return v


def initial_currents(plan, gids=None):
    """Initial i_ex of the neurons `gids` (default all): 0, but izhikevich's initial u
    (parameter U_m, mV), which it keeps there."""
    gids = _gids(plan, gids)
    u0 = np.array([pop.params.get("U_m", 0.0) if pop.model == "izhikevich" else 0.0
                   for pop in plan.network.populations.values()])
    return u0[plan.pop_of[gids]] if u0.size else np.zeros(gids.size)


def thresholds(plan, gids=None):
    """V_th (mV relative to E_L) of the neurons `gids` (default all): the population's (the
    plan's PF_VTH column holds the same number), or where it is drawn per neuron
    (Population.v_th) the draw from the neuron's INIT stream (streams.INIT_VAR_V_TH). Both
    engines hold these numbers, so they agree."""
    gids = _gids(plan, gids)
    pop_of = plan.pop_of[gids]
    out = np.empty(gids.size)
    for k, pop in enumerate(plan.network.populations.values()):
        sel = pop_of == k
        if pop.v_th is None:
            out[sel] = pop.params["V_th"] - resting(pop.params)
        elif sel.any():
            out[sel] = _drawn(pop.v_th, streams.INIT_VAR_V_TH, gids[sel], plan.key0, plan.key1) - resting(pop.params)
    return out


def check_thresholds(plan):
    """The model's checks (V_reset < V_th; for the AdEx models V_th <= V_peak and the
    exponential's bound) on the lowest and the highest drawn threshold of every population
    with a Normal one (all checks are monotone in V_th); a ValueError names the neuron."""
    for pop in plan.network.populations.values():
        if not isinstance(pop.v_th, Normal) or pop.size == 0:
            continue
        sl = plan.pop_slice(pop.name)
        v = _drawn(pop.v_th, streams.INIT_VAR_V_TH, np.arange(sl.start, sl.stop, dtype=np.int64), plan.key0,
                   plan.key1)
        for i in (int(np.argmin(v)), int(np.argmax(v))):
            try:
                validate_params(f"population {pop.name!r}", pop.model, {**pop.params, "V_th": float(v[i])})
            except ValueError as err:
                raise ValueError(f"{err} (V_th ~ {pop.v_th!r} drew {v[i]:.6g} mV for neuron {i} with seed "
                                 f"{plan.seed}; narrow the distribution or use a Uniform)") from None
