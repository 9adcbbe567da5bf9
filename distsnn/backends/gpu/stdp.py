"""STDP on the device (build.long_term; kernels/stdp.cu and stdp.cuh, stored delivery's
`_stdp` variant): a GpuSimulator's arrays for it, the launches of a step and of received
spikes, the histories' trims, and host copies for the end's table and checkpoints (in the
CPU engine's StdpState, so that both engines share that code). Functions of the simulator,
as efficacies.py's are.

The state mirrors the CPU's (backends.cpu.stdp_state): K+ and t_last per group's source
neuron, a float64 weight per stored synapse, and per local neuron a ring of (time, K-)
pairs. A ring that fills during a step sets the step state's ST_FULL (kernel stdp_record):
the next steps are skipped, as for a full spike buffer, and at the flush the driver drops
the entries no synapse reads again (make_room) and doubles the rings where one is still
more than half full, as the CPU engine does after run_block stops.
"""
import numpy as np

from ...build import long_term as lt
from ..cpu.stdp_state import HISTORY_START, StdpState, grown_ring
from . import efficacies   # a module, not its names: efficacies imports launches, which imports this

NO_NEED = np.iinfo(np.uint64).max   # a neuron no synapse reads the history of (stdp_key's +inf and more)


def device_bytes(plan, n_local, per_step, capacity=HISTORY_START):
    """Device bytes of STDP's state for n_local neurons before any synapse: K+ and t_last per
    group's source neuron (16 B), the presynaptic states of a step's spikes (16 B per spike
    and group), the history rings (16 B per entry, 16 B for their heads) and the map from gid
    to local neuron (4 B per neuron of the model). 0 without STDP."""
    if not lt.has_stdp(plan):
        return 0
    G = plan.stdp_i.shape[0]
    return 16 * lt.state_size(plan.stdp_i) + 16 * per_step * G + n_local * (16 * capacity + 16) + 4 * plan.n_neurons


def build(sim, capacity=HISTORY_START):
    """The groups' tables and state, the histories, and stand-ins of one entry each where the
    model has no STDP (no kernel reads them then). The synapses' weights come with their CSRs
    (initial_weights, list_weights)."""
    d, plan = sim.dev, sim.plan
    on = lt.has_stdp(plan)
    sim.n_stdp = int(plan.stdp_i.shape[0]) if on else 0
    G = max(sim.n_stdp, 1)
    sim.d_stdp_f = d.to_device(plan.stdp_f if on else np.zeros((1, lt.N_LF)), np.float64)
    sim.d_stdp_i = d.to_device(plan.stdp_i if on else np.zeros((1, lt.N_LI), np.int64), np.int64)
    kplus, tlast = lt.initial_state(plan)
    sim.d_kplus = d.to_device(kplus if kplus.size else np.zeros(1), np.float64)
    sim.d_tlast = d.to_device(tlast if tlast.size else np.zeros(1), np.float64)
    sim.stdp_tics = int(plan.stdp_tics) if on else 0
    # a step's own spikes' presynaptic states (graphs hold its address: never reallocated),
    # and the received spikes' (grown as batches need)
    sim.d_pre = d.zeros(2 * G * (sim.per_step if on else 1), np.float64)
    sim.d_pre_remote = d.zeros(2, np.float64)
    sim.d_tau_minus = d.to_device(plan.stdp_tau_minus if on else np.zeros(1), np.float64)
    local_of = np.full(plan.n_neurons if on else 1, -1, dtype=np.int32)
    if on:
        local_of[sim.gids] = np.arange(sim.n_local, dtype=np.int32)
    sim.d_local_of = d.to_device(local_of, np.int32)
    if capacity < 1 or capacity & (capacity - 1):   # the kernels index the rings by a mask
        raise ValueError(f"STDP history rings need a length that is a power of two, got {capacity}")
    sim.hist_cap = capacity if on else 1
    sim.hist = d.zeros(2 * sim.hist_cap * (sim.n_local if on else 1), np.float64)
    sim.hist_hn = d.zeros(2 * (sim.n_local if on else 1), np.int64)
    sim.d_scales = d.to_device(2.0 ** plan.scale_exp.astype(np.float64), np.float64)
    sim.d_syn_wf = sim.d_list_wf = d.zeros(1, np.float64)
    sim.d_list_gid = d.zeros(1, np.int64)
    sim.stdp_trims = sim.stdp_grows = 0


def initial_weights(sim, grid, total):
    """The rules' CSR's weights as numbers (kernel stdp_initial_weights), after its codes."""
    d, plan = sim.dev, sim.plan
    if not sim.n_stdp or not sim.has_syn_q:
        return
    sim.d_syn_wf = d.zeros(max(total, 1), np.float64)
    inv = d.to_device(2.0 ** -plan.scale_exp.astype(np.float64), np.float64)
    d.launch("stdp_initial_weights", grid, d.block_threads, (
        plan.n_neurons * sim.units.shape[0], sim.units.shape[0], sim.d_units, sim.d_ptr, sim.d_syn_loc, sim.d_syn_w,
        sim.d_syn_q, inv, sim.d_syn_wf))


