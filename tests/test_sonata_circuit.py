"""SONATA circuits of point neurons (io.sonata_circuit): the files BMTK's PointNet writes and
NEST's SonataNetwork reads, run as NEST runs them. tests/data/sonata_circuit (written by
scripts/peers/make_sonata_circuit.py: node types with their own parameters, interleaved in
one population, virtual nodes with off-grid spike trains, weights and delays from edge
datasets, types tables and JSON files) must give NEST 3.10's spikes exactly
(tests/data/nest_sonata_spikes.json, scripts/peers/nest_sonata.py), on every backend and
number of ranks; everything the loader cannot read must be refused with the reason."""
import json
import pathlib
import shutil

import h5py
import numpy as np
import pytest

import distsnn
from distsnn.cli import main
from distsnn.io.sonata import read_report, read_spikes
from distsnn.io.sonata_circuit import _emission_times, _nest_delays, load_circuit
from distsnn.io.sonata_config import load_config
from distsnn.io.sonata_node_sets import NodeSets
from distsnn.io.sonata_types import read_types
from distsnn.runtime import simulate

DATA = pathlib.Path(__file__).parent / "data"
CIRCUIT = DATA / "sonata_circuit"
NEST = json.loads((DATA / "nest_sonata_spikes.json").read_text())
ICLAMP = json.loads((DATA / "nest_sonata_iclamp_spikes.json").read_text())   # with simulation_config_iclamp.json


def nest_spikes(population="v1", nest=NEST):
    s = nest["spikes"][population]
    return sorted(zip(np.round(s["times"], 6).tolist(), s["node_ids"]))


def as_pairs(ids, times):
    return sorted(zip(np.round(np.asarray(times, dtype=float), 6).tolist(), np.asarray(ids).astype(int).tolist()))


@pytest.fixture
def circuit(tmp_path):
    """A copy of the test circuit to change."""
    return pathlib.Path(shutil.copytree(CIRCUIT, tmp_path / "circuit"))


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_spikes_are_nests(backend):
    net = load_circuit(CIRCUIT / "simulation_config.json")
    assert net.metadata["tstop"] == NEST["t_stop"] and net.dt == NEST["dt"]
    res = simulate(net, net.metadata["tstop"], seed=1, backend=backend, progress=False)
    got = as_pairs(*res.spikes("v1"))
    assert len(got) > 1500   # the network is active: 15 Hz at least over 200 neurons
    assert got == nest_spikes()


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
@pytest.mark.parametrize("config", ["simulation_config", "simulation_config_iclamp"])
def test_spikes_are_nests_on_ranks(connectivity, config):
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    net = load_circuit(CIRCUIT / f"{config}.json")
    net.chunk_size = 32   # 11 units (7 of v1, 4 of lgn): CI runs this on 4 ranks
    res = simulate(net, net.metadata["tstop"], seed=1, backend="cpu", connectivity=connectivity, comm=comm,
                   progress=False)
    ids, times = res.spikes("v1")
    ids = np.concatenate(comm.allgather(ids))
    times = np.concatenate(comm.allgather(times))
    assert as_pairs(ids, times) == nest_spikes(nest=ICLAMP if config.endswith("iclamp") else NEST)


def test_run_command_writes_the_circuits_populations(tmp_path):
    out = tmp_path / "spikes.h5"
    main(["run", str(CIRCUIT / "simulation_config.json"), "--output", str(out), "--no-progress", "--backend", "cpu"])
    spikes = read_spikes(out)
    assert set(spikes) == {"v1", "lgn"}   # by their SONATA names; the virtual nodes' spikes are not recorded
    assert spikes["lgn"][0].size == 0
    assert as_pairs(*spikes["v1"]) == nest_spikes()
    summary = json.loads((tmp_path / "spikes_summary.json").read_text())
    assert summary["t_sim"] == 500.0   # the config's run.tstop
    assert summary["parameters"]["sonata_config"] == str(CIRCUIT / "simulation_config.json")


def test_run_command_writes_where_the_config_says(circuit):
    """Without --output the spikes go to the config's output_dir / spikes_file (created)."""
    assert not (circuit / "output").exists()
    main(["run", str(circuit / "simulation_config.json"), "--no-progress", "--backend", "cpu"])
    assert as_pairs(*read_spikes(circuit / "output" / "spikes.h5")["v1"]) == nest_spikes()


