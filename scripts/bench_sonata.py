"""Benchmark: a SONATA circuit of point neurons in distsnn and NEST side by side. The circuit is
tests/data/sonata_circuit's kind made larger (scripts/peers/make_sonata_circuit.py: v1
iaf_psc_alpha nodes of three types, virtual lgn nodes with Poisson spike trains, recurrent
edges with probability p), written once into --work. distsnn reads it with
io.sonata_circuit.load_circuit; NEST (with --nest-python) builds it from the same files as
its SonataNetwork does (scripts/peers/nest_sonata.py). Each run is a fresh process. Reports
the time to read and build, to simulate, peak RSS, and how far the two runs' spikes agree:
the time of the first spike that differs and the share of NEST's spikes that distsnn has
exactly (same node, same step), and the mean rate of each node type. Writes JSON and Markdown
to bench/results/. Usage:

    python scripts/bench_sonata.py --n-v1 10000 --n-lgn 2000 --p 0.05 --k-lgn 50 --t-stop 1000 \
        --threads 2 --nest-python /path/to/venv-with-nest/bin/python
"""
import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "peers"))
from bench_microcircuit import machine_info, run_json, write_results  # noqa: E402


def worker(args):
    """Read, build and simulate the circuit in this process; spikes to args.spikes (JSON),
    one JSON line of figures to stdout."""
    import numba
    numba.set_num_threads(args.threads)
    from distsnn.io.sonata_circuit import load_circuit
    from distsnn.runtime import simulate
    t0 = time.perf_counter()
    net = load_circuit(os.path.join(args.work, "simulation_config.json"))
    net.ring_bits = "auto" if args.ring_bits == "auto" else int(args.ring_bits)
    read_s = time.perf_counter() - t0
    res = simulate(net, net.metadata["tstop"], seed=1, backend=args.backend, connectivity=args.connectivity,
                   progress=False)
    ids, times = res.spikes("v1")
    with open(args.spikes, "w") as fh:
        json.dump({"spikes": {"v1": {"node_ids": ids.tolist(), "times": times.tolist()}}}, fh)
    print(json.dumps({"threads": args.threads, "backend": res.backend, "connectivity": args.connectivity,
                      "ring_bits": res.plan.ring_bits,
                      "read_s": read_s,
                      "build_s": read_s + res.timers.seconds["build"], "simulate_s": res.timers.seconds["simulate"],
                      "synapses": int(res.n_synapses), "events": res.events,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def agreement(a, b, dt):
    """How far spike sets a and b ({node_ids, times}) agree: the time of the first spike in
    one and not the other (None if none), and the share of b's spikes that a has."""
    def keyed(s):
        return np.asarray(s["node_ids"], np.int64) + (np.rint(np.asarray(s["times"]) / dt).astype(np.int64) << 32)
    ka, kb = keyed(a), keyed(b)
    only = np.setxor1d(ka, kb)
    first = float((only >> 32).min() * dt) if only.size else None
    return first, float(np.isin(kb, ka).mean()) if kb.size else 1.0


def type_rates(spikes, types, t_stop):
    """Mean rate (Hz) of each node type's nodes."""
    ids = np.asarray(spikes["node_ids"], np.int64)
    counts = np.bincount(ids, minlength=types.size)
    return {int(t): float(counts[types == t].mean() / (t_stop * 1e-3)) for t in np.unique(types)}


def markdown(rep):
    c = rep["circuit"]
    lines = [f"# A SONATA circuit in distsnn and NEST ({c['n_v1']} + {c['n_lgn']} virtual nodes, "
             f"{rep['t_stop']:g} ms, {rep['threads']} threads)", "",
             f"distsnn's backend: {rep.get('backend', 'cpu')}.", "",
             f"{rep['date']} on {rep['machine']['platform']} ({rep['machine']['cpus']} CPUs).", "",
             f"Circuit (scripts/peers/make_sonata_circuit.py): {c['n_v1']} iaf_psc_alpha nodes of three node types, "
             f"{c['n_lgn']} virtual nodes with Poisson spike trains ({c['k_lgn']} per v1 node), recurrent edges with "
             f"probability {c['p']:g}; written in {c['write_s']:.1f} s, {c['bytes'] / 1e6:.0f} MB.", "",
             "| simulator | synapses | read + build (s) | simulate (s) | real-time factor | peak RSS (MB) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rep["runs"]:
        if "error" in r:
            lines.append(f"| {r['simulator']} | error: {r['error']} | | | | |")
            continue
        lines.append(f"| {r['simulator']} | {r['synapses']:,} | {r['build_s']:.2f} | {r['simulate_s']:.2f} | "
                     f"{r['simulate_s'] / rep['t_stop'] * 1000:.2f} | {r['peak_rss_mb']:.0f} |")
    ok = [r for r in rep["runs"] if "rates" in r]
    if ok:
        lines += ["", "Mean rate (Hz) of each node type:", "",
                  "| node type | " + " | ".join(r["simulator"] for r in ok) + " |", "| --- |" + " ---: |" * len(ok)]
        for t in ok[0]["rates"]:
            lines.append(f"| {t} | " + " | ".join(f"{r['rates'][t]:.3f}" for r in ok) + " |")
    for r in ok:
        if "first_difference_ms" in r:
            first = r["first_difference_ms"]
            lines += ["", f"{r['simulator']} against NEST: " + (
                f"every spike the same ({r['spike_count']:,} spikes)." if first is None else
                f"the same spikes until {first:g} ms; {100 * r['share_of_nest_spikes']:.1f} % of NEST's spikes "
                "are among distsnn's (same node, same step).")]
    lines += ["", "Notes:", "",
              "- Read + build: distsnn's load_circuit (types tables, JSON files, HDF5 datasets into synapse lists) "
              "and its build; NEST's reading of the same files with h5py, Create, the parameters set per node type, "
              "Connect one_to_one.",
              "- Where the spikes part, they part by rounding: distsnn sums input in fixed point (int32 buffers "
              "resolve 1e-4 of the smallest weight or finer, int64 ones many orders finer), NEST in double "
              "precision, and a recurrent network carries a difference of one spike onwards.",
              "- distsnn reads the circuit with NEST's meaning (io/sonata_circuit.py): initial V_m, the off-grid "
              "spike times of the virtual nodes, the delays' rounding, and repeated spikes in one step."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-v1", type=int, default=10000)
    ap.add_argument("--n-lgn", type=int, default=2000)
    ap.add_argument("--p", type=float, default=0.05)
    ap.add_argument("--k-lgn", type=int, default=50)
    ap.add_argument("--t-stop", type=float, default=1000.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--nest-python", default=None, help="Python with nest-simulator (and h5py) installed")
    ap.add_argument("--backend", default="cpu", help="distsnn's backend: cpu, gpu (or gpu-emu)")
    ap.add_argument("--work", default=None,
                    help="directory of the circuit (written if absent; default a temporary one)")
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(HERE), "bench", "results"))
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--connectivity", default="procedural", help=argparse.SUPPRESS)
    ap.add_argument("--spikes", help=argparse.SUPPRESS)
    ap.add_argument("--ring-bits", default="auto", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    from make_sonata_circuit import write_circuit
    work = args.work or tempfile.mkdtemp(prefix="sonata_bench_")
    circuit = {"n_v1": args.n_v1, "n_lgn": args.n_lgn, "p": args.p, "k_lgn": args.k_lgn}
    if not os.path.isfile(os.path.join(work, "simulation_config.json")):
        t0 = time.perf_counter()
        write_circuit(work, args.n_v1, args.n_lgn, args.p, args.k_lgn, args.t_stop)
        circuit["write_s"] = time.perf_counter() - t0
    else:
        circuit["write_s"] = float("nan")
    circuit["bytes"] = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(work) for f in fs)
    with h5py.File(os.path.join(work, "network/v1_nodes.h5")) as f:
        types = f["nodes/v1/node_type_id"][()]
    runs, spikes = [], {}
    for bits in ("auto", "64"):   # the default (int32 where it is safe), and int64 input buffers
        out = os.path.join(work, f"distsnn_{bits}_spikes.json")
        r = run_json([sys.executable, os.path.abspath(__file__), "--worker", "--work", work, "--threads",
                      str(args.threads), "--spikes", out, "--ring-bits", bits, "--backend", args.backend])
        name = f"distsnn {args.backend} (int{r.get('ring_bits', bits)} input)"
        runs.append(dict(r, simulator=name))
        if "error" not in r:
            spikes[name] = json.load(open(out))["spikes"]["v1"]
    if args.nest_python:
        out = os.path.join(work, "nest_spikes.json")
        t0 = time.perf_counter()
        proc = subprocess.run([args.nest_python, os.path.join(HERE, "peers", "nest_sonata.py"), work, out,
                               "--threads", str(args.threads), "--timing"], capture_output=True, text=True)
        if proc.returncode:
            runs.append({"simulator": "NEST", "error": proc.stderr.strip().splitlines()[-1]})
        else:
            nest = json.load(open(out))
            spikes["NEST"] = nest.pop("spikes")["v1"]
            runs.append(dict(nest, simulator=f"NEST {nest['nest_version']}", wall_s=time.perf_counter() - t0))
    for r in runs:
        key = "NEST" if r["simulator"].startswith("NEST") else r["simulator"]
        if key in spikes:
            r["rates"] = type_rates(spikes[key], types, args.t_stop)
            r["spike_count"] = len(spikes[key]["times"])
            if key != "NEST" and "NEST" in spikes:
                r["first_difference_ms"], r["share_of_nest_spikes"] = agreement(spikes[key], spikes["NEST"], 0.1)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    rep = {"benchmark": "sonata", "date": now, "machine": machine_info(), "circuit": circuit, "t_stop": args.t_stop,
           "threads": args.threads, "backend": args.backend, "runs": runs}
    write_results(args.out_dir, f"sonata_circuit_{args.n_v1}" + ("" if args.backend == "cpu" else f"_{args.backend}"),
                  rep, markdown)


if __name__ == "__main__":
    main()
