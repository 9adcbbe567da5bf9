"""Poisson spike sources (Network.add_poisson_source, add_inhomogeneous_poisson_source,
add_sinusoidal_poisson_source): the spikes of the stream's definition on every engine, their
statistics, their window, NEST's sinusoidal_poisson_generator step by step, validation, the
fingerprint."""
import json
import math
import pathlib
from fractions import Fraction

import numpy as np
import pytest

from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build import poisson_source
from distsnn.io.checkpoint import fingerprint
from distsnn.model import FixedProbability, Network, OneToOne
from distsnn.runtime import simulate


def sources_network(chunk_size=8):
    """Sources whose gids start off a multiple of 4 and whose chunks split the Philox quads;
    a window, the rate 1/dt, and a piecewise-constant rate."""
    net = Network(dt=0.1, chunk_size=chunk_size)
    net.add_population("N", 5, params={"I_e": 100.0})
    net.add_poisson_source("P", 37, 3000.0, start=2.0, stop=18.0)
    net.add_poisson_source("Q", 6, 10000.0, start=15.0)          # p = 1: every step
    net.add_inhomogeneous_poisson_source("R", 11, [1.0, 4.0, 4.1, 9.96], [500.0, 0.0, 4000.0, 2000.0])
    # cut at 0 for part of each 1.4 ms period
    net.add_sinusoidal_poisson_source("W", 9, 2000.0, 3000.0, 700.0, phase=40.0, start=3.0, stop=17.0)
    net.connect("P", "N", FixedProbability(0.5), 60.0, 1.0)
    net.connect("R", "N", FixedProbability(0.5), 40.0, 1.5)
    net.connect("W", "N", FixedProbability(0.5), 30.0, 0.5)
    net.add_mip_source("M", 13, 5000.0, 0.4, start=1.0, stop=16.0)   # a parent at p = 1/2 per step
    net.connect("M", "N", FixedProbability(0.5), 20.0, 0.7)
    for name in ("P", "Q", "R", "W", "M"):
        net.record_spikes(name)
    return net


def reference_spikes(net, t_sim, seed):
    """(gid, step) of the sources' spikes from the stream's definition alone."""
    plan = make_plan(net, seed)
    out = []
    for k, name in enumerate(plan.pop_names):
        if net.populations[name].model != "poisson_source":
            continue
        sl = plan.pop_slice(name)
        s0, s1 = plan.pop_i[k, bp.PI_PS_SEG_START], plan.pop_i[k, bp.PI_PS_SEG_END]
        for t in range(round(t_sim / net.dt)):
            thresh = poisson_source.threshold_at(plan.ps_seg, s0, s1, t)
            copy = poisson_source.copy_at(plan.ps_seg, s0, s1, t)
            out += [(int(g), t) for g in poisson_source.spikes(plan.key0, plan.key1, t, sl.start, sl.stop, thresh,
                                                                copy)]
    return sorted(out)


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_spikes_are_the_streams_definition(backend):
    net = sources_network()
    res = simulate(net, 20.0, seed=5, backend=backend, progress=False)
    got = sorted(zip(res.spike_gids.tolist(), res.spike_steps.tolist()))
    ref = reference_spikes(net, 20.0, 5)
    assert got == ref
    p_steps = [s for g, s in ref if g < 5 + 37]
    assert min(p_steps) == 20 and max(p_steps) == 179          # steps 20..179: spike times 2.1 .. 18.0 ms
    q = [s for g, s in ref if 5 + 37 <= g < 5 + 37 + 6]
    assert len(q) == 6 * 50 and min(q) == 150                  # rate 1/dt: a spike every step from 15 ms
    r = np.array([s for g, s in ref if 5 + 37 + 6 <= g < 5 + 37 + 6 + 11])
    assert r.min() >= 10 and not np.any((r >= 40) & (r < 41))  # nothing before 1 ms nor at rate 0 (4.0-4.1 ms)
    per_step = [np.sum((r >= lo) & (r < hi)) / (hi - lo) for lo, hi in ((41, 100), (100, 200))]
    assert per_step[0] > 1.5 * per_step[1] > 1.5      # 11 x 0.4 then 11 x 0.2 (9.96 ms is step 100)
    w = np.array([s for g, s in ref if 5 + 37 + 6 + 11 <= g < 5 + 37 + 6 + 11 + 9])
    assert w.min() >= 30 and w.max() < 170 and w.size > 100
    m = [(g, s) for g, s in ref if g >= 5 + 37 + 6 + 11 + 9]
    steps = {s for _, s in m}
    assert min(steps) >= 10 and max(steps) <= 159 and 40 < len(steps) < 110   # within the parent's: about half
    assert 0.3 < len(m) / (13 * len(steps)) < 0.5                            # each copied with p_copy 0.4


