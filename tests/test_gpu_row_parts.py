"""Delivery's rows in parts (delivery_items.row_parts and stored_parts, DISTSNN_GPU_ROW_ROUNDS):
an item whose expected row is longer than `rounds` rounds of a team is listed `parts` times,
part p taking the row's synapses p * team + lane, stepping by parts * team. The same synapses
are delivered, so the same spikes, events and state as the CPU engine, on the emulated device
with separate launches and in the step loop, procedural and stored; procedural rules whose
rows run in order keep whole rows, while stored rows (every projection onto a unit) are cut
whatever their rules."""
import numpy as np
import pytest

from distsnn.backends.gpu import delivery_items as di
from distsnn.backends.gpu.emulator import EmulatedDevice
from distsnn.backends.gpu.launches import row_rounds
from distsnn.backends.gpu.simulator import GpuSimulator, device_bytes
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.runtime import simulate
from test_gpu_emulated import assert_same_run
from test_gpu_rule_variants import T_SIM, network


def _items(plan, team, rounds):
    ptr, unit, proj, part, parts = di.procedural_items(plan, plan.units, team, rounds)
    return ptr, unit.astype(np.int64), proj.astype(np.int64), part.astype(np.int64), parts.astype(np.int64)


def test_parts_follow_the_expected_row():
    """parts = ceil(expected row / (team * rounds)), 1 for fixed_probability and one_to_one and
    without rounds; the expected row is the targets' expected in-degree times the chunk's
    length over the sources."""
    plan = make_plan(network(indegree=True), 6)
    _, unit, proj = di._pairs(plan, plan.units)
    expect = di.expected_row(plan, plan.units, unit, proj)
    rule = plan.proj_i[proj, bp.JI_RULE]
    clen = np.minimum(plan.chunk_size, plan.proj_i[proj, bp.JI_POST_SIZE] - plan.units[unit, bp.UI_CHUNK]
                      * plan.chunk_size)
    ftn = rule == bp.RULE_FTN   # E -> E: 9000 synapses from 240 onto 240 neurons
    assert np.allclose(expect[ftn], 9000 / 240 * clen[ftn] / 240)
    assert np.allclose(expect[rule == bp.RULE_A2A], clen[rule == bp.RULE_A2A])   # every source reaches every target
    assert np.allclose(expect[rule == bp.RULE_FIN], 30 * clen[rule == bp.RULE_FIN] / 240)
    assert (di.row_parts(plan, plan.units, unit, proj, 2, 0) == 1).all()
    parts = di.row_parts(plan, plan.units, unit, proj, 2, 1)
    indexed = np.isin(rule, (bp.RULE_FTN, bp.RULE_FOUT, bp.RULE_FIN, bp.RULE_A2A))
    assert (parts[indexed] == np.clip(np.ceil(expect[indexed] / 2), 1, di.MAX_PARTS)).all()
    assert (parts[~indexed] == 1).all() and (~indexed).any() and parts.max() > 8


def test_items_list_each_part_once_in_order():
    plan = make_plan(network(indegree=True), 6)
    ptr0, unit0, proj0, part0, parts0 = _items(plan, 2, 0)
    assert (part0 == 0).all() and (parts0 == 1).all()
    ptr, unit, proj, part, parts = _items(plan, 2, 1)
    assert ptr[-1] == unit.size > unit0.size
    for src in range(len(plan.pop_names)):   # by source, then unit, projection and part
        o = slice(ptr[src], ptr[src + 1])
        keys = np.stack([unit[o], proj[o], part[o]])
        assert (np.lexsort(keys[::-1]) == np.arange(keys.shape[1])).all()
        pairs, counts = np.unique(keys[:2], axis=1, return_counts=True)
        pairs0 = np.stack([unit0[ptr0[src]:ptr0[src + 1]], proj0[ptr0[src]:ptr0[src + 1]]])
        assert np.array_equal(pairs, np.unique(pairs0, axis=1))   # the same (unit, projection) pairs
        first = np.searchsorted(keys[0] * 10 ** 6 + keys[1], pairs[0] * 10 ** 6 + pairs[1])
        assert (counts == parts[o][first]).all()                    # each listed `parts` times ...
        assert (part[o] == np.arange(part[o].size) - np.repeat(first, counts)).all()   # ... as parts 0, 1, ...


def test_records_carry_the_part_beside_the_cell_width():
    plan = make_plan(network(indegree=True), 6)
    _, unit, proj, part, parts = _items(plan, 2, 1)
    rec = di.procedural_records(plan, plan.units, unit, proj, part, parts)
    high = rec[:, di.IR_KIN_WIDE] >> 32
    assert (high & di.IR_WIDE_MASK == plan.proj_i[proj, bp.JI_COUNT_WIDE]).all()
    assert ((high >> di.IR_PART_SHIFT) & di.IR_PART_MASK == part).all()
    assert (high >> di.IR_PARTS_SHIFT == parts).all()
    whole = di.procedural_records(plan, plan.units, unit, proj)
    assert ((whole[:, di.IR_KIN_WIDE] >> 32) == plan.proj_i[proj, bp.JI_COUNT_WIDE] | 1 << di.IR_PARTS_SHIFT).all()
    with pytest.raises(ValueError, match="parts out of range"):
        di.procedural_records(plan, plan.units, unit, proj, parts, parts)   # a part must be below its parts


