"""Sampling the recorded state (Network.sample_state; NEST's multimeter interval, start and
stop): the times and values are NEST 3.10's (tests/data/nest_multimeter_sampling.json, from
scripts/peers/nest_multimeter_sampling.py), on the CPU and the emulated GPU; the samples are
the every-step run's at those times; the grid holds across checkpoints, restarts and
segments, which join into the uninterrupted run's report; bad settings are refused."""
import json
import math
import pathlib
import subprocess
import sys

import h5py
import numpy as np
import pytest

from distsnn.build.state_sampling import StateSampling
from distsnn.io.segments import SegmentWriter, join_reports
from distsnn.io.sonata import read_report, write_report
from distsnn.model import Network, OneToOne, Uniform
from distsnn.runtime import simulate
from test_checkpoint import T_ALL, T_CUT, restart_network

DATA = json.loads((pathlib.Path(__file__).parent / "data" / "nest_multimeter_sampling.json").read_text())
P = DATA["protocol"]


def nest_protocol(setting):
    net = Network(dt=P["dt"])
    net.add_population("n", 1, "iaf_psc_exp", {"I_e": P["I_e"]})
    net.add_spike_source("g", 1, [0] * len(P["spike_times"]), P["spike_times"])
    net.connect("g", "n", OneToOne(), P["weight"], P["delay"])
    net.record_state("n", [0], ("V_m", "I_syn_ex"))
    interval, start, stop = setting
    net.sample_state(interval, start, math.inf if stop is None else stop)
    return net


@pytest.mark.parametrize("k", range(len(P["settings"])))
def test_samples_are_nest_multimeters(k):
    """The same times as NEST's multimeter (multiples of the interval in (start, stop]) and
    the same values (both integrate iaf_psc_exp exactly)."""
    ref = DATA["samples"][k]
    res = simulate(nest_protocol(P["settings"][k]), P["t_sim"], backend="cpu", progress=False)
    for var in ("V_m", "I_syn_ex"):
        ids, times, data = res.state("n", var)
        assert ids.tolist() == [0] and data.shape == (len(ref["times"]), 1)
        assert np.allclose(times, ref["times"], rtol=0, atol=1e-9)
        assert np.max(np.abs(data[:, 0] - ref[var])) < 1e-9
    assert res.vrec.shape[0] == len(ref["times"])   # only the samples are held


def test_the_emulated_gpu_samples_alike():
    """The GPU engine writes every step of a block; the run loop keeps the same samples."""
    setting = P["settings"][6]
    cpu = simulate(nest_protocol(setting), P["t_sim"], backend="cpu", progress=False)
    gpu = simulate(nest_protocol(setting), P["t_sim"], backend="gpu-emu", progress=False)
    assert np.array_equal(cpu.vrec, gpu.vrec) and np.array_equal(cpu.vrec_steps, gpu.vrec_steps)
    assert np.allclose(cpu.state("n")[1], DATA["samples"][6]["times"], rtol=0, atol=1e-9)


def sampled(interval=0.3, start=10.0, stop=150.0):
    net = restart_network()
    net.sample_state(interval, start, stop)
    return net


@pytest.fixture(scope="module")
def every_step():
    return simulate(restart_network(), T_ALL, seed=21, progress=False)


def test_samples_are_those_of_every_step(every_step):
    res = simulate(sampled(), T_ALL, seed=21, progress=False)
    assert np.array_equal(res.spike_steps, every_step.spike_steps)   # sampling changes no spike
    want = np.arange(34, 501) * 3 - 1                                 # 10.2 .. 150.0 ms
    assert np.array_equal(res.vrec_steps, want)
    assert np.array_equal(res.vrec, every_step.vrec[want])
    ids, times, w = res.state("W", "w")
    assert np.allclose(times, (want + 1) * 0.1) and np.array_equal(w, every_step.state("W", "w")[2][want])


def test_restart_and_segments_keep_the_grid(every_step, tmp_path):
    """Cut at T_CUT (not a multiple of the interval), continue from the checkpoint, with
    periodic checkpoints every 40 ms writing segments: the joined report is the
    uninterrupted sampled run's, on its time axis."""
    whole = simulate(sampled(), T_ALL, seed=21, progress=False)
    write_report(str(tmp_path / "whole_v.h5"), whole, "V_m")
    ck = str(tmp_path / "ck")
    writer = SegmentWriter(ck, None, {})
    first = simulate(sampled(), T_CUT, seed=21, progress=False, checkpoint=ck, checkpoint_every=40.0,
                     on_checkpoint=writer)
    second = simulate(sampled(), T_ALL - T_CUT, seed=21, progress=False, restart=ck, checkpoint=ck,
                      checkpoint_every=40.0, on_checkpoint=writer, keep_recorded=False)
    assert np.array_equal(first.vrec_steps, whole.vrec_steps[whole.vrec_steps < round(T_CUT / 0.1)])
    assert second.vrec.shape[0] == 0 and not second.kept
    join_reports(writer.paths("V_m"), str(tmp_path / "all_v.h5"))
    got, want = read_report(str(tmp_path / "all_v.h5")), read_report(str(tmp_path / "whole_v.h5"))
    for pop in want:
        assert np.array_equal(got[pop][2], want[pop][2]) and np.allclose(got[pop][1], want[pop][1])
    with h5py.File(tmp_path / "all_v.h5", "r") as f:
        assert np.allclose(f["report/E/mapping/time"][()], [10.2, 150.3, 0.3])


