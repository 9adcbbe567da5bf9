"""Reference samples for tests/test_state_sampling.py: NEST's multimeter with an interval,
start and stop, recording V_m and I_syn_ex of one iaf_psc_exp neuron driven by a DC current
and input spikes. NEST hands a multimeter the samples of the last min_delay of a Simulate
call only in the next call, so the neuron is simulated one min_delay beyond T and the samples
after T are dropped. Writes the times and values of every setting to
tests/data/nest_multimeter_sampling.json. Usage:

    /path/to/venv-with-nest/bin/python scripts/peers/nest_multimeter_sampling.py \
        tests/data/nest_multimeter_sampling.json
"""
import json
import sys

# shared with the test through the JSON file
PROTOCOL = {
    "dt": 0.1, "t_sim": 30.0, "I_e": 300.0, "delay": 1.0, "weight": 500.0, "spike_times": [2.0, 7.5, 13.0, 21.3],
    # (interval, start, stop) ms; stop None: no end
    "settings": [[1.0, 0.0, None], [0.1, 0.0, None], [0.5, 2.0, None], [1.0, 2.1, None], [0.3, 0.0, 20.0],
                 [2.5, 4.0, 17.5], [0.7, 10.0, None]],
}


def main(out_path):
    import nest
    p = PROTOCOL
    nest.ResetKernel()
    nest.resolution = p["dt"]
    neuron = nest.Create("iaf_psc_exp", params={"I_e": p["I_e"]})
    gen = nest.Create("spike_generator", params={"spike_times": p["spike_times"]})
    nest.Connect(gen, neuron, syn_spec={"weight": p["weight"], "delay": p["delay"]})
    meters = []
    for interval, start, stop in p["settings"]:
        params = {"interval": interval, "start": start, "record_from": ["V_m", "I_syn_ex"]}
        if stop is not None:
            params["stop"] = stop
        meter = nest.Create("multimeter", params=params)
        nest.Connect(meter, neuron)
        meters.append(meter)
    nest.Simulate(p["t_sim"] + nest.min_delay)
    out = []
    for meter in meters:
        ev = meter.events
        keep = [i for i, t in enumerate(ev["times"]) if t <= p["t_sim"] + 1e-9]
        out.append({key: [float(ev[key][i]) for i in keep] for key in ("times", "V_m", "I_syn_ex")})
    with open(out_path, "w") as f:
        json.dump({"nest": nest.__version__, "protocol": p, "samples": out}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
