"""Row counts of 16 bits where they fit (build.count_layout, DESIGN.md section 5): which
projections get which width, the cells of both widths equal to the reference's on the CPU
and the (emulated) device, the spikes the same whatever the width, and a projection whose
cells turn out not to fit widened and counted again."""
import numpy as np
import pytest

from distsnn.backends.cpu.simulator import compute_counts
from distsnn.backends.gpu.emulator import EmulatedDevice
from distsnn.backends.gpu.row_counts import device_counts
from distsnn.build import count_layout, make_plan
from distsnn.build import plan as bp
from distsnn.build.count_layout import cells_of, counted, held_cells, widen
from distsnn.connectivity import projection_counts, synapses
from distsnn.model import FixedIndegree, FixedOutdegree, FixedTotalNumber, Network
from distsnn.models import MODELS
from test_count_layout import _driven, _run


def _mixed():
    """Counted projections of both widths, in an order that needs a wide one aligned: onto b
    (chunks of 256, 256 and 88) fixed_total_number 3000 from a's 41 neurons (123 cells of 16
    bits) and fixed_indegree 300 (running sums up to 300 x 256: 32 bits); onto c (one chunk)
    fixed_outdegree 70000 (a row holds all 70000: 32 bits) and fixed_total_number 20001
    (cells near 500: 16)."""
    net = Network(dt=0.1, chunk_size=256)
    net.add_population("a", 41)
    net.add_population("b", 600)
    net.add_population("c", 20)
    net.connect("a", "b", FixedTotalNumber(3000), 5.0, 1.0)
    net.connect("c", "b", FixedIndegree(300), -1.0, 1.0)
    net.connect("a", "c", FixedOutdegree(70000), 0.1, 1.0, label="dense")
    net.connect("a", "c", FixedTotalNumber(20001), 5.0, 1.0)
    return net


@pytest.mark.parametrize("engine", ["cpu", "gpu-emu"])
def test_cells_are_16_bits_where_they_fit(engine):
    plan = make_plan(_mixed(), 3, bound_inputs=False)
    js = list(counted(plan))
    assert [plan.proj_i[j, bp.JI_COUNT_WIDE] for j in js] == [0, 1, 1, 0]   # b's, then c's
    # the wide projection after 123 cells of 16 bits starts at the next 4-byte boundary
    assert plan.proj_i[js[1], bp.JI_COUNT_OFF] == 62 and plan.proj_i[js[3], bp.JI_COUNT_OFF] == 2 * (62 + 63 + 41)
    bytes_ = 2 * 123 + 2 + 4 * (63 + 41) + 2 * 41   # and the last word's half left over
    assert plan.info["count_words"] == (bytes_ + 2) // 4 == 187
    if engine == "cpu":
        counts = compute_counts(plan)
    else:
        counts = device_counts(EmulatedDevice(block_threads=8), plan)
    for j in js:
        ref = projection_counts(plan, j)
        assert np.array_equal(cells_of(plan, counts, j), ref)
    assert cells_of(plan, counts, js[1])[-1].tolist() == [76800, 76800, 26400]   # 300 x the chunk
    assert (cells_of(plan, counts, js[2]) == 70000).all()          # rows of the whole outdegree
    assert "wide_counts" not in plan.info                            # none was widened


def test_the_models_counts_are_16_bits():
    """The full-scale microcircuit's cells are all 16 bits: half the bytes of 32-bit cells
    (the multi-area model's: test_multi_area)."""
    plan = make_plan(MODELS["microcircuit"](), 1, bound_inputs=False)
    assert not plan.proj_i[:, bp.JI_COUNT_WIDE].any()
    assert plan.info["count_words"] == (held_cells(plan) + 1) // 2 > 2_900_000


@pytest.mark.parametrize("engine,connectivity", [("cpu", "procedural"), ("cpu", "stored"),
                                                 ("gpu-emu", "procedural"), ("gpu-emu", "stored")])
def test_spikes_do_not_depend_on_the_cells_width(engine, connectivity):
    """The same network, its cells of 16 bits or all of 32: the same spikes, events, voltages
    and rings."""
    runs = []
    for wide in (False, True):
        plan = make_plan(_driven(), 4)
        if wide:
            widen(plan, counted(plan))
            assert plan.proj_i[counted(plan), bp.JI_COUNT_WIDE].all()
        else:
            assert not plan.proj_i[counted(plan), bp.JI_COUNT_WIDE].any()
        runs.append(_run(plan, np.ones(plan.units.shape[0], dtype=bool), engine, connectivity))
    assert runs[0][2][0] > 0 and runs[0][0].size > 0
    for a, b in zip(runs[0], runs[1]):
        assert np.array_equal(a, b)


def _crowded():
    """One neuron with 70000 synapses onto one chunk of 10: a cell of 70000, and a projection
    whose cells are small."""
    net = Network(dt=0.1, chunk_size=64)
    net.add_population("p", 1)
    net.add_population("q", 10)
    net.connect("p", "q", FixedTotalNumber(70000), 0.01, 1.0)
    net.connect("q", "q", FixedTotalNumber(50), 1.0, 1.0)
    return net


@pytest.mark.parametrize("engine", ["cpu", "gpu-emu", "synapses"])
def test_cells_that_do_not_fit_are_widened_and_counted_again(engine, monkeypatch):
    """cell_bound's tail bound is all but certain; where it fails (here: made to claim 16 bits
    for every projection), counting finds the cell over NARROW_MAX, widens that projection
    alone, and counts again."""
    monkeypatch.setattr(count_layout, "cell_bound", lambda plan, j: 0)
    if engine == "synapses":   # the public API, through the input bound's counting
        got = synapses(_crowded(), 2)
        assert got[0].n == 70000 and got[1].n == 50
        return
    plan = make_plan(_crowded(), 2, bound_inputs=False)
    j, k = counted(plan)
    assert plan.proj_i[j, bp.JI_POST_POP] == plan.proj_i[k, bp.JI_POST_POP] == 1
    assert not plan.proj_i[[j, k], bp.JI_COUNT_WIDE].any()
    if engine == "cpu":
        counts = compute_counts(plan)
    else:
        counts = device_counts(EmulatedDevice(block_threads=8), plan)
    assert plan.info["wide_counts"] == {j}
    assert plan.proj_i[j, bp.JI_COUNT_WIDE] == 1 and plan.proj_i[k, bp.JI_COUNT_WIDE] == 0
    assert cells_of(plan, counts, j).tolist() == [[70000]]
    assert np.array_equal(cells_of(plan, counts, k), projection_counts(plan, k))
    assert cells_of(plan, counts, k).sum() == 50
