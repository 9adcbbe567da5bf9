"""Short-term plasticity of a projection: Tsodyks and Markram's depression and facilitation.

The efficacy of a spike depends only on its source neuron's spike train and on the
plasticity's parameters, not on the target: every synapse of a source neuron in one
projection scales its weight by the same factor. So the state lives per source neuron (u, x
and the last spike's time), not per synapse, and procedural connectivity keeps it: the
engines compute a factor per spike and scale each regenerated (or stored) weight by it.
"""
from dataclasses import dataclass

from ..numbers import is_real, shown


@dataclass(frozen=True)
class TsodyksMarkram:
    """NEST's tsodyks2_synapse, spike for spike: weight x u w for a spike, with

        x <- 1 + (x - x u - 1) exp(-h / tau_rec),    u <- U + u (1 - U) exp(-h / tau_fac)

    applied at every spike but a neuron's first, h (ms) the interval since its previous spike
    (no facilitation term where tau_fac is 0: u <- U). The first spike uses the initial x and
    u, as NEST 3.10 does.

    U: increment of the release probability (0..1); tau_rec: recovery time constant (ms, > 0);
    tau_fac: facilitation time constant (ms, >= 0; 0: none); u: initial release probability
    (0..1, default U); x: initial fraction of resources (0..1, default 1). u and x at most 1
    keep every weight within its static bound, so the fixed-point input bound still holds.
    """
    U: float = 0.5
    tau_rec: float = 800.0
    tau_fac: float = 0.0
    u: float = None
    x: float = 1.0

    def validated(self, where):
        """A copy with u filled in; ValueError naming the field otherwise."""
        values = {}
        for name in ("U", "tau_rec", "tau_fac", "u", "x"):
            value = getattr(self, name)
            if name == "u" and value is None:
                value = self.U
            if not is_real(value):
                raise ValueError(f"{where}: short-term plasticity {name} must be a finite number, got {shown(value)}")
            values[name] = float(value)
        for name in ("U", "u", "x"):
            if not 0.0 <= values[name] <= 1.0:
                raise ValueError(f"{where}: short-term plasticity {name} must be in [0, 1], got {values[name]}")
        if values["tau_rec"] <= 0.0:
            raise ValueError(f"{where}: short-term plasticity tau_rec must be > 0 ms, got {values['tau_rec']}")
        if values["tau_fac"] < 0.0:
            raise ValueError(f"{where}: short-term plasticity tau_fac must be >= 0 ms, got {values['tau_fac']}")
        return TsodyksMarkram(**values)

    def row(self):
        """The parameters as the engines' table holds them: U, tau_rec, tau_fac, u, x."""
        return (self.U, self.tau_rec, self.tau_fac, self.u, self.x)


def checked_stp(where, stp):
    """None, or a validated TsodyksMarkram; anything else is a ValueError."""
    if stp is None:
        return None
    if not isinstance(stp, TsodyksMarkram):
        raise ValueError(f"{where}: stp must be a TsodyksMarkram(...) or None, got {shown(stp)}")
    return stp.validated(where)
