"""Reference traces for tests/test_izhikevich.py: NEST's izhikevich neuron (its default
forward-Euler integration, and Izhikevich's published scheme) for a few parameter sets, driven by
I_e and a fixed spike train (weights in mV, excitatory and inhibitory); V_m and U_m every step
and the spike times. Writes tests/data/nest_izhikevich.json. Usage:

    /path/to/venv-with-nest/bin/python scripts/peers/nest_izhikevich.py tests/data/nest_izhikevich.json
"""
import json
import sys

# shared with the test through the JSON file (Izhikevich 2003's cell classes, NEST's names)
PROTOCOL = {
    "dt": 0.1, "t_sim": 200.0, "delay": 1.0,
    "exc_times": [20.0, 20.5, 21.0, 60.0, 61.0, 62.0, 63.0, 150.0], "inh_times": [100.0, 101.0, 170.0],
    "w_exc": 6.0, "w_inh": -8.0,
    "cells": {
        "regular spiking": {"I_e": 10.0},
        "fast spiking": {"a": 0.1, "d": 2.0, "I_e": 8.0},
        "chattering": {"c": -50.0, "d": 2.0, "I_e": 10.0},
        "intrinsically bursting": {"c": -55.0, "d": 4.0, "I_e": 10.0, "V_m": -70.0, "U_m": -14.0},
        "quiet, input only": {"I_e": 0.0, "V_min": -80.0},
        # Izhikevich's published scheme: two half steps of v, then u from the new v
        "regular spiking, published": {"I_e": 10.0, "consistent_integration": False},
        "chattering, published": {"c": -50.0, "d": 2.0, "I_e": 10.0, "consistent_integration": False},
    },
}


def main(out_path):
    import nest
    p = PROTOCOL
    nest.ResetKernel()
    nest.resolution = p["dt"]
    exc = nest.Create("spike_generator", params={"spike_times": p["exc_times"]})
    inh = nest.Create("spike_generator", params={"spike_times": p["inh_times"]})
    cells = {}
    for label, params in p["cells"].items():
        n = nest.Create("izhikevich", params=params)
        nest.Connect(exc, n, syn_spec={"weight": p["w_exc"], "delay": p["delay"]})
        nest.Connect(inh, n, syn_spec={"weight": p["w_inh"], "delay": p["delay"]})
        m = nest.Create("multimeter", params={"interval": p["dt"], "record_from": ["V_m", "U_m"]})
        nest.Connect(m, n)
        s = nest.Create("spike_recorder")
        nest.Connect(n, s)
        cells[label] = (m, s)
    nest.Simulate(p["t_sim"] + nest.min_delay)   # the multimeter hands over the last min_delay later
    out = {}
    for label, (m, s) in cells.items():
        keep = [i for i, t in enumerate(m.events["times"]) if t <= p["t_sim"] + 1e-9]
        out[label] = {"V_m": [float(m.events["V_m"][i]) for i in keep],
                      "U_m": [float(m.events["U_m"][i]) for i in keep],
                      "spikes": [float(t) for t in s.events["times"] if t <= p["t_sim"] + 1e-9]}
    with open(out_path, "w") as f:
        json.dump({"nest": nest.__version__, "protocol": p, "traces": out}, f)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
