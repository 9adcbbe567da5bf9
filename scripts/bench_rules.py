"""What each connection rule costs: one recurrent population with the same expected in-degree
under every rule, simulated on the CPU engine, procedural and stored; wall time per synaptic
event of the simulate phase (neuron update included, the same for all rules), and the build.

The network: N neurons (iaf_psc_exp defaults), recurrent inhibition with K inputs per neuron
on average (weights Normal(w, |w|/10) pA, delays Normal(1.5, 0.5) ms), Poisson drive. Rules:
fixed_total_number (N K synapses), fixed_indegree (K each), fixed_outdegree (K each),
fixed_probability (K / N), and from_list: N K pairs drawn uniformly by NumPy, given as a
synapse list (FromList; held in memory and delivered alike in both modes, so it runs once).
Each rule runs once briefly first (numba's kernels load), then timed. Writes
bench/results/rules_<date>.{json,md}.

    python scripts/bench_rules.py                       # ~3 min on 2 cores
"""
import argparse
import datetime
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

import numba  # noqa: E402
import numpy as np  # noqa: E402

from distsnn.model import (FixedIndegree, FixedOutdegree, FixedProbability, FixedTotalNumber, FromList,  # noqa: E402
                           Network, Normal)
from distsnn.runtime import simulate  # noqa: E402

RULES = {"fixed_total_number": lambda n, k: FixedTotalNumber(n * k),
         "fixed_indegree": lambda n, k: FixedIndegree(k),
         "fixed_outdegree": lambda n, k: FixedOutdegree(k),
         "fixed_probability": lambda n, k: FixedProbability(k / n),
         "from_list": lambda n, k: FromList(*np.random.default_rng(1).integers(0, n, (2, n * k)))}
HELD = ("from_list",)   # the same in both connectivity modes: run once


def network(rule, n, k, weight):
    net = Network(dt=0.1)
    net.add_population("E", n, v_init=Normal(-60.0, 5.0))
    net.connect("E", "E", RULES[rule](n, k), Normal(weight, abs(weight) / 10), Normal(1.5, 0.5))
    net.add_poisson_input("E", indegree=1000, rate=8.0, weight=25.0, delay=1.5)
    net.record_spikes("E")
    return net


def measure(rule, args, connectivity):
    simulate(network(rule, args.n, args.k, args.weight), 5.0, seed=1, connectivity=connectivity, progress=False)
    t0 = time.perf_counter()
    res = simulate(network(rule, args.n, args.k, args.weight), args.t_sim, seed=1, connectivity=connectivity,
                   progress=False)
    wall = time.perf_counter() - t0
    sim = res.timers.seconds["simulate"]
    return {"rule": rule, "connectivity": connectivity, "synapses": float(res.n_synapses), "events": int(res.events),
            "rate_hz": float(res.mean_rates()["E"]), "build_s": res.timers.seconds.get("build", wall - sim),
            "simulate_s": sim, "ns_per_event": 1e9 * sim / max(res.events, 1)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000, help="neurons")
    ap.add_argument("--k", type=int, default=4000, help="mean in-degree")
    ap.add_argument("--weight", type=float, default=-2.5,
                    help="mean recurrent weight (pA; inhibitory by default: a stable state under the Poisson drive)")
    ap.add_argument("--t-sim", type=float, default=300.0, help="ms")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    args = ap.parse_args(argv)
    if args.threads:
        numba.set_num_threads(args.threads)
    rows = [measure(rule, args, c) for c in ("procedural", "stored") for rule in RULES
            if c == "procedural" or rule not in HELD]
    date = datetime.datetime.now(datetime.timezone.utc)
    host = f"{platform.platform()} ({os.cpu_count()} CPUs)"
    report = {"date": date.isoformat(timespec="seconds"), "host": host, "threads": numba.get_num_threads(),
              "config": {k: getattr(args, k) for k in ("n", "k", "weight", "t_sim")}, "runs": rows}
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"rules_{date:%Y-%m-%d}")
    with open(stem + ".json", "w") as fh:
        json.dump(report, fh, indent=1)
    lines = [f"# Cost of the connection rules (CPU, {report['threads']} threads)", "",
             f"{report['date']} on {host}. One population of {args.n} neurons, mean in-degree {args.k}, "
             f"{args.t_sim:g} ms; same seed, different rules.", "",
             "| rule | connectivity | synapses | rate (Hz) | events | build (s) | simulate (s) | ns per event |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['rule']} | {r['connectivity']} | {r['synapses']:.3g} | {r['rate_hz']:.2f} | "
                     f"{r['events']:.3g} | {r['build_s']:.2f} | {r['simulate_s']:.2f} | {r['ns_per_event']:.1f} |")
    lines += ["", "ns per event: simulate wall time / synaptic events (the neuron update, the same for every "
              "rule, included). fixed_probability rows cost one geometric skip (a log) per synapse more; "
              "fixed_indegree rows one permutation (a Feistel network, cycle walking) per synapse more. "
              "from_list: the synapses as a list, held (16 B each) and delivered as stored ones in either mode."]
    with open(stem + ".md", "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
