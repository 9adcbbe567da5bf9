"""BuildPlan: the network flattened into tables (numpy arrays) for the kernels.

Everything here is a pure function of the model and the seed; nothing depends on the
backend, the number of ranks or threads. Column indices are module constants shared with
the kernels.
"""
import math
from dataclasses import dataclass, field

import numpy as np

from ..model.connectors import (FixedIndegree, FixedOutdegree, FixedProbability, FixedTotalNumber, FromList, OneToOne,
                                RULE_CODES)
from ..model.distributions import Normal, Values
from ..model.neurons import MODEL_CODES
from ..model.per_neuron import row_params
from ..rng import streams
from ..rng.portable_math import plog1p
from . import poisson_input, poisson_source
from .dc_inputs import dc_tables, subset_mask
from .draw_bounds import delay_extremes, draw_kinds, spread, table_mean
from .fixed_point import choose_scale_exponent, weight_bound
from .neuron_values import check_per_neuron
from .param_rows import population_row
from .long_term import stdp_bound, stdp_tables
from .pulse_packets import source_spikes
from .spike_schedule import spike_multiplicity, spike_schedule
from .short_term import stp_tables
from .state_sampling import StateSampling, spike_flags, state_probes
from .synapse_lists import synapse_lists

# population float table columns
PF_P22, PF_P11EX, PF_P11IN, PF_P21EX, PF_P21IN, PF_P20, PF_VTH, PF_VRESET, PF_IE, PF_INVSC_EX, PF_INVSC_IN, PF_EL, \
    PF_GL, PF_CM, PF_EEX, PF_EIN, PF_PHEX, PF_PHIN, PF_DT = range(19)
# the AdEx models' own (0 for the other models; V_peak relative to E_L; checkpoint.fingerprint
# hashes them only where nonzero, so that the other models' fingerprints stay as they were)
PF_A, PF_B, PF_DELTA_T, PF_TAU_W, PF_VPEAK, PF_TAU_SYN_EX, PF_TAU_SYN_IN, PF_TOL = range(19, 27)
N_PF_BEFORE_AEIF = 19
# a threshold drawn per neuron (PI_VTH_DIST): Normal mean, sd or Uniform low, high (mV, absolute)
PF_VTH_A, PF_VTH_B = range(27, 29)
N_PF_BEFORE_VTH = 27
# the refractory steps of a row per neuron (param_rows.neuron_rows; 0 in pop_f, whose
# populations have theirs in pop_i's PI_REF)
PF_REF = 29
N_PF_BEFORE_REF = 29
N_PF = 30   # PF_GL.. : the conductance-based models (E_ex, E_in relative to E_L)
# iaf_psc_alpha keeps its own constants in iaf_cond_exp's columns (a population is one model):
# V from dJ (P31), I from dJ (P21a) and the jump of dJ per unit of weight (e / tau_syn)
PF_A31EX, PF_A31IN, PF_A21EX, PF_A21IN, PF_AJ0EX, PF_AJ0IN = PF_GL, PF_CM, PF_EEX, PF_EIN, PF_PHEX, PF_PHIN
# iaf_cond_alpha needs all of iaf_cond_exp's and keeps the alpha shape's g from dG (A21) and
# jump of dG per unit of weight (e / tau_syn) in the current models' columns it does not use
PF_GA21EX, PF_GA21IN, PF_GJ0EX, PF_GJ0IN = PF_P21EX, PF_P21IN, PF_P22, PF_P20
# izhikevich: a (1/ms), b (1/ms), d (mV), V_min (mV) and 1.0 for the published scheme
# (consistent_integration False) in the conductance columns (V_th in PF_VTH, c in PF_VRESET;
# PF_DT the step)
PF_IZ_A, PF_IZ_B, PF_IZ_D, PF_IZ_VMIN, PF_IZ_PUBLISHED = PF_GL, PF_CM, PF_EEX, PF_EIN, PF_PHEX
# population int table columns
PI_REF, PI_OFFSET, PI_SIZE, PI_IN_START, PI_IN_END, PI_PIN_START, PI_PIN_END, PI_DC_START, PI_DC_END, PI_NCHUNK, \
    PI_SOURCE, PI_MODEL, PI_RING_EX, PI_RING_IN = range(14)
