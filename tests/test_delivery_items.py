"""GPU delivery's work items (backends.gpu.delivery_items): each source population lists
exactly the (local unit, projection) pairs, or for stored delivery the local units, that its
spikes reach, for any subset of units a process owns; and a spike shared by fewer teams than
its list is long still reaches all of them (the same spikes as the CPU engine)."""
import copy

import numpy as np
import pytest

from distsnn.backends.gpu import delivery_items
from distsnn.backends.gpu.delivery_items import (procedural_items, procedural_records, stored_items, stored_records,
                                                 table_bytes, teams_per_spike)
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.count_layout import hold_counts, widen
from distsnn.models import MODELS
from distsnn.runtime import simulate
from test_determinism import mixed_network
from test_gpu_emulated import assert_same_run


def brute_force(plan, units):
    """{src: sorted [(unit, projection)]} by scanning every unit's incoming projections."""
    out = {k: [] for k in range(len(plan.pop_names))}
    for u in range(units.shape[0]):
        k = units[u, bp.UI_POP]
        for jj in range(plan.pop_i[k, bp.PI_IN_START], plan.pop_i[k, bp.PI_IN_END]):
            j = int(plan.in_proj[jj])
            out[int(plan.proj_i[j, bp.JI_PRE_POP])].append((u, j))
    return {k: sorted(v) for k, v in out.items()}


def plans():
    yield "mixed", make_plan(mixed_network(), 1)
    yield "microcircuit", make_plan(MODELS["microcircuit"](scale=0.05), 1, bound_inputs=False)


@pytest.mark.parametrize("name,plan", list(plans()), ids=lambda x: x if isinstance(x, str) else "")
@pytest.mark.parametrize("owned", ["all", "every third", "none"])
def test_tables_list_exactly_the_reached_items(name, plan, owned):
    mask = {"all": np.ones(plan.units.shape[0], bool),
            "every third": np.arange(plan.units.shape[0]) % 3 == 1,
            "none": np.zeros(plan.units.shape[0], bool)}[owned]
    units = plan.units[mask]
    expect = brute_force(plan, units)
    ptr, unit, proj, part, parts = procedural_items(plan, units)
    assert (part == 0).all() and (parts == 1).all()   # whole rows unless asked for (test_gpu_row_parts)
    assert ptr.size == len(plan.pop_names) + 1 and ptr[0] == 0 and unit.dtype == proj.dtype == np.int32
    records = procedural_records(plan, units, unit, proj)
    assert table_bytes(plan, units) == ptr.nbytes + records.nbytes   # what device_bytes counts
    for src, pairs in expect.items():
        got = list(zip(unit[ptr[src]:ptr[src + 1]].tolist(), proj[ptr[src]:ptr[src + 1]].tolist()))
        assert got == pairs                      # each pair once, ordered by unit then projection
    sptr, sunit, spart, sparts = stored_items(plan, units)
    assert (spart == 0).all() and (sparts == 1).all()   # whole rows unless asked for (test_gpu_row_parts)
    for src, pairs in expect.items():
        assert sunit[sptr[src]:sptr[src + 1]].tolist() == sorted({u for u, _ in pairs})
    assert stored_records(plan, units, sunit).nbytes <= records.nbytes
    assert table_bytes(plan, units, connectivity="stored") >= sptr.nbytes + stored_records(plan, units, sunit).nbytes
    longest = max(len(v) for v in expect.values())
    assert teams_per_spike(ptr) == max(1, min(longest, delivery_items.FAN_SPLIT))
    if owned == "none":
        assert ptr[-1] == 0 and teams_per_spike(ptr) == 1


def halves(word):
    """The int32 pair (low, high) of a record's int64 word."""
    return int(np.int64(word).astype(np.uint64) & 0xFFFFFFFF), int(np.int64(word) >> 32)


def signed(x):
    return x - (1 << 32) if x >= 1 << 31 else x


