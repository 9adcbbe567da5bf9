"""Delays redrawn below dt or a bound of their own (Normal(..., outside="redraw", low),
rng.redraw): the NumPy specification draws the normal truncated at the bound, the numba and
CUDA kernels give its bits, every rule and the synapse lists redraw exactly the synapses that
clipping puts on dt (below dt / 2, a subset of them), and every engine gives the same spikes."""
import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from distsnn.backends.cpu.rng_kernels import redraw_normal
from distsnn.backends.cpu.simulator import CpuSimulator
from distsnn.backends.gpu.source import REDRAW_BIT, plan_rules, rule_variant
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.synapse_lists import reference_variates
from distsnn.connectivity import expand_projection, synapses
from distsnn.io.checkpoint import fingerprint
from distsnn.model import (AllToAll, FixedIndegree, FixedOutdegree, FixedProbability, FixedTotalNumber, FromList,
                           Network, Normal, OneToOne)
from distsnn.models import MODELS
from distsnn.rng import streams
from distsnn.rng.redraw import redrawn
from distsnn.runtime import simulate
from test_connectivity import _csr_synapses, reference_synapses
from test_determinism import mixed_network

KEY = streams.key_from_seed(2026)
TAG = streams.tag(streams.DOM_SYN, 12345)


def truncated_cdf(x, mean, sd, low):
    """CDF of the normal (mean, sd) truncated below at low."""
    a = stats.norm.cdf((low - mean) / sd)
    return np.clip((stats.norm.cdf((x - mean) / sd) - a) / (1.0 - a), 0.0, 1.0)


def test_spec_draws_the_normal_truncated_at_the_bound():
    n = 40000
    c0 = np.arange(n, dtype=np.uint64)
    x = redrawn(c0, 7, 3, TAG, *KEY, 0.75, 0.375, 0.1)
    assert x.shape == (n,) and np.all(x >= 0.1)
    assert stats.kstest(x, lambda v: truncated_cdf(v, 0.75, 0.375, 0.1)).pvalue > 1e-3
    # with the mean at the bound half the candidates fail, and 1/16 of the first blocks
    y = redrawn(c0, 7, 3, TAG, *KEY, 1.0, 0.5, 1.0)
    assert np.all(y >= 1.0)
    assert stats.kstest(y, lambda v: truncated_cdf(v, 1.0, 0.5, 1.0)).pvalue > 1e-3
    # a synapse's value is its own: the same alone, in another batch, in another order
    pick = np.array([5, 17, 39999, 123], dtype=np.uint64)
    assert np.array_equal(redrawn(pick, 7, 3, TAG, *KEY, 1.0, 0.5, 1.0), y[pick.astype(np.int64)])
    assert redrawn(np.uint64(17), 7, 3, TAG, *KEY, 1.0, 0.5, 1.0) == y[17]
    # and depends on every counter word, the projection and the seed
    for other in (redrawn(c0, 8, 3, TAG, *KEY, 1.0, 0.5, 1.0), redrawn(c0, 7, 4, TAG, *KEY, 1.0, 0.5, 1.0),
                  redrawn(c0, 7, 3, TAG + 1, *KEY, 1.0, 0.5, 1.0), redrawn(c0, 7, 3, TAG, KEY[0] + 1, KEY[1], 1.0, 0.5,
                                                                               1.0)):
        assert np.mean(other == y) < 0.01


def test_numba_redraw_is_the_spec_bit_for_bit():
    """Chains of one block and longer ones (mean at the bound: a block fails 1 time in 16)."""
    c0 = np.arange(3000, dtype=np.uint64)
    for mean, sd, low in ((0.75, 0.375, 0.1), (1.0, 0.5, 1.0), (1.5, 0.75, 0.1)):
        ref = redrawn(c0, 2 ** 32 - 1, 11, TAG, *KEY, mean, sd, low)
        got = np.array([redraw_normal(int(k), 2 ** 32 - 1, 11, TAG, KEY[0], KEY[1], mean, sd, low) for k in c0])
        assert np.array_equal(got, ref)


