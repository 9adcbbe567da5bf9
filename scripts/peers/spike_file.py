"""The spike file the peer scripts write (they run in the peers' own environments, without
distsnn): SONATA-style /spikes/<population>/timestamps (ms) and node_ids, sorted by time,
with the population size as attribute n_nodes (distsnn.analysis reads silent neurons from it);
and the end of a NEST peer's run: simulate, write that file, print the benchmark's JSON line."""
import json
import resource
import time

import h5py
import numpy as np


def write_spike_file(path, senders, times, populations):
    """populations: {name: (first sender id, number of neurons)}."""
    senders, times = np.asarray(senders), np.asarray(times)
    with h5py.File(path, "w") as f:
        for name, (first, n) in populations.items():
            sel = (senders >= first) & (senders < first + n)
            order = np.argsort(times[sel], kind="stable")
            g = f.create_group(f"spikes/{name}")
            g.attrs["n_nodes"] = n
            g.create_dataset("timestamps", data=times[sel][order])
            g.create_dataset("node_ids", data=(senders[sel] - first).astype(np.uint64)[order])


def fresh_nest(dt, threads, seed):
    """NEST, imported, quiet and reset: resolution dt (ms), threads, seed. The start of a NEST
    peer's build (the caller's build time includes this import)."""
    import nest
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": dt, "local_num_threads": threads, "rng_seed": seed})
    return nest


def run_nest_and_report(nest, pops, rec, t_sim, out_path, seed, t0, device_connections):
    """Prepare, run and clean up NEST for t_sim ms; write the spikes of `rec` (a spike_recorder
    of every neuron of `pops`, {name: NodeCollection}) to out_path; print one JSON line: build
    (since t0, perf_counter s) and simulate times, spikes, synapses (NEST's connections less the
    `device_connections` of generators and recorders) and peak RSS."""
    nest.Prepare()
    t1 = time.perf_counter()
    nest.Run(t_sim)
    nest.Cleanup()
    t2 = time.perf_counter()
    ev = rec.get("events")
    times = np.asarray(ev["times"])
    write_spike_file(out_path, ev["senders"], times, {n: (p[0].global_id, len(p)) for n, p in pops.items()})
    print(json.dumps({"simulator": f"NEST {nest.__version__}", "seed": seed, "build_s": t1 - t0,
                      "simulate_s": t2 - t1, "n_spikes": int(times.size),
                      "n_synapses": int(nest.GetKernelStatus("num_connections")) - device_connections,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
