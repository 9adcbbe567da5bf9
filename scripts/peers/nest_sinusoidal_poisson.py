"""Reference for tests/test_poisson_source.py: NEST's sinusoidal_poisson_generator
(individual_spike_trains) into parrot_neurons, the spikes each step of many parrots. The test
runs distsnn's sinusoidal Poisson sources with the window and phase translated as
Network.add_sinusoidal_poisson_source says, and compares the counts step by step. Writes
tests/data/nest_sinusoidal_poisson.json. Usage:

    /path/to/venv-with-nest/bin/python scripts/peers/nest_sinusoidal_poisson.py tests/data/nest_sinusoidal_poisson.json
"""
import json
import sys

# shared with the test through the JSON file: a fast modulation (a period of 40 steps), cut
# at 0 (amplitude > rate), so that a timing off by one step shows
PROTOCOL = {"dt": 0.1, "t_sim": 130.0, "parrots": 2000, "delay": 1.0, "rate": 2000.0, "amplitude": 2500.0,
            "frequency": 250.0, "phase": 70.0, "start": 20.0, "stop": 120.0}


def main(out_path):
    import nest
    import numpy as np
    p = PROTOCOL
    nest.ResetKernel()
    nest.resolution = p["dt"]
    gen = nest.Create("sinusoidal_poisson_generator", params={k: p[k] for k in (
        "rate", "amplitude", "frequency", "phase", "start", "stop")})
    parrots = nest.Create("parrot_neuron", p["parrots"])
    nest.Connect(gen, parrots, syn_spec={"delay": p["delay"]})
    rec = nest.Create("spike_recorder")
    nest.Connect(parrots, rec)
    nest.Simulate(p["t_sim"])
    steps = np.rint(np.asarray(rec.events["times"]) / p["dt"]).astype(np.int64)   # spike at time k * dt
    counts = np.bincount(steps, minlength=int(round(p["t_sim"] / p["dt"])) + 1)
    with open(out_path, "w") as f:
        json.dump({"nest": nest.__version__, "protocol": p, "counts_at_step": counts.tolist()}, f)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
