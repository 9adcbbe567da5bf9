"""Checkpoints: the complete dynamic state of a run at a step, by neuron id, so that a run
restarted from it gives the same spikes as one that never stopped, on any number of ranks,
any partition, either backend and either connectivity mode (DESIGN §3).

Why this is enough: every random number is a function of (seed, stream, absolute step), the
connectivity is regenerated (or rebuilt) from the seed, and the input ring buffers hold
integers. So the state is V, the synaptic currents (conductances), the refractory counts
and the ring buffers: the inputs already on their way, in fixed point; short-term
plasticity's u and x per source neuron; and STDP's traces, histories and weights. A
checkpoint is taken
after a step's spikes have all been delivered, on every rank (the end of a run: the last
exchange has been done).

Layout of a checkpoint directory:
  checkpoint.json      manifest: format, version, step, t (ms), the model's fingerprint, the
                       part files and their neuron counts; written last (atomically), so a
                       directory without it, or with a half-written part, is never read
  part-<token>-r<R>.h5 one per writing rank: gids (int64, in the rank's unit order), v, i_ex,
                       i_in, dj_ex, dj_in (float64; dj_*: the alpha models' derivatives,
                       the AdEx models' w and solver step; absent in files written before
                       them, read as 0), refr (int64) and ring (n, 2, ring_len): ring[i, r, k]
                       is the input of receptor r (0 excitatory, 1 inhibitory) arriving at
                       step `step + k`, in the plan's fixed-point units (int32 or int64);
                       chunked, with the chunks past a population's own ring slots left
                       unwritten (they read as 0)
                       and, where the model has short-term plasticity, stp_u, stp_x
                       (float64) and stp_last (int64 stamp; -1: no spike yet), (n, groups):
                       each neuron's state in each group (build.short_term), 0 where the
                       group's source population does not hold it; every rank reads every
                       part's, as it keeps every source neuron's state
                       and, where the model has STDP, its traces, its targets' spike
                       histories and its synapses' weights (io.checkpoint_stdp)
  spikes-*.h5, state-<variable>-*.h5  the run's spike and state-report segments up to the
                       checkpoint (written with --checkpoint-every or --resume, io.segments),
                       listed in the manifest's metadata
Parts of an earlier checkpoint in the same directory, and segments its manifest no longer
lists, are removed after the new manifest is in place; until then the old manifest and its
files stay readable.
"""
import hashlib
import json
import os
import shutil
import time

import h5py
import numpy as np

from .. import __version__
from ..build import plan as bp
from ..build.count_layout import model_offsets
from ..build.neuron_values import per_neuron_description
from ..build.ring_layout import ring_slots
from ..build.long_term import has_stdp
from ..build.short_term import has_groups, state_index
from ..comm.faults import maybe_inject_fault
from .checkpoint_stdp import StdpRestore, write_stdp
from .paths import PROBE_PREFIX, check_can_create
from .sonata import open_h5

FORMAT = "distsnn-checkpoint"
VERSION = 1
MANIFEST = "checkpoint.json"
BLOCK_NEURONS = 1 << 16     # neurons per read or write: bounds the host memory of the ring copies
RING_CHUNK_NEURONS, RING_CHUNK_SLOTS = 1024, 16   # HDF5 chunks of the ring dataset (64 KiB of int32)
STATE_FIELDS = bp.NEURON_STATE
ADDED_FIELDS = ("dj_ex", "dj_in")   # later than format 1's first files: absent there, read as 0
# io.segments' files beside a checkpoint ("voltage-": V_m's, before other variables were recordable)
SEGMENT_PREFIXES = ("spikes-", "state-", "voltage-")

# the plan's tables that fix the dynamics; the partition-dependent ones (units' local starts,
# counts) are not among them, and proj_i's counts layout (build.count_layout: a rank holds its
# own chunks' counts) is hashed as every chunk's, so any partition can restart any
# checkpoint. The ring slots of pop_i (PI_RING_EX, PI_RING_IN) follow from the projections
# and only lay out memory: left out, so checkpoints of versions before them (one ring length
# for all) stay readable.
_MODEL_TABLES = ("pop_f", "pop_i", "proj_f", "proj_i", "in_proj", "pin_i", "pin_cdf", "dc_f", "dc_i",
                 "sched_step", "sched_gid", "pop_of", "noise_f", "noise_i", "ps_seg", "dc_seg_i", "dc_seg_f", "dc_mask")
