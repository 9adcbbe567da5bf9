"""Reference traces for tests/test_nest_traces.py: one neuron of each model in
NEST (run with a Python that has nest), driven by a fixed spike train (excitatory and
inhibitory, some arriving while it is refractory) and a DC current; writes V every step, the
other state variables distsnn can record (synaptic currents or conductances, the AdEx
models' w) every step, and the spike times to tests/data/nest_neuron_traces.json. Usage:

    /path/to/venv-with-nest/bin/python scripts/peers/nest_neuron_traces.py tests/data/nest_neuron_traces.json
"""
import json
import sys

# the protocol, shared with the test through the JSON file
PROTOCOL = {
    "dt": 0.1, "t_sim": 40.0, "delay": 1.0, "I_e": 200.0,
    "exc_times": [1.0, 3.0, 5.0, 5.5, 6.0, 6.5, 7.0, 7.3, 8.1, 20.0], "inh_times": [12.0, 25.0],
    "models": {
        "iaf_psc_exp": {"params": {"tau_syn_ex": 2.0, "tau_syn_in": 4.0}, "w_exc": 900.0, "w_inh": -600.0},
        "iaf_psc_alpha": {"params": {"tau_syn_ex": 1.5, "tau_syn_in": 4.0}, "w_exc": 500.0, "w_inh": -300.0},
        "iaf_psc_delta": {"params": {}, "w_exc": 4.0, "w_inh": -3.0},
    },
    # NEST integrates these adaptively (RKF45), distsnn with a fixed second-order step: their
    # traces agree to a tolerance, not to rounding (tests/test_nest_traces.py); weights in nS,
    # the inhibitory one negative as NEST wants it
    "conductance_models": {
        "iaf_cond_exp": {"params": {"tau_syn_ex": 1.0, "tau_syn_in": 4.0}, "w_exc": 30.0, "w_inh": -20.0},
        "iaf_cond_alpha": {"params": {"tau_syn_ex": 1.0, "tau_syn_in": 4.0}, "w_exc": 12.0, "w_inh": -8.0},
    },
    # the AdEx models: distsnn integrates them with NEST's own solver (RKF45, the same step
    # control), so the traces agree to rounding. Entries by label, each with its model and
    # its own I_e (the default neuron's rheobase is above 500 pA): NEST's defaults (t_ref 0),
    # a bursting set (V_reset above V_th, refractory) and Delta_T 0 (a threshold at V_th)
    "adaptive_models": {
        "aeif_cond_exp": {"model": "aeif_cond_exp", "I_e": 1000.0, "params": {"tau_syn_ex": 1.0, "tau_syn_in": 4.0},
                          "w_exc": 15.0, "w_inh": -20.0},
        "aeif_cond_exp bursting": {"model": "aeif_cond_exp", "I_e": 900.0, "w_exc": 15.0, "w_inh": -20.0, "params": {
            "t_ref": 1.0, "a": 10.0, "b": 30.0, "tau_w": 30.0, "V_reset": -47.0, "tau_syn_ex": 1.0, "tau_syn_in": 4.0}},
        "aeif_cond_exp Delta_T 0": {"model": "aeif_cond_exp", "I_e": 900.0, "w_exc": 15.0, "w_inh": -20.0, "params": {
            "Delta_T": 0.0, "t_ref": 2.0, "a": -2.0, "tau_syn_ex": 1.0, "tau_syn_in": 4.0}},
        # the same neuron with current synapses (weights in pA)
        "aeif_psc_exp": {"model": "aeif_psc_exp", "I_e": 900.0, "w_exc": 400.0, "w_inh": -500.0, "params": {
            "t_ref": 1.0, "tau_syn_ex": 1.0, "tau_syn_in": 4.0}},
        # and with jumps of V (weights in mV): NEST adds them after the solver's first step in the
        # step they arrive; with t_ref 1 ms some arrive while the neuron is refractory and are lost
        "aeif_psc_delta": {"model": "aeif_psc_delta", "I_e": 900.0, "w_exc": 6.0, "w_inh": -8.0, "params": {
            "t_ref": 1.0}},
        "aeif_psc_delta t_ref 0": {"model": "aeif_psc_delta", "I_e": 700.0, "w_exc": 9.0, "w_inh": -5.0,
                                   "params": {}},
    },
}


# the variables distsnn records besides V_m (model.neurons.RECORDABLES), NEST's names
STATE = ("I_syn_ex", "I_syn_in", "g_ex", "g_in", "w")


def main(out_path):
    import nest
    p = PROTOCOL
    result = {"protocol": p, "nest_version": nest.__version__, "traces": {}}
    for label, spec in dict(p["models"], **p["conductance_models"], **p["adaptive_models"]).items():
        nest.ResetKernel()
        nest.resolution = p["dt"]
        n = nest.Create(spec.get("model", label), params=dict(spec["params"], I_e=spec.get("I_e", p["I_e"])))
        exc = nest.Create("spike_generator", params={"spike_times": p["exc_times"]})
        inh = nest.Create("spike_generator", params={"spike_times": p["inh_times"]})
        nest.Connect(exc, n, syn_spec={"weight": spec["w_exc"], "delay": p["delay"]})
        nest.Connect(inh, n, syn_spec={"weight": spec["w_inh"], "delay": p["delay"]})
        state = [r for r in nest.GetDefaults(spec.get("model", label))["recordables"] if r in STATE]
        mm = nest.Create("multimeter", params={"record_from": ["V_m"] + state, "interval": p["dt"]})
        sr = nest.Create("spike_recorder")
        nest.Connect(mm, n)
        nest.Connect(n, sr)
        nest.Simulate(p["t_sim"])
        ev = mm.get("events")
        result["traces"][label] = {"t": [float(x) for x in ev["times"]], "v": [float(x) for x in ev["V_m"]],
                                   "state": {r: [float(x) for x in ev[r]] for r in state},
                                   "spikes": [float(x) for x in sr.get("events")["times"]]}
    with open(out_path, "w") as fh:
        json.dump(result, fh, indent=0)


if __name__ == "__main__":
    main(sys.argv[1])
