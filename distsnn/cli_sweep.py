"""The `distsnn sweep` command: a model run at every point of a grid of option values
(runtime.sweep), each point's spike statistics, and the sweep's table and plot
(analysis.sweep_table). In one process the points run one after another; under MPI the
ranks form groups of --ranks-per-point ranks, each group runs every G-th point with a
communicator of its own, and rank 0 writes the table once all are done. A point that fails
takes the whole job down (as a failing rank does); the points done stay, and the same
command runs the rest."""
import copy
import math
import os
import shutil
import sys
import time

from .cli import _indices, _plural, _simulation_options
from .cli_models import MODEL_OPTIONS, _model, _model_kwargs, param_value
from .model.inputs import whole_steps
from .runtime.sweep import SweepDirectory, parse_vary, point_label, write_json

# the sweep's own options: not passed on to its points' runs, nor part of its identity
SWEEP_ONLY = ("command", "model", "vary", "output_dir", "only", "list", "collect", "plot", "ranks_per_point")
RESULTS_FILE = "sweep_results.json"
TABLE_FILE = "sweep_table.csv"
SEEDS_FILE = "sweep_over_seeds.csv"
PLOT_FILE = "sweep.png"


def variable_options():
    """{option (dest): type} of the command line's options a sweep may vary: the model
    options that take a value, the seed and the scale. Any other name is a keyword of the
    model's build() (as --param gives it; a switch such as weight_exponential too, with
    values true,false)."""
    types = {dest: typ for _, dest, typ, _ in MODEL_OPTIONS if typ is not bool}
    types.update(seed=int, scale=float)
    return types


def statistics_options(parser):
    """The spike statistics of sweep's and calibrate's runs (analysis.sweep_table)."""
    parser.add_argument("--corr-neurons", type=int, default=100,
                        help="neurons per population sampled for correlations (0: none)")
    parser.add_argument("--corr-bin", type=float, default=1.0, help="bin of the spike counts for correlations (ms)")
    parser.add_argument("--rate-bin", type=float, default=1.0, metavar="MS",
                        help="bin of the population rate (ms), for its Fano factor and spectrum")
    parser.add_argument("--lvr-r", type=float, default=2.0, help="refractoriness R of LvR (ms)")


def add_sweep_parser(sub):
    """The `sweep` subcommand's parser: its own options, then run's (cli._simulation_options)."""
    w = sub.add_parser("sweep", help="run a model at every point of a grid of option values, then tabulate (and "
                                     "plot) each point's spike statistics")
    w.add_argument("model", help="a model name, a model file or a SONATA config (as for run)")
    w.add_argument("--vary", action="append", required=True, metavar="NAME=V1,V2,...",
                   help="an option and its values, e.g. g=3,4,5 (a model option, seed, scale, or any keyword of "
                        "the model's build() as --param gives it); several --vary make a grid, the first varying "
                        "slowest; a seed varied over several values gives replicas, averaged in "
                        "sweep_over_seeds.csv")
    w.add_argument("--output-dir", required=True, metavar="DIR",
                   help="where each point's spikes, summary, log and statistics go, and the sweep's table; the same "
                        "command again runs only the points not done")
    _simulation_options(w)
    w.add_argument("--only", type=_indices, default=None, metavar="K[,K...]",
                   help="run only these points (0-based, as --list numbers them; a SLURM array task's: "
                        "--only $SLURM_ARRAY_TASK_ID); the table is written once all points are done")
    w.add_argument("--list", action="store_true", help="print the points, numbered, and which are done; run nothing")
    w.add_argument("--collect", action="store_true",
                   help="run nothing: write the table (and --plot) of a sweep whose points are all done")
    w.add_argument("--ranks-per-point", type=int, default=1, metavar="K",
                   help="under MPI: ranks that run one point together (default 1: every rank runs points of its "
                        "own); must divide the ranks")
    w.add_argument("--checkpoint-every", type=float, default=None, metavar="MS",
                   help="each point also checkpoints whenever its biological time reaches a multiple of MS "
                        "(DIR/point_K_checkpoint, removed once the point is done): the sweep run again after a kill "
                        "resumes a point half-way, losing at most MS of it")
    w.add_argument("--plot", action="store_true",
                   help="also DIR/sweep.png: rate, CV, synchrony and spectral peak against one or two varied options")
    statistics_options(w)


