"""Model description: no backend, no MPI, no GPU imports."""
from .connectors import (AllToAll, FixedIndegree, FixedOutdegree, FixedProbability, FixedTotalNumber, FromList,
                         OneToOne)
from .distributions import Constant, Exponential, LogNormal, Normal, Uniform, Values
from .inputs import DCInput, NoiseInput, PoissonInput
from .long_term import STDP, STDPPowerLaw
from .network import Network, Population, Projection
from .short_term import TsodyksMarkram

__all__ = ["AllToAll", "FixedIndegree", "FixedOutdegree", "FixedProbability", "FixedTotalNumber", "FromList",
           "OneToOne", "Constant", "Exponential", "LogNormal", "Normal", "Uniform", "Values", "Network", "Population",
           "Projection", "PoissonInput", "DCInput", "NoiseInput", "TsodyksMarkram", "STDP",
           "STDPPowerLaw"]
