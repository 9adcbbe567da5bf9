"""Recording state variables besides V (NEST's multimeter: I_syn_ex, I_syn_in, g_ex, g_in, w):
what each model can record, the checks on what is asked, RunResult.state, and the reports the
command line writes. The values themselves are checked against NEST in test_nest_traces.py,
across engines and ranks in test_determinism / test_gpu_emulated / test_mpi."""
import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from distsnn.io import read_report
from distsnn.model import Network, OneToOne
from distsnn.models import adex
from distsnn.runtime import simulate


def two_models():
    net = Network(dt=0.1)
    net.add_population("psc", 5, "iaf_psc_exp", {"I_e": 300.0})
    net.add_population("cond", 4, "iaf_cond_exp", {"I_e": 300.0})
    net.add_population("ad", 3, "aeif_cond_exp", {"I_e": 1000.0, "b": 40.0, "t_ref": 2.0})
    net.add_spike_source("s", 5, [0, 1, 2], [2.0, 4.0, 6.0])
    net.connect("s", "psc", OneToOne(), 500.0, 1.0)
    for pop in ("psc", "cond", "ad"):
        net.record_spikes(pop)
    return net


def test_what_is_recorded_is_checked():
    net = two_models()
    with pytest.raises(ValueError, match=r"state recording of 'psc': iaf_psc_exp has no state variable 'g_ex'; "
                                         r"recordable: V_m, I_syn_ex, I_syn_in"):
        net.record_state("psc", [0], ["V_m", "g_ex"])
    with pytest.raises(ValueError, match="a spike source has no state to record"):
        net.record_state("s", [0], ["V_m"])
    with pytest.raises(ValueError, match="need one or more variable names"):
        net.record_state("cond", [0], [])
    with pytest.raises(ValueError, match=r"neuron ids must be in \[0, 3\)"):
        net.record_state("ad", [3], ["w"])
    with pytest.raises(ValueError, match="no neuron's state is recorded"):
        net.record_variables(["V_m"])
    assert net.state_records == {}


def test_record_variables_keeps_what_each_model_has():
    net = two_models()
    for pop in ("psc", "cond", "ad"):
        net.record_voltage(pop, [0, 1])
    net.record_variables(["V_m", "g_ex", "w"])
    assert {p: v for p, (_, v) in net.state_records.items()} == {
        "psc": ("V_m",), "cond": ("V_m", "g_ex"), "ad": ("V_m", "g_ex", "w")}
    net.record_variables("w")                         # populations without it are no longer recorded
    assert list(net.state_records) == ["ad"] and net.state_records["ad"][1] == ("w",)
    with pytest.raises(ValueError, match=r"record 'I_syn_ex': no recorded population's model \(aeif_cond_exp\) "
                                         r"has it; recordable: V_m, g_ex, g_in, w"):
        net.record_variables(["I_syn_ex"])


