"""`distsnn calibrate`: the search (Illinois regula falsi) on functions with known roots,
and the command on the Brunel network: a value whose run meets the target, runs reused when
run again, a range that does not bracket the target refused with its runs kept."""
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from distsnn.analysis import analyze_file
from distsnn.cli import main
from distsnn.runtime.calibrate import NoBracket, illinois

BRUNEL = ["brunel", "--scale", "0.05", "--t-sim", "100", "--rates-from", "20", "--no-progress"]


@pytest.mark.parametrize("f, root", [(lambda x: x ** 3 - 2.0, 2.0 ** (1 / 3)), (lambda x: math.exp(-x) - 0.3,
                                                                               -math.log(0.3))])
def test_the_search_finds_roots_in_few_runs(f, root):
    history, (x, fx), converged = illinois(f, 0.0, 4.0, 1e-7, 40)
    assert converged and abs(fx) <= 1e-7 and x == pytest.approx(root, abs=1e-6)
    assert history[:2] == [(0.0, f(0.0)), (4.0, f(4.0))] and len(history) <= 14   # superlinear, not bisection's 30
    assert all(0.0 <= h[0] <= 4.0 for h in history)


def test_the_search_stops_and_reports():
    history, (x, fx), converged = illinois(lambda x: x - 1.0, 1.0, 2.0, 0.0, 10)   # at an end
    assert converged and x == 1.0 and len(history) == 1
    history, best, converged = illinois(lambda x: x ** 3 - 2.0, 0.0, 4.0, 1e-12, 4)   # out of runs
    assert not converged and len(history) == 4 and best == min(history, key=lambda h: abs(h[1]))
    step = illinois(lambda x: -1.0 if x < 1.5 else 1.0, 0.0, 4.0, 0.1, 100, xtol=1e-3)   # no value meets it
    assert not step[2] and abs(step[1][0] - 1.5) < 2e-3 and len(step[0]) < 30
    with pytest.raises(NoBracket, match="of one sign"):
        illinois(lambda x: x + 1.0, 0.0, 4.0, 1e-6, 10)


def calibrate(tmp_path, *extra, name="cal"):
    return main(["calibrate", *BRUNEL, "--output-dir", str(tmp_path / name), *extra])


def test_calibrate_finds_the_drive_for_a_rate_and_reuses_its_runs(tmp_path, capsys):
    args = ["--range", "eta=1,3", "--target", "E:rate_hz=35", "--tolerance", "2"]
    assert calibrate(tmp_path, *args) == 0
    out = capsys.readouterr().out
    result = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    r = result["result"]
    assert r["converged"] and abs(r["rate_hz"] - 35) <= 2 and 1 < r["eta"] < 3
    assert f"eta = {r['eta']:.6g} gives E's rate_hz" in out
    # the run it names is a run at that value, with that rate
    stats = analyze_file(r["spike_files"][0], t_start=20.0)
    assert stats["E"].summary()["mean_rate_hz"] == pytest.approx(r["rate_hz"], rel=1e-12)
    ends = result["evaluations"][:2]
    assert [e["eta"] for e in ends] == [1.0, 3.0] and ends[0]["rate_hz"] < 35 < ends[1]["rate_hz"]
    # the same command again: every run is reused, the result the same
    assert calibrate(tmp_path, *args) == 0
    again = capsys.readouterr().out
    assert again.count("done before") == len(result["evaluations"]) and "real-time factor" not in again
    assert json.loads((tmp_path / "cal" / "calibration.json").read_text())["result"] == r
    # other options in the same directory: refused, named
    assert calibrate(tmp_path, "--range", "eta=1,3", "--target", "E:rate_hz=30", "--tolerance", "2") == 2
    assert "holds another calibration (it differs in calibrate)" in capsys.readouterr().err


def test_calibrate_over_seeds_reports_their_spread(tmp_path, capsys):
    assert calibrate(tmp_path, "--range", "eta=1,3", "--target", "E:rate_hz=35", "--tolerance", "3", "--seeds",
                     "2", "--max-runs", "4") == 0
    result = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    first = result["evaluations"][0]
    assert first["runs"] == [0, 1] and first["sd_over_seeds"] > 0
    seeds = [json.loads((tmp_path / "cal" / f"run_000{k}_stats.json").read_text())["values"] for k in (0, 1)]
    assert seeds == [{"eta": 1.0, "seed": 1}, {"eta": 1.0, "seed": 2}]
    rates = [json.loads((tmp_path / "cal" / f"run_000{k}_stats.json").read_text())["populations"]["E"]["rate_hz"]
             for k in (0, 1)]
    assert first["rate_hz"] == pytest.approx(sum(rates) / 2, rel=1e-12)
    assert "sd" in capsys.readouterr().out


def test_bad_calibrations_are_refused(tmp_path, capsys):
    assert calibrate(tmp_path, "--range", "eta=1,3", "--target", "E:rate_hz=500") == 2   # beyond the range
    err = capsys.readouterr().err
    assert "the target is not inside the range" in err and "the runs are kept" in err
    assert (tmp_path / "cal" / "run_0001.h5").exists()
    for rng, target, text in (("eta=3,1", "E:rate_hz=5", "LO < HI"), ("eta=1", "E:rate_hz=5", "give NAME=LO,HI"),
                              ("seed=1,3", "E:rate_hz=5", "not a quantity to calibrate"),
                              ("eta=1,,3", "E:rate_hz=5", "--range 'eta=1,,3': an empty value"),
                              ("eta=1,3", "E:speed=5", "MEASURE one of rate_hz"),
                              ("eta=1,3", "E:rate_hz=x", "is not a number"),
                              ("eta=1,3", "X:rate_hz=5", "no population 'X'")):
        assert calibrate(tmp_path, "--range", rng, "--target", target, name="bad") == 2, rng
        assert text in capsys.readouterr().err
    assert main(["calibrate", *BRUNEL, "--eta", "2", "--range", "eta=1,3", "--target", "E:rate_hz=5",
                 "--output-dir", str(tmp_path / "bad2")]) == 2
    assert "--eta given and calibrated" in capsys.readouterr().err


MPIEXEC = shutil.which("mpiexec", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("mpiexec")


@pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install 'distsnn[mpi]')")
def test_calibrate_on_two_ranks_takes_the_same_steps(tmp_path):
    args = ["--range", "eta=1,3", "--target", "E:rate_hz=35", "--tolerance", "2"]
    assert calibrate(tmp_path, *args) == 0
    proc = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "distsnn", "calibrate", *BRUNEL, *args,
                           "--output-dir", str(tmp_path / "two")], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    one, two = (json.loads((tmp_path / d / "calibration.json").read_text()) for d in ("cal", "two"))
    assert one["evaluations"] == two["evaluations"] and one["result"]["eta"] == two["result"]["eta"]
    assert json.loads((tmp_path / "two" / "run_0000_summary.json").read_text())["ranks"] == 2
