"""Synapses in SONATA edge files: write a network's (connectivity.synapses), read them back
as synapse lists (model.FromList).

One edge population per projection, named `<source>__<target>` (and `__<label>` if it has
one): `source_node_id` and `target_node_id` (uint64, population-local ids, each with its
`node_population` attribute: the distsnn population), `edge_type_id` and `edge_group_id`
(0), `edge_group_index` (0 .. n-1), and group `0` with `syn_weight` (the target model's
unit, as simulated) and `delay` (ms). The receptor, which SONATA does not name, is the
population's attribute `distsnn_receptor`; a file from elsewhere without it gets the
receptor of its weights' sign, as connect() gives. A projection with short-term plasticity
has its parameters in the attribute `distsnn_stp` (U, tau_rec, tau_fac, u, x: NEST's
tsodyks2_synapse's), one with STDP in `distsnn_stdp` (tau_plus, tau_minus, lambda, alpha,
mu_plus, mu_minus, Wmax: NEST's stdp_synapse's, model.STDP's order; then the kind, 0 for it
and 1 for the power law, model.STDPPowerLaw, whose mu fills both exponents), and its
synapses come back with them.
"""
import h5py
import numpy as np

from ..model.connectors import FromList
from ..model.long_term import FIELDS, KIND_GUETIG, KIND_POWER_LAW, rule_of_row
from ..model.short_term import TsodyksMarkram
from .sonata_groups import group_zero_order, populations
from .sonata_groups import text as _text


def edge_population_name(source, target, label=""):
    return f"{source}__{target}" + (f"__{label}" if label else "")


def write_edges(path, synapse_sets):
    """Write connectivity.Synapses objects to the SONATA edge file `path`."""
    with h5py.File(path, "w") as f:
        f.attrs["magic"] = np.uint32(0x0A7A)
        f.attrs["version"] = np.array([0, 1], dtype=np.uint32)
        edges = f.create_group("edges")
        for s in synapse_sets:
            g = edges.create_group(edge_population_name(s.source, s.target, s.label))
            g.attrs["distsnn_receptor"] = s.receptor
            g.attrs["distsnn_label"] = s.label
            if getattr(s, "stp", None) is not None:
                g.attrs["distsnn_stp"] = np.array(s.stp.validated(g.name).row(), dtype=np.float64)
            if getattr(s, "stdp", None) is not None:
                g.attrs["distsnn_stdp"] = np.array(s.stdp.validated(g.name).row(), dtype=np.float64)
            for name, ids, pop in (("source_node_id", s.pre, s.source), ("target_node_id", s.post, s.target)):
                g.create_dataset(name, data=ids.astype(np.uint64))
                g[name].attrs["node_population"] = pop
            g.create_dataset("edge_type_id", data=np.zeros(s.n, dtype=np.int64))
            g.create_dataset("edge_group_id", data=np.zeros(s.n, dtype=np.int64))
            g.create_dataset("edge_group_index", data=np.arange(s.n, dtype=np.int64))
            g.create_dataset("0/syn_weight", data=s.weight)
            g.create_dataset("0/delay", data=s.delay)
            g["0/delay"].attrs["units"] = "ms"


def read_edges(path):
    """The edge populations of a SONATA edge file as dicts: source, target (node populations),
    label (distsnn's, or for a file from elsewhere the edge population's name, so that two
    edge populations between the same node populations stay apart), receptor (None if the
    file does not say), pre, post (int64), weight, delay (ms), stp (TsodyksMarkram or None),
    stdp (STDP or None).
    Only files whose edges sit in one group with syn_weight and delay are read; anything
    else is a ValueError naming what is missing."""
    out = []
    for name, g, where in populations(path, "edges"):
        missing = [k for k in ("source_node_id", "target_node_id", "0/syn_weight", "0/delay") if k not in g]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        order = group_zero_order(g, "edge", where)
        pops = [g[k].attrs.get("node_population") for k in ("source_node_id", "target_node_id")]
        if any(p is None for p in pops):
            raise ValueError(f"{where}: source_node_id and target_node_id need a node_population attribute")
        receptor = g.attrs.get("distsnn_receptor")
        out.append({"source": _text(pops[0]), "target": _text(pops[1]),
                    "label": _text(g.attrs["distsnn_label"]) if "distsnn_label" in g.attrs else name,
                    "receptor": None if receptor is None else _text(receptor),
                    "pre": g["source_node_id"][()].astype(np.int64),
                    "post": g["target_node_id"][()].astype(np.int64),
                    "weight": g["0/syn_weight"][()][order].astype(np.float64),
                    "delay": g["0/delay"][()][order].astype(np.float64),
                    "stp": _stp(g, where), "stdp": _stdp(g, where)})
    return out


def _stp(g, where):
    """The short-term plasticity an edge population's `distsnn_stp` attribute gives, or None."""
    if "distsnn_stp" not in g.attrs:
        return None
    row = np.asarray(g.attrs["distsnn_stp"], dtype=np.float64).ravel()
    if row.size != 5:
        raise ValueError(f"{where}: distsnn_stp needs 5 numbers (U, tau_rec, tau_fac, u, x), got {row.size}")
    return TsodyksMarkram(*(float(v) for v in row)).validated(where)


def _stdp(g, where):
    """The STDP (or STDPPowerLaw) an edge population's `distsnn_stdp` attribute gives, or None."""
    if "distsnn_stdp" not in g.attrs:
        return None
    row = np.asarray(g.attrs["distsnn_stdp"], dtype=np.float64).ravel()
    n = len(FIELDS)
    if row.size not in (n, n + 1) or (row.size > n and row[n] not in (KIND_GUETIG, KIND_POWER_LAW)):
        raise ValueError(f"{where}: distsnn_stdp needs {n} numbers ({', '.join(FIELDS)}) and optionally the kind "
                         f"({KIND_GUETIG}: stdp_synapse, {KIND_POWER_LAW}: stdp_pl_synapse_hom), got {row}")
    return rule_of_row(row).validated(where)


def connect_edges(network, path):
    """Connect `network`'s populations by the edge populations of the SONATA file `path` (as
    synapse lists; their node populations must be populations of the network, and their
    ids in range). Returns the projections made."""
    made = []
    for e in read_edges(path):
        made.append(network.connect(e["source"], e["target"], FromList(e["pre"], e["post"]), e["weight"], e["delay"],
                                    receptor=e["receptor"], label=e["label"], stp=e["stp"], stdp=e["stdp"]))
    return made
