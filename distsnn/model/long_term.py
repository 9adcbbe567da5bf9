"""Long-term plasticity of a projection: spike-timing-dependent plasticity (STDP), NEST's
stdp_synapse (STDP) and stdp_pl_synapse_hom (STDPPowerLaw).

Unlike short-term plasticity, the weight of each synapse changes on its own (it depends on
its target's spikes), so STDP needs the synapses stored: a rule projection with STDP runs
with connectivity 'stored', a synapse list (FromList, always stored) in either mode.
"""
from dataclasses import dataclass, replace

from ..numbers import is_real, shown

FIELDS = ("tau_plus", "tau_minus", "lambda_", "alpha", "mu_plus", "mu_minus", "Wmax")
# the engines' row of a rule (build.long_term's stdp_f): FIELDS, then its kind
KIND_GUETIG, KIND_POWER_LAW = 0, 1
# STDPPowerLaw's default Wmax: this many times the projection's mean weight (NEST's rule has no
# bound; the fixed-point input needs one, and one so far above the weights is never reached)
POWER_LAW_HEADROOM = 100.0


@dataclass(frozen=True)
class STDP:
    """NEST's stdp_synapse (Guetig et al. 2003; van Rossum et al. 2000), spike for spike.

    At each presynaptic spike (time t, the synapse's delay d, all of it dendritic as in NEST):
    first, for every postsynaptic spike t_post with t_last - d < t_post <= t - d (t_last: the
    previous presynaptic spike; 0 ms for the first), facilitation with K+ decayed to
    t_post + d,

        w <- Wmax min(1, w / Wmax + lambda (1 - w / Wmax)^mu_plus K+ e^((t_last - t_post - d) / tau_plus));

    then depression with the target's trace K- at t - d (the sum of e^(-(t - d - t_post) /
    tau_minus) over its spikes strictly before t - d),

        w <- Wmax max(0, w / Wmax - alpha lambda (w / Wmax)^mu_minus K-);

    the spike is sent with the new w, and K+ <- K+ e^((t_last - t) / tau_plus) + 1.

    tau_plus: time constant of the presynaptic trace (ms, > 0); tau_minus: of the
    postsynaptic one (ms, > 0; NEST's neuron parameter: all STDP projections onto one
    population must give the same); lambda_: step size (>= 0); alpha: asymmetry of
    depression to facilitation (>= 0); mu_plus, mu_minus: weight dependence exponents (>= 0;
    0 additive, 1 multiplicative); Wmax: the largest weight, in the weight's unit and of its
    sign (negative for inhibitory synapses). The initial weight is the projection's.
    """
    tau_plus: float = 20.0
    tau_minus: float = 20.0
    lambda_: float = 0.01
    alpha: float = 1.0
    mu_plus: float = 1.0
    mu_minus: float = 1.0
    Wmax: float = 100.0

    def validated(self, where):
        """A copy with floats; ValueError naming the field otherwise."""
        values = _checked(where, {name: getattr(self, name) for name in FIELDS}, ("lambda_", "alpha", "mu_plus",
                                                                                  "mu_minus"))
        if values["Wmax"] == 0.0:
            raise ValueError(f"{where}: STDP Wmax must be nonzero (of the weights' sign)")
        return STDP(**values)

    def row(self):
        """The parameters in FIELDS' order and the kind (the engines' table, build.long_term)."""
        return tuple(getattr(self, name) for name in FIELDS) + (float(KIND_GUETIG),)


def _checked(where, values, nonnegative=()):
    """values with floats; ValueError naming a field that is not a finite number, a time
    constant (tau_plus, tau_minus, where given) not > 0 ms, or one of `nonnegative` below 0."""
    out = {}
    for name, value in values.items():
        if not is_real(value):
            raise ValueError(f"{where}: STDP {name} must be a finite number, got {shown(value)}")
        out[name] = float(value)
    for name in ("tau_plus", "tau_minus"):
        if name in out and out[name] <= 0.0:
            raise ValueError(f"{where}: STDP {name} must be > 0 ms, got {out[name]}")
    for name in nonnegative:
        if out[name] < 0.0:
            raise ValueError(f"{where}: STDP {name} must be >= 0, got {out[name]}")
    return out


