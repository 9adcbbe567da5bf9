"""Per-neuron values, drawn from the INIT streams (streams.DOM_INIT) or given by the model
(Values): the initial V, the threshold, izhikevich's initial u and its a, b, c, d. Both engines
take them from here for any subset of neurons (a rank's), so the values never depend on the
backend or the partition."""
import numpy as np

from ..model.distributions import Constant, Normal, Uniform, Values
from ..model.neurons import check_values
from ..model.per_neuron import row_params
from ..rng import streams
from ..rng.philox import philox4x32, uniform_open0_closed1
from ..rng.portable_math import box_muller


def _start(plan, k):
    """The first gid of population k."""
    return plan.pop_slice(plan.pop_names[k]).start


def _gids(plan, gids):
    """`gids` as an int64 array; None: every neuron of the plan."""
    return np.arange(plan.n_neurons, dtype=np.int64) if gids is None else np.asarray(gids, dtype=np.int64)


def drawn(dist, variable, gids, start, key0, key1):
    """Values of `dist` (Constant, Uniform, Normal, Values) for the neurons `gids` of a
    population whose first gid is `start`: drawn from their INIT streams of `variable`
    (streams.INIT_VAR_*), or given."""
    if isinstance(dist, Constant):
        return np.full(gids.size, dist.value)
    if isinstance(dist, Values):
        return dist.values[gids - start]
    w = philox4x32(variable, 0, gids, streams.tag(streams.DOM_INIT, 0), key0, key1)
    if isinstance(dist, Uniform):
        return dist.low + (dist.high - dist.low) * uniform_open0_closed1(w[0])
    z0, _ = box_muller(uniform_open0_closed1(w[0]), uniform_open0_closed1(w[1]))
    return dist.mean + dist.sd * z0


def param_values(plan, k, name, gids, default=None):
    """Parameter `name` of population k for its neurons `gids`: the values drawn from their
    INIT streams (streams.INIT_VAR_PARAM) or given, where the population has them per neuron
    (Population.per_neuron), else its number (`default` where the model has no such
    parameter)."""
    pop = plan.network.populations[plan.pop_names[k]]
    dist = (pop.per_neuron or {}).get(name)
    if dist is None:
        return pop.params.get(name, default)
    return drawn(dist, streams.INIT_VAR_PARAM[name], gids, _start(plan, k), plan.key0, plan.key1)


def resting_potentials(plan, gids=None):
    """E_L (mV) of the neurons `gids` (default all), the potential the engines hold V relative
    to: the population's, or where E_L is given per neuron (build.param_rows) the neuron's
    own; 0 for izhikevich (absolute V)."""
    gids = _gids(plan, gids)
    out = np.empty(gids.size)
    pop_of = plan.pop_of[gids]
    for k in range(len(plan.pop_names)):
        sel = pop_of == k
        out[sel] = param_values(plan, k, "E_L", gids[sel], 0.0)   # izhikevich has no E_L (absolute V)
    return out


def initial_state(plan, gids=None):
    """Initial V (mV relative to E_L) of the neurons `gids` (default all), from the INIT
    streams; 0 for populations that start at each neuron's own E_L (v_init None)."""
    gids = _gids(plan, gids)
    v = np.zeros(gids.size)
    rest = resting_potentials(plan, gids)
    pop_of = plan.pop_of[gids]
    for k, pop in enumerate(plan.network.populations.values()):
        sel = pop_of == k
        if sel.any() and pop.v_init is not None:
            v[sel] = drawn(pop.v_init, streams.INIT_VAR_V_M, gids[sel], _start(plan, k), plan.key0,
                           plan.key1) - rest[sel]
    return v


def initial_currents(plan, gids=None):
    """Initial i_ex of the neurons `gids` (default all): 0, but izhikevich's initial u
    (parameter U_m, mV; drawn or given per neuron where the model has it so), which it keeps
    there."""
    gids = _gids(plan, gids)
    out = np.zeros(gids.size)
    pop_of = plan.pop_of[gids]
    for k, pop in enumerate(plan.network.populations.values()):
        sel = pop_of == k
        if pop.model == "izhikevich" and sel.any():
            out[sel] = param_values(plan, k, "U_m", gids[sel])
    return out