def every_rule(outside, low=None):
    net = Network(dt=0.1, chunk_size=50)
    for name, n in (("a", 120), ("b", 130), ("c", 120)):
        net.add_population(name, n)
    d = lambda mean, sd: Normal(mean, sd, outside, low)   # noqa: E731
    net.connect("a", "b", FixedTotalNumber(3000), Normal(10.0, 2.0), d(0.75, 0.375))
    net.connect("b", "a", FixedProbability(0.3), Normal(-30.0, 3.0), d(0.8, 0.5))
    net.connect("a", "c", OneToOne(), 4.0, d(0.3, 0.4))
    net.connect("c", "b", FixedOutdegree(20), 5.0, d(1.0, 0.8))
    net.connect("c", "c", AllToAll(), Normal(1.0, 0.5), d(0.5, 0.3), label="recurrent")
    net.connect("b", "c", FixedIndegree(15), Normal(-8.0, 2.0), d(0.6, 0.4))
    return net


def test_every_rule_redraws_what_clipping_puts_on_dt():
    """Expanded by the spec: the same targets and weights with either rule; the delays differ
    only where clipping gave one step, and a redrawn delay is its truncated normal's (every
    delay at least one step, fewer at one step than clipping puts there)."""
    clip, redraw = make_plan(every_rule("clip"), 77), make_plan(every_rule("redraw"), 77)
    assert np.all(redraw.proj_f[:, bp.JF_DREDRAW] == 1.0) and np.all(clip.proj_f[:, bp.JF_DREDRAW] == 0.0)
    for j in range(clip.proj_i.shape[0]):
        pre, post, w, w_int, d_clip = expand_projection(clip, j)
        pre2, post2, w2, w_int2, d = expand_projection(redraw, j)
        assert np.array_equal(pre, pre2) and np.array_equal(post, post2) and np.array_equal(w_int, w_int2)
        moved = d != d_clip
        assert moved.any() and np.all(d_clip[moved] == 1) and d.min() >= 1
        mean, sd = redraw.proj_f[j, bp.JF_DMEAN], redraw.proj_f[j, bp.JF_DSD]
        assert (d == 1).mean() < (d_clip == 1).mean()
        # P(one step) of the truncated normal: dt <= x < 1.5 dt, over P(x >= dt)
        p1 = truncated_cdf(0.15, mean, sd, 0.1)
        assert (d == 1).mean() == pytest.approx(p1, abs=4 * math.sqrt(p1 * (1 - p1) / d.size) + 1e-3)


def test_a_bound_below_dt_redraws_fewer():
    """Bound dt / 2 (NEST's microcircuit example): the draws in [dt / 2, dt) stay on one step,
    so it moves a subset of what bound dt moves; the one-step share is the truncated normal's."""
    clip, at_dt, half = (make_plan(every_rule(*a), 77) for a in (("clip",), ("redraw",), ("redraw", 0.05)))
    assert np.all(half.proj_f[:, bp.JF_DREDRAW] == 0.5)
    for j in range(clip.proj_i.shape[0]):
        d_clip, d_dt, d = (expand_projection(p, j)[4] for p in (clip, at_dt, half))
        moved, moved_dt = d != d_clip, d_dt != d_clip
        assert moved.any() and not (moved & ~moved_dt).any() and moved.sum() < moved_dt.sum()
        assert d.min() >= 1 and (d == 1).mean() > (d_dt == 1).mean()
        # one step: [dt / 2, 1.5 dt) of the normal truncated at dt / 2 (the draws below dt clipped to it)
        p1 = truncated_cdf(0.15, half.proj_f[j, bp.JF_DMEAN], half.proj_f[j, bp.JF_DSD], 0.05)
        assert (d == 1).mean() == pytest.approx(p1, abs=4 * math.sqrt(p1 * (1 - p1) / d.size) + 1e-3)


