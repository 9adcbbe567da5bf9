"""Parameters that differ between the neurons of a population (Network.add_population's
params): which may, and how each is split off the population's scalar parameters."""
import numpy as np

from .distributions import Constant, Normal, Uniform, Values, given_values
from .neurons import validate_params

# I_e and V_th drawn (a Normal or Uniform) or given (Values) per neuron; izhikevich's a, b, c, d too
DISTRIBUTED_PARAMS = ("I_e", "V_th")
IZHIKEVICH_PER_NEURON = ("a", "b", "c", "d")


def per_neuron_params(model):
    """The parameters of `model` that may be given per neuron."""
    return DISTRIBUTED_PARAMS + (IZHIKEVICH_PER_NEURON if model == "izhikevich" else ())


def split_params(where, model, size, params):
    """Split add_population's `params` for `size` neurons of `model` into (the scalar
    parameters, with each varying one's mean in its place and I_e 0 where it varies; I_e's
    Normal, Uniform or Values or None; V_th's Normal, Uniform or Values or None; {name: Normal |
    Uniform | Values} of izhikevich's a, b, c, d). Raises a ValueError naming the parameter,
    and for a bad given threshold the neuron."""
    params = {key: given_values(value) for key, value in (params or {}).items()}
    varying = per_neuron_params(model)
    for key, value in params.items():
        if isinstance(value, (Constant, Normal, Uniform, Values)) and key not in varying:
            raise ValueError(f"{where}: parameter {key} must be a number; only {', '.join(varying)} may differ "
                             f"between neurons (a Normal or Uniform, or one value per neuron), "
                             f"got {value!r}")
    i_e = params.get("I_e")
    if isinstance(i_e, Constant):
        params["I_e"] = i_e.validated(f"{where}: I_e").value
    elif isinstance(i_e, (Normal, Uniform, Values)):
        i_e = i_e.validated(f"{where}: I_e", size) if isinstance(i_e, Values) else i_e.validated(f"{where}: I_e")
        params["I_e"] = 0.0   # the scalar table's I_e; the distribution or the values are the frozen current
    per_neuron = {}
    for key in varying:
        if key == "I_e":   # above: a frozen current, not a column of per-neuron parameters
            continue
        value = params.get(key)
        if isinstance(value, Constant):
            params[key] = value.validated(f"{where}: {key}").value
        elif isinstance(value, Values):
            per_neuron[key] = value.validated(f"{where}: {key}", size)
        elif isinstance(value, (Normal, Uniform)):
            per_neuron[key] = value.validated(f"{where}: {key}")
        if key in per_neuron:
            params[key] = per_neuron[key].mean   # the scalar the checks and tables see
    v_th = per_neuron.pop("V_th", None)
    # V_th's checks are monotone in V_th, so a Uniform's bounds and the given values'
    # extremes stand for all; a Normal's draws are checked at the build
    # (neuron_values.check_thresholds)
    for bound in (() if v_th is None else (v_th.mean,) if isinstance(v_th, Normal) else (v_th.low, v_th.high)):
        try:
            validate_params(where, model, dict(params, V_th=bound))
        except ValueError as err:
            if isinstance(v_th, Values):
                i = int(np.argmax(v_th.values == bound))
                raise ValueError(f"{err} (the V_th given for neuron {i})") from None
            raise
    return params, i_e, v_th, per_neuron or None
