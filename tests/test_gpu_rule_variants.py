"""Procedural delivery and the step loop come in variants by the connection rules they
regenerate (source.RULE_VARIANTS): every rule and every kind of draw (""), every rule and the
redraw but no draws of a kind of their own ("_no_kinds": no Uniform, Exponential or LogNormal),
or every rule but fixed_indegree ("_no_indegree"), which leaves out its permutation and so
fits fewer registers. The driver
launches the smallest variant that covers its plan's rules; on the emulated device, a model
without fixed_indegree runs that variant bit for bit as the CPU engine, and a variant that
lacks a rule of the model loses that rule's synapses (the variants really differ, so the
choice matters)."""
import numpy as np
import pytest

from distsnn.backends.gpu import simulator as gpu_simulator
from distsnn.backends.gpu.emulator import EmulatedDevice
from distsnn.backends.gpu.simulator import GpuSimulator
from distsnn.backends.gpu.source import (ENTRY_POINTS, KINDS_BIT, REDRAW_BIT, RULE_FILES, RULE_VARIANTS, kernel_file,
                                         rule_mask, rule_variant)
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.model import (AllToAll, FixedIndegree, FixedOutdegree, FixedProbability, FixedTotalNumber, Network,
                           Normal, OneToOne)
from distsnn.runtime import simulate
from test_gpu_emulated import assert_same_run

T_SIM = 120.0   # ms


def network(ring_bits="auto", indegree=False):
    """Every rule but fixed_indegree (fixed_total_number, fixed_outdegree, all-to-all,
    fixed_probability, one_to_one), both receptors, delays from one step up, Poisson input;
    with `indegree`, one fixed_indegree projection too."""
    net = Network(dt=0.1, chunk_size=64, ring_bits=ring_bits)
    net.add_population("E", 240, params={"tau_syn_ex": 0.5}, v_init=Normal(-60.0, 5.0))
    net.add_population("I", 80, v_init=-65.0)
    net.add_population("X", 80, params={"I_e": 380.0})
    net.connect("E", "E", FixedTotalNumber(9000), Normal(40.0, 4.0), Normal(1.5, 0.75))
    net.connect("E", "I", FixedOutdegree(20), Normal(60.0, 6.0), 0.1)
    net.connect("I", "E", FixedProbability(0.2), Normal(-40.0, 4.0), Normal(0.8, 0.4))
    net.connect("I", "I", AllToAll(), -50.0, 0.5)
    net.connect("X", "I", OneToOne(), 200.0, 2.0)
    if indegree:
        net.connect("E", "I", FixedIndegree(30), Normal(20.0, 2.0), Normal(1.2, 0.4), label="k")
    net.add_poisson_input("E", indegree=1000, rate=18.0, weight=45.0, delay=1.5)
    net.add_poisson_input("I", indegree=1000, rate=12.0, weight=45.0, delay=1.5)
    for name in ("E", "I", "X"):
        net.record_spikes(name)
    net.record_voltage("E", [0, 100])
    return net


def test_the_smallest_variant_that_covers_the_rules():
    others = [bp.RULE_FTN, bp.RULE_FOUT, bp.RULE_A2A, bp.RULE_FP, bp.RULE_O2O]
    assert rule_variant([bp.RULE_FTN]) == "_no_indegree"
    assert rule_variant(np.array(others + [bp.RULE_FTN])) == "_no_indegree"
    assert rule_variant([]) == "_no_indegree"                 # no projection: any variant serves
    assert rule_variant([bp.RULE_FIN]) == rule_variant(others + [bp.RULE_FIN]) == "_no_kinds"   # not the smallest
    assert rule_variant([bp.RULE_FP, REDRAW_BIT]) == "_no_kinds"
    assert rule_variant([bp.RULE_FP, KINDS_BIT]) == rule_variant(others + [bp.RULE_FIN, REDRAW_BIT, KINDS_BIT]) == ""
    with pytest.raises(ValueError, match="no kernel variant regenerates the connection rules"):
        rule_variant([bp.RULE_FTN, 17])


