"""Spikes grouped by population in one stable sort (io.spike_groups): each population's
spikes, in their order, as a mask per population selects them."""
import numpy as np

from distsnn.build.plan import make_plan
from distsnn.io.spike_groups import by_population, population_groups
from distsnn.model import Network
from distsnn.runtime.run import simulate


def _plan():
    net = Network(dt=0.1)
    for name, size in (("A", 50), ("silent", 7), ("B", 300), ("C", 1)):
        net.add_population(name, size)
    return make_plan(net, 1, bound_inputs=False)


def test_groups_equal_a_mask_per_population_in_time_order():
    plan = _plan()
    rng = np.random.default_rng(3)
    gids = np.concatenate([rng.integers(0, 50, 400), rng.integers(57, 357, 900), [357, 357]])
    steps = rng.integers(0, 1000, gids.size)
    order = np.lexsort((gids, steps))
    gids, steps = gids[order], steps[order]
    got = by_population(plan, gids, steps)
    assert list(got) == plan.pop_names
    for name in plan.pop_names:
        sl = plan.pop_slice(name)
        sel = (gids >= sl.start) & (gids < sl.stop)
        ids, times = got[name]
        assert ids.dtype == np.int64 and times.dtype == np.float64
        assert np.array_equal(ids, gids[sel] - sl.start)
        assert np.array_equal(times, (steps[sel] + 1) * plan.dt)
        assert np.all(np.diff(times) >= 0)
    assert got["silent"][0].size == 0 and got["C"][0].size == 2
    order, bounds = population_groups(plan, gids)
    assert bounds[-1] == gids.size and np.array_equal(np.sort(order), np.arange(gids.size))


def test_no_spikes():
    got = by_population(_plan(), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert all(ids.size == 0 and times.size == 0 for ids, times in got.values())


def test_run_result_groups_once_and_again_for_new_arrays():
    net = Network(dt=0.1)
    net.add_population("E", 20, params={"I_e": 500.0})
    net.add_population("I", 10, params={"I_e": 450.0})
    net.record_spikes("E")
    net.record_spikes("I")
    res = simulate(net, 50.0, backend="cpu", progress=False)
    ids, times = res.spikes("I")
    sl = res.plan.pop_slice("I")
    sel = (res.spike_gids >= sl.start) & (res.spike_gids < sl.stop)
    assert ids.size > 0 and np.array_equal(ids, res.spike_gids[sel] - sl.start)
    assert np.array_equal(times, (res.spike_steps[sel] + 1) * 0.1)
    rates = res.mean_rates()
    assert rates["E"] > 0 and rates["I"] > 0
    res.spike_gids, res.spike_steps = res.spike_gids[:3], res.spike_steps[:3]   # replaced: grouped anew
    assert sum(res.spikes(n)[0].size for n in ("E", "I")) == 3
