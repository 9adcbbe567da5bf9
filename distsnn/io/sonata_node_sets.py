"""SONATA node sets: the named selections of nodes that a simulation config's inputs and
reports refer to (node_sets_file). A node set is a node population's name, or an entry of
the node sets file:
- {"population": "v1", "node_id": [0, 5, 17]}: the nodes by id;
- {"population": "v1", "ei": "i"}: the nodes whose node type has this value in the types
  table's column (a list of values: any of them; node_type_id likewise);
- a list of node set names: their union.
Without "population" an entry selects in every node population that has its columns.
Node attributes kept per node in the HDF5 groups (positions, ...) are not matched: an entry
that names a column no types table has is refused.
"""
import numpy as np

from .sonata_config import read_json


class NodeSets:
    """The node sets of a config, resolved against the node populations loaded so far
    (`add_population` registers each with its node_type_id per node and its types table)."""

    def __init__(self, conf):
        path = conf.get("node_sets_file")
        self.path = path
        self.sets = read_json(path, "node_sets_file") if isinstance(path, str) else {}
        if not isinstance(self.sets, dict):
            raise ValueError(f"{path}: node sets must be a JSON object")
        self.populations = {}

    def add_population(self, name, type_ids, types):
        self.populations[name] = (np.asarray(type_ids, dtype=np.int64), types)

    def select(self, name, where):
        """{population: sorted int64 node ids, or None for all its nodes} of node set `name`."""
        if name in self.sets:
            return self._entry(self.sets[name], f"{where}: node set {name!r} ({self.path})")
        if name in self.populations:
            return {name: None}
        raise ValueError(f"{where}: node set {name!r} is neither in the node sets file nor a node population "
                         f"(populations: {', '.join(self.populations)})")

    def _entry(self, entry, where):
        if isinstance(entry, list):   # a compound node set: the union of the named ones
            out = {}
            for name in entry:
                for pop, ids in self.select(name, where).items():
                    if pop not in out:
                        out[pop] = ids
                    elif out[pop] is not None:
                        out[pop] = None if ids is None else np.union1d(out[pop], ids)
            return out
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: a node set is an object or a list of node set names")
        pops = entry.get("population", list(self.populations))
        pops = [pops] if isinstance(pops, str) else list(pops)
        unknown = [p for p in pops if p not in self.populations]
        if unknown:
            raise ValueError(f"{where}: node population {unknown[0]!r} is not among the config's nodes")
        filters = {k: v for k, v in entry.items() if k != "population"}
        out = {}
        for pop in pops:
            type_ids, types = self.populations[pop]
            keep = np.ones(type_ids.size, dtype=bool)
            for key, want in filters.items():
                want = want if isinstance(want, list) else [want]
                if key == "node_id":
                    ids = np.asarray(want, dtype=np.int64)
                    bad = ids[(ids < 0) | (ids >= type_ids.size)]
                    if bad.size:
                        raise ValueError(f"{where}: node_id {int(bad[0])} is outside {pop!r} "
                                         f"(0 .. {type_ids.size - 1})")
                    keep &= np.isin(np.arange(type_ids.size), ids)
                elif key == "node_type_id":
                    keep &= np.isin(type_ids, want)
                elif any(key in row for row in types.values()):
                    ok = [t for t, row in types.items() if row.get(key) in want]
                    keep &= np.isin(type_ids, ok)
                elif "population" in entry:
                    raise ValueError(f"{where}: {key!r} is not a column of {pop!r}'s node types (node attributes "
                                     "in the HDF5 groups are not matched)")
                else:
                    keep[:] = False   # a population without the column has none of these nodes
            if keep.all() and not filters:
                out[pop] = None
            elif keep.any():
                out[pop] = np.nonzero(keep)[0]
        return out