# tables added later, hashed only when they hold something
_LATER_TABLES = ("noise_f", "noise_i", "ps_seg", "dc_seg_i", "dc_seg_f", "dc_mask")


def fingerprint(plan):
    """What must agree between the run that wrote a checkpoint and the one that reads it,
    field by field (so that an error can say which differs)."""
    tables = hashlib.sha256()
    for name in _MODEL_TABLES:
        a = getattr(plan, name)
        if name in _LATER_TABLES and a.size == 0:
            continue   # tables added later, hashed only when used: earlier checkpoints still match
        # columns added later are hashed only where they say more than the earlier format
        # could, so that earlier checkpoints of the same model still match: pop_i's ring
        # slots follow from the projections, pin_i's windows are hashed when not "always",
        # pop_f's AdEx columns and pop_i's Poisson-source columns when some population has them,
        # ps_seg's sinusoid columns when some source is sinusoidal, the drawn thresholds'
        # columns of pop_i and pop_f when some population has one, pop_i's flag of rows per
        # neuron when some population has them (their values: per_neuron_description), dc_f's
        # and dc_i's AC columns when some input is AC, dc_i's step current and subset columns
        # when some input has one, proj_f's redraw flag when some projection redraws its
        # delays and its kinds when some projection draws from a Uniform, an Exponential or a
        # LogNormal
        extras = []
        if name == "pop_i":
            extras = [a[:, bp.N_PI_BEFORE_PS:bp.N_PI_BEFORE_VTH], a[:, bp.N_PI_BEFORE_VTH:bp.N_PI_BEFORE_ROWS],
                      a[:, bp.N_PI_BEFORE_ROWS:]]
            a = a[:, :bp.PI_RING_EX]
        if name == "proj_f":   # the delay redraw's flag, the draws' kinds: each only where some projection has it
            a, extras = a[:, :bp.N_JF_BEFORE_REDRAW], [a[:, bp.N_JF_BEFORE_REDRAW:bp.N_JF_BEFORE_KINDS],
                                                       a[:, bp.N_JF_BEFORE_KINDS:]]
        if name == "proj_i":   # the counts layout of every chunk, in the columns it had before spans
            a = a[:, :bp.JI_COUNT_COL0].copy()
            a[:, bp.JI_COUNT_OFF] = model_offsets(plan)
        if name == "noise_i":   # the kind column where some current is not normal (NZ_NORMAL 0), the subsets'
            a, extras = a[:, :bp.N_NZ_BEFORE_KIND], [a[:, bp.N_NZ_BEFORE_KIND:bp.N_NZ_BEFORE_MASK],
                                                     a[:, bp.N_NZ_BEFORE_MASK:]]
        if name == "pin_i":
            a, windows = a[:, :bp.QI_START], a[:, bp.QI_START:]
            if np.any((windows[:, 0] != 0) | (windows[:, 1] != bp.STEP_NEVER)):
                extras = [windows]
        if name == "pop_f":   # the AdEx columns; the drawn thresholds' (each group only when used;
            # PF_REF, used by the rows per neuron only, is 0 here)
            extras = [a[:, bp.N_PF_BEFORE_AEIF:bp.N_PF_BEFORE_VTH], a[:, bp.N_PF_BEFORE_VTH:bp.N_PF_BEFORE_REF]]
            a = a[:, :bp.N_PF_BEFORE_AEIF]
        if name == "dc_f":   # the AC column: only where some input has a sinusoid
            a, extras = a[:, :bp.N_DF_BEFORE_AC], [a[:, bp.N_DF_BEFORE_AC:]]
        if name == "dc_i":   # the AC columns, and the step currents' and subsets' (each only where used)
            a, extras = a[:, :bp.N_DI_BEFORE_AC], [a[:, bp.N_DI_BEFORE_AC:bp.N_DI_BEFORE_SEG],
                                                   a[:, bp.N_DI_BEFORE_SEG:]]
        if name == "ps_seg":   # the sinusoid columns, the MIP sources' copy column: each only where used
            a, extras = a[:, :bp.N_SEG_BEFORE_SIN], [a[:, bp.N_SEG_BEFORE_SIN:bp.N_SEG_BEFORE_COPY],
                                                     a[:, bp.N_SEG_BEFORE_COPY:]]
        a = np.ascontiguousarray(a)
        tables.update(f"{name}{a.dtype.str}{a.shape}".encode())
        tables.update(a.tobytes())
        for extra in extras:
            if np.any(extra != 0):
                tables.update(np.ascontiguousarray(extra).tobytes())
    given = per_neuron_description(plan.network)   # values per neuron the tables do not hold
    if given:
        tables.update(given)
    for sl in plan.lists:   # synapse lists (FromList) are data, not rules: hashed only where a model has them
        tables.update(sl.digest())
    if has_groups(plan):   # short-term plasticity: hashed only where a model has it
        for a in (plan.stp_f, plan.stp_i, plan.proj_stp, plan.list_stp):
            tables.update(np.ascontiguousarray(a).tobytes())
    if has_stdp(plan):   # STDP: the same
        for a in (plan.stdp_f, plan.stdp_i, plan.proj_stdp, plan.list_stdp, plan.stdp_tau_minus):
            tables.update(np.ascontiguousarray(a).tobytes())
    return {
        "populations": [[name, int(plan.pop_i[k, bp.PI_SIZE])] for k, name in enumerate(plan.pop_names)],
        "seed": str(plan.seed),
        "dt_ms": float(plan.dt),
        "chunk_size": int(plan.chunk_size),
        "ring_bits": int(plan.ring_bits),
        "ring_len": int(plan.ring_len),
        "scale_exp": plan.scale_exp.astype(int).tolist(),
        "model_tables_sha256": tables.hexdigest(),
    }


