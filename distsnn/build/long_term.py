"""STDP's tables (model.long_term): groups of projections, the synapses' codes, NEST's clock.

Of NEST's stdp_synapse state, the presynaptic trace K+ and the last presynaptic spike's time
depend only on the source neuron's spikes and tau_plus: every synapse of a source neuron
in one projection holds the same. As for short-term plasticity (build.short_term), they live
per source neuron and *group* (projections from one population with equal parameters), on
every process; only the weight is per synapse. Each target neuron of an STDP projection
keeps its spike history (times and NEST's K- at each), on the process simulating it.

Tables (all on the plan):
- stdp_f (G, N_LF) float64: the parameters in model.long_term.FIELDS' order, then the
  rule's kind (LF_KIND: KIND_GUETIG, stdp_synapse; KIND_POWER_LAW, stdp_pl_synapse_hom, whose
  mu is in both exponents' columns and Wmax the weights' bound);
- stdp_i (G, N_LI) int64: source population, its first gid, its size, the group's offset in
  the state arrays (build.short_term's SI_* layout);
- proj_stdp (J,), list_stdp (L,) int64: the group of each rule projection and synapse list,
  -1 for the others;
- stdp_tau_minus (P,) float64: tau_minus (ms) of each population some STDP projection
  targets (0: none; its neurons keep no history);
- stdp_tics: NEST's tics (microseconds) per step, which its spike times are computed from.

A stored synapse carries one int16 code for both kinds of plasticity (syn_code): its short-
term group q >= 0, -1 static, or STDP_CODE0 - p for STDP group p.
"""
import numpy as np

from ..model import long_term as rules
from ..model.long_term import FIELDS, checked_stdp, mean_of
from .short_term import N_SI, SI_GID0, SI_OFF, SI_POP, SI_SIZE, group_tables

LF_TAU_PLUS, LF_TAU_MINUS, LF_LAMBDA, LF_ALPHA, LF_MU_PLUS, LF_MU_MINUS, LF_WMAX, LF_KIND = range(len(FIELDS) + 1)
N_LF = len(FIELDS) + 1
KIND_POWER_LAW = rules.KIND_POWER_LAW   # stdp_f[:, LF_KIND] of the power law (the kernels' test)
LI_POP, LI_GID0, LI_SIZE, LI_OFF = SI_POP, SI_GID0, SI_SIZE, SI_OFF   # short-term plasticity's layout
N_LI = N_SI
STDP_CODE0 = -2     # syn_code of STDP group p: STDP_CODE0 - p
TICS_PER_MS = 1000  # NEST's default clock: a tic is 1 us
MS_PER_TIC = 1.0 / TICS_PER_MS
STDP_EPS = 1e-6     # ms: NEST's stdp_eps, the tolerance of its history's comparisons
SMALLEST_NORMAL = 2.2250738585072014e-308   # below it, pow(x, mu) is taken as 0 (stdp_kernels.power)


def nest_tics_per_step(dt):
    """NEST's tics per step for a resolution of dt ms; ValueError if dt is not a whole number of
    tics (NEST refuses such a resolution too), as STDP reproduces NEST's spike times in ms."""
    tics = int(round(dt * TICS_PER_MS))
    if tics < 1 or abs(tics - dt * TICS_PER_MS) > 1e-9 * tics:
        raise ValueError(f"network: STDP needs dt to be a whole number of microseconds (NEST's tics), got {dt} ms")
    return tics


