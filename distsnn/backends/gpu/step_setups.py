"""How a GpuSimulator launches its steps, and the choice among the ways to.

A Setup is one way: steps as separate launches (replayed as CUDA graphs) or blocks of steps as
one launch of the step loop, delivery's team (threads per row) and its rows whole or in parts
(delivery_items.row_parts, stored_parts). Every setup gives the same spikes, voltages and events (the
emulated device's tests); only the time differs, by device and by model. StepLaunches holds
one setup's launches on one simulator: its delivery items on the device, its bound launches
and graphs, or the step loop's shape.

The Tuner picks a setup by timing it: given the candidates (candidates()), it hands out
trial blocks of `trial` steps, each candidate in turn, over a warm-up round (binding,
graph capture, first touches: not counted) and `rounds` timed rounds, each round starting one
candidate further on, so that the model's activity changing over the trials weighs on all
alike. The candidate with the smallest median time per step wins and the run goes on with it.
Off unless asked for (DISTSNN_GPU_TUNE=1, or the device's `tune`): what it picks on a GPU has
not been measured yet. DISTSNN_GPU_TUNE_STEPS sets the trial blocks' length.
"""
import os
from dataclasses import dataclass

import numpy as np

from . import launches
from .delivery_items import procedural_items, procedural_records, stored_items, stored_records, teams_per_spike

TRIAL_STEPS = 100     # steps per trial block (two of the graphs' 50 steps; the step loop's launch)
TRIAL_ROUNDS = 3      # timed rounds (each candidate's median of three); one warm-up round before
TUNE_SHARE = 0.1      # a run is tuned only if its trials take at most this share of its steps
TUNE_ROUNDS = 2       # rounds of a team per part of a row, the parts tried where rows are whole
MIN_TUNE_TEAM = 2     # the smallest team tried (half the device's, where that is at least this)


def trial_steps(trial=None):
    """Steps per trial block: given, or DISTSNN_GPU_TUNE_STEPS, else TRIAL_STEPS."""
    if trial is None:
        trial = launches.env_int("DISTSNN_GPU_TUNE_STEPS", TRIAL_STEPS, "steps")
    if trial < 1:
        raise ValueError(f"a trial block of the step setups needs at least one step, got {trial}")
    return trial


def tune_choice(tune=None):
    """Whether a device, real or emulated, tunes its runs' setups: given, or DISTSNN_GPU_TUNE=1
    (off by default until a GPU has run it)."""
    if tune is None:
        tune = os.environ.get("DISTSNN_GPU_TUNE", "0") == "1"
    return bool(tune)


@dataclass(frozen=True)
class Setup:
    """One way of launching steps: step_loop (blocks of steps as one launch where the model
    allows: launches.loop_kernel), team (delivery's threads per row, a divisor of the block)
    and row_rounds (rounds of a team per part of a row; 0: whole rows)."""
    step_loop: bool
    team: int
    row_rounds: int

    def describe(self):
        rows = f"rows in parts of {self.row_rounds} rounds" if self.row_rounds else "whole rows"
        return f"{'step loop' if self.step_loop else 'separate launches'}, team {self.team}, {rows}"


def device_setup(sim):
    """The setup the device asks for (its step_loop, team and row_rounds)."""
    d = sim.dev
    return Setup(bool(getattr(d, "step_loop", False)), d.team, d.row_rounds)