# poisson_source populations (0 for the others): their rate segments, rows [start, end) of the
# plan's ps_seg table (build.poisson_source)
PI_PS_SEG_START, PI_PS_SEG_END = range(14, 16)
N_PI_BEFORE_PS = 14
# how the population's threshold is set per neuron: VTH_FIXED (pop_f's PF_VTH), VTH_NORMAL,
# VTH_UNIFORM (drawn), VTH_GIVEN (Values: PF_VTH_A, PF_VTH_B their lowest and highest; the
# values themselves are in the model, hashed into checkpoint fingerprints)
PI_VTH_DIST = 16
N_PI_BEFORE_VTH = 16
VTH_FIXED, VTH_NORMAL, VTH_UNIFORM, VTH_GIVEN = range(4)
# 1: the population's neurons have rows of their own (parameters per neuron, param_rows.neuron_rows)
PI_ROWS = 17
N_PI_BEFORE_ROWS = 17
N_PI = 18   # PI_MODEL: neurons.MODEL_CODES; PI_RING_EX/IN: ring slots of each receptor (ring_layout)
# ps_seg columns: the first step of a segment, the spike threshold from then on; a segment
# with an amplitude (sinusoidal sources) modulates that threshold by amplitude * sin(2 pi u),
# u = (SEG_PHASE + SEG_CYCLE * (t + 1)) / 2**64 (uint64 phase words; build.poisson_source);
# a MIP source's (Network.add_mip_source) copy threshold, round(p_copy * 2**32) (0: none), its
# SEG_THRESH the parent process's
SEG_STEP, SEG_THRESH, SEG_AMP, SEG_CYCLE, SEG_PHASE, SEG_COPY = range(6)
N_SEG_BEFORE_SIN = 2
N_SEG_BEFORE_COPY = 5
N_SEG = 6
# DC inputs (dc_f, dc_i; build.dc_inputs): the constant (pA); an AC input's amplitude (pA, 0
# for DC) and the phase words of its sinusoid (build.phase_words), the window [start, stop)
# in steps; a step current's rows of dc_seg_i and dc_seg_f (0, 0 for none); whether it flows
# into some neurons only (1) and the bit of gid 0 in dc_mask
DF_AMP, DF_AC = range(2)
N_DF_BEFORE_AC = 1
N_DF = 2
DI_START, DI_STOP, DI_CYCLE, DI_PHASE, DI_SEG_START, DI_SEG_END, DI_MASKED, DI_MASK_AT = range(8)
N_DI_BEFORE_AC = 2
N_DI_BEFORE_SEG = 4
N_DI = 8
# projection float columns; JF_DREDRAW: a delay's redraw bound in units of dt, every engine's
# bound JF_DREDRAW * dt ms (Normal.redraw_bound, rng.redraw), 0.0 where delays clip to dt.
# JF_WSD, JF_DSD: a weight's and a delay's spread, a Normal's sd or a Uniform's high - low
# (JF_WMEAN, JF_DMEAN its mean; a LogNormal weight's mu and sigma; an Exponential's low and
# beta); JF_KINDS: the bits of rng.synapse_variates (UNIFORM_*, EXPONENTIAL_*,
# LOGNORMAL_WEIGHT, NEGATIVE_WEIGHT), 0.0 where the weight and the delay are constants or
# Normals
JF_P, JF_R, JF_WMEAN, JF_WSD, JF_DMEAN, JF_DSD, JF_SCALE = range(7)
N_JF_BEFORE_REDRAW = 7
JF_DREDRAW = 7
N_JF_BEFORE_KINDS = 8
JF_KINDS = 8
N_JF = 9
# projection int columns
# JI_COUNT_OFF, JI_COUNT_COL0, JI_COUNT_COLS, JI_COUNT_WIDE: where a counted projection's row
# counts lie in this process's counts array (count_layout.py): cell (pre, chunk) at
# off + pre * cols + chunk - col0, for the chunks col0 <= chunk < col0 + cols this process
# holds (all of them unless a rank holds its own only), in cells of the projection's width:
# uint32 where wide is 1, else uint16; off -1 for rules without counts
JI_PRE_POP, JI_POST_POP, JI_RULE, JI_TAG, JI_N, JI_REC, JI_NCHUNK, JI_COUNT_OFF, JI_PRE_OFF, JI_PRE_SIZE, \
    JI_POST_OFF, JI_POST_SIZE, JI_COUNT_COL0, JI_COUNT_COLS, JI_COUNT_WIDE = range(15)
