"""Short-term plasticity on the device (build.short_term, kernels/stp.cu): a GpuSimulator's
arrays for it, the efficacies of the spikes received from other ranks, and host copies of
its state for checkpoints. Functions of the simulator, as launches.py's are; a step's own
spikes' efficacies are one of its launches (launches.efficacies)."""
import numpy as np

from ...build import short_term
from . import launches


def build(sim):
    """The groups' tables and state, the group of every rule projection, and a row of
    efficacies per spike of one delivery (a step's own spikes; a received batch's grows as
    it needs: remote). One entry stands for each where the model has none (no kernel reads
    them then); the stored synapses' and the lists' groups come with their CSR."""
    d, plan = sim.dev, sim.plan
    sim.n_groups = int(plan.stp_i.shape[0]) if short_term.has_groups(plan) else 0
    u, x, last = short_term.initial_state(plan)
    one = sim.n_groups == 0
    sim.d_stp_f = d.to_device(np.zeros((1, short_term.N_SF)) if one else plan.stp_f, np.float64)
    sim.d_stp_i = d.to_device(np.zeros((1, short_term.N_SI), np.int64) if one else plan.stp_i, np.int64)
    sim.stp_u = d.to_device(np.zeros(1) if one else u, np.float64)
    sim.stp_x = d.to_device(np.zeros(1) if one else x, np.float64)
    sim.stp_last = d.to_device(np.zeros(1, np.int64) if one else last, np.int64)
    proj_stp = plan.proj_stp if plan.proj_stp is not None and plan.proj_stp.size else np.full(1, -1)
    sim.d_proj_stp = d.to_device(proj_stp, np.int64)
    # a step's own spikes' efficacies (the captured graphs hold its address: never
    # reallocated), and the received spikes' (grown as batches need)
    sim.d_eff = d.zeros(max(sim.per_step * sim.n_groups, 1), np.float64)
    sim.d_eff_remote = d.zeros(1, np.float64)
    sim.has_syn_q = sim.has_list_q = False
    sim.d_syn_q = sim.d_list_q = d.zeros(1, np.int16)


def state(sim):
    """Host copies of the state: u, x, last stamp (build.short_term)."""
    n = short_term.state_size(sim.plan.stp_i) if sim.n_groups else 0
    return tuple(sim.dev.to_host(a[:n]) for a in (sim.stp_u, sim.stp_x, sim.stp_last))


def set_state(sim, u, x, last):
    """Set the state from host arrays (state's)."""
    for dst, src in zip((sim.stp_u, sim.stp_x, sim.stp_last), (u, x, last)):
        if src.size:
            sim.dev.assign(dst[:src.size], src)


def step_bounds(dev, steps, n):
    """Where each step of n received spikes in step order (`steps`) begins, and n: on the host
    and on the device (uint64), for launches a step at a time."""
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(steps)) + 1, [n]]).astype(np.uint64)
    return bounds, dev.to_device(bounds, np.uint64)


def remote(sim, steps, n):
    """The efficacies of the n received spikes just uploaded into sim.remote (in step order,
    `steps` their steps): one launch per step of them, as a neuron's spikes must update its
    state in time order, rows from the batch's first spike."""
    d = sim.dev
    if n * sim.n_groups > sim.d_eff_remote.size:
        sim.d_eff_remote = d.zeros(n * sim.n_groups, np.float64)
    bounds, d_bounds = step_bounds(d, steps, n)
    r = sim.remote
    gid, step = r[2:2 + n].view(np.int64), r[2 + n:2 + 2 * n].view(np.int64)
    for i in range(bounds.size - 1):
        kernel, grid, block, args = launches.efficacies(sim, r[0:], d_bounds[i:], d_bounds[i + 1:], gid, step,
                                                        sim.d_eff_remote)
        d.launch(kernel, grid, block, args)
