"""Reference traces for tests/test_ac_input.py: NEST's ac_generator into an iaf_psc_exp and an
iaf_cond_exp neuron (threshold out of reach, so V follows the current alone), V every step,
for a few settings (amplitude, frequency, phase, offset, window). Writes
tests/data/nest_ac_generator.json. Usage:

    /path/to/venv-with-nest/bin/python scripts/peers/nest_ac_generator.py tests/data/nest_ac_generator.json
"""
import json
import sys

# shared with the test through the JSON file; delay: the generator -> neuron connection's
PROTOCOL = {
    "dt": 0.1, "t_sim": 60.0, "delay": 0.1,
    "settings": [
        {"amplitude": 100.0, "frequency": 50.0, "phase": 30.0, "offset": 20.0, "start": 2.0, "stop": 45.0},
        {"amplitude": 40.0, "frequency": 333.0, "phase": 0.0, "offset": 0.0, "start": 0.0, "stop": None},
        {"amplitude": 250.0, "frequency": 7.5, "phase": -100.0, "offset": -30.0, "start": 10.0, "stop": None},
    ],
    "models": {"iaf_psc_exp": {"V_th": 1000.0}, "iaf_cond_exp": {"V_th": 1000.0}},
}


def main(out_path):
    import nest
    p = PROTOCOL
    traces = []
    for setting in p["settings"]:
        nest.ResetKernel()
        nest.resolution = p["dt"]
        params = {k: v for k, v in setting.items() if v is not None}
        gen = nest.Create("ac_generator", params=params)
        out = {}
        for model, mparams in p["models"].items():
            neuron = nest.Create(model, params=mparams)
            nest.Connect(gen, neuron, syn_spec={"delay": p["delay"]})
            meter = nest.Create("multimeter", params={"interval": p["dt"], "record_from": ["V_m"]})
            nest.Connect(meter, neuron)
            out[model] = meter
        nest.Simulate(p["t_sim"] + nest.min_delay)   # the multimeter hands over the last min_delay later
        traces.append({model: [float(v) for t, v in zip(m.events["times"], m.events["V_m"]) if t <= p["t_sim"] + 1e-9]
                       for model, m in out.items()})
    with open(out_path, "w") as f:
        json.dump({"nest": nest.__version__, "protocol": p, "v_m": traces}, f)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
