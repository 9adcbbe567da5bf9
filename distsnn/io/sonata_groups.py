"""What SONATA node and edge files share: their members sit in groups (node_group_id /
edge_group_id, with an index into the group's columns), and their names may be bytes."""
import numpy as np


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
