"""The model library: name -> function returning a Network (keyword arguments scale,
record_voltage, and model-specific ones such as multi_area's state, areas and data)."""
from . import adex, balanced, brunel, hpc_benchmark, izhikevich, microcircuit, multi_area

MODELS = {"microcircuit": microcircuit.build, "multi_area": multi_area.build, "coba": balanced.coba,
          "cuba": balanced.cuba, "brunel": brunel.build, "adex": adex.build, "izhikevich": izhikevich.build,
          "hpc_benchmark": hpc_benchmark.build}

__all__ = ["MODELS", "adex", "balanced", "brunel", "hpc_benchmark", "izhikevich", "microcircuit", "multi_area"]
