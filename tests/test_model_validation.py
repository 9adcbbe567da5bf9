"""Bad input: a ValueError that names the field and the value, before anything is allocated."""
import dataclasses
import math

import pytest

from distsnn.build import make_plan
from distsnn.model import (AllToAll, FixedIndegree, FixedOutdegree, FixedProbability, FixedTotalNumber, Network, Normal,
                           OneToOne, Uniform)
from distsnn.models import microcircuit


def net2(size_a=10, size_b=10):
    net = Network(dt=0.1)
    net.add_population("A", size_a)
    net.add_population("B", size_b)
    return net


@pytest.mark.parametrize("size,text", [(-5, "-5"), (2.5, "2.5"), (True, "True"), ("10", "'10'")])
def test_bad_population_size(size, text):
    with pytest.raises(ValueError, match=rf"population 'X': size .*{text}"):
        Network().add_population("X", size)


@pytest.mark.parametrize("p", [-0.1, 1.5, math.nan])
def test_probability_outside_unit_interval(p):
    with pytest.raises(ValueError, match=r"A->B.*probability p must be in \[0, 1\], got"):
        net2().connect("A", "B", FixedProbability(p), 1.0, 1.0)


@pytest.mark.parametrize("w", [math.inf, -math.inf, math.nan])
def test_non_finite_weight(w):
    with pytest.raises(ValueError, match=r"A->B: weight: value must be a finite number"):
        net2().connect("A", "B", FixedProbability(0.1), w, 1.0)
    with pytest.raises(ValueError, match=r"A->B: weight: mean must be a finite number"):
        net2().connect("A", "B", FixedProbability(0.1), Normal(w, 1.0), 1.0)


def test_delay_below_dt():
    with pytest.raises(ValueError, match=r"A->B: delay mean 0.05 ms is below dt = 0.1 ms"):
        net2().connect("A", "B", FixedProbability(0.1), 1.0, 0.05)
    with pytest.raises(ValueError, match=r"poisson input to 'A': delay 0.01 ms is below dt"):
        net2().add_poisson_input("A", indegree=10, rate=5.0, weight=1.0, delay=0.01)


def test_unknown_population_and_parameter_names():
    with pytest.raises(ValueError, match=r"target: unknown population 'C'"):
        net2().connect("A", "C", AllToAll(), 1.0, 1.0)
    with pytest.raises(ValueError, match=r"unknown population 'Z'"):
        net2().record_spikes("Z")
    with pytest.raises(ValueError, match=r"population 'X': unknown parameter\(s\) \['tau_mem'\]"):
        Network().add_population("X", 3, params={"tau_mem": 10.0})
    with pytest.raises(ValueError, match=r"unknown neuron model 'hh'"):
        Network().add_population("X", 3, model="hh")


def test_total_number_on_empty_population():
    with pytest.raises(ValueError, match=r"A->B: total number of synapses n=100 on an empty population"):
        net2(size_b=0).connect("A", "B", FixedTotalNumber(100), 1.0, 1.0)
    with pytest.raises(ValueError, match=r"total number of synapses n must be a non-negative integer, got -1"):
        net2().connect("A", "B", FixedTotalNumber(-1), 1.0, 1.0)


def test_fixed_indegree_bad_input():
    with pytest.raises(ValueError, match=r"A->B: in-degree n must be a non-negative integer, got -3"):
        net2().connect("A", "B", FixedIndegree(-3), 1.0, 1.0)
    with pytest.raises(ValueError, match=r"A->B: in-degree n=5 from an empty population"):
        net2(size_a=0).connect("A", "B", FixedIndegree(5), 1.0, 1.0)
    net2(size_a=0).connect("A", "B", FixedIndegree(0), 1.0, 1.0)          # nothing to draw: fine
    net = Network(chunk_size=1024)
    net.add_population("A", 10)
    net.add_population("B", 2000)
    with pytest.raises(ValueError, match=r"in-degree n=4194304 times the chunk length 1024 exceeds the 2\*\*32 - 1 "
                                         r"input slots of a chunk; use a smaller chunk_size"):
        net.connect("A", "B", FixedIndegree(2 ** 22), 1.0, 1.0)
    net.connect("A", "B", FixedIndegree(2 ** 22 - 1), 1.0, 1.0)            # 1024 (2**22 - 1) slots fit
    net.projections[0] = dataclasses.replace(net.projections[0], rule=FixedIndegree(2 ** 22))
    with pytest.raises(ValueError, match=r"exceeds the 2\*\*32 - 1 input slots"):    # checked again at build
        make_plan(net, seed=1)