def list_weights(sim, row_of, ptr, loc, w, q):
    """The synapse lists' weights as numbers and their rows' source gids (host arrays of
    build.synapse_lists.list_csr; the lists are built on the host)."""
    if not sim.n_stdp or not q.size:
        return
    d = sim.dev
    wf = StdpState(sim.plan, sim.units, 0, 1).weights_of(sim.units, ptr, loc, w, q)
    sim.d_list_wf = d.to_device(wf if wf.size else np.zeros(1), np.float64)
    gid = np.nonzero(row_of >= 0)[0]
    sim.d_list_gid = d.to_device(gid if gid.size else np.zeros(1, np.int64), np.int64)


def delivery_args(sim, wf, pre):
    """deliver_stored's STDP arguments (after has_q): the CSR's weights wf, the spikes'
    presynaptic states pre (default: a step's own, sim.d_pre)."""
    return (wf, sim.d_pre if pre is None else pre, sim.d_stdp_f, max(sim.n_stdp, 1), sim.hist, sim.hist_hn,
            sim.hist_cap, sim.d_scales, sim.d_units, sim.stdp_tics)


def record(sim, p):
    """(kernel, grid, block, args) of the history records of the spikes of the step of parity
    p; None without STDP."""
    if not sim.n_stdp or not sim.n_local:
        return None
    return ("stdp_record", sim.deliver_grid, sim.dev.block_threads, (
        sim.state, p, sim.spk_gid, sim.spk_step, sim.spk_pop, sim.d_tau_minus, sim.d_local_of, sim.stdp_tics,
        sim.hist, sim.hist_hn, sim.hist_cap))


def pre_states(sim, base, lo, hi, gid, step, pre=None):
    """(kernel, grid, block, args) of the presynaptic states of spikes gid, step [lo[0], hi[0])
    (all of one step), rows from base[0] in pre (default sim.d_pre: a step's own spikes); None
    without STDP."""
    if not sim.n_stdp:
        return None
    return ("stdp_pre_state", sim.deliver_grid, sim.dev.block_threads, (
        base, lo, hi, gid, step, sim.n_stdp, sim.d_stdp_f, sim.d_stdp_i, sim.d_kplus, sim.d_tlast, sim.stdp_tics,
        sim.d_pre if pre is None else pre))


def remote(sim, steps, n):
    """Deliver the n received spikes just uploaded into sim.remote (in step order, `steps`
    their steps) one step after another: their presynaptic states, then their delivery, as
    a synapse must see its source's spikes in time order and one thread updates it at a time.
    Short-term plasticity's efficacies (efficacies.remote) are rows from the batch's first
    spike, as these states."""
    d = sim.dev
    G = sim.n_stdp
    if 2 * n * G > sim.d_pre_remote.size:
        sim.d_pre_remote = d.zeros(2 * n * G, np.float64)
    bounds, d_bounds = efficacies.step_bounds(d, steps, n)
    gid, step, _ = sim.remote_spikes(n)
    for i in range(bounds.size - 1):
        lo, hi, b = d_bounds[i:], d_bounds[i + 1:], int(bounds[i])
        kernel, grid, block, args = pre_states(sim, sim.remote[0:], lo, hi, gid, step, sim.d_pre_remote)
        d.launch(kernel, grid, block, args)
        for kernel, args in sim.remote_deliveries(n, lo, hi, sim.d_eff_remote[b * sim.n_groups:],
                                                  sim.d_pre_remote[2 * b * G:]):
            d.launch(kernel, sim.deliver_grid, d.block_threads, args)


def csrs(sim):
    """Host copies of (row_gid, ptr, syn_loc, syn_d, syn_code, syn_wf) of the rules' stored
    CSR and of the lists' (CpuSimulator.stdp_csrs'); empty arrays for one without STDP."""
    d = sim.dev
    empty = (np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32),
             np.zeros(0, np.int16), np.zeros(0))
    out = [empty, empty]
    if sim.n_stdp and sim.connectivity == "stored" and sim.has_syn_q:
        ptr = d.to_host(sim.d_ptr)
        n = int(ptr[-1])
        out[0] = (np.zeros(0, np.int64), ptr, *(d.to_host(a[:n]) for a in (
            sim.d_syn_loc, sim.d_syn_d, sim.d_syn_q, sim.d_syn_wf)))
    if sim.n_stdp and sim.list_items is not None and sim.has_list_q:
        _, ptr, loc, _, dl = sim.d_lists
        n = int(d.to_host(ptr[-1:])[0])
        out[1] = (d.to_host(sim.d_list_gid), d.to_host(ptr), *(d.to_host(a[:n]) for a in (
            loc, dl, sim.d_list_q, sim.d_list_wf)))
    return out


