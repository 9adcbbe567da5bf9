"""A process holds the row counts of its own chunks only (build.count_layout): the cells it
holds are those of the whole model's table, on the CPU and on the (emulated) device, for
every counted rule; a process simulates its units the same in either layout; units outside
the layout are refused by name; checkpoints do not see the layout. Under MPI:
test_mpi.py::test_each_rank_holds_its_own_chunks_counts."""
import numpy as np
import pytest

from distsnn.backends.cpu.simulator import CpuSimulator, compute_counts
from distsnn.backends.cpu.sizes import state_bytes
from distsnn.backends.gpu.emulator import EmulatedDevice
from distsnn.backends.gpu.simulator import GpuSimulator
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.count_layout import cells_of, chunk_spans, hold_counts, require_counts_of
from distsnn.io.checkpoint import fingerprint
from test_fixed_point import _rules_network

# shares of the rules network's 6 units (a: chunks 0-2 of 40 neurons, units 0-2; b: chunks
# 0-2 of 37, the last of 5, units 3-5): b's middle chunk, its last two, its first and last
# (not adjacent: the span holds the middle one too), none of b
SHARES = {"middle": [4], "last two": [4, 5], "first and last": [3, 5], "no b": [0, 1]}


def _plan():
    return make_plan(_rules_network(), 4, bound_inputs=False)


def _cells(plan, counts, j):
    """Projection j's cells as a (rows, chunks held) array."""
    rows = int(plan.proj_i[j, bp.JI_PRE_SIZE]) + (plan.proj_i[j, bp.JI_RULE] == bp.RULE_FIN)
    return cells_of(plan, np.asarray(counts), j).reshape(rows, int(plan.proj_i[j, bp.JI_COUNT_COLS]))


def _cell_bytes(plan):
    """Bytes of the counted projections' cells in plan's layout: 2 or 4 a cell."""
    return sum((4 if plan.proj_i[j, bp.JI_COUNT_WIDE] else 2)
               * bp.count_cells(plan.proj_i[j, bp.JI_RULE], plan.proj_i[j, bp.JI_PRE_SIZE],
                                plan.proj_i[j, bp.JI_COUNT_COLS]) for j in _counted(plan))


def _counted(plan):
    return [j for j in range(plan.proj_i.shape[0]) if plan.proj_i[j, bp.JI_COUNT_OFF] >= 0]


@pytest.mark.parametrize("share", sorted(SHARES))
@pytest.mark.parametrize("engine", ["cpu", "gpu-emu"])
def test_held_cells_are_the_models_cells(share, engine):
    """fixed_total_number, fixed_outdegree and fixed_indegree (running sums): the columns of
    the span, and nothing else, in fewer cells."""
    whole = _plan()
    ref = compute_counts(whole)
    plan = _plan()
    units = plan.units[SHARES[share]]
    hold_counts(plan, units)
    if engine == "cpu":
        counts = compute_counts(plan)
    else:
        counts = GpuSimulator(plan, device=EmulatedDevice(block_threads=8))._counts()
    spans = chunk_spans(plan, units)
    kb = plan.pop_names.index("b")
    assert len(_counted(plan)) == 3
    for j in _counted(plan):
        col0, cols = spans[kb]
        assert (plan.proj_i[j, bp.JI_COUNT_COL0], plan.proj_i[j, bp.JI_COUNT_COLS]) == (col0, cols)
        held = _cells(plan, counts, j)
        assert held.shape[1] == cols and np.array_equal(held, _cells(whole, ref, j)[:, col0:col0 + cols])
    if share != "first and last":   # (its span is every chunk of b)
        assert plan.info["count_words"] < whole.info["count_words"]
    # the cells and no more than the padding of the wide projections' 4-byte alignment
    n_wide = int(plan.proj_i[_counted(plan), bp.JI_COUNT_WIDE].sum())
    assert 0 <= 4 * plan.info["count_words"] - _cell_bytes(plan) <= 2 * (n_wide + 1)
    if share == "no b":
        assert plan.info["count_words"] == 0
    assert state_bytes(plan, units)["counts"] == 4 * plan.info["count_words"]


def _driven():
    """The rules network with a Poisson drive onto both populations and their spikes recorded."""
    net = _rules_network()
    for name in ("a", "b"):
        net.add_poisson_input(name, indegree=500, rate=20.0, weight=80.0, delay=1.0)
        net.record_spikes(name)
    return net


