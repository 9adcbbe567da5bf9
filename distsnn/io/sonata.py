"""SONATA spike files and reports of recorded state (membrane potential, w, g_ex, ...) (HDF5).

Spike file layout (SONATA v0.1):
  /                    attrs magic = 0x0A7A (uint32), version = [0, 1]
  /spikes/<pop>/       attr sorting = "by_time"
      timestamps       float64, ms (attr units = "ms")
      node_ids         uint64, population-local ids
  /distsnn/            run metadata: attrs model, seed, scale, backend, connectivity, dt,
                       t_start, t_stop, t_sim (ms; t_start > 0 for a run restarted from a
                       checkpoint), and JSON strings parameters, versions, timers, rates

Report layout (one file per recorded variable, report_path):
  /report/<pop>/data   float64 (time x node), attrs units ("mV", "pA", "nS") and variable
  /report/<pop>/mapping/node_ids (uint64), index_pointers, element_ids, time = [start, stop, step] ms

Files are written to a temporary name and renamed at the end, so an existing file is never
left half-written.
"""
import json
import os
from contextlib import contextmanager

import h5py
import numpy as np

from ..model.neurons import STATE_UNITS

SONATA_MAGIC = 0x0A7A
SONATA_VERSION = (0, 1)


KINDS = {"spikes": "a spike file", "report": "a state report (voltage, w, ...)", "distsnn": "a file written by distsnn"}


def open_h5(path, require=None):
    """`path` opened for reading (an h5py.File, a context manager). A file that is missing,
    unreadable or not HDF5, or lacks the group `require` ('spikes', 'report' or 'distsnn'),
    is a ValueError that names it, not h5py's bare OSError or KeyError."""
    try:
        f = h5py.File(path, "r")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except OSError as err:
        raise ValueError(f"{path}: cannot be read as HDF5 (not an HDF5 file, damaged or unreadable: {err})") from None
    if require is not None and require not in f:
        f.close()
        raise ValueError(f"{path}: not {KINDS[require]} (no /{require} group)")
    return f


@contextmanager
def atomic_h5(path):
    """An HDF5 file opened for writing under a temporary name, with the SONATA root
    attributes; renamed to `path` only if the block completes, removed otherwise."""
    if os.path.isdir(path):   # before the temporary file goes beside it, and all is written in vain
        raise ValueError(f"{path}: is a directory; give a file name, e.g. {os.path.join(path, 'run.h5')}")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with h5py.File(tmp, "w") as f:
            write_root(f)
            yield f
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_root(f):
    f.attrs["magic"] = np.uint32(SONATA_MAGIC)
    f.attrs["version"] = np.array(SONATA_VERSION, dtype=np.uint32)


def write_metadata(group, metadata):
    for key, value in metadata.items():
        if isinstance(value, (dict, list, tuple)):
            group.attrs[key] = json.dumps(value, sort_keys=True, default=float)
        elif value is None:
            group.attrs[key] = "null"
        else:
            group.attrs[key] = value


def population_group(f, name, n_nodes):
    """/spikes/<name> with its attributes: sorted by time, n_nodes the population size
    (silent neurons included)."""
    g = f.create_group(f"spikes/{name}")
    g.attrs["sorting"] = "by_time"
    g.attrs["n_nodes"] = np.uint64(n_nodes)
    return g


def create_population_spikes(f, name, total, n_nodes):
    """The group of population `name` with empty timestamps (ms) and node_ids datasets of
    `total` spikes, for writers that fill them in parts; returns the two datasets."""
    g = population_group(f, name, n_nodes)
    ts = g.create_dataset("timestamps", shape=(total,), dtype=np.float64)
    ts.attrs["units"] = "ms"
    return ts, g.create_dataset("node_ids", shape=(total,), dtype=np.uint64)


def write_population_spikes(f, name, ids, times, n_nodes):
    """/spikes/<name>/{timestamps, node_ids}, sorted by time (the caller's order)."""
    g = population_group(f, name, n_nodes)
    ts = g.create_dataset("timestamps", data=np.asarray(times, dtype=np.float64))
    ts.attrs["units"] = "ms"
    g.create_dataset("node_ids", data=np.asarray(ids, dtype=np.uint64))


def population_size(plan, name):
    sl = plan.pop_slice(name)
    return sl.stop - sl.start


def write_spikes(path, result, metadata=None):
    """Write the recorded spikes of `result` (a RunResult) as a SONATA spike file, with the
    run's window (t_start, t_stop, t_sim, dt in ms) and `metadata` in /distsnn: the window is
    what rates are taken over (run_window), not the last spike."""
    with atomic_h5(path) as f:
        for name in result.plan.pop_names:
            write_population_spikes(f, name, *result.spikes(name), population_size(result.plan, name))
        window = {"t_start": result.t_start, "t_stop": result.t_stop, "t_sim": result.t_sim, "dt": result.dt}
        write_metadata(f.create_group("distsnn"), dict(window, **(metadata or {})))


