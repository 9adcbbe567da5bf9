"""Spike trains given to a SONATA circuit's virtual nodes: a SONATA spike file (HDF5), or
the CSV file BMTK also writes and reads (space-separated columns timestamps, population and
node_ids, a header line naming them)."""
import h5py
import numpy as np

from .sonata_groups import text


def read_spike_trains(path, population):
    """(node ids int64, times ms float64) of `population` in a spike file: a .csv file (BMTK's
    columns; rows of other populations skipped), else HDF5 with the group
    /spikes/<population> holding node_ids (or gids) and timestamps, or, in older files,
    those datasets directly under /spikes."""
    if str(path).endswith(".csv"):
        return _read_csv(path, population)
    with h5py.File(path, "r") as f:
        spikes = f.get("spikes")
        if spikes is None:
            raise ValueError(f"{path}: not a SONATA spike file (no /spikes group)")
        grp = spikes[population] if population in spikes else spikes
        if not isinstance(grp, h5py.Group) or "timestamps" not in grp:
            raise ValueError(f"{path}: no /spikes/{population}/timestamps")
        key = "node_ids" if "node_ids" in grp else "gids" if "gids" in grp else None
        if key is None:
            raise ValueError(f"{path}: no node_ids (or gids) beside the timestamps")
        units = text(grp["timestamps"].attrs.get("units", "ms"))
        if units != "ms":
            raise ValueError(f"{path}: timestamps in {units!r}; ms expected")
        return grp[key][()].astype(np.int64), grp["timestamps"][()].astype(np.float64)


def _read_csv(path, population):
    with open(path) as fh:
        header = fh.readline().split()
        rows = [line.split() for line in fh if line.strip()]
    ids_col = "node_ids" if "node_ids" in header else "gids" if "gids" in header else None
    if "timestamps" not in header or ids_col is None:
        raise ValueError(f"{path}: the header must name timestamps and node_ids (and population), got {header}")
    bad = next((i for i, r in enumerate(rows) if len(r) != len(header)), None)
    if bad is not None:
        raise ValueError(f"{path}, line {bad + 2}: {len(rows[bad])} values for {len(header)} columns")
    if "population" in header:
        k = header.index("population")
        rows = [r for r in rows if r[k] == population]
    try:
        times = np.array([float(r[header.index("timestamps")]) for r in rows], dtype=np.float64)
        ids = np.array([int(r[header.index(ids_col)]) for r in rows], dtype=np.int64)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    return ids, times
