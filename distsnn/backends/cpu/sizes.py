"""What the CPU engine (and, for their common parts, every engine) holds in memory, in bytes,
and the checks that refuse an allocation that cannot fit, naming its largest part."""
import os

from ...build import plan as bp
from ...build import long_term, short_term
from ...build.ring_layout import ring_entries
from .noise_kernels import held_layout


def csr_bytes_per_synapse(plan):
    """syn_loc int32, syn_w (the ring's integer width), syn_d int32; syn_q int16 where some
    projection is plastic; the weights as float64 where some projection has STDP."""
    codes = long_term.syn_codes(plan.proj_stp, plan.proj_stdp)
    return 4 + plan.ring_item_bytes + 4 + (2 if long_term.coded(codes) else 0) + (8 if long_term.has_stdp(plan) else 0)


def check_stored_estimate(plan, units, free, where):
    """Refuse stored connectivity onto `units` that cannot fit in `free` bytes (None: unknown)
    before the row counts and the input bound walk every synapse (for a model of 1e12 synapses,
    hours): its synapses onto them (plan.synapses_onto, expected for fixed_probability) at the
    least a stored synapse takes (int32 rings). The exact size is checked again once counted."""
    n = plan.synapses_onto(units)
    nbytes = n * (4 + 4 + 4)
    if free is not None and 0.99 * nbytes > free:   # a margin for fixed_probability's spread about its mean
        raise MemoryError(f"stored connectivity: about {n:.3g} synapses need at least {nbytes / 2 ** 30:.2f} GiB but "
                          f"{where} has {free / 2 ** 30:.2f} GiB free; use procedural connectivity (the default), "
                          "a smaller model or more ranks")


def available_memory():
    """Bytes of physical memory available now (None where the platform does not say)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(what, nbytes, log, parts=None):
    """Log the size of an allocation and refuse it with a clear message if it cannot fit.
    parts: {name: bytes} of what it is made of, the largest named in the refusal (what to
    change); procedural connectivity is proposed only for a stored CSR."""
    log(f"{what}: {nbytes / 2 ** 20:.1f} MiB")
    free = available_memory()
    if free is not None and nbytes > free:
        big = max(parts, key=parts.get) if parts else None
        largest = f" ({MEMORY_PARTS.get(big, big)} {parts[big] / 2 ** 30:.2f} GiB)" if big else ""
        if what.startswith("stored"):
            remedy = "use procedural connectivity, a smaller model or more ranks"
        else:
            remedy = "use a smaller model or more ranks" + (", or shorter delays (the input buffers hold a slot per "
                                                            "step of the longest)" if big == "rings" else "")
        raise MemoryError(f"{what} needs {nbytes / 2 ** 30:.2f} GiB{largest} but only {free / 2 ** 30:.2f} GiB "
                          f"are available; {remedy}")


MEMORY_PARTS = {"state": "neuron state", "rings": "input buffers", "counts": "row counts", "rows": "per-neuron rows",
                "stp": "short-term plasticity", "scratch": "scratch"}


def state_bytes(plan, units):
    """Bytes every engine holds for the neurons of `units` (rows of plan.units), by part: neuron
    state (plan.NEURON_STATE, and the threshold, build.neuron_values.thresholds: 8 B each), the input
    ring buffers (int32 or int64; each population's own slots per receptor,
    build.ring_layout), the per-(pre, chunk) synapse counts of counted rules (16 or 32 bits a
    cell, build.count_layout), the rows of neurons with parameters per neuron
    (build.param_rows: N_PF float64 and an int64 index each), and short-term plasticity's
    state (u, x and the last spike: 24 B per source neuron of each group, on every process)."""
    sizes = bp.unit_sizes(units)
    n_local = int(sizes.sum())
    n_rows = int(sizes[plan.pop_i[units[:, bp.UI_POP], bp.PI_ROWS] != 0].sum()) if units.shape[0] else 0
    return {"state": n_local * 8 * (len(bp.NEURON_STATE) + 1),
            "rings": ring_entries(plan, units) * plan.ring_item_bytes, "counts": 4 * plan.info["count_words"],
            "rows": n_rows * 8 * (bp.N_PF + 1),
            "stp": 24 * short_term.state_size(plan.stp_i) if short_term.has_groups(plan) else 0}


def scratch_bytes(plan, units, row_width):
    """Bytes of the CPU engine's scratch: per unit, five row buffers of `row_width` int64 (targets,
    and two each of weights and delays: CpuSimulator.build), its
    spikes of a step (int64 per neuron slot of a chunk), its Poisson input (2 int64 sums and
    one uint64 word per neuron slot, + 8 words) and injected current (a float64 per slot);
    per neuron, its gid and a step's spikes (gid, step), and a float64 per noise current held
    over its interval (held_layout: distributed I_e, noise drawn for longer than a step)."""
    U = max(units.shape[0], 1)
    C = plan.chunk_size
    n_local = int(bp.unit_sizes(units).sum())
    held = 8 * held_layout(plan, units)[1]
    return U * (5 * 8 * row_width + 8 * C + 16 * C + 8 * (C + 8) + 8 * C) + 24 * max(n_local, 1) + held
