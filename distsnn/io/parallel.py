"""Writing one SONATA spike file from many ranks.

Recorded spikes are first redistributed by time (rank r receives the steps of the r-th
window), so that concatenating the ranks' slices in rank order gives a file sorted by time
then node id, exactly as a single-process run writes it. Then, per `mode`:
  mpio     one file written collectively with h5py's `mpio` driver (h5py built with MPI);
  virtual  each rank writes `<file>.ranks-<id>/rank<r>.h5`; rank 0 joins them with HDF5
           virtual datasets (relative paths, so file and folder can be moved together); each
           write has its own folder and older ones are removed only after the new file is in
           place, so a failed write never changes what an existing file reads;
  gather   rank 0 receives everything and writes a plain file;
  auto     mpio where h5py has MPI, else virtual.
Every mode writes to a temporary name that rank 0 renames at the end.
"""
import os
import shutil
import time

import h5py
import numpy as np

from .spike_groups import by_population
from .sonata import (create_population_spikes, population_group, population_size, write_metadata,
                     write_population_spikes, write_report, write_root)

WRITE_MODES = ("auto", "mpio", "virtual", "gather")


def h5py_has_mpi():
    return bool(h5py.get_config().mpi)


def redistribute_by_time(comm, gids, steps, n_steps, first_step=0):
    """Send every spike to the rank owning its time window (of steps first_step ..
    first_step + n_steps - 1); return them sorted by (step, gid)."""
    from mpi4py import MPI
    size = comm.Get_size()
    window = np.searchsorted(np.linspace(0, n_steps, size + 1)[1:-1], steps - first_step, side="right")
    order = np.argsort(window, kind="stable")
    send_counts = np.bincount(window, minlength=size).astype(np.int64)
    recv_counts = np.empty(size, dtype=np.int64)
    comm.Alltoall([send_counts, MPI.INT64_T], [recv_counts, MPI.INT64_T])
    sd = np.concatenate([[0], np.cumsum(send_counts)[:-1]])
    rd = np.concatenate([[0], np.cumsum(recv_counts)[:-1]])
    out = []
    for arr in (gids, steps):
        buf = np.empty(int(recv_counts.sum()), dtype=np.int64)
        comm.Alltoallv([np.ascontiguousarray(arr[order], dtype=np.int64), (send_counts, sd), MPI.INT64_T],
                       [buf, (recv_counts, rd), MPI.INT64_T])
        out.append(buf)
    g, s = out
    o = np.lexsort((g, s))
    return g[o], s[o]


def _per_population(plan, gids, steps):
    """{population: (node ids, times ms)} of this rank's (sorted) spikes."""
    return {name: (ids.astype(np.uint64), times.astype(np.float64))
            for name, (ids, times) in by_population(plan, gids, steps).items()}


def check_write_mode(mode):
    """Refuse a write mode this installation cannot do, before a run rather than at its end
    (on one process too, where it is not used: the same command must work under mpiexec)."""
    if mode not in WRITE_MODES:
        raise ValueError(f"write mode must be one of {WRITE_MODES}, got {mode!r}")
    if mode == "mpio" and not h5py_has_mpi():
        raise ValueError("write mode 'mpio' needs h5py built with MPI (h5py.get_config().mpi is False); "
                         "use --write-mode auto (mpio where it can, else virtual) or virtual")


def write_spikes_parallel(path, comm, plan, gids, steps, n_steps, metadata=None, mode="auto", first_step=0):
    """Collectively write the recorded spikes (this rank's gids and absolute emission steps, of
    a run of n_steps from first_step). Returns the mode used."""
    check_write_mode(mode)
    if mode == "auto":
        mode = "mpio" if h5py_has_mpi() else "virtual"
    rank = comm.Get_rank()
    metadata = comm.bcast(metadata if rank == 0 else None, root=0)
    gids, steps = redistribute_by_time(comm, gids, steps, n_steps, first_step)
    mine = _per_population(plan, gids, steps)
    counts = np.array(comm.allgather([mine[n][0].size for n in plan.pop_names]), dtype=np.int64)  # (R, P)
    offsets = np.vstack([np.zeros((1, counts.shape[1]), dtype=np.int64), np.cumsum(counts, axis=0)])
    token = comm.bcast(f"{os.getpid()}-{time.time_ns()}" if rank == 0 else None, root=0)
    tmp = f"{path}.tmp-{token}"
    if rank == 0:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    comm.Barrier()
    try:
        if mode == "mpio":
            _write_mpio(tmp, comm, plan, mine, counts, offsets, metadata)
        elif mode == "virtual":
            _write_virtual(tmp, path, f"{path}.ranks-{token}", comm, plan, mine, counts, offsets, metadata)
        else:
            _write_gather(tmp, comm, plan, mine, metadata)
        comm.Barrier()
        if rank == 0:
            os.replace(tmp, path)
            _remove_stale_parts(path, keep=f"{path}.ranks-{token}")
    finally:
        if rank == 0 and os.path.exists(tmp):
            os.remove(tmp)
    comm.Barrier()
    return mode


