"""The step setups of a GpuSimulator (step_setups.py): which one its steps are launched with,
delivery's grid and item tables for each, and their tuning on a run's first steps. A mixin of
GpuSimulator (simulator.py), which holds the device arrays the launches are bound to."""
import numpy as np

from .delivery_items import table_bytes
from .step_setups import TRIAL_ROUNDS, TUNE_SHARE, StepLaunches, Tuner, candidates, item_tables, trial_steps


class SetupChoice:
    """The setup in use (`use`, `setup`, and its items, team and step loop as attributes), and
    the tuning (`tune_for`; the run's blocks go through `_block`). Needs of its class: dev,
    plan, units, connectivity, log, clock, _current (None before the first `use`), _enqueue,
    _flush and _check_fits."""

    def delivery_grid(self, blocks_per_sm, team=None):
        """Delivery's grid, blocks_per_sm blocks per multiprocessor: blocks stride over
        (spike, share) work, with one event counter per team of `team` threads (default: the
        device's) in the grid; `events` keeps its count. The launches prepared before hold the
        old counters: they are dropped, and the current setup's made again."""
        d = self.dev
        self.deliver_blocks_per_sm = blocks_per_sm
        self.deliver_grid = blocks_per_sm * d.multiprocessors
        old = getattr(self, "d_events", None)
        self.d_events = d.zeros(self.deliver_grid * (d.block_threads // (d.team if team is None else team)), np.uint64)
        if old is not None:
            self.d_events[:1] = old.sum()   # the events so far (on the device: no copy)
        self._prepared = {}
        if self._current is not None:
            self.use(self._current.setup)

    def item_tables(self, team, rounds):
        """Delivery's items (ptr, records) on the device for teams of `team` threads and rows in
        parts of `rounds` rounds (step_setups.item_tables), made once for each pair that
        differs (whole rows do not depend on the team)."""
        key = self._table_key(team, rounds)
        if key not in self._tables:
            self._tables[key] = item_tables(self, team, rounds)
        return self._tables[key]

    def _table_key(self, team, rounds):
        return (team if rounds else 0, rounds)

    def use(self, setup):
        """Launch the steps from now on with `setup` (step_setups.Setup), its launches prepared
        once. Between blocks of steps only (every block starts at parity 0)."""
        d = self.dev
        if self.d_events.size * setup.team < self.deliver_grid * d.block_threads:   # a counter per team
            self.delivery_grid(self.deliver_blocks_per_sm, setup.team)
        if setup not in self._prepared:
            self._prepared[setup] = StepLaunches(self, setup)
        self._current = self._prepared[setup]

    @property
    def setup(self):
        """The step setup in use (step_setups.Setup)."""
        return self._current.setup

    @property
    def prepared(self):
        """The launches of the setup in use (step_setups.StepLaunches)."""
        return self._current

    # the current setup's delivery items, team and step loop (step_setups.StepLaunches)
    d_items = property(lambda self: self._current.items)
    split = property(lambda self: self._current.split)
    team = property(lambda self: self._current.team)
    row_rounds = property(lambda self: self._current.row_rounds)
    loop_kernel = property(lambda self: self._current.loop_kernel)
    loop_block = property(lambda self: self._current.loop_block)
    loop_grid = property(lambda self: self._current.loop_grid)

    def tune_for(self, n_steps, trial=None, rounds=TRIAL_ROUNDS):
        """Before a run of n_steps steps: where the device asks for it (step_setups.tune_choice)
        and the trials take at most TUNE_SHARE of the steps, try the step setups
        (step_setups.candidates) on the run's first steps, in trial blocks of `trial` steps
        (step_setups.trial_steps), and go on with the fastest. Their tables and launches are
        made here, before the steps. Returns the Tuner, or None."""
        self.tuner = None
        if not getattr(self.dev, "tune", False):
            return None
        setups = candidates(self)
        tuner = Tuner(setups, trial_steps(trial if trial is not None else getattr(self.dev, "tune_steps", None)),
                      rounds)
        if len(setups) < 2:
            return None
        if tuner.trial_steps > TUNE_SHARE * n_steps:
            self.log(f"step setups not tuned: their trials take {tuner.trial_steps} steps, more than "
                     f"{TUNE_SHARE:.0%} of the run's {n_steps}")
            return None
        keys = {self._table_key(s.team, s.row_rounds) for s in setups} - {self._table_key(self.team, self.row_rounds)}
        self._check_fits("delivery items of the step setups tried",
                         sum(table_bytes(self.plan, self.units, *k, self.connectivity) for k in keys))
        current = self.setup
        # the smallest team first: its event counters (use) are then made once, before the others' launches
        for s in sorted(setups, key=lambda s: s.team):
            self.use(s)
        self.use(current)
        self.tuner = tuner
        self.log(f"tuning the step launches: {len(setups)} setups, {tuner.trial_steps} steps of trials")
        return tuner

    def _settle(self):
        """The tuner has chosen: its setup from now on; the others' launches and tables go."""
        chosen = self.tuner.chosen
        self.use(chosen)
        self._prepared = {chosen: self._current}
        key = self._table_key(chosen.team, chosen.row_rounds)
        self._tables = {key: self._tables[key]}
        times = "; ".join(f"{r['setup']}: {r['us_per_step']:.2f}" for r in self.tuner.report()["setups"])
        self.log(f"step setups tried (us per step): {times}; chosen: {chosen.describe()}")

    def _block(self, n):
        """Run a block of at most n steps (fewer while the tuner tries a setup) and flush it."""
        tuner = self.tuner
        if tuner is None or tuner.done:
            self._enqueue(n)
            return self._flush()
        self.use(tuner.current)
        t0 = self.clock()
        self._enqueue(min(n, tuner.steps_left))
        flushed = self._flush()
        tuner.record(flushed[0], self.clock() - t0)
        if tuner.done:
            self._settle()
        return flushed

    @property
    def step_launches(self):
        """How the steps are launched: the step loop (one launch per block of steps), CUDA
        graphs, or separate launches."""
        return self._current.describe(getattr(self.dev, "use_graphs", False))

    @property
    def step_kernels(self):
        """The entry points a step runs: the step loop's, or those of its separate launches
        in order."""
        return self._current.kernels()
