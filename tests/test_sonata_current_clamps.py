"""SONATA current clamps (io/sonata_current_clamps.py: IClamp pulses or a table of times
and amplitudes, as BMTK's PointNet runs them on NEST): the test circuit with two clamps gives
NEST 3.10's spikes (tests/data/nest_sonata_iclamp_spikes.json, from scripts/peers/nest_sonata.py
--config simulation_config_iclamp.json); pulses, tables and node sets read as PointNet's; what a
config cannot feed is refused by name. (The clamped circuit on ranks and its report:
test_sonata_circuit.py.)"""
import json

import numpy as np
import pytest

from distsnn.io.sonata_circuit import load_circuit
from distsnn.io.sonata_current_clamps import pulses
from distsnn.runtime import simulate
import test_sonata_circuit
from test_sonata_circuit import CIRCUIT, ICLAMP, as_pairs, edit_json, nest_spikes

circuit = test_sonata_circuit.circuit   # the fixture: a copy of the test circuit to change


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_current_clamps_are_pointnets(backend):
    """The config's current clamps (pulses by amp, delay, duration lists into 4 nodes, and a
    table of times and amplitudes into the inhibitory cells among nodes 0-39) give the spikes
    NEST 3.10 gives with the step_current_generators BMTK's PointNet makes of them
    (tests/data/nest_sonata_iclamp_spikes.json)."""
    net = load_circuit(CIRCUIT / "simulation_config_iclamp.json")
    pulses, steps = net.dc_inputs
    assert pulses.neurons.tolist() == [0, 5, 17, 101] and steps.neurons.size == 9
    assert np.allclose(pulses.step_times, [50.1, 100.1, 200.1, 320.1, 400.1])   # one step later: PointNet's delay
    assert pulses.step_amplitudes.tolist() == [250.0, -100.0, 0.0, 400.0, 0.0]   # the first pulse cut by the second
    res = simulate(net, 500.0, seed=1, backend=backend, progress=False)
    got = as_pairs(*res.spikes("v1"))
    assert got == nest_spikes(nest=ICLAMP)
    assert got != nest_spikes()   # the clamps change the run
    clamped = [i for t, i in got if i in (0, 5, 17, 101)]
    assert len(clamped) > 1.2 * len([i for t, i in nest_spikes() if i in (0, 5, 17, 101)])


def test_current_clamp_pulses_and_tables(circuit):
    """Pulses as PointNet turns them into changes of the current (a pulse that ends where the
    next begins leaves no 0 between them, one of length 0 none at all), BMTK's default node
    set 'all' (every node that is not virtual), and a table file with its own columns and
    separator."""
    assert [a.tolist() for a in pulses("x", {"amp": [1.0, 2.0, 3.0, 4.0], "delay": [10.0, 20.0, 30.0, 50.0],
                                             "duration": [10.0, 5.0, 0.0, 1.0]})] == \
        [[10.0, 20.0, 25.0, 30.0, 50.0, 51.0], [1.0, 2.0, 0.0, 0.0, 4.0, 0.0]]
    assert [a.tolist() for a in pulses("x", {"amp": 7.0, "delay": 3.0, "duration": 2.0})] == [[3.0, 5.0], [7.0, 0.0]]
    (circuit / "inputs/ramp.csv").write_text("t,level\n1.0,5.0\n2.5,-1.0\n")
    edit_json(circuit / "simulation_config_iclamp.json", inputs={
        "lgn_spikes": json.loads((circuit / "simulation_config.json").read_text())["inputs"]["lgn_spikes"],
        "ramp": {"input_type": "file", "module": "IClamp", "file": "inputs/ramp.csv", "separator": ",",
                 "timestamps_column": "t", "amplitudes_column": "level"},
        "all": {"input_type": "current_clamp", "amp": 3.0, "delay": 1.0, "duration": 2.0}})
    ramp, everyone = load_circuit(circuit / "simulation_config_iclamp.json").dc_inputs
    assert ramp.target == "v1" and ramp.neurons is None and ramp.step_amplitudes.tolist() == [5.0, -1.0]
    assert np.allclose(ramp.step_times, [1.1, 2.6]) and everyone.neurons is None


