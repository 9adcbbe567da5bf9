"""`distsnn sweep`: a grid of runs, each point the run `distsnn run` gives with its values,
its statistics those of `distsnn analyze`, a stopped sweep finished by the same command, and
bad sweeps refused before anything runs."""
import csv
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from distsnn.analysis import analyze_file
from distsnn.cli import main
from distsnn.cli_models import param_value
from distsnn.cli_sweep import variable_options
from distsnn.io import read_spikes
from distsnn.runtime.sweep import grid, parse_vary

TABLE = "sweep_table.csv"
BRUNEL = ["brunel", "--scale", "0.05", "--t-sim", "100", "--rates-from", "20", "--no-progress"]


def sweep(tmp_path, *extra, name="sw"):
    return main(["sweep", *BRUNEL, "--output-dir", str(tmp_path / name), *extra])


def same_spikes(a, b):
    x, y = read_spikes(str(a)), read_spikes(str(b))
    return sorted(x) == sorted(y) and all(np.array_equal(x[k][0], y[k][0]) and np.array_equal(x[k][1], y[k][1])
                                          for k in x)


def test_vary_specs_and_the_grid():
    types = variable_options()
    vary = parse_vary(["g=4,5", "--delay-spread=0,0.5", "seed=1,2"], types)
    assert vary == {"g": (4.0, 5.0), "delay_spread": (0.0, 0.5), "seed": (1, 2)}
    points = grid(vary)
    assert len(points) == 8 and points[0] == {"g": 4.0, "delay_spread": 0.0, "seed": 1}
    assert points[1] == {"g": 4.0, "delay_spread": 0.0, "seed": 2}   # the last option varies fastest
    assert points[-1] == {"g": 5.0, "delay_spread": 0.5, "seed": 2}
    for spec, text in (("g", "give NAME=V1,V2"), ("=1,2", "give NAME=V1,V2"), ("tau=1,2", "cannot be varied"),
                       ("g=1,,2", "an empty value"), ("seed=1.5", "not a int"), ("g=4,4.0", "given twice"),
                       ("g=x", "not a float")):
        with pytest.raises(ValueError, match=text):
            parse_vary([spec], types)
    # any other name is a keyword of the model's build(), its values as --param reads them
    assert parse_vary(["tau_syn=0.5,2", "weight_exponential=false,true", "label=a,b"], types, param_value) == \
        {"tau_syn": (0.5, 2), "weight_exponential": (False, True), "label": ("a", "b")}
    with pytest.raises(ValueError, match="or a keyword of the model's build"):
        parse_vary(["tau.syn=1"], types, param_value)
    with pytest.raises(ValueError, match="g is varied twice"):
        parse_vary(["g=1", "g=2"], types)
    with pytest.raises(ValueError, match="at least one --vary"):
        parse_vary([], types)


def test_points_are_the_runs_of_their_values_and_the_table_their_statistics(tmp_path, capsys):
    assert sweep(tmp_path, "--vary", "g=4,6", "--vary", "eta=1,2", "--plot") == 0
    out = capsys.readouterr().out
    assert "4 points in" in out and "point 3 (g=6, eta=2)" in out and "wrote sweep_table.csv" in out
    d = tmp_path / "sw"
    assert (d / "sweep.png").stat().st_size > 0
    # point 2 is g = 6, eta = 1: the very run of `distsnn run` with those values
    ref = tmp_path / "ref.h5"
    assert main(["run", *BRUNEL, "--g", "6", "--eta", "1", "--output", str(ref)]) == 0
    assert same_spikes(d / "point_0002.h5", ref)
    assert "brunel: 625 neurons" in (d / "point_0002.log").read_text()
    rows = list(csv.DictReader(open(d / "sweep_table.csv")))
    assert len(rows) == 8 and [r["population"] for r in rows[:2]] == ["E", "I"]
    assert [(float(r["g"]), float(r["eta"])) for r in rows[::2]] == [(4, 1), (4, 2), (6, 1), (6, 2)]
    stats = analyze_file(str(ref), t_start=20.0, corr_neurons=100, rate_bin=1.0)
    for pop in ("E", "I"):
        row = next(r for r in rows if r["point"] == "2" and r["population"] == pop)
        s = stats[pop].summary()
        assert float(row["rate_hz"]) == pytest.approx(s["mean_rate_hz"], rel=1e-12)
        assert float(row["cv"]) == pytest.approx(s["mean_cv"], rel=1e-12)
        assert float(row["fano"]) == pytest.approx(s["population_fano"], rel=1e-12)
        assert float(row["peak_hz"]) == stats[pop].spectrum()[2]
    # stronger inhibition, lower rates; stronger drive, higher ones (Brunel 2000)
    rate = {(float(r["g"]), float(r["eta"])): float(r["rate_hz"]) for r in rows if r["population"] == "E"}
    assert rate[(6, 2)] < rate[(4, 2)] and rate[(6, 1)] < rate[(6, 2)]
    results = json.loads((d / "sweep_results.json").read_text())
    assert results["vary"] == {"g": [4.0, 6.0], "eta": [1.0, 2.0]} and len(results["points"]) == 4
    assert results["points"][2]["window_ms"] == [20.0, 100.0] and results["points"][2]["values"] == {"g": 6.0,
                                                                                                     "eta": 1.0}