N_JI = 15
RULE_FP, RULE_FTN, RULE_FOUT, RULE_O2O, RULE_A2A, RULE_FIN = 0, 1, 2, 3, 4, 5
COUNTED_RULES = (RULE_FTN, RULE_FOUT, RULE_FIN)   # rows of drawn lengths: per (pre, chunk) cells
# poisson input columns
STEP_NEVER = 2 ** 62   # the step of t = inf (the stop of a window without end)
# QI_START, QI_STOP: the emission steps s of the sources, start <= s < stop
QI_POP, QI_NSUB, QI_WINT, QI_REC, QI_DELAY, QI_INDEX, QI_START, QI_STOP = range(8)
# noise currents (Network.add_noise_input), in the order they were added: noise_i columns
# (target population, first step, stop step, steps per interval (STEP_NEVER: frozen, a
# distributed I_e), stream index, kind), noise_f (a, b pA): NZ_NORMAL a + b z, z standard
# normal; NZ_UNIFORM a + b u, u uniform in (0, 1]; NZ_GIVEN (frozen, I_e given per neuron):
# the NoiseInput's values (build.neuron_values.given_currents), a and b 0; whether it flows
# into some neurons only (1) and the bit of gid 0 in dc_mask (build.dc_inputs)
NZ_POP, NZ_START, NZ_STOP, NZ_EVERY, NZ_INDEX, NZ_KIND, NZ_MASKED, NZ_MASK_AT = range(8)
N_NZ = 8
N_NZ_BEFORE_KIND = 5
N_NZ_BEFORE_MASK = 6
NZ_NORMAL, NZ_UNIFORM, NZ_GIVEN = 0, 1, 2
# unit (post chunk) columns
UI_POP, UI_CHUNK, UI_GID_START, UI_GID_END, UI_LOCAL_START, UI_SCHED_START, UI_SCHED_END, UI_RING_OFF = range(8)

REC_EX, REC_IN = 0, 1


def count_cells(rule, n_pre, nch):
    """Cells of a counted projection in the counts array: n_pre x nch row lengths, or for
    fixed_indegree (n_pre + 1) x nch running sums (cell (pre, chunk): the chunk's input slots
    taken by pres before `pre`; the last row is the chunk's total)."""
    return (n_pre + 1) * nch if rule == RULE_FIN else n_pre * nch