def _point_args(args, directory, k):
    """The `distsnn run` arguments of point k: the sweep's, with the point's values and files."""
    a = copy.copy(args)
    options = variable_options()
    a.params = list(args.params or [])
    for name, value in directory.points[k].items():
        if name in options:
            setattr(a, name, value)
        else:   # a keyword of the model's build(), as --param NAME=VALUE
            a.params.append((name, value))
    a.command, a.output, a.no_progress = "run", directory.output(k), True
    a.restart = None
    # with --checkpoint-every a point checkpoints as it goes, and a sweep run again resumes it
    a.checkpoint = directory.checkpoint(k) if args.checkpoint_every is not None else None
    a.resume = a.checkpoint is not None
    return a


def _check_point(args, directory, k):
    """Build point k's model description and check its times, before any point runs: a bad
    point is an error that names it, not a failure in the middle of the sweep."""
    a = _point_args(args, directory, k)
    try:
        net = _model(a.model, scale=a.scale, record_voltage=a.record, **_model_kwargs(a))
        t_sim = net.metadata.get("tstop", 1000.0) if a.t_sim is None else a.t_sim
        whole_steps("--t-sim", t_sim, net.dt)
        if a.rates_from >= t_sim:
            raise ValueError(f"--rates-from {a.rates_from:g} ms is not before the end of the run ({t_sim:g} ms): "
                             f"no time left for the statistics")
        if t_sim - a.rates_from < 2 * args.rate_bin:   # the spectrum's least
            raise ValueError(f"the statistics' window, --rates-from {a.rates_from:g} ms to the end at {t_sim:g} ms, "
                             f"must hold at least two bins of --rate-bin {args.rate_bin:g} ms")
    except ValueError as err:
        raise ValueError(f"sweep point {k} ({point_label(directory.points[k])}): {err}") from None


def _run_point(args, directory, k, comm, index, out):
    """Run point k (on comm, the point's ranks; None: this process alone), then, on its first
    rank, its statistics; prints one line. The stats file is written last."""
    from .analysis.sweep_table import point_statistics
    from .cli_run import run_command
    a = _point_args(args, directory, k)
    a.device_index = index
    first = comm is None or comm.Get_rank() == 0
    t0 = time.perf_counter()
    with open(directory.log_path(k) if first else os.devnull, "w") as log:
        summary = run_command(a, comm, out=log)
    if not first:
        return
    pops = point_statistics(a.output, a.rates_from, args.corr_neurons, args.corr_bin, args.rate_bin, args.lvr_r)
    wall = time.perf_counter() - t0
    # a point run in segments (--checkpoint-every; maybe resumed): the whole run's account, not its last job's
    whole = summary.get("joined", summary)
    rtf = whole.get("real_time_factor", math.nan)   # unknown where a segment's simulate time is
    write_json(directory.stats_path(k), {
        "point": k, "values": directory.points[k], "populations": pops, "wall_s": wall, "real_time_factor": rtf,
        "synaptic_events": whole["synaptic_events"], "timers_s": summary["timers_s"], "backend": summary["backend"],
        "ranks": comm.Get_size() if comm is not None else 1, "resumed": bool(summary.get("resumed")),
        "window_ms": [max(a.rates_from, whole["t_start"]), whole["t_stop"]]})
    if a.checkpoint is not None:   # the point is done: its checkpoint (and segments) would only take room
        shutil.rmtree(a.checkpoint, ignore_errors=True)
    rates = ", ".join(f"{p} {v['rate_hz']:.3g}" for p, v in list(pops.items())[:4])
    more = f", ... ({len(pops)} populations)" if len(pops) > 4 else ""
    print(f"{directory.word} {k} ({point_label(directory.points[k])}): {wall:.1f} s, real-time factor {rtf:.3g}"
          + (" (resumed)" if summary.get("resumed") else "") + f", rates (Hz) {rates}{more}", file=out, flush=True)


def _groups(comm, per_point):
    """(index of this rank's group, number of groups, the group's communicator or None for
    a group of one rank)."""
    size = comm.Get_size() if comm is not None else 1
    if per_point < 1 or size % per_point:
        raise ValueError(f"--ranks-per-point {per_point}: must divide the job's {size} rank(s)")
    rank = comm.Get_rank() if comm is not None else 0
    group = rank // per_point
    sub = comm.Split(group, rank) if per_point > 1 else None
    return group, size // per_point, sub


