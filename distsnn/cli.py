"""Command line: `distsnn run MODEL ...`, `distsnn sweep MODEL --vary NAME=V1,V2 ...`,
`distsnn calibrate MODEL --range NAME=LO,HI --target POP:MEASURE=VALUE`,
`distsnn partition MODEL --ranks R`, `distsnn analyze FILE`, `distsnn compare A B`,
`distsnn export FILE`, `distsnn join A B ...` (also `python -m distsnn ...`). Under mpirun /
mpiexec / srun every rank runs the same command; the communicator is MPI.COMM_WORLD, created
here and passed down. The parser, the small commands and main are here; the run command is
in cli_run.py, the sweep command in cli_sweep.py, calibrate in cli_calibrate.py, the models'
options and --param in cli_models.py."""
import argparse
import json
import os
import sys

import numpy as np

from .backends.cpu.simulator import CONNECTIVITY_MODES
from .comm.exchange import EXCHANGE_METHODS
from .comm.faults import fail_whole_job
from .io.checkpoint import CheckpointError
from .io.parallel import WRITE_MODES
from .model.rkf45 import NumericalInstability
from .backends.select import BACKENDS
from .cli_models import _model, _model_kwargs, _model_options, _params_option

# set by mpiexec (MPICH hydra, Open MPI) and srun (PMI-2 / PMIx)
MPI_LAUNCH_VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


def world_comm():
    """MPI.COMM_WORLD when this process was started by an MPI launcher, else None (no MPI import)."""
    if not any(os.environ.get(v) for v in MPI_LAUNCH_VARIABLES):
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        raise ValueError("started by an MPI launcher but mpi4py is not installed: pip install 'distsnn[mpi]'")
    return MPI.COMM_WORLD


def _count(text):
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _indices(text):
    """argparse type: comma-separated integers >= 0."""
    return [_count(w) for w in text.split(",")]


def _variables(text):
    """argparse type: comma-separated names of recordable state variables."""
    from .model.neurons import STATE_UNITS
    names = [v.strip() for v in text.split(",")]
    unknown = [v for v in names if v not in STATE_UNITS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown state variable(s) {', '.join(map(repr, unknown))}; "
                                         f"known: {', '.join(STATE_UNITS)}")
    return tuple(names)


