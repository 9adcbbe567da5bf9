"""Write the small SONATA circuit of tests/data/sonata_circuit (tests/test_sonata_circuit.py
runs it and compares with NEST's SonataNetwork, scripts/peers/nest_sonata.py), laid out as
BMTK's PointNet writes circuits:

- node population `v1`: 200 iaf_psc_alpha neurons of three node types (two excitatory, one
  inhibitory), interleaved; their parameters in components/cell_models/*.json, one type
  with an initial V_m of its own;
- node population `lgn`: 100 virtual nodes whose spike trains (Poisson, 20 Hz, spike times
  off the 0.1 ms grid, a few on it, two of one node in one step) are inputs/lgn_spikes.h5;
- a node set (node_sets.json) of v1 cells, by id and by a types table column, and a report
  of their V_m every ms;
- edges lgn -> v1 (20 per v1 neuron; a weight per edge in the HDF5 file, the delay in the
  types table) and v1 -> v1 (connection probability 0.1; four edge types whose weights come
  from components/synaptic_models/*.json, one from the table; a delay per edge).

Usage: python scripts/peers/make_sonata_circuit.py tests/data/sonata_circuit
Larger circuits of the same kind (scripts/bench_sonata.py): --n-v1, --n-lgn, --p, --k-lgn; the
weights shrink as the in-degrees grow (K_V1 / (n_v1 p), K_LGN / k_lgn), so each neuron
gets the same mean input.
"""
import argparse
import json
import os

import h5py
import numpy as np

N_V1, N_LGN, P, K_LGN, T_STOP, DT = 200, 100, 0.1, 20, 500.0, 0.1
K_V1 = N_V1 * P   # the recurrent in-degree the weights are made for

CELLS = {   # node_type_id: (ei, JSON file, parameters)
    100: ("e", "exc_a.json", {"C_m": 250.0, "tau_m": 20.0, "t_ref": 2.0, "E_L": -70.0, "V_th": -55.0,
                              "V_reset": -70.0, "tau_syn_ex": 2.0, "tau_syn_in": 2.0}),
    101: ("e", "exc_b.json", {"C_m": 200.0, "tau_m": 15.0, "t_ref": 3.0, "E_L": -65.0, "V_th": -50.0,
                              "V_reset": -65.0, "tau_syn_ex": 1.5, "tau_syn_in": 3.0, "V_m": -60.0}),
    102: ("i", "inh.json", {"C_m": 150.0, "tau_m": 10.0, "t_ref": 1.0, "E_L": -70.0, "V_th": -52.0,
                            "V_reset": -70.0, "tau_syn_ex": 1.0, "tau_syn_in": 2.0, "I_e": 50.0}),
}
# the same circuit of adaptive exponential neurons (--model aeif_cond_exp, convert():
# conductances in nS, the weights WEIGHT_SCALE times those below): NEST's regular-spiking defaults, one with
# a lower reset and its own initial V_m, and fast-spiking inhibitory ones without adaptation
AEIF_CELLS = {
    100: ("e", "exc_a.json", {"C_m": 281.0, "g_L": 30.0, "E_L": -70.6, "V_th": -50.4, "V_reset": -60.0,
                              "t_ref": 2.0, "a": 4.0, "b": 80.5, "tau_w": 144.0, "Delta_T": 2.0,
                              "tau_syn_ex": 2.0, "tau_syn_in": 5.0}),
    101: ("e", "exc_b.json", {"C_m": 200.0, "g_L": 20.0, "E_L": -65.0, "V_th": -50.0, "V_reset": -55.0,
                              "t_ref": 3.0, "a": 2.0, "b": 60.0, "tau_w": 100.0, "Delta_T": 2.0,
                              "tau_syn_ex": 1.5, "tau_syn_in": 4.0, "V_m": -60.0}),
    102: ("i", "inh.json", {"C_m": 200.0, "g_L": 20.0, "E_L": -70.0, "V_th": -52.0, "V_reset": -65.0,
                            "t_ref": 1.0, "a": 0.0, "b": 0.0, "tau_w": 30.0, "Delta_T": 0.5,
                            "tau_syn_ex": 1.0, "tau_syn_in": 3.0, "I_e": 50.0}),
}
WEIGHT_SCALE = {"iaf_psc_alpha": 1.0, "aeif_cond_exp": 0.2}
SYNAPSES = {   # edge_type_id: (source ei, target ei, JSON file or None, JSON contents, table's syn_weight)
    100: ("e", "e", "e2e.json", {"syn_weight": 20.0}, None),
    101: ("e", "i", "e2i.json", {"syn_weight": 40.0}, None),
    102: ("i", "e", "i2e.json", {"syn_weight": -100.0}, None),
    103: ("i", "i", None, None, -80.0),
}


