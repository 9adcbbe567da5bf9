"""STDP's part of a checkpoint (io.checkpoint; build.long_term, backends.cpu.stdp_state).

In each rank's part file, where the model has STDP:
  stdp_kplus, stdp_tlast   (neurons, groups) float64: K+ and the last spike's time (ms) of
                           the part's neurons in each group, 0 where a group's source
                           population does not hold them (written by the neuron's rank, whose
                           own spikes update it every step; every rank reads every part's)
  stdp_hist_n              (neurons,) int64: the entries of each neuron's spike history, and
  stdp_hist_t, stdp_hist_k their times (ms) and K-, oldest first, neuron after neuron
  stdp_units_<csr>,        for each CSR (`rules`: stored connectivity's, `lists`: the synapse
  stdp_counts_<csr>,       lists'): the global units (rows of plan.units) the part holds,
  stdp_w_<csr>             the STDP synapses of each, and their weights, unit after unit
                           in stdp_state.unit_weights' order
A unit's cells hold the same synapses in the same order on any partition (they depend on
its population and chunk only), so a checkpoint restarts on any number of ranks.
"""
import numpy as np

from ..backends.cpu.stdp_state import unit_weights
from ..build import plan as bp
from ..build.short_term import state_index

CSRS = ("rules", "lists")


def global_units(plan, units):
    """The row of plan.units of each of a rank's units (matched by population and chunk)."""
    where = {(int(k), int(c)): g for g, (k, c) in enumerate(plan.units[:, [bp.UI_POP, bp.UI_CHUNK]])}
    return np.array([where[(int(k), int(c))] for k, c in units[:, [bp.UI_POP, bp.UI_CHUNK]]], dtype=np.int64)


def write_stdp(f, sim):
    """Write `sim`'s (a CpuSimulator's or a GpuSimulator's) STDP state of its neurons and
    synapses into part `f`."""
    plan, st = sim.plan, sim.stdp_host()
    idx = state_index(plan, sim.gids, plan.stdp_i).T
    inside = idx >= 0
    for name, values in (("stdp_kplus", st.kplus), ("stdp_tlast", st.tlast)):
        f.create_dataset(name, data=np.where(inside, values[np.maximum(idx, 0)], 0.0))
    n, times, kminus = st.histories()
    f.create_dataset("stdp_hist_n", data=n)
    f.create_dataset("stdp_hist_t", data=times)
    f.create_dataset("stdp_hist_k", data=kminus)
    units = global_units(plan, sim.units)
    for csr, (_, ptr, _, _, code, wf) in zip(CSRS, sim.stdp_csrs()):
        counts = np.array([unit_weights(u, len(units), ptr, code, wf, np.zeros(0), False) if code.size else 0
                           for u in range(len(units))], dtype=np.int64)
        w = np.zeros(int(counts.sum()))
        at = 0
        for u, c in enumerate(counts):
            if c:
                unit_weights(u, len(units), ptr, code, wf, w[at:at + c], False)
                at += c
        f.create_dataset(f"stdp_units_{csr}", data=units[counts > 0])
        f.create_dataset(f"stdp_counts_{csr}", data=counts[counts > 0])
        f.create_dataset(f"stdp_w_{csr}", data=w)


class StdpRestore:
    """Collects a rank's STDP state from every part of a checkpoint (read_part, part by part)
    and sets it (finish)."""

    def __init__(self, sim, path):
        self.sim, self.path = sim, path
        self.st = st = sim.stdp_host()
        self.kplus, self.tlast = st.kplus.copy(), st.tlast.copy()
        self.local_of = np.full(sim.plan.n_neurons, -1, dtype=np.int64)
        self.local_of[sim.gids] = np.arange(sim.n_local)
        self.hist = [None] * sim.n_local
        self.units = {int(g): u for u, g in enumerate(global_units(sim.plan, sim.units))}
        self.weights = {csr: {} for csr in CSRS}

    def read_part(self, f, name, gids):
        if "stdp_kplus" not in f:
            raise ValueError(f"checkpoint {self.path!r}: part {name} lacks the STDP state")
        idx = state_index(self.sim.plan, gids, self.sim.plan.stdp_i).T
        inside = idx >= 0
        self.kplus[idx[inside]] = f["stdp_kplus"][()][inside]
        self.tlast[idx[inside]] = f["stdp_tlast"][()][inside]
        n = f["stdp_hist_n"][()]
        ends = np.cumsum(n)
        mine = np.nonzero(self.local_of[gids] >= 0)[0]
        if mine.size:
            times, kminus = f["stdp_hist_t"][()], f["stdp_hist_k"][()]
            for j in mine:
                a, b = ends[j] - n[j], ends[j]
                self.hist[self.local_of[gids[j]]] = (times[a:b], kminus[a:b])
        for csr in CSRS:
            units, counts = f[f"stdp_units_{csr}"][()], f[f"stdp_counts_{csr}"][()]
            ends = np.cumsum(counts)
            held = [(int(g), j) for j, g in enumerate(units) if int(g) in self.units]
            if held:
                w = f[f"stdp_w_{csr}"][()]
                for g, j in held:
                    self.weights[csr][g] = w[ends[j] - counts[j]:ends[j]]

    def finish(self):
        sim, st = self.sim, self.st
        st.kplus[:], st.tlast[:] = self.kplus, self.tlast
        n = np.array([0 if h is None else h[0].size for h in self.hist], dtype=np.int64)
        parts = [h for h in self.hist if h is not None and h[0].size]
        st.set_histories(n, np.concatenate([h[0] for h in parts]) if parts else np.zeros(0),
                         np.concatenate([h[1] for h in parts]) if parts else np.zeros(0))
        U = sim.units.shape[0]
        csrs = sim.stdp_csrs()
        for csr, (_, ptr, _, _, code, wf) in zip(CSRS, csrs):
            for g, u in self.units.items():
                want = unit_weights(u, U, ptr, code, wf, np.zeros(0), False) if code.size else 0
                got = self.weights[csr].get(g)
                if want != (0 if got is None else got.size):
                    raise ValueError(f"checkpoint {self.path!r}: {0 if got is None else got.size} STDP weights of "
                                     f"unit {g} ({csr}), the model has {want}")
                if want:
                    unit_weights(u, U, ptr, code, wf, got, True)
        sim.stdp_commit(st, csrs)   # the device's copies (a GpuSimulator's; the CPU's are these)