def _time_ms(text):
    """argparse type: a finite time >= 0 (ms)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (np.isfinite(value) and value >= 0.0):
        raise argparse.ArgumentTypeError(f"must be a finite time of 0 ms or more, got {text}")
    return value


def _simulation_options(r):
    """The options of `run` that `sweep` shares: the model, the simulation, recording and
    the machine (not the output, checkpoints and restarts, which a sweep sets per point)."""
    from partitioning import STRATEGIES
    r.add_argument("--scale", type=float, default=1.0,
                   help="fraction of neurons (0, 1]; the microcircuit scales in-degrees with it, multi_area keeps "
                        "them (see --k-scale)")
    _model_options(r)
    _params_option(r)
    r.add_argument("--t-sim", type=float, default=None,
                   help="biological time to simulate (ms; default 1000, or a SONATA config's run.tstop); after "
                        "--restart, the time beyond the checkpoint")
    r.add_argument("--seed", type=int, default=1, help="seed of every random stream, in [0, 2**64)")
    r.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="auto: the GPU if one works, else the CPU (with a notice); gpu-emu: the GPU kernels "
                        "emulated on the host (slow; for tests)")
    r.add_argument("--share-gpus", action="store_true",
                   help="allow more ranks than GPUs on a node (ranks share devices; for tests and small runs)")
    r.add_argument("--connectivity", choices=CONNECTIVITY_MODES, default="procedural")
    r.add_argument("--ring-bits", choices=("auto", "32", "64"), default=None,
                   help="width of the input ring buffers (part of the model: it sets the fixed-point scale); "
                        "default: the model's (auto: int32 where the build proves it safe, else int64)")
    r.add_argument("--record", "--record-voltage", dest="record", type=_count, default=0, metavar="K",
                   help="record the state of the first K neurons of every population (every step, or as "
                        "--record-interval/--record-start/--record-stop say): the "
                        "variables of --record-from, each a SONATA report beside the output (*_voltage.h5 for "
                        "V_m, *_w.h5, *_g_ex.h5, ...)")
    r.add_argument("--record-from", type=_variables, default=None, metavar="VARS",
                   help="comma-separated state variables to record, NEST's names (V_m, I_syn_ex, I_syn_in, g_ex, "
                        "g_in, w); each population records those its neuron model has (default: V_m)")
    r.add_argument("--record-interval", type=_time_ms, default=None, metavar="MS",
                   help="sample the recorded state every MS ms, at the multiples of MS (default: every step; "
                        "NEST's multimeter interval), a whole number of steps")
    r.add_argument("--record-start", type=_time_ms, default=0.0, metavar="MS",
                   help="sample the recorded state only after this time (ms), as NEST's multimeter start")
    r.add_argument("--record-stop", type=_time_ms, default=None, metavar="MS",
                   help="... and up to this time (ms) included, as NEST's multimeter stop (default: the end)")
    r.add_argument("--rates-from", type=_time_ms, default=0.0, metavar="MS",
                   help="compute the reported mean rates from this time on (ms)")
    r.add_argument("--threads", type=int, default=None,
                   help="CPU threads per process (default: the cores, shared by the ranks of a node)")
    r.add_argument("--partition", choices=STRATEGIES, default="auto", help="partition strategy under MPI")
    r.add_argument("--exchange", choices=EXCHANGE_METHODS, default="allgatherv",
                   help="spike exchange collective under MPI")
    r.add_argument("--write-mode", choices=WRITE_MODES, default="auto",
                   help="parallel output: mpio (h5py with MPI), virtual (per-rank files + virtual dataset), gather")
    r.add_argument("--no-progress", action="store_true", help="do not show the progress bar")


def _parser():
    from partitioning import STRATEGIES
    p = argparse.ArgumentParser(prog="distsnn", description="Simulate large spiking neural networks.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="build, simulate and write a model from the library, or of one's own")
    r.add_argument("model", help="model name: microcircuit, multi_area, coba, cuba, brunel, adex; or a Python file "
                                 "of one's own (my_model.py) whose build(**options) returns a Network; or a SONATA "
                                 "circuit's config (circuit_config.json or simulation_config.json)")
    _simulation_options(r)
    r.add_argument("--restart", default=None, metavar="DIR",
                   help="start from the checkpoint in DIR (same model options and seed; any backend, ranks, "
                        "partition or connectivity mode): the spikes continue those of the run that wrote it")
    r.add_argument("--checkpoint", default=None, metavar="DIR",
                   help="write the complete state at the end into DIR (replacing an earlier checkpoint there), "
                        "for a later --restart")
    r.add_argument("--checkpoint-every", type=float, default=None, metavar="MS",
                   help="with --checkpoint: also write the checkpoint whenever the biological time reaches a "
                        "multiple of MS, with the spikes (and recorded state) so far beside it; a job killed at any "
                        "moment then loses at most MS of simulation: run the command again with --resume")
    r.add_argument("--resume", action="store_true",
                   help="with --checkpoint DIR: if DIR holds a checkpoint of this run (written with "
                        "--checkpoint-every or --resume), continue from it, else start (from --restart if given); "
                        "--t-sim is then the length of the whole run, so the same command finishes it after a "
                        "crash or a requeue, and the output holds all of it")
    r.add_argument("--output", default=None,
                   help="SONATA spike file to write (default results/run.h5, or a SONATA config's output "
                        "spikes_file in its output_dir)")
    from .cli_calibrate import add_calibrate_parser   # (they import this module: here, not at its top)
    from .cli_sweep import add_sweep_parser
    add_sweep_parser(sub)
    add_calibrate_parser(sub)
    q = sub.add_parser("partition", help="print the partition of a model onto R ranks")
    q.add_argument("model", help="a model name or a model file (as for run)")
    q.add_argument("--ranks", type=int, required=True)
    q.add_argument("--scale", type=float, default=1.0)
    _model_options(q)
    _params_option(q)
    q.add_argument("--strategy", choices=STRATEGIES, default="auto")
    q.add_argument("--json", action="store_true", help="print the report as JSON")
    y = sub.add_parser("synapses", help="write a model's synapses, as simulated, to a SONATA edge file")
    y.add_argument("model", help="a model name or a model file (as for run)")
    y.add_argument("--scale", type=float, default=1.0)
    _model_options(y)
    _params_option(y)
    y.add_argument("--seed", type=int, default=1)
    y.add_argument("--source", default=None, help="only projections from this population")
    y.add_argument("--target", default=None, help="only projections onto this population")
    y.add_argument("--label", default=None, help="only projections with this label")
    y.add_argument("--output", required=True, metavar="EDGES.h5")
    nd = sub.add_parser("nodes", help="write a model's neurons, every parameter per neuron as simulated, to a SONATA "
                                      "node file")
    nd.add_argument("model", help="a model name or a model file (as for run)")
    nd.add_argument("--scale", type=float, default=1.0)
    _model_options(nd)
    _params_option(nd)
    nd.add_argument("--seed", type=int, default=1)
    nd.add_argument("--output", required=True, metavar="NODES.h5")
    for name, helptext in (("analyze", "spike statistics of a SONATA file (JSON summary, PNG plots)"),
                           ("compare", "KL divergences between the per-neuron statistics of two runs")):
        a = sub.add_parser(name, help=helptext)
        a.add_argument("files", nargs=1 if name == "analyze" else 2, metavar="FILE.h5")
        a.add_argument("--output", default=None, help="JSON file to write (default: print)")
        a.add_argument("--plot", default=None, metavar="PATH",
                       help="folder for the PNG figures (with the traces of the state reports beside the file, "
                            "if any)" if name == "analyze" else "PNG file of the comparison")
        a.add_argument("--t-start", type=float, default=None,
                       help="analysis window start (ms; default the run's start: 0, or its restart time)")
        a.add_argument("--t-stop", type=float, default=None, help="analysis window end (ms; default the run's end)")
        a.add_argument("--lvr-r", type=float, default=2.0, help="refractoriness R of LvR (ms)")
        a.add_argument("--corr-neurons", type=int, default=200,
                       help="neurons per population sampled for correlations (0: no correlations)")
        a.add_argument("--corr-bin", type=float, default=1.0, help="bin of the spike counts for correlations (ms)")
        if name == "analyze":
            a.add_argument("--rate-bin", type=float, default=None, metavar="MS",
                           help="also the population rate in bins of MS ms (JSON 'population_rate'; "
                                "plotted with --plot, in 5 ms bins if not given)")
            a.add_argument("--node-types", default=None, metavar="CONFIG.json",
                           help="also the statistics of each node type of a SONATA circuit's populations (JSON "
                                "'node_types'; the circuit's config; default: the config the run was made from, "
                                "if the file names one that exists)")
            a.add_argument("--spectrum", action="store_true",
                           help="also the power spectrum of the population rate and its peak frequency "
                                "(JSON 'rate_spectrum'; Welch, 256-bin Hann segments; the rate in 1 ms bins "
                                "unless --rate-bin is given; plotted with --plot)")
    j = sub.add_parser("join", help="join the spike files of consecutive segments (runs chained by --checkpoint "
                                    "and --restart) into one file")
    j.add_argument("files", nargs="+", metavar="SEGMENT.h5", help="the segments' spike files, in time order")
    j.add_argument("--output", required=True, help="spike file to write")
    e = sub.add_parser("export", help="write a selection of a spike file, with the recorded state of those neurons "
                                      "(its reports beside it), as a Neo Block (slow for many neurons)")
    e.add_argument("file", metavar="FILE.h5")
    e.add_argument("--format", choices=("nix", "pickle"), default=None,
                   help="default: from the output's extension (.pkl or .pickle: pickle), else nix")
    e.add_argument("--neurons", default="100",
                   help="'N' (first N of every population), 'POP:ID', 'POP:FIRST-LAST', comma-separated, or 'all'")
    e.add_argument("--output", required=True, help="file to write (.nix or .pkl)")
    e.add_argument("--no-reports", action="store_true",
                   help="leave out the state reports beside FILE (FILE_voltage.h5, FILE_w.h5, ...)")
    return p


EXPORT_EXTENSIONS = {".nix": "nix", ".pkl": "pickle", ".pickle": "pickle"}


def _export_format(fmt, output):
    """export's format: --format, else the output's extension's (nix where it names none); a
    format that contradicts the extension is refused, not written under a misleading name."""
    implied = EXPORT_EXTENSIONS.get(os.path.splitext(output)[1].lower())
    if fmt is not None and implied is not None and fmt != implied:
        raise ValueError(f"--format {fmt} but --output {output} names a {implied} file; give one or the other")
    return fmt or implied or "nix"


def _plural(n, noun):
    """'1 segment', '2 segments'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def export_command(args, out=None):
    import time

    from .io.neo_export import export_neo
    out = out or sys.stdout
    fmt = _export_format(args.format, args.output)
    t0 = time.perf_counter()
    n, n_signals = export_neo(args.file, args.output, fmt, None if args.neurons == "all" else args.neurons,
                              {} if args.no_reports else None)
    signals = f" and {n_signals} analog signals" if n_signals else ""
    print(f"wrote {n} spike trains{signals} to {args.output} ({fmt}) in {time.perf_counter() - t0:.2f} s", file=out)
    return n


