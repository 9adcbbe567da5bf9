"""Neurons in SONATA node files: write a network's populations with every parameter of every
neuron as simulated (build.neuron_table), read such a file back as populations whose values
are given per neuron.

One node population per distsnn population (spike and Poisson sources are left out: their
spikes, not parameters, make them): `node_id` (uint64, 0 .. n-1), `node_type_id` and
`node_group_id` (0), `node_group_index` (0 .. n-1), and group `0` with `dynamics_params`: a
dataset per parameter that differs between the neurons, an attribute per parameter that
does not (SONATA keeps those in the node types; so one file stands alone). V_m, the initial
membrane potential, is among them, as NEST takes it with the parameters. The population's
attributes name the model: `model_type` 'point_neuron', `model_template` 'nest:<model>'
(distsnn's models are NEST's, by name and parameters).

Written with the values drawn per neuron, a network read back simulates with the same seed
to the same spikes, as long as it gets the same projections and inputs in the same order
(tests/test_sonata_nodes.py).
"""
import h5py
import numpy as np

from ..build import make_plan
from ..build.neuron_table import neuron_table
from ..model.neurons import BOOL_PARAMS
from .sonata_groups import TEMPLATE_PREFIX, group_zero_order, nest_model, populations
from .sonata_groups import text as _text


def write_nodes(path, network, seed=1):
    """Write `network`'s populations (not its sources) with their parameters per neuron, as a
    run with `seed` simulates them, to the SONATA node file `path`. Returns the populations
    written."""
    plan = make_plan(network, seed, bound_inputs=False)
    written = []
    with h5py.File(path, "w") as f:
        f.attrs["magic"] = np.uint32(0x0A7A)
        f.attrs["version"] = np.array([0, 1], dtype=np.uint32)
        nodes = f.create_group("nodes", track_order=True)   # read back in this order: the gids' order
        for pop in network.populations.values():
            if pop.is_source:
                continue
            g = nodes.create_group(pop.name)
            g.attrs["model_type"] = "point_neuron"
            g.attrs["model_template"] = TEMPLATE_PREFIX + pop.model
            g.create_dataset("node_id", data=np.arange(pop.size, dtype=np.uint64))
            g.create_dataset("node_type_id", data=np.zeros(pop.size, dtype=np.int64))
            g.create_dataset("node_group_id", data=np.zeros(pop.size, dtype=np.int64))
            g.create_dataset("node_group_index", data=np.arange(pop.size, dtype=np.int64))
            params = g.create_group("0/dynamics_params")
            for name, values in neuron_table(plan, pop.name).items():
                if values.size and np.all(values == values[0]):
                    params.attrs[name] = float(values[0])
                else:
                    params.create_dataset(name, data=values)
            for name in BOOL_PARAMS:
                if name in pop.params:
                    params.attrs[name] = bool(pop.params[name])
            written.append(pop.name)
    return written


def read_nodes(path):
    """The node populations of a SONATA node file as dicts: population, model (distsnn's, from
    model_template 'nest:<model>'), size, params ({name: number, or an array one per node}),
    v_init (V_m: a number or an array, mV, or None), in the order they were written if the
    file keeps it (distsnn's do), else by name. Only point neurons of a NEST model
    distsnn has, with their nodes in one group, are read; anything else is a ValueError
    naming what stands in the way."""
    out = []
    for name, g, where in populations(path, "nodes"):
        model = nest_model(g.attrs.get("model_template", ""), where)
        if "node_id" not in g or "0" not in g:
            raise ValueError(f"{where}: missing node_id or group 0")
        size = int(g["node_id"].shape[0])
        if not np.array_equal(g["node_id"][()], np.arange(size)):
            raise ValueError(f"{where}: node_id must be 0 .. {size - 1} in order (distsnn's population-local ids)")
        order = group_zero_order(g, "node", where)
        dyn = g["0"].get("dynamics_params")
        params = {} if dyn is None else {k: _number(v) for k, v in dyn.attrs.items()}
        for k, ds in ({} if dyn is None else dyn).items():
            values = ds[()][order].astype(np.float64)
            params[k] = float(values[0]) if values.size and np.all(values == values[0]) else values
        v_init = params.pop("V_m", None)
        out.append({"population": _text(name), "model": model, "size": size, "params": params,
                    "v_init": v_init})
    return out


def add_nodes(network, path):
    """Add the node populations of the SONATA file `path` to `network`, each with its values
    per node given per neuron (add_population's checks apply: a parameter that may not
    differ between neurons, the AdEx solver's gsl_error_tol, must be the same in all nodes).
    Returns the populations added."""
    return [network.add_population(n["population"], n["size"], n["model"], n["params"], v_init=n["v_init"])
            for n in read_nodes(path)]


def _number(value):
    """An attribute as a bool (a switch) or a float."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return float(value)
