"""Spike statistics against Elephant, streaming in blocks, KL comparison, analyze/compare CLI."""
import json
import warnings

import h5py
import numpy as np
import pytest

from distsnn.analysis import analyze_file, compare_files, kl_divergence
from distsnn.cli import main
from distsnn.io.sonata import atomic_h5, write_population_spikes

T_STOP = 3000.0


def synthetic_trains(seed=0, n=40):
    """Gamma-process trains (continuous times, never on bin edges) with various rates and
    regularity, some neurons silent or with a single spike; ordered by time, then id."""
    rng = np.random.default_rng(seed)
    trains = []
    for i in range(n):
        if i % 13 == 5:
            trains.append(np.zeros(0))
            continue
        if i % 13 == 7:
            trains.append(np.array([rng.uniform(0, T_STOP)]))
            continue
        rate, shape = rng.uniform(2, 40), rng.choice([0.5, 1.0, 4.0])
        isi = rng.gamma(shape, 1000.0 / rate / shape, size=int(rate * T_STOP / 1000 * 2) + 10)
        t = np.cumsum(isi) + 2.0
        trains.append(t[t < T_STOP])
    return trains


def write_trains(path, pops):
    with atomic_h5(str(path)) as f:
        for name, trains in pops.items():
            ids = np.concatenate([np.full(t.size, i) for i, t in enumerate(trains)])
            times = np.concatenate(trains)
            order = np.lexsort((ids, times))
            write_population_spikes(f, name, ids[order], times[order], len(trains))
        f.create_group("distsnn").attrs["t_sim"] = T_STOP


def test_statistics_equal_elephant(tmp_path):
    pytest.importorskip("elephant")
    import neo
    import quantities as pq
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import correlation_coefficient
    from elephant.statistics import cv, isi, lvr, mean_firing_rate
    trains = synthetic_trains()
    write_trains(tmp_path / "s.h5", {"A": trains})
    stats = analyze_file(str(tmp_path / "s.h5"), block=37, corr_neurons=15, lvr_r=2.0)["A"]
    assert stats.n_neurons == len(trains)
    for i, t in enumerate(trains):
        st = neo.SpikeTrain(t * pq.ms, t_start=0 * pq.ms, t_stop=T_STOP * pq.ms)
        if t.size == 0:                                   # Elephant refuses empty trains
            assert stats.rates[i] == 0.0
            continue
        rate = mean_firing_rate(st, t_start=0 * pq.ms, t_stop=T_STOP * pq.ms).rescale(pq.Hz).magnitude
        assert stats.rates[i] == pytest.approx(float(rate), rel=1e-12)
        if t.size >= 3:
            intervals = isi(st).rescale(pq.ms).magnitude
            assert stats.cv[i] == pytest.approx(float(cv(intervals)), rel=1e-9)
            assert stats.lvr[i] == pytest.approx(float(lvr(intervals * pq.ms, R=2 * pq.ms)), rel=1e-9)
        else:
            assert np.isnan(stats.cv[i]) and np.isnan(stats.lvr[i])
    sts = [neo.SpikeTrain(trains[i] * pq.ms, t_start=0 * pq.ms, t_stop=T_STOP * pq.ms) for i in stats.corr_ids]
    c = correlation_coefficient(BinnedSpikeTrain(sts, bin_size=1 * pq.ms))
    np.fill_diagonal(c, np.nan)
    assert np.allclose(stats.corr_per_neuron, np.nanmean(c, axis=1), rtol=1e-9, atol=1e-12)
    assert stats.corr_mean == pytest.approx(np.nanmean(c[np.triu_indices(c.shape[0], 1)]), rel=1e-9)
    assert all(trains[i].size > 0 for i in stats.corr_ids)   # only non-silent neurons are sampled


