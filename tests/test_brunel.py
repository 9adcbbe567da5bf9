"""The Brunel (2000) network: its structure (exact in-degrees, weights, delays, drive), its
dynamical states as the paper places them, and its command-line options."""
import numpy as np
import pytest

from distsnn.analysis.statistics import analyze_file
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.cli import main
from distsnn.connectivity import expand_projection
from distsnn.models import brunel
from distsnn.runtime import simulate


def test_structure_exact_indegrees_weights_and_drive():
    net = brunel.build(0.02, g=4.0, eta=1.5)                # 200 E, 50 I; in-degrees stay 1000 / 250
    assert {n: p.size for n, p in net.populations.items()} == {"E": 200, "I": 50}
    assert all(p.model == "iaf_psc_delta" and p.params["V_reset"] == 10.0 for p in net.populations.values())
    plan = make_plan(net, 1)
    assert plan.proj_i.shape[0] == 4
    for j in range(4):
        source, target = (plan.pop_names[plan.proj_i[j, c]] for c in (bp.JI_PRE_POP, bp.JI_POST_POP))
        pre, post, w, _, d = expand_projection(plan, j)
        n_post = net.populations[target].size
        k = brunel.C_E if source == "E" else brunel.C_I
        assert np.array_equal(np.bincount(post.astype(np.int64), minlength=n_post), np.full(n_post, k))
        assert np.allclose(w, 0.1 if source == "E" else -0.4) and np.all(d == 15)
    assert brunel.threshold_rate() == pytest.approx(10.0)
    assert all(p.rate == pytest.approx(15.0) and p.indegree == 1000 and p.weight == 0.1 for p in net.poisson_inputs)


def rates_and_cv(res, tmp_path, t_start):
    from distsnn.io import write_spikes
    path = tmp_path / "b.h5"
    write_spikes(str(path), res)
    st = analyze_file(str(path), t_start=t_start)
    return {p: s.summary()["mean_rate_hz"] for p, s in st.items()}, {p: s.summary()["mean_cv"] for p, s in st.items()}


def test_asynchronous_irregular_and_synchronous_regular_states(tmp_path):
    """g = 5, eta = 2: moderate rates (37 Hz here, and with NEST at full scale: bench_brunel)
    and irregular firing (mean CV of ISIs 0.6 here, 0.42 at full scale in distsnn and NEST);
    g = 3: excitation dominates and every neuron fires regularly (CV 0.002) near saturation
    (1 / t_ref = 500 Hz)."""
    ai = simulate(brunel.build(0.1), 400.0, seed=1, progress=False)
    rates, cv = rates_and_cv(ai, tmp_path, 100.0)
    assert 5.0 < rates["E"] < 60.0 and 5.0 < rates["I"] < 60.0, rates
    assert cv["E"] > 0.3 and cv["I"] > 0.3, cv
    sr = simulate(brunel.build(0.1, g=3.0), 200.0, seed=1, progress=False)
    rates, cv = rates_and_cv(sr, tmp_path, 100.0)
    assert rates["E"] > 200.0 and cv["E"] < 0.05, (rates, cv)


def test_fast_oscillation_state(tmp_path):
    """g = 6, eta = 4 is Brunel's synchronous irregular state with fast oscillations: the
    population rate oscillates near 180 Hz (about 1 / (4 D) with D = 1.5 ms; seen here:
    176 Hz at scale 0.2, 184 Hz at full scale) while single neurons fire irregularly."""
    from distsnn.io import write_spikes
    res = simulate(brunel.build(0.2, g=6.0, eta=4.0), 600.0, seed=1, progress=False)
    write_spikes(str(tmp_path / "si.h5"), res)
    st = analyze_file(str(tmp_path / "si.h5"), t_start=100.0, rate_bin=1.0)["E"]
    freq, psd, peak = st.spectrum()
    assert 150.0 < peak < 210.0 and psd[1:].max() > 20 * np.median(psd[1:]), peak
    assert st.summary()["mean_cv"] > 0.5


def test_command_line_options(tmp_path, capsys):
    out = tmp_path / "b.h5"
    assert main(["run", "brunel", "--scale", "0.02", "--g", "6", "--eta", "4", "--t-sim", "50", "--no-progress",
                 "--output", str(out)]) == 0
    assert "brunel: 250 neurons" in capsys.readouterr().out and out.exists()
    assert main(["run", "microcircuit", "--g", "6", "--t-sim", "1", "--no-progress"]) == 2
    assert "does not take --g" in capsys.readouterr().err
    assert main(["run", "brunel", "--g", "-1", "--t-sim", "1", "--no-progress"]) == 2
    assert "g must be a positive number" in capsys.readouterr().err


