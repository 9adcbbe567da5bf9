"""Partition strategies.

populations  whole populations packed largest-first (LPT) onto the least loaded rank;
areas        whole groups of populations (network.metadata["areas"]: population -> area),
             packed largest-first: every projection inside an area stays on one rank;
split        populations cut at chunk boundaries (costliest first) until every rank has a
             piece, then packed;
auto         split, then keep splitting the costliest piece while max/mean cost improves.
"""
from dataclasses import dataclass

import numpy as np

from .cost import CostModel, expected_rates_hz, population_pieces

STRATEGIES = ("populations", "areas", "split", "auto")
AUTO_TOLERANCE = 1.10     # auto splits further until max/mean cost is below this


@dataclass
class Partition:
    ranks: int
    strategy: str
    pieces: list              # Piece
    piece_rank: list          # rank of each piece
    unit_rank: np.ndarray     # rank of every unit (post chunk) in BuildPlan order
    plan: object

    def rank_cost(self):
        cost = np.zeros(self.ranks)
        for piece, r in zip(self.pieces, self.piece_rank):
            cost[r] += piece.cost_s
        return cost

    @property
    def imbalance(self):
        cost = self.rank_cost()
        return float(cost.max() / cost.mean()) if cost.mean() > 0 else 1.0

    def rank_of_population(self):
        """For each population, the set of ranks holding some of its neurons."""
        out = [set() for _ in self.plan.pop_names]
        for piece, r in zip(self.pieces, self.piece_rank):
            out[piece.population].add(r)
        return out

    def exchange_interval(self):
        """Smallest delay (steps) of any projection (rule or synapse list) whose source and
        target meet on different ranks."""
        from distsnn.build import plan as bp
        where = self.rank_of_population()
        d = None
        for j in range(self.plan.proj_i.shape[0]):
            src, dst = where[self.plan.proj_i[j, bp.JI_PRE_POP]], where[self.plan.proj_i[j, bp.JI_POST_POP]]
            if not src or not dst or (len(src | dst) == 1):
                continue
            lo = int(self.plan.proj_min_delay[j])
            d = lo if d is None else min(d, lo)
        for sl in self.plan.lists:   # synapse lists (FromList)
            src, dst = where[sl.pre_pop], where[sl.post_pop]
            if sl.n and src and dst and len(src | dst) > 1:
                d = int(sl.delay.min()) if d is None else min(d, int(sl.delay.min()))
        return d if d is not None else self.plan.max_delay_steps

    def traffic_spikes_per_s(self):
        """Expected spikes per second that rank a must send to rank b (a != b)."""
        rates = expected_rates_hz(self.plan)
        m = np.zeros((self.ranks, self.ranks))
        for src_piece, a in zip(self.pieces, self.piece_rank):
            rate = rates[src_piece.name]
            targets = {b for piece, b in zip(self.pieces, self.piece_rank)
                       if src_piece.population in piece.sources and b != a}
            for b in targets:
                m[a, b] += src_piece.neurons * rate
        return m

    def count_bytes(self):
        """Bytes of the per-row synapse counts each rank holds, exactly: its own chunks'
        (distsnn.build.count_layout), 2 or 4 B per cell."""
        from distsnn.build.count_layout import count_columns
        return [4 * count_columns(self.plan, self.plan.units[self.unit_rank == r])[1] for r in range(self.ranks)]

    def report(self):
        rows = []
        counts = self.count_bytes()
        for r in range(self.ranks):
            mine = [p for p, rr in zip(self.pieces, self.piece_rank) if rr == r]
            rows.append({"rank": r, "neurons": sum(p.neurons for p in mine),
                         "synapses": sum(p.synapses for p in mine),
                         "events_per_s": sum(p.events_per_s for p in mine),
                         "bytes": sum(p.bytes for p in mine), "count_bytes": counts[r],
                         "cost_s": sum(p.cost_s for p in mine),
                         "pieces": [f"{p.name}[{p.chunk0}:{p.chunk1}]" for p in mine]})
        return {"ranks": self.ranks, "strategy": self.strategy, "imbalance": self.imbalance,
                "exchange_interval_steps": self.exchange_interval(), "per_rank": rows,
                "traffic_spikes_per_s": self.traffic_spikes_per_s().tolist()}

    def report_text(self):
        rep = self.report()
        lines = [f"partition of {self.plan.network.name!r} onto {self.ranks} rank(s), strategy {self.strategy}: "
                 f"imbalance (max/mean cost) {rep['imbalance']:.3f}, exchange every "
                 f"{rep['exchange_interval_steps']} step(s)",
                 f"{'rank':>4} {'neurons':>9} {'synapses':>11} {'events/s':>11} {'MiB':>8} {'counts MiB':>10} "
                 f"{'cost s/s':>9}  pieces"]
        for row in rep["per_rank"]:
            lines.append(f"{row['rank']:>4} {row['neurons']:>9} {row['synapses']:>11.4g} {row['events_per_s']:>11.4g} "
                         f"{row['bytes'] / 2 ** 20:>8.1f} {row['count_bytes'] / 2 ** 20:>10.1f} {row['cost_s']:>9.3f}  "
                         f"{' '.join(row['pieces'])}")
        lines.append("MiB: the cost model's neuron state, input buffers and row counts;")
        lines.append("counts MiB: the row counts the rank holds (its own chunks'), exactly")
        t = np.array(rep["traffic_spikes_per_s"])
        if self.ranks > 1:
            lines.append("expected spike traffic (spikes/s sent, row = from rank, column = to rank; 8 B each):")
            for a in range(self.ranks):
                lines.append(f"{a:>4} " + " ".join(f"{x:>10.4g}" for x in t[a]))
        return "\n".join(lines)