@dataclass
class BuildPlan:
    network: object
    seed: int
    key0: int
    key1: int
    dt: float
    chunk_size: int
    pop_names: list
    pop_f: np.ndarray
    pop_i: np.ndarray
    proj_f: np.ndarray
    proj_i: np.ndarray
    in_proj: np.ndarray          # incoming projection indices, grouped by target population
    pin_i: np.ndarray
    pin_cdf: np.ndarray          # (Q, KCAP + 1) cdf tables of the Poisson sampler
    dc_f: np.ndarray             # DF_* columns: the constant and the sinusoid's amplitude (pA)
    dc_i: np.ndarray             # DI_* columns: window (steps), the sinusoid's phase words, ...
    dc_seg_i: np.ndarray         # step currents: first step of each amplitude (build.dc_inputs)
    dc_seg_f: np.ndarray         # ... and the amplitude (pA)
    dc_mask: np.ndarray          # uint32 words: the neurons of inputs given some (DI_MASKED, NZ_MASKED)
    noise_f: np.ndarray          # (mean pA, std pA) of each noise current
    noise_i: np.ndarray          # NZ_* columns
    units: np.ndarray            # post chunks: pop, chunk, gid_start, gid_end, local_start, schedule range
    sched_step: np.ndarray       # spike sources: emission steps, grouped by unit, sorted by (step, gid)
    sched_gid: np.ndarray
    ps_seg: np.ndarray           # Poisson sources' rate segments (SEG_* columns), by population
    pop_of: np.ndarray           # population index of every neuron
    scale_exp: np.ndarray        # (P, 2) fixed-point exponents k: scale = 2**k per pA
    max_delay_steps: int
    min_delay_steps: int
    ring_len: int                # max_delay_steps + 1: the longest ring of any population (ring_layout)
    proj_min_delay: np.ndarray   # smallest delay (steps) each projection can draw
    lists: list = field(default_factory=list)   # FromList projections (synapse_lists.SynapseList), not in proj_*
    # short-term plasticity (build.short_term): groups' parameters and source neurons, the
    # group of every rule projection and synapse list (-1: static)
    stp_f: np.ndarray = None
    stp_i: np.ndarray = None
    proj_stp: np.ndarray = None
    list_stp: np.ndarray = None
    # STDP (build.long_term): groups' parameters and source neurons, the group of every rule
    # projection and synapse list (-1: none), tau_minus of the populations they target, NEST's tics per step
    stdp_f: np.ndarray = None
    stdp_i: np.ndarray = None
    proj_stdp: np.ndarray = None
    list_stdp: np.ndarray = None
    stdp_tau_minus: np.ndarray = None
    stdp_tics: int = 0
    counts: np.ndarray = None    # per (pre, chunk) synapse counts of counted rules: uint32 words (count_layout)
    ring_bits: int = None        # 32 or 64: width of the input ring buffers; None until input_bound decides
    spike_rec: np.ndarray = None # uint8 per neuron: record its spikes
    # recorded state, one probe per (variable, neuron), grouped by variable (in the order of
    # vrec_names), by gid within one: the gid, the index into vrec_names, the kernels' state code
    vrec_gids: np.ndarray = None
    vrec_var: np.ndarray = None
    vrec_code: np.ndarray = None
    vrec_names: tuple = ()
    vrec_sampling: StateSampling = StateSampling()   # which steps' state is kept (Network.sample_state)
    info: dict = field(default_factory=dict)

    def __repr__(self):   # the tables would print hundreds of lines
        return (f"BuildPlan({getattr(self.network, 'name', '?')!r}: {self.n_neurons} neurons in {self.n_pops} "
                f"populations, {self.proj_i.shape[0]} projections, dt={self.dt} ms, seed={self.seed})")

    @property
    def n_neurons(self):
        return int(self.pop_of.size)

    @property
    def ring_item_bytes(self):
        """Bytes of one ring-buffer entry: 4 for int32, 8 for int64; before the input bound is
        decided, the network's choice (8 for 'auto': the larger, for estimates)."""
        bits = self.ring_bits or self.network.ring_bits
        return 4 if bits == 32 else 8

    @property
    def n_pops(self):
        return len(self.pop_names)

    def pop_index(self, name):
        """Index of population `name`; a ValueError that lists the populations if there is none."""
        if name not in self.pop_names:
            raise ValueError(f"no population {name!r}; known: {', '.join(map(str, self.pop_names)) or 'none'}")
        return self.pop_names.index(name)

    def pop_slice(self, name):
        k = self.pop_index(name)
        return slice(int(self.pop_i[k, PI_OFFSET]), int(self.pop_i[k, PI_OFFSET] + self.pop_i[k, PI_SIZE]))

    def projection_synapses(self, j):
        """Synapses of projection j (exact for counted rules and direct rules; expected for fixed_probability)."""
        rule, n_pre, n_post = self.proj_i[j, JI_RULE], self.proj_i[j, JI_PRE_SIZE], self.proj_i[j, JI_POST_SIZE]
        if rule == RULE_FTN:
            return float(self.proj_i[j, JI_N])
        if rule == RULE_FOUT:
            return float(self.proj_i[j, JI_N] * n_pre)
        if rule == RULE_FIN:
            return float(self.proj_i[j, JI_N] * n_post)
        if rule == RULE_O2O:
            return float(n_pre)
        if rule == RULE_A2A:
            return float(n_pre) * float(n_post)
        return float(self.proj_f[j, JF_P]) * float(n_pre) * float(n_post)

    def n_synapses(self):
        """Total number of synapses (exact for counted rules and direct rules; expected for fixed_probability)."""
        return sum(self.projection_synapses(j) for j in range(self.proj_i.shape[0])) + sum(sl.n for sl in self.lists)

    def synapses_onto(self, units):
        """Synapses of the rules' projections onto the neurons of `units` (rows of self.units), before any
        row is counted: each projection's number (projection_synapses) times the share of its target
        population those neurons are (exact for a whole population; the synapse lists not included)."""
        held = np.bincount(units[:, UI_POP], weights=unit_sizes(units), minlength=self.n_pops)
        total = 0.0
        for j in range(self.proj_i.shape[0]):
            n_post = self.proj_i[j, JI_POST_SIZE]
            if n_post:
                total += self.projection_synapses(j) * held[self.proj_i[j, JI_POST_POP]] / n_post
        return total


