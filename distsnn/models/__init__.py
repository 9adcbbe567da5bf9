"""The model library: name -> function returning a Network (keyword arguments scale,
record_voltage, and model-specific ones such as multi_area's state, areas and data)."""
from . import balanced, brunel, microcircuit, multi_area

MODELS = {"microcircuit": microcircuit.build, "multi_area": multi_area.build, "coba": balanced.coba,
          "cuba": balanced.cuba, "brunel": brunel.build}

__all__ = ["MODELS", "balanced", "brunel", "microcircuit", "multi_area"]