def stdp_tables(network, rule_projections, lists, index, offsets, multiplicity, dt):
    """(stdp_f, stdp_i, proj_stdp, list_stdp, stdp_tau_minus, stdp_tics) for the projections in
    plan order (build.short_term.stp_tables' arguments, and dt in ms). A projection from a
    spike source that repeats spikes within a step is refused (NEST sends them as one event
    with a multiplicity, which updates the synapse once); so are STDP projections onto one
    population that disagree on tau_minus (NEST's is the target neuron's)."""
    groups = {}
    tau_minus = np.zeros(len(offsets) - 1)
    said = {}

    def group_of(pr):
        where = f"projection {pr.source}->{pr.target}"
        stdp = checked_stdp(where, pr.stdp, pr.stp, mean_of(pr.weight))
        if stdp is None:
            return -1
        if int(multiplicity[index[pr.source]]) > 1:
            raise ValueError(f"{where}: STDP from a spike source that repeats spikes within a step (several "
                             "spikes of one neuron at one time) is not supported")
        k = index[pr.target]
        if tau_minus[k] and tau_minus[k] != stdp.tau_minus:
            raise ValueError(f"{where}: STDP tau_minus {stdp.tau_minus:g} ms differs from the {tau_minus[k]:g} ms of "
                             f"{said[k]} onto the same population (tau_minus is the target neuron's, as in NEST)")
        tau_minus[k], said[k] = stdp.tau_minus, said.get(k, where)
        return groups.setdefault((index[pr.source], stdp.row()), len(groups))

    proj_stdp = np.array([group_of(pr) for pr in rule_projections], dtype=np.int64)
    list_stdp = np.array([group_of(network.projections[sl.index]) for sl in lists], dtype=np.int64)
    stdp_f, stdp_i = group_tables(groups, offsets, N_LF)
    tics = nest_tics_per_step(dt) if groups else 0
    return stdp_f, stdp_i, proj_stdp, list_stdp, tau_minus, tics


def stdp_bound(stdp, w_max):
    """The largest |weight| of a projection whose drawn weights are bounded by w_max: STDP
    moves a weight up to |Wmax| (and keeps one drawn above it there or below)."""
    return w_max if stdp is None else max(w_max, abs(stdp.Wmax))


def has_stdp(plan):
    """Whether the plan has STDP (some group)."""
    return plan.stdp_i is not None and plan.stdp_i.shape[0] > 0


def network_has_stdp(network):
    """Whether some projection of the network has STDP (before a plan exists)."""
    return any(getattr(pr, "stdp", None) is not None for pr in network.projections)


def syn_codes(stp_groups, stdp_groups):
    """The int16 code of each projection's (or list's) synapses: its short-term plasticity
    group, STDP_CODE0 - its STDP group, -1 for static ones."""
    stdp_groups = np.full(stp_groups.shape, -1, dtype=np.int64) if stdp_groups is None else stdp_groups
    return np.where(stdp_groups >= 0, STDP_CODE0 - stdp_groups, stp_groups).astype(np.int64)


def coded(codes):
    """Whether some synapse of `codes` (syn_codes') is plastic: a code per synapse needed."""
    return codes is not None and bool((codes != -1).any())


def state_size(stdp_i):
    """Entries of the presynaptic state arrays (K+, last spike time): the groups' sources."""
    return int(stdp_i[:, LI_SIZE].sum()) if stdp_i.shape[0] else 0


def initial_state(plan):
    """(K+, t_last in ms) of every group's source neurons before any spike: 0 and 0 ms, NEST's
    initial values (so target spikes before a neuron's first spike facilitate with K+ 0)."""
    n = state_size(plan.stdp_i) if plan.stdp_i is not None else 0
    return np.zeros(n), np.zeros(n)


def check_engine(plan, connectivity):
    """Refuse what no engine can run of a plan's STDP: with procedural connectivity, a rule
    projection's, whose weights change per synapse, which regenerated rows cannot keep."""
    if connectivity != "procedural" or plan.proj_stdp is None or not (plan.proj_stdp >= 0).any():
        return
    j = int(np.argmax(plan.proj_stdp >= 0))
    names = plan.pop_names
    from .plan import JI_POST_POP, JI_PRE_POP   # here: build.plan imports this module
    pi = plan.proj_i[j]
    raise ValueError(f"projection {names[pi[JI_PRE_POP]]}->{names[pi[JI_POST_POP]]}: STDP changes each synapse's "
                     "weight, which procedural connectivity regenerates rather than stores: run with "
                     "connectivity='stored' (synapse lists, FromList, are stored in either mode)")