def join_command(args, out=None):
    from .io.segments import join_spike_files
    out = out or sys.stdout
    t_start, t_stop = join_spike_files(args.files, args.output)
    print(f"wrote {args.output}: {_plural(len(args.files), 'segment')}, {t_start:g} to {t_stop:g} ms", file=out)
    return t_start, t_stop


def nodes_command(args, out=None):
    from .io.sonata_nodes import write_nodes
    out = out or sys.stdout
    net = _model(args.model, scale=args.scale, **_model_kwargs(args))
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    names = write_nodes(args.output, net, args.seed)
    for name in names:
        print(f"{name}: {net.populations[name].size} neurons ({net.populations[name].model})", file=out)
    print(f"wrote {args.output}: {sum(net.populations[n].size for n in names)} neurons in "
          f"{_plural(len(names), 'node population')}", file=out)
    return names


def synapses_command(args, out=None):
    from .connectivity import synapses
    from .io.sonata_edges import edge_population_name, write_edges
    out = out or sys.stdout
    net = _model(args.model, scale=args.scale, **_model_kwargs(args))
    for option, name in (("--source", args.source), ("--target", args.target)):
        if name is not None and name not in net.populations:
            raise ValueError(f"{option} {name}: model {args.model!r} has no such population; "
                             f"its populations: {', '.join(net.populations)}")
    sets = synapses(net, args.seed, args.source, args.target, args.label)
    if not sets:
        raise ValueError(f"model {args.model!r} has no projection from {args.source or 'any population'} onto "
                         f"{args.target or 'any population'}" + (f" labelled {args.label!r}" if args.label else ""))
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    write_edges(args.output, sets)
    for s in sets:
        print(f"{edge_population_name(s.source, s.target, s.label)}: {s.n} synapses", file=out)
    print(f"wrote {args.output}: {sum(s.n for s in sets)} synapses in {_plural(len(sets), 'edge population')}",
          file=out)
    return sets


