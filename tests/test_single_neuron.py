"""iaf_psc_exp against its analytic solution: current step, one PSC, refractory period."""
import json
import math
import pathlib

import numpy as np
import pytest
from scipy import stats

from distsnn.backends.cpu.simulator import CpuSimulator
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.poisson_input import counts_reference
from distsnn.model import Network, OneToOne
from distsnn.runtime import simulate

E_L, V_TH, TAU_M, C_M = -70.0, -55.0, 10.0, 250.0


def one_neuron(**params):
    net = Network(dt=0.1)
    net.add_population("n", 1, params=params)
    net.record_spikes("n")
    net.record_voltage("n", [0])
    return net


def test_current_step_follows_analytic_charging_curve():
    net = one_neuron(I_e=300.0)                    # I*R = 12 mV: stays below threshold
    net.add_dc_input("n", 50.0, start=20.0, stop=40.0)
    res = simulate(net, 60.0, progress=False)
    t = (np.arange(res.n_steps) + 1) * 0.1
    r = TAU_M / C_M
    v = E_L + 300.0 * r * (1 - np.exp(-t / TAU_M))
    # the DC pulse adds its own charging curve from 20 ms and decays from 40 ms
    on = np.clip(t - 20.0, 0, None)
    off = np.clip(t - 40.0, 0, None)
    v += 50.0 * r * ((1 - np.exp(-on / TAU_M)) - (1 - np.exp(-off / TAU_M)))
    assert np.max(np.abs(res.vrec[:, 0] - v)) < 1e-10
    assert res.spike_gids.size == 0


def test_single_psc_matches_analytic_psp():
    net = Network(dt=0.1)
    net.add_population("pre", 1, v_init=-50.0)      # above threshold: fires in the first step
    net.add_population("post", 1, params={"tau_syn_ex": 2.0})
    net.connect("pre", "post", OneToOne(), 100.0, 1.0)
    net.record_spikes("pre")
    net.record_voltage("post", [0])
    res = simulate(net, 30.0, progress=False)
    ids, times = res.spikes("pre")
    assert list(times) == [0.1]
    onset = 0.1 + 1.0                               # spike time + delay
    t = (np.arange(res.n_steps) + 1) * 0.1
    s = np.clip(t - onset, 0, None)
    tau_s = 2.0
    v = E_L + 100.0 / C_M * tau_s * TAU_M / (TAU_M - tau_s) * (np.exp(-s / TAU_M) - np.exp(-s / tau_s))
    assert np.max(np.abs(res.vrec[:, 0] - v)) < 1e-10
    assert np.all(res.vrec[t <= onset + 1e-9, 0] == E_L)
    peak_t = t[np.argmax(res.vrec[:, 0])] - onset
    assert abs(peak_t - math.log(TAU_M / tau_s) * tau_s * TAU_M / (TAU_M - tau_s)) < 0.1


def test_refractory_period_and_regular_firing():
    net = one_neuron(I_e=1000.0, t_ref=2.0)         # I*R = 40 mV
    res = simulate(net, 100.0, progress=False)
    _, times = res.spikes("n")
    t_cross = -TAU_M * math.log(1 - (V_TH - E_L) / 40.0)    # 4.70 ms from rest
    n_cross = math.ceil(t_cross / 0.1)                      # first grid point past threshold
    period = 20 + n_cross                                   # 2 ms clamped, then charging again
    expected = (np.arange(times.size) * period + n_cross) * 0.1
    assert times.size == 1 + (1000 - n_cross) // period
    assert np.allclose(times, expected, atol=1e-9)
    # V is clamped at V_reset for exactly t_ref after each spike
    v = res.vrec[:, 0]
    first = n_cross - 1                                     # step index of the first spike
    assert np.all(v[first:first + 21] == E_L)
    assert v[first + 21] > E_L


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_no_refractory_period(backend):
    """t_ref = 0 with V_reset = E_L: after a spike the neuron charges again at once, so it
    fires every n_cross steps exactly; and no refractory count is left in its state."""
    net = one_neuron(I_e=1000.0, t_ref=0.0, V_reset=E_L)
    res = simulate(net, 100.0, progress=False, backend=backend)
    _, times = res.spikes("n")
    n_cross = math.ceil(-TAU_M * math.log(1 - (V_TH - E_L) / 40.0) / 0.1)
    assert times.size == 1000 // n_cross
    assert np.allclose(times, (np.arange(times.size) + 1) * n_cross * 0.1, atol=1e-9)
    if backend == "cpu":
        sim = CpuSimulator(make_plan(net, 1)).build()
        out = np.empty(10 ** 4, dtype=np.int64)
        _, n = sim.run(1000, out, out.copy(), 0, np.empty((1000, 1)))
        assert n == times.size and np.all(sim.refr == 0)