def test_run_result_state_by_population_and_variable():
    net = two_models()
    net.record_state("ad", [0, 2], ["w", "V_m"])
    net.record_state("cond", [1], ["g_in", "V_m"])
    res = simulate(net, 50.0, progress=False)
    assert res.plan.vrec_names == ("w", "V_m", "g_in")      # in order of first appearance
    ids, times, w = res.state("ad", "w")
    assert ids.tolist() == [0, 2] and w.shape == (500, 2) and np.allclose(times, 0.1 * np.arange(1, 501))
    # driven above threshold, the AdEx neurons spike; each spike adds b = 40 pA to w (a = 4 nS
    # and tau_w = 144 ms change it by far less than that in one step)
    spikes = res.spikes("ad")
    assert spikes[0].size > 2
    _, _, v = res.state("ad", "V_m")
    assert np.isin(spikes[0], [0, 2]).sum() >= 2
    for gid, t in zip(*spikes):
        if gid in (0, 2):
            k = int(round(t / 0.1)) - 1
            col = [0, 2].index(gid)
            assert 39.0 < w[k, col] - w[k - 1, col] < 41.0
            assert v[k, col] == -60.0                      # V_reset, clamped while refractory
    assert res.state("cond", "g_in")[2].max() == 0.0     # no inhibitory input: g_in stays 0
    assert res.state("psc", "V_m")[0].size == 0           # not recorded there
    with pytest.raises(ValueError, match="'g_ex' is not recorded in this run; recorded: w, V_m, g_in"):
        res.state("cond", "g_ex")


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "distsnn", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_cli_writes_one_report_per_variable(tmp_path):
    """`--record K --record-from ...`: a SONATA report per variable beside the spike file, with
    its units, the same numbers as the same run through the Python interface."""
    proc = run("run", "adex", "--scale", "0.02", "--t-sim", "100", "--b", "60", "--no-progress", "--backend", "cpu",
               "--record", "3", "--record-from", "w,V_m,g_in", "--output", "out/a.h5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = {"w": "out/a_w.h5", "V_m": "out/a_voltage.h5", "g_in": "out/a_g_in.h5"}
    assert "wrote out/a.h5, out/a_w.h5, out/a_voltage.h5, out/a_g_in.h5 and out/a_summary.json" in proc.stdout
    assert json.loads((tmp_path / "out" / "a_summary.json").read_text())["reports"] == names
    net = adex.build(scale=0.02, b=60.0)
    for pop in ("E", "I"):
        net.record_state(pop, range(3), ["w", "V_m", "g_in"])
    res = simulate(net, 100.0, seed=1, backend="cpu", progress=False)
    units = {"w": "pA", "V_m": "mV", "g_in": "nS"}
    for var, path in names.items():
        report = read_report(str(tmp_path / path))
        assert sorted(report) == ["E", "I"]
        for pop, (ids, times, data) in report.items():
            want = res.state(pop, var)
            assert np.array_equal(ids, want[0]) and np.allclose(times, want[1]) and np.array_equal(data, want[2])
        with h5py.File(tmp_path / path, "r") as f:
            assert f["report/E/data"].attrs["units"] == units[var] and f["report/E/data"].attrs["variable"] == var
    # adaptation: the excitatory neurons' w grows by b at their spikes, the inhibitory ones' (b 0) does not
    w = read_report(str(tmp_path / names["w"]))
    assert w["E"][2].max() > 50.0 and np.all(w["I"][2] == 0.0)


def test_analyze_plots_the_recorded_state(tmp_path, capsys):
    """analyze --plot draws each report beside the spike file (the first neurons of each
    population in the window), reading only the samples it draws."""
    pytest.importorskip("matplotlib")
    from distsnn.analysis import plots
    from distsnn.cli import main
    from distsnn.io import write_report, write_spikes
    net = adex.build(scale=0.02)
    net.record_state("E", np.arange(8), ["V_m", "w"])
    res = simulate(net, 300.0, seed=2, backend="cpu", progress=False)
    write_spikes(str(tmp_path / "run.h5"), res)
    write_report(str(tmp_path / "run_voltage.h5"), res, "V_m")
    write_report(str(tmp_path / "run_w.h5"), res, "w")
    assert main(["analyze", str(tmp_path / "run.h5"), "--plot", str(tmp_path / "fig"), "--t-start", "100",
                 "--output", str(tmp_path / "a.json")]) == 0
    assert "state_V_m.png and state_w.png" in capsys.readouterr().out
    for name in ("state_V_m.png", "state_w.png"):
        assert (tmp_path / "fig" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the window: samples at 0.1 .. 300 ms; from t_start on, TRACE_WINDOW_MS long or to t_stop
    assert plots.state_traces(str(tmp_path / "run_w.h5"), str(tmp_path / "w.png"), t_start=100.0) == \
        ("w", (pytest.approx(100.0), pytest.approx(300.0)))
    assert plots.state_traces(str(tmp_path / "run_w.h5"), str(tmp_path / "w.png"), t_start=50.05, t_stop=80.0) == \
        ("w", (pytest.approx(50.1), pytest.approx(80.0)))
    with pytest.raises(ValueError, match="no recorded sample in 400..500 ms"):
        plots.state_traces(str(tmp_path / "run_w.h5"), str(tmp_path / "w.png"), t_start=400.0, t_stop=500.0)
