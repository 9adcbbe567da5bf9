"""Noise currents (Network.add_noise_input, NEST's noise_generator): each neuron's current is
drawn from its own counter-based stream, held for the input's interval, and the membrane
follows it exactly; its statistics are those of the Gaussian; checks on the arguments.
CPU = GPU kernels, any thread count, ranks and restarts: through the determinism and
checkpoint networks, which have noise currents."""
import numpy as np
import pytest

from distsnn.build import plan as bp
from distsnn.io.checkpoint import fingerprint
from distsnn.model import Network, Normal
from distsnn.rng import streams
from distsnn.rng.philox import philox4x32, uniform_open0_closed1
from distsnn.rng.portable_math import box_muller
from distsnn.runtime import simulate
from distsnn.build import make_plan

FREE = {"V_th": 1e6, "tau_syn_ex": 2.0, "tau_syn_in": 2.0}   # no spikes: V filters the current


def reference_current(seed, index, gid, step, every, mean, std):
    """The current (pA) of noise input `index` into neuron `gid` at `step`, from the stream
    layout's definition (streams.DOM_CURRENT) with the pure-Python Philox and Box-Muller."""
    interval = step // every
    key = streams.key_from_seed(seed)
    w = philox4x32(interval & 0xFFFFFFFF, interval >> 32, gid >> 1, streams.tag(streams.DOM_CURRENT, index), *key)
    z0, z1 = box_muller(uniform_open0_closed1(w[0]), uniform_open0_closed1(w[1]))
    return mean + std * (z1 if gid & 1 else z0)


def test_membrane_follows_the_drawn_current_exactly():
    """Two neurons (gids 3 and 4: the odd one of a pair and the even one of the next) with two
    inputs, one held for 3 steps and windowed: V is the exact recurrence of I_e plus the
    currents defined by the stream layout, step by step."""
    net = Network(dt=0.1)
    net.add_population("pad", 3, "iaf_psc_exp", FREE)
    net.add_population("n", 2, "iaf_psc_exp", dict(FREE, I_e=30.0))
    net.add_noise_input("pad", mean=1.0, std=1.0)                   # index 0: another population's
    net.add_noise_input("n", mean=40.0, std=120.0, dt=0.3)          # index 1
    net.add_noise_input("n", mean=-5.0, std=60.0, start=2.0, stop=7.5)   # index 2: steps 20..74
    net.record_voltage("n", [0, 1])
    res = simulate(net, 10.0, seed=77, progress=False)
    pf = res.plan.pop_f[1]
    p22, p20, e_l = pf[bp.PF_P22], pf[bp.PF_P20], pf[bp.PF_EL]
    for col, gid in enumerate((3, 4)):
        v = 0.0
        for t in range(res.n_steps):
            i_stim = 30.0 + reference_current(77, 1, gid, t, 3, 40.0, 120.0)
            if 20 <= t < 75:
                i_stim = i_stim + reference_current(77, 2, gid, t, 1, -5.0, 60.0)
            v = v * p22 + i_stim * p20
            assert res.vrec[t, col] == v + e_l, (gid, t)


def test_free_membrane_statistics():
    """2000 free membranes driven by a current redrawn every step: V has mean R (I_e + mean)
    and variance std^2 P20^2 / (1 - P22^2) (V_n+1 = P22 V_n + P20 I_n), and neighbours
    (sharing a Philox call) are uncorrelated."""
    net = Network(dt=0.1)
    net.add_population("n", 2000, "iaf_psc_exp", FREE)
    net.add_noise_input("n", mean=80.0, std=250.0)
    net.record_voltage("n", range(2000))
    res = simulate(net, 300.0, seed=3, progress=False)
    pf = res.plan.pop_f[0]
    p22, p20 = pf[bp.PF_P22], pf[bp.PF_P20]
    v = res.vrec[1000::100] - pf[bp.PF_EL]      # after 10 tau_m, samples 10 ms (1 tau_m) apart
    mean, var = 80.0 * p20 / (1 - p22), 250.0 ** 2 * p20 ** 2 / (1 - p22 ** 2)
    assert abs(v.mean() - mean) < 4 * np.sqrt(var / v.size)
    assert v.var() == pytest.approx(var, rel=0.03)
    assert abs(np.corrcoef(v[:, 0::2].ravel(), v[:, 1::2].ravel())[0, 1]) < 0.03