def read_spikes(path):
    """{population: (node_ids uint64, timestamps float64 ms)} from a SONATA spike file."""
    out = {}
    with open_h5(path, "spikes") as f:
        if int(f.attrs.get("magic", 0)) != SONATA_MAGIC:
            raise ValueError(f"{path}: not a SONATA file (magic attribute missing or wrong)")
        for name, g in f["spikes"].items():
            out[name] = (g["node_ids"][()], g["timestamps"][()])
    return out


def population_size_in_file(group, block=1 << 20):
    """Neurons of a /spikes/<population> group: its n_nodes attribute, else (files not
    written by distsnn) the largest node id + 1, read in blocks."""
    if "n_nodes" in group.attrs:
        return int(group.attrs["n_nodes"])
    top = -1
    for lo in range(0, group["node_ids"].shape[0], block):
        chunk = group["node_ids"][lo:lo + block]
        if chunk.size:
            top = max(top, int(chunk.max()))
    return top + 1


def run_window(f):
    """(t_start, t_stop) in ms of the run that wrote an open spike file: from /distsnn (t_stop,
    or t_start + t_sim), else 0 and the last spike time."""
    meta = f.get("distsnn")
    if meta is not None and "t_sim" in meta.attrs:
        t_start = float(meta.attrs.get("t_start", 0.0))
        return t_start, float(meta.attrs.get("t_stop", t_start + float(meta.attrs["t_sim"])))
    top = 0.0
    for g in f["spikes"].values():
        if g["timestamps"].shape[0]:
            top = max(top, float(g["timestamps"][-1]))
    return 0.0, top


def read_metadata(path):
    """The /distsnn attributes, JSON strings decoded."""
    with open_h5(path, "distsnn") as f:
        meta = {}
        for key, value in f["distsnn"].attrs.items():
            if isinstance(value, bytes):
                value = value.decode()
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            meta[key] = value
        return meta


def report_path(stem, variable):
    """The report file of one recorded variable of the output `stem`.h5: `stem`_voltage.h5
    for V_m, `stem`_<variable>.h5 for the others (w, g_ex, I_syn_in, ...)."""
    return f"{stem}_{'voltage' if variable == 'V_m' else variable}.h5"


def summary_path(output):
    """The run summary (JSON) that `distsnn run` writes beside its spike file `output`:
    run_summary.json for run.h5."""
    return os.path.splitext(output)[0] + "_summary.json"


def reports_beside(path):
    """{variable: report file} of the state reports written beside the spike file `path`
    (report_path: run_voltage.h5, run_w.h5, ... for run.h5) that exist."""
    stem = os.path.splitext(str(path))[0]
    return {v: report_path(stem, v) for v in STATE_UNITS if os.path.exists(report_path(stem, v))}


def write_report(path, result, variable, metadata=None):
    """One recorded state variable (V_m, w, g_ex, ...) of a RunResult as a SONATA report:
    /report/<pop>/data (time x node, in the variable's units, attribute `units`, and
    `variable`: its NEST name), /report/<pop>/mapping (node_ids, time: start, stop, step ms)."""
    plan = result.plan
    if variable not in plan.vrec_names:
        raise ValueError(f"{path}: {variable!r} is not recorded in this run; recorded: "
                         f"{', '.join(plan.vrec_names) or 'nothing'}")
    units = STATE_UNITS[variable]
    mine = result.vrec_var == plan.vrec_names.index(variable)
    with atomic_h5(path) as f:
        rep = f.create_group("report")
        for name in plan.pop_names:
            sl = plan.pop_slice(name)
            cols = np.nonzero(mine & (result.vrec_gids >= sl.start) & (result.vrec_gids < sl.stop))[0]
            if cols.size == 0:
                continue
            g = rep.create_group(name)
            data = g.create_dataset("data", data=result.vrec[:, cols].astype(np.float64))
            data.attrs["units"] = units
            data.attrs["variable"] = variable
            m = g.create_group("mapping")
            m.create_dataset("node_ids", data=(result.vrec_gids[cols] - sl.start).astype(np.uint64))
            m.create_dataset("index_pointers", data=np.arange(cols.size + 1, dtype=np.uint64))
            m.create_dataset("element_ids", data=np.zeros(cols.size, dtype=np.uint32))
            # the state after step s is the state at (s + 1) * dt; the samples are regular
            # (plan.vrec_sampling), so (start, stop, step) gives every one's time
            axis = plan.vrec_sampling.time_axis(result.first_step, result.first_step + result.n_steps, plan.dt)
            tm = m.create_dataset("time", data=np.array(axis))
            tm.attrs["units"] = "ms"
        write_metadata(f.create_group("distsnn"), metadata or {})


def read_report(path):
    """{population: (node_ids, times ms, data (time x node))} of a report (write_report);
    the data's units and variable are attributes of each /report/<pop>/data."""
    out = {}
    with open_h5(path, "report") as f:
        for name, g in f["report"].items():
            start, stop, step = g["mapping/time"][()]
            data = g["data"][()]
            times = start + step * np.arange(data.shape[0])
            out[name] = (g["mapping/node_ids"][()], times, data)
    return out


read_voltage_report = read_report   # the name before other variables could be recorded
