"""The `distsnn calibrate` command: the value of one option at which a population's measure
reaches a target (runtime.calibrate), each evaluation a run of the model as a sweep's point
is (cli_sweep), on all ranks of the job together. The runs stay, so the same command run
again after a stop reuses them; calibration.json holds the search and its result."""
import math
import os
import sys

import numpy as np

from .cli import _plural, _simulation_options
from .cli_models import param_value
from .cli_sweep import SWEEP_ONLY, _check_point, _run_point, statistics_options, variable_options
from .analysis.sweep_table import MEASURES
from .runtime.calibrate import CalibrationDirectory, NoBracket, illinois
from .runtime.sweep import parse_vary, point_label, write_json

RESULT_FILE = "calibration.json"
CALIBRATE_ONLY = SWEEP_ONLY + ("range", "target", "tolerance", "max_runs", "seeds")


def add_calibrate_parser(sub):
    """The `calibrate` subcommand's parser: its own options, then run's (cli._simulation_options)."""
    c = sub.add_parser("calibrate", help="find the value of one option at which a population's measure (its rate, "
                                         "say) reaches a target, by runs of the model")
    c.add_argument("model", help="a model name, a model file or a SONATA config (as for run)")
    c.add_argument("--range", required=True, metavar="NAME=LO,HI",
                   help="the option to calibrate (as for sweep's --vary) and a range over which the measure crosses "
                        "the target, e.g. eta=0.5,4")
    c.add_argument("--target", required=True, metavar="POP:MEASURE=VALUE",
                   help="the population, its measure (rate_hz, cv, lvr, corr, fano, peak_hz; over --rates-from to "
                        "the end) and the value to reach, e.g. E:rate_hz=10")
    c.add_argument("--tolerance", type=float, default=None,
                   help="how close to the target is close enough (the measure's unit; default 2%% of the target); "
                        "above the measure's spread over seeds, or the search chases that")
    c.add_argument("--max-runs", type=int, default=12, help="the most values to try (default 12)")
    c.add_argument("--seeds", type=int, default=1,
                   help="runs per value, with seeds --seed, --seed + 1, ...: the measure is their mean, and its sd "
                        "over them, reported, is the precision a tolerance can ask for (default 1)")
    c.add_argument("--output-dir", required=True, metavar="DIR",
                   help="where each run's files and calibration.json go; the same command again reuses the runs")
    _simulation_options(c)
    statistics_options(c)
    c.set_defaults(checkpoint_every=None)


def parse_range(text):
    """(name, lo, hi) of --range NAME=LO,HI: a continuous option (not the seed), lo < hi."""
    name, sep, values = text.partition("=")
    name = name.strip().lstrip("-").replace("-", "_")
    if name == "seed":
        raise ValueError("--range seed: a seed is not a quantity to calibrate; vary it in a sweep instead")
    try:
        vary = parse_vary([text], variable_options(), param_value) if sep else None
    except ValueError as err:   # its message names --vary, whose syntax --range shares
        raise ValueError(str(err).replace("--vary", "--range", 1)) from None
    if vary is None or len(vary[name]) != 2:
        raise ValueError(f"--range {text!r}: give NAME=LO,HI, e.g. eta=0.5,4")
    lo, hi = vary[name]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)) or not lo < hi:
        raise ValueError(f"--range {text!r}: LO and HI must be numbers with LO < HI")
    return name, float(lo), float(hi)


def parse_target(text):
    """(population, measure, value) of --target POP:MEASURE=VALUE."""
    head, sep, value = text.partition("=")
    pop, colon, measure = head.partition(":")
    known = [key for key, _, _ in MEASURES]
    if not sep or not colon or not pop or measure not in known:
        raise ValueError(f"--target {text!r}: give POPULATION:MEASURE=VALUE with MEASURE one of {', '.join(known)}, "
                         f"e.g. E:rate_hz=10")
    try:
        return pop, measure, float(value)
    except ValueError:
        raise ValueError(f"--target {text!r}: {value!r} is not a number") from None


