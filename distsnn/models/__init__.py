"""The model library: name -> function returning a Network (keyword arguments scale,
record_voltage, and model-specific ones such as multi_area's state, areas and data)."""
from . import balanced, microcircuit, multi_area

MODELS = {"microcircuit": microcircuit.build, "multi_area": multi_area.build, "coba": balanced.coba,
          "cuba": balanced.cuba}

__all__ = ["MODELS", "balanced", "microcircuit", "multi_area"]