def test_a_varied_seed_is_averaged_over(tmp_path, capsys):
    """With the seed varied, sweep_over_seeds.csv has each other point's mean and sd over
    the seeds, and the plot shows the means of the other two options."""
    assert sweep(tmp_path, "--vary", "g=4,6", "--vary", "seed=1,2,3", "--vary", "eta=1,2", "--plot") == 0
    assert "wrote sweep_table.csv, sweep_results.json, sweep_over_seeds.csv, sweep.png" in capsys.readouterr().out
    d = tmp_path / "sw"
    rows = list(csv.DictReader(open(d / "sweep_table.csv")))
    means = list(csv.DictReader(open(d / "sweep_over_seeds.csv")))
    assert len(rows) == 2 * 3 * 2 * 2 and len(means) == 2 * 2 * 2
    for m in means:
        same = [r for r in rows if (r["g"], r["eta"], r["population"]) == (m["g"], m["eta"], m["population"])]
        rates = np.array([float(r["rate_hz"]) for r in same])
        assert sorted(r["seed"] for r in same) == ["1", "2", "3"] and m["n_seeds"] == "3"
        assert float(m["rate_hz"]) == pytest.approx(rates.mean(), rel=1e-12)
        assert float(m["rate_hz_sd"]) == pytest.approx(rates.std(ddof=1), rel=1e-12) and rates.std() > 0
    assert (d / "sweep.png").stat().st_size > 0
    assert sweep(tmp_path, "--vary", "seed=1,2", "--vary", "g=4,6", "--plot", name="line") == 0   # one option left


def test_a_stopped_sweep_is_finished_by_the_same_command(tmp_path, capsys):
    vary = ["--vary", "eta=1,2,3"]
    assert sweep(tmp_path, *vary, "--only", "1") == 0
    out = capsys.readouterr().out
    d = tmp_path / "sw"
    assert "1 of 3 points done; to run: 0, 2 (the table is written" in out and not (d / "sweep_table.csv").exists()
    first = (d / "point_0001_stats.json").read_text()
    stamp = os.stat(d / "point_0001.h5").st_mtime_ns
    assert sweep(tmp_path, *vary, "--list") == 0
    listed = capsys.readouterr().out.split("\n")[:3]
    assert listed == ["   0  eta=1  to run", "   1  eta=2  done", "   2  eta=3  to run"]
    assert sweep(tmp_path, *vary, "--collect") == 2   # --collect needs all points
    assert "points 0, 2 of 3 are not done" in capsys.readouterr().err
    # finished on another engine and connectivity: the spikes are the same (the determinism contract)
    assert sweep(tmp_path, *vary, "--connectivity", "stored") == 0
    out = capsys.readouterr().out
    assert "1 done, 2 to run" in out and "point 1 " not in out and "point 2 (eta=3)" in out
    assert os.stat(d / "point_0001.h5").st_mtime_ns == stamp and (d / "point_0001_stats.json").read_text() == first
    assert sweep(tmp_path, *vary, name="whole") == 0
    for k in range(3):
        assert same_spikes(d / f"point_000{k}.h5", tmp_path / "whole" / f"point_000{k}.h5")
    measures = [{k: v for k, v in r.items() if k != "real_time_factor"}   # all but the timing
                for r in csv.DictReader(open(d / "sweep_table.csv"))]
    assert measures == [{k: v for k, v in r.items() if k != "real_time_factor"}
                        for r in csv.DictReader(open(tmp_path / "whole" / "sweep_table.csv"))]


