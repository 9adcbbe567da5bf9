"""SONATA spike file and state report layout, round trip, and safe overwrite."""
import h5py
import numpy as np
import pytest

from distsnn.io import read_report, read_spikes, report_path, write_report, write_spikes
from distsnn.io.sonata import read_metadata
from distsnn.models import microcircuit
from distsnn.runtime import simulate


@pytest.fixture(scope="module")
def result():
    return simulate(microcircuit.build(0.02, record_voltage=2), 200.0, seed=5, progress=False)


def test_spike_file_layout(result, tmp_path):
    path = tmp_path / "out" / "spikes.h5"
    write_spikes(str(path), result, {"model": "microcircuit", "seed": 5, "timers": {"build": 1.0}})
    with h5py.File(path, "r") as f:
        assert f.attrs["magic"] == 0x0A7A and f.attrs["magic"].dtype == np.uint32
        assert list(f.attrs["version"]) == [0, 1]
        assert sorted(f["spikes"]) == sorted(microcircuit.POPULATIONS)
        for name in microcircuit.POPULATIONS:
            g = f["spikes"][name]
            assert g.attrs["sorting"] == "by_time"
            assert g["timestamps"].dtype == np.float64 and g["timestamps"].attrs["units"] == "ms"
            assert g["node_ids"].dtype == np.uint64
            ts = g["timestamps"][()]
            assert np.all(np.diff(ts) >= 0) and ts.size == g["node_ids"].shape[0]
    spikes = read_spikes(str(path))
    for name in microcircuit.POPULATIONS:
        ids, times = result.spikes(name)
        assert np.array_equal(spikes[name][0], ids) and np.array_equal(spikes[name][1], times)
    meta = read_metadata(str(path))
    assert meta["seed"] == 5 and meta["timers"] == {"build": 1.0}


def test_spike_times_are_on_the_step_grid(result):
    ids, times = result.spikes("L4E")
    assert times.size > 0
    assert np.allclose(times / 0.1, np.round(times / 0.1)) and times.min() >= 0.1 and times.max() <= 200.0


def test_voltage_report_layout(result, tmp_path):
    path = tmp_path / "v.h5"
    write_report(str(path), result, "V_m")
    rep = read_report(str(path))
    assert sorted(rep) == sorted(microcircuit.POPULATIONS)
    ids, times, data = rep["L23E"]
    assert list(ids) == [0, 1] and data.shape == (2000, 2)
    assert times[0] == pytest.approx(0.1) and times[-1] == pytest.approx(200.0)
    with h5py.File(path, "r") as f:
        assert f["report/L23E/data"].attrs["units"] == "mV" and f["report/L23E/data"].attrs["variable"] == "V_m"
    assert np.all(data < -49.0) and np.all(data > -100.0)
    assert report_path("out/run", "V_m") == "out/run_voltage.h5" and report_path("run", "g_ex") == "run_g_ex.h5"
    with pytest.raises(ValueError, match="w.h5: 'w' is not recorded in this run; recorded: V_m"):
        write_report(str(tmp_path / "w.h5"), result, "w")          # not recorded in this run
    assert not (tmp_path / "w.h5").exists()


def test_a_result_names_what_is_wrong_and_prints_short(result, tmp_path):
    """An unknown population is a ValueError that lists the known ones; a folder given for a
    file is refused before a temporary file goes beside it; the result and its plan print
    on one line each, not as their arrays."""
    for ask in (lambda: result.spikes("L9E"), lambda: result.state("L9E")):
        with pytest.raises(ValueError, match=r"no population 'L9E'; known: L23E, L23I, L4E, .*, L6I$"):
            ask()
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError, match=r"out: is a directory; give a file name, e.g. .*out/run.h5"):
        write_spikes(str(tmp_path / "out"), result)
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and not any((tmp_path / "out").iterdir())
    spikes = result.spike_gids.size
    assert repr(result) == (f"RunResult(cpu, procedural, 0 to 200 ms (2000 steps), {spikes} spikes, state 16 columns "
                            f"x 2000 samples, {result.events} synaptic events)")
    assert repr(result.plan) == "BuildPlan('microcircuit': 1544 neurons in 8 populations, 55 projections, dt=0.1 ms, " \
                                "seed=5)"
    assert repr(result.plan.network) == ("Network('microcircuit': 1544 neurons in 8 populations, 55 projections, "
                                         "8 inputs, dt=0.1 ms, chunk_size=1024, ring_bits='auto')")


def test_a_file_written_without_metadata_keeps_the_runs_window(tmp_path):
    """write_spikes(path, result) with no metadata still records the run's window, so rates
    are taken over the run, not up to its last spike (a silent run: over nothing at all)."""
    from distsnn.analysis import analyze_file
    from distsnn.model import Network
    net = Network(dt=0.1)
    net.add_population("A", 10)
    net.add_poisson_input("A", indegree=100, rate=30.0, weight=90.0, delay=1.0, stop=600.0)   # silent after 600 ms
    net.add_population("Q", 3)                                                                  # silent throughout
    net.record_spikes("A")
    net.record_spikes("Q")
    res = simulate(net, 1000.0, seed=2, progress=False)
    write_spikes(str(tmp_path / "s.h5"), res)
    meta = read_metadata(str(tmp_path / "s.h5"))
    assert (meta["t_start"], meta["t_stop"], meta["t_sim"], meta["dt"]) == (0.0, 1000.0, 1000.0, 0.1)
    stats = analyze_file(str(tmp_path / "s.h5"))
    assert res.mean_rates()["A"] > 0
    assert stats["A"].summary()["mean_rate_hz"] == pytest.approx(res.mean_rates()["A"])
    assert stats["Q"].summary()["mean_rate_hz"] == 0.0
    write_spikes(str(tmp_path / "m.h5"), res, {"t_stop": 5.0, "seed": 2})   # given metadata still wins
    assert read_metadata(str(tmp_path / "m.h5"))["t_stop"] == 5.0


def test_failed_write_keeps_the_previous_file(result, tmp_path):
    path = tmp_path / "spikes.h5"
    write_spikes(str(path), result, {"seed": 5})
    before = path.read_bytes()
    with pytest.raises(TypeError):
        write_spikes(str(path), result, {"bad": object()})    # not storable as an HDF5 attribute
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]               # no temporary file left behind
