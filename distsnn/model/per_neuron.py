"""Parameters that differ between the neurons of a population (Network.add_population's
params): which may, and how each is split off the population's scalar parameters."""
from .distributions import Constant, Exponential, LogNormal, Normal, Uniform, Values, given_values
from .neurons import BOOL_PARAMS, NEURON_MODELS, check_values, validate_params

# I_e and V_th drawn (a Normal or Uniform) or given (Values) per neuron; izhikevich's a, b, c,
# d too; and the parameters of each model that enter its constants (row_params)
DISTRIBUTED_PARAMS = ("I_e", "V_th")
IZHIKEVICH_PER_NEURON = ("a", "b", "c", "d")
# izhikevich's initial u (mV) per neuron: an initial value, as v_init (e.g. u = b v of the paper)
IZHIKEVICH_INITIAL = ("U_m",)
# parameters that are never given per neuron as rows: I_e and V_th (their own per-neuron
# paths: a frozen current, the thresholds), the solver's tolerance, izhikevich's initial u and
# its a, b, c, d (a table of their own, build.neuron_values.izhikevich_parameters)
_NOT_ROWS = ("I_e", "V_th", "gsl_error_tol", "U_m")


def row_params(model):
    """The parameters of `model` that may differ between neurons through rows of their own
    (build.param_rows): those that enter its propagators and constants (tau_m, C_m, t_ref,
    V_reset, E_L, ...)."""
    own = IZHIKEVICH_PER_NEURON if model == "izhikevich" else ()
    return tuple(name for name in NEURON_MODELS.get(model, {}) if name not in _NOT_ROWS + BOOL_PARAMS + own)


def per_neuron_params(model):
    """The parameters of `model` that may be given per neuron."""
    own = IZHIKEVICH_PER_NEURON + IZHIKEVICH_INITIAL if model == "izhikevich" else ()
    return DISTRIBUTED_PARAMS + own + row_params(model)


def split_params(where, model, size, params):
    """Split add_population's `params` for `size` neurons of `model` into (the scalar
    parameters, with each varying one's mean in its place and I_e 0 where it varies; I_e's
    Normal, Uniform or Values or None; V_th's Normal, Uniform or Values or None; {name: Normal |
    Uniform | Values} of the others that vary, izhikevich's a, b, c, d and the rows' parameters).
    Raises a ValueError naming the parameter, and for a bad given value the neuron. Given
    values are checked here with the model's checks, a Uniform's bounds too (each with the
    other parameters at their means); every draw, of all varying parameters together, when the
    plan is made (neuron_values.check_per_neuron)."""
    params = {key: given_values(value) for key, value in (params or {}).items()}
    varying = per_neuron_params(model)
    for key, value in params.items():
        if isinstance(value, (Exponential, LogNormal)):
            raise ValueError(f"{where}: parameter {key}: {type(value).__name__} draws synaptic weights (and an "
                             "Exponential delays) only; a parameter that differs between neurons is a Normal or "
                             f"Uniform, or one value per neuron, got {value!r}")
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
    full = validate_params(where, model, params)
    # the checks are monotone in each parameter: a Uniform's bounds stand for its draws
    given = {key: dist.values for key, dist in per_neuron.items() if isinstance(dist, Values)}
    if given:
        check_values(where, model, dict(full, **given))
    for key, dist in per_neuron.items():
        if isinstance(dist, Uniform):
            for bound in (dist.low, dist.high):
                check_values(where, model, dict(full, **{key: bound}))
    v_th = per_neuron.pop("V_th", None)
    return params, i_e, v_th, per_neuron or None