def _collect(args, directory, out):
    """Write the table, the results and (--plot) the figure of a sweep whose points are all done."""
    import json

    from .analysis.sweep_table import over_seeds, plot_sweep, table_rows, write_csv
    results = []
    for k in range(len(directory.points)):
        with open(directory.stats_path(k)) as fh:
            results.append(json.load(fh))
    rows = table_rows(directory.points, results)
    base = directory.directory
    write_csv(os.path.join(base, TABLE_FILE), rows)
    write_json(os.path.join(base, RESULTS_FILE), dict(directory.identity, points=results))
    written = [TABLE_FILE, RESULTS_FILE]
    others, averaged = over_seeds(directory.vary, rows)
    if averaged is not rows:   # the seed varied: each measure's mean and sd over the seeds too
        write_csv(os.path.join(base, SEEDS_FILE), averaged)
        written.append(SEEDS_FILE)
    if args.plot:   # the means over the seeds, where it varies
        plot_sweep(os.path.join(base, PLOT_FILE), others, averaged)
        written.append(PLOT_FILE)
    wall = sum(r["wall_s"] for r in results)
    print(f"sweep of {args.model}: {_plural(len(results), 'point')} ({', '.join(directory.vary)}), "
          f"{wall:.1f} s of runs and analysis; wrote {', '.join(written)} in {base}", file=out)
    return rows


def _list(directory, out):
    for k, point in enumerate(directory.points):
        print(f"{k:{directory.width}d}  {point_label(point)}  {'done' if directory.done(k) else 'to run'}", file=out)


def sweep_command(args, comm=None, out=None):
    from .analysis.statistics import check_options
    from .backends.select import device_index
    from .io.paths import check_can_create
    from .runtime.run import share_cores
    out = out or sys.stdout
    rank = comm.Get_rank() if comm is not None else 0
    size = comm.Get_size() if comm is not None else 1
    vary = parse_vary(args.vary, variable_options(), param_value)
    given = {name for name, _ in args.params or ()}
    fixed = [n for n in vary if n not in ("seed", "scale") and (getattr(args, n, None) is not None or n in given)]
    if fixed:   # a model option's default is None: given on its own and varied
        flags = ", ".join("--" + n.replace("_", "-") for n in fixed)
        raise ValueError(f"{flags} given and varied: give each option either on its own or in --vary")
    options = {k: v for k, v in sorted(vars(args).items()) if k not in SWEEP_ONLY and k not in vary}
    directory = SweepDirectory(args.output_dir, args.model, vary, options)
    plotted = [n for n in vary if n != "seed" or len(vary[n]) < 2]   # a varied seed is averaged over
    if args.plot and len(plotted) > 2:
        raise ValueError(f"--plot shows one or two varied options (besides the seed); this sweep varies "
                         f"{len(plotted)} ({', '.join(plotted)}): leave --plot out and plot {TABLE_FILE} yourself")
    check_options(args.lvr_r, args.corr_neurons, args.corr_bin, args.rate_bin)
    check_can_create(args.output_dir, "--output-dir")
    directory.check_same()
    todo = directory.check_indices(args.only) if args.only is not None else range(len(directory.points))
    todo = [k for k in todo if not directory.done(k)]
    if args.collect and directory.missing():
        raise ValueError(f"--collect: points {', '.join(map(str, directory.missing()))} of "
                         f"{len(directory.points)} are not done; run the sweep without --collect to run them")
    checked = range(len(directory.points)) if args.list else [] if args.collect else todo
    for k in checked:
        _check_point(args, directory, k)
    if args.list:   # every point checked: a job array of them would not fail on a bad one
        if rank == 0:
            _list(directory, out)
        return None
    group, n_groups, sub = _groups(comm, args.ranks_per_point)
    if rank == 0:
        directory.write_identity()
        if not args.collect:
            done = len(directory.points) - len(directory.missing())
            print(f"sweep of {args.model}: {_plural(len(directory.points), 'point')} in {args.output_dir}, "
                  f"{done} done, {len(todo)} to run" + (f" by {_plural(n_groups, 'group')} of "
                                                        f"{_plural(args.ranks_per_point, 'rank')}" if size > 1 else ""),
                  file=out, flush=True)
    if size > 1:
        comm.Barrier()   # sweep.json exists before any point is written
        if args.threads is None:
            share_cores(comm, lambda msg: None)
    index = device_index(args.backend, comm, args.share_gpus) if size > 1 else None
    # a failing point raises here: cli.main takes the whole job down (no collective is waited for)
    for k in todo[group::n_groups]:
        _run_point(args, directory, k, sub, index, out)
    if sub is not None:
        sub.Free()
    if size > 1:
        comm.Barrier()
    if rank != 0:
        return None
    missing = directory.missing()
    if missing or args.only is not None:   # a job array's tasks leave the table to its last job (--collect)
        print(f"{len(directory.points) - len(missing)} of {_plural(len(directory.points), 'point')} done"
              + (f"; to run: {', '.join(map(str, missing))}" if missing else "")
              + " (the table is written by a run of the whole sweep, or by --collect, once all are done)", file=out)
        return None
    return _collect(args, directory, out)
