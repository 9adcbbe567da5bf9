"""Cost model of a piece of network: neuron updates, incoming synaptic events, memory.

Time per biological second of a piece on one CPU thread:
    seconds = update_s * neurons * steps_per_s + event_s * expected_events_per_s
with update_s and event_s measured on the CPU backend (full-scale microcircuit, 2 threads of
an AMD EPYC: 31 ns per neuron update with Poisson input, 60 ns per synaptic event,
procedural). The AdEx models' adaptive solver costs more per update: 410 ns measured the same
way (20,000 neurons with Poisson input and NEST's tau_syn_ex of 0.2 ms, which makes the solver
take about 3 steps per time step); aeif_psc_delta, without synaptic time constants, 110 ns
subthreshold and 150 ns firing at 24 Hz (measured alike, 2026-11-24). Expected events come
from expected in-degrees and expected source rates (the model's
`metadata["expected_rates_hz"]`, else a Poisson source's rate, else `default_rate_hz`).
"""
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class CostModel:
    update_s: float = 31e-9          # s per neuron update (with Poisson input)
    event_s: float = 60e-9           # s per synaptic event (row regeneration + accumulation)
    default_rate_hz: float = 5.0     # source rate when the model gives none
    # neuron models whose updates cost other than update_s (s per neuron update)
    model_update_s: dict = field(default_factory=lambda: {"aeif_cond_exp": 410e-9, "aeif_psc_exp": 410e-9,
                                                          "aeif_psc_delta": 150e-9})

    def update_cost_s(self, model):
        """Seconds per update of one neuron of `model` (a neurons.MODEL_CODES name)."""
        return self.model_update_s.get(model, self.update_s)


@dataclass
class Piece:
    """A contiguous range of post chunks [chunk0, chunk1) of one population."""
    population: int
    name: str
    chunk0: int
    chunk1: int
    neurons: int
    synapses: float                  # expected incoming synapses
    events_per_s: float              # expected incoming synaptic events per biological second
    bytes: int                       # state + input buffers + row counts
    cost_s: float                    # modelled seconds per biological second
    sources: frozenset = field(default_factory=frozenset)   # populations projecting here

    def split(self, chunk_size, pop_size):
        """Two pieces cut at the middle chunk boundary, quantities shared in proportion."""
        mid = (self.chunk0 + self.chunk1) // 2
        first = min(mid * chunk_size, pop_size) - self.chunk0 * chunk_size
        frac = first / self.neurons
        parts = []
        for c0, c1, f in ((self.chunk0, mid, frac), (mid, self.chunk1, 1.0 - frac)):
            parts.append(Piece(self.population, self.name, c0, c1, int(round(self.neurons * f)),
                               self.synapses * f, self.events_per_s * f, int(self.bytes * f), self.cost_s * f,
                               self.sources))
        parts[1].neurons = self.neurons - parts[0].neurons
        return parts


def expected_indegrees(plan):
    """Expected number of synapses onto one neuron, per projection (BuildPlan order)."""
    from distsnn.build import plan as bp
    k = np.zeros(plan.proj_i.shape[0])
    for j in range(k.size):
        rule, n_pre, n_post = plan.proj_i[j, bp.JI_RULE], plan.proj_i[j, bp.JI_PRE_SIZE], plan.proj_i[j, bp.JI_POST_SIZE]
        n = plan.proj_i[j, bp.JI_N]
        if n_post == 0:
            continue
        k[j] = {bp.RULE_FTN: n / n_post, bp.RULE_FOUT: n * n_pre / n_post, bp.RULE_FIN: float(n), bp.RULE_O2O: 1.0,
                bp.RULE_A2A: float(n_pre), bp.RULE_FP: plan.proj_f[j, bp.JF_P] * n_pre}[rule]
    return k


def expected_rates_hz(plan, model=CostModel()):
    """Expected firing rate (Hz) of every population, by name: the model's
    metadata["expected_rates_hz"], else a Poisson source's highest rate (an upper bound;
    rate + |amplitude| for a sinusoidal one, p_copy * rate for a MIP one), else
    model.default_rate_hz."""
    given = plan.network.metadata.get("expected_rates_hz", {})
    pops = plan.network.populations
    return {n: given.get(n, _highest_rate(pops[n]) if pops[n].model == "poisson_source" else model.default_rate_hz)
            for n in plan.pop_names}


def _highest_rate(pop):
    """A Poisson source population's highest rate (Hz); a MIP source's, p_copy times its parent's."""
    top = float(pop.rate_values.max()) * (pop.p_copy if pop.p_copy is not None else 1.0)
    return top + abs(pop.sinusoid[0]) if pop.sinusoid is not None else top


def population_pieces(plan, model=CostModel()):
    """One Piece per population (all its chunks), from a BuildPlan."""
    from distsnn.build import plan as bp
    from distsnn.build.count_layout import wide_cells
    rates = expected_rates_hz(plan, model)
    rate = np.array([rates[n] for n in plan.pop_names])
    kin = expected_indegrees(plan)
    steps_per_s = 1000.0 / plan.dt
    wide = wide_cells(plan)   # the counts' cells: 4 B where wide, else 2
    pieces = []
    for p, name in enumerate(plan.pop_names):
        size = int(plan.pop_i[p, bp.PI_SIZE])
        nch = int(plan.pop_i[p, bp.PI_NCHUNK])
        incoming = [j for j in range(kin.size) if plan.proj_i[j, bp.JI_POST_POP] == p]
        syn = sum(kin[j] * size for j in incoming)
        ev = sum(kin[j] * size * rate[plan.proj_i[j, bp.JI_PRE_POP]] for j in incoming)
        held_bytes = sum((4 if wide[j] else 2) * bp.count_cells(plan.proj_i[j, bp.JI_RULE],
                                                                 plan.proj_i[j, bp.JI_PRE_SIZE], nch)
                          for j in incoming if plan.proj_i[j, bp.JI_COUNT_OFF] >= 0)
        lists = [sl for sl in plan.lists if sl.post_pop == p]   # synapse lists (FromList): held, 16 B each
        syn += sum(sl.n for sl in lists)
        ev += sum(sl.n * rate[sl.pre_pop] for sl in lists)
        held_bytes += 16 * sum(sl.n for sl in lists)
        slots = int(plan.pop_i[p, bp.PI_RING_EX] + plan.pop_i[p, bp.PI_RING_IN])   # build.ring_layout
        nbytes = size * (32 + plan.ring_item_bytes * slots) + held_bytes
        neuron_model = plan.network.populations[name].model
        cost = model.update_cost_s(neuron_model) * size * steps_per_s + model.event_s * ev
        sources = frozenset([int(plan.proj_i[j, bp.JI_PRE_POP]) for j in incoming] + [sl.pre_pop for sl in lists])
        pieces.append(Piece(p, name, 0, nch, size, syn, ev, nbytes, cost, sources))
    return pieces
