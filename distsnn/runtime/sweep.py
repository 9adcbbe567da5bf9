"""Parameter sweeps: one model run at every point of a grid of option values, each point a
run of its own (`distsnn run` with those values), in one directory.

The grid is the Cartesian product of the varied options' values, the first option varying
slowest; point k is written as point_<k>.h5 (spikes), point_<k>_summary.json (the run's
summary), point_<k>.log (what the run printed) and point_<k>_stats.json (its statistics,
written last: a point is done when that file exists). sweep.json holds what defines the
sweep (model, varied values, every other option that changes a result), so that a sweep
stopped for any reason is finished by the same command, which runs only the points not
done, and a different sweep is refused in the same directory rather than mixed into it.
The options that change where and how fast a run goes, not its spikes (backend,
connectivity, threads, partition, exchange, write mode, checkpoint interval), are not part of
it: a sweep may be finished on another machine. With a checkpoint interval a point also
checkpoints as it runs (point_<k>_checkpoint/, removed once the point is done), so a point
killed half-way is resumed, not started again.
"""
import itertools
import json
import os

SWEEP_FILE = "sweep.json"
SWEEP_FORMAT = 1
# run options that do not change a run's spikes or statistics (the determinism contract):
# left out of a sweep's identity
EXECUTION_OPTIONS = ("backend", "share_gpus", "connectivity", "threads", "partition", "exchange", "write_mode",
                     "no_progress", "checkpoint_every")


def parse_vary(specs, types, other=None):
    """{option: (values, ...)} from --vary specs 'NAME=V1,V2,...' in the order given.

    types: {option (dest name): type} of the command line's options that may vary; NAME may
    be written as the flag ('delay-spread') or the dest ('delay_spread'). other: the type of
    any other NAME (a keyword of the model's build(), as --param gives it), or None to refuse
    them. A ValueError names the spec for an unknown or repeated option, an empty or
    unparsable value, or a value given twice."""
    out = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        name = name.strip().lstrip("-").replace("-", "_")
        if not sep or not name:
            raise ValueError(f"--vary {spec!r}: give NAME=V1,V2,... (e.g. g=4,5,6)")
        if name not in types and (other is None or not name.isidentifier()):
            raise ValueError(f"--vary {spec!r}: {name!r} cannot be varied; these can: "
                             f"{', '.join(sorted(types))}" + (", or a keyword of the model's build()" if other else ""))
        if name in out:
            raise ValueError(f"--vary {spec!r}: {name} is varied twice; give all its values in one --vary")
        words = [w.strip() for w in text.split(",")]
        if not words or any(not w for w in words):
            raise ValueError(f"--vary {spec!r}: an empty value; give comma-separated values, e.g. {name}=1,2")
        kind = types.get(name, other)
        values = []
        for w in words:
            try:
                values.append(kind(w))
            except ValueError:
                raise ValueError(f"--vary {spec!r}: {w!r} is not a {kind.__name__}") from None
        if len(set(values)) != len(values):
            raise ValueError(f"--vary {spec!r}: a value is given twice")
        out[name] = tuple(values)
    if not out:
        raise ValueError("a sweep needs at least one --vary NAME=V1,V2,...")
    return out


def grid(vary):
    """The points of the sweep: a list of {option: value}, the first option varying slowest."""
    names = list(vary)
    return [dict(zip(names, values)) for values in itertools.product(*(vary[n] for n in names))]


def point_label(point):
    """'g=4, eta=0.9' (floats in their shortest form)."""
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in point.items())


def _plain(value):
    """A JSON value that compares equal after a round trip (tuples become lists)."""
    return json.loads(json.dumps(value))


class SweepDirectory:
    """The files of one sweep in `directory`: its definition and each point's outputs.

    identity: what defines the sweep's results ({"model": ..., "vary": ..., "options": ...}),
    compared with the sweep.json already there, if any."""
    word = "point"   # what a run is called in the files and the log
    kind = "sweep"

    def __init__(self, directory, model, vary, options):
        self.directory = directory
        self.vary = dict(vary)
        self.points = grid(self.vary)
        self.width = max(4, len(str(len(self.points) - 1)))
        self.identity = _plain({"format": SWEEP_FORMAT, "model": model, "vary": self.vary,
                                "options": {k: v for k, v in sorted(options.items()) if k not in EXECUTION_OPTIONS}})

    def stem(self, k):
        """The path of point k's files without their endings: DIR/point_0003."""
        return os.path.join(self.directory, f"{self.word}_{k:0{self.width}d}")

    def output(self, k):
        return self.stem(k) + ".h5"

    def stats_path(self, k):
        return self.stem(k) + "_stats.json"

    def log_path(self, k):
        return self.stem(k) + ".log"

    def checkpoint(self, k):
        """The checkpoint directory of point k (with --checkpoint-every; removed once it is done)."""
        return self.stem(k) + "_checkpoint"

    def done(self, k):
        return os.path.isfile(self.stats_path(k))

    def missing(self):
        return [k for k in range(len(self.points)) if not self.done(k)]

    def check_indices(self, indices):
        """The points named by --only, each in range, in order and once."""
        bad = [k for k in indices if not 0 <= k < len(self.points)]
        if bad:
            raise ValueError(f"--only {','.join(map(str, indices))}: the sweep's points are 0 to "
                             f"{len(self.points) - 1}, not {', '.join(map(str, bad))}")
        return sorted(set(indices))

    def existing(self):
        """The identity written in sweep.json, or None where there is none."""
        path = os.path.join(self.directory, SWEEP_FILE)
        if not os.path.exists(path):
            return None
        try:
            with open(path) as fh:
                return json.load(fh)
        except (OSError, ValueError) as err:
            raise ValueError(f"{path}: not a sweep's definition ({err}); give another --output-dir") from None

    def check_same(self):
        """Refuse a directory that holds another sweep (its different fields named)."""
        there = self.existing()
        if there is None or there == self.identity:
            return there is not None
        differ = [k for k in sorted((set(there) | set(self.identity)) - {"format", "options"})
                  if there.get(k) != self.identity.get(k)]
        ours, theirs = self.identity["options"], there.get("options", {})
        differ += [f"--{k.replace('_', '-')}" for k in sorted(set(ours) | set(theirs)) if ours.get(k) != theirs.get(k)]
        raise ValueError(f"{self.directory} holds another {self.kind} (it differs in "
                         f"{', '.join(differ) or 'its format'}): finish it with its own options, or give another "
                         f"--output-dir")

    def write_identity(self):
        """Write sweep.json (atomically: jobs of an array may start together)."""
        os.makedirs(self.directory, exist_ok=True)
        write_json(os.path.join(self.directory, SWEEP_FILE), self.identity)


def write_json(path, value):
    """Write `value` to path as JSON, whole or not at all (a temporary file, then a rename):
    a job killed while writing leaves no half file to be taken for a finished one."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        json.dump(value, fh, indent=1, sort_keys=True, default=float)
        fh.write("\n")
    os.replace(tmp, path)
