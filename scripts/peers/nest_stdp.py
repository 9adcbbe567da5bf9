"""Reference for tests/test_stdp.py: NEST 3.10's stdp_synapse (run with a Python that has
nest). Source neurons (parrots fed by spike generators: NEST's plastic synapses need a
neuron as their source) project through four STDP projections and one static one onto
three iaf_psc_delta neurons, each of which a driver makes fire at given times (a 40 mV
jump). The parameter sets cover the multiplicative rule (mu 1), the additive one (mu 0,
reaching Wmax), a fractional exponent (mu 0.4) and an inhibitory projection (negative
Wmax). The trains hold pre spikes just before and after post spikes, several within a
delay, a pre neuron silent while its targets fire 60 times (the post history it must
still see), and post spikes before any pre spike. Writes every synapse's final weight,
V_m of the targets every step, and their spikes, to tests/data/nest_stdp.json. With
`power_law`, the same trains through stdp_pl_synapse_hom (mu 0.4, 1 and 0) instead, to
tests/data/nest_stdp_pl.json. Usage:

    /path/to/venv-with-nest/bin/python scripts/peers/nest_stdp.py tests/data/nest_stdp.json
    /path/to/venv-with-nest/bin/python scripts/peers/nest_stdp.py tests/data/nest_stdp_pl.json power_law
"""
import json
import sys

# the protocol, shared with the test through the JSON file: "sources" are the source
# neurons' spike times (the parrots' in NEST; a spike source's in distsnn), one list per
# neuron; "drive" the times at which each target is made to fire (its driver's spike
# arrives drive_delay later)
PROTOCOL = {
    "dt": 0.1, "t_sim": 640.0, "n_targets": 3,
    "target_params": {"tau_minus": 25.0, "t_ref": 2.0},
    "drive_weight": 40.0, "drive_delay": 1.0,
    "drive": [[5.0, 20.0, 30.0, 31.0, 60.0, 150.0, 151.0, 152.0] + [300.0 + 5.0 * k for k in range(60)],
              [21.0, 22.0, 45.0, 100.0, 250.0, 252.5, 400.0],
              [2.0, 3.5, 80.0, 81.5, 83.0, 200.0, 560.0]],
    "sources": {
        "A": [[10.0, 19.5, 20.0, 22.5, 25.0, 26.0, 27.0, 59.0, 61.0, 62.0, 150.0, 151.5, 320.0, 321.0, 500.0],
              [1.0, 2.1, 40.0, 46.0, 46.1, 46.2, 46.3, 99.0, 102.0, 103.0, 255.0, 401.0, 402.0],
              [33.0, 82.0, 84.5, 201.0, 203.0, 350.0, 561.0, 562.5, 600.0]],
        "B": [[7.0, 15.0, 23.0, 31.0, 39.0, 47.0, 90.0, 91.0, 152.0, 254.0],
              [12.0, 32.5, 95.0, 590.0]],
    },
    # (source, weight (mV), delay (ms), label, stdp_synapse parameters or None: static);
    # all_to_all onto the targets, whose tau_minus is the target_params'
    "projections": [
        ["A", 2.0, 1.5, "multiplicative",
         {"tau_plus": 16.8, "lambda": 0.05, "alpha": 1.1, "mu_plus": 1.0, "mu_minus": 1.0, "Wmax": 5.0}],
        ["A", 1.0, 3.0, "additive",
         {"tau_plus": 20.0, "lambda": 0.2, "alpha": 0.8, "mu_plus": 0.0, "mu_minus": 0.0, "Wmax": 2.0}],
        ["B", 1.5, 0.7, "fractional",
         {"tau_plus": 20.0, "lambda": 0.1, "alpha": 1.0, "mu_plus": 0.4, "mu_minus": 0.4, "Wmax": 3.0}],
        ["B", -1.0, 2.0, "inhibitory",
         {"tau_plus": 12.0, "lambda": 0.1, "alpha": 1.5, "mu_plus": 1.0, "mu_minus": 1.0, "Wmax": -4.0}],
        ["A", 0.5, 1.0, "static", None],
    ],
}
# stdp_pl_synapse_hom (the power law of NEST's HPC benchmark; its parameters are the model's,
# "model" names it), on the same trains: mu 0.4 (its default), 1 and 0 (std::pow exact)
PROTOCOL_PL = dict(PROTOCOL, projections=[
    ["A", 2.0, 1.5, "power_law",
     {"model": "stdp_pl_synapse_hom", "tau_plus": 16.8, "lambda": 0.05, "alpha": 1.1, "mu": 0.4}],
    ["A", 1.0, 3.0, "power_law_mu1",
     {"model": "stdp_pl_synapse_hom", "tau_plus": 20.0, "lambda": 0.1, "alpha": 0.5, "mu": 1.0}],
    ["B", 1.5, 0.7, "power_law_mu0",
     {"model": "stdp_pl_synapse_hom", "tau_plus": 12.0, "lambda": 0.08, "alpha": 2.0, "mu": 0.0}],
    ["A", 0.5, 1.0, "static", None],
])


