"""A SONATA circuit of point neurons as a Network: the files BMTK's PointNet builds and NEST's
SonataNetwork reads (a circuit config, node and edge HDF5 files, their types tables, the
models' JSON parameter files, spike trains for the virtual nodes), read with NEST's meaning.

- Each node population is one distsnn population of the same name and size, so its node
  ids are the population-local ids and a spike file names them as SONATA does. Its nodes
  may be of many node types: each node gets the parameters of its type's dynamics_params
  file (and of its group's dynamics_params datasets, which take precedence), the model's
  defaults where those say nothing; parameters that differ between nodes are given per
  neuron. V_m, if given, is the initial membrane potential; else the model's default V_m,
  whatever E_L (NEST's initial state: setting E_L does not move V_m). All node types of one
  population must name the same model ('nest:<model>', one distsnn has).
- A population of model_type 'virtual' is a spike source; its spikes come from the input
  (input_type 'spikes') whose node_set is the population, a SONATA spike file or BMTK's CSV
  (sonata_spike_trains). As NEST's
  spike_train_injector with allow_offgrid_times, a spike at T ms is emitted at the end of
  the step that holds it (at T itself if T is within half a NEST tic, 0.5 us, of the grid).
  Delays are rounded to steps as NEST rounds them (_nest_delays).
- Each edge population becomes synapse lists (FromList) between its node populations, one
  per sign of weight: weights and delays from the edge's group datasets (syn_weight,
  delay), else from its edge type's dynamics_params file, else from the types table (as
  NEST: the file overrides the table, the datasets both); nsyns is not read (NEST's
  meaning, not BMTK's). The receptor follows the weight's sign, as in NEST; conductances are
  in nS. Only static synapses exist in distsnn: another model_template is refused.

- A current clamp input (module IClamp) becomes step currents into the nodes of its node
  set, as BMTK's PointNet runs it on NEST (sonata_current_clamps).

Anything outside this (a node population mixing models, compartmental nodes, an input of
another type, a missing file or field) is a ValueError naming the file and what stands in
the way, before anything is simulated.
"""
import math
import os

import numpy as np

from ..model import FromList, Network
from ..model.neurons import NEURON_MODELS, default_v_init, nest_steps
from .sonata_config import load_config
from .sonata_current_clamps import add_current_clamps
from .sonata_groups import nest_model, populations, text
from .sonata_node_sets import NodeSets
from .sonata_spike_trains import read_spike_trains
from .sonata_types import component_params, read_types

NEURON_TYPES = ("point_neuron", "point_process")
STATIC = ("static_synapse", "nest:static_synapse")
EDGE_KEYS = {"syn_weight": "weight", "weight": "weight", "delay": "delay"}


def load_circuit(path, record_voltage=0):
    """The Network of the SONATA circuit whose config (circuit, simulation, or both in one
    file) is `path`: dt from the config's run section (ms), every neuron population's
    spikes recorded, and `record_voltage` K: the state of the first K neurons of each. Its
    metadata hold the config file, tstop (ms), the run's length the config asks for, and
    spikes_file, where its output section puts the spikes (output_dir / spikes_file)."""
    conf = load_config(path)
    run = conf.get("run", {})
    if "dt" not in run:
        raise ValueError(f"{path}: no run.dt (ms) in the config; give the simulation config (it names the "
                         "circuit config in 'network'), or add a run section with dt")
    net = Network(dt=float(run["dt"]))
    components = conf.get("components", {})
    networks = conf["networks"]
    sets = NodeSets(conf)
    for entry in networks.get("nodes", []):
        _add_nodes(net, entry, components.get("point_neuron_models_dir"), conf, sets)
    for entry in networks.get("edges", []):
        if entry.get("enabled", True):
            _add_edges(net, entry, components.get("synaptic_models_dir"))
    _check_spike_inputs(net, conf, sets)
    add_current_clamps(net, conf, sets)
    records = _reports(net, conf, sets)
    for name, pop in net.populations.items():
        if not pop.is_source:
            net.record_spikes(name)
            if record_voltage:   # --record K: the first K neurons' V_m too
                ids, variables = records.get(name, (set(), set()))
                records[name] = (ids | set(range(min(record_voltage, pop.size))), variables | {"V_m"})
    for name, (ids, variables) in records.items():
        try:
            net.record_state(name, sorted(ids), tuple(sorted(variables)))
        except ValueError as err:   # a variable the model does not have
            raise ValueError(f"config reports: {err}") from None
    net.metadata.update({"sonata_config": conf["config_file"]})
    if "tstop" in run or "duration" in run:
        net.metadata["tstop"] = float(run.get("tstop", run.get("duration")))
    output = conf.get("output", {})
    if isinstance(output, dict) and isinstance(output.get("spikes_file"), str):
        base = os.path.join(os.path.dirname(conf["config_file"]), output.get("output_dir") or "")
        net.metadata["spikes_file"] = os.path.normpath(os.path.join(base, output["spikes_file"]))
    return net