def _write_mpio(tmp, comm, plan, mine, counts, offsets, metadata):
    rank = comm.Get_rank()
    with h5py.File(tmp, "w", driver="mpio", comm=comm) as f:
        write_root(f)
        for p, name in enumerate(plan.pop_names):
            total = int(offsets[-1, p])
            ts, ids = create_population_spikes(f, name, total, population_size(plan, name))
            if total == 0:
                continue            # every rank agrees: no write at all
            lo, hi = int(offsets[rank, p]), int(offsets[rank + 1, p])
            _collective_write(ts, lo, hi, mine[name][1])
            _collective_write(ids, lo, hi, mine[name][0])
        write_metadata(f.create_group("distsnn"), dict(metadata or {}, write_mode="mpio"))


def _collective_write(ds, lo, hi, data):
    """ds[lo:hi] = data as one collective H5Dwrite that every rank makes, also a rank with
    nothing to write (lo == hi): h5py's `ds[lo:hi] = data` returns early for an empty
    selection, and the ranks that do write then wait for it forever."""
    from h5py import h5fd, h5p, h5s
    dxpl = h5p.create(h5p.DATASET_XFER)
    dxpl.set_dxpl_mpio(h5fd.MPIO_COLLECTIVE)
    fspace = ds.id.get_space()
    if hi > lo:
        fspace.select_hyperslab((lo,), (hi - lo,))
        mspace = h5s.create_simple((hi - lo,))
        buf = np.ascontiguousarray(data, dtype=ds.dtype)
    else:
        fspace.select_none()
        mspace = h5s.create_simple((1,))
        mspace.select_none()
        buf = np.zeros(1, dtype=ds.dtype)
    ds.id.write(mspace, fspace, buf, dxpl=dxpl)


def _remove_stale_parts(path, keep):
    """Remove the per-rank folders of earlier writes of `path` (the new file no longer uses them)."""
    folder, base = os.path.split(os.path.abspath(path))
    for name in os.listdir(folder):
        full = os.path.join(folder, name)
        if name.startswith(os.path.basename(base) + ".ranks-") and full != os.path.abspath(keep):
            shutil.rmtree(full, ignore_errors=True)


def _write_virtual(tmp, path, parts_dir, comm, plan, mine, counts, offsets, metadata):
    rank, size = comm.Get_rank(), comm.Get_size()
    if rank == 0:
        os.makedirs(parts_dir, exist_ok=True)
    comm.Barrier()
    part = os.path.join(parts_dir, f"rank{rank}.h5")
    with h5py.File(part + ".tmp", "w") as f:
        for name in plan.pop_names:
            g = f.create_group(f"spikes/{name}")
            g.create_dataset("timestamps", data=mine[name][1])
            g.create_dataset("node_ids", data=mine[name][0])
    os.replace(part + ".tmp", part)
    comm.Barrier()
    if rank != 0:
        return
    rel = os.path.relpath(parts_dir, os.path.dirname(os.path.abspath(path)))
    with h5py.File(tmp, "w") as f:
        write_root(f)
        for p, name in enumerate(plan.pop_names):
            g = population_group(f, name, population_size(plan, name))
            total = int(offsets[-1, p])
            for ds_name, dtype, units in (("timestamps", np.float64, "ms"), ("node_ids", np.uint64, None)):
                if total == 0:
                    ds = g.create_dataset(ds_name, shape=(0,), dtype=dtype)
                else:
                    layout = h5py.VirtualLayout(shape=(total,), dtype=dtype)
                    for r in range(size):
                        n = int(counts[r, p])
                        if n:
                            src = h5py.VirtualSource(os.path.join(rel, f"rank{r}.h5"), f"spikes/{name}/{ds_name}",
                                                     shape=(n,), dtype=dtype)
                            layout[int(offsets[r, p]):int(offsets[r + 1, p])] = src
                    ds = g.create_virtual_dataset(ds_name, layout)
                if units:
                    ds.attrs["units"] = units
        write_metadata(f.create_group("distsnn"), dict(metadata or {}, write_mode="virtual"))


def _write_gather(tmp, comm, plan, mine, metadata):
    parts = comm.gather(mine, root=0)
    if comm.Get_rank() != 0:
        return
    with h5py.File(tmp, "w") as f:
        write_root(f)
        for name in plan.pop_names:
            write_population_spikes(f, name, np.concatenate([m[name][0] for m in parts]),
                                    np.concatenate([m[name][1] for m in parts]), population_size(plan, name))
        write_metadata(f.create_group("distsnn"), dict(metadata or {}, write_mode="gather"))


def write_reports_parallel(paths, result, comm, metadata=None):
    """The (small) state recordings of all ranks, one report per variable (paths: {variable:
    file}, every variable of result.plan.vrec_names), written by rank 0. Collective."""
    if comm is not None and comm.Get_size() > 1:
        gathered = comm.gather((result.vrec_gids, result.vrec_var, result.vrec), root=0)
        if comm.Get_rank() != 0:
            return
        import dataclasses
        g = np.concatenate([x[0] for x in gathered])
        var = np.concatenate([x[1] for x in gathered])
        v = np.concatenate([x[2] for x in gathered], axis=1)
        order = np.lexsort((g, var))
        result = dataclasses.replace(result, vrec_gids=g[order], vrec_var=var[order], vrec=v[:, order], comm=None)
    for variable in result.plan.vrec_names:
        write_report(paths[variable], result, variable, metadata)
