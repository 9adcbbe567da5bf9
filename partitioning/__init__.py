"""Map pieces of a network (populations, or chunk ranges of them) to MPI ranks.

Pure and deterministic: no MPI, no kernels. The partition changes speed, never results.

    from partitioning import partition_network
    part = partition_network(network, ranks=4, strategy="auto")
    print(part.report_text())
    part.unit_rank      # rank of every post chunk, in the BuildPlan's unit order
"""
from .cost import CostModel, Piece, population_pieces
from .strategies import STRATEGIES, Partition, partition_network, partition_pieces

__all__ = ["CostModel", "Piece", "population_pieces", "STRATEGIES", "Partition", "partition_network",
           "partition_pieces"]
