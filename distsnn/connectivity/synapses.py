"""The synapses of a network as the simulator uses them (NEST's GetConnections).

Procedural connectivity keeps no synapse in memory; `synapses` generates them once with
the CPU engine's row generator (the very rows every backend regenerates at each spike,
and the stored mode's CSR), for inspection (in-degrees, weight and delay histograms),
export, or to hand to another tool. Synapse lists (FromList) come back as given, with
their values as simulated.
"""
from dataclasses import dataclass

import numpy as np

from ..build import plan as bp
from ..build.synapse_lists import fixed_point
from ..model.connectors import FromList
from ..rng import streams


@dataclass
class Synapses:
    """The synapses of one projection, in the order of their source neuron (population-local
    ids). Weights are the values the simulation adds, the fixed-point weight times its
    scale, in the target model's unit (pA, nS or mV; onto conductance-based neurons an
    inhibitory conductance is positive and its receptor 'inhibitory'); delays are in ms,
    whole steps. stp: the projection's short-term plasticity (model.TsodyksMarkram), which
    scales each spike's weights by its efficacy, or None; stdp: its STDP (model.STDP), whose
    weights here are the initial ones (RunResult.weights gives them after a run), or None."""
    source: str
    target: str
    label: str
    receptor: str
    pre: np.ndarray      # int64
    post: np.ndarray     # int64
    weight: np.ndarray   # float64
    delay: np.ndarray    # float64, ms
    stp: object = None
    stdp: object = None

    @property
    def n(self):
        return int(self.pre.size)


def synapses(network, seed, source=None, target=None, label=None):
    """A Synapses for each projection of `network` (in the order they were connected) whose
    source, target and label match the ones given (None: any), generated for `seed`."""
    from ..backends.cpu.connectivity_kernels import projection_rows
    from ..backends.cpu.simulator import compute_counts, max_row_length
    plan = bp.make_plan(network, seed)
    counts = plan.counts if plan.counts is not None else compute_counts(plan)
    lists = {sl.index: sl for sl in plan.lists}
    width = max_row_length(plan, counts)   # of the scratch rows, the same for every projection
    out = []
    for i, pr in enumerate(network.projections):
        if any(want is not None and want != have for want, have in
               ((source, pr.source), (target, pr.target), (label, pr.label))):
            continue
        rec = bp.REC_EX if pr.receptor == "excitatory" else bp.REC_IN
        unit = 2.0 ** -float(plan.scale_exp[plan.pop_names.index(pr.target), rec])   # of the fixed point
        if isinstance(pr.rule, FromList):
            sl = lists[i]
            order = np.argsort(sl.pre, kind="stable")
            pre, post, w_int, d = sl.pre[order], sl.post[order], fixed_point(plan, sl)[order], sl.delay[order]
        else:
            j = int(np.nonzero(plan.proj_i[:, bp.JI_TAG] == streams.tag(streams.DOM_SYN, pr.pid))[0][0])
            nch = int(plan.proj_i[j, bp.JI_NCHUNK])
            scratch = [np.zeros((max(nch, 1), width), dtype=np.int64) for _ in range(3)]
            args = (j, plan.proj_f, plan.proj_i, counts, plan.chunk_size, plan.key0, plan.key1, plan.dt, *scratch)
            lens = np.zeros(nch, dtype=np.int64)
            none = np.zeros(0, dtype=np.int64)
            projection_rows(False, args[0], lens, *args[1:], none, none, none, none)
            pos = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
            pre, post, w_int, d = (np.empty(int(pos[-1]), dtype=np.int64) for _ in range(4))
            projection_rows(True, args[0], pos[:-1].copy(), *args[1:], pre, post, w_int, d)
            order = np.argsort(pre, kind="stable")   # chunk by chunk -> by pre, rows in chunk order
            pre, post, w_int, d = pre[order], post[order], w_int[order], d[order]
        out.append(Synapses(pr.source, pr.target, pr.label, pr.receptor, pre, post, w_int * unit, d * plan.dt,
                            pr.stp, pr.stdp))
    return out


def learned_synapses(plan, plastic):
    """The STDP synapses of a run (RunResult.plastic, all ranks' joined) as a Synapses per
    (source population, target population, STDP group, receptor), labelled `stdp<group>`,
    with the weights they ended with and their rule: write_edges writes them, and
    io.sonata_edges.connect_edges connects a network by them (learning goes on from there)."""
    from ..model.long_term import rule_of_row
    out = []
    src_pop, tgt_pop = plan.pop_of[plastic["source"]], plan.pop_of[plastic["target"]]
    keys = np.unique(np.stack([src_pop, tgt_pop, plastic["group"], plastic["receptor"]], axis=1), axis=0) \
        if plastic.size else np.zeros((0, 4), dtype=np.int64)
    offsets = plan.pop_i[:, bp.PI_OFFSET]
    for a, b, p, r in keys:
        mine = (src_pop == a) & (tgt_pop == b) & (plastic["group"] == p) & (plastic["receptor"] == r)
        s = plastic[mine]
        s = s[np.lexsort((s["weight"], s["delay"], s["target"], s["source"]))]
        out.append(Synapses(plan.pop_names[a], plan.pop_names[b], f"stdp{p}", "inhibitory" if r else "excitatory",
                            s["source"].astype(np.int64) - offsets[a], s["target"].astype(np.int64) - offsets[b],
                            s["weight"].astype(np.float64),
                            s["delay"] * plan.dt, None, rule_of_row(plan.stdp_f[p])))
    return out
