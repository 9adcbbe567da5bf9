"""Segments of one simulation and joining them.

Joining: the spike files of consecutive segments of one simulation (runs chained through
checkpoints: `distsnn run ... --checkpoint C`, then `--restart C --checkpoint C`, ...) become
one SONATA file, as if the simulation had run in one go. The segments must be of the same
model (populations and their sizes, model, seed, scale, dt) and follow each other without
gap or overlap; each segment's spikes are sorted by time, so their concatenation is too.
Spikes are copied in blocks: files larger than memory work. State reports (V_m, w, ...) join alike.

Recording segments (SegmentWriter, the hook behind `--checkpoint-every`): before each
checkpoint, the spikes (and recorded state) since the previous one are written into the
checkpoint directory as `spikes-<first step>-<stop step>-<token>.h5` (`state-<variable>-...`
for each recorded variable), and the manifest lists every segment since the run began. A
checkpoint then holds the spikes of the whole run up to it, so a job killed at any moment
loses only the steps after its last checkpoint: `--resume` continues from there and joins
all segments into the output.
"""
import contextlib
import math
import os
import time

import numpy as np

from .checkpoint import MANIFEST, load_manifest, segment_files
from .sonata import (atomic_h5, create_population_spikes, open_h5, population_size_in_file, read_metadata,
                     run_window, write_metadata, write_spikes)

BLOCK = 1 << 22                # spikes copied at a time
SAME_KEYS = ("model", "seed", "scale", "dt", "ring_bits")
PER_RUN_KEYS = ("timers", "mean_rates_hz", "restarted_from", "checkpoint", "write_mode", "devices",
                "backend", "connectivity", "ranks", "partition", "exchange", "simulate_s")


def run_metadata(meta):
    """A segment's metadata less what belongs to the one job that wrote it (PER_RUN_KEYS):
    what a join of the run's segments says of the whole run."""
    return {k: v for k, v in meta.items() if k not in PER_RUN_KEYS}


def _describe(path):
    with open_h5(path, "spikes") as f:
        window = run_window(f)
        sizes = {name: population_size_in_file(g) for name, g in f["spikes"].items()}
    return window, sizes, read_metadata(path)


@contextlib.contextmanager
def _opened(paths, require):
    """The HDF5 files `paths`, open for reading, each with the group `require`; all closed
    on leaving, also when opening one of them fails (sonata.open_h5's error, naming it)."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(open_h5(p, require)) for p in paths]


def _shown(value):
    """A metadata value as the user wrote it: HDF5 gives NumPy scalars back (3, not np.int64(3))."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def join_spike_files(paths, out_path, metadata=None):
    """Write the segments `paths` (in time order) as one spike file `out_path`; returns its
    (t_start, t_stop) in ms. A ValueError says which segment does not fit and why.
    metadata: the joined file's /distsnn attributes (default: the first segment's, less what
    belongs to one run only); its window, synaptic events and segment list are set here."""
    if not paths:
        raise ValueError("join needs at least one segment file")
    described = [_describe(p) for p in paths]
    (first_window, sizes, meta0) = described[0]
    dt = float(meta0.get("dt", 0.0))
    for prev, cur, path in zip(described, described[1:], paths[1:]):
        (_, prev_stop), _, _ = prev
        (start, _), cur_sizes, meta = cur
        if cur_sizes != sizes:
            raise ValueError(f"{path}: its populations (names and sizes) differ from those of {paths[0]}")
        for key in SAME_KEYS:
            if meta.get(key) != meta0.get(key):
                raise ValueError(f"{path}: {key} is {_shown(meta.get(key))}, in {paths[0]} {_shown(meta0.get(key))}: "
                                 "not segments of one run")
        if abs(start - prev_stop) > max(dt, 1e-9) / 2:
            raise ValueError(f"{path} starts at {start:g} ms but the segment before it ends at {prev_stop:g} ms: "
                             "segments must follow each other (give them in time order)")
    t_start, t_stop = first_window[0], described[-1][0][1]
    if metadata is None:
        metadata = run_metadata(meta0)
    metadata = dict(metadata)
    # each segment's simulate time (s; a run's file: its rank 0's, a checkpoint's segment: its
    # slowest rank's, a joined file: its total), and their sum when every segment has one: a
    # run resumed over several jobs keeps its whole simulation time
    spent = [m["timers"]["simulate"] if "simulate" in m.get("timers", {}) else m.get("simulate_s")
             for _, _, m in described]
    metadata.update(t_start=t_start, t_stop=t_stop, t_sim=t_stop - t_start,
                    synaptic_events=sum(int(m.get("synaptic_events", 0)) for _, _, m in described),
                    segments=[{"file": str(p), "t_start": w[0], "t_stop": w[1], "backend": m.get("backend"),
                               "ranks": m.get("ranks"), "connectivity": m.get("connectivity"), "simulate_s": s}
                              for p, (w, _, m), s in zip(paths, described, spent)])
    if all(s is not None for s in spent):
        metadata["simulate_s"] = float(sum(spent))
    with atomic_h5(out_path) as out, _opened(paths, "spikes") as files:
        for name, n_nodes in sizes.items():
            srcs = [f["spikes"][name] for f in files]
            total = sum(int(s["timestamps"].shape[0]) for s in srcs)
            ts, ids = create_population_spikes(out, name, total, n_nodes)
            pos = 0
            for s in srcs:
                n = int(s["timestamps"].shape[0])
                for lo in range(0, n, BLOCK):
                    hi = min(n, lo + BLOCK)
                    ts[pos + lo:pos + hi] = s["timestamps"][lo:hi]
                    ids[pos + lo:pos + hi] = s["node_ids"][lo:hi]
                pos += n
        write_metadata(out.create_group("distsnn"), metadata)
    return t_start, t_stop