def node_types(path):
    """{node population: (node_type_id per node, its types table)} of the circuit whose
    config is `path`, without building anything (for statistics by node type)."""
    conf = load_config(path)
    out = {}
    for entry in conf["networks"].get("nodes", []):
        nodes_file, types_file = _files(entry, "nodes")
        types = read_types(types_file, "node_type_id")
        for name, g, where in populations(nodes_file, "nodes"):
            if "node_type_id" not in g:
                raise ValueError(f"{where}: no node_type_id dataset")
            out[name] = (g["node_type_id"][()].astype(np.int64), types)
    return out


def build_circuit(path, scale=1.0, record_voltage=0, **options):
    """load_circuit for the command line (`distsnn run circuit_config.json`): a SONATA
    circuit is what its files say, so it takes no --scale and no model options."""
    if scale != 1.0:
        raise ValueError(f"SONATA circuit {path!r}: --scale {scale:g} cannot apply to a circuit given by its files")
    if options:
        flags = ", ".join("--" + k.replace("_", "-") for k in options)
        raise ValueError(f"SONATA circuit {path!r} does not take {flags}")
    return load_circuit(path, record_voltage)


def is_config(name):
    """Whether the model named on the command line is a SONATA config (ends in .json)."""
    return str(name).endswith(".json")


def _files(entry, kind):
    names = (f"{kind}_file", f"{kind[:-1]}_types_file")
    missing = [k for k in names if k not in entry]
    if missing:
        raise ValueError(f"config: a networks.{kind} entry lacks {', '.join(missing)}")
    for k in names:
        if not os.path.isfile(entry[k]):
            raise ValueError(f"config: {k} {entry[k]!r} does not exist")
    return entry[names[0]], entry[names[1]]


def _types_of(where, types, ids, column):
    """The distinct values of `column` among the types `ids` use."""
    unknown = sorted(set(ids.tolist()) - set(types))
    if unknown:
        raise ValueError(f"{where}: node_type_id {unknown[0]} is not in its types table")
    return {types[t].get(column) for t in np.unique(ids).tolist()}


def _add_nodes(net, entry, models_dir, conf, sets):
    nodes_file, types_file = _files(entry, "nodes")
    types = read_types(types_file, "node_type_id")
    for name, g, where in populations(nodes_file, "nodes"):
        if "node_type_id" not in g:
            raise ValueError(f"{where}: no node_type_id dataset")
        type_ids = g["node_type_id"][()].astype(np.int64)
        n = type_ids.size
        if "node_id" in g and not np.array_equal(g["node_id"][()], np.arange(n)):
            raise ValueError(f"{where}: node_id must be 0 .. {n - 1} in order")
        kinds = _types_of(where, types, type_ids, "model_type")
        if len(kinds) > 1:
            raise ValueError(f"{where}: node types of several model_types {sorted(map(str, kinds))}; "
                             "one population holds one kind of node")
        kind = kinds.pop() if kinds else "virtual"
        sets.add_population(name, type_ids, types)
        if kind == "virtual":
            ids, times = _input_spikes(name, n, conf, sets)
            net.add_spike_source(name, n, ids, times)
        elif kind in NEURON_TYPES:
            model, params, v_init = _node_params(where, g, types, type_ids, models_dir)
            try:
                net.add_population(name, n, model, params, v_init=v_init)
            except ValueError as err:   # say which file the values came from
                raise ValueError(f"{where}: {err}") from None
        else:
            raise ValueError(f"{where}: model_type {kind!r}; distsnn simulates point neurons "
                             f"({', '.join(NEURON_TYPES)}) and virtual nodes (spike trains)")