def _delay_steps(d, dt):
    """A delay (ms) in steps as NEST rounds it, floor(d (1/dt) + 0.5), d clipped below at dt.
    Not d / dt: that lands just below a half step where d (1/dt) is one (1.15 ms at dt 0.1 ms
    is 11.499999999999998 steps, NEST's 11.5 rounds to 12). Every engine and the reference
    use the same expression."""
    return int(math.floor(max(d, dt) * (1.0 / dt) + 0.5))


def make_plan(network, seed, bound_inputs=True):
    """Validate `network` and flatten it. Allocates only small tables (no per-synapse data).

    With ring_bits 32 or 'auto', bound_inputs places every synapse once (per-row counts
    and targets, on the host CPU; kept in plan.counts for reuse) to bound each neuron's input
    and decide the ring width (input_bound.py). bound_inputs=False leaves that to the
    backend's build: for size and memory estimates without the pass."""
    network.validate()
    key0, key1 = streams.key_from_seed(seed)
    dt, C = network.dt, network.chunk_size
    pops = list(network.populations.values())
    names = [p.name for p in pops]
    index = {n: i for i, n in enumerate(names)}
    P = len(pops)
    sizes = np.array([p.size for p in pops], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])

    # projections sorted by target population (incoming lists are contiguous); FromList
    # projections are data, not rules: plan.lists (synapse_lists)
    projs = sorted(((i, pr) for i, pr in enumerate(network.projections) if not isinstance(pr.rule, FromList)),
                   key=lambda t: (index[t[1].target], t[0]))
    J = len(projs)
    proj_f = np.zeros((J, N_JF))
    proj_i = np.zeros((J, N_JI), dtype=np.int64)
    bound_terms = {(k, r): [] for k in range(P) for r in (REC_EX, REC_IN)}
    # a synapse delivers up to its source's multiplicity per step (spike sources' repeats)
    source_given = source_spikes(pops, offsets, key0, key1, dt)   # spike sources' spikes, pulse packets drawn
    mult = np.array([spike_multiplicity(g, dt) for g in source_given], dtype=np.int64)
    max_delay, min_delay = 1, None
    # ring slots per (target population, receptor): its longest incoming delay + 1 (ring_layout)
    ring_slots = np.ones((P, 2), dtype=np.int64)
    proj_min_delay = np.zeros(J, dtype=np.int64)
    for j, (_, pr) in enumerate(projs):
        a, b = index[pr.source], index[pr.target]
        n_pre, n_post = int(sizes[a]), int(sizes[b])
        rule = pr.rule
        nch = -(-n_post // C)
        rec = REC_EX if pr.receptor == "excitatory" else REC_IN
        w_sd, d_sd = spread(pr.weight), spread(pr.delay)
        kinds = draw_kinds(pr.weight, pr.delay)
        p = r = 0.0
        n = 0
        if isinstance(rule, FixedProbability):
            p = rule.p
            r = 0.0 if p >= 1.0 else (1.0 / float(plog1p(-p)) if p > 0 else 0.0)
            k_hard = n_pre
        elif isinstance(rule, FixedTotalNumber):
            n = rule.n
            k_hard = n
        elif isinstance(rule, FixedOutdegree):
            n = rule.n
            k_hard = n * n_pre
        elif isinstance(rule, FixedIndegree):
            n = rule.n
            k_hard = n
        elif isinstance(rule, OneToOne):
            k_hard = 1
        else:
            k_hard = n_pre
        counted = RULE_CODES[type(rule)] in COUNTED_RULES
        redraw = pr.delay.redraw_bound(f"projection {pr.source}->{pr.target}", dt) \
            if isinstance(pr.delay, Normal) and d_sd > 0 else 0.0
        proj_f[j] = [p, r, table_mean(pr.weight), w_sd, table_mean(pr.delay), d_sd, 0.0, redraw, kinds]
        proj_i[j] = [a, b, RULE_CODES[type(rule)], streams.tag(streams.DOM_SYN, pr.pid), n, rec, nch,
                     0 if counted else -1, offsets[a], n_pre, offsets[b], n_post, 0, nch if counted else 0, 1]
        w_max = stdp_bound(pr.stdp, weight_bound(table_mean(pr.weight), w_sd, kinds))
        bound_terms[(b, rec)].append((k_hard * int(mult[a]), w_max))
        d_lo, d_hi = delay_extremes(table_mean(pr.delay), d_sd, kinds)
        d_lo, d_hi = _delay_steps(d_lo, dt), _delay_steps(d_hi, dt)
        max_delay = max(max_delay, d_hi)
        ring_slots[b, rec] = max(ring_slots[b, rec], d_hi + 1)
        min_delay = d_lo if min_delay is None else min(min_delay, d_lo)
        proj_min_delay[j] = d_lo
    in_proj = np.arange(J, dtype=np.int64)
    lists = synapse_lists(network, index, key0, key1, dt)
    for sl in (sl for sl in lists if sl.n):   # their bounds and delays, as the rules' above
        most, w_max = sl.bound_term(int(sizes[sl.post_pop]))
        w_max = stdp_bound(network.projections[sl.index].stdp, w_max)
        bound_terms[(sl.post_pop, sl.rec)].append((most * int(mult[sl.pre_pop]), w_max))
        d_hi, d_lo = int(sl.delay.max()), int(sl.delay.min())
        max_delay = max(max_delay, d_hi)
        ring_slots[sl.post_pop, sl.rec] = max(ring_slots[sl.post_pop, sl.rec], d_hi + 1)
        min_delay = d_lo if min_delay is None else min(min_delay, d_lo)

    # Poisson inputs, grouped by target population (stable order of declaration)
    pins = sorted(enumerate(network.poisson_inputs), key=lambda t: (index[t[1].target], t[0]))
    if len(pins) >= 4096:
        raise ValueError(f"network: {len(pins)} Poisson inputs exceed the 4096 supported")
    pin_cdf = np.zeros((len(pins), poisson_input.KCAP + 1))
    pin_i = np.zeros((len(pins), QI_STOP + 1), dtype=np.int64)
    for q, (orig, pin) in enumerate(pins):
        lam = pin.indegree * pin.rate * dt * 1e-3
        lam_sub, n_sub = poisson_input.split(lam)
        rec = REC_EX if pin.receptor == "excitatory" else REC_IN
        pin_cdf[q] = poisson_input.cdf_table(lam_sub)
        pin_i[q] = [index[pin.target], n_sub, 0, rec, _delay_steps(pin.delay, dt), orig,
                    _steps_floor(pin.start, dt), _steps_floor(pin.stop, dt)]
        bound_terms[(index[pin.target], rec)].append((poisson_input.max_count(lam_sub, n_sub), abs(pin.weight)))

    # fixed-point scales
    scale_exp = np.zeros((P, 2), dtype=np.int64)
    for (k, rec), terms in bound_terms.items():
        try:
            scale_exp[k, rec] = choose_scale_exponent(terms)
        except ValueError as err:
            raise ValueError(f"population {names[k]!r}: {err}") from None

    dcs = sorted(network.dc_inputs, key=lambda d: index[d.target])
    dc_f, dc_i, dc_seg_i, dc_seg_f = dc_tables(dcs, dt)
    frozen = [z.target for z in network.noise_inputs if math.isinf(z.dt)]
    if len(frozen) != len(set(frozen)):   # a population has one I_e (add_population makes them)
        raise ValueError("network: a population has more than one frozen noise current (distributed I_e)")
    noise_f = np.array([[z.mean, z.std] for z in network.noise_inputs], dtype=np.float64).reshape(-1, 2)
    noise_i = np.array([[index[z.target], _steps_floor(z.start, dt), _steps_floor(z.stop, dt),
                         STEP_NEVER if math.isinf(z.dt) else round(z.dt / dt), q,
                         {"uniform": NZ_UNIFORM, "given": NZ_GIVEN}.get(z.kind, NZ_NORMAL), 0, 0]
                        for q, z in enumerate(network.noise_inputs)], dtype=np.int64).reshape(-1, N_NZ)
    # the bits of the inputs given some neurons: DC rows, then noise currents
    dc_mask = subset_mask([(dc_i[d], DI_MASKED, DI_MASK_AT, dc) for d, dc in enumerate(dcs)]
                          + [(noise_i[q], NZ_MASKED, NZ_MASK_AT, z) for q, z in enumerate(network.noise_inputs)],
                          index, offsets)

    pop_f = np.zeros((P, N_PF))
    pop_i = np.zeros((P, N_PI), dtype=np.int64)
    tgt_of_proj = proj_i[:, JI_POST_POP]
    tgt_of_pin = pin_i[:, QI_POP]
    tgt_of_dc = np.array([index[d.target] for d in dcs], dtype=np.int64)
    for k, pop in enumerate(pops):
        row, ref_steps = population_row(pop.model, pop.params, dt)
        pop_f[k, :N_PF_BEFORE_VTH] = row
        pop_i[k] = [ref_steps, offsets[k], sizes[k],
                    np.searchsorted(tgt_of_proj, k, "left"), np.searchsorted(tgt_of_proj, k, "right"),
                    np.searchsorted(tgt_of_pin, k, "left"), np.searchsorted(tgt_of_pin, k, "right"),
                    np.searchsorted(tgt_of_dc, k, "left"), np.searchsorted(tgt_of_dc, k, "right"),
                    -(-sizes[k] // C), int(pop.is_source), MODEL_CODES[pop.model], ring_slots[k, REC_EX],
                    ring_slots[k, REC_IN], 0, 0, VTH_FIXED,
                    int(any(name in (pop.per_neuron or {}) for name in row_params(pop.model)))]
        if pop.v_th is not None:   # a threshold per neuron (thresholds)
            normal = isinstance(pop.v_th, Normal)
            given = isinstance(pop.v_th, Values)
            pop_i[k, PI_VTH_DIST] = VTH_NORMAL if normal else VTH_GIVEN if given else VTH_UNIFORM
            pop_f[k, [PF_VTH_A, PF_VTH_B]] = (pop.v_th.mean, pop.v_th.sd) if normal else (pop.v_th.low, pop.v_th.high)
    ps_seg = poisson_source.segments(pops, pop_i, dt)

    units = []
    for k in range(P):
        for c in range(int(pop_i[k, PI_NCHUNK])):
            g0 = offsets[k] + c * C
            g1 = min(offsets[k] + sizes[k], g0 + C)
            units.append([k, c, g0, g1, g0, 0, 0, 0])
    units = np.array(units, dtype=np.int64).reshape(-1, 8)
    units[:, UI_RING_OFF] = unit_ring_offsets(pop_i, units)[:-1]
    sched_step, sched_gid = spike_schedule(source_given, offsets, units, dt)
    pop_of = np.repeat(np.arange(P, dtype=np.int32), sizes)

    spike_rec = spike_flags(network, index, offsets)
    vrec_gids, vrec_var, vrec_code, vrec_names = state_probes(network, index, offsets)

    stp_f, stp_i, proj_stp, list_stp = stp_tables(network, [pr for _, pr in projs], lists, index, offsets, mult)
    stdp = stdp_tables(network, [pr for _, pr in projs], lists, index, offsets, mult, dt)
    plan = BuildPlan(
        network=network, seed=seed, key0=key0, key1=key1, dt=dt, chunk_size=C, pop_names=names,
        pop_f=pop_f, pop_i=pop_i, proj_f=proj_f, proj_i=proj_i, in_proj=in_proj, pin_i=pin_i, pin_cdf=pin_cdf,
        dc_f=dc_f, dc_i=dc_i, dc_seg_i=dc_seg_i, dc_seg_f=dc_seg_f, dc_mask=dc_mask, noise_f=noise_f,
        noise_i=noise_i, units=units, sched_step=sched_step, sched_gid=sched_gid, ps_seg=ps_seg, pop_of=pop_of,
        scale_exp=scale_exp,
        max_delay_steps=max_delay, min_delay_steps=min_delay or 1, ring_len=max_delay + 1,
        proj_min_delay=proj_min_delay, lists=lists, stp_f=stp_f, stp_i=stp_i, proj_stp=proj_stp, list_stp=list_stp,
        **dict(zip(("stdp_f", "stdp_i", "proj_stdp", "list_stdp", "stdp_tau_minus", "stdp_tics"), stdp)),
        counts=None, spike_rec=spike_rec, vrec_gids=vrec_gids, vrec_var=vrec_var,
        vrec_code=vrec_code, vrec_names=vrec_names, vrec_sampling=StateSampling.from_network(network),
        info={"scale_exp64": scale_exp.copy(), "multiplicity": mult})
    from .count_layout import hold_counts
    hold_counts(plan, plan.units)   # every chunk's row counts (16 bits a cell where they fit)
    check_per_neuron(plan)   # values drawn per neuron: before anything large is allocated
    apply_scales(plan, scale_exp)
    if network.ring_bits == 64:
        plan.ring_bits = 64
    elif bound_inputs:
        from .input_bound import decide_ring_bits
        decide_ring_bits(plan)
    return plan


def apply_scales(plan, scale_exp):
    """Set the fixed-point exponents k (scale 2**k per pA) of every (population, receptor)
    and what follows from them: the projections' scales, the Poisson inputs' integer weights
    and the populations' 1 / scale."""
    plan.scale_exp = np.asarray(scale_exp, dtype=np.int64).copy()
    for j in range(plan.proj_i.shape[0]):
        plan.proj_f[j, JF_SCALE] = 2.0 ** plan.scale_exp[plan.proj_i[j, JI_POST_POP], plan.proj_i[j, JI_REC]]
    for q in range(plan.pin_i.shape[0]):
        pin = plan.network.poisson_inputs[int(plan.pin_i[q, QI_INDEX])]
        sc = 2.0 ** plan.scale_exp[plan.pin_i[q, QI_POP], plan.pin_i[q, QI_REC]]
        plan.pin_i[q, QI_WINT] = int(math.floor(pin.weight * sc + 0.5))
    plan.pop_f[:, PF_INVSC_EX] = 2.0 ** -plan.scale_exp[:, REC_EX].astype(np.float64)
    plan.pop_f[:, PF_INVSC_IN] = 2.0 ** -plan.scale_exp[:, REC_IN].astype(np.float64)


def _steps_floor(t, dt):
    if math.isinf(t):
        return STEP_NEVER
    return int(math.floor(t / dt + 0.5))


# the per-neuron state arrays of every engine (read_state / write_state, checkpoints): V (mV
# relative to E_L), the currents I_ex, I_in (pA; nS for conductance neurons), the refractory
# count, and the alpha models' derivatives dJ_ex, dJ_in (pA/ms; nS/ms for iaf_cond_alpha; 0
# for other models). The AdEx models keep their adaptation current w (pA) in dj_ex and their
# solver's step size (ms; 0 before the first step) in dj_in.
NEURON_STATE = ("v", "i_ex", "i_in", "refr", "dj_ex", "dj_in")


def unit_sizes(units):
    """Neurons of every unit (rows of a units table)."""
    return units[:, UI_GID_END] - units[:, UI_GID_START]


def unit_ring_offsets(pop_i, units):
    """Start of every unit's block in a process's input ring (int entries), and the ring's
    size as the last element. A unit of n neurons of population k holds its excitatory
    slots, then its inhibitory ones, each slot n entries long: PI_RING_EX and PI_RING_IN
    slots, the longest delay of that receptor's incoming projections + 1 (distsnn.build.ring_layout)."""
    slots = pop_i[units[:, UI_POP], PI_RING_EX] + pop_i[units[:, UI_POP], PI_RING_IN]
    return np.concatenate([[0], np.cumsum(unit_sizes(units) * slots)]).astype(np.int64)

