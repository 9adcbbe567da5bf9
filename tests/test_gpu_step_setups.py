"""Step setups and their tuning (step_setups.py): the ways of launching steps (separate launches
or the step loop, delivery's team, rows whole or in parts) give the same run, and the Tuner,
asked for with DISTSNN_GPU_TUNE=1, tries them on a run's first steps in rotated rounds and goes
on with the fastest: the same spikes, voltages and events as the CPU engine, whichever it
picks and however often it switches."""
import numpy as np
import pytest

from distsnn.backends.gpu.emulator import EmulatedDevice
from distsnn.backends.gpu.simulator import GpuSimulator
from distsnn.backends.gpu.step_setups import Setup, Tuner, candidates, trial_steps, tune_choice
from distsnn.build import make_plan
from distsnn.model import FixedTotalNumber, Network
from distsnn.runtime import simulate
from test_gpu_emulated import assert_same_run
from test_gpu_rule_variants import T_SIM, network

A, B, C = Setup(False, 2, 0), Setup(True, 2, 0), Setup(False, 2, 1)


def test_the_tuner_rotates_the_rounds_and_drops_the_warm_up():
    tuner = Tuner([A, B, C], trial=10, rounds=2)
    assert tuner.trial_steps == 10 * 3 * 3
    seen = []
    cost = {A: 3.0, B: 1.0, C: 2.0}   # seconds per step
    while not tuner.done:
        setup = tuner.current
        seen.append(setup)
        # the warm-up round's blocks cost 100 times more (capture, first touches): not counted
        scale = 100 if len(seen) <= 3 else 1
        left = tuner.trial
        while left:   # a trial block in pieces (blocks of steps that end short)
            steps = min(4, left)
            tuner.record(steps, steps * cost[setup] * scale)
            left -= steps
            if left:
                assert tuner.current == setup and tuner.steps_left == left
    assert seen == [A, B, C, B, C, A, C, A, B]   # warm-up, then each round one further on
    assert tuner.chosen == B
    assert tuner.samples[A] == [3.0, 3.0] and tuner.samples[B] == [1.0, 1.0]
    report = tuner.report()
    assert report["chosen"] == B.describe() == "step loop, team 2, whole rows"
    assert [r["us_per_step"] for r in report["setups"]] == [3e6, 1e6, 2e6]
    with pytest.raises(RuntimeError, match="chosen already"):
        tuner.record(1, 1.0)


def test_the_median_decides_and_ties_go_to_the_first():
    tuner = Tuner([A, B], trial=1, rounds=3)
    times = {A: [9, 2, 2, 2], B: [9, 1, 50, 1]}   # B's median is lower despite one slow block
    while not tuner.done:
        tuner.record(1, float(times[tuner.current].pop(0)))
    assert tuner.chosen == B
    tied = Tuner([A, B], trial=1, rounds=1)
    while not tied.done:
        tied.record(1, 1.0)
    assert tied.chosen == A
    single = Tuner([C])
    assert single.done and single.chosen == C and single.current is None


def test_settings_are_checked(monkeypatch):
    with pytest.raises(ValueError, match="needs setups"):
        Tuner([], 10)
    monkeypatch.setenv("DISTSNN_GPU_TUNE_STEPS", "0")
    with pytest.raises(ValueError, match="at least one step"):
        trial_steps()
    monkeypatch.setenv("DISTSNN_GPU_TUNE_STEPS", "7")
    monkeypatch.setenv("DISTSNN_GPU_TUNE", "1")
    assert trial_steps() == 7 and trial_steps(3) == 3 and tune_choice() and not tune_choice(False)
    assert EmulatedDevice().tune
    assert EmulatedDevice().tune_steps == 7
    monkeypatch.setenv("DISTSNN_GPU_TUNE_STEPS", "many")   # refused as the device opens, before any build
    with pytest.raises(ValueError, match="DISTSNN_GPU_TUNE_STEPS='many' is not a number of steps"):
        EmulatedDevice()
    monkeypatch.delenv("DISTSNN_GPU_TUNE")
    assert not tune_choice() and not EmulatedDevice().tune   # off by default (and its steps unread)


