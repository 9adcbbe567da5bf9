"""Reference traces for tests/test_nest_traces.py: one neuron of each model in
NEST (run with a Python that has nest), driven by a fixed spike train (excitatory and
inhibitory, some arriving while it is refractory) and a DC current; writes V every step and
the spike times to tests/data/nest_neuron_traces.json. Usage:

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
}


def main(out_path):
    import nest
    p = PROTOCOL
    result = {"protocol": p, "nest_version": nest.__version__, "traces": {}}
    for model, spec in dict(p["models"], **p["conductance_models"]).items():
        nest.ResetKernel()
        nest.resolution = p["dt"]
        n = nest.Create(model, params=dict(spec["params"], I_e=p["I_e"]))
        exc = nest.Create("spike_generator", params={"spike_times": p["exc_times"]})
        inh = nest.Create("spike_generator", params={"spike_times": p["inh_times"]})
        nest.Connect(exc, n, syn_spec={"weight": spec["w_exc"], "delay": p["delay"]})
        nest.Connect(inh, n, syn_spec={"weight": spec["w_inh"], "delay": p["delay"]})
        mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": p["dt"]})
        sr = nest.Create("spike_recorder")
        nest.Connect(mm, n)
        nest.Connect(n, sr)
        nest.Simulate(p["t_sim"])
        ev = mm.get("events")
        result["traces"][model] = {"t": [float(x) for x in ev["times"]], "v": [float(x) for x in ev["V_m"]],
                                   "spikes": [float(x) for x in sr.get("events")["times"]]}
    with open(out_path, "w") as fh:
        json.dump(result, fh, indent=0)


if __name__ == "__main__":
    main(sys.argv[1])
