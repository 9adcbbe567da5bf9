"""Benchmark and validation: the Brunel (2000) network in distsnn, NEST and Brian2, side by side.

distsnn (procedural and stored), NEST and Brian2 run the same network (the peers read
distsnn's model description) on the same machine with the same threads (Brian2's runtime
code runs on one), each in a fresh process, over several seeds. The activity is compared
per population by the per-neuron distributions of rate, CV of ISIs and correlation (D_KL
against NEST's first seed, distsnn.analysis.compare); D_KL between NEST's own seeds is the
floor that seed-to-seed variation alone gives. Writes JSON and Markdown to bench/results/.
Usage:

    python scripts/bench_brunel.py --scale 1 --t-sim 1000 --threads 2 --seeds 16 \
        --nest-python /path/to/venv-with-nest/bin/python --brian2-python /path/to/venv-with-brian2/bin/python

--delay-spread W (ms) spreads the recurrent delays uniformly over 1.5 ms -/+ W/2 in every
simulator (distsnn's Uniform, NEST's nest.random.uniform, NumPy's uniform draws for Brian2),
each rounded to steps as NEST rounds them. --weight-sigma S draws the recurrent weights from
LogNormals of means J and -g J whose logarithms have sd S (distsnn's LogNormal, NEST's
nest.random.lognormal, NumPy's lognormal for Brian2). --delay-beta B (ms) draws the recurrent
delays as 1.5 ms - B + an exponential of mean B, and --weight-exponential the recurrent
weights from Exponentials of means J and -g J (distsnn's Exponential, NEST's
nest.random.exponential, NumPy's exponential for Brian2).
"""
import argparse
import datetime
import json
import os
import resource
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_microcircuit import machine_info, run_json, write_results  # noqa: E402  (a fresh process per run; JSON + Markdown)
MEASURES = ("rate", "cv", "corr")


