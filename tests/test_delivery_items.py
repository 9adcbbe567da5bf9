"""GPU delivery's work items (backends.gpu.delivery_items): each source population lists
exactly the (local unit, projection) pairs, or for stored delivery the local units, that its
spikes reach, for any subset of units a process owns; and a spike shared by fewer teams than
its list is long still reaches all of them (the same spikes as the CPU engine)."""
import numpy as np
import pytest

from distsnn.backends.gpu import delivery_items
from distsnn.backends.gpu.delivery_items import procedural_items, stored_items, table_bytes, teams_per_spike
from distsnn.build import make_plan
from distsnn.build import plan as bp
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
    ptr, unit, proj = procedural_items(plan, units)
    assert ptr.size == len(plan.pop_names) + 1 and ptr[0] == 0 and unit.dtype == proj.dtype == np.int32
    assert table_bytes(plan, units) == ptr.nbytes + unit.nbytes + proj.nbytes   # what device_bytes counts
    for src, pairs in expect.items():
        got = list(zip(unit[ptr[src]:ptr[src + 1]].tolist(), proj[ptr[src]:ptr[src + 1]].tolist()))
        assert got == pairs                      # each pair once, ordered by unit then projection
    sptr, sunit = stored_items(plan, units)
    for src, pairs in expect.items():
        assert sunit[sptr[src]:sptr[src + 1]].tolist() == sorted({u for u, _ in pairs})
    longest = max(len(v) for v in expect.values())
    assert teams_per_spike(ptr) == max(1, min(longest, delivery_items.FAN_SPLIT))
    if owned == "none":
        assert ptr[-1] == 0 and teams_per_spike(ptr) == 1


def test_tables_of_a_population_that_sends_nothing_are_empty():
    plan = make_plan(mixed_network(), 1)
    ptr, _, _ = procedural_items(plan, plan.units)
    # every population of the mixed network sends; the tables have an entry per population
    assert (np.diff(ptr) > 0).all()
    net = mixed_network()
    net.add_population("silent", 10)
    plan = make_plan(net, 1)
    ptr, _, _ = procedural_items(plan, plan.units)
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