def test_rate_and_independence():
    """Counts per source are Binomial(steps, rate dt); neighbouring sources and steps are
    uncorrelated; a restart-free run with another seed gives other spikes."""
    net = Network(dt=0.1)
    net.add_poisson_source("P", 2000, 50.0)
    net.record_spikes("P")
    res = simulate(net, 1000.0, seed=3, backend="cpu", progress=False)
    n, p = 10000, 50.0 * 0.1e-3
    counts = np.bincount(res.spike_gids, minlength=2000)
    assert abs(counts.mean() - n * p) < 5 * math.sqrt(n * p * (1 - p) / 2000)
    assert counts.var() == pytest.approx(n * p * (1 - p), rel=0.15)
    # no two spikes of one source in one step, and P(next spike in the next step) = p
    key = res.spike_gids * 100000 + res.spike_steps
    assert np.unique(key).size == key.size
    order = np.lexsort((res.spike_steps, res.spike_gids))
    g, s = res.spike_gids[order], res.spike_steps[order]
    gaps = np.diff(s)[np.diff(g) == 0]
    assert abs(np.mean(gaps == 1) - p) < 5 * math.sqrt(p / gaps.size)
    # the counts of the four sources that share one Philox call are uncorrelated
    c = counts.reshape(-1, 4).astype(float)
    r = np.corrcoef(c.T)[np.triu_indices(4, 1)]
    assert np.all(np.abs(r) < 5 / math.sqrt(500))
    other = simulate(net, 1000.0, seed=4, backend="cpu", progress=False)
    assert not np.array_equal(other.spike_gids, res.spike_gids)


def test_mip_sources_are_correlated_as_nest_defines():
    """NEST's mip_generator: each source fires at p_copy * rate, only in steps where the
    parent spikes, and any two sources' counts per step have correlation coefficient p_copy;
    with p_copy 1 all are the parent; the parent differs between populations."""
    net = Network(dt=0.1)
    net.add_mip_source("M", 300, 200.0, 0.25, stop=2000.0)
    net.add_mip_source("A", 4, 300.0, 1.0)
    net.add_mip_source("B", 4, 300.0, 1.0)
    for name in ("M", "A", "B"):
        net.record_spikes(name)
    res = simulate(net, 2000.0, seed=9, backend="cpu", progress=False)
    ids, times = res.spikes("M")
    steps = np.rint(times / 0.1).astype(int) - 1
    parent = np.unique(steps)
    assert abs(parent.size - 400) < 4 * math.sqrt(400)                  # 200 Hz for 2 s, at most once a step
    assert abs(ids.size / 300 / parent.size - 0.25) < 0.01              # each parent spike copied with 0.25
    assert abs(res.mean_rates()["M"] - 50.0) < 4 * 50.0 / math.sqrt(400)   # p_copy * rate, as the parent's count
    counts = np.zeros((300, 20000))
    counts[ids, steps] = 1
    cc = np.corrcoef(counts)[np.triu_indices(300, 1)]
    r = 200.0 * 0.1e-3   # the parent's probability per step: per-step counts correlate by p (1 - r) / (1 - p r)
    assert abs(cc.mean() - 0.25 * (1 - r) / (1 - 0.25 * r)) < 0.005 and cc.std() < 0.1
    a, b = (res.spikes(name) for name in ("A", "B"))
    for spikes in (a, b):   # p_copy 1: every source is its parent
        per = [spikes[1][spikes[0] == i] for i in range(4)]
        assert per[0].size > 400 and all(np.array_equal(per[0], x) for x in per[1:])
    assert not np.array_equal(a[1][a[0] == 0], b[1][b[0] == 0])