def test_join_refuses_other_grids(tmp_path):
    """Segments sampled at other intervals, or leaving a gap, do not join."""
    a = simulate(sampled(0.3), 30.0, seed=21, progress=False, checkpoint=str(tmp_path / "a"))
    b = simulate(sampled(0.5), 30.0, seed=21, progress=False, restart=str(tmp_path / "a"))
    c = simulate(sampled(0.3), 30.0, seed=21, progress=False, restart=str(tmp_path / "a"),
                 checkpoint=str(tmp_path / "c"))
    d = simulate(sampled(0.3), 30.0, seed=21, progress=False, restart=str(tmp_path / "c"))
    for name, res in zip("abcd", (a, b, c, d)):
        write_report(str(tmp_path / f"{name}.h5"), res, "V_m")
    with pytest.raises(ValueError, match=r"b.h5: \w+ is sampled every 0.5 ms, .*a.h5 every 0.3 ms"):
        join_reports([str(tmp_path / "a.h5"), str(tmp_path / "b.h5")], str(tmp_path / "ab.h5"))
    with pytest.raises(ValueError, match=r"d.h5: the samples of \w+ start at 60.3 ms, the segment before stopped "
                                         r"at 30.3 ms"):
        join_reports([str(tmp_path / "a.h5"), str(tmp_path / "d.h5")], str(tmp_path / "ad.h5"))
    join_reports([str(tmp_path / f"{n}.h5") for n in "acd"], str(tmp_path / "acd.h5"))
    assert np.allclose(read_report(str(tmp_path / "acd.h5"))["E"][1], np.arange(34, 301) * 0.3)


def test_sampling_arithmetic():
    s = StateSampling(every=3, after=10, until=40)
    assert s.steps(0, 100).tolist() == [11, 14, 17, 20, 23, 26, 29, 32, 35, 38]   # states at 12, 15, ... 39 steps
    assert s.count(0, 100) == 10 and s.count(0, 12) == 1 and s.count(12, 100) == 9 and s.count(40, 100) == 0
    assert s.time_axis(0, 12, 0.5) == (6.0, 7.5, 1.5)
    assert s.time_axis(0, 5, 0.5) == (6.0, 6.0, 1.5)           # no sample yet: where the first falls
    assert StateSampling().steps(7, 10).tolist() == [7, 8, 9]   # default: every step


def test_bad_sampling_is_refused():
    net = restart_network()
    for args, text in (((0.25,), r"sample_state: interval = 0.25 ms is not a whole number of time steps"),
                       ((0.0,), "interval must be a positive number of ms"),
                       ((1.0, -1.0), "need 0 <= start <= stop"),
                       ((1.0, 5.0, 5.0), "need start < stop"),
                       ((1.0, 5.05), r"start = 5.05 ms is not a whole number"),
                       ((1.0, 0.0, 7.33), r"stop = 7.33 ms is not a whole number"),
                       ((math.nan,), "interval must be a positive number")):
        with pytest.raises(ValueError, match=text):
            net.sample_state(*args)
    assert net.state_sampling is None
    net.sample_state()                              # every step, the default
    assert net.state_sampling == (0.1, 0.0, math.inf)


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "distsnn", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_cli_sampling(tmp_path):
    proc = run("run", "brunel", "--scale", "0.01", "--t-sim", "50", "--no-progress", "--backend", "cpu",
               "--record", "2", "--record-interval", "1.5", "--record-start", "10", "--record-stop", "40",
               "--output", "a.h5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for pop, (ids, times, data) in read_report(str(tmp_path / "a_voltage.h5")).items():
        assert ids.tolist() == [0, 1] and np.allclose(times, np.arange(7, 27) * 1.5) and data.shape == (20, 2)
    bad = run("run", "brunel", "--scale", "0.01", "--t-sim", "50", "--record", "2", "--record-interval", "0.25",
              "--output", "b.h5", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1] == (
        "distsnn: error: --record-interval/--record-start/--record-stop: interval = 0.25 ms is not a whole number "
        "of time steps (dt = 0.1 ms)")
    bad = run("run", "brunel", "--scale", "0.01", "--t-sim", "50", "--record-interval", "1", "--output", "b.h5",
              cwd=tmp_path)
    assert bad.returncode == 2 and "no neuron's state is recorded; give --record K as well" in bad.stderr


@pytest.mark.parametrize("interval", [None, 0.3])
def test_blocks_held_back_keep_their_steps(interval):
    """The GPU engine holds back a block whose spikes do not fit the output buffer (its clock
    already past them) and hands it over in the next call: its samples keep their steps."""
    net = Network(dt=0.1)
    net.add_population("fast", 1000, params={"I_e": 1e5, "t_ref": 0.1}, v_init=Uniform(-70.0, -55.0))
    net.record_spikes("fast")
    net.record_state("fast", [0, 1, 999], ("V_m",))
    if interval:
        net.sample_state(interval)
    cpu = simulate(net, 100.0, backend="cpu", progress=False)
    gpu = simulate(net, 100.0, backend="gpu-emu", progress=False)
    assert cpu.spike_steps.size > 4 * (1 << 16)                     # 4x the GPU's first output buffer
    assert np.array_equal(gpu.vrec_steps, cpu.vrec_steps) and np.array_equal(gpu.vrec, cpu.vrec)