def thresholds(plan, gids=None):
    """V_th (mV relative to E_L) of the neurons `gids` (default all): the population's (the
    plan's PF_VTH column holds the same number), or where it is drawn per neuron
    (Population.v_th) the draw from the neuron's INIT stream (streams.INIT_VAR_V_TH) or the given
    value. Both
    engines hold these numbers, so they agree."""
    gids = _gids(plan, gids)
    pop_of = plan.pop_of[gids]
    out = np.empty(gids.size)
    rest = resting_potentials(plan, gids)
    for k, pop in enumerate(plan.network.populations.values()):
        sel = pop_of == k
        if pop.v_th is None:
            out[sel] = pop.params["V_th"] - rest[sel]
        elif sel.any():
            out[sel] = drawn(pop.v_th, streams.INIT_VAR_V_TH, gids[sel], _start(plan, k), plan.key0,
                             plan.key1) - rest[sel]
    return out


def check_per_neuron(plan):
    """The model's checks (neurons.check_values: V_reset < V_th, tau_m > 0, for the AdEx models
    V_th <= V_peak and the exponential's bound, ...) on every neuron of every population with
    a threshold or parameters per neuron, with the values drawn for it; a ValueError names the
    first neuron that fails and, where values were drawn, the distributions and the seed."""
    from .param_rows import neuron_parameters
    for k, pop in enumerate(plan.network.populations.values()):
        varying = {name: dist for name, dist in (pop.per_neuron or {}).items() if name in row_params(pop.model)}
        if pop.v_th is not None:
            varying["V_th"] = pop.v_th
        if not varying or pop.size == 0:
            continue
        sl = plan.pop_slice(pop.name)
        gids = np.arange(sl.start, sl.stop, dtype=np.int64)
        p = neuron_parameters(plan, k, gids)
        if pop.v_th is not None:
            p["V_th"] = drawn(pop.v_th, streams.INIT_VAR_V_TH, gids, sl.start, plan.key0, plan.key1)
        try:
            check_values(f"population {pop.name!r}", pop.model, p)
        except ValueError as err:
            drawn_ones = [f"{name} ~ {dist!r}" for name, dist in varying.items() if isinstance(dist, (Normal, Uniform))]
            if not drawn_ones:
                raise
            raise ValueError(f"{err}; drawn with seed {plan.seed} from {', '.join(drawn_ones)}: narrow the "
                             "distribution") from None


def izhikevich_parameters(plan, gids=None):
    """a, b, c (mV), d (mV) of the neurons `gids` (default all), one row each: the population's
    numbers, or where the model gives them per neuron (Population.per_neuron) the draws from
    the INIT streams (streams.INIT_VAR_PARAM, variables 2-5) or the given values; rows of other models'
    neurons are 0. Shape (0, 4) when no population is izhikevich: the engines pass it along."""
    gids = _gids(plan, gids)
    pops = list(plan.network.populations.values())
    if not any(pop.model == "izhikevich" for pop in pops):
        return np.zeros((0, 4))
    pop_of = plan.pop_of[gids]
    out = np.zeros((gids.size, 4))
    for k, pop in enumerate(pops):
        sel = pop_of == k
        if pop.model != "izhikevich" or not sel.any():
            continue
        for col, name in enumerate(("a", "b", "c", "d")):
            out[sel, col] = param_values(plan, k, name, gids[sel])
    return out


def given_currents(plan, gids=None):
    """The I_e given per neuron (pA; NoiseInput kind 'given') of the neurons `gids` (default
    all), 0 for neurons without: a population has one frozen current at most (make_plan)."""
    gids = _gids(plan, gids)
    out = np.zeros(gids.size)
    for z in plan.network.noise_inputs:
        if z.kind == "given":
            start = plan.pop_slice(z.target).start
            sel = plan.pop_of[gids] == plan.pop_names.index(z.target)
            out[sel] = z.values[gids[sel] - start]
    return out


def per_neuron_description(network):
    """Bytes describing every value given or drawn per neuron that the plan's tables do not
    hold (given thresholds and I_e, izhikevich's a, b, c, d), for the checkpoint fingerprint;
    empty when there is none."""
    parts = [f"{z.target}\x1fI_e\x1f{Values(z.values).digest()}" for z in network.noise_inputs if z.kind == "given"]
    for pop in network.populations.values():
        items = dict(pop.per_neuron or {})
        if isinstance(pop.v_th, Values):
            items["V_th"] = pop.v_th
        for name, dist in sorted(items.items()):
            text = dist.digest() if isinstance(dist, Values) else repr(dist)
            parts.append(f"{pop.name}\x1f{name}\x1f{text}")
    return "\x1e".join(parts).encode()
