"""Checks that the Brian2 peers' conventions (brian2_nest_order.py) reproduce NEST: one
iaf_psc_delta neuron in Brian2 gets the protocol of tests/data/nest_neuron_traces.json (the
spike trains, delays, DC and NEST's defaults) and its V is compared with NEST's at every step,
its spikes with NEST's. Prints one JSON line per ordering (Brian2's default and NEST's) and
exits 1 if NEST's order differs from NEST by more than 1e-9 mV or in a spike. Usage:

    /path/to/venv-with-brian2/bin/python scripts/peers/brian2_neuron_trace.py [tests/data/nest_neuron_traces.json]
"""
import json
import os
import sys

import numpy as np

from brian2_nest_order import delay_ms, refractory_ms, use_nest_order

HERE = os.path.dirname(os.path.abspath(__file__))
# NEST's iaf_psc_delta defaults (mV, ms, pF), as nest_neuron_traces.py leaves them
NEST_DELTA = {"E_L": -70.0, "tau_m": 10.0, "C_m": 250.0, "V_th": -55.0, "V_reset": -70.0, "t_ref": 2.0}


def trace(protocol, nest_order):
    """V (mV) at the end of every step and the spike times (ms, step ends) of one neuron."""
    import brian2 as b2
    from brian2 import mV, ms, pA, pF
    b2.start_scope()
    b2.prefs.logging.console_log_level = "ERROR"
    dt, p, spec = protocol["dt"], NEST_DELTA, protocol["models"]["iaf_psc_delta"]
    b2.defaultclock.dt = dt * ms
    t_ref = refractory_ms(p["t_ref"], dt) if nest_order else p["t_ref"]
    delay = delay_ms(protocol["delay"], dt) if nest_order else protocol["delay"]
    group = b2.NeuronGroup(1, "dv/dt = (E_L - v) / tau_m + I_e / C_m : volt (unless refractory)",
                           threshold="v >= V_th", reset="v = V_reset", refractory=t_ref * ms, method="exact",
                           namespace={"E_L": p["E_L"] * mV, "tau_m": p["tau_m"] * ms, "I_e": protocol["I_e"] * pA,
                                      "C_m": p["C_m"] * pF, "V_th": p["V_th"] * mV, "V_reset": p["V_reset"] * mV})
    group.v = p["E_L"] * mV
    times = np.array(protocol["exc_times"] + protocol["inh_times"])
    weights = [spec["w_exc"]] * len(protocol["exc_times"]) + [spec["w_inh"]] * len(protocol["inh_times"])
    # a NEST spike_generator's spike at t reaches the neuron in the step ending at t + delay;
    # Brian2's generator emits in the step starting at t, so it is given t - dt
    gen = b2.SpikeGeneratorGroup(len(times), np.arange(len(times)), (times - dt) * ms)
    syn = b2.Synapses(gen, group, "w : 1", on_pre="v += w * mV * int(not_refractory_post)", delay=delay * ms)
    syn.connect(i=np.arange(len(times)), j=0)
    syn.w = weights
    v_mon, s_mon = b2.StateMonitor(group, "v", record=0), b2.SpikeMonitor(group)
    net = b2.Network(group, gen, syn, v_mon, s_mon)
    if nest_order:
        use_nest_order(net)
    net.run(protocol["t_sim"] * ms)
    # the monitor reads v at a step's start, i.e. at the end of the step before
    return np.asarray(v_mon.t / ms), np.asarray(v_mon.v[0] / mV), np.asarray(s_mon.t / ms) + dt


def main(ref_path):
    ref = json.load(open(ref_path))
    nest = ref["traces"]["iaf_psc_delta"]
    t_ref, v_ref = np.array(nest["t"]), np.array(nest["v"])
    ok = True
    for nest_order in (False, True):
        t, v, spikes = trace(ref["protocol"], nest_order)
        at = np.searchsorted(t, t_ref - 1e-9)       # NEST's samples (step ends) in Brian2's
        dv = float(np.max(np.abs(v[at] - v_ref)))
        same_spikes = np.allclose(spikes, nest["spikes"], atol=1e-9) if len(spikes) == len(nest["spikes"]) else False
        print(json.dumps({"order": "NEST's" if nest_order else "Brian2's default", "max_abs_dV_mV": dv,
                          "spikes_ms": [round(float(s), 6) for s in spikes], "nest_spikes_ms": nest["spikes"],
                          "same_spikes": bool(same_spikes)}))
        if nest_order:
            ok = dv < 1e-9 and same_spikes
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else
                  os.path.join(HERE, "..", "..", "tests", "data", "nest_neuron_traces.json")))
