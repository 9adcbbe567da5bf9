"""A SONATA simulation config's current clamps (module IClamp) as step currents, with the
meaning BMTK's PointNet gives them on NEST (bmtk.simulator.pointnet.modules.iclamp): the
only simulator that runs current clamps into point neurons from these files.

- input_type 'current_clamp': amp (pA: PointNet hands it to NEST's step_current_generator
  as it is), delay and duration (ms), each a number or lists of one length. Pulse i sets the
  current to amp[i] at delay[i] and back to 0 at delay[i] + duration[i], unless the next
  pulse has begun by then (then the next pulse's amplitude holds from its delay on).
- input_type 'csv' or 'file': `file` (relative to the config's directory, or absolute), a
  table of the times (ms) and amplitudes (pA) the current changes at: columns
  timestamps_column (default 'timestamps') and amplitudes_column (default 'amps'),
  separated by `separator` (default a space; runs of blanks count as one).
- node_set (default 'all': every node that is not virtual): the nodes the current flows
  into, in any number of node populations, each a subset or all of one.

PointNet connects its generator to the nodes with a delay of one step, so each current
reaches the nodes one step (dt) after the times the config gives; so here. PointNet skips a
time at or before dt, which NEST's generator cannot take; distsnn keeps it (moved by dt as
every time, so a pulse at 0 flows from t = dt). Inputs of other types (nwb, Allen sweeps),
other modules, and clamps into virtual nodes are refused, naming the input."""
import os

import numpy as np

CLAMP_FILE_TYPES = ("csv", "file")


def add_current_clamps(net, conf, sets):
    """Add the config's current clamp inputs to `net` (step current inputs, one per node
    population of each input's node set)."""
    base = os.path.dirname(conf["config_file"])
    for name, spec in conf.get("inputs", {}).items():
        if not isinstance(spec, dict) or spec.get("input_type") == "spikes":
            continue   # spike trains: the virtual populations take theirs (sonata_circuit)
        where = f"config: input {name!r}"
        kind = spec.get("input_type")
        if kind != "current_clamp" and kind not in CLAMP_FILE_TYPES:
            raise ValueError(f"{where}: input_type {kind!r}; distsnn reads spike trains ('spikes') and current "
                             f"clamps ('current_clamp', or a table of times and amplitudes: 'csv', 'file')")
        if spec.get("module", "IClamp") != "IClamp":
            raise ValueError(f"{where}: module {spec.get('module')!r}; distsnn's current clamps are IClamp "
                             "(BMTK's step currents)")
        times, amps = pulses(where, spec) if kind == "current_clamp" else table(where, spec, base)
        times = times + net.dt   # PointNet's generator -> node connection delay of one step
        node_set = spec.get("node_set", "all")
        if node_set == "all" and "all" not in sets.sets and "all" not in sets.populations:
            chosen = {pop: None for pop, p in net.populations.items() if not p.is_source}   # BMTK's 'all'
        else:
            chosen = sets.select(node_set, where)
        for pop, ids in chosen.items():
            if net.populations[pop].is_source:
                raise ValueError(f"{where}: node set {node_set!r} holds virtual nodes ({pop!r}), which take spike "
                                 "trains, not currents")
            try:
                net.add_step_current_input(pop, times, amps, neurons=ids)
            except ValueError as err:   # named by the config's input, not by the method
                raise ValueError(f"{where}: {err}") from None


def pulses(where, spec):
    """(times ms, amplitudes pA) of the pulses amp, delay, duration (numbers or lists)."""
    missing = [k for k in ("amp", "delay", "duration") if k not in spec]
    if missing:
        raise ValueError(f"{where}: a current clamp needs amp (pA), delay and duration (ms); missing "
                         f"{', '.join(missing)}")
    values = {k: spec[k] if isinstance(spec[k], list) else [spec[k]] for k in ("amp", "delay", "duration")}
    if len({len(v) for v in values.values()}) != 1 or not values["amp"]:
        raise ValueError(f"{where}: amp, delay and duration must be numbers or lists of one, nonzero length")
    try:
        amp, delay, duration = (np.asarray(values[k], dtype=np.float64) for k in ("amp", "delay", "duration"))
    except (TypeError, ValueError):
        raise ValueError(f"{where}: amp, delay and duration must be numbers") from None
    if not np.all(np.isfinite(duration)) or np.any(duration < 0):
        raise ValueError(f"{where}: duration must be finite and >= 0 ms")
    if not np.all(np.isfinite(delay)) or np.any(delay < 0) or np.any(np.diff(delay) <= 0):
        raise ValueError(f"{where}: the delays of the pulses must be finite times >= 0 ms that increase")
    times, amps = [], []
    for i in range(delay.size):
        _change(times, amps, delay[i], amp[i])
        stop = delay[i] + duration[i]
        if i + 1 == delay.size or stop <= delay[i + 1]:
            _change(times, amps, stop, 0.0)
    return np.array(times), np.array(amps)


def _change(times, amps, t, a):
    """Append the change to a at t; a change at the time of the last one replaces it."""
    if times and times[-1] == t:
        amps[-1] = a
    else:
        times.append(float(t))
        amps.append(float(a))


def table(where, spec, base):
    """(times ms, amplitudes pA) from the clamp's file of times and amplitudes."""
    path = spec.get("file")
    if not isinstance(path, str):
        raise ValueError(f"{where}: input_type {spec.get('input_type')!r} needs 'file', a table of times and "
                         "amplitudes")
    path = os.path.join(base, path)   # an absolute path stays
    sep = spec.get("separator", " ")
    try:
        with open(path) as f:
            rows = [ln.split() if sep == " " else [c.strip() for c in ln.split(sep)]
                    for ln in f.read().splitlines() if ln.strip()]
    except OSError as err:
        raise ValueError(f"{where}: file {path!r} cannot be read: {err.strerror or err}") from None
    columns = [spec.get("timestamps_column", "timestamps"), spec.get("amplitudes_column", "amps")]
    header = rows[0] if rows else []
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(f"{path}: no column {missing[0]!r} (columns: {header}); name them with "
                         f"timestamps_column and amplitudes_column")
    at = [header.index(c) for c in columns]
    try:
        values = np.array([[float(r[j]) for j in at] for r in rows[1:]], dtype=np.float64).reshape(-1, 2)
    except (IndexError, ValueError):
        raise ValueError(f"{path}: every row needs a number in the columns {columns}") from None
    if values.shape[0] == 0:
        raise ValueError(f"{path}: no rows of times and amplitudes")
    return values[:, 0], values[:, 1]
