"""Rows of the population float table (pop_f): a population's constants from its parameters,
and, for a population whose membrane or synaptic parameters differ between neurons
(add_population's params, e.g. tau_m=Normal(10.0, 1.0)), a row per neuron computed the same
way from that neuron's numbers. Both engines take the rows from here for any subset of
neurons (a rank's), so the values never depend on the backend or the partition."""
import numpy as np

from ..model.neurons import (AEIF_MODELS, aeif_step_constants, iaf_cond_alpha_propagators,
                             iaf_cond_exp_propagators, iaf_psc_alpha_propagators, iaf_psc_delta_propagators,
                             iaf_psc_exp_propagators)
from ..model.per_neuron import row_params
from .neuron_values import param_values

_CURRENT_PROPAGATORS = {"iaf_psc_exp": iaf_psc_exp_propagators, "iaf_psc_alpha": iaf_psc_alpha_propagators,
                        "iaf_psc_delta": iaf_psc_delta_propagators}
_CONDUCTANCE_PROPAGATORS = {"iaf_cond_exp": iaf_cond_exp_propagators, "iaf_cond_alpha": iaf_cond_alpha_propagators}


def _common_columns(model, prm):
    """pop_f's columns PF_VTH .. PF_EL of a population with parameters prm: V_th and V_reset
    relative to E_L, I_e (pA), the fixed-point reciprocals (apply_scales), E_L; izhikevich
    holds V absolute (E_L 0) and resets to c."""
    if model == "izhikevich":
        return [prm["V_th"], prm["c"], prm["I_e"], 0.0, 0.0, 0.0]
    return [prm["V_th"] - prm["E_L"], prm["V_reset"] - prm["E_L"], prm["I_e"], 0.0, 0.0, prm["E_L"]]


def population_row(model, prm, dt):
    """pop_f's columns [0, N_PF_BEFORE_VTH) and the refractory steps of `model` with parameters
    prm at step dt (ms). With numbers, one row (shape (27,)) and an int; with arrays (one value
    per neuron for some parameters), a row per neuron (shape (n, 27)) and an int64 array: the
    same operations element by element, so a neuron's row has the bits of a population of one
    with its numbers."""
    common = _common_columns(model, prm)
    if model == "izhikevich":   # no propagators: its constants in the conductance columns
        ref = 0
        cols = [0.0] * 6 + common + [prm["a"], prm["b"], prm["d"], prm["V_min"],
                                     0.0 if prm["consistent_integration"] else 1.0, 0.0, dt]
    elif model in AEIF_MODELS:    # no propagators: the solver's constants (E_ex, E_in: cond only)
        ref = aeif_step_constants(prm, dt)["ref_steps"]
        cols = [0.0] * 6 + common + [
            prm["g_L"], prm["C_m"], prm.get("E_ex", prm["E_L"]) - prm["E_L"], prm.get("E_in", prm["E_L"]) - prm["E_L"],
            0.0, 0.0, dt, prm["a"], prm["b"], prm["Delta_T"], prm["tau_w"], prm["V_peak"] - prm["E_L"],
            # aeif_psc_delta has no synaptic currents: 1 ms keeps the solver's (zero) currents at 0
            prm.get("tau_syn_ex", 1.0), prm.get("tau_syn_in", 1.0), prm["gsl_error_tol"]]
    elif model in _CONDUCTANCE_PROPAGATORS:   # iaf_cond_exp's row has 0 where alpha's constants go
        prop = _CONDUCTANCE_PROPAGATORS[model](prm, dt)
        ref = prop["ref_steps"]
        cols = [prop.get(c, 0.0) for c in ("J0ex", "P11ex", "P11in", "A21ex", "A21in", "J0in")] + common + [
            prm["g_L"], prm["C_m"], prm["E_ex"] - prm["E_L"], prm["E_in"] - prm["E_L"], prop["PHex"], prop["PHin"], dt]
    else:   # the current-based models: 0 where a model lacks the term (delta: no currents);
        # spike sources keep iaf_psc_exp's row of their (unused) default parameters
        prop = _CURRENT_PROPAGATORS.get(model, iaf_psc_exp_propagators)(prm, dt)
        ref = prop["ref_steps"]
        cols = [prop.get(c, 0.0) for c in ("P22", "P11ex", "P11in", "P21ex", "P21in", "P20")] + common \
            + [prop.get(c, 0.0) for c in ("P31ex", "P31in", "P21aex", "P21ain", "J0ex", "J0in")] + [0.0]
    if model not in AEIF_MODELS:
        cols += [0.0] * 8   # the AdEx columns
    return np.stack(np.broadcast_arrays(*[np.asarray(c, dtype=np.float64) for c in cols]), axis=-1), ref


def neuron_parameters(plan, k, gids):
    """Population k's parameters for its neurons `gids`: its numbers, and for each parameter
    it gives per neuron as rows (Population.per_neuron, row_params) the neurons' values, drawn
    from their INIT streams (streams.INIT_VAR_PARAM) or given."""
    pop = plan.network.populations[plan.pop_names[k]]
    prm = dict(pop.params)
    prm.update({name: param_values(plan, k, name, gids) for name in row_params(pop.model)
                if name in (pop.per_neuron or {})})
    return prm


def neuron_rows(plan, gids):
    """The rows of the neurons `gids` of populations with parameters per neuron (pop_i's
    PI_ROWS): (row index per gid, -1 for the others; the rows, shape (m, N_PF)); two empty
    arrays when no population has rows (nothing is read then). Rows are numbered in the order
    of `gids`, so that neurons consecutive there (a CPU unit's) have consecutive rows. A row is the
    population's with the columns the neuron's parameters make (population_row) and its
    refractory steps in PF_REF; I_e and the fixed-point reciprocals stay the population's."""
    from . import plan as bp
    gids = np.asarray(gids, dtype=np.int64)
    if not plan.pop_i[:, bp.PI_ROWS].any():
        return np.zeros(0, dtype=np.int64), np.zeros((0, bp.N_PF))
    index = np.full(gids.size, -1, dtype=np.int64)
    rows = [np.zeros((0, bp.N_PF))]
    pop_of = plan.pop_of[gids]
    m = 0
    for k, pop in enumerate(plan.network.populations.values()):
        sel = np.nonzero(pop_of == k)[0]
        if plan.pop_i[k, bp.PI_ROWS] == 0 or sel.size == 0:
            continue
        cols, ref = population_row(pop.model, neuron_parameters(plan, k, gids[sel]), plan.dt)
        r = np.repeat(plan.pop_f[k:k + 1], sel.size, axis=0)
        keep = [bp.PF_IE, bp.PF_INVSC_EX, bp.PF_INVSC_IN]
        r[:, :bp.N_PF_BEFORE_VTH] = cols
        r[:, keep] = plan.pop_f[k, keep]
        r[:, bp.PF_REF] = ref
        index[sel] = np.arange(m, m + sel.size)
        m += sel.size
        rows.append(r)
    return index, np.concatenate(rows)