def test_recurrent_delays_spread_uniformly(tmp_path, capsys):
    """--delay-spread 2: every recurrent delay uniform over [0.5, 2.5] ms, rounded to steps
    (the end steps half as often), the external input's still 1.5 ms; spreads that would reach
    below dt are refused before any build."""
    net = brunel.build(0.02, delay_spread=2.0)
    assert net.metadata["delay_spread_ms"] == 2.0
    plan = make_plan(net, 1)
    d = np.concatenate([expand_projection(plan, j)[4] for j in range(4)])
    share = np.bincount(d, minlength=26)[5:] / d.size
    assert d.min() == 5 and d.max() == 25
    assert np.allclose(share, np.r_[0.025, np.full(19, 0.05), 0.025], atol=4 * np.sqrt(0.05 / d.size))
    assert all(p.delay == 1.5 for p in net.poisson_inputs)
    out = tmp_path / "b.h5"
    assert main(["run", "brunel", "--scale", "0.02", "--delay-spread", "2", "--t-sim", "50", "--no-progress",
                 "--output", str(out)]) == 0
    assert out.exists()
    capsys.readouterr()
    for bad in ("3", "-1"):
        assert main(["run", "brunel", "--delay-spread", bad, "--t-sim", "1", "--no-progress"]) == 2
        assert "delay_spread must be a number of ms in [0, 2.8]" in capsys.readouterr().err


def test_recurrent_weights_lognormal():
    """--weight-sigma 0.5: the recurrent weights LogNormal with means J and -g J (log sd 0.5),
    the external input's still J; out-of-range sigmas refused before any build."""
    net = brunel.build(0.02, g=4.0, weight_sigma=0.5)
    assert net.metadata["weight_sigma"] == 0.5
    plan = make_plan(net, 1)
    for j in range(4):
        source = plan.pop_names[plan.proj_i[j, bp.JI_PRE_POP]]
        w = expand_projection(plan, j)[2]
        mean = 0.1 if source == "E" else -0.4
        assert np.all(np.sign(w) == np.sign(mean)) and w.mean() == pytest.approx(mean, rel=0.03)
        assert np.std(np.log(np.abs(w))) == pytest.approx(0.5, rel=0.03)
    assert all(p.weight == 0.1 for p in net.poisson_inputs)
    with pytest.raises(ValueError, match=r"weight_sigma must be a number in \[0, 3\]"):
        brunel.build(0.02, weight_sigma=-1.0)


def test_recurrent_delays_and_weights_exponential(tmp_path, capsys):
    """--delay-beta 1 --weight-exponential: recurrent delays 0.5 ms + an exponential of mean
    1 ms (mean D), weights exponential of means J and -g J, the external input's unchanged;
    a beta that would reach below dt, and beta with a spread or weights both lognormal and
    exponential, refused before any build."""
    net = brunel.build(0.02, g=4.0, delay_beta=1.0, weight_exponential=True)
    assert net.metadata["delay_beta_ms"] == 1.0 and net.metadata["weight_exponential"] is True
    plan = make_plan(net, 1)
    for j in range(4):
        source = plan.pop_names[plan.proj_i[j, bp.JI_PRE_POP]]
        _, _, w, _, d = expand_projection(plan, j)
        mean = 0.1 if source == "E" else -0.4
        assert np.all(np.sign(w) == np.sign(mean)) and w.mean() == pytest.approx(mean, rel=0.03)
        assert np.std(w) == pytest.approx(abs(mean), rel=0.05)   # an exponential's sd is its mean
        assert d.min() == 5 and d.mean() * 0.1 == pytest.approx(1.5, rel=0.01)
    assert all(p.weight == 0.1 and p.delay == 1.5 for p in net.poisson_inputs)
    with pytest.raises(ValueError, match=r"delay_beta must be a number of ms in \[0, 1.4\]"):
        brunel.build(0.02, delay_beta=1.45)
    with pytest.raises(ValueError, match="delay_spread and delay_beta: give one"):
        brunel.build(0.02, delay_spread=1.0, delay_beta=1.0)
    with pytest.raises(ValueError, match="weight_sigma and weight_exponential: give one"):
        brunel.build(0.02, weight_sigma=1.0, weight_exponential=True)
    out = tmp_path / "b.h5"
    assert main(["run", "brunel", "--scale", "0.02", "--delay-beta", "1", "--weight-exponential", "--t-sim", "50",
                 "--no-progress", "--output", str(out)]) == 0
    assert out.exists()
    capsys.readouterr()
    assert main(["run", "brunel", "--scale", "0.02", "--delay-beta", "2", "--t-sim", "1", "--no-progress"]) == 2
    assert "delay_beta must be a number of ms in [0, 1.4]" in capsys.readouterr().err
