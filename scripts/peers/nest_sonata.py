"""NEST's spikes of a SONATA circuit, for tests/test_sonata_circuit.py: every spike of every
neuron population, as (node population, node id, time in ms), and what the config's reports
ask for (a multimeter on the nodes of each report's node set, at its dt), written to a JSON
file with NEST's version. Usage:

    /path/to/venv-with-nest/bin/python scripts/peers/nest_sonata.py tests/data/sonata_circuit \
        tests/data/nest_sonata_spikes.json [--threads N] [--timing] [--config simulation_config.json]

--timing adds the seconds of reading and building (files, Create, Connect) and of Simulate,
and the peak RSS, for scripts/bench_sonata.py.

NEST's own SonataNetwork needs a NEST built with HDF5, and the wheel on PyPI is not. So this
script reads the files with h5py and builds the circuit the way SonataNetwork does
(nest/lib/hl_api_sonata.py, NEST 3.10): Create(model, n) per node population, then each node
type's JSON parameters set on its nodes; spike_train_injector with allow_offgrid_times for the
virtual nodes; the edge types' syn_spec (table columns, syn_weight renamed weight, then the
JSON file over them) with the edge datasets over both, connected one_to_one. NEST itself then
decides what the values mean: initial V_m, the rounding of spike times and delays, the
receptor by the weight's sign. Current clamps (IClamp) become step_current_generators as
BMTK's PointNet makes them (_current_clamp). It knows only this circuit's layout (one
circuit config, one group per population, static synapses), which is all the test needs.
"""
import argparse
import json
import os
import resource
import shlex
import time

import h5py
import nest
import numpy as np


def _table(path):
    rows = [shlex.split(ln) for ln in open(path).read().splitlines() if ln.strip()]
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def _subst(value, manifest):
    for k, v in sorted(manifest.items(), key=lambda kv: -len(kv[0])):
        value = value.replace(k, v)
    return value


def _config(circuit_dir, sim_config):
    circuit = json.load(open(os.path.join(circuit_dir, "circuit_config.json")))
    sim = json.load(open(os.path.join(circuit_dir, sim_config)))
    manifest = {"${configdir}": circuit_dir}
    for conf in (circuit, sim):
        for k, v in conf["manifest"].items():
            manifest[k] = os.path.join(circuit_dir, _subst(v, manifest)) if v == "." else _subst(v, manifest)
    return circuit, sim, lambda v: _subst(v, manifest)


def _node_set(name, sets, nodes, types_of):
    """{population: node ids} of a node set: a population, {"population", "node_id", a types
    table column}, or a list of node sets (their union)."""
    if name not in sets:
        return {name: np.arange(len(nodes[name]))}
    entry = sets[name]
    if isinstance(entry, list):
        out = {}
        for part in entry:
            for pop, ids in _node_set(part, sets, nodes, types_of).items():
                out[pop] = np.union1d(out.get(pop, np.zeros(0, int)), ids)
        return out
    type_ids, types = types_of[entry["population"]]
    keep = np.ones(type_ids.size, dtype=bool)
    for key, want in entry.items():
        want = want if isinstance(want, list) else [want]
        if key == "node_id":
            keep &= np.isin(np.arange(type_ids.size), want)
        elif key != "population":
            keep &= np.isin(type_ids, [t for t, row in types.items() if row.get(key) in want])
    return {entry["population"]: np.nonzero(keep)[0]}


def _current_clamp(spec, circuit_dir, dt):
    """(amplitude_times, amplitude_values) of an IClamp input as BMTK's PointNet gives them to
    a step_current_generator (bmtk.simulator.pointnet.modules.iclamp, 0.2): each pulse's amp
    at its delay, and 0 at delay + duration unless the next pulse has begun by then; a table
    file's rows as they are; times at or before dt left out."""
    if spec["input_type"] == "current_clamp":
        amps, delays, durations = ([spec[k]] if not isinstance(spec[k], list) else spec[k]
                                   for k in ("amp", "delay", "duration"))
    else:
        rows = [ln.split() for ln in open(os.path.join(circuit_dir, spec["file"])).read().splitlines() if ln.strip()]
        cols = [rows[0].index(c) for c in ("timestamps", "amps")]
        delays, amps = ([float(r[c]) for r in rows[1:]] for c in cols)
        durations = None
    times, values = [], []
    for i, start in enumerate(delays):
        if start <= dt:
            continue
        times.append(start)
        values.append(amps[i])
        if durations is not None:
            stop = start + durations[i]
            if i + 1 == len(delays) or stop <= delays[i + 1]:
                times.append(stop)
                values.append(0.0)
    return times, values