CLAMP = {"input_type": "current_clamp", "module": "IClamp", "node_set": "some_cells", "amp": 100.0, "delay": 5.0,
         "duration": 10.0}


def with_input(circuit, **spec):
    inputs = json.loads((circuit / "simulation_config.json").read_text())["inputs"]
    edit_json(circuit / "simulation_config.json", inputs={**inputs, "x": spec})


@pytest.mark.parametrize("change, message", [
    (lambda c: with_input(c, **{**CLAMP, "input_type": "nwb", "file": "a.nwb"}),
     r"input 'x': input_type 'nwb'; distsnn reads spike trains \('spikes'\) and current clamps"),
    (lambda c: with_input(c, **{**CLAMP, "module": "SEClamp"}), r"input 'x': module 'SEClamp'; distsnn's current "),
    (lambda c: with_input(c, **{**CLAMP, "node_set": "lgn"}),
     r"input 'x': node set 'lgn' holds virtual nodes \('lgn'\), which take spike trains, not currents"),
    (lambda c: with_input(c, **{k: v for k, v in CLAMP.items() if k != "duration"}),
     r"input 'x': a current clamp needs amp \(pA\), delay and duration \(ms\); missing duration"),
    (lambda c: with_input(c, **{**CLAMP, "amp": [1.0, 2.0]}), r"input 'x': amp, delay and duration must be numbers "
                                                              r"or lists of one, nonzero length"),
    (lambda c: with_input(c, **{**CLAMP, "amp": [1.0, 2.0], "delay": [5.0, 4.0], "duration": [1.0, 1.0]}),
     r"input 'x': the delays of the pulses must be finite times >= 0 ms that increase"),
    (lambda c: with_input(c, **{**CLAMP, "duration": -1.0}), r"input 'x': duration must be finite and >= 0 ms"),
    (lambda c: with_input(c, **{**CLAMP, "delay": 5.0, "duration": 0.04}),
     r"input 'x': step current input to 'v1': amplitude_times must increase by at least one step"),
    (lambda c: with_input(c, **{**CLAMP, "node_set": "nowhere"}), r"input 'x': node set 'nowhere' is neither"),
    (lambda c: with_input(c, input_type="csv", node_set="v1", file="inputs/none.csv"),
     r"input 'x': file '.*none.csv' cannot be read"),
    (lambda c: (with_input(c, input_type="csv", node_set="v1", file="inputs/a.csv"),
                (c / "inputs/a.csv").write_text("time amps\n1.0 2.0\n")),
     r"a.csv: no column 'timestamps' \(columns: \['time', 'amps'\]\); name them with timestamps_column"),
    (lambda c: (with_input(c, input_type="csv", node_set="v1", file="inputs/a.csv"),
                (c / "inputs/a.csv").write_text("timestamps amps\n1.0\n")),
     r"a.csv: every row needs a number in the columns \['timestamps', 'amps'\]"),
    (lambda c: (with_input(c, input_type="csv", node_set="v1", file="inputs/a.csv"),
                (c / "inputs/a.csv").write_text("timestamps amps\n")), r"a.csv: no rows of times and amplitudes"),
    (lambda c: with_input(c, input_type="spikes", node_set="some_cells", input_file="inputs/lgn_spikes.h5"),
     r"input 'x': a spike input's node_set must be one virtual node population, whole; 'some_cells' selects v1$"),
    (lambda c: with_input(c, input_type="spikes", node_set="v1", input_file="inputs/lgn_spikes.h5"),
     r"input 'x': .* whole; 'v1' selects v1 \(not virtual\)"),
    (lambda c: with_input(c, input_type="spikes", node_set="lgn", input_file="inputs/lgn_spikes.h5"),
     r"input 'x': virtual node population 'lgn' already takes the spikes of input 'lgn_spikes'"),
])
def test_what_a_config_cannot_feed_is_refused(circuit, change, message):
    """Inputs that distsnn cannot give, or that would go nowhere, are refused by name (a spike
    input that no virtual population takes, before, was left unused)."""
    change(circuit)
    with pytest.raises(ValueError, match=message):
        load_circuit(circuit / "simulation_config.json")