def test_poisson_input_counts_follow_poisson_law():
    for indegree, rate in ((1600, 8.0), (20000, 50.0)):      # lambda 1.28 and 100 (split in 13 parts)
        net = one_neuron()
        net.add_poisson_input("n", indegree=indegree, rate=rate, weight=1.0, delay=1.5)
        plan = make_plan(net, 4)
        lam = indegree * rate * 1e-4
        c = np.concatenate([counts_reference(plan, 0, t, np.arange(1000)) for t in range(1000, 1100)])
        assert abs(c.mean() - lam) < 5 * math.sqrt(lam / c.size)
        assert abs(c.var() / lam - 1) < 0.03
        k = np.arange(c.max() + 1)
        pmf = stats.poisson.pmf(k, lam)
        sel = pmf * c.size > 5
        obs = np.bincount(c, minlength=k.size)
        obs_pool = np.append(obs[sel], c.size - obs[sel].sum())
        exp_pool = np.append(pmf[sel] * c.size, c.size - (pmf[sel] * c.size).sum())
        assert stats.chisquare(obs_pool, exp_pool).pvalue > 1e-3
        # neighbours sharing a Philox call are independent
        pairs = counts_reference(plan, 0, 1000, np.arange(100000)).reshape(-1, 2)
        assert abs(np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1]) < 0.02


@pytest.mark.parametrize("indegree_ex", [2000, 7900])
def test_poisson_kernel_matches_numpy_reference(indegree_ex):
    """Counts recovered from the kernel's synaptic current equal the NumPy stream reference.
    A mean of 7.9 per step also takes the sampler past its branch-free first 8 entries."""
    net = Network(dt=0.1)
    net.add_population("pad", 3)                             # quads straddle populations
    net.add_population("n", 37, params={"V_th": 1e9, "tau_syn_ex": 1e-3, "tau_syn_in": 1e-3})
    net.add_poisson_input("n", indegree=indegree_ex, rate=10.0, weight=1.0, delay=0.3)
    net.add_poisson_input("n", indegree=800, rate=20.0, weight=-3.0, delay=0.1)
    plan = make_plan(net, 8)
    sim = CpuSimulator(plan).build()
    out = np.empty(10 ** 4, dtype=np.int64)
    seen = []
    for t in range(40):
        sim.run(1, out, out.copy(), 0, np.empty((1, 0)))
        gids = np.arange(3, 40)
        # P11 = exp(-100): the current holds exactly this step's input
        ref = counts_reference(plan, 0, t, gids)
        assert np.array_equal(np.round(sim.i_ex[3:]).astype(np.int64), ref)
        assert np.array_equal(np.round(-sim.i_in[3:] / 3).astype(np.int64), counts_reference(plan, 1, t, gids))
        seen.append(ref)
    if indegree_ex == 7900:
        assert (np.concatenate(seen) >= 8).mean() > 0.3 and np.concatenate(seen).max() >= 14