def _node_params(where, g, types, type_ids, models_dir):
    """(model, params, v_init) of a population of point neurons: each parameter a number if
    all nodes share it, else an array with one value per node."""
    templates = _types_of(where, types, type_ids, "model_template")
    if len(templates) > 1:
        raise ValueError(f"{where}: node types of several models {sorted(map(str, templates))}; a distsnn "
                         "population has one model: split the node population by model")
    model = nest_model(str(templates.pop()), where)
    # NEST keeps an absolute V_m that the parameters do not move: a node whose files give no
    # V_m starts at the model's default V_m whatever its E_L
    defaults = dict(NEURON_MODELS[model], V_m=default_v_init(model, NEURON_MODELS[model]))
    n = type_ids.size
    per_type = {}
    for t in np.unique(type_ids).tolist():   # each file read once
        file = types[t].get("dynamics_params")
        per_type[t] = {} if file is None else component_params(models_dir, file, f"{where}, node type {t}")
        unknown = sorted(set(per_type[t]) - set(defaults))
        if unknown:
            raise ValueError(f"{where}, node type {t} ({file}): parameter(s) {unknown} that {model} does not have; "
                             f"known: {sorted(defaults)}")
    names = sorted(set().union(*per_type.values()))
    used, of_type = np.unique(type_ids, return_inverse=True)
    columns = {k: np.array([per_type[t].get(k, defaults[k]) for t in used.tolist()], dtype=object)[of_type]
               for k in names}
    for k, values in _group_params(where, g, n).items():   # a node's own values come first
        if k not in defaults:
            raise ValueError(f"{where}: dynamics_params dataset {k!r} is not a parameter of {model}")
        have = ~np.isnan(values)
        column = columns.setdefault(k, np.array([defaults[k]] * n, dtype=object))
        column[have] = values[have]
    params = {}
    v_init = defaults["V_m"]
    for k, column in columns.items():
        value = _uniform(column)
        if k == "V_m":
            v_init = value
        else:
            params[k] = value
    return model, params, v_init


def _uniform(column):
    """One value if all nodes share it, else a float64 array (bools must be shared)."""
    first = column[0]
    if all(v == first for v in column.tolist()):
        return first
    return np.asarray(column, dtype=np.float64)


def _group_params(where, g, n):
    """{parameter: float64 per node, NaN where the node's group does not give it}, from the
    dynamics_params datasets of the population's groups."""
    out = {}
    if "node_group_id" not in g:
        return out
    gid = g["node_group_id"][()].astype(np.int64)
    index = g["node_group_index"][()].astype(np.int64) if "node_group_index" in g else None
    for group in np.unique(gid).tolist():
        dyn = g.get(f"{group}/dynamics_params")
        if dyn is None:
            continue
        members = np.nonzero(gid == group)[0]
        rows = index[members] if index is not None else np.arange(members.size)
        for k, ds in dyn.items():
            values = ds[()]
            if values.ndim != 1 or rows.size and rows.max() >= values.size:
                raise ValueError(f"{where}: group {group}'s dynamics_params/{k} has {values.size} rows, "
                                 f"fewer than its nodes' node_group_index needs")
            col = out.setdefault(k, np.full(n, np.nan))
            col[members] = values[rows].astype(np.float64)
    return out


def _input_spikes(name, n, conf, sets):
    """(ids, times in ms on the step grid) of the virtual node population `name`, from the
    config's spike input whose node set is the whole population."""
    inputs = [v for k, v in conf.get("inputs", {}).items()
              if isinstance(v, dict) and isinstance(v.get("node_set"), str)
              and _whole(sets, v["node_set"], f"config: input {k!r}") == name]
    if not inputs:
        given = ", ".join(f"{k!r} -> {v.get('node_set')!r}" for k, v in conf.get("inputs", {}).items()
                          if isinstance(v, dict))
        raise ValueError(f"virtual node population {name!r}: no input in the config has it (or a node set of "
                         f"all of it) as node_set; inputs: {given or 'none'}")
    spec = inputs[0]
    if spec.get("input_type") != "spikes":
        raise ValueError(f"virtual node population {name!r}: input_type {spec.get('input_type')!r}; "
                         "distsnn reads spike trains (input_type 'spikes', a SONATA spike file)")
    path = spec.get("input_file")
    if not isinstance(path, str) or not os.path.isfile(path):
        raise ValueError(f"virtual node population {name!r}: input_file {path!r} does not exist")
    ids, times = read_spike_trains(path, name)
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        raise ValueError(f"{path}: node id {int(ids.max() if ids.max() >= n else ids.min())} is outside "
                         f"population {name!r} (0 .. {n - 1})")
    return ids, _emission_times(times, conf["run"]["dt"])


