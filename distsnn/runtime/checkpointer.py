"""The checkpoints of a run (io.checkpoint) as simulate() takes them, each after the
on_checkpoint hook has been given the window of steps since the previous one."""
import numpy as np

from ..comm.faults import maybe_inject_fault
from ..comm.reduce import max_over_ranks, sum_over_ranks
from .recorder import recorded_offset
from .result import RunResult, total_synapses
from .timers import PhaseTimers


class Checkpointer:
    """Writes the run's checkpoints (periodic ones and the last), each preceded by the
    on_checkpoint hook; a failed write is logged and remembered, and the run goes on."""

    def __init__(self, path, sim, comm, backend, connectivity, hook, timers, log):
        self.path, self.sim, self.comm, self.hook, self.timers, self.log = path, sim, comm, hook, timers, log
        self.backend, self.connectivity = backend, connectivity
        self.first_step = sim.t                   # absolute step of the run's local step 0
        self.written = self.error = None
        self.events_before = 0                    # synaptic events (all ranks) up to the previous window
        self.simulate_before = 0.0                # this rank's simulate time (s) up to the previous window

    def save(self, out, n_out, rec, lo, hi):
        """The checkpoint after the run's local steps [lo, hi) (spikes in out[:, :n_out],
        sampled state of [lo, hi) in the StateRecorder rec, V without E_L), the hook first."""
        from ..io import checkpoint as ckpt
        extra = {}
        if self.hook is not None:
            with self.timers.phase("write"):
                extra = self.hook(self._window(out, n_out, rec, lo, hi)) or {}
        metadata = {"backend": self.backend, "connectivity": self.connectivity, **extra}
        with self.timers.phase("checkpoint"):
            try:
                self.written = ckpt.write_checkpoint(self.path, self.sim, self.comm, metadata)
                self.log(f"wrote checkpoint {self.path} at t = {self.written['t_ms']:g} ms")
                maybe_inject_fault(self.comm, "checkpointed")
            except ckpt.CheckpointError as err:   # every rank alike; the previous checkpoint is intact
                self.error = self.error or str(err)
                self.log(f"error: {err}")

    def _window(self, out, n_out, rec, lo, hi):
        """RunResult of the local steps [lo, hi): this rank's spikes, its recorded state and
        the synaptic events (all ranks) delivered in them."""
        sim, comm, plan = self.sim, self.comm, self.sim.plan
        steps = out[1][:n_out]
        # this process's spikes are sorted by step: the window is one slice of them
        a, b = (int(np.searchsorted(steps, self.first_step + k, side="left")) for k in (lo, hi))
        total = sum_over_ranks(sim.events, comm)
        events, self.events_before = total - self.events_before, total
        # the window's simulate time (s), of its slowest rank: what the job waited for; kept with
        # the segment, so that a run resumed over several jobs still knows its whole time
        spent = self.timers.seconds.get("simulate", 0.0)
        window_timers = PhaseTimers()
        window_timers.seconds["simulate"] = max_over_ranks(spent - self.simulate_before, comm)
        self.simulate_before = spent
        vrec, vrec_steps = rec.taken()
        first = np.searchsorted(vrec_steps, self.first_step + lo)   # the window's rows (all, unless the run keeps them)
        return RunResult(plan=plan, t_sim=(hi - lo) * plan.dt, n_steps=hi - lo,
                         spike_gids=out[0][a:b].copy(), spike_steps=steps[a:b].copy(), vrec_gids=sim.vrec_gids,
                         vrec_var=sim.vrec_var, vrec=vrec[first:] + recorded_offset(plan, sim), events=events,
                         backend=self.backend, connectivity=self.connectivity,
                         n_synapses=total_synapses(sim, comm), comm=comm,
                         first_step=self.first_step + lo, vrec_steps=vrec_steps[first:].copy(), timers=window_timers)

    def report(self, restored):
        """RunResult.checkpoint: 'restart' (manifest read), 'written' (the last manifest
        written), 'error' (why the first failed write failed)."""
        return {k: v for k, v in (("restart", restored), ("written", self.written), ("error", self.error)) if v}