def test_every_variant_is_generated_with_its_rules():
    """Each file with variants has NAME + variant (+ _r32) entry points, each calling the
    body with that variant's rule mask."""
    for name in RULE_FILES:
        text = kernel_file(name)
        for variant, rules in RULE_VARIANTS.items():
            for suffix, ctype in (("", "i64"), ("_r32", "int")):
                assert name + variant + suffix in ENTRY_POINTS[name]
                call = text.split(f" {name}{variant}{suffix}(", 1)[1].split("}", 1)[0]
                assert f"{name}_body<{rule_mask(rules)}u, {ctype}>(" in call
    assert rule_mask([bp.RULE_FTN, bp.RULE_FTN, bp.RULE_A2A]) == (1 << bp.RULE_FTN) | (1 << bp.RULE_A2A)


@pytest.fixture(scope="module")
def reference():
    return {bits: simulate(network(bits), T_SIM, seed=6, backend="cpu", progress=False) for bits in (32, 64)}


@pytest.mark.parametrize("loop", [False, True])
@pytest.mark.parametrize("bits", [32, 64])
def test_a_model_without_fixed_indegree_runs_the_smaller_variant_same_as_cpu(reference, monkeypatch, bits, loop):
    """Separate launches and the step loop, both ring widths."""
    ref = reference[bits]
    assert ref.plan.ring_bits == bits and ref.spike_gids.size > 200 and ref.events > 50000
    sim = GpuSimulator(make_plan(network(bits), 6), device=EmulatedDevice(step_loop=loop)).build()
    r32 = "_r32" if bits == 32 else ""
    assert sim.entry_point("deliver_procedural") == "deliver_procedural_no_indegree" + r32
    assert sim.loop_kernel == ("step_loop_no_indegree" + r32 if loop else None)
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1" if loop else "0")
    res = simulate(network(bits), T_SIM, seed=6, backend="gpu-emu", progress=False)
    assert_same_run(res, ref)


def test_the_full_variant_on_request_same_results(reference, monkeypatch):
    """DISTSNN_GPU_RULE_VARIANTS=0 (to measure what the variants gain) launches the full
    variant, with the same results; the run's device record names the kernels a step ran."""
    monkeypatch.setenv("DISTSNN_GPU_RULE_VARIANTS", "0")
    res = simulate(network(32), T_SIM, seed=6, backend="gpu-emu", progress=False)
    assert res.device["step_kernels"] == ["neuron_update_r32", "record_state", "deliver_procedural_r32"]
    assert_same_run(res, reference[32])
    monkeypatch.setenv("DISTSNN_GPU_RULE_VARIANTS", "1")
    res = simulate(network(32), T_SIM, seed=6, backend="gpu-emu", progress=False)
    assert res.device["step_kernels"] == ["neuron_update_r32", "record_state", "deliver_procedural_no_indegree_r32"]


def test_a_rule_the_model_needs_makes_it_run_a_larger_variant():
    sim = GpuSimulator(make_plan(network(indegree=True), 6), device=EmulatedDevice(step_loop=True)).build()
    assert sim.entry_point("deliver_procedural") == "deliver_procedural_no_kinds_r32"
    assert sim.loop_kernel == "step_loop_no_kinds_r32"


@pytest.mark.parametrize("loop", [False, True])
def test_a_variant_without_a_rule_of_the_model_loses_its_synapses(monkeypatch, loop):
    """Forced onto the smaller variant, a model with a fixed_indegree projection delivers
    fewer events than the CPU engine: the variant has no code for that rule."""
    ref = simulate(network(indegree=True), T_SIM, seed=6, backend="cpu", progress=False)
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1" if loop else "0")
    full = simulate(network(indegree=True), T_SIM, seed=6, backend="gpu-emu", progress=False)
    assert full.events == ref.events
    monkeypatch.setattr(gpu_simulator, "rule_variant", lambda rules: "_no_indegree")
    res = simulate(network(indegree=True), T_SIM, seed=6, backend="gpu-emu", progress=False)
    assert res.device["step_launches"].startswith("step loop (step_loop_no_indegree") == loop
    assert res.events < ref.events