def main(circuit_dir, out, threads=1, timing=False, sim_config="simulation_config.json"):
    t0 = time.perf_counter()
    circuit_dir = os.path.abspath(circuit_dir)
    circuit, sim, path = _config(circuit_dir, sim_config)
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.local_num_threads = threads
    nest.resolution = sim["run"]["dt"]
    cells = path(circuit["components"]["point_neuron_models_dir"])
    synapses = path(circuit["components"]["synaptic_models_dir"])
    nodes, virtual, types_of = {}, set(), {}
    for entry in circuit["networks"]["nodes"]:
        types = {int(r["node_type_id"]): r for r in _table(path(entry["node_types_file"]))}
        with h5py.File(path(entry["nodes_file"]), "r") as f:
            for name, g in f["nodes"].items():
                type_ids = g["node_type_id"][()]
                types_of[name] = (type_ids, types)
                if types[int(type_ids[0])]["model_type"] == "virtual":
                    spec = next(v for v in sim["inputs"].values() if v["node_set"] == name)
                    with h5py.File(path(spec["input_file"]), "r") as s:
                        ids, times = s[f"spikes/{name}/node_ids"][()], s[f"spikes/{name}/timestamps"][()]
                    nodes[name] = nest.Create("spike_train_injector", type_ids.size, params=[
                        {"spike_times": np.sort(times[ids == i]), "allow_offgrid_times": True}
                        for i in range(type_ids.size)])
                    virtual.add(name)
                    continue
                model = types[int(type_ids[0])]["model_template"].replace("nest:", "")
                nodes[name] = nest.Create(model, type_ids.size)
                for t in np.unique(type_ids):
                    params = json.load(open(os.path.join(cells, types[int(t)]["dynamics_params"])))
                    nodes[name][type_ids == t].set(params)
    for entry in circuit["networks"]["edges"]:
        types = {}
        for r in _table(path(entry["edge_types_file"])):
            spec = {"weight" if k == "syn_weight" else k: float(v) for k, v in r.items()
                    if k in ("syn_weight", "delay") and v != "NULL"}
            if r.get("dynamics_params", "NULL") != "NULL":
                for k, v in json.load(open(os.path.join(synapses, r["dynamics_params"]))).items():
                    spec["weight" if k == "syn_weight" else k] = v
            types[int(r["edge_type_id"])] = spec
        with h5py.File(path(entry["edges_file"]), "r") as f:
            for g in f["edges"].values():
                pre, post = g["source_node_id"][()].astype(int), g["target_node_id"][()].astype(int)
                etype = g["edge_type_id"][()]
                values = {k: np.array([types[int(t)].get(k, np.nan) for t in etype]) for k in ("weight", "delay")}
                for k, dataset in (("weight", "syn_weight"), ("delay", "delay")):
                    if f"0/{dataset}" in g:
                        values[k] = g[f"0/{dataset}"][()][g["edge_group_index"][()]]
                source = nodes[g["source_node_id"].attrs["node_population"]]
                target = nodes[g["target_node_id"].attrs["node_population"]]
                # arrays of global ids: NEST's connection of id arrays, repeated ids allowed
                nest.Connect(source[0].global_id + pre, target[0].global_id + post, "one_to_one",
                             {"synapse_model": "static_synapse", "weight": values["weight"], "delay": values["delay"]})
    n_synapses = nest.num_connections   # the circuit's, before the recorders' and the clamps'
    sets = json.load(open(path(sim["node_sets_file"])))
    for spec in sim.get("inputs", {}).values():   # current clamps: PointNet's step_current_generators
        if spec["input_type"] in ("current_clamp", "csv", "file"):
            times, values = _current_clamp(spec, circuit_dir, nest.resolution)
            gen = nest.Create("step_current_generator", params={"amplitude_times": times,
                                                                "amplitude_values": values})
            for name, ids in _node_set(spec["node_set"], sets, nodes, types_of).items():
                nest.Connect(gen, nodes[name][ids.tolist()], syn_spec={"delay": nest.resolution})
    meters = {}
    for spec in sim.get("reports", {}).values():   # V_m of the report's cells, every dt
        for name, ids in _node_set(spec["cells"], sets, nodes, types_of).items():
            meters[name] = (ids, nest.Create("multimeter", params={"record_from": [spec["variable_name"]],
                                                                   "interval": spec["dt"]}))
            nest.Connect(meters[name][1], nodes[name][ids.tolist()])
    recorders = {}
    for name, collection in nodes.items():
        if name not in virtual:
            recorders[name] = nest.Create("spike_recorder")
            nest.Connect(collection, recorders[name])
    t1 = time.perf_counter()
    nest.Simulate(sim["run"]["tstop"])
    t2 = time.perf_counter()
    spikes = {}
    for name, rec in recorders.items():
        ev = rec.get("events")
        first = nodes[name][0].global_id
        spikes[name] = {"node_ids": [int(s) - first for s in ev["senders"]], "times": [float(t) for t in ev["times"]]}
    reports = {}
    for name, (ids, meter) in meters.items():
        ev = meter.get("events")
        first = nodes[name][0].global_id
        reports[name] = {"node_ids": (ev["senders"] - first).tolist(), "times": ev["times"].tolist(),
                         "V_m": ev["V_m"].tolist()}
    result = {"nest_version": nest.__version__, "circuit": os.path.basename(circuit_dir),
              "dt": nest.resolution, "t_stop": nest.biological_time, "spikes": spikes, "reports": reports}
    if timing:
        result.update(threads=threads, build_s=t1 - t0, simulate_s=t2 - t1, synapses=n_synapses,
                      peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    with open(out, "w") as fh:
        json.dump(result, fh)
        fh.write("\n")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("circuit_dir")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--timing", action="store_true")
    ap.add_argument("--config", default="simulation_config.json", help="the simulation config in circuit_dir")
    a = ap.parse_args()
    main(a.circuit_dir, a.out, a.threads, a.timing, a.config)