def test_mip_sources_agree_with_nest():
    """NEST 3.10's mip_generator into parrots (scripts/peers/nest_mip.py) and distsnn's MIP
    sources, with the window moved as add_mip_source's docstring says: the same copy fraction
    of the parent's spikes, the same correlation coefficient of two sources' counts per step,
    parent spike counts that differ as two Poisson draws do, and spikes within the window."""
    import importlib.util
    path = pathlib.Path(__file__).parent.parent / "scripts" / "peers" / "nest_mip.py"
    spec = importlib.util.spec_from_file_location("nest_mip", path)
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    data = json.loads((pathlib.Path(__file__).parent / "data" / "nest_mip.json").read_text())
    p, nest = data["protocol"], data["statistics"]
    shift = p["delay"] + data["min_delay_ms"]
    net = Network(dt=p["dt"])
    net.add_mip_source("M", p["parrots"], p["rate"], p["p_copy"], start=p["start"] + shift, stop=p["stop"] + shift)
    net.record_spikes("M")
    res = simulate(net, p["t_sim"], seed=p["seed"], backend="cpu", progress=False)
    ours = peer.statistics(*res.spikes("M"), p["parrots"], p["dt"], p["t_sim"])
    for stats in (ours, nest):
        assert p["start"] + shift < stats["first_ms"] and stats["last_ms"] <= p["stop"] + shift + 1e-9
    def copied(s):
        return s["rate_hz"] * p["t_sim"] * 1e-3 / s["parent_steps"]
    assert abs(copied(ours) - copied(nest)) < 0.01 and abs(copied(ours) - p["p_copy"]) < 0.01
    assert abs(ours["corr_mean"] - nest["corr_mean"]) < 0.005 and abs(ours["corr_sd"] - nest["corr_sd"]) < 0.005
    expected = p["rate"] * (p["stop"] - p["start"]) * 1e-3
    assert abs(ours["parent_steps"] - nest["parent_steps"]) < 4 * math.sqrt(2 * expected)


def test_mip_source_validation():
    net = Network(dt=0.1)
    for args, message in (((10.0, 0.0), r"p_copy must be a probability in \(0, 1\], got 0.0"),
                          ((10.0, 1.5), "p_copy must be"), ((10.0, math.nan), "p_copy must be"),
                          ((20000.0, 0.5), "exceeds one spike per step"), ((-1.0, 0.5), "rate must be")):
        with pytest.raises(ValueError, match=message):
            net.add_mip_source("M", 3, *args)
        assert "M" not in net.populations
    net.add_mip_source("M", 3, 10.0, 0.5)
    with pytest.raises(ValueError, match="'M' is a spike source and cannot receive projections"):
        net.connect("M", "M", OneToOne(), 1.0, 1.0)


def test_source_spike_reaches_its_target():
    """Every source spike is delivered: one-to-one onto delta neurons, each spike one jump."""
    net = Network(dt=0.1)
    net.add_poisson_source("P", 8, 400.0, stop=30.0)
    net.add_population("N", 8, "iaf_psc_delta", {"t_ref": 0.0, "tau_m": 1e9, "V_th": 1e9, "E_L": 0.0,
                                                 "V_reset": -1.0})
    net.connect("P", "N", OneToOne(), 0.5, 1.0)
    net.record_spikes("P")
    net.record_voltage("N", np.arange(8))
    res = simulate(net, 40.0, seed=2, backend="cpu", progress=False)
    counts = np.bincount(res.spike_gids, minlength=8)
    assert counts.sum() > 50
    assert np.allclose(res.vrec[-1], 0.5 * counts, atol=1e-9)


def test_poisson_source_validation():
    net = Network(dt=0.1)
    cases = [((-1.0,), {}, "rate must be a finite number >= 0"), ((math.nan,), {}, "rate must be"),
             ((True,), {}, "rate must be"), ((10001.0,), {}, r"exceeds one spike per step \(1 / dt = 10000 Hz\)"),
             ((10.0,), {"start": 5.0, "stop": 1.0}, "need 0 <= start <= stop")]
    for args, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            net.add_poisson_source("P", 3, *args, **kwargs)
        assert "P" not in net.populations
    net.add_poisson_source("P", 3, 10.0)
    net.add_population("N", 2)
    with pytest.raises(ValueError, match="'P' is a spike source and cannot receive projections"):
        net.connect("N", "P", OneToOne(), 1.0, 1.0)
    with pytest.raises(ValueError, match="cannot receive input"):
        net.add_dc_input("P", 10.0)
    with pytest.raises(ValueError, match="a spike source has no state to record"):
        net.record_voltage("P", [0])
    with pytest.raises(ValueError, match="population 'P': name already used"):
        net.add_poisson_source("P", 3, 10.0)