def test_bad_sweeps_are_refused_before_anything_runs(tmp_path, capsys):
    d = tmp_path / "sw"
    for listing in ([], ["--list"]):   # --list checks every point too
        assert sweep(tmp_path, "--vary", "g=5,-1", *listing) == 2
        assert "sweep point 1 (g=-1): g must be a positive number" in capsys.readouterr().err
    assert not d.exists()
    assert sweep(tmp_path, "--vary", "g=5", "--vary", "eta=1", "--vary", "delay_spread=0,1", "--plot") == 2
    assert "--plot shows one or two varied options (besides the seed)" in capsys.readouterr().err
    assert sweep(tmp_path, "--vary", "g=5", "--only", "1") == 2
    assert "points are 0 to 0, not 1" in capsys.readouterr().err
    assert sweep(tmp_path, "--vary", "g=5", "--rates-from", "100") == 2
    assert "--rates-from 100 ms is not before the end" in capsys.readouterr().err
    assert sweep(tmp_path, "--vary", "g=5", "--rates-from", "95", "--rate-bin", "3") == 2
    assert "must hold at least two bins of --rate-bin 3 ms" in capsys.readouterr().err
    assert sweep(tmp_path, "--vary", "g=5", "--ranks-per-point", "2") == 2
    assert "must divide the job's 1 rank(s)" in capsys.readouterr().err
    assert sweep(tmp_path, "--vary", "g=5", "--corr-neurons", "1") == 2
    assert sweep(tmp_path, "--vary", "g=5,6", "--g", "4") == 2
    assert "--g given and varied" in capsys.readouterr().err
    assert sweep(tmp_path, "--vary", "g=5,6", "--param", "g=4") == 2
    assert "--g given and varied" in capsys.readouterr().err
    assert sweep(tmp_path, "--vary", "tau=1,2") == 2   # not a keyword of brunel's build()
    assert "sweep point 0 (tau=1): model 'brunel' does not take --tau (its options: g, eta, " in \
        capsys.readouterr().err
    assert not d.exists()
    # a directory holding another sweep: refused, its differing options named
    assert sweep(tmp_path, "--vary", "g=5", "--only", "0") == 0
    capsys.readouterr()
    assert main(["sweep", *BRUNEL[:-3], "--t-sim", "50", "--no-progress", "--output-dir", str(d),
                 "--vary", "g=5"]) == 2
    assert "holds another sweep (it differs in --rates-from, --t-sim)" in capsys.readouterr().err
    assert sweep(tmp_path, "--vary", "g=6") == 2
    assert "it differs in vary" in capsys.readouterr().err
    assert sorted(os.listdir(d)) == ["point_0000.h5", "point_0000.log", "point_0000_stats.json",   # its one point
                                     "point_0000_summary.json", "sweep.json"]


MPIEXEC = shutil.which("mpiexec", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("mpiexec")
needs_mpiexec = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install 'distsnn[mpi]')")


def mpi_sweep(ranks, directory, *extra, env=None, timeout=300):
    cmd = [MPIEXEC, "-n", str(ranks), sys.executable, "-m", "distsnn", "sweep", *BRUNEL, "--output-dir",
           str(directory), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=dict(os.environ, **(env or {})))


def same_points(a, b, n):
    return all(same_spikes(a / f"point_{k:04d}.h5", b / f"point_{k:04d}.h5") for k in range(n))


