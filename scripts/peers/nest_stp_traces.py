"""Reference traces for tests/test_short_term_plasticity.py: NEST 3.10's tsodyks2_synapse
(run with a Python that has nest). Two spike trains of source neurons (parrot neurons fed
by spike generators, as NEST's plastic synapses need a neuron as their source) project onto
two iaf_psc_exp neurons through four projections: facilitating and depressing ones from the
same source population (two plasticity states per source neuron), an inhibitory one with
initial u and x of its own, and a static one. The spike trains hold spikes one step apart,
bursts and long gaps. Writes V, I_syn_ex and I_syn_in of both targets every step, and their
spikes, to tests/data/nest_stp_traces.json. Usage:

    /path/to/venv-with-nest/bin/python scripts/peers/nest_stp_traces.py tests/data/nest_stp_traces.json
"""
import json
import sys

# the protocol, shared with the test through the JSON file: "times" are the source neurons'
# spike times (the parrots' in NEST; a spike source's in distsnn), one list per neuron
PROTOCOL = {
    "dt": 0.1, "t_sim": 400.0, "n_targets": 2,
    "target_params": {"tau_syn_ex": 2.0, "tau_syn_in": 4.0, "I_e": 360.0},
    "sources": {
        "A": [[5.0, 25.0, 26.0, 27.0, 28.0, 29.5, 60.0, 200.0, 201.0, 350.0],
              [10.0, 10.1, 10.2, 80.0, 300.0],
              [15.0, 115.0, 215.0, 315.0]],
        "B": [[50.0, 52.0, 54.0, 56.0, 58.0, 60.0, 250.0],
              [70.0, 170.0, 171.0]],
    },
    # (source, weight pA, delay ms, label, tsodyks2 parameters or None for a static synapse);
    # all_to_all onto the targets
    "projections": [
        ["A", 150.0, 1.0, "facilitating", {"U": 0.3, "tau_rec": 50.0, "tau_fac": 20.0, "u": 0.3, "x": 1.0}],
        ["A", 60.0, 2.5, "depressing", {"U": 0.6, "tau_rec": 200.0, "tau_fac": 0.0, "u": 0.6, "x": 1.0}],
        ["B", -80.0, 1.5, "inhibitory", {"U": 0.1, "tau_rec": 100.0, "tau_fac": 500.0, "u": 0.5, "x": 0.7}],
        ["B", -40.0, 3.0, "static", None],
    ],
}


def main(out_path):
    import nest
    p = PROTOCOL
    nest.ResetKernel()
    nest.resolution = p["dt"]
    targets = nest.Create("iaf_psc_exp", p["n_targets"], params=p["target_params"])
    parrots = {}
    for name, trains in p["sources"].items():
        parrots[name] = nest.Create("parrot_neuron", len(trains))
        for i, times in enumerate(trains):
            # the parrot repeats its generator's spike one step (the connection's delay) later
            gen = nest.Create("spike_generator", params={"spike_times": [round(t - p["dt"], 10) for t in times]})
            nest.Connect(gen, parrots[name][i], syn_spec={"delay": p["dt"]})
    for source, weight, delay, _, stp in p["projections"]:
        spec = {"weight": weight, "delay": delay}
        if stp is not None:
            spec.update(stp, synapse_model="tsodyks2_synapse")
        nest.Connect(parrots[source], targets, "all_to_all", syn_spec=spec)
    mm = nest.Create("multimeter", params={"record_from": ["V_m", "I_syn_ex", "I_syn_in"], "interval": p["dt"]})
    nest.Connect(mm, targets)
    sr = nest.Create("spike_recorder")
    nest.Connect(targets, sr)
    src = nest.Create("spike_recorder")
    for name in parrots:
        nest.Connect(parrots[name], src)
    nest.Simulate(p["t_sim"])
    ev = mm.get("events")
    result = {"protocol": p, "nest_version": nest.__version__, "traces": {}}
    for i, node in enumerate(targets.tolist()):
        mine = ev["senders"] == node
        result["traces"][str(i)] = {
            "t": [float(x) for x in ev["times"][mine]],
            **{var: [float(x) for x in ev[var][mine]] for var in ("V_m", "I_syn_ex", "I_syn_in")},
            "spikes": [float(x) for x, s in zip(sr.get("events")["times"], sr.get("events")["senders"]) if s == node]}
    # the parrots' spike times: the protocol's (checked here, so the reference is what it says)
    got = sorted(float(x) for x in src.get("events")["times"])
    want = sorted(t for trains in p["sources"].values() for times in trains for t in times)
    if any(abs(a - b) > 1e-9 for a, b in zip(got, want)) or len(got) != len(want):
        raise SystemExit(f"the parrots' spikes are not the protocol's: {got} against {want}")
    with open(out_path, "w") as fh:
        json.dump(result, fh, indent=0)


if __name__ == "__main__":
    main(sys.argv[1])