def test_inhomogeneous_rates_follow_their_segments():
    """Counts in each segment are Binomial(steps x sources, rate dt); the segments are the
    rate times rounded to the grid; rate 0 before the first."""
    net = Network(dt=0.1)
    times, rates = [50.0, 250.0, 400.0, 700.0], [20.0, 80.0, 0.0, 40.0]
    net.add_inhomogeneous_poisson_source("P", 3000, times, rates)
    net.record_spikes("P")
    res = simulate(net, 1000.0, seed=9, backend="cpu", progress=False)
    plan = res.plan
    assert plan.ps_seg[:, :2].tolist() == [[500, round(0.002 * 2 ** 32)], [2500, round(0.008 * 2 ** 32)], [4000, 0],
                                           [7000, round(0.004 * 2 ** 32)]]
    assert not plan.ps_seg[:, 2:].any()                         # no sinusoid
    steps = res.spike_steps
    assert not np.any(steps < 500) and not np.any((steps >= 4000) & (steps < 7000))
    for lo, hi, rate in ((500, 2500, 20.0), (2500, 4000, 80.0), (7000, 10000, 40.0)):
        n, p = 3000 * (hi - lo), rate * 1e-4
        count = np.sum((steps >= lo) & (steps < hi))
        assert abs(count - n * p) < 5 * math.sqrt(n * p), (lo, hi, count, n * p)


def test_inhomogeneous_source_validation():
    net = Network(dt=0.1)
    cases = [(([1.0, 2.0], [1.0]), "same, nonzero length"), (([], []), "same, nonzero length"),
             (([[1.0]], [1.0]), "same, nonzero length"), (([-1.0], [1.0]), "finite times >= 0"),
             (([1.0, 1.04], [1.0, 2.0]), r"increase by at least one step \(dt = 0.1 ms\) on the grid; 1 and 1.04"),
             (([2.0, 1.0], [1.0, 2.0]), "increase by at least one step"),
             (([1.0], [-3.0]), "rate must be a finite number >= 0"),
             (([1.0], [2e4]), "exceeds one spike per step")]
    for args, message in cases:
        with pytest.raises(ValueError, match=message):
            net.add_inhomogeneous_poisson_source("P", 3, *args)
        assert "P" not in net.populations
    pop = net.add_inhomogeneous_poisson_source("P", 3, np.array([0.0, 5.0]), np.array([10.0, 0.0]))
    assert pop.rate_times.tolist() == [0.0, 5.0] and pop.rate_values.tolist() == [10.0, 0.0]


def test_threshold():
    assert poisson_source.threshold(0.0, 0.1) == 0
    assert poisson_source.threshold(10000.0, 0.1) == 2 ** 32
    assert poisson_source.threshold(120.0, 0.1) == round(0.012 * 2 ** 32)


def test_sources_are_part_of_the_model_fingerprint():
    """Another rate or window is another model; a model without Poisson sources keeps the
    fingerprint it had before they existed (their columns are hashed only when used)."""
    def plan(rate, stop=math.inf):
        net = Network(dt=0.1)
        net.add_population("n", 4)
        if rate is not None:
            net.add_poisson_source("p", 4, rate, stop=stop)
        return make_plan(net, 1)
    prints = {fingerprint(plan(*a))["model_tables_sha256"] for a in ((10.0,), (20.0,), (10.0, 50.0))}
    assert len(prints) == 3
    p = plan(None)
    before = fingerprint(p)["model_tables_sha256"]
    p.pop_i = p.pop_i[:, :bp.N_PI_BEFORE_PS]                     # the tables as they were
    p.ps_seg = np.zeros((0, 7), dtype=np.int64)
    assert fingerprint(p)["model_tables_sha256"] == before
    # constant sources keep the fingerprint they had before the sinusoid columns
    p = plan(10.0, 50.0)
    before = fingerprint(p)["model_tables_sha256"]
    p.ps_seg = p.ps_seg[:, :2].copy()
    assert fingerprint(p)["model_tables_sha256"] == before