@needs_mpiexec
def test_ranks_run_points_of_their_own_or_together(tmp_path):
    """Under mpiexec each rank runs every other point alone (or, --ranks-per-point 2, both
    ranks each point): the same points as one process."""
    vary = ["--vary", "eta=1,2,3"]
    assert sweep(tmp_path, *vary, name="one") == 0
    proc = mpi_sweep(2, tmp_path / "two", *vary)
    assert proc.returncode == 0, proc.stderr
    assert "3 to run by 2 groups of 1 rank" in proc.stdout and proc.stdout.count("wrote sweep_table.csv") == 1
    assert same_points(tmp_path / "one", tmp_path / "two", 3)
    ranks = [json.loads((tmp_path / "two" / f"point_000{k}_stats.json").read_text())["ranks"] for k in range(3)]
    assert ranks == [1, 1, 1]
    proc = mpi_sweep(2, tmp_path / "pairs", *vary, "--ranks-per-point", "2")
    assert proc.returncode == 0, proc.stderr
    assert "by 1 group of 2 ranks" in proc.stdout
    assert same_points(tmp_path / "one", tmp_path / "pairs", 3)
    assert json.loads((tmp_path / "pairs" / "point_0002_summary.json").read_text())["ranks"] == 2


@needs_mpiexec
def test_ranks_running_points_alone_take_devices_of_their_own(tmp_path):
    """On the (emulated) GPU, ranks that run points alone bind their node's devices by their
    rank in the whole job, not all device 0; the points are the CPU's."""
    vary = ["--vary", "eta=1,2", "--t-sim", "30"]
    assert sweep(tmp_path, *vary, name="cpu") == 0
    proc = mpi_sweep(2, tmp_path / "emu", *vary, "--backend", "gpu-emu", env={"DISTSNN_GPU_EMU_DEVICES": "2"})
    assert proc.returncode == 0, proc.stderr
    assert same_points(tmp_path / "cpu", tmp_path / "emu", 2)
    devices = [json.loads((tmp_path / "emu" / f"point_000{k}_summary.json").read_text())["devices"] for k in (0, 1)]
    assert [d[0]["backend"] for d in devices] == ["gpu-emu"] * 2 and [d[0]["index"] for d in devices] == [0, 1]
    proc = mpi_sweep(2, tmp_path / "one_device", *vary, "--backend", "gpu-emu")   # two ranks, one device
    assert proc.returncode == 2 and "pass --share-gpus" in proc.stderr


@needs_mpiexec
def test_a_failing_point_takes_the_job_down_and_the_rerun_finishes_it(tmp_path):
    vary = ["--vary", "eta=1,2,3"]
    assert sweep(tmp_path, *vary, name="one") == 0
    d = tmp_path / "two"
    t0 = time.monotonic()
    # rank 0 fails writing its second point (point 2) while rank 1, done, waits for it
    proc = mpi_sweep(2, d, *vary, env={"DISTSNN_INJECT_FAULT": "0:write:2"})
    assert proc.returncode != 0 and "injected fault" in proc.stderr
    assert time.monotonic() - t0 < 120
    assert (d / "point_0000_stats.json").exists() and (d / "point_0001_stats.json").exists()
    assert not (d / "point_0002_stats.json").exists() and not (d / "sweep_table.csv").exists()
    proc = mpi_sweep(2, d, *vary)
    assert proc.returncode == 0, proc.stderr
    assert "2 done, 1 to run" in proc.stdout and "point 2 (eta=3)" in proc.stdout
    assert same_points(tmp_path / "one", d, 3)


MODEL = textwrap.dedent('''
    from distsnn.model import FixedIndegree, Network

    def build(scale=1.0, w_ie=-300.0, tau_syn_ex=0.5, input_rate=10.0):
        net = Network(dt=0.1, name="mine")
        n = max(4, int(400 * scale))
        net.add_population("E", n, params={"tau_syn_ex": tau_syn_ex})
        net.add_population("I", n // 4)
        net.connect("E", "E", FixedIndegree(40), 60.0, 1.5)
        net.connect("E", "I", FixedIndegree(40), 60.0, 1.0)
        net.connect("I", "E", FixedIndegree(10), w_ie, 0.8)
        for pop in ("E", "I"):
            net.add_poisson_input(pop, indegree=800, rate=input_rate, weight=60.0, delay=1.5)
        return net
    ''')


