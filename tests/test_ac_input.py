"""AC currents (Network.add_ac_input, NEST's ac_generator): V of a neuron driven by one agrees
with NEST 3.10's trace (tests/data/nest_ac_generator.json, from
scripts/peers/nest_ac_generator.py) to rounding on the CPU and the emulated GPU, once the
generator's connection delay is moved into the window and the phase; the phase does not
drift; DC inputs and their fingerprints are as before; bad settings are refused."""
import json
import math
import pathlib
from fractions import Fraction

import numpy as np
import pytest

from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.phase_words import sine_at, words
from distsnn.io.checkpoint import fingerprint
from distsnn.model import Network
from distsnn.runtime import simulate

DATA = json.loads((pathlib.Path(__file__).parent / "data" / "nest_ac_generator.json").read_text())
P = DATA["protocol"]


def ac_neuron(model, s, delay):
    """One neuron (threshold out of reach) driven by the AC input of setting s, its window
    and phase moved by NEST's generator -> neuron delay (add_ac_input's docstring)."""
    net = Network(dt=P["dt"])
    net.add_population("n", 1, model, {"V_th": 1000.0})
    stop = math.inf if s["stop"] is None else s["stop"] + delay
    net.add_ac_input("n", s["amplitude"], s["frequency"], phase=s["phase"] - 360.0 * s["frequency"] * delay / 1000.0,
                     offset=s["offset"], start=s["start"] + delay, stop=stop)
    net.record_voltage("n", [0])
    return net


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
@pytest.mark.parametrize("model", sorted(P["models"]))
@pytest.mark.parametrize("k", range(len(P["settings"])))
def test_v_is_nests_trace(k, model, backend):
    ref = np.array(DATA["v_m"][k][model])
    res = simulate(ac_neuron(model, P["settings"][k], P["delay"]), P["t_sim"], backend=backend, progress=False)
    assert np.max(np.abs(res.vrec[:, 0] - ref)) < 1e-9          # measured 1.1e-13 mV at most
    # the current's timing matters: without the delay the traces part
    off = simulate(ac_neuron(model, P["settings"][k], 0.0), P["t_sim"], backend="cpu", progress=False)
    assert np.max(np.abs(off.vrec[:, 0] - ref)) > 1e-3


def test_the_phase_does_not_drift():
    """sin at step n from the phase words is sin(2 pi (f n dt + phase / 360)) to a few ulp,
    plus what the cycles per step lose once, to float64 and to the word (c 2**-52 + 2**-65
    cycles per step, c = f dt: 2e-8 after 10**10 steps, 11.6 days at 0.1 ms). A float phase
    recurrence would add a rounding every step; here nothing accumulates."""
    cycles, phase = words(13.7, 211.0, 0.1)
    c = 13.7 * 0.1 * 1e-3
    for n in [0, 1, 7, 12345] + list(range(10 ** 10, 10 ** 10 + 50)):
        u = (Fraction(137, 10) * n * Fraction(1, 10) / 1000 + Fraction(211, 360)) % 1
        bound = 1e-12 + 2 * math.pi * n * (c * 2.0 ** -52 + 2.0 ** -65)
        assert abs(sine_at(cycles, phase, n) - math.sin(2 * math.pi * float(u))) < bound


def test_dc_inputs_are_as_before():
    """A DC input has zero AC columns, its model's fingerprint is the one from before they
    existed; an AC input's settings change the fingerprint."""
    def plan(*ac):
        net = Network(dt=0.1)
        net.add_population("n", 4)
        net.add_dc_input("n", 50.0, start=1.0, stop=9.0)
        if ac:
            net.add_ac_input("n", *ac)
        return make_plan(net, 1)
    p = plan()
    assert p.dc_f.tolist() == [[50.0, 0.0]] and p.dc_i.tolist() == [[10, 90, 0, 0, 0, 0, 0, 0]]
    before = fingerprint(p)["model_tables_sha256"]
    p.dc_f, p.dc_i = p.dc_f[:, :bp.N_DF_BEFORE_AC].copy(), p.dc_i[:, :bp.N_DI_BEFORE_AC].copy()
    assert fingerprint(p)["model_tables_sha256"] == before
    prints = {fingerprint(plan(*a))["model_tables_sha256"] for a in ((10.0, 5.0), (10.0, 6.0), (11.0, 5.0),
                                                                      (10.0, 5.0, 90.0), (10.0, 5.0, 0.0, 1.0))}
    assert len(prints) == 5 and before not in prints


def test_ac_input_validation():
    net = Network(dt=0.1)
    net.add_population("n", 2)
    net.add_spike_source("s", 1, [0], [1.0])
    cases = [(("n", math.nan, 5.0), {}, "amplitude must be a finite number"),
             (("n", 1.0, math.inf), {}, "frequency must be a finite number"),
             (("n", 1.0, 5.0), {"phase": "0"}, "phase must be a finite number"),
             (("n", 1.0, 5.0), {"offset": True}, "offset must be a finite number"),
             (("n", 1.0, 5000.5), {}, r"frequency must be in \[0, 5000\] Hz"),
             (("n", 1.0, 5.0), {"start": 4.0, "stop": 3.0}, "need 0 <= start <= stop"),
             (("s", 1.0, 5.0), {}, "'s' is a spike source and cannot receive input"),
             (("x", 1.0, 5.0), {}, "unknown population 'x'")]
    for args, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            net.add_ac_input(*args, **kwargs)
    assert not net.dc_inputs
