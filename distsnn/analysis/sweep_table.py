"""A sweep's results as a table: each point's spike statistics per population (from its
spike file), collected into one JSON and one CSV file, and drawn against the varied options.

Measures per point and population (analysis.statistics, over the point's window from
--rates-from to its end):
  rate_hz   mean rate over neurons (Hz);
  cv        mean CV of the inter-spike intervals (regularity: 0 clock-like, 1 Poisson);
  lvr       mean local variation LvR;
  corr      mean pairwise correlation of spike counts (corr_bin bins, a sample of neurons);
  fano      Fano factor of the population's spike count per rate_bin bin (synchrony: 1 for
            independent Poisson firing, larger the more the neurons fire together);
  peak_hz   the frequency of the population rate's spectral peak (oscillations).
"""
import csv
import math
import os

from .statistics import analyze_file

MEASURES = (("rate_hz", "mean_rate_hz", "rate (Hz)"), ("cv", "mean_cv", "CV ISI"), ("lvr", "mean_lvr", "LvR"),
            ("corr", "mean_corr", "correlation"), ("fano", "population_fano", "population Fano factor"),
            ("peak_hz", None, "spectral peak (Hz)"))
PLOTTED = ("rate_hz", "cv", "fano", "peak_hz")
MAX_POPULATIONS_PLOTTED = 8


def point_statistics(spike_file, t_start, corr_neurons=100, corr_bin=1.0, rate_bin=1.0, lvr_r=2.0, t_stop=None):
    """{population: {measure: value}} of one point's spike file from t_start (ms) to its end
    (or t_stop, ms; a file of another simulator has no end of its own) (nan where a measure is
    undefined: a silent population's CV, a sample of fewer than two active neurons'
    correlation)."""
    stats = analyze_file(spike_file, t_start=t_start, t_stop=t_stop, lvr_r=lvr_r, corr_neurons=corr_neurons,
                         corr_bin=corr_bin, rate_bin=rate_bin)
    out = {}
    for name, s in stats.items():
        summary = s.summary()
        row = {"n_neurons": s.n_neurons}
        for key, field, _ in MEASURES:
            row[key] = s.spectrum()[2] if field is None else summary[field]
        out[name] = row
    return out


def table_rows(points, results):
    """One row per point and population: the point's index and varied values, the
    population, its measures and the run's real-time factor. results[k]: point k's stats
    file's content ({'populations': ..., 'real_time_factor': ...})."""
    rows = []
    for k, (point, result) in enumerate(zip(points, results)):
        for name, measures in result["populations"].items():
            row = dict({"point": k}, **point, population=name, n_neurons=measures["n_neurons"])
            row.update({key: measures[key] for key, _, _ in MEASURES})
            row["real_time_factor"] = result.get("real_time_factor", math.nan)
            rows.append(row)
    return rows


def write_csv(path, rows):
    """The rows as CSV (nan where undefined), columns in the rows' order; whole or not at all
    (a temporary file, then a rename)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def over_seeds(vary, rows):
    """(vary without the seed, rows): where the sweep varies the seed over two or more
    values, one row per other point and population with each measure's mean over the seeds
    (nan-aware: a seed where it is undefined is left out), its standard deviation
    (`<measure>_sd`) and the seeds (`n_seeds`); else (vary, rows) as they are."""
    import numpy as np
    if len(vary.get("seed", ())) < 2:
        return vary, rows
    others = {k: v for k, v in vary.items() if k != "seed"}
    groups = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in others) + (r["population"],), []).append(r)
    out = []
    for key, group in groups.items():
        row = dict(zip(others, key[:-1]), population=key[-1], n_neurons=group[0]["n_neurons"], n_seeds=len(group))
        for m, _, _ in MEASURES:
            x = np.array([g[m] for g in group], dtype=float)
            x = x[np.isfinite(x)]
            row[m] = float(x.mean()) if x.size else math.nan
            row[m + "_sd"] = float(x.std(ddof=1)) if x.size > 1 else math.nan
        out.append(row)
    return others, out


def _norm(values, span=20.0):
    """A logarithmic colour scale for positive values spanning more than `span` times (rates
    from a few Hz to saturation), else None (linear)."""
    import numpy as np
    from matplotlib.colors import LogNorm
    v = values[np.isfinite(values)]
    if v.size and v.min() > 0 and v.max() > span * v.min():
        return LogNorm(vmin=v.min(), vmax=v.max())
    return None


def plot_sweep(out_png, vary, rows, measures=PLOTTED, max_populations=MAX_POPULATIONS_PLOTTED):
    """The measures against the varied options: for one option, a line per population in a
    panel per measure; for two, a map per population (rows) and measure (columns), the first
    option on the x axis. Give a sweep that varies the seed as over_seeds returns it (the
    means, and their sd as error bars on the lines). More than two options: a ValueError (the
    caller checks first)."""
    from .plots import _pyplot
    import numpy as np
    names = list(vary)
    if len(names) > 2:
        raise ValueError(f"a sweep's plot shows one or two varied options (besides the seed), this sweep varies "
                         f"{len(names)}")
    plt = _pyplot()
    pops = list(dict.fromkeys(r["population"] for r in rows))[:max_populations]
    labels = {key: text for key, _, text in MEASURES}
    if len(names) == 1:
        x = list(vary[names[0]])
        fig, axes = plt.subplots(1, len(measures), figsize=(3.6 * len(measures), 3.2), squeeze=False)
        for ax, key in zip(axes[0], measures):
            values = []
            for pop in pops:
                by_x = {r[names[0]]: r for r in rows if r["population"] == pop}
                y = [by_x[v][key] for v in x]
                values += y
                ax.errorbar(x, y, yerr=[by_x[v].get(key + "_sd", math.nan) for v in x], fmt="o-", capsize=2,
                            label=pop)
            if _norm(np.array(values, dtype=float)) is not None:
                ax.set_yscale("log")
            ax.set_xlabel(names[0])
            ax.set_title(labels[key], fontsize=10)
        axes[0][0].legend(fontsize=7)
    else:
        xs, ys = list(vary[names[0]]), list(vary[names[1]])
        fig, axes = plt.subplots(len(pops), len(measures), figsize=(3.4 * len(measures), 2.9 * len(pops)),
                                 squeeze=False)
        for i, pop in enumerate(pops):
            cells = {(r[names[0]], r[names[1]]): r for r in rows if r["population"] == pop}
            for j, key in enumerate(measures):
                ax = axes[i][j]
                z = np.array([[cells[(a, b)][key] for a in xs] for b in ys], dtype=float)
                image = ax.imshow(z, origin="lower", aspect="auto", cmap="viridis", norm=_norm(z))
                fig.colorbar(image, ax=ax, shrink=0.8)
                ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs], fontsize=7)
                ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys], fontsize=7)
                ax.set_xlabel(names[0])
                ax.set_ylabel(f"{pop}\n{names[1]}" if j == 0 else names[1])
                if i == 0:
                    ax.set_title(labels[key], fontsize=10)
    fig.tight_layout()
    tmp = f"{out_png}.{os.getpid()}.tmp"
    fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    os.replace(tmp, out_png)