def test_a_circuit_run_in_segments_is_nests(circuit, tmp_path):
    """Checkpointed every 200 ms and resumed (the run stopped after its first segment), the
    circuit's joined spikes are still NEST's: repeated input spikes, synapse lists and the
    report carry over the checkpoints."""
    config, out, ck = str(circuit / "simulation_config.json"), str(tmp_path / "run.h5"), str(tmp_path / "ck")
    common = ["run", config, "--output", out, "--no-progress", "--backend", "cpu", "--checkpoint", ck,
              "--checkpoint-every", "200", "--resume"]
    assert main(common + ["--t-sim", "200"]) in (0, None)   # the first segment only
    assert main(common) in (0, None)                        # resumed: the config's 500 ms
    assert as_pairs(*read_spikes(out)["v1"]) == nest_spikes()
    ids, times, data = read_report(str(tmp_path / "run_voltage.h5"))["v1"]
    assert times[0] == 1.0 and times[-1] == 500.0 and data.shape == (500, 13)


def _convert(circuit, model):
    """The test circuit made of `model` neurons, by scripts/peers/make_sonata_circuit.convert
    (which made NEST's reference too)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "make_sonata_circuit", pathlib.Path(__file__).parents[1] / "scripts" / "peers" / "make_sonata_circuit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.convert(str(circuit), model)


@pytest.mark.parametrize("bits", ["auto", 64])
def test_adaptive_exponential_circuit_is_nests(circuit, bits):
    """The circuit made of aeif_cond_exp neurons (conductances, negative weights inhibitory,
    NEST's solver): all of NEST 3.10's spikes, and its V_m (tests/data/nest_sonata_aeif_spikes.json;
    measured 2.4e-6 mV with int32 input, 1.4e-9 mV with int64)."""
    nest = json.loads((DATA / "nest_sonata_aeif_spikes.json").read_text())
    _convert(circuit, "aeif_cond_exp")
    net = load_circuit(circuit / "simulation_config.json")
    assert net.populations["v1"].model == "aeif_cond_exp"
    net.ring_bits = bits
    res = simulate(net, 500.0, seed=1, backend="cpu", progress=False)
    s = nest["spikes"]["v1"]
    assert len(s["times"]) > 2000 and as_pairs(*res.spikes("v1")) == as_pairs(s["node_ids"], s["times"])
    ids, times, v = res.state("v1", "V_m")
    col, row = {int(i): c for c, i in enumerate(ids)}, {round(float(t), 6): k for k, t in enumerate(times)}
    ref = nest["reports"]["v1"]
    diff = [abs(v[row[round(t, 6)], col[i]] - x) for i, t, x in zip(ref["node_ids"], ref["times"], ref["V_m"])]
    assert len(diff) == 13 * 499 and max(diff) < (1e-4 if bits == "auto" else 1e-7)


@pytest.mark.parametrize("config", ["simulation_config", "simulation_config_iclamp"])
def test_report_gives_nests_membrane_potential(circuit, config):
    """The config's report (V_m of a compound node set, every ms) is recorded: the same nodes
    and times as NEST's multimeter, V_m within the fixed-point input's rounding (with the
    current clamps too, which flow into each of these nodes)."""
    main(["run", str(circuit / f"{config}.json"), "--no-progress", "--backend", "cpu"])
    clamped = config.endswith("iclamp")
    ids, times, data = read_report(circuit / "output" / f"spikes{'_iclamp' if clamped else ''}_voltage.h5")["v1"]
    ref = (ICLAMP if clamped else NEST)["reports"]["v1"]
    assert sorted(set(ref["node_ids"])) == ids.tolist() == [0, 5, 9, 11, 15, 17, 25, 30, 32, 34, 35, 37, 101]
    col = {int(i): c for c, i in enumerate(ids)}
    row = {round(float(t), 6): r for r, t in enumerate(times)}
    assert times[0] == 1.0 and times[1] - times[0] == 1.0
    diff = [abs(data[row[round(t, 6)], col[i]] - v) for i, t, v in zip(ref["node_ids"], ref["times"], ref["V_m"])]
    assert len(diff) == 13 * 499 and max(diff) < 1e-5   # measured 1.3e-7 mV


def test_node_sets(tmp_path):
    types = {1: {"ei": "e", "layer": "L4"}, 2: {"ei": "i", "layer": "L4"}, 3: {"ei": "e", "layer": "L5"}}
    (tmp_path / "sets.json").write_text(json.dumps({
        "inh": {"population": "v1", "ei": "i"}, "first": {"population": "v1", "node_id": [0, 1, 2]},
        "both": ["inh", "first"], "l5_anywhere": {"layer": ["L5"]}, "far": {"population": "v1", "node_id": [9]},
        "bad_column": {"population": "v1", "x": 1}, "nowhere": {"population": "v2"}}))
    sets = NodeSets({"node_sets_file": str(tmp_path / "sets.json")})
    sets.add_population("v1", [1, 2, 3, 2, 1, 3], types)
    sets.add_population("lgn", [7, 7], {7: {"model_type": "virtual"}})
    assert sets.select("inh", "w")["v1"].tolist() == [1, 3]
    assert sets.select("both", "w")["v1"].tolist() == [0, 1, 2, 3]
    assert {k: v.tolist() for k, v in sets.select("l5_anywhere", "w").items()} == {"v1": [2, 5]}
    assert sets.select("lgn", "w") == {"lgn": None}   # a population's name: all of it
    for name, message in (("far", r"node_id 9 is outside 'v1' \(0 .. 5\)"), ("bad_column", "'x' is not a column"),
                          ("nowhere", "'v2' is not among"), ("missing", "neither in the node sets file")):
        with pytest.raises(ValueError, match=message):
            sets.select(name, "w")


def test_statistics_by_node_type(circuit, capsys):
    """`distsnn analyze --node-types CONFIG` breaks a population's statistics down by node
    type, labelled from the types table: the rates are NEST's, type by type."""
    config = str(circuit / "simulation_config.json")
    main(["run", config, "--no-progress", "--backend", "cpu"])
    capsys.readouterr()
    main(["analyze", str(circuit / "output" / "spikes.h5"), "--node-types", config])
    by_type = json.loads(capsys.readouterr().out)["node_types"]["v1"]
    main(["analyze", str(circuit / "output" / "spikes.h5")])   # the run's own config, from its metadata
    assert json.loads(capsys.readouterr().out)["node_types"]["v1"] == by_type
    with h5py.File(circuit / "network/v1_nodes.h5") as f:
        types = f["nodes/v1/node_type_id"][()]
    counts = np.bincount(NEST["spikes"]["v1"]["node_ids"], minlength=types.size)
    for t, label in ((100, "e"), (101, "e"), (102, "i")):
        got = by_type[str(t)]
        assert got["n_neurons"] == int(np.sum(types == t)) and got["ei"] == label and got["pop_name"] == f"type {t}"
        assert got["mean_rate_hz"] == pytest.approx(counts[types == t].mean() / 0.5)


def test_node_types_give_each_node_its_parameters():
    net = load_circuit(CIRCUIT / "simulation_config.json")
    table = distsnn.parameters(net, "v1")
    with h5py.File(CIRCUIT / "network/v1_nodes.h5") as f:
        types = f["nodes/v1/node_type_id"][()]
    for t, name in ((100, "exc_a.json"), (101, "exc_b.json"), (102, "inh.json")):
        params = json.loads((CIRCUIT / "components/cell_models" / name).read_text())
        for k, v in params.items():
            assert np.all(table[k][types == t] == v), (t, k)
    # no V_m given: NEST's default V_m, -70 mV, whatever E_L; type 101 gives its own
    assert np.all(table["V_m"][types != 101] == -70.0) and np.all(table["V_m"][types == 101] == -60.0)
    assert np.all(table["I_e"][types != 102] == 0.0)   # the model's default where the file says nothing


def test_v_m_stays_at_the_model_default_when_only_e_l_is_given(circuit):
    cell = circuit / "components/cell_models/exc_b.json"
    params = json.loads(cell.read_text())
    del params["V_m"]
    cell.write_text(json.dumps(params))
    net = load_circuit(circuit / "simulation_config.json")
    with h5py.File(circuit / "network/v1_nodes.h5") as f:
        types = f["nodes/v1/node_type_id"][()]
    table = distsnn.parameters(net, "v1")
    assert np.all(table["E_L"][types == 101] == -65.0) and np.all(table["V_m"][types == 101] == -70.0)


def test_a_nodes_own_dynamics_params_come_before_its_types(circuit):
    with h5py.File(circuit / "network/v1_nodes.h5", "a") as f:
        f["nodes/v1/0/dynamics_params/I_e"] = np.arange(200.0)
        f["nodes/v1/0/dynamics_params/tau_m"] = np.full(200, np.nan)   # NaN: the type's value stands
        f["nodes/v1/0/dynamics_params/tau_m"][:5] = 7.0
    net = load_circuit(circuit / "simulation_config.json")
    table = distsnn.parameters(net, "v1")
    assert np.array_equal(table["I_e"], np.arange(200.0))
    assert np.all(table["tau_m"][:5] == 7.0) and not np.any(table["tau_m"][5:] == 7.0)


def test_several_groups_of_edges(circuit):
    """Edges of one population in two groups: each edge takes its values from its own group."""
    path = circuit / "network/lgn_v1_edges.h5"
    with h5py.File(path, "a") as f:
        g = f["edges/lgn_to_v1"]
        n = g["edge_type_id"].shape[0]
        w = g["0/syn_weight"][()]
        gid = np.arange(n) % 2
        index = np.arange(n) // 2   # each group's own rows
        del g["edge_group_id"], g["edge_group_index"], g["0/syn_weight"]
        g["edge_group_id"] = gid
        g["edge_group_index"] = index
        g["0/syn_weight"] = w[0::2]
        g["1/syn_weight"] = w[1::2]
    net = load_circuit(circuit / "simulation_config.json")
    proj = next(p for p in net.projections if p.label == "lgn_to_v1")
    assert np.array_equal(proj.weight.values, w)


def test_emission_times_and_delays_are_nests():
    # on the grid, within half a tic (0.5 us) of it, just off it, before the first step's end
    t = _emission_times(np.array([10.0, 20.0000004, 30.0006, 0.05]), 0.1)
    assert np.allclose(t, [10.0, 20.0, 30.1, 0.1], atol=1e-12)
    # NEST rounds d * (1 / dt): 1.15 ms is 11.5 steps, so 12 (d / dt says 11.499999999999998)
    assert np.allclose(_nest_delays(np.array([1.15, 1.25, 1.04]), 0.1), [1.2, 1.3, 1.0], atol=1e-12)


def test_types_tables(tmp_path):
    path = tmp_path / "types.csv"
    path.write_text('node_type_id model_type pop_name x\n1 point_process "L2/3 E" NULL\n2 virtual lgn 3.5\n')
    t = read_types(path, "node_type_id")
    assert t[1] == {"node_type_id": 1, "model_type": "point_process", "pop_name": "L2/3 E", "x": None}
    assert t[2]["x"] == 3.5
    path.write_text("node_type_id a\n1 2\n1 3\n")
    with pytest.raises(ValueError, match="line 3: node_type_id 1 appears twice"):
        read_types(path, "node_type_id")
    path.write_text("node_type_id a\n1 2 3\n")
    with pytest.raises(ValueError, match="line 2: 3 values for 2 columns"):
        read_types(path, "node_type_id")
    with pytest.raises(ValueError, match="no edge_type_id column"):
        read_types(path, "edge_type_id")


def test_config_manifest_and_the_simulation_config(circuit):
    conf = load_config(circuit / "simulation_config.json")
    assert conf["run"] == {"tstop": 500.0, "dt": 0.1}
    assert conf["networks"]["nodes"][0]["nodes_file"] == str(circuit / "network/v1_nodes.h5")
    assert conf["components"]["point_neuron_models_dir"] == str(circuit / "components/cell_models")
    assert conf["inputs"]["lgn_spikes"]["input_file"] == str(circuit / "inputs/lgn_spikes.h5")
    # the circuit config alone has no dt: refused with what to give instead
    with pytest.raises(ValueError, match="no run.dt"):
        load_circuit(circuit / "circuit_config.json")
    # one file with both: the same network
    both = json.loads((circuit / "circuit_config.json").read_text())
    sim = json.loads((circuit / "simulation_config.json").read_text())
    both.update(run=sim["run"], inputs=sim["inputs"])
    both["manifest"]["$INPUT_DIR"] = "$BASE_DIR/inputs"
    (circuit / "config.json").write_text(json.dumps(both))
    res = simulate(load_circuit(circuit / "config.json"), 500.0, seed=1, backend="cpu", progress=False)
    assert as_pairs(*res.spikes("v1")) == nest_spikes()


def edit_json(path, **changes):
    conf = json.loads(path.read_text())
    conf.update(changes)
    path.write_text(json.dumps(conf))


def replace_in(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize("change, message", [
    (lambda c: replace_in(c / "network/v1_node_types.csv", "102 i point_process nest:iaf_psc_alpha",
                          "102 i point_process nest:iaf_psc_exp"),
     r"node population 'v1': node types of several models \['nest:iaf_psc_alpha', 'nest:iaf_psc_exp'\]"),
    (lambda c: replace_in(c / "network/v1_node_types.csv", "nest:iaf_psc_alpha", "nest:glif_psc"),
     r"model_template 'nest:glif_psc' is not 'nest:<model>' with a model distsnn has"),
    (lambda c: replace_in(c / "network/v1_node_types.csv", "102 i point_process", "102 i biophysical"),
     r"node types of several model_types \['biophysical', 'point_process'\]"),
    (lambda c: edit_json(c / "components/cell_models/inh.json", tau_minus=20.0),
     r"node type 102 \(inh.json\): parameter\(s\) \['tau_minus'\] that iaf_psc_alpha does not have"),
    (lambda c: edit_json(c / "components/cell_models/inh.json", V_reset=-40.0),
     r"v1_nodes.h5: node population 'v1': .*V_reset"),
    (lambda c: (c / "components/cell_models/inh.json").unlink(),
     r"node type 102: dynamics_params file .*inh.json' cannot be read"),
    (lambda c: edit_json(c / "simulation_config.json", inputs={}),
     r"virtual node population 'lgn': no input in the config has it .* as node_set; inputs: none"),
    (lambda c: replace_in(c / "simulation_config.json", '"node_set": "lgn"', '"node_set": "lgm"'),
     r"virtual node population 'lgn': no input .*; inputs: 'lgn_spikes' -> 'lgm'"),
    (lambda c: edit_json(c / "simulation_config.json", inputs={"x": {"input_type": "current_clamp",
                                                                      "node_set": "lgn"}}),
     r"virtual node population 'lgn': input_type 'current_clamp'; distsnn reads spike trains"),
    (lambda c: replace_in(c / "network/v1_v1_edge_types.csv", "103 ei=='i' ei=='i' static_synapse",
                          "103 ei=='i' ei=='i' stdp_synapse"),
     r"edge type 103: model_template 'stdp_synapse'; distsnn's synapses are static"),
    (lambda c: edit_json(c / "components/synaptic_models/e2e.json", tau_plus=20.0),
     r"edge type 100 \(e2e.json\): 'tau_plus' = 20.0 is not something a static synapse of distsnn takes"),
    (lambda c: edit_json(c / "components/synaptic_models/e2e.json", syn_weight=None),
     r"e2e.json: parameter 'syn_weight' must be a finite number, got null"),
    (lambda c: replace_in(c / "network/v1_v1_edge_types.csv", "NULL -80.0", "NULL NULL"),
     r"edge population 'v1_to_v1': edge \d+ \(type 103\) has no weight"),
    (lambda c: replace_in(c / "circuit_config.json", "lgn_v1_edges.h5", "missing_edges.h5"),
     r"edges_file .*missing_edges.h5' does not exist"),
    (lambda c: replace_in(c / "circuit_config.json", "$COMPONENTS_DIR/cell_models", "$NOWHERE/cell_models"),
     r"uses \$NOWHERE, which the manifest does not define"),
    (lambda c: replace_in(c / "simulation_config.json", '"multimeter_report"', '"ecp"'),
     r"report 'membrane_potential': module 'ecp'; distsnn records membrane_report and multimeter_report"),
    (lambda c: replace_in(c / "simulation_config.json", '"variable_name": "V_m"', '"variable_name": "g_ex"'),
     r"config reports: .*g_ex"),
    (lambda c: replace_in(c / "simulation_config.json", '"recorded_cells"', '"lgn"'),
     r"report 'membrane_potential': 'lgn' is a virtual node population and has no state to record"),
    (lambda c: replace_in(c / "node_sets.json", '"population": "v1",\n    "node_id": [\n      0,',
                          '"population": "v1",\n    "node_id": [\n      300,'),
     r"node set 'some_cells'.*node_id 300 is outside 'v1'"),
    (lambda c: edit_json(c / "simulation_config.json", reports={
        "a": {"cells": "some_cells", "variable_name": "V_m", "module": "membrane_report", "dt": 1.0},
        "b": {"cells": "v1", "variable_name": "I_syn_ex", "module": "multimeter_report", "dt": 0.5}}),
     r"report 'b': samples at \(dt, start, end\) = \(0.5, 0.0, inf\) ms, another report at \(1.0, 0.0, inf\)"),
    (lambda c: replace_in(c / "simulation_config.json", '"dt": 1.0', '"dt": 0.05'),
     r"^config: report 'membrane_potential': \(dt, start_time, end_time\) = \(0.05, 0.0, inf\) ms: interval = 0.05 ms "
     r"is not a whole number of time steps \(dt = 0.1 ms\)$"),
])
def test_what_cannot_be_read_is_refused_with_the_reason(circuit, change, message):
    change(circuit)
    with pytest.raises(ValueError, match=message):
        load_circuit(circuit / "simulation_config.json")


def test_spike_trains_from_bmtks_csv(circuit):
    """The same spike trains as BMTK's CSV (with another population's rows to skip) give the
    same network input, so NEST's spikes."""
    with h5py.File(circuit / "inputs/lgn_spikes.h5") as f:
        ids, times = f["spikes/lgn/node_ids"][()], f["spikes/lgn/timestamps"][()]
    lines = ["timestamps population node_ids"] + [f"{t!r} lgn {i}" for t, i in zip(times.tolist(), ids.tolist())]
    lines.append("12.5 other 3")
    (circuit / "inputs/lgn_spikes.csv").write_text("\n".join(lines) + "\n")
    replace_in(circuit / "simulation_config.json", "lgn_spikes.h5", "lgn_spikes.csv")
    res = simulate(load_circuit(circuit / "simulation_config.json"), 500.0, seed=1, backend="cpu", progress=False)
    assert as_pairs(*res.spikes("v1")) == nest_spikes()
    (circuit / "inputs/lgn_spikes.csv").write_text("timestamps population\n1.0 lgn\n")
    with pytest.raises(ValueError, match="the header must name timestamps and node_ids"):
        load_circuit(circuit / "simulation_config.json")


def test_spike_input_out_of_range_is_refused(circuit):
    with h5py.File(circuit / "inputs/lgn_spikes.h5", "a") as f:
        ids = f["spikes/lgn/node_ids"][()]
        ids[0] = 100
        del f["spikes/lgn/node_ids"]
        f["spikes/lgn/node_ids"] = ids
    with pytest.raises(ValueError, match=r"lgn_spikes.h5: node id 100 is outside population 'lgn' \(0 .. 99\)"):
        load_circuit(circuit / "simulation_config.json")


def test_cli_refuses_a_tstop_off_the_grid(circuit, capsys):
    """run.tstop is the run's length where --t-sim is not given: off the grid it is refused
    by its name, as NEST's Simulate refuses it, before anything is built or written."""
    replace_in(circuit / "simulation_config.json", '"tstop": 500.0', '"tstop": 500.05')
    assert main(["run", str(circuit / "simulation_config.json"), "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "run.tstop = 500.05 ms is not a whole number of time steps (dt = 0.1 ms)" in captured.err
    assert "build" not in captured.out and not (circuit / "output").exists()


def test_cli_refuses_scale_and_model_options(tmp_path, capsys):
    config = str(CIRCUIT / "simulation_config.json")
    assert main(["run", config, "--scale", "0.5", "--output", str(tmp_path / "o.h5")]) == 2
    assert "--scale 0.5 cannot apply to a circuit given by its files" in capsys.readouterr().err
    assert main(["run", config, "--g", "5", "--output", str(tmp_path / "o.h5")]) == 2
    assert "does not take --g" in capsys.readouterr().err


def test_synapses_out_are_the_circuits_edges(tmp_path):
    """`distsnn synapses` on a circuit writes its edges back as simulated: the same pairs,
    weights (to the fixed-point resolution of the input buffers) and delays (on the grid)."""
    out = tmp_path / "edges.h5"
    assert main(["synapses", str(CIRCUIT / "simulation_config.json"), "--output", str(out)]) in (0, None)
    with h5py.File(CIRCUIT / "network/lgn_v1_edges.h5") as f:
        g = f["edges/lgn_to_v1"]
        want = sorted(zip(g["source_node_id"][()].tolist(), g["target_node_id"][()].tolist(),
                          g["0/syn_weight"][()].tolist()))
    with h5py.File(out) as f:
        g = f["edges/lgn__v1__lgn_to_v1"]
        got = sorted(zip(g["source_node_id"][()].tolist(), g["target_node_id"][()].tolist(),
                         g["0/syn_weight"][()].tolist()))
        assert np.allclose(g["0/delay"][()], 1.5)
    assert [x[:2] for x in got] == [x[:2] for x in want]
    assert np.allclose([x[2] for x in got], [x[2] for x in want], rtol=1e-6, atol=0)
