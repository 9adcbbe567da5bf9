"""The partitioning package: strategies, cost report, exchange interval, determinism."""
import numpy as np
import pytest

from distsnn.build import make_plan
from distsnn.build.count_layout import held_cells, hold_counts
from distsnn.cli import main
from distsnn.model import FixedProbability, FixedTotalNumber, Network
from distsnn.models import microcircuit
from partitioning import partition_network, partition_pieces


@pytest.fixture(scope="module")
def mc_plan():
    return make_plan(microcircuit.build(1.0), 0)


def test_every_chunk_assigned_and_balanced(mc_plan):
    for ranks in (1, 2, 3, 4, 8, 16):
        part = partition_pieces(mc_plan, ranks, "auto")
        assert part.unit_rank.shape == (mc_plan.units.shape[0],)
        assert set(part.unit_rank) == set(range(ranks))
        assert sum(row["neurons"] for row in part.report()["per_rank"]) == 77169
        assert part.imbalance < 1.25, (ranks, part.imbalance)


def test_populations_strategy_keeps_populations_whole(mc_plan):
    part = partition_pieces(mc_plan, 3, "populations")
    for where in part.rank_of_population():
        assert len(where) == 1
    with pytest.raises(ValueError, match="9 ranks but only 8 populations"):
        partition_pieces(mc_plan, 9, "populations")


def test_split_cuts_on_chunk_boundaries(mc_plan):
    part = partition_pieces(mc_plan, 20, "split")
    assert len(part.pieces) >= 20
    for piece in part.pieces:
        assert piece.chunk0 < piece.chunk1
        n = min(piece.chunk1 * mc_plan.chunk_size, mc_plan.pop_i[piece.population, 2]) - piece.chunk0 * mc_plan.chunk_size
        assert piece.neurons == n


def test_partition_is_deterministic(mc_plan):
    a = partition_pieces(mc_plan, 5, "auto")
    b = partition_pieces(make_plan(microcircuit.build(1.0), 99), 5, "auto")
    assert np.array_equal(a.unit_rank, b.unit_rank)


def test_bad_rank_counts(mc_plan):
    with pytest.raises(ValueError, match=r"ranks must be an integer in \[1, 80\]"):
        partition_pieces(mc_plan, 0)
    with pytest.raises(ValueError, match=r"ranks must be an integer in \[1, 80\] \(the number of post chunks\), got 81: "
                                         r"a rank needs a chunk of neurons at least; use at most 80 ranks, or a "
                                         r"network with a smaller chunk_size$"):
        partition_pieces(mc_plan, 81)
    with pytest.raises(ValueError, match="strategy must be one of"):
        partition_pieces(mc_plan, 2, "random")


def test_exchange_interval_is_smallest_crossing_delay():
    net = Network(dt=0.1, chunk_size=64)
    for name in ("A", "B"):
        net.add_population(name, 256)
    net.connect("A", "A", FixedTotalNumber(1000), 1.0, 0.1)     # 1 step, inside a population
    net.connect("A", "B", FixedProbability(0.1), 1.0, 0.7)      # 7 steps
    net.connect("B", "A", FixedProbability(0.1), -1.0, 1.3)     # 13 steps
    assert partition_network(net, 2, "populations").exchange_interval() == 7
    assert partition_network(net, 4, "split").exchange_interval() == 1   # A split: A->A crosses
    assert partition_network(net, 1, "auto").exchange_interval() == 13   # nothing crosses: max delay


def test_traffic_report(mc_plan):
    rep = partition_pieces(mc_plan, 4, "auto").report()
    t = np.array(rep["traffic_spikes_per_s"])
    assert t.shape == (4, 4) and np.all(np.diag(t) == 0) and t.sum() > 0
    assert rep["imbalance"] >= 1.0


@pytest.mark.parametrize("strategy", ["populations", "split", "auto"])
def test_report_gives_each_ranks_row_counts(mc_plan, strategy):
    """The row counts a rank holds (its own chunks', count_layout): what hold_counts lays
    out for its units, and the model's cells once over the ranks (no rank of these
    partitions holds pieces of one population that are not adjacent)."""
    part = partition_pieces(mc_plan, 4, strategy)
    got = [row["count_bytes"] for row in part.report()["per_rank"]]
    assert max(got) < 4 * mc_plan.info["count_words"]
    cells = 0
    for r in range(4):
        plan = make_plan(mc_plan.network, 0, bound_inputs=False)
        hold_counts(plan, plan.units[part.unit_rank == r])
        assert got[r] == 4 * plan.info["count_words"] > 0
        cells += held_cells(plan)
    assert cells == held_cells(mc_plan)
    assert "counts MiB" in part.report_text()


def test_partition_command(capsys):
    assert main(["partition", "microcircuit", "--ranks", "4"]) == 0
    out = capsys.readouterr().out
    assert "onto 4 rank(s)" in out and "imbalance" in out and "expected spike traffic" in out
    assert main(["partition", "microcircuit", "--ranks", "100"]) == 2
    assert "ranks must be an integer in [1, 80]" in capsys.readouterr().err


def test_areas_strategy_keeps_areas_whole():
    net = Network(dt=0.1, chunk_size=64)
    areas = {}
    for a in ("V1", "V2", "MT"):
        for p in ("E", "I"):
            net.add_population(f"{a}_{p}", 200 if a == "V1" else 100)
            areas[f"{a}_{p}"] = a
        net.connect(f"{a}_E", f"{a}_I", FixedProbability(0.1), 1.0, 0.1)    # short delays inside areas
        net.connect(f"{a}_I", f"{a}_E", FixedProbability(0.1), -1.0, 0.1)
    net.connect("V1_E", "V2_E", FixedTotalNumber(1000), 1.0, 2.0)           # long delays between areas
    net.connect("V2_E", "MT_E", FixedTotalNumber(1000), 1.0, 2.5)
    net.metadata["areas"] = areas
    part = partition_network(net, 3, "areas")
    for a in ("V1", "V2", "MT"):
        assert len(part.rank_of_population()[list(areas).index(f"{a}_E")]
                   | part.rank_of_population()[list(areas).index(f"{a}_I")]) == 1
    assert part.exchange_interval() == 20          # only inter-area projections cross ranks
    with pytest.raises(ValueError, match="3 areas"):
        partition_network(net, 4, "areas")
    del net.metadata["areas"]
    with pytest.raises(ValueError, match="needs network.metadata"):
        partition_network(net, 2, "areas")


def test_costly_neuron_model_gets_fewer_neurons_per_rank():
    """aeif_cond_exp's solver costs ~13 iaf_psc_exp updates (partitioning.cost): 192 aeif
    neurons weigh as much as two populations of 1,280 iaf_psc_exp neurons together, so they get
    a rank of their own; by neuron counts alone they would join one of the others."""
    net = Network(dt=0.1, chunk_size=64)
    net.add_population("P", 64 * 20)
    net.add_population("A", 64 * 3, "aeif_cond_exp")
    net.add_population("Q", 64 * 20)
    part = partition_pieces(make_plan(net, 0, bound_inputs=False), 2, "populations")
    where = part.rank_of_population()
    assert where[0] == where[2] != where[1]
    cost = [row["cost_s"] for row in part.report()["per_rank"]]
    assert abs(cost[0] - cost[1]) / max(cost) < 0.1