def _check_time_axes(name, paths, axes, parts):
    """The segments' samples of population `name` (axes: (start, stop, step) ms each; parts:
    their data) must continue one another on one grid: the same step, each start where the
    samples before it stopped (segments without samples aside). Returns the first sample's
    time (ms)."""
    step = axes[0][2]
    first = at = None                 # the first sample's time; where the next one is due
    for path, (start, stop, st), d in zip(paths, axes, parts):
        if not math.isclose(st, step, rel_tol=1e-9):
            raise ValueError(f"{path}: {name} is sampled every {st:g} ms, {paths[0]} every {step:g} ms; "
                             "segments sampled differently cannot be joined")
        if d.shape[0] == 0:
            continue
        if at is not None and not math.isclose(start, at, rel_tol=1e-9, abs_tol=1e-9):
            raise ValueError(f"{path}: the samples of {name} start at {start:g} ms, the segment before "
                             f"stopped at {at:g} ms: the segments must follow each other (give them in time order)")
        first = start if first is None else first
        at = start + st * d.shape[0]
    return axes[0][0] if first is None else first


def join_reports(paths, out_path, metadata=None):
    """Write the reports of one variable (V_m, w, ...) of consecutive segments (in time
    order, the same neurons recorded in each) as one report `out_path`."""
    if not paths:
        raise ValueError("join needs at least one report")
    with atomic_h5(out_path) as out, _opened(paths, "report") as files:
        rep = out.create_group("report")
        for name, g0 in files[0]["report"].items():
            m0 = g0["mapping"]
            step = float(m0["time"][2])
            for f, path in zip(files[1:], paths[1:]):
                if name not in f["report"] or not np.array_equal(f["report"][name]["mapping/node_ids"][()],
                                                                 m0["node_ids"][()]):
                    raise ValueError(f"{path}: the recorded neurons of {name} differ from those of {paths[0]}")
            parts = [f["report"][name]["data"] for f in files]
            start = _check_time_axes(name, paths, [f["report"][name]["mapping/time"][()] for f in files], parts)
            g = rep.create_group(name)
            data = g.create_dataset("data", shape=(sum(d.shape[0] for d in parts), m0["node_ids"].shape[0]),
                                    dtype=np.float64)
            for key, value in parts[0].attrs.items():   # units, variable
                data.attrs[key] = value
            pos = 0
            for d in parts:   # in blocks of rows: reports larger than memory join too
                rows = max(1, BLOCK // max(1, d.shape[1]))
                for lo in range(0, d.shape[0], rows):
                    hi = min(d.shape[0], lo + rows)
                    data[pos + lo:pos + hi] = d[lo:hi]
                pos += d.shape[0]
            m = g.create_group("mapping")
            for key in ("node_ids", "index_pointers", "element_ids"):
                m.create_dataset(key, data=m0[key][()])
            stop = start + step * data.shape[0]
            m.create_dataset("time", data=np.array([start, stop, step])).attrs["units"] = "ms"
        write_metadata(out.create_group("distsnn"), metadata if metadata is not None else {})


def spike_counts(paths, t_from=0.0):
    """{population: number of spikes with time > t_from (ms)} in the spike files `paths`
    (segments of one run, or any SONATA files). Timestamps are sorted, so only a file whose
    window straddles t_from is searched, by bisection; no spikes are read into memory."""
    counts = {}
    for path in paths:
        with open_h5(path, "spikes") as f:
            for name, g in f["spikes"].items():
                ts = g["timestamps"]
                n = int(ts.shape[0])
                lo = 0 if n == 0 or float(ts[0]) > t_from else _first_after(ts, t_from)
                counts[name] = counts.get(name, 0) + n - lo
    return counts


def _first_after(ts, t_from):
    """Index of the first timestamp > t_from in the sorted dataset `ts`."""
    lo, hi = 0, int(ts.shape[0])
    while hi - lo > BLOCK:       # each probe reads one value
        mid = (lo + hi) // 2
        if float(ts[mid]) > t_from:
            hi = mid
        else:
            lo = mid + 1
    return lo + int(np.searchsorted(ts[lo:hi], t_from, side="right"))


def mean_rates(paths, recorded, t_start, t_stop):
    """Mean firing rate (Hz) of each population over (t_start, t_stop] ms from the spike
    files `paths` covering it (the segments of a run, whose spikes end at t_stop);
    recorded: {population: number of neurons whose spikes are recorded}."""
    from ..analysis.statistics import population_rates
    return population_rates(spike_counts(paths, t_start), recorded, t_start, t_stop)


class SegmentWriter:
    """The on_checkpoint hook of runtime.simulate: writes each window's spikes (and recorded
    state) into the checkpoint directory and returns the list of all segments so far
    for the manifest (module docstring). Collective under MPI.

    directory: the checkpoint directory; comm: the run's communicator (None: one process);
    metadata: /distsnn attributes of every segment file (model, seed, scale: join checks
    them); write_mode: parallel spike-file mode (io.parallel); segments: those of the
    checkpoint this run resumes (resumable())."""

    def __init__(self, directory, comm=None, metadata=None, write_mode="auto", segments=()):
        self.directory, self.comm, self.write_mode = directory, comm, write_mode
        self.metadata = dict(metadata or {})
        self.segments = [dict(s) for s in segments]

    def __call__(self, window):
        from .parallel import write_reports_parallel, write_spikes_parallel
        comm = self.comm
        size = comm.Get_size() if comm is not None else 1
        a, b = window.first_step, window.first_step + window.n_steps
        # unique per run: a new run's segments never overwrite those an older manifest lists
        token = f"{time.time_ns():x}-{os.getpid()}"
        if size > 1:
            token = comm.bcast(token, root=0)
        stem = f"{a:010d}-{b:010d}-{token}.h5"
        meta = dict(self.metadata, dt=window.dt, t_start=window.t_start, t_stop=window.t_stop, t_sim=window.t_sim,
                    ring_bits=window.plan.ring_bits, backend=window.backend, connectivity=window.connectivity,
                    synaptic_events=window.events, ranks=size, timers=window.timers.as_dict(),
                    # what only the build knows, for a join with no run behind it (a --resume at the end)
                    n_neurons=window.plan.n_neurons, n_synapses=window.n_synapses)
        spikes = os.path.join(self.directory, "spikes-" + stem)
        if size == 1:
            write_spikes(spikes, window, meta)
        else:
            write_spikes_parallel(spikes, comm, window.plan, window.spike_gids, window.spike_steps, window.n_steps,
                                  meta, self.write_mode, window.first_step)
        reports = {v: f"state-{v}-{stem}" for v in window.plan.vrec_names}
        write_reports_parallel({v: os.path.join(self.directory, f) for v, f in reports.items()}, window, comm, meta)
        self.segments.append({"spikes": os.path.basename(spikes), "reports": reports, "step_start": int(a),
                              "step_stop": int(b), "t_start": window.t_start, "t_stop": window.t_stop})
        return {"segments": self.segments}

    def variables(self):
        """The recorded variables whose reports the segments hold, in order of appearance."""
        return list(dict.fromkeys(k for s in self.segments for k in segment_files(s) if k != "spikes"))

    def paths(self, kind="spikes"):
        """The files of every segment so far ('spikes', or a recorded variable's reports:
        'V_m', 'w', ...), in time order."""
        return [os.path.join(self.directory, f) for f in (segment_files(s).get(kind) for s in self.segments) if f]


def resumable(directory):
    """(manifest, segments) of the checkpoint in `directory` that --resume continues, or
    None when the directory holds no checkpoint yet. A ValueError says why a checkpoint there
    cannot be resumed (written without segments, a segment missing, a gap)."""
    if not os.path.exists(os.path.join(directory, MANIFEST)):
        return None
    man = load_manifest(directory)
    segments = man.get("metadata", {}).get("segments")
    if not segments:
        raise ValueError(f"the checkpoint in {directory!r} holds no spike segments (it was written without "
                         "--checkpoint-every or --resume), so the spikes before it are not there to resume; "
                         "continue it with --restart instead")
    for seg in segments:
        for name in segment_files(seg).values():
            if not os.path.exists(os.path.join(directory, name)):
                raise ValueError(f"the checkpoint in {directory!r} lists the segment {name}, which is missing")
    for prev, cur in zip(segments, segments[1:]):
        if prev["step_stop"] != cur["step_start"]:
            raise ValueError(f"the segments in {directory!r} leave a gap: {prev['spikes']} ends at step "
                             f"{prev['step_stop']}, {cur['spikes']} starts at step {cur['step_start']}")
    if segments[-1]["step_stop"] != int(man["step"]):
        raise ValueError(f"the segments in {directory!r} end at step {segments[-1]['step_stop']}, its checkpoint is "
                         f"at step {man['step']}")
    return man, segments