def test_candidates_vary_what_the_model_allows():
    """Loop on and off, the team and its half, rows whole and in parts where parts cut a row (in
    both modes), and a model the step loop cannot run has no loop."""
    plan = make_plan(network(), 6)
    dev = EmulatedDevice(block_threads=8, team=4, step_loop=False, rows=0)
    sims = {c: GpuSimulator(plan, c, device=dev).build() for c in ("procedural", "stored")}
    for sim in sims.values():
        got = candidates(sim)
        assert got[0] == Setup(False, 4, 0)   # the device's own first
        assert set(got) == {Setup(loop, team, r) for loop in (False, True) for team in (4, 2) for r in (0, 2)}
    short = Network(dt=0.1, chunk_size=64)   # rows of 2 synapses: no part to cut
    short.add_population("E", 100)
    short.connect("E", "E", FixedTotalNumber(200), 10.0, 1.0)
    short.add_poisson_input("E", indegree=100, rate=10.0, weight=10.0, delay=1.0)
    small = GpuSimulator(make_plan(short, 1), device=EmulatedDevice(step_loop=True)).build()
    assert set(candidates(small)) == {Setup(True, 2, 0), Setup(False, 2, 0)}
    sources = network()
    sources.add_poisson_source("P", 10, rate=20.0)
    sources.connect("P", "E", FixedTotalNumber(100), 10.0, 1.0)
    no_loop = GpuSimulator(make_plan(sources, 6), device=EmulatedDevice()).build()
    assert {s.step_loop for s in candidates(no_loop)} == {False}


@pytest.fixture(scope="module")
def reference():
    return simulate(network(indegree=True), T_SIM, seed=6, backend="cpu", progress=False)


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_a_tuned_run_is_the_cpu_run_and_goes_on_with_the_fastest(connectivity):
    """The setups switched every 3 steps over the first 96 (a clock that makes one of them the
    fastest): the CPU engine's run, and the fastest setup from then on."""
    plan = make_plan(network(indegree=True), 6)
    dev = EmulatedDevice(block_threads=8, team=4, tune=True)
    sim = GpuSimulator(plan, connectivity, device=dev).build()
    setups = candidates(sim)
    fastest = setups[-1]
    now = [0.0]

    def clock():   # a block of the fastest setup takes half the time of the others'
        now[0] += 0.5 if sim.setup == fastest else 1.0
        return now[0]
    sim.clock = clock
    tuner = sim.tune_for(int(round(T_SIM / plan.dt)), trial=3, rounds=3)
    assert tuner is not None and len(setups) == 8
    ref = simulate(network(indegree=True), T_SIM, seed=6, backend="cpu", connectivity=connectivity, progress=False)
    res = _run(sim, int(round(T_SIM / plan.dt)))
    assert tuner.done and tuner.chosen == fastest == sim.setup
    assert all(len(tuner.samples[s]) == 3 for s in setups)
    assert list(sim._prepared) == [fastest]   # the others' launches and tables are gone
    assert np.array_equal(res[0], ref.spike_gids) and np.array_equal(res[1], ref.spike_steps)
    assert res[2] == ref.events


def _run(sim, n):
    """Spike gids, steps and events of n steps of sim in calls of at most 37 steps (blocks
    that end between the tuner's trials)."""
    out_gid, out_step = np.empty(1 << 16, np.int64), np.empty(1 << 16, np.int64)
    done = n_out = 0
    while done < n:
        got, n_out = sim.run(min(37, n - done), out_gid, out_step, n_out, np.empty((37, sim.vrec_gids.size)))
        done += got
    return out_gid[:n_out], out_step[:n_out], sim.events


def test_simulate_tunes_when_asked_and_reports_it(reference, monkeypatch):
    monkeypatch.setenv("DISTSNN_GPU_TUNE", "1")
    monkeypatch.setenv("DISTSNN_GPU_TUNE_STEPS", "5")
    lines = []
    res = simulate(network(indegree=True), T_SIM, seed=6, backend="gpu-emu", progress=False, log=lines.append)
    assert_same_run(res, reference)
    tuning = res.device["tuning"]
    assert tuning["trial_steps"] == 5 and len(tuning["setups"]) == 4   # loop x rows in parts (team 2 has no half)
    assert tuning["chosen"] in [s["setup"] for s in tuning["setups"]]
    assert res.device["row_rounds"] in (0, 2) and res.device["delivery_team"] == 2
    assert any(line.startswith("step setups tried (us per step)") for line in lines)
    monkeypatch.setenv("DISTSNN_GPU_TUNE_STEPS", "100")   # 1,600 steps of trials for a run of 1,200
    lines.clear()
    res = simulate(network(indegree=True), T_SIM, seed=6, backend="gpu-emu", progress=False, log=lines.append)
    assert "tuning" not in res.device
    assert any("step setups not tuned: their trials take 1600 steps" in line for line in lines)
    assert_same_run(res, reference)
