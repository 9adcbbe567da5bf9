"""Backends: each runs a BuildPlan. `cpu` (numba) is always available."""
