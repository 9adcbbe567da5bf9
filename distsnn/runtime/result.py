"""RunResult: what simulate() returns (spikes, recorded state, counters, timers)."""
from dataclasses import dataclass, field

import numpy as np

from ..comm.reduce import sum_over_ranks
from .timers import PhaseTimers


@dataclass
class RunResult:
    """Spikes (this rank's neurons only when distributed), recorded state, counters and timers."""
    plan: object
    t_sim: float                  # ms simulated by this run (from t_start to t_stop)
    n_steps: int
    spike_gids: np.ndarray        # int64, sorted by (step, gid)
    spike_steps: np.ndarray       # int64 step of emission; spike time = (step + 1) * dt
    vrec_gids: np.ndarray         # recorded state, one column per probe: its neuron
    vrec_var: np.ndarray          # ... and its variable (index into plan.vrec_names)
    vrec: np.ndarray              # (samples, n_probes) in the variable's units (V_m mV)
    events: int                   # synaptic events delivered (all ranks)
    backend: str
    connectivity: str
    n_synapses: float
    timers: PhaseTimers = field(default_factory=PhaseTimers)
    comm: object = None
    exchange: dict = field(default_factory=dict)
    partition: object = None
    device: dict = field(default_factory=dict)   # GPU backends: name, memory, NVML energy and power
    first_step: int = 0           # absolute step the run started at (> 0 after a restart)
    # {'restart': manifest read, 'written': manifest written, 'error': why writing it failed}
    checkpoint: dict = field(default_factory=dict)
    # False: simulate(keep_recorded=False) handed the spikes and recorded state to on_checkpoint
    # only; spike_gids, spike_steps and vrec are then empty
    kept: bool = True
    # absolute step of each row of vrec (plan.vrec_sampling): every step of the run by default
    vrec_steps: np.ndarray = None
    # this process's STDP synapses at the end (backends.cpu.stdp_state.PLASTIC_SYNAPSE); None without STDP
    plastic: np.ndarray = None
    # spikes grouped by population (_population_groups), made when first asked for
    _groups: tuple = field(default=None, repr=False, compare=False)

    def __repr__(self):   # the arrays and the plan would print hundreds of lines
        state = f", state {self.vrec.shape[1]} columns x {self.vrec.shape[0]} samples" if self.vrec.size else ""
        rank = f", rank {self.rank} of {self.comm.Get_size()}" if self.comm is not None else ""
        return (f"RunResult({self.backend}, {self.connectivity}, {self.t_start:g} to {self.t_stop:g} ms "
                f"({self.n_steps} steps), {self.spike_gids.size} spikes{state}, {self.events} synaptic events{rank})")

    @property
    def dt(self):
        return self.plan.dt

    @property
    def t_start(self):
        """Biological time (ms) the run started at: 0, or the checkpoint's time after a restart."""
        return self.first_step * self.plan.dt

    @property
    def t_stop(self):
        """Biological time (ms) the run ended at."""
        return (self.first_step + self.n_steps) * self.plan.dt

    @property
    def rank(self):
        return self.comm.Get_rank() if self.comm is not None else 0

    def spikes(self, population):
        """(population-local node ids, spike times in ms) of this process's spikes of one population."""
        from ..io.spike_groups import population_spikes
        return population_spikes(self.plan, self.spike_gids, self.spike_steps, self._population_groups(),
                                 self.plan.pop_index(population))

    def _population_groups(self):
        """io.spike_groups.population_groups of the spikes, sorted once (a writer or the rates
        ask for every population in turn), again if the spike array was replaced (the cache
        holds the array it grouped: an identity test, which a new array cannot pass)."""
        from ..io.spike_groups import population_groups
        if self._groups is None or self._groups[0] is not self.spike_gids:
            self._groups = (self.spike_gids, population_groups(self.plan, self.spike_gids))
        return self._groups[1]

    def state(self, population, variable="V_m"):
        """(population-local node ids, times in ms, values (time x node)) of one recorded
        state variable of one population, for this process's neurons; the value at time t is
        the state after the step that ends at t (as NEST's multimeter reports it), at the
        times Network.sample_state chose (default: every step)."""
        names = self.plan.vrec_names
        if variable not in names:
            raise ValueError(f"{variable!r} is not recorded in this run; recorded: {', '.join(names) or 'nothing'}")
        sl = self.plan.pop_slice(population)
        cols = np.nonzero((self.vrec_var == names.index(variable)) & (self.vrec_gids >= sl.start)
                          & (self.vrec_gids < sl.stop))[0]
        times = (self.vrec_steps + 1) * self.plan.dt
        return self.vrec_gids[cols] - sl.start, times, self.vrec[:, cols]

    def all_spikes(self):
        """(gids, steps) of every rank, sorted by (step, gid), on every rank."""
        if self.comm is None or self.comm.Get_size() == 1:
            return self.spike_gids, self.spike_steps
        g = np.concatenate(self.comm.allgather(self.spike_gids))
        s = np.concatenate(self.comm.allgather(self.spike_steps))
        order = np.lexsort((g, s))
        return g[order], s[order]

    def weights(self, source, target):
        """(source ids, target ids (population-local), delays (ms), weights) of the STDP
        synapses from population `source` to `target` at the end of the run, sorted by (source,
        target, delay, weight); this process's synapses only when distributed (those onto its
        neurons)."""
        if self.plastic is None:
            raise ValueError("this run has no STDP synapses")
        a, b = self.plan.pop_slice(source), self.plan.pop_slice(target)
        p = self.plastic
        p = p[(p["source"] >= a.start) & (p["source"] < a.stop) & (p["target"] >= b.start) & (p["target"] < b.stop)]
        p = p[np.lexsort((p["weight"], p["delay"], p["target"], p["source"]))]
        return (p["source"].astype(np.int64) - a.start, p["target"].astype(np.int64) - b.start,
                p["delay"] * self.plan.dt, p["weight"].copy())

    def recorded_count(self, population):
        sl = self.plan.pop_slice(population)
        return int(self.plan.spike_rec[sl].sum())

    def mean_rates(self, t_start=0.0):
        """Mean firing rate (Hz) of the recorded neurons of each population, over
        [max(t_start, self.t_start), self.t_stop] (ms)."""
        if not self.kept:
            raise ValueError("this run kept no spikes (keep_recorded=False): they are in the files its "
                             "on_checkpoint hook wrote; compute the rates from those (io.segments.mean_rates)")
        from ..analysis.statistics import population_rates
        t_start = max(float(t_start), self.t_start)
        names = self.plan.pop_names
        late = (self.spike_steps + 1) * self.plan.dt > t_start
        counts = sum_over_ranks(np.bincount(self.plan.pop_of[self.spike_gids[late]], minlength=len(names))
                                .astype(np.int64), self.comm)
        return population_rates(dict(zip(names, counts.tolist())), {n: self.recorded_count(n) for n in names},
                                t_start, self.t_stop)


def total_synapses(sim, comm):
    """The network's synapses: those the engines hold, summed over ranks (collective), or
    where an engine does not count them (procedural), the plan's number (expected for
    fixed_probability rules)."""
    held = sum_over_ranks(sim.n_synapses, comm) if sim.n_synapses is not None else None
    return float(held) if held is not None else sim.plan.n_synapses()