_FIELD_TEXT = {
    "populations": "populations (names and sizes)", "seed": "seed", "dt_ms": "time step (ms)",
    "chunk_size": "chunk size", "ring_bits": "ring-buffer width (bits)", "ring_len": "ring length (steps)",
    "scale_exp": "fixed-point scales",
    "model_tables_sha256": "model parameters and connectivity (rules and synapse lists)",
}


class CheckpointError(RuntimeError):
    """Writing a checkpoint failed on some rank; every rank raises it (they agree first), the
    previous checkpoint in the directory is unchanged, and the run's results are intact."""


def load_manifest(path):
    """The manifest of the checkpoint directory `path`, checked for format and version."""
    man_path = os.path.join(path, MANIFEST)
    if not os.path.isdir(path):
        state = "is not a directory" if os.path.exists(path) else "does not exist"
        raise ValueError(f"checkpoint {path!r} {state} (expected a directory written by --checkpoint)")
    if not os.path.exists(man_path):
        raise ValueError(f"{path!r} is not a complete checkpoint: it has no {MANIFEST} (was the writing run "
                         "interrupted?)")
    try:
        with open(man_path) as fh:
            man = json.load(fh)
    except ValueError as err:
        raise ValueError(f"{man_path}: unreadable manifest ({err})") from None
    if man.get("format") != FORMAT:
        raise ValueError(f"{man_path}: not a distsnn checkpoint (format {man.get('format')!r})")
    if man.get("version") != VERSION:
        raise ValueError(f"{man_path}: checkpoint format version {man.get('version')}, this distsnn reads "
                         f"version {VERSION}")
    return man


def check_compatible(man, plan, path):
    """Raise a ValueError naming every fingerprint field in which the checkpoint and `plan` differ."""
    here = fingerprint(plan)
    there = man["fingerprint"]
    diffs = []
    for key, text in _FIELD_TEXT.items():
        if there.get(key) != here[key]:
            if key == "model_tables_sha256":
                diffs.append(text)
            else:
                diffs.append(f"{text}: {there.get(key)} in the checkpoint, {here[key]} here")
    if diffs:
        raise ValueError(f"checkpoint {path!r} was written by a different model; it differs in "
                         + "; ".join(diffs) + ". Restart with the model options and seed of the run that wrote it")