def test_the_tables_bytes_count_the_parts():
    plan = make_plan(network(), 6)
    whole, split = (device_bytes(plan, plan.units, 0, team=2, row_rounds=r) for r in (0, 1))
    records = _items(plan, 2, 1)[1].size - _items(plan, 2, 0)[1].size
    assert split - whole == 8 * di.N_IR * records > 0
    stored = di.stored_items(plan, plan.units, 2, 1)
    assert di.table_bytes(plan, plan.units, 2, 1, "stored") == stored[0].nbytes + 8 * di.N_CR * stored[1].size


def test_stored_parts_sum_every_projection_onto_the_unit():
    """A stored row holds every projection from the spike's population onto the unit, any
    rule: its parts are the sum of their expected rows over rounds of a team, rounded up; the
    items list each (source, unit) pair once per part, in order, and the records carry them."""
    plan = make_plan(network(indegree=True), 6)
    src, unit, proj = di._pairs(plan, plan.units)
    U = plan.units.shape[0]
    expect = {}
    for s_, u, e in zip(src, unit, di.expected_row(plan, plan.units, unit, proj)):
        expect[s_ * U + u] = expect.get(s_ * U + u, 0.0) + e
    fp = plan.proj_i[proj, bp.JI_RULE] == bp.RULE_FP   # I -> E: p = 0.2 of 80 sources
    assert np.allclose(di.expected_row(plan, plan.units, unit[fp], proj[fp]),
                       0.2 * np.minimum(64, 240 - plan.units[unit[fp], bp.UI_CHUNK] * 64))
    key, parts = di.stored_parts(plan, plan.units, 2, 1)
    assert key.tolist() == sorted(expect)
    assert parts.tolist() == [min(max(1, int(np.ceil(expect[k] / 2))), di.MAX_PARTS) for k in key.tolist()]
    assert (di.stored_parts(plan, plan.units, 2, 0)[1] == 1).all() and parts.max() > 8
    ptr, sunit, part, sparts = di.stored_items(plan, plan.units, 2, 1)
    assert ptr[-1] == parts.sum()
    listed = np.repeat(key, parts)
    assert np.array_equal(sunit, listed % U) and np.array_equal(sparts, np.repeat(parts, parts))
    assert np.array_equal(part, np.concatenate([np.arange(n) for n in parts]))
    rec = di.stored_records(plan, plan.units, sunit, part, sparts)
    assert np.array_equal(rec[:, di.CR_PART_PARTS], part.astype(np.int64) | sparts.astype(np.int64) << 32)
    with pytest.raises(ValueError, match="parts out of range"):
        di.stored_records(plan, plan.units, sunit, sparts, sparts)


def test_row_rounds_from_the_environment(monkeypatch):
    monkeypatch.delenv("DISTSNN_GPU_ROW_ROUNDS", raising=False)
    assert row_rounds() == 0 and row_rounds(3) == 3
    monkeypatch.setenv("DISTSNN_GPU_ROW_ROUNDS", "2")
    assert row_rounds() == 2 and EmulatedDevice().row_rounds == 2
    with pytest.raises(ValueError, match="rounds per part"):
        row_rounds(-1)
    monkeypatch.setenv("DISTSNN_GPU_ROW_ROUNDS", "two")
    with pytest.raises(ValueError, match="DISTSNN_GPU_ROW_ROUNDS='two' is not a number of rounds"):
        EmulatedDevice()


@pytest.fixture(scope="module")
def reference():
    return {indegree: simulate(network(indegree=indegree), T_SIM, seed=6, backend="cpu", progress=False)
            for indegree in (False, True)}


@pytest.mark.parametrize("loop", [False, True])
@pytest.mark.parametrize("indegree", [False, True])
def test_rows_in_parts_deliver_as_the_cpu(reference, monkeypatch, loop, indegree):
    """Every rule (fixed_indegree with its permutation too), rows cut into parts of one round
    of a team of 2: the CPU engine's spikes, voltages and events, with separate launches and
    in the step loop."""
    plan = make_plan(network(indegree=indegree), 6)
    sim = GpuSimulator(plan, device=EmulatedDevice(step_loop=loop, rows=1)).build()
    assert sim.d_items[1].size // di.N_IR > _items(plan, 2, 0)[1].size   # rows were cut
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1" if loop else "0")
    monkeypatch.setenv("DISTSNN_GPU_ROW_ROUNDS", "1")
    res = simulate(network(indegree=indegree), T_SIM, seed=6, backend="gpu-emu", progress=False)
    assert res.device["step_launches"].startswith("step loop") == loop
    assert_same_run(res, reference[indegree])


@pytest.fixture(scope="module")
def stored_reference():
    return simulate(network(indegree=True), T_SIM, seed=6, backend="cpu", connectivity="stored", progress=False)


@pytest.mark.parametrize("loop", [False, True])
def test_stored_rows_in_parts_deliver_as_the_cpu(stored_reference, monkeypatch, loop):
    """Stored rows cut into one-round parts of a team of 2 (every rule's synapses in one cell):
    the CPU engine's spikes, voltages and events, with separate launches and in the step loop."""
    plan = make_plan(network(indegree=True), 6)
    sim = GpuSimulator(plan, "stored", device=EmulatedDevice(step_loop=loop, rows=1)).build()
    assert sim.d_items[1].size // di.N_CR > di.stored_items(plan, plan.units)[1].size   # rows were cut
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1" if loop else "0")
    monkeypatch.setenv("DISTSNN_GPU_ROW_ROUNDS", "1")
    res = simulate(network(indegree=True), T_SIM, seed=6, backend="gpu-emu", connectivity="stored", progress=False)
    assert res.device["row_rounds"] == 1 and res.device["step_launches"].startswith("step loop") == loop
    assert_same_run(res, stored_reference)
