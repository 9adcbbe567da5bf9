"""Reference for tests/test_poisson_source.py: NEST's mip_generator into parrot_neurons, the
statistics the test compares with distsnn's MIP sources (Network.add_mip_source): the rate of
each parrot, the number of steps with spikes (the parent's, where every copy comes from), the
correlation coefficient of two parrots' counts per step (mean and spread over all pairs) and
the window of the spike times. Writes tests/data/nest_mip.json. Usage:

    /path/to/venv-with-nest/bin/python scripts/peers/nest_mip.py tests/data/nest_mip.json
"""
import json
import sys

# shared with the test through the JSON file; the recorder's delay sets NEST's min_delay, by
# which the generator shifts its window (Network.add_mip_source)
PROTOCOL = {"dt": 0.1, "t_sim": 2200.0, "parrots": 300, "delay": 1.0, "rate": 200.0, "p_copy": 0.25,
            "start": 100.0, "stop": 2100.0, "seed": 11}


def statistics(ids, times, n, dt, t_sim):
    """The JSON's statistics of spikes (ids 0..n-1, times ms)."""
    import numpy as np
    steps = np.rint(np.asarray(times) / dt).astype(np.int64)
    counts = np.zeros((n, int(round(t_sim / dt)) + 1))
    np.add.at(counts, (np.asarray(ids), steps), 1)
    cc = np.corrcoef(counts)[np.triu_indices(n, 1)]
    return {"rate_hz": len(times) / n / (t_sim * 1e-3), "parent_steps": int(np.unique(steps).size),
            "corr_mean": float(cc.mean()), "corr_sd": float(cc.std()),
            "first_ms": float(np.min(times)), "last_ms": float(np.max(times))}


def main(out_path):
    import nest
    p = PROTOCOL
    nest.ResetKernel()
    nest.resolution = p["dt"]
    nest.rng_seed = p["seed"]
    gen = nest.Create("mip_generator", params={k: p[k] for k in ("rate", "p_copy", "start", "stop")})
    parrots = nest.Create("parrot_neuron", p["parrots"])
    nest.Connect(gen, parrots, syn_spec={"delay": p["delay"]})
    rec = nest.Create("spike_recorder")
    nest.Connect(parrots, rec, syn_spec={"delay": p["delay"]})
    nest.Simulate(p["t_sim"])
    ev = rec.events
    stats = statistics(ev["senders"] - parrots[0].global_id, ev["times"], p["parrots"], p["dt"], p["t_sim"])
    with open(out_path, "w") as f:
        json.dump({"nest": nest.__version__, "protocol": p, "min_delay_ms": nest.min_delay, "statistics": stats}, f,
                  indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