def check_target(path):
    """Fail before any simulation if `path` cannot take a checkpoint: it must be a new
    directory, an empty one, an earlier checkpoint (which it replaces) or what an
    interrupted first checkpoint left, and writable."""
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise ValueError(f"checkpoint target {path!r} exists and is not a directory")
        # what an interrupted first checkpoint leaves (parts, segments, no manifest) may be replaced
        # too; other ranks' probe files (check_can_create, below) are not foreign
        foreign = [n for n in os.listdir(path) if not (_is_part(n) or n.startswith(SEGMENT_PREFIXES)
                                                        or n.startswith((MANIFEST, PROBE_PREFIX)))]
        if foreign and not os.path.exists(os.path.join(path, MANIFEST)):
            raise ValueError(f"checkpoint target {path!r} is a directory with other files in it ({foreign[0]}, ...), "
                             "not an earlier checkpoint; give a new or empty directory")
    check_can_create(path, "checkpoint target")


def _is_part(name):
    return name.startswith("part-") and (name.endswith(".h5") or ".h5.tmp" in name)


def _comm_info(comm):
    return (comm.Get_rank(), comm.Get_size()) if comm is not None else (0, 1)


def _agreed(comm, path, action):
    """Run action() on this rank and let every rank learn whether it failed anywhere (so no
    rank waits in a collective for one that gave up); raise CheckpointError if so. Returns
    action()'s result."""
    size = comm.Get_size() if comm is not None else 1
    try:
        result, err = action(), None
    except Exception as e:
        result, err = None, f"{type(e).__name__}: {e}"
    errors = comm.allgather(err) if size > 1 else [err]
    if any(errors):
        r = next(i for i, e in enumerate(errors) if e)
        where = f" on rank {r}" if size > 1 else ""
        raise CheckpointError(f"writing the checkpoint {path!r} failed{where} ({errors[r]}); the previous "
                              "checkpoint there, if any, is unchanged")
    return result


