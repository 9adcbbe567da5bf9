"""Benchmark and validation: the Izhikevich (2003) network in distsnn and NEST, side by side.

distsnn (procedural, and stored for its first seed) and NEST 3.10 run the network of
distsnn.models.izhikevich (NEST reads distsnn's description) on the same machine with the
same threads, each in a fresh process, over several seeds. Both integrate the izhikevich
neuron by forward Euler in the same order of operations (one neuron's trace is NEST's bit for
bit: tests/test_izhikevich.py). The activity is compared by the per-neuron distributions of
rate, CV and correlation (D_KL against NEST's first seed; NEST's own seeds give the floor).
Writes JSON and Markdown to bench/results/. Usage:

    python scripts/bench_izhikevich.py --scale 1 --t-sim 1000 --threads 2 --seeds 2 \\
        --nest-python /path/to/venv-with-nest/bin/python [--cells published]

--cells published gives each cell its own a, b, c, d as the paper draws them (the model's
option); NEST gets the same values per neuron.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_adex import run_against_nest, run_worker, runs_lines  # noqa: E402  (as the AdEx benchmark's)
from bench_brunel import parse_side_by_side, side_by_side_parser  # noqa: E402


def worker(args):
    """Run distsnn once in this process, write the spikes to args.spikes, print one JSON line."""
    from distsnn.models import izhikevich
    run_worker(args, lambda: izhikevich.build(args.scale, cells=args.cells))


def nest_spec(scale, t_sim, cells="central"):
    """distsnn's Izhikevich network as the JSON spec of scripts/peers/nest_izhikevich_network.py;
    a parameter given per neuron (cells='published') is a list, one value per neuron."""
    sys.path.insert(0, ROOT)
    from distsnn.models import izhikevich
    net = izhikevich.build(scale, cells=cells)
    keys = ("a", "b", "c", "d", "I_e", "V_th", "V_min", "U_m", "consistent_integration")
    noise = {z.target: z for z in net.noise_inputs}

    def value(pop, key):
        given = (pop.per_neuron or {}).get(key)
        return pop.params[key] if given is None else given.values.tolist()

    pops = {name: {"size": p.size, "params": {k: value(p, k) for k in keys}, "noise_std": noise[name].std}
            for name, p in net.populations.items()}
    # delta synapses: the weight as it acts on V, negative for inhibition, in both simulators
    projections = [{"source": pr.source, "target": pr.target, "indegree": pr.rule.n, "delay": pr.delay.value,
                    "weight_mean": pr.weight.mean, "weight_sd": pr.weight.sd} for pr in net.projections]
    return {"dt": net.dt, "t_sim": t_sim, "populations": pops, "projections": projections,
            "noise_dt": izhikevich.NOISE_DT, "n_neurons": sum(p.size for p in net.populations.values())}


def main():
    ap = side_by_side_parser(__doc__)
    ap.add_argument("--backend", default="cpu", choices=("cpu", "gpu", "gpu-emu"), help="distsnn's backend")
    ap.add_argument("--cells", default="central", choices=("central", "published"), help="the model's cells option")
    args = parse_side_by_side(ap)
    if args.worker:
        return worker(args)

    suffix = "" if args.backend == "cpu" else f"_{args.backend}"
    suffix += "" if args.cells == "central" else f"_{args.cells}"
    run_against_nest(args, os.path.abspath(__file__), ["--cells", args.cells], {"cells": args.cells},
                     nest_spec(args.scale, args.t_sim, args.cells), "nest_izhikevich_network.py",
                     f"izhikevich_scale{args.scale:g}{suffix}", report)


def report(r):
    cells = r.get("cells", "central")
    lines = [f"# Izhikevich (2003) network ({r['n_neurons']} neurons, scale {r['scale']:g}, {r['t_sim_ms']:g} ms, "
             f"{r['threads']} threads, {cells} cells)", ""] + runs_lines(r)
    lines += ["", "Notes:", "",
              "- Same network in both: NEST reads distsnn's description (sizes, cell parameters, in-degrees, "
              "weight distributions, delay, noise). The thalamic input is a noise_generator per population in "
              "NEST (an independent current per target, redrawn every 1 ms) and per-neuron counter-based "
              "streams in distsnn; NEST delivers a generator's current one step (its delay) later. Each draws "
              "its own connectivity, so runs agree in distribution, not spike for spike.",
              "- Both integrate the izhikevich neuron by forward Euler in the same order of operations.",
              "- Cells: 'central', one parameter set per class; 'published', each cell its own a, b, c, d as "
              "Izhikevich (2003) draws them, the same values per neuron in both simulators.",
              "- ns per neuron update: simulate time / (neurons x steps), delivery included.",
              "- Each run is a fresh process (its own peak RSS)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
