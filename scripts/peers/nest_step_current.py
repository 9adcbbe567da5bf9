"""Reference traces for tests/test_step_current.py: NEST's step_current_generator,
dc_generator and ac_generator, each connected to some neurons of a population (or all), into
iaf_psc_exp, iaf_cond_exp (threshold out of reach) and iaf_psc_alpha (NEST's threshold: it
spikes) neurons; V every step and the spike times. Writes tests/data/nest_step_current.json.
Usage:

    /path/to/venv-with-nest/bin/python scripts/peers/nest_step_current.py tests/data/nest_step_current.json
"""
import json
import sys

# shared with the test through the JSON file. delay: every generator -> neuron connection's;
# neurons: the population-local ids a generator is connected to (null: all of them)
PROTOCOL = {
    "dt": 0.1, "t_sim": 60.0, "delay": 0.1, "size": 8,
    "models": {"iaf_psc_exp": {"V_th": 1000.0}, "iaf_cond_exp": {"V_th": 1000.0}, "iaf_psc_alpha": {}},
    "generators": [
        {"model": "step_current_generator", "neurons": [0, 2, 5],
         "params": {"amplitude_times": [5.0, 12.3, 20.0, 31.7, 40.0],
                    "amplitude_values": [150.0, -80.0, 560.0, 0.0, 480.0]}},
        {"model": "step_current_generator", "neurons": None,
         "params": {"amplitude_times": [3.0, 8.0, 26.0], "amplitude_values": [60.0, 120.0, -40.0],
                    "start": 6.0, "stop": 30.0}},
        {"model": "dc_generator", "neurons": [2, 3, 7], "params": {"amplitude": 390.0, "start": 10.0, "stop": 35.0}},
        {"model": "ac_generator", "neurons": [1, 5, 6],
         "params": {"amplitude": 100.0, "frequency": 30.0, "phase": 20.0, "offset": 20.0, "start": 1.0}},
    ],
}


def main(out_path):
    import nest
    p = PROTOCOL
    nest.ResetKernel()
    nest.resolution = p["dt"]
    gens = [nest.Create(g["model"], params=g["params"]) for g in p["generators"]]
    v_m, spikes = {}, {}
    meters, recorders = {}, {}
    for model, mparams in p["models"].items():
        pop = nest.Create(model, p["size"], params=mparams)
        for gen, g in zip(gens, p["generators"]):
            targets = pop if g["neurons"] is None else pop[g["neurons"]]
            nest.Connect(gen, targets, syn_spec={"delay": p["delay"]})
        meters[model] = nest.Create("multimeter", params={"interval": p["dt"], "record_from": ["V_m"]})
        nest.Connect(meters[model], pop)
        recorders[model] = nest.Create("spike_recorder")
        nest.Connect(pop, recorders[model])
    nest.Simulate(p["t_sim"] + nest.min_delay)   # the multimeter hands over the last min_delay later
    for model in p["models"]:
        ev = meters[model].events
        first = int(min(ev["senders"]))
        rows = {}
        for t, s, v in zip(ev["times"], ev["senders"], ev["V_m"]):
            if t <= p["t_sim"] + 1e-9:
                rows.setdefault(int(s) - first, []).append(float(v))
        v_m[model] = [rows[i] for i in range(p["size"])]
        sp = recorders[model].events
        spikes[model] = sorted((float(t), int(s) - first) for t, s in zip(sp["times"], sp["senders"]))
    with open(out_path, "w") as f:
        json.dump({"nest": nest.__version__, "protocol": p, "v_m": v_m, "spikes": spikes}, f)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