@pytest.mark.parametrize("name,plan", list(plans()), ids=lambda x: x if isinstance(x, str) else "")
def test_records_hold_what_the_rows_read(name, plan):
    """Each item's record has the values the kernels read from the unit, projection and
    population tables before (struct Item and struct Cell, common.cuh): checked field by
    field, with every count address against the projection's own arithmetic, in the counts
    layout of a process that holds its own chunks' counts only (count_layout.hold_counts)."""
    units = plan.units[np.arange(plan.units.shape[0]) % 2 == 0].copy()
    units[:, bp.UI_RING_OFF] = 1000 + 7 * np.arange(units.shape[0])   # any local offsets
    plan = copy.copy(plan)   # the parameters' plan is shared
    plan.proj_i, plan.info = plan.proj_i.copy(), dict(plan.info)
    hold_counts(plan, units)
    counted = plan.proj_i[:, bp.JI_COUNT_OFF] >= 0
    assert (plan.proj_i[counted, bp.JI_COUNT_COL0] > 0).any()   # a shifted span
    widen(plan, np.nonzero(counted)[0][:1])   # cells of both widths (the first projection's 32 bits)
    if counted.sum() > 1:
        assert set(plan.proj_i[counted, bp.JI_COUNT_WIDE]) == {0, 1}
    ptr, unit, proj, part, parts = procedural_items(plan, units)
    assert (part == 0).all() and (parts == 1).all()   # whole rows unless asked for (test_gpu_row_parts)
    rec = procedural_records(plan, units, unit, proj)
    assert rec.shape == (unit.size, delivery_items.N_IR) and rec.dtype == np.int64
    for o in range(unit.size):
        un, pj, r = units[unit[o]], plan.proj_i[proj[o]], rec[o]
        k, chunk, recp = un[bp.UI_POP], un[bp.UI_CHUNK], pj[bp.JI_REC]
        n_u = un[bp.UI_GID_END] - un[bp.UI_GID_START]
        lex, lin = plan.pop_i[k, bp.PI_RING_EX], plan.pop_i[k, bp.PI_RING_IN]
        assert r[delivery_items.IR_BASE] == un[bp.UI_RING_OFF] + recp * lex * n_u
        assert halves(r[delivery_items.IR_NU_SLOTS]) == (n_u, lin if recp else lex)
        clen = min(plan.chunk_size, pj[bp.JI_POST_SIZE] - chunk * plan.chunk_size)
        assert halves(r[delivery_items.IR_CLEN_CHUNK]) == (clen, chunk)
        rule, tag = halves(r[delivery_items.IR_RULE_TAG])
        assert rule == pj[bp.JI_RULE] and tag == signed(int(pj[bp.JI_TAG]))
        assert halves(r[delivery_items.IR_COLS_PROJ]) == (pj[bp.JI_COUNT_COLS], proj[o])
        # beside the cells' width: part 0 of 1 (whole rows; rows in parts: test_gpu_row_parts.py)
        assert halves(r[delivery_items.IR_KIN_WIDE]) == (pj[bp.JI_N] if rule == bp.RULE_FIN else 0,
                                                         pj[bp.JI_COUNT_WIDE] | 1 << delivery_items.IR_PARTS_SHIFT)
        assert r[delivery_items.IR_PRE_OFF] == pj[bp.JI_PRE_OFF]
        for pre in (0, pj[bp.JI_PRE_SIZE] - 1):   # the first and last source of the projection
            gid = pj[bp.JI_PRE_OFF] + pre
            at = r[delivery_items.IR_COUNT] + gid * pj[bp.JI_COUNT_COLS]
            assert at == pj[bp.JI_COUNT_OFF] + pre * pj[bp.JI_COUNT_COLS] + chunk - pj[bp.JI_COUNT_COL0]
    sptr, sunit, _, _ = stored_items(plan, units)
    cells = stored_records(plan, units, sunit)
    assert cells.shape == (sunit.size, delivery_items.N_CR)
    for o, u in enumerate(sunit):
        un = units[u]
        k = un[bp.UI_POP]
        assert cells[o, delivery_items.CR_BASE] == un[bp.UI_RING_OFF]
        assert halves(cells[o, delivery_items.CR_UNIT_NU]) == (u, un[bp.UI_GID_END] - un[bp.UI_GID_START])
        lex, lin = plan.pop_i[k, bp.PI_RING_EX], plan.pop_i[k, bp.PI_RING_IN]
        assert halves(cells[o, delivery_items.CR_LEX_LIN]) == (lex, lin)
        assert halves(cells[o, delivery_items.CR_PART_PARTS]) == (0, 1)   # whole rows (parts: test_gpu_row_parts)


def test_record_fields_beyond_int32_are_refused():
    """A record's 32-bit fields never wrap: a value beyond int32 is an error naming it."""
    plan = make_plan(mixed_network(), 1)
    units = plan.units.copy()
    units[0, bp.UI_GID_END] = units[0, bp.UI_GID_START] + 2 ** 31    # a unit of 2**31 neurons
    ptr, unit, proj, part, parts = procedural_items(plan, units)
    assert (part == 0).all() and (parts == 1).all()   # whole rows unless asked for (test_gpu_row_parts)
    with pytest.raises(ValueError, match="delivery item field n_u out of the int32 range"):
        procedural_records(plan, units, unit, proj)
    with pytest.raises(ValueError, match="delivery item field n_u out of the int32 range"):
        stored_records(plan, units, stored_items(plan, units)[1])


def test_tables_of_a_population_that_sends_nothing_are_empty():
    plan = make_plan(mixed_network(), 1)
    ptr, *_ = procedural_items(plan, plan.units)
    # every population of the mixed network sends; the tables have an entry per population
    assert (np.diff(ptr) > 0).all()
    net = mixed_network()
    net.add_population("silent", 10)
    plan = make_plan(net, 1)
    ptr, *_ = procedural_items(plan, plan.units)
    assert np.diff(ptr)[plan.pop_names.index("silent")] == 0


def test_more_items_than_32_bit_indices_reach_is_refused(monkeypatch):
    """Procedural delivery indexes its items with int32: a process with more is an error
    naming the remedy, not a wrapped index (here with the limit lowered)."""
    plan = make_plan(mixed_network(), 1)
    n = int(procedural_items(plan, plan.units)[0][-1])
    monkeypatch.setattr(delivery_items, "MAX_ITEMS", n)
    procedural_items(plan, plan.units)                 # at the limit: fine
    monkeypatch.setattr(delivery_items, "MAX_ITEMS", n - 1)
    with pytest.raises(ValueError, match=f"{n} delivery items on one process .*use more processes"):
        procedural_items(plan, plan.units)


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
@pytest.mark.parametrize("split", [1, 3])
def test_spikes_shared_by_few_teams_reach_every_item(monkeypatch, connectivity, split):
    """With FAN_SPLIT below the longest list, each team walks several items of its spike's
    list: the spikes stay those of the CPU engine."""
    ref = simulate(mixed_network(), 120.0, seed=4, backend="cpu", connectivity=connectivity, progress=False)
    monkeypatch.setattr(delivery_items, "FAN_SPLIT", split)
    res = simulate(mixed_network(), 120.0, seed=4, backend="gpu-emu", connectivity=connectivity, progress=False)
    assert res.spike_gids.size > 500
    assert_same_run(res, ref)
