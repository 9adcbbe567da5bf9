"""Short-term plasticity's tables (model.short_term): groups of projections that share a state.

A spike's efficacy depends on its source neuron's spikes and the plasticity's parameters
only, so projections from one population with equal parameters share one state per source
neuron: a *group*. Each engine keeps, per group, u, x and the last spike's stamp of every
neuron of the group's source population, in one flat array (a group's neurons from its
offset), on every process: a rank delivering a neuron's spikes needs that neuron's state
whichever rank simulates it, and computes it from the spikes it receives (all of a source's
spikes reach every rank that needs any: the exchange chooses by population).

Tables (all on the plan):
- stp_f (G, N_SF) float64: U, tau_rec (ms), tau_fac (ms), initial u, initial x;
- stp_i (G, N_SI) int64: source population, its first gid, its size, the group's offset in
  the state arrays;
- proj_stp (J,) int64: the group of each rule projection (plan.proj_*), -1 for static ones;
- list_stp (L,) int64: the same for the synapse lists (plan.lists).
"""
import numpy as np

from ..model.short_term import checked_stp

SF_U, SF_TAU_REC, SF_TAU_FAC, SF_U0, SF_X0 = range(5)
N_SF = 5
SI_POP, SI_GID0, SI_SIZE, SI_OFF = range(4)
N_SI = 4
# stamps of the last spike: none yet (a neuron's first spike uses the initial u and x)
NO_SPIKE = -1


def stp_tables(network, rule_projections, lists, index, offsets, multiplicity):
    """(stp_f, stp_i, proj_stp, list_stp) for the projections in plan order: rule_projections
    the rule projections as the plan's proj_* rows hold them, lists the plan's SynapseLists.
    multiplicity: the most spikes a neuron of each population emits in one step; a plastic
    projection from a population with more than one is refused (NEST's multiplicity is one
    event for the synapse, whose state then changes once; and within a step the engines
    update the states of a step's spikes side by side, a neuron's once)."""
    groups = {}

    def group_of(pr):
        where = f"projection {pr.source}->{pr.target}"
        stp = checked_stp(where, pr.stp)
        if stp is None:
            return -1
        if int(multiplicity[index[pr.source]]) > 1:
            raise ValueError(f"{where}: short-term plasticity from a spike source that repeats spikes within a "
                             "step (several spikes of one neuron at one time) is not supported")
        key = (index[pr.source], stp.row())
        return groups.setdefault(key, len(groups))

    proj_stp = np.array([group_of(pr) for pr in rule_projections], dtype=np.int64)
    list_stp = np.array([group_of(network.projections[sl.index]) for sl in lists], dtype=np.int64)
    return (*group_tables(groups, offsets, N_SF), proj_stp, list_stp)


def group_tables(groups, offsets, n_params):
    """(params (G, n_params) float64, sources (G, N_SI) int64) of groups {(source population,
    parameter row): group}: each group's parameters, and its source population, first gid,
    size and offset in the state arrays (the groups' neurons one after the other). STDP's
    groups (build.long_term) have the same layout."""
    params = np.zeros((len(groups), n_params))
    sources = np.zeros((len(groups), N_SI), dtype=np.int64)
    at = 0
    for (k, row), q in groups.items():
        size = int(offsets[k + 1] - offsets[k])
        params[q] = row
        sources[q] = [k, offsets[k], size, at]
        at += size
    return params, sources


def state_size(stp_i):
    """Entries of each of the state arrays (u, x, last stamp): the groups' source neurons."""
    return int((stp_i[:, SI_SIZE]).sum()) if stp_i.shape[0] else 0


def initial_state(plan):
    """(u, x, last) of every group's source neurons before any spike."""
    n = state_size(plan.stp_i)
    u, x = np.zeros(n), np.zeros(n)
    for q in range(plan.stp_i.shape[0]):
        a, b = plan.stp_i[q, SI_OFF], plan.stp_i[q, SI_OFF] + plan.stp_i[q, SI_SIZE]
        u[a:b], x[a:b] = plan.stp_f[q, SF_U0], plan.stp_f[q, SF_X0]
    return u, x, np.full(n, NO_SPIKE, dtype=np.int64)


def state_index(plan, gids, sources=None):
    """(G, gids.size) int64: the state entry of each neuron of `gids` in each group, -1 where
    the group's source population does not hold it (checkpoints: io.checkpoint). sources:
    the groups' table (group_tables' second; default plan.stp_i, STDP's plan.stdp_i)."""
    sources = plan.stp_i if sources is None else sources
    idx = np.full((sources.shape[0], gids.size), -1, dtype=np.int64)
    for q in range(sources.shape[0]):
        i = gids - sources[q, SI_GID0]
        inside = (i >= 0) & (i < sources[q, SI_SIZE])
        idx[q, inside] = sources[q, SI_OFF] + i[inside]
    return idx


def plastic(groups):
    """Whether some projection of `groups` (a plan's proj_stp or list_stp) is plastic."""
    return groups is not None and bool((groups >= 0).any())


def has_groups(plan):
    """Whether the plan has short-term plasticity (some group)."""
    return plan.stp_i is not None and plan.stp_i.shape[0] > 0
