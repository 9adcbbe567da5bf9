"""Procedural connectivity: the NumPy specification of rows and per-row counts.

A row is the set of synapses of one presynaptic neuron onto one post chunk; it is a pure
function of (seed, projection id, pre index, chunk). Backends regenerate rows at each spike
(procedural) or expand them once into CSR (stored); both must match this module.
"""
from .reference import projection_counts, row, synapse_values, expand_projection

__all__ = ["projection_counts", "row", "synapse_values", "expand_projection"]
