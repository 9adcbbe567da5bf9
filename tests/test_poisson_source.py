"""Poisson spike sources (Network.add_poisson_source): the spikes of the stream's definition
on every engine, their statistics, their window, validation, the fingerprint."""
import math

import numpy as np
import pytest

from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build import poisson_source
from distsnn.io.checkpoint import fingerprint
from distsnn.model import FixedProbability, Network, OneToOne
from distsnn.runtime import simulate


def sources_network(chunk_size=8):
    """Sources whose gids start off a multiple of 4 and whose chunks split the Philox quads."""
    net = Network(dt=0.1, chunk_size=chunk_size)
    net.add_population("N", 5, params={"I_e": 100.0})
    net.add_poisson_source("P", 37, 3000.0, start=2.0, stop=18.0)
    net.add_poisson_source("Q", 6, 10000.0, start=15.0)          # p = 1: every step
    net.connect("P", "N", FixedProbability(0.5), 60.0, 1.0)
    net.record_spikes("P")
    net.record_spikes("Q")
    return net


def reference_spikes(net, t_sim, seed):
    """(gid, step) of the sources' spikes from the stream's definition alone."""
    plan = make_plan(net, seed)
    out = []
    for pop in net.populations.values():
        if pop.model != "poisson_source":
            continue
        sl = plan.pop_slice(pop.name)
        thresh = poisson_source.threshold(pop.rate, net.dt)
        first = math.floor(pop.window[0] / net.dt + 0.5)
        stop = min(round(t_sim / net.dt), math.floor(pop.window[1] / net.dt + 0.5) if math.isfinite(pop.window[1])
                   else 10 ** 9)
        for t in range(first, stop):
            out += [(int(g), t) for g in poisson_source.spikes(plan.key0, plan.key1, t, sl.start, sl.stop, thresh)]
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
    q = [s for g, s in ref if g >= 5 + 37]
    assert len(q) == 6 * 50 and min(q) == 150                  # rate 1/dt: a spike every step from 15 ms


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
    p.pop_i = p.pop_i[:, :bp.N_PI_BEFORE_PS]                     # the table as it was
    assert fingerprint(p)["model_tables_sha256"] == before


def test_partitioning_expects_a_sources_rate():
    from partitioning.cost import expected_rates_hz, population_pieces
    net = Network(dt=0.1)
    net.add_poisson_source("P", 100, 40.0)
    net.add_population("N", 100)
    net.connect("P", "N", OneToOne(), 10.0, 1.0)
    plan = make_plan(net, 1)
    assert expected_rates_hz(plan) == {"P": 40.0, "N": 5.0}
    assert population_pieces(plan)[1].events_per_s == pytest.approx(100 * 40.0)