def convert(out, model):
    """Turn the iaf_psc_alpha circuit in `out` into the same circuit of `model` neurons: its
    cell models' JSON files, the template in the types table, and every weight (JSON files,
    types table, edge datasets) WEIGHT_SCALE[model] times."""
    scale = WEIGHT_SCALE[model]
    for _, (_, name, params) in {"aeif_cond_exp": AEIF_CELLS}[model].items():
        json.dump(params, open(os.path.join(out, "components/cell_models", name), "w"), indent=1)
    types = os.path.join(out, "network/v1_node_types.csv")
    text = open(types).read()
    open(types, "w").write(text.replace("nest:iaf_psc_alpha", f"nest:{model}"))
    for _, (_, _, name, _, _) in SYNAPSES.items():
        if name:
            path = os.path.join(out, "components/synaptic_models", name)
            params = json.load(open(path))
            json.dump({k: v * scale for k, v in params.items()}, open(path, "w"), indent=1)
    edge_types = os.path.join(out, "network/v1_v1_edge_types.csv")
    lines = open(edge_types).read().splitlines()
    rows = [ln.rsplit(" ", 1) for ln in lines[1:]]
    open(edge_types, "w").write("\n".join([lines[0]] + [f"{a} {w if w == 'NULL' else float(w) * scale}"
                                                         for a, w in rows]) + "\n")
    with h5py.File(os.path.join(out, "network/lgn_v1_edges.h5"), "a") as f:
        w = f["edges/lgn_to_v1/0/syn_weight"][()] * scale
        del f["edges/lgn_to_v1/0/syn_weight"]
        f.create_dataset("edges/lgn_to_v1/0/syn_weight", data=w, compression="gzip")


