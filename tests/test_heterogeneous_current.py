"""Heterogeneous bias currents: a population's I_e as a Normal or Uniform, drawn per neuron
from the counter-based streams (a frozen noise current), the same at every step."""
import numpy as np
import pytest

from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.io.checkpoint import fingerprint
from distsnn.model import Network, Normal, Uniform
from distsnn.rng import streams
from distsnn.rng.philox import philox4x32, uniform_open0_closed1
from distsnn.rng.portable_math import box_muller
from distsnn.runtime import simulate

C_M, TAU_M, E_L = 250.0, 10.0, -70.0


def expected_currents(plan, q, gids, kind, a, b):
    """I_e of the neurons `gids` from the stream's definition: interval 0 of current q."""
    w = philox4x32(0, 0, gids >> 1, streams.tag(streams.DOM_CURRENT, q), plan.key0, plan.key1)
    u0, u1 = uniform_open0_closed1(w[0]), uniform_open0_closed1(w[1])
    z0, z1 = (u0, u1) if kind == "uniform" else box_muller(u0, u1)
    return a + b * np.where(gids & 1, z1, z0)


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_each_neuron_keeps_its_own_current(backend):
    """Free membranes settle at E_L + I_e,i tau_m / C_m: each neuron's current is the
    stream's draw, and stays the same (the V of 150 and 200 ms agree)."""
    net = Network(dt=0.1)
    net.add_population("A", 3, params={"V_th": 1e3})                    # gids off the pairs' alignment
    net.add_population("N", 301, params={"V_th": 1e3, "I_e": Normal(200.0, 50.0)}, v_init=E_L)
    net.add_population("U", 200, params={"V_th": 1e3, "I_e": Uniform(-100.0, 300.0)}, v_init=E_L)
    net.add_noise_input("U", std=0.0)                                   # a plain one after it: adds 0
    net.record_voltage("N", np.arange(301))
    net.record_voltage("U", np.arange(200))
    res = simulate(net, 200.0, seed=6, backend=backend, progress=False)
    plan = res.plan
    for name, q, kind, a, b in (("N", 0, "normal", 200.0, 50.0), ("U", 1, "uniform", -100.0, 400.0)):
        ids, _, v = res.state(name)
        sl = plan.pop_slice(name)
        i_e = (v[-1] - E_L) * C_M / TAU_M
        assert np.allclose(i_e, expected_currents(plan, q, sl.start + ids, kind, a, b), atol=1e-5)
        assert np.allclose(v[1499], v[-1], atol=1e-4)                   # 150 ms: the same current
        if kind == "normal":
            assert abs(i_e.mean() - 200.0) < 4 * 50.0 / np.sqrt(301) and i_e.std() == pytest.approx(50.0, rel=0.15)
        else:
            assert i_e.min() > -100.0 and i_e.max() <= 300.0 and abs(i_e.mean() - 100.0) < 4 * 115.5 / np.sqrt(200)
    assert [n.kind for n in net.noise_inputs] == ["normal", "uniform", "normal"]
    assert plan.noise_i[:2, bp.NZ_EVERY].tolist() == [bp.STEP_NEVER] * 2


def test_distributed_current_validation():
    net = Network(dt=0.1)
    with pytest.raises(ValueError, match=r"parameter gsl_error_tol must be a number; only I_e, V_th, C_m, .* may "
                                         r"differ between neurons \(a Normal or Uniform, or one value per neuron\)"):
        net.add_population("p", 3, "aeif_cond_exp", {"gsl_error_tol": Normal(1e-6, 1e-7)})
    with pytest.raises(ValueError, match="I_e: sd must be >= 0"):
        net.add_population("p", 3, params={"I_e": Normal(0.0, -1.0)})
    with pytest.raises(ValueError, match=r"I_e: uniform high \(1.0\) is below low \(2.0\)"):
        net.add_population("p", 3, params={"I_e": Uniform(2.0, 1.0)})
    assert not net.populations and not net.noise_inputs
    pop = net.add_population("p", 3, "iaf_cond_exp", params={"I_e": Normal(10.0, 2.0)})
    assert pop.params["I_e"] == 0.0 and net.noise_inputs[0].target == "p"
    net.noise_inputs.append(net.noise_inputs[0])      # by hand: the CPU engine keeps one per population
    with pytest.raises(ValueError, match="more than one frozen noise current"):
        make_plan(net, 1)


def test_the_distribution_is_part_of_the_model_fingerprint():
    """Normal and Uniform of the same numbers are different models; models whose currents are
    all normal keep the fingerprints they had before the kind column existed."""
    def plan(i_e):
        net = Network(dt=0.1)
        net.add_population("n", 4, params={"I_e": i_e})
        return make_plan(net, 1)
    prints = {fingerprint(plan(d))["model_tables_sha256"] for d in (Normal(1.0, 2.0), Uniform(1.0, 2.0), 1.0)}
    assert len(prints) == 3
    p = plan(Normal(1.0, 2.0))
    before = fingerprint(p)["model_tables_sha256"]
    p.noise_i = p.noise_i[:, :bp.N_NZ_BEFORE_KIND]
    assert fingerprint(p)["model_tables_sha256"] == before