def test_block_size_does_not_change_statistics(tmp_path):
    write_trains(tmp_path / "s.h5", {"A": synthetic_trains(1), "B": synthetic_trains(2, 25)})
    big = analyze_file(str(tmp_path / "s.h5"))
    small = analyze_file(str(tmp_path / "s.h5"), block=5)
    for name in big:
        for field in ("rates", "cv", "lvr", "corr_per_neuron"):
            assert np.allclose(getattr(big[name], field), getattr(small[name], field), rtol=1e-12, equal_nan=True)


def test_window_selects_spikes(tmp_path):
    write_trains(tmp_path / "s.h5", {"A": synthetic_trains(3)})
    full = analyze_file(str(tmp_path / "s.h5"))["A"]
    late = analyze_file(str(tmp_path / "s.h5"), t_start=1000.0)["A"]
    with h5py.File(tmp_path / "s.h5", "r") as f:
        t, ids = f["spikes/A/timestamps"][()], f["spikes/A/node_ids"][()]
    assert np.allclose(late.rates, np.bincount(ids[t >= 1000.0], minlength=40) / 2.0)
    assert not np.allclose(late.rates, full.rates)
    with pytest.raises(ValueError, match="must be after t_start"):
        analyze_file(str(tmp_path / "s.h5"), t_start=5000.0)


def test_population_silent_in_the_window(tmp_path):
    """A population whose spikes all fall before t_start (an early transient) has rate 0 and
    no ISIs, whatever the block size; the others are unaffected."""
    early = [np.array([10.0, 20.0, 30.0]), np.zeros(0), np.array([5.0])]
    write_trains(tmp_path / "s.h5", {"early": early, "A": synthetic_trains(4)})
    for block in (2, 1 << 20):
        stats = analyze_file(str(tmp_path / "s.h5"), t_start=500.0, block=block)
        assert np.array_equal(stats["early"].rates, np.zeros(3))
        assert np.all(np.isnan(stats["early"].lvr)) and stats["early"].corr_ids.size == 0
        assert stats["A"].rates.sum() > 0


def test_kl_divergence_behaviour():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(0, 1, 5000), rng.normal(0, 1, 5000), rng.normal(1.5, 1, 5000)
    assert kl_divergence(a, a) == 0.0
    same, shifted = kl_divergence(a, b), kl_divergence(a, c)
    assert 0 < same < 0.02 and shifted > 0.5
    assert np.isnan(kl_divergence([1.0], b))
    tiny_iqr = np.r_[np.zeros(500), np.linspace(1e-12, 2e-12, 500), np.ones(10)]   # bins are capped
    assert kl_divergence(tiny_iqr, tiny_iqr[::-1]) == 0.0
    mostly_silent = np.r_[np.zeros(900), rng.uniform(0, 5, 100)]              # IQR 0: sqrt(n) bins
    assert np.isfinite(kl_divergence(mostly_silent, np.r_[np.zeros(850), rng.uniform(0, 5, 150)]))
    assert np.isnan(kl_divergence(np.ones(10), b))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                        # no 0/0 on the way
        # the comparison's mass only in bins where the reference has none (6 bins over [0, 1])
        assert np.isnan(kl_divergence(np.r_[np.zeros(1000), np.ones(1000)], rng.uniform(0.3, 0.7, 500)))


def test_compare_identical_and_different_runs(tmp_path):
    write_trains(tmp_path / "a.h5", {"A": synthetic_trains(4, 300)})
    write_trains(tmp_path / "b.h5", {"A": synthetic_trains(5, 300)})
    same, _, _ = compare_files(str(tmp_path / "a.h5"), str(tmp_path / "a.h5"))
    assert same["kl_divergence"]["A"] == {"rate": 0.0, "lvr": 0.0, "corr": 0.0}
    other, _, _ = compare_files(str(tmp_path / "a.h5"), str(tmp_path / "b.h5"))
    assert all(np.isfinite(v) and v > 0 for v in other["kl_divergence"]["A"].values())
    write_trains(tmp_path / "c.h5", {"E": synthetic_trains(6, 30), "I": synthetic_trains(7, 10)})
    with pytest.raises(ValueError, match=r"a.h5 and .*c.h5 have no population in common \(populations: A; E, I\): "
                                         r"nothing to compare"):
        compare_files(str(tmp_path / "a.h5"), str(tmp_path / "c.h5"))
    write_trains(tmp_path / "d.h5", {"A": synthetic_trains(5, 300), "I": synthetic_trains(7, 10)})
    part, _, _ = compare_files(str(tmp_path / "a.h5"), str(tmp_path / "d.h5"))   # the shared ones, the rest named
    assert set(part["kl_divergence"]) == {"A"} and part["only_in_comparison"] == ["I"]
    assert "only_in_reference" not in part and "only_in_comparison" not in same