def test_a_bound_above_dt_truncates_there():
    net = Network(dt=0.1, chunk_size=64)
    net.add_population("a", 200)
    net.connect("a", "a", FixedTotalNumber(20000), 10.0, Normal(1.5, 0.75, "redraw", 1.0))
    plan = make_plan(net, 3)
    assert plan.proj_f[0, bp.JF_DREDRAW] == 10.0
    d = expand_projection(plan, 0)[4]
    assert d.min() == 10   # [1.0, 1.05) ms
    p10 = truncated_cdf(1.05, 1.5, 0.75, 1.0)
    assert (d == 10).mean() == pytest.approx(p10, abs=4 * math.sqrt(p10 * (1 - p10) / d.size))


@pytest.mark.parametrize("low", [None, 0.05, 0.25])
def test_cpu_rows_and_stored_csr_equal_the_spec(low):
    """gen_row (procedural delivery and the stored CSR) marks the delays below the bound (dt,
    dt / 2, 2.5 dt) in its vectorised loops and redraws them after: the spec's synapses
    exactly, every rule."""
    plan = make_plan(every_rule("redraw", low), 77)
    sim = CpuSimulator(plan, "stored").build()
    assert np.array_equal(_csr_synapses(sim), reference_synapses(plan))


@pytest.mark.parametrize("bound", [None, 0.05])
def test_synapse_lists_redraw_from_their_own_counters(bound):
    n = 5000
    net = Network(dt=0.1, chunk_size=64)
    net.add_population("a", 100)
    rng = np.random.default_rng(1)
    pre, post = rng.integers(0, 100, n), rng.integers(0, 100, n)
    proj = net.connect("a", "a", FromList(pre, post), 10.0, Normal(0.75, 0.375, "redraw", bound))
    plan = make_plan(net, 4)
    assert plan.lists[0].index == 0 and plan.lists[0].n == n
    d = plan.lists[0].delay
    _, z1 = reference_variates(proj.pid, n, *streams.key_from_seed(4))
    raw = 0.75 + 0.375 * z1
    low = raw < (bound or 0.1)
    assert 0.01 < low.mean() < 0.07 and d.min() >= 1
    i = np.flatnonzero(low).astype(np.uint64)
    want = redrawn(i & np.uint64(0xFFFFFFFF), i >> np.uint64(32), 0, streams.tag(streams.DOM_SYN, proj.pid),
                   *streams.key_from_seed(4), 0.75, 0.375, bound or 0.1)
    assert np.array_equal(d[low], np.floor(np.maximum(want, 0.1) * 10.0 + 0.5).astype(np.int64))
    assert np.array_equal(d[~low], np.floor(np.maximum(raw[~low], 0.1) * 10.0 + 0.5).astype(np.int64))
    # and GetConnections gives them back (ms), in the list's order of sources
    (got,) = synapses(net, 4)
    order = np.argsort(pre, kind="stable")
    assert np.allclose(got.delay, d[order] * 0.1) and got.delay.min() >= 0.1


def redrawing(net, low=None):
    """`net` with every Normal delay redrawn below `low` (ms; dt when None)."""
    net.projections[:] = [dataclasses.replace(p, delay=Normal(p.delay.mean, p.delay.sd, "redraw", low))
                          if isinstance(p.delay, Normal) else p for p in net.projections]
    return net


@pytest.fixture(scope="module")
def redraw_reference():
    ref = simulate(redrawing(mixed_network()), 150.0, seed=12, backend="cpu", progress=False)
    clip = simulate(mixed_network(), 150.0, seed=12, backend="cpu", progress=False)
    return ref, clip


def test_redrawing_changes_the_spikes_and_engines_agree(redraw_reference):
    ref, clip = redraw_reference
    assert (ref.plan.proj_f[:, bp.JF_DREDRAW] != 0).sum() >= 5
    assert ref.spike_gids.size > 1000 and not np.array_equal(ref.spike_gids, clip.spike_gids)
    stored = simulate(redrawing(mixed_network()), 150.0, seed=12, backend="cpu", connectivity="stored",
                      progress=False)
    assert np.array_equal(stored.spike_gids, ref.spike_gids) and np.array_equal(stored.spike_steps, ref.spike_steps)
    assert stored.events == ref.events


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_emulated_gpu_redraws_as_the_cpu(redraw_reference, connectivity):
    """The CUDA kernels' redraw (a call in the full rule variant) on the emulated device."""
    ref = redraw_reference[0]
    res = simulate(redrawing(mixed_network()), 150.0, seed=12, backend="gpu-emu", connectivity=connectivity,
                   progress=False)
    assert np.array_equal(res.spike_gids, ref.spike_gids) and np.array_equal(res.spike_steps, ref.spike_steps)
    assert np.array_equal(res.vrec, ref.vrec) and res.events == ref.events