def write_checkpoint(path, sim, comm=None, metadata=None):
    """Write the state of `sim` (CpuSimulator or GpuSimulator, at its current step) into the
    directory `path`; collective under MPI (each rank writes its own part). Returns the
    manifest; raises CheckpointError on every rank if any rank failed."""
    plan = sim.plan
    rank, size = _comm_info(comm)
    step = int(sim.t)
    token = f"{time.time_ns():x}-{os.getpid()}"
    if size > 1:
        token = comm.bcast(token, root=0)
        steps = comm.allgather(step)
        if len(set(steps)) != 1:
            raise RuntimeError(f"ranks are at different steps {sorted(set(steps))}; this is a bug")
    _agreed(comm, path, lambda: os.makedirs(path, exist_ok=True) if rank == 0 else None)
    part = os.path.join(path, f"part-{token}-r{rank}.h5")

    def write_part():
        _write_part(part, sim)
        maybe_inject_fault(comm, "checkpoint")   # testing: a rank fails with some parts written
    try:
        _agreed(comm, path, write_part)
    except CheckpointError:   # on every rank: none of the new parts may stay
        if os.path.exists(part):
            os.remove(part)
        raise
    parts = comm.gather((os.path.basename(part), sim.n_local), root=0) if size > 1 else \
        [(os.path.basename(part), sim.n_local)]

    def write_manifest():
        if rank != 0:
            return None
        man = {"format": FORMAT, "version": VERSION, "step": step, "t_ms": step * plan.dt,
               "n_neurons": plan.n_neurons, "fingerprint": fingerprint(plan),
               "parts": [{"file": f, "n_neurons": int(n)} for f, n in parts],
               "written_by": {"ranks": size, "distsnn": __version__,
                              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
               "metadata": metadata or {}}
        tmp = os.path.join(path, f"{MANIFEST}.tmp-{token}")
        try:
            with open(tmp, "w") as fh:
                json.dump(man, fh, indent=1, sort_keys=True, default=float)
            os.replace(tmp, os.path.join(path, MANIFEST))   # the new checkpoint exists from here on
        except BaseException:
            for name in [os.path.basename(tmp)] + [f for f, _ in parts]:
                if os.path.exists(os.path.join(path, name)):
                    os.remove(os.path.join(path, name))
            raise
        keep = {p["file"] for p in man["parts"]}
        for name in os.listdir(path):
            if _is_part(name) and name not in keep:
                os.remove(os.path.join(path, name))
        _remove_stale_segments(path, man)
        return man
    man = _agreed(comm, path, write_manifest)
    if size > 1:
        man = comm.bcast(man, root=0)
    return man


def segment_files(segment):
    """{'spikes': file, variable: report file, ...} of one segment of a manifest (io.segments);
    a segment listed before other variables were recordable has its V_m report as 'voltage'."""
    files = {"spikes": segment["spikes"]} if segment.get("spikes") else {}
    reports = segment.get("reports") or ({"V_m": segment["voltage"]} if segment.get("voltage") else {})
    files.update(reports)
    return files


def _remove_stale_segments(path, man):
    """Remove the segment files (io.segments: spikes-*, state-*, with their temporary files
    and per-rank folders) that the new manifest does not list: those of an earlier chain
    in this directory, or of a write that was interrupted."""
    listed = [f for seg in man["metadata"].get("segments", []) for f in segment_files(seg).values()]
    for name in os.listdir(path):
        if name.startswith(SEGMENT_PREFIXES) and not any(name == f or name.startswith(f + ".ranks-")
                                                         for f in listed):
            full = os.path.join(path, name)
            shutil.rmtree(full) if os.path.isdir(full) else os.remove(full)


def _write_part(file, sim):
    """One rank's part: its neurons' gids and state at its current step, the rings in arrival
    order from that step."""
    step = int(sim.t)
    n, L = sim.n_local, sim.plan.ring_len
    tmp = file + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.attrs["step"] = step
        f.create_dataset("gids", data=sim.gids.astype(np.int64))
        out = {name: f.create_dataset(name, shape=(n,), dtype=np.int64 if name == "refr" else np.float64)
               for name in STATE_FIELDS}
        # chunked, and written only up to each population's own ring slots: chunks past them are
        # never allocated and read as the fill value 0 (the multi-area model's rings mostly are)
        ring = f.create_dataset("ring", shape=(n, 2, L), dtype=sim.ring.dtype, fillvalue=0,
                                chunks=(max(1, min(n, RING_CHUNK_NEURONS)), 1, min(L, RING_CHUNK_SLOTS)))
        slots = ring_slots(sim.plan)
        for lo in range(0, n, BLOCK_NEURONS):
            hi = min(n, lo + BLOCK_NEURONS)
            st = sim.read_state(lo, hi)
            for name in STATE_FIELDS:
                out[name][lo:hi] = st[name]
            pops = sim.plan.pop_of[sim.gids[lo:hi]]
            edges = np.concatenate([[0], np.flatnonzero(np.diff(pops)) + 1, [hi - lo]])
            for a, b in zip(edges[:-1], edges[1:]):
                for r in (0, 1):
                    k = int(slots[pops[a], r])   # h5py writes strided data slower: contiguous copies
                    ring[lo + a:lo + b, r, :k] = np.ascontiguousarray(st["ring"][:k, r, a:b].T)
        if has_groups(sim.plan):
            _write_stp(f, sim)
        if has_stdp(sim.plan):
            write_stdp(f, sim)
    os.replace(tmp, file)


def _write_stp(f, sim):
    """Short-term plasticity's state of the part's neurons, (neurons, groups) each: u, x and
    the last spike's stamp (steps; -1: none yet); 0 where a group's source population does not
    hold the neuron. The rank simulating a neuron writes it: its own spikes update its state
    every step, while other ranks see them only if they need them."""
    idx = state_index(sim.plan, sim.gids).T
    inside = idx >= 0
    for name, values in zip(("stp_u", "stp_x", "stp_last"), sim.stp_state()):
        f.create_dataset(name, data=np.where(inside, values[np.maximum(idx, 0)], 0))


def _read_stp(f, path, name, gids, sim, state):
    """Set the short-term plasticity state of a part's neurons (all of them: every rank keeps
    the state of every source neuron) from its datasets into `state` (host arrays u, x, last)."""
    if "stp_u" not in f:
        raise ValueError(f"checkpoint {path!r}: part {name} lacks the short-term plasticity state")
    idx = state_index(sim.plan, gids).T
    inside = idx >= 0
    for key, values in zip(("stp_u", "stp_x", "stp_last"), state):
        values[idx[inside]] = f[key][()][inside]


def restore_checkpoint(path, sim, man=None):
    """Load the state of this rank's neurons from the checkpoint directory `path` into `sim`
    (built, not yet run) and move it to the checkpoint's step. Returns the manifest.
    man: the manifest, already loaded and checked against sim.plan (default: do both here)."""
    plan = sim.plan
    if man is None:
        man = load_manifest(path)
        check_compatible(man, plan, path)
    step = int(man["step"])
    sim.start_at(step)   # first: write_state places the rings' arrival order relative to the step
    local_of = np.full(plan.n_neurons, -1, dtype=np.int64)
    local_of[sim.gids] = np.arange(sim.n_local)
    seen = np.zeros(sim.n_local, dtype=bool)
    stp = tuple(np.array(a) for a in sim.stp_state()) if has_groups(plan) else None   # host copies, filled below
    stdp = StdpRestore(sim, path) if has_stdp(plan) else None
    if sum(int(p["n_neurons"]) for p in man["parts"]) != plan.n_neurons:
        raise ValueError(f"checkpoint {path!r} is inconsistent: its parts hold "
                         f"{sum(int(p['n_neurons']) for p in man['parts'])} neurons, the model {plan.n_neurons}")
    for p in man["parts"]:
        file = os.path.join(path, p["file"])
        if not os.path.exists(file):
            raise ValueError(f"checkpoint {path!r} is incomplete: part {p['file']} is missing")
        with open_h5(file) as f:
            gids = f["gids"][()]
            if gids.size != int(p["n_neurons"]) or int(f.attrs["step"]) != step:
                raise ValueError(f"checkpoint {path!r}: part {p['file']} does not match the manifest")
            if gids.size and (gids.min() < 0 or gids.max() >= plan.n_neurons):
                raise ValueError(f"checkpoint {path!r}: part {p['file']} has neuron ids outside the model")
            if stp is not None:
                _read_stp(f, path, p["file"], gids, sim, stp)
            if stdp is not None:
                stdp.read_part(f, p["file"], gids)
            li = local_of[gids]
            for a, b in _runs(li):
                dst = li[a]
                block = {name: f[name][a:b] if name in f or name not in ADDED_FIELDS else np.zeros(b - a)
                         for name in STATE_FIELDS}
                block["ring"] = f["ring"][a:b].transpose(2, 1, 0)
                if seen[dst:dst + b - a].any():
                    raise ValueError(f"checkpoint {path!r}: a neuron appears in more than one part")
                seen[dst:dst + b - a] = True
                sim.write_state(dst, dst + b - a, block)
    if stp is not None:
        sim.set_stp_state(*stp)
    if stdp is not None:
        stdp.finish()
    if not seen.all():
        missing = sim.gids[~seen]
        raise ValueError(f"checkpoint {path!r} lacks the state of {missing.size} neuron(s) of this run "
                         f"(first id {int(missing[0])})")
    return man


def _runs(li):
    """[a, b) ranges of a part's rows that map onto consecutive local neurons of this rank,
    at most BLOCK_NEURONS long (a part's rows and a rank's neurons both follow unit order,
    so there are about as many runs as units shared)."""
    own = li >= 0
    if not own.any():
        return []
    idx = np.nonzero(own)[0]
    # a new run starts where the row is not the next row, or the local index not the next one
    starts = np.ones(idx.size, dtype=bool)
    starts[1:] = (np.diff(idx) != 1) | (np.diff(li[idx]) != 1)
    bounds = np.append(np.nonzero(starts)[0], idx.size)
    out = []
    for s, e in zip(bounds[:-1], bounds[1:]):
        a, b = int(idx[s]), int(idx[e - 1]) + 1
        for lo in range(a, b, BLOCK_NEURONS):
            out.append((lo, min(b, lo + BLOCK_NEURONS)))
    return out
