"""The model library: name -> function returning a Network (keyword arguments scale, record_voltage)."""
from . import balanced, microcircuit

MODELS = {"microcircuit": microcircuit.build, "coba": balanced.coba, "cuba": balanced.cuba}

__all__ = ["MODELS", "balanced", "microcircuit"]