def test_other_rules_and_parameters():
    with pytest.raises(ValueError, match=r"one_to_one needs equal sizes, got 10 and 7"):
        net2(10, 7).connect("A", "B", OneToOne(), 1.0, 1.0)
    with pytest.raises(ValueError, match=r"out-degree n must be a non-negative integer, got 1.5"):
        net2().connect("A", "B", FixedOutdegree(1.5), 1.0, 1.0)
    with pytest.raises(ValueError, match=r"weight: sd must be >= 0, got -1.0"):
        net2().connect("A", "B", AllToAll(), Normal(1.0, -1.0), 1.0)
    with pytest.raises(ValueError, match=r"receptor must be one of"):
        net2().connect("A", "B", AllToAll(), 1.0, 1.0, receptor="gaba")
    with pytest.raises(ValueError, match=r"parameter tau_m must be > 0, got -1.0"):
        Network().add_population("X", 3, params={"tau_m": -1.0})
    with pytest.raises(ValueError, match=r"V_reset \(-40.0\) must be below V_th"):
        Network().add_population("X", 3, params={"V_reset": -40.0})
    with pytest.raises(ValueError, match=r"v_init: uniform high \(1.0\) is below low \(2.0\)"):
        Network().add_population("X", 3, v_init=Uniform(2.0, 1.0))
    with pytest.raises(ValueError, match=r"dt must be a positive number of ms, got 0"):
        Network(dt=0)
    with pytest.raises(ValueError, match=r"neuron ids must be in \[0, 10\)"):
        net2().record_voltage("A", [3, 10])
    with pytest.raises(ValueError, match=r"scale must be in \(0, 1\], got 1.5"):
        microcircuit.build(1.5)


def test_duplicate_projection_needs_label():
    net = net2()
    net.connect("A", "B", AllToAll(), 1.0, 1.0)
    with pytest.raises(ValueError, match="give a distinct label"):
        net.connect("A", "B", AllToAll(), 2.0, 1.0)
    net.connect("A", "B", AllToAll(), 2.0, 1.0, label="second")


def test_duplicate_check_follows_direct_changes_of_the_list():
    """connect() keeps an index of the projections; editing the list directly must not fool it."""
    net = net2()
    first = net.connect("A", "B", FixedProbability(0.1), 1.0, 1.0)
    net.projections.clear()                          # e.g. a benchmark without recurrent input
    net.connect("A", "B", FixedProbability(0.1), 1.0, 1.0)
    net.projections[:] = [first]                     # same length, another object
    with pytest.raises(ValueError, match="exists; give a distinct label"):
        net.connect("A", "B", FixedProbability(0.2), 1.0, 1.0)
    net.projections.append(net.projections.pop())
    net.projections.insert(0, net.projections[0])   # an edit the index does not see ...
    with pytest.raises(ValueError, match="two projections share a source, target and label"):
        make_plan(net, 1)                            # ... is caught when the network is built
    del net.projections[0]
    net.connect("B", "A", FixedProbability(0.1), 1.0, 1.0)
    with pytest.raises(ValueError, match="exists; give a distinct label"):
        net.connect("B", "A", FixedProbability(0.1), 1.0, 1.0)


def test_seed_is_checked_before_allocation():
    with pytest.raises(ValueError, match=r"seed: must be an integer in \[0, 2\*\*64\), got -1"):
        make_plan(net2(), -1)


def test_build_revalidates_mutated_network():
    net = net2()
    net.connect("A", "B", FixedTotalNumber(5), 1.0, 1.0)
    net.populations["B"].size = 0  # mutated after connect: the build catches it before allocating
    with pytest.raises(ValueError, match="on an empty population"):
        make_plan(net, 1)


def test_numpy_numbers_are_numbers_and_kept_as_python_ones():
    """Counts and values computed with NumPy (np.int64 in-degrees, np.float32 weights read
    from an array, an np.uint64 seed) are taken as NEST takes them, and kept as Python's int
    and float; NumPy's bool is refused as Python's is."""
    import numpy as np
    from distsnn.model import Constant
    from distsnn.models import brunel
    from distsnn.rng import streams
    net = Network(dt=0.1, chunk_size=np.int64(64))
    net.add_population("a", np.int64(100))
    net.add_poisson_input("a", indegree=np.int64(100), rate=np.float32(8.0), weight=np.float32(20.0), delay=1.5)
    rules = [FixedTotalNumber(np.int64(500)), FixedIndegree(np.int32(10)), FixedOutdegree(np.uint16(5)),
             FixedProbability(np.float32(0.25))]
    for i, rule in enumerate(rules):
        proj = net.connect("a", "a", rule, np.float32(20.0), Normal(np.float64(1.5), np.float32(0.5)), label=str(i))
        value = proj.rule.p if isinstance(proj.rule, FixedProbability) else proj.rule.n
        assert type(value) is (float if isinstance(proj.rule, FixedProbability) else int)
        assert proj.weight == Constant(20.0) and type(proj.weight.value) is float and type(proj.delay.sd) is float
    assert type(net.chunk_size) is int and net.populations["a"].size == 100
    assert streams.key_from_seed(np.uint64(2 ** 64 - 1)) == (2 ** 32 - 1, 2 ** 32 - 1)
    assert make_plan(net, np.int64(3)).proj_i.shape[0] == 4
    assert brunel.build(np.float32(0.02), g=np.int64(5)).metadata["g"] == 5.0
    for bad in (np.bool_(True), True):
        with pytest.raises(ValueError, match="total number of synapses n must be a non-negative integer"):
            net.connect("a", "a", FixedTotalNumber(bad), 1.0, 1.0, label="bool")
        with pytest.raises(ValueError, match="weight: expected a number or one of"):
            net.connect("a", "a", FixedTotalNumber(5), bad, 1.0, label="bool")
    with pytest.raises(ValueError, match="weight: value must be a finite number, got nan$"):
        net.connect("a", "a", FixedTotalNumber(5), np.float64("nan"), 1.0, label="nan")