def test_a_model_files_own_keywords_are_swept_and_given_by_param(tmp_path, capsys):
    """A model file's build() keywords without options of their own: --param gives one to a
    run, --vary sweeps them; the points are those runs."""
    model = tmp_path / "mine.py"
    model.write_text(MODEL)
    common = ["--t-sim", "100", "--no-progress", "--backend", "cpu"]
    assert main(["sweep", str(model), *common, "--vary", "w_ie=-300,-600", "--vary", "tau_syn_ex=2,5",
                 "--param", "input_rate=12", "--output-dir", str(tmp_path / "sw")]) == 0
    out = capsys.readouterr().out
    assert "point 3 (w_ie=-600, tau_syn_ex=5)" in out
    ref = tmp_path / "ref.h5"
    assert main(["run", str(model), *common, "--param", "w_ie=-600", "--param", "tau_syn_ex=5", "--param",
                 "input_rate=12", "--output", str(ref)]) == 0
    assert same_spikes(tmp_path / "sw" / "point_0003.h5", ref)
    other = tmp_path / "other.h5"
    assert main(["run", str(model), *common, "--param", "w_ie=-600", "--param", "tau_syn_ex=5", "--output",
                 str(other)]) == 0
    assert not same_spikes(ref, other)   # input_rate=12 reached the model
    rows = list(csv.DictReader(open(tmp_path / "sw" / "sweep_table.csv")))
    rate = {(r["w_ie"], r["tau_syn_ex"]): float(r["rate_hz"]) for r in rows if r["population"] == "E"}
    assert rate[("-600", "2")] < rate[("-300", "2")]   # stronger inhibition, lower rate
    capsys.readouterr()
    for bad, text in ((["--param", "w_ie"], "give NAME=VALUE"), (["--param", "tau-syn=1"], "give NAME=VALUE")):
        with pytest.raises(SystemExit):
            main(["run", str(model), *common, *bad])
        assert text in capsys.readouterr().err
    assert main(["run", str(model), *common, "--param", "nope=1", "--output", str(other)]) == 2
    assert "build() does not take --nope (its options: w_ie, tau_syn_ex, input_rate)" in capsys.readouterr().err
    assert main(["run", "brunel", *common, "--g", "5", "--param", "g=6", "--output", str(other)]) == 2
    assert "--param g: g is given twice" in capsys.readouterr().err


def test_a_point_killed_half_way_resumes_from_its_checkpoint(tmp_path):
    """--checkpoint-every: the process killed (SIGKILL) right after point 1's second
    checkpoint; the same command resumes point 1 from it and runs point 2. The points equal a
    sweep that never stopped, and their checkpoints are gone once they are done."""
    vary = ["--vary", "eta=1,2,3"]
    assert sweep(tmp_path, *vary, name="whole") == 0
    cmd = [sys.executable, "-m", "distsnn", "sweep", *BRUNEL, *vary, "--checkpoint-every", "30", "--output-dir",
           str(tmp_path / "sw")]
    # point 0 checkpoints at 30, 60 and 90 ms, point 1 at 30 and 60: the fifth checkpoint
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, DISTSNN_INJECT_FAULT="0:checkpointed:5:kill"))
    assert proc.returncode == -9, proc.stderr
    d = tmp_path / "sw"
    assert (d / "point_0000_stats.json").exists() and not (d / "point_0000_checkpoint").exists()
    assert not (d / "point_0001_stats.json").exists() and (d / "point_0001_checkpoint").is_dir()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "1 done, 2 to run" in proc.stdout and "point 1 (eta=2)" in proc.stdout
    assert "(resumed)" in proc.stdout.split("point 1 (eta=2)")[1].splitlines()[0]
    assert "resumed" in (d / "point_0001.log").read_text()
    stats = json.loads((d / "point_0001_stats.json").read_text())
    assert stats["resumed"] and stats["window_ms"] == [20.0, 100.0]
    for k in range(3):
        assert same_spikes(d / f"point_000{k}.h5", tmp_path / "whole" / f"point_000{k}.h5")
        assert not (d / f"point_000{k}_checkpoint").exists()
    measures = [{k: v for k, v in r.items() if k != "real_time_factor"} for r in csv.DictReader(open(d / TABLE))]
    assert measures == [{k: v for k, v in r.items() if k != "real_time_factor"}
                        for r in csv.DictReader(open(tmp_path / "whole" / TABLE))]
