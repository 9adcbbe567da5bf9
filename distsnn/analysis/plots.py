"""PNG figures: raster of a sample per population, per-neuron rate histograms, population
rates over time, comparison."""
import os

import numpy as np

from ..io.sonata import open_h5


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def raster(path, out_png, stats, neurons_per_population=50, t_start=None, t_stop=None, seed=0):
    """Spikes of up to `neurons_per_population` random neurons of each population, stacked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 6))
    offset = 0
    ticks = []
    rng = np.random.default_rng(seed)
    with open_h5(path, "spikes") as f:
        for name, g in f["spikes"].items():
            n = stats[name].n_neurons
            pick = np.sort(rng.choice(n, size=min(neurons_per_population, n), replace=False)) if n else np.zeros(0, int)
            row = np.full(n, -1)
            row[pick] = np.arange(pick.size)
            t = g["timestamps"][()]
            ids = g["node_ids"][()].astype(np.int64)
            sel = (row[ids] >= 0) & (t >= (t_start if t_start is not None else -np.inf)) \
                & (t <= (t_stop if t_stop is not None else np.inf))
            ax.plot(t[sel], offset + row[ids[sel]], "|", markersize=2)
            ticks.append((offset + pick.size / 2, name))
            offset += pick.size + 5
    ax.set_yticks([p for p, _ in ticks], [n for _, n in ticks])
    ax.invert_yaxis()
    ax.set_xlabel("time (ms)")
    ax.set_title(f"{os.path.basename(path)}: {neurons_per_population} neurons per population")
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)


def population_rates(out_png, stats, max_panels=12):
    """The population rate over time (stats from analyze_file with rate_bin): one panel per
    population up to max_panels, else one image of all (rows: populations; colour: Hz)."""
    plt = _pyplot()
    names = [n for n in stats if stats[n].rate_series is not None]
    if not names:
        raise ValueError("no population rates to plot: analyze with a rate bin")
    edges = stats[names[0]].rate_edges
    if len(names) <= max_panels:
        fig, axes = plt.subplots(len(names), 1, figsize=(8, 1.1 * len(names) + 0.8), sharex=True, squeeze=False)
        for ax, name in zip(axes[:, 0], names):
            ax.stairs(stats[name].rate_series, stats[name].rate_edges)
            ax.set_ylabel(f"{name}\n(Hz)", fontsize=8)
        axes[-1, 0].set_xlabel("time (ms)")
    else:
        fig, ax = plt.subplots(figsize=(9, 0.05 * len(names) + 2))
        image = ax.pcolormesh(edges, np.arange(len(names) + 1), np.array([stats[n].rate_series for n in names]),
                              shading="flat")
        fig.colorbar(image, ax=ax, label="population rate (Hz)")
        ax.set_ylabel(f"{len(names)} populations (file order)")
        ax.invert_yaxis()
        ax.set_xlabel("time (ms)")
    bin_ms = edges[1] - edges[0] if edges.size > 1 else 0.0
    fig.suptitle(f"population rate, {bin_ms:g} ms bins", fontsize=10)
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)


def rate_spectra(out_png, stats, max_lines=12):
    """The power spectral density of each population's rate (stats from analyze_file with
    rate_bin; PopulationStats.spectrum), log scale, its peak marked; up to max_lines
    populations as lines, more as one image (rows: populations; colour: log10 density)."""
    plt = _pyplot()
    names = [n for n in stats if stats[n].rate_series is not None]
    if not names:
        raise ValueError("no population rates to plot: analyze with a rate bin")
    spectra = {n: stats[n].spectrum() for n in names}
    freq = spectra[names[0]][0]
    fig, ax = plt.subplots(figsize=(8, 4.5 if len(names) <= max_lines else 0.05 * len(names) + 2))
    flat = []   # populations whose rate does not fluctuate: no line on a log scale
    if len(names) <= max_lines:
        for name in names:
            f, psd, peak = spectra[name]
            if not np.any(psd[1:] > 0):   # a silent (or constant) population: nothing on a log scale
                flat.append(name)
                continue
            line, = ax.semilogy(f[1:], psd[1:], label=f"{name} (peak {peak:.3g} Hz)", lw=1)
            ax.axvline(peak, color=line.get_color(), lw=0.5, ls=":")
        ax.set_ylabel("power spectral density (Hz$^2$/Hz)")
        if len(flat) < len(names):
            ax.legend(fontsize=7, ncol=2)
    else:
        dens = np.log10(np.maximum(np.array([spectra[n][1][1:] for n in names]), 1e-30))
        df = freq[1] - freq[0]
        image = ax.pcolormesh(np.append(freq[1:] - df / 2, freq[-1] + df / 2), np.arange(len(names) + 1), dens,
                              shading="flat")
        fig.colorbar(image, ax=ax, label="log10 PSD (Hz$^2$/Hz)")
        ax.set_ylabel(f"{len(names)} populations (file order)")
        ax.invert_yaxis()
    ax.set_xlabel("frequency (Hz)")
    ax.set_title(f"population rate spectra (Welch; resolution {freq[1] - freq[0]:.3g} Hz)"
                 + (f"\nno fluctuation (silent or constant rate): {', '.join(flat)}" if flat else ""), fontsize=10)
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)


def rate_histograms(out_png, stats):
    plt = _pyplot()
    names = list(stats)
    cols = min(4, max(1, len(names)))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.4 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        ax.hist(stats[name].rates, bins=40)
        ax.set_title(f"{name} ({stats[name].summary()['mean_rate_hz']:.2f} Hz)", fontsize=9)
        ax.set_xlabel("rate (Hz)", fontsize=8)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)


def comparison(out_png, result):
    """KL divergence per population and measure."""
    plt = _pyplot()
    kl = result["kl_divergence"]
    names = list(kl)
    fig, axes = plt.subplots(3, 1, figsize=(7, 6), sharex=True)
    for ax, measure in zip(axes, ("rate", "lvr", "corr")):
        ax.bar(range(len(names)), [kl[n][measure] for n in names])
        ax.set_ylabel(f"D_KL {measure}")
    axes[-1].set_xticks(range(len(names)), names)
    fig.suptitle("per-neuron distributions: reference vs comparison")
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)


TRACE_WINDOW_MS = 1000.0   # state_traces' default window: traces of longer runs are unreadable


def state_traces(report, out_png, t_start=None, t_stop=None, neurons=5, max_panels=12):
    """Traces of one recorded state variable (a report file, io.write_report): the first
    `neurons` recorded neurons of each population (up to max_panels panels) over
    [t_start, t_stop] ms (default: TRACE_WINDOW_MS from t_start or the report's start). Reads
    only those columns and steps. Returns (variable, window)."""
    plt = _pyplot()
    with open_h5(report, "report") as f:
        groups = list(f["report"].items())
        if not groups:
            raise ValueError(f"{report}: the report holds no population")
        first = groups[0][1]
        start, stop, step = (float(x) for x in first["mapping/time"][()])
        variable = str(first["data"].attrs.get("variable", "V_m"))
        units = str(first["data"].attrs.get("units", ""))
        lo = start if t_start is None else max(float(t_start), start)
        hi = lo + TRACE_WINDOW_MS if t_stop is None else float(t_stop)
        # sample i holds the state at start + i * step
        i0 = max(0, int(np.ceil((lo - start) / step - 1e-9)))
        i1 = min(first["data"].shape[0], int(np.floor((hi - start) / step + 1e-9)) + 1)
        if i1 <= i0:
            raise ValueError(f"{report}: no recorded sample in {lo:g}..{hi:g} ms (recorded {start:g}..{stop:g} ms)")
        shown = groups[:max_panels]
        fig, axes = plt.subplots(len(shown), 1, figsize=(8, 1.4 * len(shown) + 0.8), sharex=True, squeeze=False)
        times = start + step * np.arange(i0, i1)
        for ax, (name, g) in zip(axes[:, 0], shown):
            n = min(neurons, g["data"].shape[1])
            data = g["data"][i0:i1, :n]
            for c in range(n):
                ax.plot(times, data[:, c], lw=0.7)
            ax.set_ylabel(f"{name}\n({units})", fontsize=8)
        axes[-1, 0].set_xlabel("time (ms)")
        more = f" ({len(groups) - len(shown)} more populations not shown)" if len(groups) > len(shown) else ""
        axes[0, 0].set_title(f"{variable}: first {neurons} recorded neurons per population{more}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return variable, (float(times[0]), float(times[-1]))
