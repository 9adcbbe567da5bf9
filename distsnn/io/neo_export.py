"""Export a selection of a SONATA spike file as a Neo Block (NIX or pickle), with the
recorded state of the selected neurons (the reports beside it: V_m, w, g_ex, ...) as
AnalogSignals.

For the Neo / PyNN / Elephant ecosystem. Neo builds one Python object per spike train, and
NIX writes each as its own HDF5 objects (OpSNN measured 213 s for 1,000 cells), so this is
meant for selections, not whole networks: SONATA stays the native format.
"""
import re

import numpy as np

from ..model.neurons import STATE_UNITS
from .sonata import open_h5, population_size_in_file, reports_beside, run_window

FORMATS = ("nix", "pickle")


def parse_selection(spec, sizes):
    """'100' -> the first 100 neurons of every population; 'L4E:0-99,L5I:3,L5I:7' -> those ids;
    None -> all neurons. Returns {population: sorted ids}."""
    if spec is None:
        return {p: np.arange(n) for p, n in sizes.items()}
    spec = str(spec).strip()
    if spec.isdigit():
        return {p: np.arange(min(int(spec), n)) for p, n in sizes.items()}
    out = {}
    for item in spec.split(","):
        m = re.fullmatch(r"\s*([^:]+):(\d+)(?:-(\d+))?\s*", item)
        if not m:
            raise ValueError(f"neuron selection: cannot parse {item!r} (use POP:ID, POP:FIRST-LAST or a count)")
        pop, first, last = m.group(1), int(m.group(2)), int(m.group(3) or m.group(2))
        if pop not in sizes:
            raise ValueError(f"neuron selection: unknown population {pop!r}; known: {sorted(sizes)}")
        if not first <= last < sizes[pop]:
            raise ValueError(f"neuron selection: {item!r} outside [0, {sizes[pop]}) of {pop}")
        out[pop] = np.union1d(out.get(pop, np.zeros(0, dtype=np.int64)), np.arange(first, last + 1))
    return out


def export_neo(path, out_path, fmt="nix", neurons=None, reports=None):
    """Write the selected neurons' spike trains of `path` to `out_path` as one Neo Block
    (one Segment, one SpikeTrain per neuron annotated with population and node_id), and of
    `reports` ({variable: report file}, default reports_beside(path); {} for none) one
    AnalogSignal per population and variable, of the selected neurons recorded there
    (annotated with population and variable; array annotation node_id). Returns (spike
    trains, analog signals) written."""
    if fmt not in FORMATS:
        raise ValueError(f"export format must be one of {FORMATS}, got {fmt!r}")
    import neo
    import quantities as pq
    with open_h5(path, "spikes") as f:
        sizes = {name: population_size_in_file(g) for name, g in f["spikes"].items()}
        t_start, t_stop = run_window(f)
        selection = parse_selection(neurons, sizes)
        block = neo.Block(name=str(path), file_origin=str(path))
        seg = neo.Segment(name="run")
        block.segments.append(seg)
        for pop, ids in selection.items():
            g = f["spikes"][pop]
            node = g["node_ids"][()].astype(np.int64)
            t = g["timestamps"][()]
            keep = np.isin(node, ids)
            node, t = node[keep], t[keep]
            order = np.argsort(node, kind="stable")          # grouped by neuron, time order kept
            node, t = node[order], t[order]
            bounds = np.searchsorted(node, ids)
            ends = np.searchsorted(node, ids, side="right")
            for nid, a, b in zip(ids, bounds, ends):
                seg.spiketrains.append(neo.SpikeTrain(t[a:b] * pq.ms, t_start=t_start * pq.ms, t_stop=t_stop * pq.ms,
                                                      name=f"{pop}:{nid}", population=pop, node_id=int(nid)))
    for variable, report in (reports_beside(path) if reports is None else reports).items():
        seg.analogsignals.extend(_signals(neo, pq, report, variable, selection))
    if fmt == "nix":
        with neo.io.NixIO(str(out_path), mode="ow") as io:
            io.write_block(block)
    else:
        neo.io.PickleIO(str(out_path)).write_block(block)
    return len(seg.spiketrains), len(seg.analogsignals)


def _signals(neo, pq, report, variable, selection):
    """AnalogSignals (one per population) of the selected neurons recorded in `report`."""
    out = []
    with open_h5(report, "report") as f:
        for pop, g in f["report"].items():
            node = g["mapping/node_ids"][()].astype(np.int64)
            cols = np.nonzero(np.isin(node, selection.get(pop, [])))[0]
            if cols.size == 0:
                continue
            start, _, step = g["mapping/time"][()]
            units = g["data"].attrs.get("units", STATE_UNITS[variable])
            units = units.decode() if isinstance(units, bytes) else str(units)
            data = g["data"][:, cols] if cols.size < node.size else g["data"][()]
            out.append(neo.AnalogSignal(data, units=units, sampling_period=step * pq.ms, t_start=start * pq.ms,
                                        name=f"{pop}:{variable}", population=pop, variable=variable,
                                        array_annotations={"node_id": node[cols]}))
    return out