def candidates(sim):
    """The setups worth trying on this simulator, its device's first: the step loop on and off
    (where the model allows it), the device's team and half of it (where that is at least
    MIN_TUNE_TEAM), and rows whole and in parts of TUNE_ROUNDS rounds (where that cuts some
    row, for that team). Setups that would launch the same work are listed once."""
    base = device_setup(sim)
    loops = [base.step_loop] + ([not base.step_loop] if launches.loop_kernel(sim, True) is not None else [])
    teams = [base.team] + ([base.team // 2] if base.team % 2 == 0 and base.team // 2 >= MIN_TUNE_TEAM else [])
    whole = _item_count(sim, base.team, 0)   # (whole rows do not depend on the team)
    rounds = {}   # by team: the rounds worth trying, those that cut no row as whole rows (0)
    for team in teams:
        tried = [base.row_rounds] + [r for r in (0, TUNE_ROUNDS) if r != base.row_rounds]
        rounds[team] = list(dict.fromkeys(r if r and _item_count(sim, team, r) != whole else 0 for r in tried))
    return [Setup(loop, team, r) for loop in loops for team in teams for r in rounds[team]]


def _item_count(sim, team, rounds):
    items = stored_items if sim.connectivity == "stored" else procedural_items
    return int(items(sim.plan, sim.units, team, rounds)[0][-1])


def item_tables(sim, team, rounds):
    """(items ptr, records) on the device: delivery's items by source population, each a record
    of what its row needs (delivery_items), rows in parts of `rounds` rounds of a team of `team`
    threads (0: whole)."""
    plan = sim.plan
    if sim.connectivity == "stored":
        ptr, *items = stored_items(plan, sim.units, team, rounds)
        records = stored_records(plan, sim.units, *items)
    else:
        ptr, *items = procedural_items(plan, sim.units, team, rounds)
        records = procedural_records(plan, sim.units, *items)
    return [sim.dev.to_device(ptr, np.int64), records_on(sim.dev, records)]


def records_on(dev, records):
    """Item records on the device, flat (a row of one stands for none: no kernel reads it
    then). Rows of 32 or 64 B at an allocation's start: every row is 16-byte aligned for the
    kernels' 16-byte loads."""
    return dev.to_device(records.ravel() if records.size else np.zeros(records.shape[1]), np.int64)


class StepLaunches:
    """The launches of one Setup on a built GpuSimulator: its delivery items (`items`: ptr and
    records; `split`: teams per spike), and either the step loop's kernel and shape
    (loop_kernel, loop_block, loop_grid) or the separate launches of a step of each parity
    (layout.py), arguments fixed once (the step itself is on the device). Bound to the
    simulator's arrays as they are now: made again after delivery's event counters change."""

    def __init__(self, sim, setup):
        self.sim, self.setup = sim, setup
        self.team, self.row_rounds = setup.team, setup.row_rounds
        self.items = sim.item_tables(setup.team, setup.row_rounds)
        self.split = teams_per_spike(self.items[0])
        self._graphs = {}   # captured graphs, by (steps, first parity)
        self._loops = {}    # the step loop's launches, by number of steps
        self.loop_kernel = launches.loop_kernel(sim, setup.step_loop)
        self.loop_block = self.loop_grid = None
        d = sim.dev
        if self.loop_kernel is None:
            self._step_launches = [[d.bind(*launch) for launch in launches.one_step(sim, self, p)] for p in (0, 1)]
            return
        # every block resident (the grid barrier), the fewest blocks that hold the most threads
        # (launches.loop_shape), and no more threads than delivery's grid has counters for
        self.loop_block, self.loop_grid = launches.loop_shape(
            lambda block: d.cooperative_grid(self.loop_kernel, block), self.team,
            sim.d_events.size * self.team, launches.forced_loop_block())
        if self.loop_grid < 1:
            raise RuntimeError(f"{self.loop_kernel} cannot have a block of {self.loop_block} threads resident "
                               f"on {d.name}")

    def _record_steps(self, n, parity):
        """n steps, the first of the given parity (then alternating)."""
        for i in range(parity, parity + n):
            for launch in self._step_launches[i & 1]:
                launch()

    def enqueue(self, n, graph_steps):
        """Enqueue n steps, the first of parity 0 (the simulator's state reset): one launch of the
        step loop where it runs, else whole captured graphs of graph_steps steps, then one of
        the rest; one graph per size and first parity."""
        d = self.sim.dev
        if self.loop_kernel is not None:
            if n not in self._loops:
                self._loops[n] = d.bind(self.loop_kernel, self.loop_grid, self.loop_block,
                                        launches.loop_args(self.sim, self, n))
            self._loops[n]()
            return
        full, rest = divmod(n, graph_steps)
        at = 0
        for size in [graph_steps] * full + ([rest] if rest else []):
            key = (size, at & 1)
            if key not in self._graphs:
                self._graphs[key] = d.graph(lambda size=size, parity=at & 1: self._record_steps(size, parity))
            self._graphs[key]()
            at += size

    def describe(self, use_graphs):
        """How the steps are launched: the step loop (one launch per block of steps), CUDA
        graphs, or separate launches."""
        if self.loop_kernel is not None:
            return f"step loop ({self.loop_kernel}, {self.loop_grid} blocks of {self.loop_block})"
        return "CUDA graphs" if use_graphs else "separate launches"

    def kernels(self):
        """The entry points a step runs: the step loop's, or those of its separate launches in
        order."""
        if self.loop_kernel is not None:
            return [self.loop_kernel]
        return [launch[0] for launch in launches.one_step(self.sim, self, 0)]


class Tuner:
    """Picks one of `setups` by the time of trial blocks of `trial` steps (see the module's
    text). The caller runs `current` for at most `steps_left` steps and reports them with
    `record(steps, seconds)` until `done`; then `chosen` is the fastest."""

    def __init__(self, setups, trial=TRIAL_STEPS, rounds=TRIAL_ROUNDS):
        if not setups or trial < 1 or rounds < 1:
            raise ValueError("a tuner needs setups, trial blocks of at least one step and at least one round")
        n = len(setups)
        self.setups, self.trial, self.rounds = list(setups), int(trial), int(rounds)
        # the warm-up round (index 0), then rounds each starting one setup further on
        self._order = [(r, self.setups[(i + r) % n]) for r in range(rounds + 1) for i in range(n)]
        self._at = 0
        self._steps = 0      # steps of the current trial block so far
        self._seconds = 0.0
        self.samples = {s: [] for s in self.setups}   # seconds per step of each timed block
        self.chosen = None if n > 1 else self.setups[0]
        if n == 1:
            self._at = len(self._order)

    @property
    def done(self):
        return self._at >= len(self._order)

    @property
    def current(self):
        return None if self.done else self._order[self._at][1]

    @property
    def steps_left(self):
        return self.trial - self._steps

    @property
    def trial_steps(self):
        """Steps all the trials take (warm-up included)."""
        return self.trial * (self.rounds + 1) * len(self.setups)

    def record(self, steps, seconds):
        """`steps` steps of `current` took `seconds` (wall, the device waited for); a block may
        end short (steps held back for the spike buffer: the simulator's flush), so a trial
        block is complete once it has `trial` steps."""
        if self.done:
            raise RuntimeError("the tuner has chosen already; this is a bug")
        self._steps += steps
        self._seconds += seconds
        if self._steps < self.trial:
            return
        r, setup = self._order[self._at]
        if r > 0:
            self.samples[setup].append(self._seconds / self._steps)
        self._at += 1
        self._steps, self._seconds = 0, 0.0
        if self.done:
            self.chosen = min(self.setups, key=lambda s: (float(np.median(self.samples[s])), self.setups.index(s)))

    def report(self):
        """What the run's summary says of the tuning: each setup's median µs per step (and its
        samples) and the one chosen."""
        return {"trial_steps": self.trial, "rounds": self.rounds,
                "setups": [{"setup": s.describe(), "us_per_step": 1e6 * float(np.median(self.samples[s])),
                            "samples_us": [1e6 * x for x in self.samples[s]]} for s in self.setups
                           if self.samples[s]],
                "chosen": self.chosen.describe() if self.chosen is not None else None}