def test_poisson_input_drives_mean_membrane_potential():
    net = one_neuron(V_th=1000.0, tau_syn_ex=0.5)           # never fires
    net.add_poisson_input("n", indegree=1000, rate=10.0, weight=20.0, delay=1.0)
    res = simulate(net, 2000.0, progress=False)
    v = res.vrec[2000:, 0]                                 # after 200 ms
    expected = E_L + 1000 * 10.0 * 1e-3 * 20.0 * 0.5 * TAU_M / C_M    # E_L + rate*w*tau_s*R
    assert abs(v.mean() - expected) < 0.1
    assert np.all(res.vrec[:10, 0] == E_L)                 # nothing arrives before the delay


def test_poisson_input_window():
    """A windowed input's sources fire for start <= t < stop only: its counts (read off the
    current with P11 = exp(-100)) equal the stream reference inside the window shifted by the
    delay, and are zero outside it; a background input without window runs throughout."""
    net = Network(dt=0.1)
    net.add_population("n", 9, params={"V_th": 1e9, "tau_syn_ex": 1e-3, "tau_syn_in": 1e-3})
    net.add_poisson_input("n", indegree=1000, rate=20.0, weight=1.0, delay=0.5, start=2.0, stop=3.6)
    net.add_poisson_input("n", indegree=500, rate=20.0, weight=-1.0, delay=0.3)
    plan = make_plan(net, 8)
    q_win = int(np.nonzero(plan.pin_i[:, bp.QI_INDEX] == 0)[0][0])
    assert list(plan.pin_i[q_win, [bp.QI_START, bp.QI_STOP]]) == [20, 36]   # emission steps 20 .. 35
    assert plan.pin_i[1 - q_win, bp.QI_STOP] == bp.STEP_NEVER
    sim = CpuSimulator(plan).build()
    out = np.empty(10 ** 4, dtype=np.int64)
    got = []
    for t in range(60):
        sim.run(1, out, out.copy(), 0, np.empty((1, 0)))
        got.append(np.round(sim.i_ex).astype(np.int64))
        assert np.array_equal(np.round(-sim.i_in).astype(np.int64), counts_reference(plan, 1 - q_win, t, np.arange(9)))
    got = np.array(got)
    ref = np.array([counts_reference(plan, q_win, t, np.arange(9)) for t in range(60)])
    assert np.array_equal(got, ref)
    active = np.arange(60)[got.sum(axis=1) > 0]
    assert active.min() >= 25 and active.max() <= 40 and active.size > 10   # steps 20..35 plus the delay of 5
    assert not ref[:25].any() and not ref[41:].any()


@pytest.mark.parametrize("start,stop", [(-1.0, 5.0), (5.0, 2.0), (float("nan"), 3.0), (True, 3.0)])
def test_poisson_input_window_is_validated(start, stop):
    net = one_neuron()
    with pytest.raises(ValueError, match="poisson input to 'n': need 0 <= start <= stop"):
        net.add_poisson_input("n", indegree=10, rate=5.0, weight=1.0, delay=1.0, start=start, stop=stop)


NEST_REFRACTORY = json.loads((pathlib.Path(__file__).parent / "data" / "nest_refractory.json").read_text())


@pytest.mark.parametrize("run", NEST_REFRACTORY["runs"], ids=lambda r: f"{r['model']}-dt{r['dt']}")
def test_refractory_steps_as_nest_counts_them(run):
    """A t_ref off the step grid counts as NEST counts it: rounded to NEST's tic, then up to
    whole steps (2.04 ms is 21 steps of 0.1 ms, 0.15 ms is 2, 0.5004 ms 5 and 0.5006 ms 6).
    A neuron driven to spike in the first step after its refractory period shows it in its
    interspike interval, which must be NEST 3.10's (scripts/peers/nest_refractory.py)."""
    for t_ref, want in zip(NEST_REFRACTORY["t_refs"], run["isi_ms"]):
        net = Network(dt=run["dt"])
        net.add_population("n", 1, run["model"], {"t_ref": t_ref, "I_e": 1e7})
        net.record_spikes("n")
        res = simulate(net, 20.0, progress=False)
        assert np.diff(res.spikes("n")[1])[1] == pytest.approx(want, abs=1e-9), t_ref
