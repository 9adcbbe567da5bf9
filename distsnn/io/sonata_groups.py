"""What SONATA node and edge files share: their populations under /nodes or /edges, their
members in groups (node_group_id / edge_group_id, with an index into the group's columns),
names that may be bytes, and NEST models named 'nest:<model>'."""
import h5py
import numpy as np

from ..model.neurons import NEURON_MODELS

TEMPLATE_PREFIX = "nest:"


def populations(path, kind):
    """(name, HDF5 group, where) of each node or edge population (kind 'nodes' or 'edges')
    of a SONATA file, the file open meanwhile."""
    with h5py.File(path, "r") as f:
        if kind not in f:
            raise ValueError(f"{path}: not a SONATA {kind[:-1]} file (no /{kind} group)")
        for name, g in f[kind].items():
            yield name, g, f"{path}: {kind[:-1]} population {name!r}"


def nest_model(template, where):
    """The distsnn model a model_template 'nest:<model>' names, or a ValueError naming the
    models distsnn has."""
    template = text(template)
    model = template[len(TEMPLATE_PREFIX):] if template.startswith(TEMPLATE_PREFIX) else None
    if model not in NEURON_MODELS:
        raise ValueError(f"{where}: model_template {template!r} is not 'nest:<model>' with a model distsnn "
                         f"has ({', '.join(sorted(NEURON_MODELS))})")
    return model


def group_zero_order(g, kind, where):
    """The order of the `kind` ('node' or 'edge') population g's members in its group 0's
    columns (its {kind}_group_index; all in order without one). Members in other groups are
    a ValueError: only group 0 is read."""
    groups = np.unique(g[f"{kind}_group_id"][()]) if f"{kind}_group_id" in g else np.zeros(1)
    if groups.size > 1 or (groups.size and groups[0] != 0):
        raise ValueError(f"{where}: {kind}s in groups {groups.tolist()}; only group 0 is read")
    return g[f"{kind}_group_index"][()] if f"{kind}_group_index" in g else slice(None)


def text(value):
    """An HDF5 name or string attribute as str."""
    return value.decode() if isinstance(value, bytes) else str(value)
