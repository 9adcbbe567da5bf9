"""simulate(): build a network on a backend, run it, return spikes, voltages and timers."""
import math
from dataclasses import dataclass, field

import numpy as np

from ..build import make_plan
from ..build import plan as bp
from .progress import Progress
from .timers import PhaseTimers

BACKENDS = ("auto", "cpu")
BLOCK_MS = 50.0  # biological time per compiled call (progress granularity)


@dataclass
class RunResult:
    plan: object
    t_sim: float                  # ms
    n_steps: int
    spike_gids: np.ndarray        # int64, sorted by (step, gid)
    spike_steps: np.ndarray       # int64 step of emission; spike time = (step + 1) * dt
    vrec_gids: np.ndarray
    vrec: np.ndarray              # (n_steps, n_recorded) mV
    events: int                   # synaptic events delivered
    backend: str
    connectivity: str
    n_synapses: float
    timers: PhaseTimers = field(default_factory=PhaseTimers)

    @property
    def dt(self):
        return self.plan.dt

    def spikes(self, population):
        """(population-local node ids, spike times in ms) of one population, sorted by time."""
        sl = self.plan.pop_slice(population)
        sel = (self.spike_gids >= sl.start) & (self.spike_gids < sl.stop)
        return self.spike_gids[sel] - sl.start, (self.spike_steps[sel] + 1) * self.plan.dt

    def recorded_count(self, population):
        sl = self.plan.pop_slice(population)
        return int(self.plan.spike_rec[sl].sum())

    def mean_rates(self, t_start=0.0):
        """Mean firing rate (Hz) of the recorded neurons of each population, over [t_start, t_sim]."""
        rates = {}
        span = (self.t_sim - t_start) * 1e-3
        for name in self.plan.pop_names:
            n = self.recorded_count(name)
            _, times = self.spikes(name)
            rates[name] = float(np.sum(times > t_start) / (n * span)) if n and span > 0 else float("nan")
        return rates


def _choose_backend(backend, log):
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        log("backend auto: no GPU backend in this version, using the CPU")
    return "cpu"


def simulate(network, t_sim, seed=1, backend="auto", connectivity="procedural", progress=True, log=None):
    """Simulate `network` for t_sim ms. Returns a RunResult.

    seed: integer in [0, 2**64) keying every random stream; backend: 'auto' or 'cpu';
    connectivity: 'procedural' (rows regenerated at each spike) or 'stored' (CSR).
    """
    log = log or (lambda msg: None)
    if isinstance(t_sim, bool) or not isinstance(t_sim, (int, float)) or not math.isfinite(t_sim) or t_sim <= 0:
        raise ValueError(f"t_sim must be a positive number of ms, got {t_sim!r}")
    timers = PhaseTimers()
    backend = _choose_backend(backend, log)
    from ..backends.cpu.simulator import CpuSimulator
    with timers.phase("build"):
        plan = make_plan(network, seed)
        sim = CpuSimulator(plan, connectivity, log=log)
        sim.build()
    n_steps = int(round(t_sim / plan.dt))
    cap = max(4 * plan.n_neurons, 1024)
    out_gid = np.empty(cap, dtype=np.int64)
    out_step = np.empty(cap, dtype=np.int64)
    vrec = np.empty((n_steps, plan.vrec_gids.size))
    n_out = 0
    block = max(1, int(round(BLOCK_MS / plan.dt)))
    bar = Progress(n_steps * plan.dt, enabled=progress)
    with timers.phase("simulate"):
        done = 0
        while done < n_steps:
            want = min(block, n_steps - done)
            got, n_out = sim.run(want, out_gid, out_step, n_out, vrec[done:done + want])
            done += got
            if got < want:  # the spike buffer may overflow in the next step: grow it
                out_gid = np.concatenate([out_gid, np.empty_like(out_gid)])
                out_step = np.concatenate([out_step, np.empty_like(out_step)])
            bar.update(done * plan.dt)
        bar.close()
    # spikes come out ordered by step, then by gid (unit order), as the output requires
    vrec += plan.pop_f[plan.pop_of[plan.vrec_gids], bp.PF_EL][None, :]
    return RunResult(plan=plan, t_sim=n_steps * plan.dt, n_steps=n_steps,
                     spike_gids=out_gid[:n_out].copy(), spike_steps=out_step[:n_out].copy(),
                     vrec_gids=plan.vrec_gids, vrec=vrec, events=sim.events, backend=backend,
                     connectivity=connectivity,
                     n_synapses=float(sim.n_synapses) if sim.n_synapses is not None else plan.n_synapses(),
                     timers=timers)