def test_engines_agree_on_a_bound_of_dt_over_2(redraw_reference):
    """CPU procedural and stored and the emulated GPU, all with the redraw's bound at dt / 2:
    the same spikes, which differ from those of the bound dt."""
    runs = [simulate(redrawing(mixed_network(), 0.05), 150.0, seed=12, backend=b, connectivity=c, progress=False)
            for b, c in (("cpu", "procedural"), ("cpu", "stored"), ("gpu-emu", "procedural"))]
    ref = runs[0]
    assert np.all(ref.plan.proj_f[ref.plan.proj_f[:, bp.JF_DSD] > 0, bp.JF_DREDRAW] == 0.5)
    assert not np.array_equal(ref.spike_gids, redraw_reference[0].spike_gids)
    for res in runs[1:]:
        assert np.array_equal(res.spike_gids, ref.spike_gids) and np.array_equal(res.spike_steps, ref.spike_steps)
        assert res.events == ref.events


def test_a_redrawing_model_takes_the_gpu_variant_with_the_redraw():
    net = Network(dt=0.1, chunk_size=64)
    net.add_population("a", 100)
    net.connect("a", "a", FixedTotalNumber(1000), 10.0, Normal(1.5, 0.75))
    assert rule_variant(plan_rules(make_plan(net, 1))) == "_no_indegree"
    redrawing(net)
    rules = plan_rules(make_plan(net, 1))
    assert REDRAW_BIT in rules and rule_variant(rules) == "_no_kinds"
    # a constant delay or sd 0 has nothing to redraw
    net.projections[0] = dataclasses.replace(net.projections[0], delay=Normal(1.5, 0.0, "redraw"))
    assert REDRAW_BIT not in plan_rules(make_plan(net, 1))


def test_models_redraw_by_default_and_clip_on_request(shared_data):
    for name in ("microcircuit", "multi_area"):
        kw = {"scale": 0.02} if name == "microcircuit" else {"scale": 0.01, "areas": "V1", "data": str(shared_data)}
        net = MODELS[name](**kw)
        assert net.metadata["delays"] == "redraw"
        assert all(p.delay.outside == "redraw" for p in net.projections)
        # their specifications' bounds: the microcircuit example's dt / 2, the multi-area model's dt
        bound = make_plan(net, 1).proj_f[:, bp.JF_DREDRAW]
        assert np.all(bound == (0.5 if name == "microcircuit" else 1.0))
        assert net.metadata.get("redraw_below_ms") == (0.05 if name == "microcircuit" else None)
        clip = MODELS[name](delays="clip", **kw)
        assert all(p.delay.outside == "clip" for p in clip.projections) and "redraw_below_ms" not in clip.metadata
        # the clipping model's checkpoints are those of earlier runs: its fingerprint is that of
        # the tables without the flag's column
        p = make_plan(clip, 1)
        before = fingerprint(p)["model_tables_sha256"]
        assert fingerprint(make_plan(net, 1))["model_tables_sha256"] != before
        p.proj_f = p.proj_f[:, :bp.N_JF_BEFORE_REDRAW].copy()
        assert fingerprint(p)["model_tables_sha256"] == before
        with pytest.raises(ValueError, match="delays must be one of"):
            MODELS[name](delays="truncate", **kw)