@dataclass(frozen=True)
class STDPPowerLaw:
    """NEST's stdp_pl_synapse_hom (Morrison et al. 2007), spike for spike: the power-law rule of
    NEST's HPC benchmark. At each presynaptic spike, as STDP does, facilitation by each target
    spike since the previous presynaptic one, with K+ decayed to it,

        w <- w + lambda w^mu K+ e^((t_last - t_post - d) / tau_plus),

    then depression by the target's trace K- at t - d,

        w <- max(0, w - lambda alpha w K-);

    the spike is sent with the new w, and K+ <- K+ e^((t_last - t) / tau_plus) + 1 (NEST
    multiplies by 1 / tau_plus here; STDP divides, as stdp_synapse).

    tau_plus, tau_minus (ms, > 0; tau_minus the target neurons', as for STDP); lambda_ (>= 0);
    alpha (>= 0); mu (>= 0). The weights must be positive (NEST's rule takes w^mu). NEST's rule
    has no upper bound, but the engines' fixed-point input needs one: Wmax (> 0), default
    POWER_LAW_HEADROOM times the projection's mean weight; facilitation stops at Wmax (the
    only departure from NEST, and only where a weight reaches it).
    """
    tau_plus: float = 20.0
    tau_minus: float = 20.0
    lambda_: float = 0.1
    alpha: float = 1.0
    mu: float = 0.4
    Wmax: float = None

    def validated(self, where, mean_weight=None):
        """A copy with floats and Wmax set (from mean_weight where None); ValueError naming the
        field otherwise, or where the weights are not positive."""
        names = ("tau_plus", "tau_minus", "lambda_", "alpha", "mu")
        values = _checked(where, {name: getattr(self, name) for name in names}, ("lambda_", "alpha", "mu"))
        if mean_weight is not None and mean_weight <= 0.0:
            raise ValueError(f"{where}: power-law STDP needs positive weights (NEST's stdp_pl_synapse_hom takes "
                             f"w**mu), got {mean_weight:g} on average")
        wmax = self.Wmax
        if wmax is None:
            if mean_weight is None:
                raise ValueError(f"{where}: STDPPowerLaw needs Wmax, or a projection's weights to set it from")
            wmax = POWER_LAW_HEADROOM * mean_weight
        wmax = _checked(where, {"Wmax": wmax})["Wmax"]
        if wmax <= 0.0:
            raise ValueError(f"{where}: STDP Wmax must be > 0 (a bound of the weights), got {wmax}")
        return STDPPowerLaw(**values, Wmax=wmax)

    def row(self):
        """The engines' row (STDP.row's layout: mu in both exponents' places)."""
        return (self.tau_plus, self.tau_minus, self.lambda_, self.alpha, self.mu, self.mu, self.Wmax,
                float(KIND_POWER_LAW))


def rule_of_row(row):
    """The STDP or STDPPowerLaw of an engines' row (row(); a row of FIELDS alone is an STDP's,
    as edge files written before the power law hold)."""
    values = [float(v) for v in row]
    if len(values) == len(FIELDS) or values[len(FIELDS)] == KIND_GUETIG:
        return STDP(*values[:len(FIELDS)])
    tau_plus, tau_minus, lambda_, alpha, mu, _, wmax = values[:len(FIELDS)]
    return STDPPowerLaw(tau_plus, tau_minus, lambda_, alpha, mu, wmax)


def checked_stdp(where, stdp, stp=None, mean_weight=None):
    """None, or a validated STDP; anything else, STDP together with short-term plasticity, or
    a mean weight of the other sign than Wmax is a ValueError."""
    if stdp is None:
        return None
    if isinstance(stdp, STDPPowerLaw):
        stdp = stdp.validated(where, mean_weight)
    elif isinstance(stdp, STDP):
        stdp = stdp.validated(where)
    else:
        raise ValueError(f"{where}: stdp must be an STDP(...), an STDPPowerLaw(...) or None, got {shown(stdp)}")
    if stp is not None:
        raise ValueError(f"{where}: a projection has either short-term plasticity (stp) or STDP (stdp), not both")
    if mean_weight is not None and mean_weight != 0.0 and (mean_weight > 0.0) != (stdp.Wmax > 0.0):
        raise ValueError(f"{where}: STDP Wmax ({stdp.Wmax:g}) and the weights ({mean_weight:g} on average) "
                         "must have the same sign, as in NEST")
    return stdp


def mean_of(weight):
    """The mean of a weight as connect() holds it (a number or a distribution)."""
    return float(weight.mean if hasattr(weight, "mean") else weight)


def signed_stdp(where, stdp, stp, given, weight):
    """checked_stdp against the weight as given to connect(), with Wmax negated where
    connect() negated the weight (a negative conductance onto a conductance-based neuron is
    an inhibitory one of its magnitude: model.projection_checks.receptor_and_weight)."""
    stdp = checked_stdp(where, stdp, stp, mean_of(given))
    if stdp is not None and mean_of(given) != mean_of(weight):
        stdp = replace(stdp, Wmax=-stdp.Wmax)
    return stdp