def main(out_path, which="stdp"):
    import nest
    p = PROTOCOL_PL if which == "power_law" else PROTOCOL
    nest.ResetKernel()
    nest.resolution = p["dt"]
    targets = nest.Create("iaf_psc_delta", p["n_targets"], params=p["target_params"])

    def parrots_of(trains):
        out = nest.Create("parrot_neuron", len(trains))
        for i, times in enumerate(trains):
            # the parrot repeats its generator's spike one step (the connection's delay) later
            gen = nest.Create("spike_generator", params={"spike_times": [round(t - p["dt"], 10) for t in times]})
            nest.Connect(gen, out[i], syn_spec={"delay": p["dt"]})
        return out

    drivers = parrots_of(p["drive"])
    nest.Connect(drivers, targets, "one_to_one", syn_spec={"weight": p["drive_weight"], "delay": p["drive_delay"]})
    parrots = {name: parrots_of(trains) for name, trains in p["sources"].items()}
    for source, weight, delay, label, stdp in p["projections"]:
        spec = {"weight": weight, "delay": delay}
        if stdp is not None:
            model = f"stdp_{label}"
            params = {k: v for k, v in stdp.items() if k != "model"}
            nest.CopyModel(stdp.get("model", "stdp_synapse"), model, dict(params, weight=weight))   # its sign: Wmax's
            spec["synapse_model"] = model
        nest.Connect(parrots[source], targets, "all_to_all", syn_spec=spec)
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": p["dt"]})
    nest.Connect(mm, targets)
    sr = nest.Create("spike_recorder")
    nest.Connect(targets, sr)
    nest.Simulate(p["t_sim"])
    ev = mm.get("events")
    result = {"protocol": p, "nest_version": nest.__version__, "traces": {}, "weights": {}}
    first_target = targets.tolist()[0]
    for i, node in enumerate(targets.tolist()):
        mine = ev["senders"] == node
        result["traces"][str(i)] = {
            "t": [float(x) for x in ev["times"][mine]], "V_m": [float(x) for x in ev["V_m"][mine]],
            "spikes": [float(x) for x, s in zip(sr.get("events")["times"], sr.get("events")["senders"]) if s == node]}
    for source, _, _, label, stdp in p["projections"]:
        if stdp is None:
            continue
        conns = nest.GetConnections(parrots[source], targets, synapse_model=f"stdp_{label}")
        first_source = parrots[source].tolist()[0]
        result["weights"][label] = [[int(s - first_source), int(t - first_target), float(w)]
                                    for s, t, w in zip(conns.get("source"), conns.get("target"), conns.get("weight"))]
    with open(out_path, "w") as fh:
        json.dump(result, fh, indent=0)


if __name__ == "__main__":
    main(*sys.argv[1:3])
