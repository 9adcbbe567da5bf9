"""The model library: name -> function returning a Network."""
from . import microcircuit

MODELS = {"microcircuit": microcircuit.build}

__all__ = ["MODELS", "microcircuit"]