def partition_command(args, out=None):
    out = out or sys.stdout
    from partitioning import partition_network
    part = partition_network(_model(args.model, scale=args.scale, **_model_kwargs(args)), args.ranks, args.strategy)
    print(json.dumps(part.report(), indent=1) if args.json else part.report_text(), file=out)
    return part


def _analysis_options(args):
    return {"t_start": args.t_start, "t_stop": args.t_stop, "lvr_r": args.lvr_r,
            "corr_neurons": args.corr_neurons, "corr_bin": args.corr_bin}


def _emit(result, path, out):
    text = json.dumps(result, indent=1, sort_keys=True, default=float)
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text + "\n")
        print(f"wrote {path}", file=out)
    else:
        print(text, file=out)


def _run_sonata_config(path):
    """The SONATA config a run's spike file was made from (its metadata), if it still exists."""
    from .io.sonata import read_metadata
    try:
        config = read_metadata(path).get("parameters", {}).get("sonata_config")
    except (OSError, KeyError, ValueError, AttributeError):   # a file from elsewhere: no distsnn metadata
        return None
    return config if isinstance(config, str) and os.path.isfile(config) else None


def analyze_command(args, out=None):
    from .analysis import analyze_file
    from .io.sonata import reports_beside
    out = out or sys.stdout
    path = args.files[0]
    rate_bin = args.rate_bin
    if rate_bin is None:
        rate_bin = 1.0 if args.spectrum else (5.0 if args.plot else None)
    stats = analyze_file(path, rate_bin=rate_bin, **_analysis_options(args))
    series = args.rate_bin is not None
    result = {"file": path, "options": dict(_analysis_options(args), rate_bin=args.rate_bin, spectrum=args.spectrum),
              "populations": {n: s.summary(series, args.spectrum) for n, s in stats.items()}}
    config = args.node_types or _run_sonata_config(path)
    if config:
        from .io.sonata_circuit import node_types
        types = node_types(config)
        result["node_types_from"] = config
        result["node_types"] = {n: s.by_node_type(*types[n]) for n, s in stats.items()
                                if n in types and s.rates.size}
    _emit(result, args.output, out)
    if args.plot:
        from .analysis import plots
        os.makedirs(args.plot, exist_ok=True)
        plots.raster(path, os.path.join(args.plot, "raster.png"), stats, t_start=args.t_start, t_stop=args.t_stop)
        plots.rate_histograms(os.path.join(args.plot, "rates.png"), stats)
        plots.population_rates(os.path.join(args.plot, "population_rates.png"), stats)
        written = ["raster.png", "rates.png", "population_rates.png"]
        if args.spectrum:
            plots.rate_spectra(os.path.join(args.plot, "rate_spectra.png"), stats)
            written.append("rate_spectra.png")
        for variable, report in reports_beside(path).items():   # the recorded state, if any
            name = f"state_{variable}.png"
            plots.state_traces(report, os.path.join(args.plot, name), t_start=args.t_start, t_stop=args.t_stop)
            written.append(name)
        print(f"wrote {', '.join(written[:-1])} and {written[-1]} in {args.plot}", file=out)
    return result