def _check_spike_inputs(net, conf, sets):
    """Every spike input of the config selects one virtual node population whole (its spikes
    go to that population: _input_spikes); one that selects anything else is refused rather
    than left unused."""
    fed = {}
    for name, spec in conf.get("inputs", {}).items():
        if not isinstance(spec, dict) or spec.get("input_type") != "spikes":
            continue
        where = f"config: input {name!r}"
        node_set = spec.get("node_set")
        chosen = sets.select(node_set, where) if isinstance(node_set, str) else {}
        pop = _one_whole(chosen)
        if pop is None or not net.populations[pop].is_source:
            raise ValueError(f"{where}: a spike input's node_set must be one virtual node population, whole; "
                             f"{node_set!r} selects {', '.join(chosen) or 'no nodes'}"
                             f"{'' if pop is None else ' (not virtual)'}")
        if pop in fed:
            raise ValueError(f"{where}: virtual node population {pop!r} already takes the spikes of input "
                             f"{fed[pop]!r}; one spike input per population")
        fed[pop] = name


def _whole(sets, node_set, where):
    """The node population that `node_set` selects whole, or None (not loaded yet, or a part
    of one)."""
    try:
        chosen = sets.select(node_set, where)
    except ValueError:
        return None
    return _one_whole(chosen)


def _one_whole(chosen):
    """The population of a node set's selection (sets.select) that is one population whole,
    or None."""
    return next(iter(chosen)) if len(chosen) == 1 and next(iter(chosen.values())) is None else None


def _reports(net, conf, sets):
    """{population: (node ids, variables)} that the config's reports record (a membrane or
    multimeter report: variable_name of the nodes of the node set `cells`), and the sampling
    they share (dt, start_time, end_time in ms) set on `net`. The values go into distsnn's
    state reports beside the spike file (run_voltage.h5, ...), not into files named by the
    report."""
    records, sampling = {}, None
    for name, spec in conf.get("reports", {}).items():
        where = f"config: report {name!r}"
        if not isinstance(spec, dict) or spec.get("module") not in ("membrane_report", "multimeter_report"):
            raise ValueError(f"{where}: module {spec.get('module') if isinstance(spec, dict) else spec!r}; distsnn "
                             "records membrane_report and multimeter_report (a state variable of point neurons)")
        variable = spec.get("variable_name", "V_m")
        for pop, ids in sets.select(spec.get("cells", ""), where).items():
            if net.populations[pop].is_source:
                raise ValueError(f"{where}: {pop!r} is a virtual node population and has no state to record")
            have_ids, have_vars = records.get(pop, (set(), set()))
            chosen = range(net.populations[pop].size) if ids is None else ids.tolist()
            records[pop] = (have_ids | set(chosen), have_vars | {variable})
        this = (float(spec.get("dt", net.dt)), float(spec.get("start_time", 0.0)),
                float(spec.get("end_time", math.inf)))
        if sampling is not None and this != sampling:
            raise ValueError(f"{where}: samples at (dt, start, end) = {this} ms, another report at {sampling}; "
                             "distsnn samples every recorded variable alike")
        sampling, sampled_by = this, where
    if sampling is not None:
        try:
            net.sample_state(*sampling)
        except ValueError as err:   # named by the report's fields, not by the method
            raise ValueError(f"{sampled_by}: (dt, start_time, end_time) = {sampling} ms: "
                             f"{str(err).removeprefix('sample_state: ')}") from None
    return records


def _emission_times(times, dt):
    """Spike times (ms) on the step grid as NEST's spike_train_injector with
    allow_offgrid_times puts them: each time rounded to NEST's tic (1 us), then moved up to
    the end of its step (a time on the grid stays)."""
    return nest_steps(times, dt, strict=True) * dt