def test_redraw_is_for_delays_only():
    net = Network(dt=0.1)
    with pytest.raises(ValueError, match="outside must be one of"):
        net.add_population("a", 10, v_init=Normal(-60.0, 1.0, "reflect"))
    with pytest.raises(ValueError, match="v_init: outside='redraw' applies to synaptic delays only"):
        net.add_population("a", 10, v_init=Normal(-60.0, 1.0, "redraw"))
    with pytest.raises(ValueError, match="tau_m: outside='redraw' applies to synaptic delays only"):
        net.add_population("a", 10, params={"tau_m": Normal(10.0, 1.0, "redraw")})
    net.add_population("a", 10)
    with pytest.raises(ValueError, match="weight: outside='redraw' applies to synaptic delays only"):
        net.connect("a", "a", FixedTotalNumber(10), Normal(1.0, 0.1, "redraw"), 1.0)
    with pytest.raises(ValueError, match="weight: outside='redraw'"):
        net.connect("a", "a", FromList([0], [1]), Normal(1.0, 0.1, "redraw"), 1.0)
    net.connect("a", "a", FromList([0], [1]), 1.0, Normal(1.0, 0.1, "redraw"))


def test_a_bound_is_checked_where_it_is_given():
    """low needs outside='redraw' and must lie in [dt / 2, mean]; the error names the
    projection, at connect (before any build)."""
    net = Network(dt=0.1)
    net.add_population("a", 10)
    with pytest.raises(ValueError, match="delay: low .* needs outside='redraw', got 'clip'"):
        net.connect("a", "a", FixedTotalNumber(10), 1.0, Normal(1.0, 0.5, "clip", 0.05))
    with pytest.raises(ValueError, match="delay: low must be a finite number"):
        net.connect("a", "a", FixedTotalNumber(10), 1.0, Normal(1.0, 0.5, "redraw", math.nan))
    for low in (0.04, 1.01):
        with pytest.raises(ValueError, match=rf"projection a->a: delay: low {low} ms of a redrawn delay must lie in "
                                             r"\[dt / 2, mean\] = \[0.05, 1.0\] ms"):
            net.connect("a", "a", FixedTotalNumber(10), 1.0, Normal(1.0, 0.5, "redraw", low))
    with pytest.raises(ValueError, match="must lie in"):
        net.connect("a", "a", FromList([0], [1]), 1.0, Normal(1.0, 0.5, "redraw", 2.0))
    with pytest.raises(ValueError, match="must lie in"):   # sd 0: nothing to redraw, but a bound above every delay
        net.connect("a", "a", FixedTotalNumber(10), 1.0, Normal(1.0, 0.0, "redraw", 2.0))
    assert not net.projections
    net.connect("a", "a", FixedTotalNumber(10), 1.0, Normal(1.0, 0.5, "redraw", 1.0))
    net.connect("a", "a", FixedTotalNumber(10), 1.0, Normal(1.0, 0.5, "redraw", 0.05), label="half")


def test_delays_option_on_the_command_line(tmp_path):
    """--delays clip gives the spikes of the clipping model, another file than the default's
    (redrawn); a restart under the other rule is another model; a bad value is one line."""
    import subprocess
    import sys

    import h5py

    def run(*args):
        return subprocess.run([sys.executable, "-m", "distsnn", "run", "microcircuit", "--scale", "0.03", "--seed",
                               "2", "--t-sim", "100", "--no-progress", *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=600)
    assert run("--output", "redraw.h5", "--checkpoint", "ck").returncode == 0
    assert run("--output", "clip.h5", "--delays", "clip").returncode == 0
    ref = simulate(MODELS["microcircuit"](scale=0.03, delays="clip"), 100.0, seed=2, progress=False)
    with h5py.File(tmp_path / "clip.h5") as fc, h5py.File(tmp_path / "redraw.h5") as fr:
        assert sum(fc["spikes"][p]["node_ids"].size for p in fc["spikes"]) == ref.spike_gids.size
        assert any(not np.array_equal(fc["spikes"][p]["timestamps"][()], fr["spikes"][p]["timestamps"][()])
                   for p in fc["spikes"])
    proc = run("--output", "b.h5", "--delays", "clip", "--restart", "ck")
    assert proc.returncode == 2 and "was written by a different model" in proc.stderr
    proc = run("--output", "c.h5", "--delays", "truncate")
    assert proc.returncode == 2 and "delays must be one of ('clip', 'redraw')" in proc.stderr
    assert "Traceback" not in proc.stderr