def compare_command(args, out=None):
    from .analysis import compare_files
    out = out or sys.stdout
    result, _, _ = compare_files(*args.files, **_analysis_options(args))
    _emit(result, args.output, out)
    if args.plot:
        from .analysis import plots
        os.makedirs(os.path.dirname(os.path.abspath(args.plot)), exist_ok=True)
        plots.comparison(args.plot, result)
        print(f"wrote {args.plot}", file=out)
    return result


# the commands that write one --output file, with a name to suggest where a folder is given
OUTPUT_EXAMPLES = {"analyze": "stats.json", "compare": "comparison.json", "join": "joined.h5", "export": "neurons.nix",
                   "synapses": "edges.h5", "nodes": "nodes.h5"}


def _check_outputs(args):
    """What a command other than run will write (--output; analyze's --plot folder, compare's
    --plot PNG), checked before any input is read or model built: a clear error, not a
    traceback after the work. run checks its own, with the model's defaults."""
    from .io.paths import check_can_create, check_writable
    if args.command in OUTPUT_EXAMPLES and args.output:
        check_writable(args.output, "--output", OUTPUT_EXAMPLES[args.command])
    plot = getattr(args, "plot", None)
    if args.command in ("sweep", "calibrate"):
        return   # its folder is checked with the command's own options
    if plot and args.command == "analyze":
        check_can_create(plot, "--plot")
    elif plot:
        check_writable(plot, "--plot", "comparison.png")


def main(argv=None):
    args = _parser().parse_args(argv)
    comm = None
    try:
        comm = world_comm() if args.command in ("run", "sweep", "calibrate") else None
        from .cli_calibrate import calibrate_command
        from .cli_run import run_command
        from .cli_sweep import sweep_command
        commands = {"run": lambda: run_command(args, comm), "sweep": lambda: sweep_command(args, comm),
                    "calibrate": lambda: calibrate_command(args, comm),
                    "partition": lambda: partition_command(args),
                    "synapses": lambda: synapses_command(args), "nodes": lambda: nodes_command(args),
                    "analyze": lambda: analyze_command(args), "compare": lambda: compare_command(args),
                    "export": lambda: export_command(args), "join": lambda: join_command(args)}
        _check_outputs(args)
        commands[args.command]()
    except CheckpointError as err:   # raised on every rank alike, after the results were written
        if comm is None or comm.Get_rank() == 0:
            print(f"distsnn: error: {err}", file=sys.stderr, flush=True)
        return 1
    except (ValueError, MemoryError) as err:
        return fail_whole_job(comm, err, 2)
    except NumericalInstability as err:   # the model's parameters or input, not a bug: one line
        return fail_whole_job(comm, err, 1)
    except Exception as err:  # any other failure: this rank's message, then the whole job down
        if comm is None or comm.Get_size() == 1:
            raise
        return fail_whole_job(comm, f"{type(err).__name__}: {err}", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