def _run(plan, owned, engine, connectivity, steps=300):
    """(spike gids, steps, events, final V, rings) of `owned`'s units run alone (no exchange), on
    engine 'cpu', 'gpu-emu' or 'gpu'."""
    if engine == "cpu":
        sim = CpuSimulator(plan, connectivity, owned=owned)
    elif engine == "gpu":   # a real device (test_gpu_device.py)
        from distsnn.backends.gpu.device import CudaDevice
        sim = GpuSimulator(plan, connectivity, owned=owned, device=CudaDevice())
    else:
        sim = GpuSimulator(plan, connectivity, owned=owned, device=EmulatedDevice(block_threads=8))
    sim.build()
    gid, step = np.zeros(1 << 16, np.int64), np.zeros(1 << 16, np.int64)
    done = n = 0
    while done < steps:
        ran, n = sim.run(steps - done, gid, step, n, np.zeros((steps, 0)))[:2]
        done += ran
    state = sim.read_state(0, sim.n_local)
    return gid[:n].copy(), step[:n].copy(), np.array([sim.events]), state["v"], state["ring"]


@pytest.mark.parametrize("engine,connectivity", [("cpu", "procedural"), ("cpu", "stored"),
                                                 ("gpu-emu", "procedural"), ("gpu-emu", "stored")])
def test_a_process_simulates_the_same_in_either_layout(engine, connectivity):
    """The same units (a's, and b's last chunk), their own spikes only: the same
    spikes, events and voltages whether every chunk's counts are held or only the span's."""
    owned = np.zeros(6, dtype=bool)
    owned[[0, 1, 2, 5]] = True
    runs = []
    for held in (False, True):
        plan = make_plan(_driven(), 4)
        if held:
            hold_counts(plan, plan.units[owned])
            assert plan.proj_i[_counted(plan)[0], bp.JI_COUNT_COL0] == 2   # b's chunk 2 only
        runs.append(_run(plan, owned, engine, connectivity))
    assert runs[0][2][0] > 0 and np.isin(runs[0][0], np.arange(40)).any()   # a spiked onto b
    for a, b in zip(runs[0], runs[1]):
        assert np.array_equal(a, b)


def test_units_outside_the_layout_are_refused():
    owned = np.zeros(6, dtype=bool)
    owned[5] = True   # b's last chunk
    plan = make_plan(_rules_network(), 4)   # the width decided with every chunk's counts
    hold_counts(plan, plan.units[[4]])      # then b's middle chunk's only
    require_counts_of(plan, plan.units[[0, 1, 4]], "here")   # a: no counted projections onto it
    with pytest.raises(ValueError, match=r"here: the row counts held are those of chunks \[1, 2\) of "
                                         r"population 'b', not of its chunk 2"):
        require_counts_of(plan, plan.units[[4, 5]], "here")
    with pytest.raises(ValueError, match="the CPU engine: the row counts held"):
        CpuSimulator(plan, owned=owned).build()
    with pytest.raises(ValueError, match="the GPU engine: the row counts held"):
        GpuSimulator(plan, device=EmulatedDevice(), owned=owned).build()
    plan = _plan()
    hold_counts(plan, plan.units[[4]])
    with pytest.raises(ValueError, match="the input bound: the row counts held"):
        GpuSimulator(plan, device=EmulatedDevice(), owned=owned).bound_inputs()   # bounds every unit
    with pytest.raises(ValueError, match="the input bound: the row counts held"):
        CpuSimulator(plan, owned=owned).build()


def test_layout_is_not_part_of_the_models_fingerprint():
    """A checkpoint written by one partition restarts under another: the fingerprint is the
    whole layout's, whatever a process holds; counts already computed go with a change."""
    whole = make_plan(_rules_network(), 4)
    plan = make_plan(_rules_network(), 4)
    assert plan.counts is not None
    hold_counts(plan, plan.units)   # every chunk: the same layout, the counts stay
    assert plan.counts is not None
    hold_counts(plan, plan.units[[4]])
    assert plan.counts is None and not np.array_equal(plan.proj_i, whole.proj_i)
    assert fingerprint(plan) == fingerprint(whole)