def calibrate_command(args, comm=None, out=None):
    from .analysis.statistics import check_options
    from .io.paths import check_can_create
    import json
    out = out or sys.stdout
    rank = comm.Get_rank() if comm is not None else 0
    name, lo, hi = parse_range(args.range)
    pop, measure, target = parse_target(args.target)
    given = {n for n, _ in args.params or ()}
    if name in given or name != "scale" and getattr(args, name, None) is not None:
        raise ValueError(f"--{name.replace('_', '-')} given and calibrated: leave it to --range")
    tolerance = 0.02 * abs(target) if args.tolerance is None else args.tolerance
    if not tolerance >= 0 or args.max_runs < 2 or args.seeds < 1:
        raise ValueError(f"--tolerance must be >= 0, --max-runs >= 2 and --seeds >= 1, got {tolerance:g}, "
                         f"{args.max_runs} and {args.seeds}")
    check_options(args.lvr_r, args.corr_neurons, args.corr_bin, args.rate_bin)
    check_can_create(args.output_dir, "--output-dir")
    options = {k: v for k, v in sorted(vars(args).items()) if k not in CALIBRATE_ONLY and k != name}
    search = {"lo": lo, "hi": hi, "population": pop, "measure": measure, "target": target,
              "tolerance": tolerance, "max_runs": args.max_runs, "seeds": args.seeds}
    directory = CalibrationDirectory(args.output_dir, args.model, name, search, options)
    directory.check_same()
    for k, x in enumerate((lo, hi)):   # both ends build and fit in time before any run
        directory.add(x)
        _check_point(args, directory, k)
    directory.points.clear()
    if rank == 0:
        directory.write_identity()
    if comm is not None and comm.Get_size() > 1:
        comm.Barrier()

    def share(value):   # rank 0's value on every rank
        return comm.bcast(value) if comm is not None and comm.Get_size() > 1 else value

    def read(k):
        with open(directory.stats_path(k)) as fh:
            return json.load(fh)

    def measured(k):
        """Run k's statistics, running it unless a run before this one did (on all ranks)."""
        done = None
        if rank == 0 and directory.done(k):
            done = read(k)
            directory.check_done(k, done["values"])   # a run at other values: refused
        if share(done is not None):
            if rank == 0:
                print(f"run {k} ({point_label(directory.points[k])}): done before", file=out, flush=True)
        else:
            _check_point(args, directory, k)
            _run_point(args, directory, k, comm, None, out)
            done = read(k) if rank == 0 else None
        stats = share(done["populations"] if rank == 0 else None)
        if pop not in stats:
            raise ValueError(f"--target {args.target}: the model has no population {pop!r}; its populations: "
                             f"{', '.join(stats)}")
        value = stats[pop][measure]
        if value != value:   # nan
            raise ValueError(f"{pop}'s {measure} is undefined at {point_label(directory.points[k])} (a silent "
                             f"population?): narrow --range")
        return value

    spread = {}   # x: the measure's sd over the seeds

    def evaluate(x):
        seeds = [args.seed + j for j in range(args.seeds)] if args.seeds > 1 else [None]
        values = np.array([measured(directory.add(x, s)) for s in seeds])
        spread[x] = float(values.std(ddof=1)) if values.size > 1 else math.nan
        return float(values.mean()) - target

    try:
        history, (x, fx), converged = illinois(evaluate, lo, hi, tolerance, args.max_runs)
    except NoBracket as err:
        raise ValueError(f"calibrate {name} for {pop}'s {measure} = {target:g}: {err}; the runs are kept in "
                         f"{args.output_dir}") from None
    if rank != 0:
        return None
    per = max(args.seeds, 1)
    best = next(i for i, (xi, _) in enumerate(history) if xi == x)   # the value's runs: per x per, in order
    runs = [directory.output(r) for r in range(best * per, (best + 1) * per)]
    result = dict(directory.identity,
                  evaluations=[{name: xi, measure: fi + target, "sd_over_seeds": spread[xi],
                                "runs": list(range(i * per, (i + 1) * per))} for i, (xi, fi) in enumerate(history)],
                  result={name: x, measure: fx + target, "sd_over_seeds": spread[x], "converged": converged,
                          "spike_files": runs})
    write_json(os.path.join(args.output_dir, RESULT_FILE), result)
    if spread[x] > tolerance:   # the search has been resolving the runs' noise, not the option's effect
        print(f"note: the measure's sd over the seeds ({spread[x]:.3g}) exceeds the tolerance ({tolerance:g}): "
              f"ask for a larger tolerance, more --seeds or a longer --t-sim", file=out)
    sd = f", sd {spread[x]:.3g} over {args.seeds} seeds" if per > 1 else ""
    print(f"{name} = {x:.6g} gives {pop}'s {measure} {fx + target:.4g}{sd} (target {target:g} +- {tolerance:g}) "
          + ("" if converged else "NOT within the tolerance ")
          + f"after {_plural(len(history), 'value')} ({_plural(len(directory.points), 'run')}): {runs[0]}"
          + (" ..." if per > 1 else "") + f"; wrote {RESULT_FILE} in {args.output_dir}", file=out)
    return result