def test_sinusoids_are_part_of_the_model_fingerprint():
    def plan(*sine):
        net = Network(dt=0.1)
        net.add_population("n", 4)
        net.add_sinusoidal_poisson_source("p", 4, 10.0, *sine)
        return make_plan(net, 1)
    prints = {fingerprint(plan(*a))["model_tables_sha256"] for a in ((5.0, 10.0), (6.0, 10.0), (5.0, 11.0),
                                                                      (5.0, 10.0, 30.0), (0.0, 10.0))}
    assert len(prints) == 5


def test_mip_sources_are_part_of_the_model_fingerprint():
    """Another copy probability is another model; sources without it (sinusoidal ones too)
    keep the fingerprint they had before the copy column existed."""
    def plan(p_copy=None, sine=None):
        net = Network(dt=0.1)
        net.add_population("n", 4)
        if p_copy is not None:
            net.add_mip_source("p", 4, 10.0, p_copy)
        elif sine is not None:
            net.add_sinusoidal_poisson_source("p", 4, 10.0, *sine)
        else:
            net.add_poisson_source("p", 4, 10.0)
        return make_plan(net, 1)
    prints = {fingerprint(plan(*a))["model_tables_sha256"] for a in ((0.5,), (0.6,), (1.0,), (None,))}
    assert len(prints) == 4
    for p in (plan(), plan(None, (5.0, 10.0))):
        before = fingerprint(p)["model_tables_sha256"]
        p.ps_seg = p.ps_seg[:, :bp.N_SEG_BEFORE_COPY].copy()           # the table as it was
        assert fingerprint(p)["model_tables_sha256"] == before


def test_partitioning_expects_a_sources_rate():
    from partitioning.cost import expected_rates_hz, population_pieces
    net = Network(dt=0.1)
    net.add_poisson_source("P", 100, 40.0)
    net.add_population("N", 100)
    net.add_sinusoidal_poisson_source("W", 10, 30.0, -20.0, 5.0)
    net.add_mip_source("M", 10, 80.0, 0.25)                     # each source copies a quarter: 20 Hz
    net.connect("P", "N", OneToOne(), 10.0, 1.0)
    plan = make_plan(net, 1)
    assert expected_rates_hz(plan) == {"P": 40.0, "N": 5.0, "W": 50.0, "M": 20.0}
    assert population_pieces(plan)[1].events_per_s == pytest.approx(100 * 40.0)


NEST_SINE = json.loads((pathlib.Path(__file__).parent / "data" / "nest_sinusoidal_poisson.json").read_text())


def sine_rate(rate, amplitude, frequency, phase, time):
    """NEST's sinusoidal rate (Hz) at `time` ms, the phase taken exactly (Fraction) before sin."""
    cycles = Fraction(frequency) * Fraction(time) / 1000 + Fraction(phase) / 360
    return max(0.0, rate + amplitude * math.sin(2 * math.pi * float(cycles % 1)))