def write_circuit(out, n_v1=N_V1, n_lgn=N_LGN, p=P, k_lgn=K_LGN, t_stop=T_STOP, seed=12345, model="iaf_psc_alpha"):
    if model != "iaf_psc_alpha":
        write_circuit(out, n_v1, n_lgn, p, k_lgn, t_stop, seed)
        return convert(out, model)
    rng = np.random.default_rng(seed)
    cells = CELLS
    w_v1, w_lgn = K_V1 / (n_v1 * p), K_LGN / k_lgn
    for sub in ("network", "components/cell_models", "components/synaptic_models", "inputs"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    for _, (ei, name, params) in cells.items():
        json.dump(params, open(os.path.join(out, "components/cell_models", name), "w"), indent=1)
    for _, (_, _, name, params, _) in SYNAPSES.items():
        if name:
            json.dump({k: v * w_v1 for k, v in params.items()},
                      open(os.path.join(out, "components/synaptic_models", name), "w"), indent=1)
    with open(os.path.join(out, "network/v1_node_types.csv"), "w") as fh:
        fh.write("node_type_id ei model_type model_template dynamics_params pop_name\n")
        for t, (ei, name, _) in cells.items():
            fh.write(f"{t} {ei} point_process nest:iaf_psc_alpha {name} \"type {t}\"\n")
    with open(os.path.join(out, "network/lgn_node_types.csv"), "w") as fh:
        fh.write("node_type_id model_type model_template\n200 virtual NULL\n")
    types = rng.choice(list(cells), size=n_v1, p=[0.5, 0.3, 0.2])
    with h5py.File(os.path.join(out, "network/v1_nodes.h5"), "w") as f:
        _node_population(f, "v1", types, rng)
    with h5py.File(os.path.join(out, "network/lgn_nodes.h5"), "w") as f:
        _node_population(f, "lgn", np.full(n_lgn, 200), rng)
    # spike trains: exponential intervals (off the grid), and three spikes on it
    ids, times = [], []
    for i in range(n_lgn):
        t = np.cumsum(rng.exponential(1000.0 / 20.0, size=int(t_stop / 50.0 * 2 + 20)))
        t = t[t < t_stop - 10.0]
        ids.append(np.full(t.size, i))
        times.append(t)
    # on, within half a tic of, and off the grid; two spikes of one node in one step
    ids.append(np.array([0, 1, 2, 3, 3]))
    times.append(np.array([10.0, 20.0000004, 30.0006, 40.02, 40.07]))
    with h5py.File(os.path.join(out, "inputs/lgn_spikes.h5"), "w") as f:
        g = f.create_group("spikes/lgn")
        g.attrs["sorting"] = "none"
        g.create_dataset("node_ids", data=np.concatenate(ids).astype(np.uint64), compression="gzip")
        g.create_dataset("timestamps", data=np.concatenate(times), compression="gzip")
        g["timestamps"].attrs["units"] = "ms"
    # lgn -> v1: k_lgn inputs per neuron, a weight per edge, the delay in the table
    post = np.repeat(np.arange(n_v1), k_lgn)
    pre = np.concatenate([rng.choice(n_lgn, k_lgn, replace=False) for _ in range(n_v1)])
    with h5py.File(os.path.join(out, "network/lgn_v1_edges.h5"), "w") as f:
        _edge_population(f, "lgn_to_v1", "lgn", "v1", pre, post, np.full(pre.size, 300),
                         {"syn_weight": rng.uniform(80.0, 120.0, pre.size) * w_lgn})
    with open(os.path.join(out, "network/lgn_v1_edge_types.csv"), "w") as fh:
        fh.write("edge_type_id model_template delay\n300 static_synapse 1.5\n")
    # v1 -> v1: probability p, no autapses (each source's targets: a binomial number of the
    # others, drawn without replacement); the type by the ends' ei, a delay per edge
    counts = rng.binomial(n_v1 - 1, p, size=n_v1)
    src = np.repeat(np.arange(n_v1), counts)
    tgt = np.concatenate([rng.choice(n_v1 - 1, k, replace=False) for k in counts])
    tgt += tgt >= src   # skip the source itself
    inh = np.array([cells[t][0] == "i" for t in types])
    etype = 100 + 2 * inh[src] + inh[tgt]   # e->e 100, e->i 101, i->e 102, i->i 103
    with h5py.File(os.path.join(out, "network/v1_v1_edges.h5"), "w") as f:
        _edge_population(f, "v1_to_v1", "v1", "v1", src, tgt, etype,
                         {"delay": np.round(rng.uniform(1.0, 3.0, src.size), 3)})
    with open(os.path.join(out, "network/v1_v1_edge_types.csv"), "w") as fh:
        fh.write("edge_type_id source_query target_query model_template dynamics_params syn_weight\n")
        for t, (a, b, name, _, w) in SYNAPSES.items():
            fh.write(f"{t} ei=='{a}' ei=='{b}' static_synapse {name or 'NULL'} {'NULL' if w is None else w * w_v1}\n")
    circuit = {
        "manifest": {"$BASE_DIR": "${configdir}", "$NETWORK_DIR": "$BASE_DIR/network",
                     "$COMPONENTS_DIR": "$BASE_DIR/components"},
        "components": {"point_neuron_models_dir": "$COMPONENTS_DIR/cell_models",
                       "synaptic_models_dir": "$COMPONENTS_DIR/synaptic_models"},
        "networks": {
            "nodes": [{"nodes_file": f"$NETWORK_DIR/{p}_nodes.h5",
                       "node_types_file": f"$NETWORK_DIR/{p}_node_types.csv"} for p in ("v1", "lgn")],
            "edges": [{"edges_file": f"$NETWORK_DIR/{e}_edges.h5",
                       "edge_types_file": f"$NETWORK_DIR/{e}_edge_types.csv"} for e in ("lgn_v1", "v1_v1")]},
        "target_simulator": "NEST"}
    simulation = {
        "manifest": {"$BASE_DIR": ".", "$INPUT_DIR": "$BASE_DIR/inputs", "$OUTPUT_DIR": "$BASE_DIR/output"},
        "run": {"tstop": t_stop, "dt": DT},
        "target_simulator": "NEST",
        "network": "$BASE_DIR/circuit_config.json",
        "inputs": {"lgn_spikes": {"input_type": "spikes", "module": "h5", "input_file": "$INPUT_DIR/lgn_spikes.h5",
                                  "node_set": "lgn"}},
        "output": {"output_dir": "$OUTPUT_DIR", "spikes_file": "spikes.h5"},
        "node_sets_file": "$BASE_DIR/node_sets.json",
        "reports": {"membrane_potential": {"cells": "recorded_cells", "variable_name": "V_m",
                                           "module": "multimeter_report", "dt": 1.0}}}
    node_sets = {"recorded_cells": ["some_cells", "inhibitory_cells"],   # a compound node set
                 "some_cells": {"population": "v1", "node_id": [0, 5, 17, 101]},
                 "inhibitory_cells": {"population": "v1", "ei": "i", "node_id": list(range(40))}}
    json.dump(node_sets, open(os.path.join(out, "node_sets.json"), "w"), indent=2)
    json.dump(circuit, open(os.path.join(out, "circuit_config.json"), "w"), indent=2)
    json.dump(simulation, open(os.path.join(out, "simulation_config.json"), "w"), indent=2)


def _node_population(f, name, types, rng):
    g = f.create_group(f"nodes/{name}")
    n = types.size
    g.create_dataset("node_id", data=np.arange(n, dtype=np.uint64))
    g.create_dataset("node_type_id", data=types.astype(np.uint64))
    g.create_dataset("node_group_id", data=np.zeros(n, dtype=np.uint32))
    g.create_dataset("node_group_index", data=np.arange(n, dtype=np.uint64))
    g.create_dataset("0/x", data=rng.uniform(-100.0, 100.0, n))   # positions (um), as BMTK writes them


def _edge_population(f, name, source, target, pre, post, types, group):
    g = f.create_group(f"edges/{name}")
    g.create_dataset("source_node_id", data=pre.astype(np.uint64), compression="gzip")
    g["source_node_id"].attrs["node_population"] = source
    g.create_dataset("target_node_id", data=post.astype(np.uint64), compression="gzip")
    g["target_node_id"].attrs["node_population"] = target
    g.create_dataset("edge_type_id", data=types.astype(np.uint32), compression="gzip")
    g.create_dataset("edge_group_id", data=np.zeros(pre.size, dtype=np.uint32), compression="gzip")
    g.create_dataset("edge_group_index", data=np.arange(pre.size, dtype=np.uint64), compression="gzip")
    for k, v in group.items():
        g.create_dataset(f"0/{k}", data=v, compression="gzip")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--n-v1", type=int, default=N_V1)
    ap.add_argument("--n-lgn", type=int, default=N_LGN)
    ap.add_argument("--p", type=float, default=P)
    ap.add_argument("--k-lgn", type=int, default=K_LGN)
    ap.add_argument("--t-stop", type=float, default=T_STOP)
    ap.add_argument("--model", choices=sorted(WEIGHT_SCALE), default="iaf_psc_alpha")
    a = ap.parse_args()
    write_circuit(a.out, a.n_v1, a.n_lgn, a.p, a.k_lgn, a.t_stop, model=a.model)
