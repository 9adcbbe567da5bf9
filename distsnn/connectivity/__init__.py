"""Procedural connectivity: the NumPy specification of rows and per-row counts.

A row is the set of synapses of one presynaptic neuron onto one post chunk; it is a pure
function of (seed, projection id, pre index, chunk). Backends regenerate rows at each spike
(procedural) or expand them once into CSR (stored); both must match this module.
`synapses` gives a network's synapses as the simulator uses them (NEST's GetConnections).
"""
from .reference import projection_counts, row, synapse_values, expand_projection
from .synapses import Synapses, synapses

__all__ = ["projection_counts", "row", "synapse_values", "expand_projection", "Synapses", "synapses"]
