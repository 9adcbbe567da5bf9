"""The spike file the peer scripts write (they run in the peers' own environments, without
distsnn): SONATA-style /spikes/<population>/timestamps (ms) and node_ids, sorted by time,
with the population size as attribute n_nodes (distsnn.analysis reads silent neurons from it)."""
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