def worker(args):
    """Run distsnn once in this process, write the spikes to args.spikes, print one JSON line."""
    import numba
    numba.set_num_threads(args.threads)
    from distsnn.io import write_spikes
    from distsnn.models import brunel
    from distsnn.runtime import simulate
    net = brunel.build(args.scale, g=args.g, eta=args.eta, delay_spread=args.delay_spread,
                       weight_sigma=args.weight_sigma, delay_beta=args.delay_beta,
                       weight_exponential=args.weight_exponential)
    res = simulate(net, args.t_sim, seed=args.seed, connectivity=args.mode, progress=False)
    write_spikes(args.spikes, res)
    print(json.dumps({
        "simulator": "distsnn", "mode": args.mode, "seed": args.seed, "threads": args.threads,
        "build_s": res.timers.seconds["build"], "simulate_s": res.timers.seconds["simulate"],
        "events": res.events, "n_synapses": res.n_synapses, "n_spikes": int(res.spike_gids.size),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def nest_spec(scale, t_sim, g, eta, delay_spread=0.0, weight_sigma=0.0, delay_beta=0.0, weight_exponential=False):
    """distsnn's Brunel network as the JSON spec of scripts/peers/nest_brunel.py (and
    brian2_brunel.py): "delay_low" and "delay_high" (ms) the recurrent delays' interval, both
    "delay" where they are not spread; "delay_beta" (ms) the mean of the exponential added to
    "delay_low" where the delays are exponential (0 where not); "weight_sigma" the sd of the
    recurrent weights' logarithm (0: constant weights), "mu_e" and "mu_i" the mean of the
    logarithm of J and of g J; "weight_exponential" whether the recurrent weights are
    exponential of means J and -g J."""
    sys.path.insert(0, ROOT)
    from distsnn.models import brunel
    net = brunel.build(scale, g=g, eta=eta, delay_spread=delay_spread, weight_sigma=weight_sigma,
                       delay_beta=delay_beta, weight_exponential=weight_exponential)
    mu = {"mu_" + p.source.lower(): p.weight.mu for p in net.projections if hasattr(p.weight, "mu")}
    e = net.populations["E"]
    d = net.projections[0].delay
    if hasattr(d, "beta"):   # an Exponential: low + beta x, unbounded above
        low, high = d.low, d.low
    else:
        low, high = (d.low, d.high) if hasattr(d, "high") else (d.value, d.value)
    return {"dt": net.dt, "t_sim": t_sim, "sizes": {n: p.size for n, p in net.populations.items()},
            "params": dict(brunel.PARAMS), "v0_low": e.v_init.low, "v0_high": e.v_init.high,
            "c_e": brunel.C_E, "c_i": brunel.C_I, "j": brunel.J, "g": g, "delay": brunel.DELAY,
            "delay_low": low, "delay_high": high, "nu_ext": eta * brunel.threshold_rate(),
            "weight_sigma": weight_sigma, "delay_beta": delay_beta, "weight_exponential": weight_exponential, **mu}


def side_by_side_parser(doc):
    """The options every side-by-side benchmark takes (and the hidden ones of its worker)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--t-sim", type=float, default=1000.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--analysis-from", type=float, default=200.0, help="ms; the start of the window analysed")
    ap.add_argument("--seeds", type=int, default=2, help="seeds per simulator (at least 2: the floor)")
    ap.add_argument("--nest-python", default=None, help="Python with nest-simulator installed")
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="procedural", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--spikes", default=None, help=argparse.SUPPRESS)
    return ap


def parse_side_by_side(ap):
    """Parse, and check the analysis window and the seeds (not for a worker's run)."""
    args = ap.parse_args()
    if not args.worker:
        if not 0 <= args.analysis_from < args.t_sim:
            ap.error(f"--analysis-from must be in [0, --t-sim), got {args.analysis_from}")
        if args.seeds < 2:
            ap.error(f"--seeds must be at least 2, got {args.seeds}")
    return args


def run_distsnn_seeds(me, tmp, seeds, results, files):
    """distsnn's runs of a side-by-side benchmark (me: the worker command): first the numba
    cache of both modes' kernels is warmed, so that compile time does not count as build time;
    then procedural and stored for the first seed, procedural for the others. Each run's JSON
    goes to results["runs"], the procedural spike files to files["distsnn seed N"], and
    whether stored equals procedural to results["stored_equals_procedural"]."""
    for mode in ("procedural", "stored"):
        run_json(me + ["--t-sim", "1", "--scale", "0.01", "--mode", mode, "--spikes", os.path.join(tmp, "warm.h5")])
    for mode, seed in [("procedural", seeds[0]), ("stored", seeds[0])] + [("procedural", s) for s in seeds[1:]]:
        path = os.path.join(tmp, f"distsnn_{mode}_{seed}.h5")
        run = run_json(me + ["--mode", mode, "--seed", str(seed), "--spikes", path])
        results["runs"].append(run)
        if "error" not in run and mode == "procedural":
            files[f"distsnn seed {seed}"] = path
    stored = os.path.join(tmp, f"distsnn_stored_{seeds[0]}.h5")
    if os.path.exists(stored) and f"distsnn seed {seeds[0]}" in files:
        results["stored_equals_procedural"] = same_spikes(stored, files[f"distsnn seed {seeds[0]}"])


def run_peer_seeds(name, cmd, tmp, threads, seeds, results, files):
    """A peer simulator's runs (cmd: its Python, script and spec file; the script takes the
    spike file, threads and seed after them), one per seed, into results and files as
    run_distsnn_seeds does."""
    for seed in seeds:
        path = os.path.join(tmp, f"{name}_{seed}.h5")
        run = run_json(cmd + [path, str(threads), str(seed)])
        results["runs"].append(run)
        if "error" not in run:
            files[f"{name} seed {seed}"] = path


def same_spikes(a, b):
    """True if two spike files hold the same spikes (population by population)."""
    import h5py
    import numpy as np
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        if set(fa["spikes"]) != set(fb["spikes"]):
            return False
        return all(np.array_equal(fa["spikes"][p][k][()], fb["spikes"][p][k][()])
                   for p in fa["spikes"] for k in ("timestamps", "node_ids"))


def analyse(files, t_start, t_stop):
    """Per-population summaries of every run, the mean rate's mean and sd over each
    simulator's seeds, and D_KL(NEST seed 1 || run) per measure."""
    import numpy as np
    sys.path.insert(0, ROOT)
    from distsnn.analysis.compare import kl_divergence
    from distsnn.analysis.statistics import analyze_file
    stats = {label: analyze_file(path, t_start=t_start, t_stop=t_stop) for label, path in files.items()}
    values = lambda s, m: {"rate": s.rates, "cv": s.cv, "corr": s.corr_per_neuron}[m]   # noqa: E731
    out = {"summary": {label: {p: s.summary() for p, s in st.items()} for label, st in stats.items()}, "kl": {},
           "rate_over_seeds": {}}
    for sim in ("distsnn", "NEST", "Brian2"):
        runs = [st for label, st in stats.items() if label.startswith(sim + " ")]
        if runs:
            out["rate_over_seeds"][sim] = {p: {"mean": float(np.mean([st[p].rates.mean() for st in runs])),
                                               "sd": float(np.std([st[p].rates.mean() for st in runs], ddof=1))
                                               if len(runs) > 1 else float("nan"), "n": len(runs)}
                                           for p in runs[0]}
    ref = stats.get("NEST seed 1")
    if ref is not None:
        for label, st in stats.items():
            if label == "NEST seed 1":
                continue
            out["kl"][label] = {p: {m: kl_divergence(values(ref[p], m), values(st[p], m)) for m in MEASURES}
                                for p in ref}
    return out


def main():
    ap = side_by_side_parser(__doc__)
    ap.add_argument("--g", type=float, default=5.0)
    ap.add_argument("--eta", type=float, default=2.0)
    ap.add_argument("--delay-spread", type=float, default=0.0,
                    help="ms; recurrent delays uniform over 1.5 ms -/+ half of it (default 0: all 1.5 ms)")
    ap.add_argument("--weight-sigma", type=float, default=0.0,
                    help="sd of the recurrent weights' logarithm: LogNormal weights (default 0: constant)")
    ap.add_argument("--delay-beta", type=float, default=0.0,
                    help="ms; recurrent delays 1.5 ms - beta + an exponential of mean beta (default 0: all 1.5 ms)")
    ap.add_argument("--weight-exponential", action="store_true",
                    help="recurrent weights Exponential of means J and -g J (default: constant)")
    ap.add_argument("--brian2-python", default=None, help="Python with brian2 installed")
    args = parse_side_by_side(ap)
    if args.worker:
        return worker(args)

    tmp = tempfile.mkdtemp(prefix="bench_brunel_")
    common = ["--scale", str(args.scale), "--t-sim", str(args.t_sim), "--threads", str(args.threads),
              "--g", str(args.g), "--eta", str(args.eta), "--delay-spread", str(args.delay_spread),
              "--weight-sigma", str(args.weight_sigma), "--delay-beta", str(args.delay_beta)] \
        + (["--weight-exponential"] if args.weight_exponential else [])
    me = [sys.executable, os.path.abspath(__file__), "--worker"] + common
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine_info(),
               "scale": args.scale, "t_sim_ms": args.t_sim, "g": args.g, "eta": args.eta,
               "delay_spread_ms": args.delay_spread, "weight_sigma": args.weight_sigma,
               "delay_beta_ms": args.delay_beta, "weight_exponential": args.weight_exponential, "threads": args.threads,
               "analysis_from_ms": args.analysis_from, "runs": []}
    files = {}
    seeds = range(1, args.seeds + 1)
    run_distsnn_seeds(me, tmp, seeds, results, files)
    spec = os.path.join(tmp, "spec.json")
    with open(spec, "w") as fh:
        json.dump(nest_spec(args.scale, args.t_sim, args.g, args.eta, args.delay_spread, args.weight_sigma,
                            args.delay_beta, args.weight_exponential), fh)
    for name, python, script in (("NEST", args.nest_python, "nest_brunel.py"),
                                 ("Brian2", args.brian2_python, "brian2_brunel.py")):
        if not python:
            continue
        if name == "Brian2":   # its first run compiles the generated code (cached afterwards)
            run_json([python, os.path.join(HERE, "peers", script), spec, os.path.join(tmp, "warm.h5"), "1", "0"])
        run_peer_seeds(name, [python, os.path.join(HERE, "peers", script), spec], tmp, args.threads, seeds, results,
                       files)
    results["analysis"] = analyse(files, args.analysis_from, args.t_sim)
    shutil.rmtree(tmp, ignore_errors=True)
    spread = f"_spread{args.delay_spread:g}" if args.delay_spread else ""
    spread += f"_wsigma{args.weight_sigma:g}" if args.weight_sigma else ""
    spread += f"_dbeta{args.delay_beta:g}" if args.delay_beta else ""
    spread += "_wexp" if args.weight_exponential else ""
    write_results(args.out_dir, f"brunel_g{args.g:g}_eta{args.eta:g}{spread}_scale{args.scale:g}", results, report)


def _f(x, digits=3):
    return "n/a" if x is None or x != x else f"{x:.{digits}g}"


def activity_lines(r, pops=("E", "I")):
    """The Markdown tables of r["analysis"] (analyse): per-run activity, rates over seeds and
    D_KL against NEST's first seed (shared with bench_adex.py)."""
    a = r["analysis"]
    lines = ["", f"Activity from {r['analysis_from_ms']:g} ms to the end, per run: mean rate (Hz) / mean CV of "
              "ISIs / mean correlation (1 ms bins, 200 neurons)", "",
              "| run | " + " | ".join(pops) + " |", "| --- |" + " ---: |" * len(pops)]
    for label, summ in a["summary"].items():
        cells = ["n/a" if summ.get(p) is None else f"{_f(summ[p]['mean_rate_hz'])} / {_f(summ[p]['mean_cv'])} / "
                 f"{_f(summ[p]['mean_corr'], 2)}" for p in pops]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if a.get("rate_over_seeds"):
        lines += ["", "Mean rate (Hz) over seeds: mean ± sd of the runs' population means", "",
                  "| simulator | seeds | " + " | ".join(pops) + " |", "| --- | ---: |" + " ---: |" * len(pops)]
        for sim, per in a["rate_over_seeds"].items():
            n = next(iter(per.values()))["n"]
            lines.append(f"| {sim} | {n} | " + " | ".join(f"{per[p]['mean']:.2f} ± {per[p]['sd']:.2f}" for p in pops)
                         + " |")
    if a["kl"]:
        cols = [(m, p) for m in MEASURES for p in pops]
        lines += ["", "D_KL(NEST seed 1 || run) of the per-neuron distributions; the NEST rows are the floor "
                  "that a different seed alone gives.", "",
                  "| run | " + " | ".join(f"{m} {p}" for m, p in cols) + " |", "| --- |" + " ---: |" * len(cols)]
        for label, kl in a["kl"].items():
            lines.append(f"| {label} | " + " | ".join(_f(kl[p][m]) for m, p in cols) + " |")
    return lines


def report(r):
    bio = r["t_sim_ms"] * 1e-3
    spread, sigma = r.get("delay_spread_ms", 0.0), r.get("weight_sigma", 0.0)
    delays = f", recurrent delays uniform over 1.5 ± {spread / 2:g} ms" if spread else ""
    delays += f", recurrent weights lognormal (sd of log {sigma:g})" if sigma else ""
    beta = r.get("delay_beta_ms", 0.0)
    delays += f", recurrent delays {1.5 - beta:g} ms + exponential of mean {beta:g} ms" if beta else ""
    delays += ", recurrent weights exponential" if r.get("weight_exponential") else ""
    lines = [f"# Brunel network (g {r['g']:g}, eta {r['eta']:g}{delays}, scale {r['scale']:g}, "
             f"{r['t_sim_ms']:g} ms, {r['threads']} threads)", "",
             f"{r['date']} on {r['machine']['platform']} ({r['machine']['cpus']} CPUs).", "",
             "| simulator | seed | build (s) | simulate (s) | real-time factor | synapses | spikes | peak RSS (MB) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for run in r["runs"]:
        if "error" in run:
            lines.append(f"| {run.get('simulator', '?')} | | error: {run['error']} | | | | | |")
            continue
        name = run["simulator"] + (f" ({run['mode']})" if "mode" in run else "")
        lines.append(f"| {name} | {run['seed']} | {run['build_s']:.2f} | {run['simulate_s']:.2f} | "
                     f"{run['simulate_s'] / bio:.2f} | {run.get('n_synapses', 0):.4g} | {run['n_spikes']} | "
                     f"{run['peak_rss_mb']:.0f} |")
    if "stored_equals_procedural" in r:
        lines += ["", f"distsnn stored and procedural, seed 1: identical spikes: {r['stored_equals_procedural']}."]
    lines += activity_lines(r)
    lines += ["", "Notes:", "",
              "- Same network in every simulator: NEST and Brian2 read distsnn's description (sizes, "
              "parameters, in-degrees, weights, delay, external rate, initial V uniform in [0, theta)), "
              "and all three drop input that arrives during the refractory period. The implementations "
              "differ: NEST's external drive is one poisson_generator (independent trains per target), "
              "Brian2's a PoissonInput (a binomial count per neuron and step), distsnn's per-neuron "
              "counter-based streams; each draws its own connectivity, so runs agree in distribution, "
              "not spike for spike.",
              "- Build: distsnn = plan + counts (+ CSR in stored mode) + state, numba kernels loaded from the "
              "on-disk cache; NEST = Create + Connect + Prepare; Brian2 = objects, connect and a 0 ms run "
              "(its generated code compiled once before, in a warm-up run not shown).",
              "- Brian2 runs in NEST's order of events (scripts/peers/brian2_nest_order.py: input before the "
              "threshold test, delays and refractory steps counted as NEST does; one neuron then follows NEST's "
              "trace to 5e-14 mV, scripts/peers/brian2_neuron_trace.py). Brian2's default order gave a rate "
              "0.27 Hz below NEST's.",
              "- Brian2's runtime code is single-threaded; distsnn and NEST use the threads given.",
              "- Each run is a fresh process (its own peak RSS)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