def _pack_largest_first(pieces, ranks):
    """Greedy LPT: pieces by decreasing cost onto the least loaded rank (ties: lowest index)."""
    order = sorted(range(len(pieces)), key=lambda i: (-pieces[i].cost_s, i))
    load = [0.0] * ranks
    rank = [0] * len(pieces)
    for i in order:
        r = min(range(ranks), key=lambda k: (load[k], k))
        rank[i] = r
        load[r] += pieces[i].cost_s
    return rank


def _split_largest(pieces, plan):
    """Split the costliest piece that has at least two chunks; False if none can be split."""
    from distsnn.build import plan as bp
    cands = [i for i, p in enumerate(pieces) if p.chunk1 - p.chunk0 >= 2]
    if not cands:
        return False
    i = max(cands, key=lambda k: (pieces[k].cost_s, -k))
    p = pieces[i]
    pieces[i:i + 1] = p.split(plan.chunk_size, int(plan.pop_i[p.population, bp.PI_SIZE]))
    return True


def _pack_areas(pieces, areas, ranks):
    """LPT over whole areas; each population piece gets its area's rank."""
    names = sorted({areas[p.name] for p in pieces})
    cost = {a: sum(p.cost_s for p in pieces if areas[p.name] == a) for a in names}
    order = sorted(range(len(names)), key=lambda i: (-cost[names[i]], i))
    load = [0.0] * ranks
    area_rank = {}
    for i in order:
        r = min(range(ranks), key=lambda k: (load[k], k))
        area_rank[names[i]] = r
        load[r] += cost[names[i]]
    return [area_rank[areas[p.name]] for p in pieces]


def check_strategy(strategy):
    """A ValueError unless `strategy` is one of STRATEGIES."""
    if strategy not in STRATEGIES:
        raise ValueError(f"partition strategy must be one of {STRATEGIES}, got {strategy!r}")


def partition_pieces(plan, ranks, strategy="auto", model=CostModel()):
    check_strategy(strategy)
    n_units = plan.units.shape[0]
    if isinstance(ranks, bool) or not isinstance(ranks, int) or not 1 <= ranks <= max(n_units, 1):
        raise ValueError(f"ranks must be an integer in [1, {n_units}] (the number of post chunks), got {ranks!r}"
                         + (f": a rank needs a chunk of neurons at least; use at most {n_units} ranks, or a network "
                            "with a smaller chunk_size" if isinstance(ranks, int) and ranks > n_units else ""))
    pieces = [p for p in population_pieces(plan, model) if p.neurons > 0]
    if strategy == "populations" and ranks > len(pieces):
        raise ValueError(f"strategy 'populations': {ranks} ranks but only {len(pieces)} populations; "
                         "use 'split' or 'auto'")
    if strategy == "areas":
        areas = plan.network.metadata.get("areas")
        if not areas or any(p.name not in areas for p in pieces):
            raise ValueError("strategy 'areas' needs network.metadata['areas'] mapping every population to its area")
        if ranks > len(set(areas[p.name] for p in pieces)):
            raise ValueError(f"strategy 'areas': {ranks} ranks but only {len(set(areas.values()))} areas; "
                             "use 'split' or 'auto'")
    if strategy in ("split", "auto"):
        while len(pieces) < ranks and _split_largest(pieces, plan):
            pass
    piece_rank = _pack_areas(pieces, areas, ranks) if strategy == "areas" else _pack_largest_first(pieces, ranks)
    if strategy == "auto":
        # split the costliest piece again and again (up to 8 pieces per rank), keep the best balance
        best = (Partition(ranks, strategy, pieces, piece_rank, None, plan).imbalance, list(pieces), piece_rank)
        trial = list(pieces)
        while best[0] > AUTO_TOLERANCE and len(trial) < 8 * ranks and _split_largest(trial, plan):
            trial_rank = _pack_largest_first(trial, ranks)
            imb = Partition(ranks, strategy, trial, trial_rank, None, plan).imbalance
            if imb < best[0]:
                best = (imb, list(trial), trial_rank)
        _, pieces, piece_rank = best
    unit_rank = np.empty(n_units, dtype=np.int64)
    from distsnn.build import plan as bp
    for piece, r in zip(pieces, piece_rank):
        sel = ((plan.units[:, bp.UI_POP] == piece.population) & (plan.units[:, bp.UI_CHUNK] >= piece.chunk0)
               & (plan.units[:, bp.UI_CHUNK] < piece.chunk1))
        unit_rank[sel] = r
    return Partition(ranks, strategy, pieces, piece_rank, unit_rank, plan)


def partition_network(network, ranks, strategy="auto", model=CostModel()):
    """Partition a Network (validated and flattened with seed 0: the partition needs no randomness)."""
    from distsnn.build import make_plan
    # bound_inputs=False: the partition needs sizes, not the fixed-point scales
    return partition_pieces(make_plan(network, 0, bound_inputs=False), ranks, strategy, model)
