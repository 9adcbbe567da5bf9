"""One neuron of each model against NEST 3.10's own trace of the same protocol
(tests/data/nest_neuron_traces.json, written by scripts/peers/nest_neuron_traces.py):
excitatory and inhibitory input spikes, a DC current, threshold crossings and input that
arrives while the neuron is refractory. For the current-based models V must agree at every
step to 1e-9 mV and the spike times exactly: both simulators integrate them exactly on the
same grid. The conductance-based ones NEST integrates adaptively (RKF45) and distsnn with a
fixed second-order step: V agrees to COND_TOL_MV, and the spike times exactly. aeif_cond_exp
distsnn integrates with NEST's own solver (RKF45 with GSL's step control, distsnn.model.rkf45):
V agrees to AEIF_TOL_MV, and the spike times exactly."""
import json
import pathlib

import numpy as np
import pytest

from distsnn.model import Network, OneToOne
from distsnn.runtime import simulate

DATA = json.loads((pathlib.Path(__file__).parent / "data" / "nest_neuron_traces.json").read_text())
P = DATA["protocol"]
# measured: 3.7e-3 mV (iaf_cond_exp) and 6.0e-3 mV (iaf_cond_alpha), at the steepest parts of
# PSPs of several mV; our second-order step and NEST's error-controlled RKF45 both contribute
COND_TOL_MV = 0.01
# the same algorithm on the same numbers: the traces differ by rounding only (the portable exp
# and log against libm's, reciprocals for NEST's divisions, V relative to E_L); measured 6e-12 mV
# at most, spikes and bursts included
AEIF_TOL_MV = 1e-9


def trace(label, spec, backend):
    """max |V - V_NEST| (mV) over the run of the protocol's entry `label`; asserts that the
    spike times are NEST's."""
    net = Network(dt=P["dt"])
    net.add_spike_source("exc", 1, np.zeros(len(P["exc_times"]), int), P["exc_times"])
    net.add_spike_source("inh", 1, np.zeros(len(P["inh_times"]), int), P["inh_times"])
    net.add_population("n", 1, spec.get("model", label), dict(spec["params"], I_e=spec.get("I_e", P["I_e"])))
    net.connect("exc", "n", OneToOne(), spec["w_exc"], P["delay"])
    net.connect("inh", "n", OneToOne(), spec["w_inh"], P["delay"])
    net.record_spikes("n")
    net.record_voltage("n", [0])
    res = simulate(net, P["t_sim"], backend=backend, progress=False)
    ref = DATA["traces"][label]
    steps = np.rint(np.array(ref["t"]) / P["dt"]).astype(int) - 1       # V at time t is after step t/dt - 1
    assert np.allclose(res.spikes("n")[1], ref["spikes"], atol=1e-9, rtol=0) and len(ref["spikes"]) > 0
    return np.max(np.abs(res.vrec[steps, 0] - np.array(ref["v"])))


@pytest.mark.parametrize("model", sorted(P["models"]))
@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_neuron_trace_equals_nest(model, backend):
    assert trace(model, P["models"][model], backend) < 1e-9


@pytest.mark.parametrize("model", sorted(P["conductance_models"]))
@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_conductance_neuron_trace_near_nest(model, backend):
    assert trace(model, P["conductance_models"][model], backend) < COND_TOL_MV


@pytest.mark.parametrize("label", sorted(P["adaptive_models"]))
@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_adaptive_neuron_trace_near_nest(label, backend):
    assert trace(label, P["adaptive_models"][label], backend) < AEIF_TOL_MV