def test_analyze_and_compare_commands(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    for seed in (1, 2):
        assert main(["run", "microcircuit", "--scale", "0.02", "--t-sim", "300", "--seed", str(seed),
                     "--no-progress", "--output", str(tmp_path / f"run{seed}.h5")]) == 0
    capsys.readouterr()
    assert main(["analyze", str(tmp_path / "run1.h5"), "--output", str(tmp_path / "summary.json"),
                 "--plot", str(tmp_path / "figures"), "--t-start", "100", "--rate-bin", "10"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    pops = summary["populations"]
    assert set(pops) == {"L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"}
    assert pops["L4E"]["n_neurons"] == round(21915 * 0.02) and pops["L5I"]["mean_rate_hz"] > 0
    series = pops["L5I"]["population_rate"]
    assert len(series["hz"]) == 20 and series["edges_ms"][0] == 100.0 and series["edges_ms"][-1] == 300.0
    assert np.mean(series["hz"]) == pytest.approx(pops["L5I"]["mean_rate_hz"])
    for png in ("raster.png", "rates.png", "population_rates.png"):
        assert (tmp_path / "figures" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["compare", str(tmp_path / "run1.h5"), str(tmp_path / "run2.h5"), "--output",
                 str(tmp_path / "cmp.json"), "--plot", str(tmp_path / "cmp.png")]) == 0
    cmp = json.loads((tmp_path / "cmp.json").read_text())
    assert set(cmp["kl_divergence"]["L4E"]) == {"rate", "lvr", "corr"}
    assert (tmp_path / "cmp.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_analysis_options_are_one_line_errors(tmp_path, capsys):
    """analyze and compare refuse meaningless options and unwritable outputs before reading the
    spike files (no traceback, nothing written); bins too fine for memory are refused before
    they are allocated."""
    write_trains(tmp_path / "a.h5", {"A": synthetic_trains(4, 30)})
    a = str(tmp_path / "a.h5")
    (tmp_path / "dir").mkdir()
    cases = ((["--corr-bin", "0"], "the bin of the spike counts must be a positive number of ms, got 0.0"),
             (["--corr-bin", "nan"], "the bin of the spike counts must be a positive number of ms, got nan"),
             (["--lvr-r", "-1"], "LvR's refractoriness R must be a finite number of ms >= 0, got -1.0"),
             (["--corr-neurons", "1"], "must be 0 (no correlations) or an integer >= 2"),
             (["--corr-neurons", "-3"], "must be 0 (no correlations) or an integer >= 2"),
             (["--t-start", "nan"], f"analysis window: t_stop ({T_STOP}) must be after t_start (nan), both finite"),
             # the sample: the 28 of 30 neurons that spike
             (["--corr-bin", "1e-9"], f"correlations of A: 28 x {T_STOP * 1e9:.4g} bins of 1e-09 ms over {T_STOP:g} ms "
                                      "would take"),
             (["--rate-bin", "1e-9"], f"population rate: 1 x {T_STOP * 1e9:.4g} bins"),
             (["--output", str(tmp_path / "dir")], "is a directory; give a file name, e.g. "),
             (["--output", str(tmp_path / "a.h5" / "x.json")], "a.h5 is a file, not a directory"))
    for command in ("analyze", "compare"):
        for options, text in cases + ((["--plot", a if command == "analyze" else str(tmp_path / "dir")],
                                       "is a file, not a directory" if command == "analyze" else
                                       "is a directory; give a file name, e.g. "),):
            if command == "compare" and options[0] == "--rate-bin":
                continue   # compare has no population rate
            files = [a] if command == "analyze" else [a, a]
            assert main([command, *files, *options]) == 2, options
            err = capsys.readouterr().err
            assert text in err and "Traceback" not in err, (command, options, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.h5", "dir"] and not any((tmp_path / "dir").iterdir())
    # 0 neurons: no correlations, the rest as before
    none = analyze_file(a, corr_neurons=0)["A"]
    assert none.corr_ids.size == 0 and np.isnan(none.corr_mean)
    assert np.array_equal(none.rates, analyze_file(a)["A"].rates)


def test_population_rate_in_bins(tmp_path):
    """Spikes per bin over (neurons x width), right-closed bins from t_start, a shorter last
    bin; equal to NumPy's histogram of the same spikes, whatever the block size."""
    trains = synthetic_trains(3)
    write_trains(tmp_path / "s.h5", {"A": trains})
    t_all = np.concatenate(trains)
    for t_start, t_stop, width in ((0.0, T_STOP, 7.0), (13.3, 700.0, 25.0)):
        st = analyze_file(str(tmp_path / "s.h5"), t_start=t_start, t_stop=t_stop, rate_bin=width, block=29)["A"]
        edges = np.minimum(t_start + width * np.arange(int(np.ceil((t_stop - t_start) / width)) + 1), t_stop)
        assert np.allclose(st.rate_edges, edges) and st.rate_edges[-1] == t_stop
        t = t_all[(t_all >= t_start) & (t_all <= t_stop)]
        counts = np.histogram(t, bins=edges)[0]        # no spike lies on an edge (continuous times)
        assert np.allclose(st.rate_series, counts / (len(trains) * np.diff(edges) * 1e-3))
        # the series integrates to the mean rate
        assert np.sum(st.rate_series * np.diff(edges)) / (t_stop - t_start) == pytest.approx(st.rates.mean())
    with pytest.raises(ValueError, match="bin must be a positive number of ms"):
        analyze_file(str(tmp_path / "s.h5"), rate_bin=0.0)


def test_population_rate_edges_are_right_closed(tmp_path):
    """A spike at a step's end time (distsnn's and NEST's convention) belongs to the bin that
    ends there; one at t_start to the first bin."""
    write_trains(tmp_path / "s.h5", {"A": [np.array([0.0, 5.0, 5.1, 10.0]), np.array([])]})
    st = analyze_file(str(tmp_path / "s.h5"), t_start=0.0, t_stop=10.0, rate_bin=5.0)["A"]
    assert np.allclose(st.rate_series, np.array([2, 2]) / (2 * 5e-3))


def test_population_rate_plots(tmp_path):
    """Panels for a few populations, one image for many (the multi-area model has 254)."""
    pytest.importorskip("matplotlib")
    from distsnn.analysis import plots
    for n_pops in (3, 15):
        path = tmp_path / f"p{n_pops}.h5"
        write_trains(path, {f"P{k}": synthetic_trains(k, 10) for k in range(n_pops)})
        png = tmp_path / f"p{n_pops}.png"
        plots.population_rates(str(png), analyze_file(str(path), rate_bin=20.0))
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="analyze with a rate bin"):
        plots.population_rates(str(tmp_path / "x.png"), analyze_file(str(path)))


def modulated_trains(seed, n, f_hz, depth, rate_hz=20.0, t_stop=T_STOP):
    """Inhomogeneous Poisson trains with rate r (1 + depth sin(2 pi f t)), by thinning."""
    rng = np.random.default_rng(seed)
    peak = rate_hz * (1 + depth)
    trains = []
    for _ in range(n):
        t = np.cumsum(rng.exponential(1000.0 / peak, size=int(peak * t_stop / 1000 * 1.5) + 20))
        t = t[t < t_stop]
        keep = rng.uniform(size=t.size) < (1 + depth * np.sin(2 * np.pi * f_hz * t * 1e-3)) / (1 + depth)
        trains.append(t[keep])
    return trains


def test_rate_spectrum_normalisation_and_peak():
    """sum(psd) df is the variance (flat for white noise); a sinusoid's power A^2/2 sits at its
    frequency; bad series are refused."""
    from distsnn.analysis import rate_spectrum
    rng = np.random.default_rng(5)
    noise = rng.normal(10.0, 3.0, size=20000)
    freq, psd, _ = rate_spectrum(noise, 1.0)
    df = freq[1] - freq[0]
    assert df == pytest.approx(1000.0 / 256) and freq[-1] == pytest.approx(500.0)
    assert np.sum(psd) * df == pytest.approx(9.0, rel=0.03)
    assert np.std(psd[1:-1]) / np.mean(psd[1:-1]) < 0.15              # flat: averaged over 155 segments
    t = np.arange(4096) * 2.0                                          # 2 ms bins
    sine = 5.0 + 4.0 * np.sin(2 * np.pi * 62.5e-3 * t)                 # 62.5 Hz, on the grid of 256 bins
    freq, psd, peak = rate_spectrum(sine, 2.0)
    assert peak == pytest.approx(62.5) and np.sum(psd) * (freq[1] - freq[0]) == pytest.approx(8.0, rel=1e-2)
    whole = rate_spectrum(sine, 2.0, segment_bins=4096)                # one segment: the exact variance
    assert whole[2] == pytest.approx(62.5) and np.sum(whole[1]) * (whole[0][1] - whole[0][0]) == \
        pytest.approx(np.var(sine), rel=1e-3)
    assert np.isnan(rate_spectrum(np.zeros(300), 1.0)[2])              # silent: no peak
    for bad in ([1.0], np.zeros((3, 3))):
        with pytest.raises(ValueError, match="at least 2 bins"):
            rate_spectrum(bad, 1.0)


def test_population_rate_spectrum_finds_the_modulation(tmp_path):
    """Spike trains whose rate oscillates at 40 Hz: the population rate's spectrum peaks
    there, within its resolution; an unmodulated population has no such peak."""
    write_trains(tmp_path / "s.h5", {"osc": modulated_trains(1, 300, 40.0, 0.8),
                                     "flat": modulated_trains(2, 300, 40.0, 0.0)})
    stats = analyze_file(str(tmp_path / "s.h5"), rate_bin=1.0, t_stop=2999.5)   # a short last bin, left out
    freq, psd, peak = stats["osc"].spectrum()
    assert abs(peak - 40.0) <= freq[1] - freq[0]
    band = np.abs(freq - 40.0) <= 2 * (freq[1] - freq[0])
    assert psd[band].max() > 50 * np.median(psd[1:])
    f2, psd2, _ = stats["flat"].spectrum()
    assert psd2[band].max() < 5 * np.median(psd2[1:])
    with pytest.raises(ValueError, match="analyze with a rate bin"):
        analyze_file(str(tmp_path / "s.h5"))["osc"].spectrum()


def test_analyze_spectrum_command(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    write_trains(tmp_path / "s.h5", {"osc": modulated_trains(3, 200, 25.0, 0.9)})
    assert main(["analyze", str(tmp_path / "s.h5"), "--spectrum", "--output", str(tmp_path / "a.json"),
                 "--plot", str(tmp_path / "fig")]) == 0
    assert "rate_spectra.png" in capsys.readouterr().out
    spec = json.loads((tmp_path / "a.json").read_text())["populations"]["osc"]["rate_spectrum"]
    assert abs(spec["peak_hz"] - 25.0) <= spec["freq_hz"][1] and len(spec["freq_hz"]) == len(spec["psd_hz2_per_hz"])
    assert "population_rate" not in json.loads((tmp_path / "a.json").read_text())["populations"]["osc"]
    assert (tmp_path / "fig" / "rate_spectra.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from distsnn.analysis import plots
    many = tmp_path / "many.h5"
    write_trains(many, {f"P{k}": modulated_trains(k, 20, 30.0, 0.5) for k in range(14)})
    plots.rate_spectra(str(tmp_path / "many.png"), analyze_file(str(many), rate_bin=2.0))
    assert (tmp_path / "many.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a silent population has no line on the log scale (matplotlib warned of one) and is named instead
    quiet = tmp_path / "quiet.h5"
    write_trains(quiet, {"osc": modulated_trains(3, 50, 25.0, 0.9), "silent": [np.zeros(0)] * 5})
    titles = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import matplotlib.axes
        real = matplotlib.axes.Axes.set_title
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(matplotlib.axes.Axes, "set_title",
                       lambda ax, text, **kw: titles.append(text) or real(ax, text, **kw))
            plots.rate_spectra(str(tmp_path / "quiet.png"), analyze_file(str(quiet), rate_bin=1.0))
    assert titles[-1].endswith("\nno fluctuation (silent or constant rate): silent")


def test_repeated_spikes_leave_lvr_undefined_without_warnings(tmp_path):
    """A spike source's repeated spikes in one step are intervals of 0: the rate counts them;
    two zero intervals in a row have no LvR (NaN for that neuron, no warning), one zero
    interval is an ordinary term; the others' statistics are untouched."""
    trains = [np.array([5.0, 5.0, 5.0, 9.0]), np.array([10.0, 10.0, 20.0, 35.0]), np.array([10.0, 20.0, 30.0])]
    write_trains(tmp_path / "r.h5", {"S": trains})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        st = analyze_file(str(tmp_path / "r.h5"))["S"]
    assert st.rates.tolist() == pytest.approx([4 / 3.0, 4 / 3.0, 1.0])
    assert np.isnan(st.lvr[0])
    r = 2.0   # the default refractoriness constant (ms)
    one_zero = 3.0 / 2 * ((1 - 0) * (1 + 4 * r / 10.0) + (1 - 4 * 10.0 * 15.0 / 25.0 ** 2) * (1 + 4 * r / 25.0))
    assert st.lvr[1] == pytest.approx(one_zero) and st.lvr[2] == 0.0   # a regular train: 0
    assert np.isfinite(st.summary()["mean_lvr"])


def test_population_fano_factor_measures_synchrony(tmp_path):
    """Independent Poisson trains: the population count's Fano factor is 1 (within its
    sampling error); the same neurons firing together (each spike shared by half of them)
    give about the number of neurons that share a spike; the definition by hand."""
    rng = np.random.default_rng(3)
    independent = modulated_trains(4, 200, 40.0, 0.0)
    shared = np.sort(rng.uniform(0, T_STOP, size=int(20.0 * T_STOP / 1000)))
    together = [shared[rng.uniform(size=shared.size) < 0.5] for _ in range(200)]
    write_trains(tmp_path / "s.h5", {"independent": independent, "together": together, "silent": [np.zeros(0)] * 5})
    stats = analyze_file(str(tmp_path / "s.h5"), rate_bin=2.0, t_stop=2999.5)   # a short last bin, left out
    assert stats["independent"].population_fano() == pytest.approx(1.0, abs=0.1)
    assert stats["together"].population_fano() == pytest.approx(100.0, rel=0.15)
    assert np.isnan(stats["silent"].population_fano())
    times = np.concatenate(together)
    counts = np.histogram(times, bins=np.arange(0.0, 2999.0, 2.0))[0]
    assert stats["together"].population_fano() == pytest.approx(counts.var() / counts.mean(), rel=1e-12)
    assert stats["together"].summary()["population_fano"] == stats["together"].population_fano()
    with pytest.raises(ValueError, match="analyze with a rate bin"):
        analyze_file(str(tmp_path / "s.h5"))["together"].population_fano()