def test_sinusoidal_spikes_match_nest_step_by_step():
    """NEST's sinusoidal_poisson_generator into 2000 parrots against 2000 sinusoidal sources
    with the window and phase translated (add_sinusoidal_poisson_source): the counts of
    every step agree as two draws of one binomial do, and no longer when shifted by a step;
    the zero-rate steps are NEST's."""
    p = NEST_SINE["protocol"]
    nest = np.array(NEST_SINE["counts_at_step"])
    dt, d = p["dt"], p["delay"]
    net = Network(dt=dt)
    net.add_sinusoidal_poisson_source("S", p["parrots"], p["rate"], p["amplitude"], p["frequency"],
                                      phase=p["phase"] - 360.0 * p["frequency"] * d / 1000.0,
                                      start=p["start"] - dt + d, stop=p["stop"] - dt + d)
    net.record_spikes("S")
    res = simulate(net, p["t_sim"], seed=4, backend="cpu", progress=False)
    ours = np.bincount(res.spike_steps + 1, minlength=nest.size)      # spike at time k * dt
    assert ours.size == nest.size and ours.sum() > 100000
    assert np.array_equal(ours == 0, nest == 0)                     # the same silent steps (cut at 0, window)

    n = p["parrots"]

    def chi2(a, b):
        """Mean squared difference of the counts over its variance: ours binomial (one spike per
        step at most), NEST's Poisson (a parrot repeats each of a step's spikes)."""
        var = a * (1 - a / n) + b
        both = var > 0
        return float(np.mean((a[both] - b[both]) ** 2 / var[both]))
    same = chi2(ours, nest)
    assert abs(same - 1.0) < 0.15, same                             # two draws of one rate: about 1 per step
    assert chi2(ours[1:], nest[:-1]) > 5.0 and chi2(ours[:-1], nest[1:]) > 5.0   # a step off: far worse (12.5)
    # and both follow the formula (NEST's phase, at the times of the parrots' spikes) with
    # the same mean, binomial and Poisson
    first, end = round((p["start"] + d) / dt), round((p["stop"] + d) / dt)   # NEST's stamps [start, stop), + d
    expect = np.array([n * sine_rate(p["rate"], p["amplitude"], p["frequency"], p["phase"], k * dt - d) * dt * 1e-3
                       if first <= k < end else 0.0 for k in range(nest.size)])
    on = expect > 0
    for counts, var in ((ours, expect * (1 - expect / n)), (nest, expect)):
        z = (counts[on] - expect[on]) / np.sqrt(var[on])
        assert abs(z.mean()) < 5 / math.sqrt(on.sum()) and abs(z.var() - 1) < 0.2, (z.mean(), z.var())


def test_sinusoidal_threshold_is_the_formula_at_every_step():
    """The threshold of step t is round(rate(T) dt 2**32) at T = (t + 1) dt, within one unit
    (the portable sine's rounding), also a billion steps on: the phase word does not drift."""
    net = Network(dt=0.1)
    rate, amp, freq, phase = 30.0, 25.0, 13.7, 211.0
    net.add_sinusoidal_poisson_source("S", 1, rate, amp, freq, phase=phase)
    plan = make_plan(net, 1)
    for t in list(range(0, 3000)) + list(range(10 ** 9, 10 ** 9 + 500)):
        want = sine_rate(rate, amp, freq, phase, Fraction(t + 1) * Fraction(1, 10)) * 0.1e-3 * 2 ** 32
        assert abs(poisson_source.threshold_at(plan.ps_seg, 0, 1, t) - want) <= 1.0, t


def test_sinusoidal_source_validation():
    net = Network(dt=0.1)
    cases = [((10.0, math.inf, 5.0), {}, "amplitude must be a finite number"),
             ((10.0, 5.0, math.nan), {}, "frequency must be a finite number"),
             ((10.0, 5.0, 5.0), {"phase": True}, "phase must be a finite number"),
             ((6000.0, -4001.0, 5.0), {}, r"rate \+ \|amplitude\| = 10001 Hz exceeds one spike per step"),
             ((10.0, 5.0, 5000.1), {}, r"frequency must be in \[0, 5000\] Hz"),
             ((10.0, 5.0, -1.0), {}, r"frequency must be in \[0, 5000\] Hz"),
             ((-1.0, 5.0, 5.0), {}, "rate must be a finite number >= 0"),
             ((10.0, 5.0, 5.0), {"start": 3.0, "stop": 2.0}, "need 0 <= start <= stop")]
    for args, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            net.add_sinusoidal_poisson_source("S", 3, *args, **kwargs)
        assert "S" not in net.populations
    pop = net.add_sinusoidal_poisson_source("S", 3, 10.0, -5.0, 5000.0, phase=-90.0, stop=8.0)
    assert pop.sinusoid == (-5.0, 5000.0, -90.0) and pop.rate_values.tolist() == [10.0, 0.0]
    seg = make_plan(net, 1).ps_seg
    assert seg[0, bp.SEG_CYCLE] == -2 ** 63 and seg[0, bp.SEG_PHASE] == 3 * 2 ** 62 - 2 ** 64   # 1/2, 3/4 cycle
    assert seg[1, 2:5].tolist() == [0, 0, 0]                       # after the stop: rate 0
