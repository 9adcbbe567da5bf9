"""Joining the spike files of consecutive segments of one simulation (runs chained through
checkpoints: `distsnn run ... --checkpoint C`, then `--restart C --checkpoint C`, ...) into
one SONATA file, as if the simulation had run in one go.

The segments must be of the same model (populations and their sizes, model, seed, scale,
dt) and follow each other without gap or overlap; each segment's spikes are sorted by time,
so their concatenation is too. Spikes are copied in blocks: files larger than memory work.
"""
import h5py

from .sonata import (atomic_h5, create_population_spikes, population_size_in_file, read_metadata, run_window,
                     write_metadata)

BLOCK = 1 << 22                # spikes copied at a time
SAME_KEYS = ("model", "seed", "scale", "dt", "ring_bits")
PER_RUN_KEYS = ("timers", "mean_rates_hz", "restarted_from", "checkpoint", "write_mode", "devices",
                "backend", "connectivity", "ranks", "partition", "exchange")


def _describe(path):
    with h5py.File(path, "r") as f:
        if "spikes" not in f:
            raise ValueError(f"{path}: not a spike file (no /spikes group)")
        window = run_window(f)
        sizes = {name: population_size_in_file(g) for name, g in f["spikes"].items()}
    return window, sizes, read_metadata(path)


def join_spike_files(paths, out_path):
    """Write the segments `paths` (in time order) as one spike file `out_path`; returns its
    (t_start, t_stop) in ms. A ValueError says which segment does not fit and why."""
    if len(paths) < 2:
        raise ValueError("join needs at least two segment files")
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
                raise ValueError(f"{path}: {key} is {meta.get(key)!r}, in {paths[0]} {meta0.get(key)!r}")
        if abs(start - prev_stop) > max(dt, 1e-9) / 2:
            raise ValueError(f"{path} starts at {start:g} ms but the segment before it ends at {prev_stop:g} ms: "
                             "segments must follow each other (give them in time order)")
    t_start, t_stop = first_window[0], described[-1][0][1]
    metadata = {k: v for k, v in meta0.items() if k not in PER_RUN_KEYS}
    metadata.update(t_start=t_start, t_stop=t_stop, t_sim=t_stop - t_start,
                    synaptic_events=sum(int(m.get("synaptic_events", 0)) for _, _, m in described),
                    segments=[{"file": str(p), "t_start": w[0], "t_stop": w[1], "backend": m.get("backend"),
                               "ranks": m.get("ranks"), "connectivity": m.get("connectivity")}
                              for p, (w, _, m) in zip(paths, described)])
    with atomic_h5(out_path) as out:
        files = [h5py.File(p, "r") for p in paths]
        try:
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
        finally:
            for f in files:
                f.close()
        write_metadata(out.create_group("distsnn"), metadata)
    return t_start, t_stop