def test_noise_inputs_are_checked():
    net = Network(dt=0.1)
    net.add_population("n", 2)
    net.add_spike_source("s", 1, [0], [1.0])
    cases = [(("s",), {"std": 1.0}, "'s' is a spike source"),
             (("x",), {}, "unknown population 'x'"),
             (("n",), {"std": -1.0}, "std must be >= 0 pA"),
             (("n",), {"mean": float("nan")}, "mean must be a finite number"),
             (("n",), {"std": True}, "std must be a finite number"),
             (("n",), {"dt": 0.25}, r"interval dt = 0.25 ms is not a whole number of time steps \(dt = 0.1 ms\)"),
             (("n",), {"dt": 0.0}, "dt must be a positive number of ms"),
             (("n",), {"start": 5.0, "stop": 1.0}, "need 0 <= start <= stop")]
    for args, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            net.add_noise_input(*args, **kwargs)
    assert net.noise_inputs == []
    net.add_noise_input("n", std=10.0, dt=0.3)
    assert net.noise_inputs[0].dt == 0.3
    assert make_plan(net, 1).noise_i[0].tolist() == [0, 0, bp.STEP_NEVER, 3, 0, bp.NZ_NORMAL, 0, 0]


def test_noise_is_part_of_the_model_fingerprint():
    """A restart must not continue a run with other noise; a model without noise keeps the
    fingerprint it had before noise currents existed (their empty tables are not hashed)."""
    def plan(std):
        net = Network(dt=0.1)
        net.add_population("n", 4)
        if std is not None:
            net.add_noise_input("n", std=std)
        return make_plan(net, 1)
    a, b, none = (fingerprint(plan(s))["model_tables_sha256"] for s in (10.0, 20.0, None))
    assert len({a, b, none}) == 3
    p = plan(None)
    p.noise_f, p.noise_i = np.zeros((0, 3)), np.zeros((0, 7), dtype=np.int64)   # any empty shape: not hashed
    assert fingerprint(p)["model_tables_sha256"] == none


@pytest.mark.parametrize("uniform", [False, True])
def test_the_cpu_kernel_draws_every_gid_of_any_range(uniform):
    """add_noise_current (whole pairs drawn in a vectorised loop, a half pair at either end
    apart) adds exactly a + b z_g to every gid of g0..g1-1 and touches nothing else: ranges
    starting and ending on odd and even gids, empty, of one neuron, and a full chunk."""
    from distsnn.backends.cpu.noise_kernels import add_noise_current
    seed, index, interval, a, b = 5, 3, 2 ** 33 + 7, 2.5, 40.0
    key = streams.key_from_seed(seed)
    tag = streams.tag(streams.DOM_CURRENT, index)
    ranges = [(0, 0), (3, 3), (4, 5), (5, 6), (5, 7), (4, 7), (5, 8), (6, 15), (7, 16), (1000, 2024), (1001, 2026)]
    for g0, g1 in ranges:
        gids = np.arange(g0, g1, dtype=np.uint64)
        w = philox4x32(interval & 0xFFFFFFFF, interval >> 32, gids >> np.uint64(1), tag, *key)
        u0, u1 = uniform_open0_closed1(w[0]), uniform_open0_closed1(w[1])
        z0, z1 = (u0, u1) if uniform else box_muller(u0, u1)
        expect = 1.0 + (a + b * np.where(gids & np.uint64(1), z1, z0))
        stim = np.full(g1 - g0 + 3, 1.0)
        add_noise_current(interval, g0, g1, tag, *key, a, b, uniform, stim)
        assert np.array_equal(stim[:g1 - g0], expect), (g0, g1)
        assert np.all(stim[g1 - g0:] == 1.0), (g0, g1)


def test_a_restart_inside_an_interval_finds_the_held_current_again(tmp_path):
    """The CPU engine draws a current once per interval and holds it (injected_current); a run
    cut at step 41, inside an interval of 3 steps, and restarted continues V exactly, the
    frozen current (a distributed I_e) too."""
    def net():
        n = Network(dt=0.1)
        n.add_population("n", 5, "iaf_psc_exp", dict(FREE, I_e=Normal(30.0, 10.0)))
        n.add_noise_input("n", mean=40.0, std=120.0, dt=0.3)
        n.record_voltage("n", range(5))
        return n
    whole = simulate(net(), 10.0, seed=4, backend="cpu", progress=False)
    simulate(net(), 4.1, seed=4, backend="cpu", progress=False, checkpoint=str(tmp_path / "ck"))
    rest = simulate(net(), 5.9, seed=4, backend="cpu", progress=False, restart=str(tmp_path / "ck"))
    assert np.array_equal(rest.state("n")[2], whole.state("n")[2][41:])
