"""The checks of one projection's arguments, before the network keeps it: its weight and
delay (distributions or one value per listed synapse), its receptor, and the counts its
rule may draw. Each raises a ValueError that names the projection (`where`)."""
from .connectors import FixedIndegree, FixedTotalNumber, FromList, list_values
from .distributions import Constant, Exponential, LogNormal, Normal, Uniform, Values, as_distribution
from .neurons import CONDUCTANCE_MODELS

RECEPTORS = ("excitatory", "inhibitory")


def weight_and_delay(where, rule, weight, delay, dt):
    """(weight, delay) as the build reads them: distributions (Constant, Normal, Uniform,
    Exponential, and for a weight LogNormal), or with FromList also one value per synapse. The
    delay's mean must be >= dt (ms), a redrawn Normal's bound lie in [dt / 2, mean], a Uniform
    or Exponential delay's low be >= dt (NEST refuses a delay below its resolution), and a
    Uniform weight keep one sign (a projection has one receptor; a Normal's draws are clipped
    to its mean's sign instead): checked here, before any build."""
    if isinstance(rule, FromList):
        weight, delay = list_values(where, rule.n, weight, delay, dt)
    else:
        weight = as_distribution(weight, f"{where}: weight", DRAWN_WEIGHTS)
        delay = as_distribution(delay, f"{where}: delay", DRAWN_DELAYS, redraw=True)
    check_uniforms(where, weight, delay, dt)
    if delay.mean < dt:
        raise ValueError(f"{where}: delay mean {delay.mean} ms is below dt = {dt} ms")
    if isinstance(delay, Normal):
        delay.redraw_bound(f"{where}: delay", dt)
    return weight, delay


# the distributions a projection's weight or delay may be drawn from (synapse_variates)
DRAWN_DELAYS = (Constant, Normal, Uniform, Exponential)
DRAWN_WEIGHTS = DRAWN_DELAYS + (LogNormal,)


def check_uniforms(where, weight, delay, dt):
    """A Uniform weight must not change sign within (low, high]; a Uniform or Exponential
    delay's low must be >= dt (ms)."""
    if isinstance(weight, Uniform) and weight.low < 0.0 < weight.high:
        raise ValueError(f"{where}: weight {weight!r} spans both signs; a projection has one receptor: connect "
                         "the negative and the positive part as two projections, or use a Normal (its draws are "
                         "clipped to the sign of its mean)")
    if isinstance(delay, Uniform) and delay.low < dt:
        raise ValueError(f"{where}: delay {delay!r} reaches below dt = {dt} ms: its low must be >= dt")
    if isinstance(delay, Exponential) and delay.sign < 0:
        raise ValueError(f"{where}: delay {delay!r} is negative")
    if isinstance(delay, Exponential) and delay.low < dt:
        raise ValueError(f"{where}: delay {delay!r} reaches below dt = {dt} ms: its low must be >= dt, e.g. "
                         f"Exponential({delay.beta}, low={dt})")


def receptor_and_weight(where, post, weight, receptor):
    """(receptor, weight): the receptor by the sign of the mean weight unless given. Onto a
    conductance-based neuron a weight is a conductance (nS), and, as in NEST, a negative one
    is an inhibitory conductance of its magnitude: the weight is negated (a Normal keeps its
    sd), so the kernels only ever add conductances >= 0."""
    mean = weight.mean if hasattr(weight, "mean") else weight
    if receptor is None:
        receptor = "excitatory" if mean >= 0 else "inhibitory"
    if receptor not in RECEPTORS:
        raise ValueError(f"{where}: receptor must be one of {RECEPTORS}, got {receptor!r}")
    if post.model in CONDUCTANCE_MODELS and mean < 0:
        if receptor == "excitatory":
            raise ValueError(f"{where}: weight {mean} nS onto {post.model} with receptor 'excitatory': a "
                             "conductance must be >= 0 (a negative weight is an inhibitory conductance)")
        if isinstance(weight, Normal):
            weight = Normal(-weight.mean, weight.sd)
        elif isinstance(weight, Uniform):
            weight = Uniform(-weight.high, -weight.low)
        elif isinstance(weight, (LogNormal, Exponential)):
            weight = -weight
        elif isinstance(weight, Constant):
            weight = Constant(-weight.value)
        elif isinstance(weight, Values):
            weight = Values(-weight.values)
        else:
            weight = -weight
    return receptor, weight


def check_rule_size(where, rule, post, chunk_size):
    """Counts the streams cannot address: a total past 2**63 draws, or more than 2**32 - 1
    input slots (in-degree x chunk length) in one chunk of a fixed_indegree projection."""
    if isinstance(rule, FixedTotalNumber) and rule.n >= 2 ** 63:
        raise ValueError(f"{where}: n={rule.n} too large")
    if isinstance(rule, FixedIndegree) and rule.n * min(chunk_size, post.size) >= 2 ** 32:
        raise ValueError(f"{where}: in-degree n={rule.n} times the chunk length {min(chunk_size, post.size)} "
                         f"exceeds the 2**32 - 1 input slots of a chunk; use a smaller chunk_size")