def _nest_delays(delay, dt):
    """Delays (ms) on the step grid as NEST rounds them, floor(d * (1 / dt) + 0.5) steps (the
    engines' rule too, plan._delay_steps): so that a delay NEST rounds up to one step, 0.06 ms
    at dt 0.1 ms, is dt and not refused as below it."""
    return np.floor(delay * (1.0 / dt) + 0.5) * dt


def _add_edges(net, entry, synapses_dir):
    edges_file, types_file = _files(entry, "edges")
    types = read_types(types_file, "edge_type_id")
    for name, g, where in populations(edges_file, "edges"):
        missing = [k for k in ("source_node_id", "target_node_id", "edge_type_id") if k not in g]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        pops = [g[k].attrs.get("node_population") for k in ("source_node_id", "target_node_id")]
        if any(p is None for p in pops):
            raise ValueError(f"{where}: source_node_id and target_node_id need a node_population attribute")
        source, target = (text(p) for p in pops)
        for pop in (source, target):
            if pop not in net.populations:
                raise ValueError(f"{where}: node population {pop!r} is not among the config's nodes")
        pre = g["source_node_id"][()].astype(np.int64)
        post = g["target_node_id"][()].astype(np.int64)
        weight, delay = _edge_values(where, g, types, synapses_dir, net.dt)
        for sign, label in ((weight >= 0, name), (weight < 0, f"{name}:inhibitory")):
            if sign.any():
                net.connect(source, target, FromList(pre[sign], post[sign]), weight[sign], delay[sign],
                            label=label)


def _edge_values(where, g, types, synapses_dir, dt):
    """(weight, delay ms) of every edge: its group's datasets, else its type's."""
    type_ids = g["edge_type_id"][()].astype(np.int64)
    n = type_ids.size
    unknown = sorted(set(np.unique(type_ids).tolist()) - set(types))
    if unknown:
        raise ValueError(f"{where}: edge_type_id {unknown[0]} is not in its types table")
    out = {"weight": np.full(n, np.nan), "delay": np.full(n, np.nan)}
    for t in np.unique(type_ids).tolist():
        spec = _edge_type(f"{where}, edge type {t}", types[t], synapses_dir)
        for k, v in spec.items():
            out[k][type_ids == t] = v
    gid = g["edge_group_id"][()].astype(np.int64) if "edge_group_id" in g else np.zeros(n, np.int64)
    index = g["edge_group_index"][()].astype(np.int64) if "edge_group_index" in g else np.arange(n)
    for group in np.unique(gid).tolist():
        grp = g.get(str(group))
        if grp is None:
            continue
        members = np.nonzero(gid == group)[0]
        for dataset, k in (("syn_weight", "weight"), ("delay", "delay")):
            if dataset in grp:
                out[k][members] = grp[dataset][()][index[members]].astype(np.float64)
    for k, values in out.items():
        bad = np.nonzero(np.isnan(values))[0]
        if bad.size:
            raise ValueError(f"{where}: edge {int(bad[0])} (type {int(type_ids[bad[0]])}) has no {k}: neither its "
                             f"group's {'syn_weight' if k == 'weight' else k} dataset nor its edge type gives one")
    return out["weight"], _nest_delays(out["delay"], dt)


def _edge_type(where, row, synapses_dir):
    """{weight, delay} that an edge type gives its edges (either may be absent): the types
    table's columns, overridden by its dynamics_params file, as NEST reads them."""
    template = row.get("model_template") or "static_synapse"
    if template not in STATIC:
        raise ValueError(f"{where}: model_template {template!r}; distsnn's synapses are static (static_synapse)")
    spec = {EDGE_KEYS[k]: float(v) for k, v in row.items() if k in EDGE_KEYS and v is not None}
    file = row.get("dynamics_params")
    if file is not None:
        for k, v in component_params(synapses_dir, file, where).items():
            if k in EDGE_KEYS:
                spec[EDGE_KEYS[k]] = float(v)
            elif k == "receptor_type" and v == 0:
                continue
            else:
                raise ValueError(f"{where} ({file}): {k!r} = {v!r} is not something a static synapse of distsnn "
                                 "takes (syn_weight or weight, delay, receptor_type 0)")
    return spec
