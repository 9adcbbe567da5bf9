"""What a run held in memory, for its summary: the engine's state by part and the process's
peak resident host memory. Under MPI each rank reports its own, and the summary keeps the
largest of each (the rank that needs the most bounds the job's memory per rank)."""
import sys

from ..backends.cpu.sizes import state_bytes

# the parts of backends.cpu.sizes.state_bytes, as the summary line names them
PARTS = (("rings", "input buffers"), ("counts", "row counts"), ("state", "neuron state"),
         ("rows", "per-neuron parameters"), ("stp", "short-term plasticity"))


def peak_rss_bytes():
    """This process's peak resident set size in bytes (getrusage: KiB on Linux, bytes on
    macOS); 0 where the platform has no getrusage."""
    try:
        import resource
    except ImportError:   # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def rank_memory(res, rank):
    """{'held_<part>_bytes': the engine's state of this rank's units by part (neuron state,
    input ring buffers, row counts, per-neuron parameter rows: state_bytes; a stored CSR
    comes on top), 'host_peak_rss_bytes': this process's peak}: flat, for a max over ranks."""
    plan = res.plan
    units = plan.units if res.partition is None else plan.units[res.partition.unit_rank == rank]
    out = {f"held_{part}_bytes": int(v) for part, v in state_bytes(plan, units).items()}
    out["host_peak_rss_bytes"] = peak_rss_bytes()
    return out


def summary_memory(memory):
    """The summary's 'memory' entry from rank_memory's (or its max over ranks): the peak
    resident host memory and the bytes held by part."""
    held = {part: memory[f"held_{part}_bytes"] for part, _ in PARTS}
    return {"host_peak_rss_bytes": memory["host_peak_rss_bytes"], "held_bytes": held}


def memory_line(memory, ranks, connectivity):
    """One line for the run's printout: '  memory   peak 812.3 MiB resident; held: ...'."""
    mib = 2.0 ** 20
    held = ", ".join(f"{label} {memory['held_bytes'][part] / mib:.1f} MiB" for part, label in PARTS
                     if memory["held_bytes"][part])
    if connectivity == "stored":
        held += " and the stored synapses"
    largest = " (largest rank)" if ranks > 1 else ""
    return (f"  memory   peak {memory['host_peak_rss_bytes'] / mib:.1f} MiB resident{largest}; "
            f"held{largest}: {held}")