def host_state(sim):
    """The state as a host StdpState (K+, t_last, the histories), for the end's table of
    synapses and checkpoints."""
    st = StdpState(sim.plan, sim.units, sim.n_local, 1, sim.hist_cap)
    if not sim.n_stdp:
        return st
    d, C = sim.dev, sim.hist_cap
    n = st.kplus.size
    st.kplus, st.tlast = d.to_host(sim.d_kplus[:n]), d.to_host(sim.d_tlast[:n])
    hist = d.to_host(sim.hist).reshape(sim.n_local, C, 2)
    st.hist_t, st.hist_k = np.ascontiguousarray(hist[:, :, 0]), np.ascontiguousarray(hist[:, :, 1])
    hn = d.to_host(sim.hist_hn).reshape(sim.n_local, 2)
    st.hist_h, st.hist_n = hn[:, 0].copy(), hn[:, 1].copy()
    return st


def set_host_state(sim, st, host_csrs):
    """Set the device's state from a host StdpState and the weights of csrs' copies (a
    checkpoint's restore changed them)."""
    if not sim.n_stdp:
        return
    d = sim.dev
    n = st.kplus.size
    d.assign(sim.d_kplus[:n], st.kplus)
    d.assign(sim.d_tlast[:n], st.tlast)
    _set_rings(sim, st.hist_t, st.hist_k, st.hist_h, st.hist_n)
    for wf, host in ((sim.d_syn_wf, host_csrs[0][5]), (sim.d_list_wf, host_csrs[1][5])):
        if host.size:
            d.assign(wf[:host.size], host)


def _set_rings(sim, hist_t, hist_k, hist_h, hist_n):
    """The device's rings from host ones ((n_local, C) each); new arrays where C changed (the
    launches that hold the old ones are made again)."""
    d = sim.dev
    C = hist_t.shape[1]
    host = np.stack([hist_t, hist_k], axis=2).ravel()
    if C != sim.hist_cap:
        sim.hist_cap = C
        sim.hist = d.to_device(host, np.float64)
        sim._prepared = {}
        if sim._current is not None:
            sim.use(sim._current.setup)
    else:
        d.assign(sim.hist, host)
    d.assign(sim.hist_hn, np.stack([hist_h, hist_n], axis=1).ravel())


def make_room(sim):
    """After a block stopped on a full history ring: drop the entries that no synapse will read
    (kernels stdp_oldest_needed over each CSR with STDP synapses, then stdp_drop), and double
    the rings where one is still more than half full (as StdpState.make_room)."""
    d, plan = sim.dev, sim.plan
    need = d.to_device(np.full(sim.n_local, NO_NEED, dtype=np.uint64), np.uint64)
    U = sim.units.shape[0]
    ms_per_step = sim.stdp_tics / lt.TICS_PER_MS
    walks = []
    if sim.connectivity == "stored" and sim.has_syn_q:
        walks.append((plan.n_neurons * U, 0, sim.d_no_rows, sim.d_ptr, sim.d_syn_loc, sim.d_syn_d, sim.d_syn_q))
    if sim.list_items is not None and sim.has_list_q:
        _, ptr, loc, _, dl = sim.d_lists
        walks.append((ptr.size - 1, 1, sim.d_list_gid, ptr, loc, dl, sim.d_list_q))
    for n_cells, by_row, rows, ptr, loc, dl, code in walks:
        d.launch("stdp_oldest_needed", min(sim.grid_for(n_cells), 64 * d.multiprocessors), d.block_threads, (
            n_cells, U, sim.d_units, by_row, rows, ptr, loc, dl, code, sim.d_stdp_i, sim.d_tlast, ms_per_step, need))
    d.launch("stdp_drop", sim.grid_for(sim.n_local), d.block_threads, (sim.n_local, need, sim.hist, sim.hist_hn,
                                                                      sim.hist_cap))
    sim.stdp_trims += 1
    hn = d.to_host(sim.hist_hn).reshape(sim.n_local, 2)
    C = sim.hist_cap
    if 2 * int(hn[:, 1].max(initial=0)) > C:   # unroll each ring into one twice as long, oldest first
        grown = grown_ring(d.to_host(sim.hist).reshape(sim.n_local, C, 2), hn[:, 0])
        _set_rings(sim, grown[:, :, 0], grown[:, :, 1], np.zeros(sim.n_local, np.int64), hn[:, 1])
        sim.stdp_grows += 1


def plastic_synapses(sim):
    """This process's STDP synapses with their weights now (StdpState.synapses; both CSRs)."""
    st = StdpState(sim.plan, sim.units, 0, 1)
    return np.concatenate([st.synapses(sim.units, *csr) for csr in csrs(sim)])


class StdpAccess:
    """GpuSimulator's STDP methods, CpuSimulator's interface: the runtime's table of learned
    synapses and checkpoints (io.checkpoint_stdp) use them alike."""

    def stdp_csrs(self):
        """Host copies of the CSRs' STDP arrays (csrs)."""
        return csrs(self)

    def stdp_host(self):
        """STDP's state as a host StdpState (host_state); stdp_commit sets it back."""
        return host_state(self)

    def stdp_commit(self, st, host_csrs):
        """Set STDP's state on the device from a host StdpState and stdp_csrs' weights."""
        set_host_state(self, st, host_csrs)

    def plastic_synapses(self):
        """This process's STDP synapses with their weights now."""
        return plastic_synapses(self)
