"""The command line, run as a user would."""
import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from distsnn.backends.cpu.sizes import state_bytes
from distsnn.build import make_plan
from distsnn.models import MODELS
from distsnn.models.microcircuit import FULL_SIZES


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "distsnn", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_run_microcircuit_writes_files_and_prints_summary(tmp_path):
    proc = run("run", "microcircuit", "--scale", "0.02", "--t-sim", "100", "--seed", "1", "--backend", "cpu",
               "--connectivity", "procedural", "--output", "results/mc.h5", "--record-voltage", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for text in ("build", "simulate", "write", "real-time factor", "synaptic events", "L23E", "L6I"):
        assert text in out
    with h5py.File(tmp_path / "results" / "mc.h5", "r") as f:
        assert f.attrs["magic"] == 0x0A7A and "L4E" in f["spikes"]
    summary = json.loads((tmp_path / "results" / "mc_summary.json").read_text())
    assert summary["seed"] == 1 and summary["n_neurons"] == sum(round(n * 0.02) for n in FULL_SIZES)
    timers = summary["timers_s"]
    assert set(timers) == {"build", "build_plan", "build_bound", "build_engine", "simulate", "write"}
    parts = timers["build_plan"] + timers["build_bound"] + timers["build_engine"]
    assert 0 < parts <= timers["build"] and timers["build_bound"] > 0   # the counts and bound are drawn
    assert "counts and input bound" in out
    assert summary["synaptic_events"] > 0 and summary["mean_rates_hz"]["L5I"] > 0
    assert summary["ring_bits"] == 32                  # 'auto' proves int32 safe for the microcircuit
    assert (tmp_path / "results" / "mc_voltage.h5").exists()
    # memory: the engine's state by part (runtime.memory; the counts of 16-bit cells), and the peak
    plan = make_plan(MODELS["microcircuit"](scale=0.02, record_voltage=1), 1)
    held = summary["memory"]["held_bytes"]
    assert held == {part: int(v) for part, v in state_bytes(plan, plan.units).items()}
    assert held["counts"] == 4 * plan.info["count_words"] > 0 and held["rings"] > held["state"] > 0
    assert summary["memory"]["host_peak_rss_bytes"] > 2 ** 25   # an interpreter with NumPy and numba
    assert "memory   peak " in out and "MiB resident; held: input buffers" in out
    # the rates next to NEST's full-scale ones, with their window and how to measure over the same
    rate = summary["mean_rates_hz"]["L4E"]
    assert f"    L4E      {rate:8.3f}       4.414\n" in out
    assert "mean rates (Hz, t > 0 ms), next to the reference's:" in out
    assert "reference: NEST's example Potjans_2014 (network_params.py full_mean_rates, commit 6151de27), one run at " \
           "full scale, over 500 to 1500 ms\n  (the same window here: --t-sim 1500 --rates-from 500)" in out
    assert summary["parameters"]["reference_rates_hz"]["L4E"] == 4.414


def test_rates_next_to_the_reference_over_its_window(tmp_path):
    """Over the reference's window the rates stand next to it without the hint; a model
    without reference rates prints its own alone."""
    proc = run("run", "microcircuit", "--scale", "0.02", "--t-sim", "1500", "--rates-from", "500", "--no-progress",
               "--output", "mc.h5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "mean rates (Hz, t > 500 ms), next to the reference's:" in proc.stdout
    assert "over 500 to 1500 ms\n" in proc.stdout and "(the same window here" not in proc.stdout
    proc = run("run", "brunel", "--scale", "0.02", "--t-sim", "20", "--no-progress", "--output", "b.h5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "mean rates (Hz, t > 0 ms):\n    E  " in proc.stdout and "reference" not in proc.stdout


def test_ring_bits_option_is_recorded_and_checked(tmp_path):
    proc = run("run", "microcircuit", "--scale", "0.02", "--t-sim", "20", "--ring-bits", "64", "--no-progress",
               "--output", "mc64.h5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "mc64_summary.json").read_text())["ring_bits"] == 64
    assert "input ring buffers: int64" in proc.stdout + proc.stderr
    proc = run("run", "microcircuit", "--ring-bits", "16", cwd=tmp_path)
    assert proc.returncode == 2 and "--ring-bits: invalid choice: '16'" in proc.stderr


def test_same_spikes_from_the_cli_in_both_connectivity_modes(tmp_path):
    files = []
    for mode in ("procedural", "stored"):
        proc = run("run", "microcircuit", "--scale", "0.02", "--t-sim", "50", "--connectivity", mode,
                   "--output", f"{mode}.h5", "--no-progress", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        files.append(tmp_path / f"{mode}.h5")
    with h5py.File(files[0], "r") as a, h5py.File(files[1], "r") as b:
        for name in a["spikes"]:
            for ds in ("node_ids", "timestamps"):
                assert (a["spikes"][name][ds][()] == b["spikes"][name][ds][()]).all()


def test_bad_input_is_a_one_line_error(tmp_path):
    proc = run("run", "microcircuit", "--scale", "-1", cwd=tmp_path)
    assert proc.returncode == 2
    assert "scale must be in (0, 1], got -1.0" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("run", "nosuchmodel", cwd=tmp_path)
    assert proc.returncode == 2 and "unknown model 'nosuchmodel'" in proc.stderr


def test_checkpoint_and_restart_continue_the_spike_file(tmp_path):
    from distsnn.analysis import analyze_file
    from distsnn.io import read_spikes
    from distsnn.io.sonata import read_metadata, read_voltage_report
    common = ("--scale", "0.05", "--no-progress", "--record-voltage", "2")
    assert run("run", "microcircuit", *common, "--t-sim", "100", "--output", "whole.h5", cwd=tmp_path).returncode == 0
    proc = run("run", "microcircuit", *common, "--t-sim", "40", "--output", "a.h5", "--checkpoint", "ck",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "checkpoint" in proc.stdout and (tmp_path / "ck" / "checkpoint.json").exists()
    proc = run("run", "microcircuit", *common, "--t-sim", "60", "--output", "b.h5", "--restart", "ck",
               "--backend", "gpu-emu", "--connectivity", "stored", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "(from 40 ms, restarted from ck)" in proc.stdout
    whole, a, b = (read_spikes(str(tmp_path / f)) for f in ("whole.h5", "a.h5", "b.h5"))
    assert sum((t <= 40).sum() for _, t in whole.values()) > 100 and sum((t > 40).sum() for _, t in whole.values()) > 100
    for pop, (ids, t) in whole.items():
        assert (a[pop][0] == ids[t <= 40]).all() and (a[pop][1] == t[t <= 40]).all()
        assert (b[pop][0] == ids[t > 40]).all() and (b[pop][1] == t[t > 40]).all()
    meta = read_metadata(str(tmp_path / "b.h5"))
    assert (meta["t_start"], meta["t_stop"], meta["t_sim"]) == (40.0, 100.0, 60.0)
    assert meta["restarted_from"]["step"] == 400 and read_metadata(str(tmp_path / "a.h5"))["checkpoint"]["step"] == 400
    summary = json.loads((tmp_path / "b_summary.json").read_text())
    build = {"build", "build_plan", "build_bound", "build_engine"}
    assert set(summary["timers_s"]) == build | {"restore", "simulate", "write"}
    assert set(json.loads((tmp_path / "a_summary.json").read_text())["timers_s"]) == build | {
        "simulate", "checkpoint", "write"}
    # rates over the segment [40, 100] ms: the analysis takes the file's own window by default
    stats = analyze_file(str(tmp_path / "b.h5"))
    n = stats["L4E"].n_neurons
    assert abs(stats["L4E"].rates.mean() - b["L4E"][0].size / n / 0.06) < 1e-9
    assert abs(summary["mean_rates_hz"]["L4E"] - b["L4E"][0].size / n / 0.06) < 1e-9
    # the voltage report continues too, with the segment's times
    vw, vb = read_voltage_report(str(tmp_path / "whole_voltage.h5")), read_voltage_report(str(tmp_path / "b_voltage.h5"))
    ids, times, data = vb["L4E"]
    assert abs(times[0] - 40.1) < 1e-9 and times.size == 600
    assert (data == vw["L4E"][2][400:]).all() and np.allclose(vw["L4E"][1][400:], times, rtol=0, atol=1e-9)
    # the two segments joined are the whole run, and analyse as it does
    proc = run("join", "a.h5", "b.h5", "--output", "joined.h5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "2 segments, 0 to 100 ms" in proc.stdout
    joined = read_spikes(str(tmp_path / "joined.h5"))
    assert all((joined[p][0] == whole[p][0]).all() and (joined[p][1] == whole[p][1]).all() for p in whole)
    meta = read_metadata(str(tmp_path / "joined.h5"))
    assert (meta["t_start"], meta["t_stop"]) == (0.0, 100.0) and [s["backend"] for s in meta["segments"]] == [
        "cpu", "gpu-emu"]
    # each run's simulate time, and the whole run's (their sum)
    spent = [read_metadata(str(tmp_path / f))["timers"]["simulate"] for f in ("a.h5", "b.h5")]
    assert [s["simulate_s"] for s in meta["segments"]] == spent and meta["simulate_s"] == pytest.approx(sum(spent))
    assert run("join", "joined.h5", "--output", "again.h5", cwd=tmp_path).returncode == 0   # a joined file: its total
    assert read_metadata(str(tmp_path / "again.h5"))["simulate_s"] == meta["simulate_s"]
    sw, sj = analyze_file(str(tmp_path / "whole.h5")), analyze_file(str(tmp_path / "joined.h5"))
    assert all(np.array_equal(sw[p].rates, sj[p].rates) and np.array_equal(sw[p].lvr, sj[p].lvr, equal_nan=True)
               for p in sw)
    proc = run("join", "b.h5", "a.h5", "--output", "bad.h5", cwd=tmp_path)
    assert proc.returncode == 2 and "starts at 0 ms but the segment before it ends at 100 ms" in proc.stderr
    proc = run("join", "a.h5", "whole.h5", "--output", "bad.h5", cwd=tmp_path)
    assert proc.returncode == 2 and "starts at 0 ms but the segment before it ends at 40 ms" in proc.stderr
    assert not (tmp_path / "bad.h5").exists()


def test_restart_with_other_model_options_is_a_one_line_error(tmp_path):
    assert run("run", "microcircuit", "--scale", "0.02", "--t-sim", "10", "--no-progress", "--checkpoint", "ck",
               "--output", "a.h5", cwd=tmp_path).returncode == 0
    proc = run("run", "microcircuit", "--scale", "0.03", "--t-sim", "10", "--no-progress", "--restart", "ck",
               "--output", "b.h5", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "was written by a different model" in proc.stderr and "populations (names and sizes)" in proc.stderr
    assert not (tmp_path / "b.h5").exists()


def test_a_killed_job_resumes_and_its_output_holds_the_whole_run(tmp_path):
    """--checkpoint-every with --resume: a job killed (SIGKILL) after a checkpoint, or in the
    middle of writing one, is finished by running the same command again; the output equals
    that of a run that never stopped."""
    import os

    from distsnn.io import read_spikes
    from distsnn.io.sonata import read_metadata, read_voltage_report
    common = ("run", "microcircuit", "--scale", "0.05", "--no-progress", "--record-voltage", "2", "--t-sim", "200",
              "--rates-from", "75")
    assert run(*common, "--output", "whole.h5", cwd=tmp_path).returncode == 0
    again = (*common, "--output", "out.h5", "--checkpoint", "ck", "--checkpoint-every", "50", "--resume")

    def killed(fault):
        env = dict(os.environ, DISTSNN_INJECT_FAULT=fault)
        return subprocess.run([sys.executable, "-m", "distsnn", *again], cwd=tmp_path, capture_output=True, text=True,
                              timeout=600, env=env)
    proc = killed("0:checkpointed:2:kill")              # killed right after the checkpoint at 100 ms
    assert proc.returncode == -9 and not (tmp_path / "out.h5").exists()
    assert json.loads((tmp_path / "ck" / "checkpoint.json").read_text())["step"] == 1000
    proc = killed("0:checkpoint:2:kill")                # resumed, then killed writing the one at 200 ms
    assert proc.returncode == -9 and "resumed" not in proc.stdout and not (tmp_path / "out.h5").exists()
    assert json.loads((tmp_path / "ck" / "checkpoint.json").read_text())["step"] == 1500
    leftovers = len(os.listdir(tmp_path / "ck"))
    proc = run(*again, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "50 ms (from 150 ms, resumed from ck)" in proc.stdout and "4 segments joined, 0 to 200 ms" in proc.stdout
    assert len(os.listdir(tmp_path / "ck")) < leftovers   # the half-written checkpoint's files are gone
    whole, out = read_spikes(str(tmp_path / "whole.h5")), read_spikes(str(tmp_path / "out.h5"))
    assert sum(ids.size for ids, _ in whole.values()) > 500
    assert all(np.array_equal(whole[p][0], out[p][0]) and np.array_equal(whole[p][1], out[p][1]) for p in whole)
    vw, vo = read_voltage_report(str(tmp_path / "whole_voltage.h5")), read_voltage_report(str(tmp_path / "out_voltage.h5"))
    assert all(np.array_equal(vw[p][2], vo[p][2]) and np.allclose(vw[p][1], vo[p][1], rtol=0, atol=1e-9) for p in vw)
    meta, whole_meta = read_metadata(str(tmp_path / "out.h5")), read_metadata(str(tmp_path / "whole.h5"))
    assert (meta["t_start"], meta["t_stop"], meta["resumed"]) == (0.0, 200.0, True)
    assert meta["synaptic_events"] == whole_meta["synaptic_events"] and len(meta["segments"]) == 4
    # the rates are those of the whole run, also of the part before the resume
    assert meta["mean_rates_hz"] == whole_meta["mean_rates_hz"] and meta["mean_rates_from_ms"] == 75.0
    summary = json.loads((tmp_path / "out_summary.json").read_text())
    assert summary["mean_rates_hz"] == whole_meta["mean_rates_hz"] and summary["mean_rates_hz"]["L4E"] > 0
    joined = summary["joined"]
    assert {k: joined[k] for k in ("segments", "t_start", "t_stop", "synaptic_events")} == {
        "segments": 4, "t_start": 0.0, "t_stop": 200.0, "synaptic_events": whole_meta["synaptic_events"]}
    # the whole run's simulate time: each segment's, summed over the three jobs; the last
    # job simulated one segment, so its own timer is that segment's
    spent = [seg["simulate_s"] for seg in meta["segments"]]
    assert all(s > 0 for s in spent) and spent[-1] == summary["timers_s"]["simulate"]
    assert joined["simulate_s"] == pytest.approx(sum(spent)) and meta["simulate_s"] == joined["simulate_s"]
    assert joined["real_time_factor"] == pytest.approx(joined["simulate_s"] / 0.2)
    assert summary["synaptic_events"] < whole_meta["synaptic_events"]   # those of the resumed 50 ms
    # the same command once more: the checkpoint is at the end, so it only writes the output
    # and a summary that says so, with what the segments know of the build and the whole run
    (tmp_path / "out.h5").unlink()
    (tmp_path / "out_summary.json").unlink()
    proc = run(*again, cwd=tmp_path)
    assert proc.returncode == 0 and "nothing left to simulate" in proc.stdout
    out = read_spikes(str(tmp_path / "out.h5"))
    assert all(np.array_equal(whole[p][1], out[p][1]) for p in whole)
    only = json.loads((tmp_path / "out_summary.json").read_text())
    assert only["nothing_simulated"] and only["joined"] == joined and only["timers_s"].keys() == {"write"}
    assert only["mean_rates_hz"] == whole_meta["mean_rates_hz"] and only["mean_rates_from_ms"] == 75.0
    for key in ("n_neurons", "n_synapses", "parameters", "t_start", "t_stop", "synaptic_events", "backend"):
        assert only[key] == json.loads(json.dumps(whole_meta[key], default=float)), key
    assert read_metadata(str(tmp_path / "out.h5"))["parameters"] == whole_meta["parameters"]
    # a longer --t-sim extends the run
    proc = run(*again, "--t-sim", "300", cwd=tmp_path)   # the last --t-sim counts
    assert proc.returncode == 0 and "100 ms (from 200 ms, resumed from ck)" in proc.stdout, proc.stderr
    assert read_metadata(str(tmp_path / "out.h5"))["t_stop"] == 300.0


def test_resume_refusals_are_one_line_errors(tmp_path):
    base = ("run", "microcircuit", "--scale", "0.02", "--t-sim", "20", "--no-progress", "--output", "a.h5")
    proc = run(*base, "--checkpoint-every", "10", cwd=tmp_path)
    assert proc.returncode == 2 and "--checkpoint-every and --resume need --checkpoint DIR" in proc.stderr
    assert run(*base, "--checkpoint", "ck", cwd=tmp_path).returncode == 0
    proc = run(*base, "--checkpoint", "ck", "--resume", cwd=tmp_path)
    assert proc.returncode == 2 and "holds no spike segments" in proc.stderr and "Traceback" not in proc.stderr
    assert run(*base, "--checkpoint", "ck2", "--checkpoint-every", "10", cwd=tmp_path).returncode == 0
    proc = run(*base, "--t-sim", "10", "--checkpoint", "ck2", "--resume", cwd=tmp_path)
    assert proc.returncode == 2 and "is at 20 ms, past the end of this run (0 + --t-sim 10 ms)" in proc.stderr
    proc = run(*base, "--checkpoint", "ck3", "--checkpoint-every", "0.25", cwd=tmp_path)
    assert proc.returncode == 2 and "not a whole number of time steps (dt = 0.1 ms)" in proc.stderr


def test_unreadable_input_files_are_one_line_errors(tmp_path, capsys):
    """analyze, export, compare and join, given a missing file, a file that is not HDF5 or an
    HDF5 file with no spikes: exit status 2 and one line that names the file."""
    from distsnn.cli import main
    (tmp_path / "text.h5").write_text("not HDF5")
    with h5py.File(tmp_path / "nospikes.h5", "w") as f:
        f.create_group("other")
    cases = {"missing.h5": "missing.h5: no such file",
             "text.h5": "text.h5: cannot be read as HDF5",
             "nospikes.h5": "nospikes.h5: not a spike file (no /spikes group)"}
    for name, message in cases.items():
        path = str(tmp_path / name)
        for argv in (["analyze", path], ["export", path, "--output", str(tmp_path / "x.nix")],
                     ["compare", path, path], ["join", path, "--output", str(tmp_path / "j.h5")]):
            assert main(argv) == 2, argv
            err = capsys.readouterr().err
            assert message in err and err.count("\n") == 1 and "Traceback" not in err, (argv, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["text.h5", "nospikes.h5"])   # nothing written


def test_run_options_and_output_path_are_checked_before_the_run(tmp_path, capsys):
    """Bad --record, --record-from, --rates-from and output paths stop the run before it builds
    anything (exit status 2, one line), not after the simulation when it writes."""
    from distsnn.cli import main
    (tmp_path / "plain").write_text("a file, not a directory")
    base = ["run", "microcircuit", "--scale", "0.02", "--t-sim", "5", "--no-progress"]
    cases = [(["--record-voltage", "-1"], "argument --record/--record-voltage: must be 0 or more, got -1"),
             (["--record", "2", "--record-from", "V_m,"], "argument --record-from: unknown state variable(s) ''; "
                                                           "known: V_m, I_syn_ex"),
             (["--record", "2", "--record-from", "V_m,v"], "unknown state variable(s) 'v'"),
             (["--record-from", "I_syn_ex"], "--record-from: no neuron's state is recorded; give --record K as well"),
             (["--record", "2", "--record-from", "V_m,w"], "record 'w': no recorded population's model (iaf_psc_exp) "
                                                          "has it; recordable: I_syn_ex, I_syn_in, V_m"),
             (["--rates-from", "nan"], "argument --rates-from: must be a finite time of 0 ms or more"),
             (["--rates-from", "5"], "--rates-from 5 ms is not before the end of the run (--t-sim 5 ms)"),
             (["--output", str(tmp_path)], "is a directory; give a file name"),
             (["--output", str(tmp_path / "plain" / "sub" / "run.h5")], "plain is a file, not a directory"),
             # a time off the grid is refused as NEST's Simulate refuses it, not rounded (0.04 ms: no step)
             (["--t-sim", "10.05"], "--t-sim = 10.05 ms is not a whole number of time steps (dt = 0.1 ms)"),
             (["--t-sim", "0.04"], "--t-sim = 0.04 ms is not a whole number of time steps"),
             (["--t-sim", "-5"], "--t-sim must be a positive number of ms, got -5.0"),
             ]
    from distsnn.io.parallel import h5py_has_mpi
    if not h5py_has_mpi():   # refused before the run, not when it writes (on one process too, as under mpiexec)
        cases.append((["--write-mode", "mpio"], "write mode 'mpio' needs h5py built with MPI"))
    base += ["--output", str(tmp_path / "new" / "dirs" / "run.h5")]   # (the last --output wins)
    for extra, message in cases:
        try:
            code = main(base + extra)
        except SystemExit as exc:   # argparse
            code = exc.code
        captured = capsys.readouterr()
        assert code == 2 and message in captured.err, (extra, captured.err)
        assert "build" not in captured.out and "input ring buffers" not in captured.out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain"]


def test_output_files_of_the_other_commands_are_checked_before_any_work(tmp_path, capsys):
    """join, export, synapses, nodes, analyze and compare: an --output that is a folder, or
    lies below a file, is a one-line error before any input is read or model built."""
    from distsnn.cli import main
    (tmp_path / "plain").write_text("a file, not a directory")
    commands = {"join": ["join", "missing.h5"], "export": ["export", "missing.h5"],
                "synapses": ["synapses", "microcircuit", "--scale", "0.01"],
                "nodes": ["nodes", "microcircuit", "--scale", "0.01"],
                "analyze": ["analyze", "missing.h5"], "compare": ["compare", "missing.h5", "missing.h5"]}
    for name, command in commands.items():
        for output, message in ((tmp_path, f"--output {tmp_path}: is a directory; give a file name, e.g. "),
                                (tmp_path / "plain" / "x.h5", f"--output {tmp_path / 'plain' / 'x.h5'}: "
                                                             f"{tmp_path / 'plain'} is a file, not a directory")):
            assert main(command + ["--output", str(output)]) == 2, name
            captured = capsys.readouterr()
            assert message in captured.err and "missing.h5" not in captured.err, (name, captured.err)
            assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain"]


def test_rates_window_after_a_restart_that_ends_before_it(tmp_path):
    common = ("run", "microcircuit", "--scale", "0.02", "--no-progress")
    assert run(*common, "--t-sim", "10", "--checkpoint", "ck", "--output", "a.h5", cwd=tmp_path).returncode == 0
    proc = run(*common, "--t-sim", "5", "--restart", "ck", "--rates-from", "20", "--output", "b.h5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "mean rates: none (--rates-from 20 ms is not before the end of the run, 15 ms)" in proc.stdout
    assert "(not recorded)" not in proc.stdout


def test_thalamic_stimulus_from_the_cli_and_across_a_restart(tmp_path):
    """--stimulus thalamus adds the TH sources (recorded, in (701.1, 711.1] ms); a run cut inside
    the volley and restarted gives the uninterrupted run's spikes (the sources keep no state);
    a restart without the stimulus is another model."""
    common = ("--scale", "0.02", "--seed", "4", "--no-progress", "--stimulus", "thalamus")
    assert run("run", "microcircuit", *common, "--t-sim", "720", "--output", "whole.h5", cwd=tmp_path).returncode == 0
    assert run("run", "microcircuit", *common, "--t-sim", "705", "--output", "a.h5", "--checkpoint", "ck",
               cwd=tmp_path).returncode == 0
    proc = run("run", "microcircuit", *common, "--t-sim", "15", "--output", "b.h5", "--restart", "ck", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert run("join", "a.h5", "b.h5", "--output", "joined.h5", cwd=tmp_path).returncode == 0
    with h5py.File(tmp_path / "whole.h5") as a, h5py.File(tmp_path / "joined.h5") as b:
        t = a["spikes"]["TH"]["timestamps"][()]
        assert t.size > 500 and t.min() > 701.1 and t.max() <= 711.1 + 1e-9
        for name in a["spikes"]:
            for key in ("node_ids", "timestamps"):
                assert np.array_equal(a["spikes"][name][key][()], b["spikes"][name][key][()])
    summary = json.loads((tmp_path / "whole_summary.json").read_text())
    assert summary["parameters"]["stimulus"] == "thalamus" and summary["mean_rates_hz"]["TH"] > 0
    proc = run("run", "microcircuit", "--scale", "0.02", "--seed", "4", "--t-sim", "5", "--restart", "ck",
               "--output", "c.h5", "--no-progress", cwd=tmp_path)
    assert proc.returncode == 2 and "was written by a different model" in proc.stderr
    for args, message in ((("microcircuit", "--stimulus", "light"), "unknown stimulus 'light'; known: thalamus, dc"),
                          (("brunel", "--stimulus", "dc"), "model 'brunel' does not take --stimulus")):
        proc = run("run", *args, "--t-sim", "1", "--output", "d.h5", cwd=tmp_path)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
