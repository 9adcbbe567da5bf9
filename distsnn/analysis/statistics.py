"""Per-population spike statistics streamed from a SONATA file (bounded memory).

Definitions (those of Elephant, checked against it in the tests), over [t_start, t_stop]
inclusive, times in ms:
  rate   number of spikes / (t_stop - t_start), Hz;
  CV     std / mean of the inter-spike intervals (ISIs, population std), neurons with >= 2 ISIs;
  LvR    3/(N-1) * sum_i (1 - 4 I_i I_{i+1} / (I_i + I_{i+1})^2) (1 + 4 R / (I_i + I_{i+1}))
         over the N ISIs of a neuron (Shinomoto et al. 2009; R = refractoriness, ms),
         neurons with >= 2 ISIs;
  corr   Pearson correlation coefficients of spike counts in bins of `corr_bin` ms, between
         a seeded random sample of `corr_neurons` non-silent neurons per population; per
         neuron its mean coefficient with the others, and the mean over all pairs.
  population rate (optional, `rate_bin` ms): spikes of the population per bin over
         (neurons x bin width), Hz, in bins (t_start + k b, t_start + (k + 1) b] (spike times
         are step ends; t_start itself counts in the first bin, the last bin ends at t_stop).
  population Fano factor (with the population rate): variance / mean of the population's
         spike count per bin, 1 for independent Poisson firing, above 1 with synchrony.
  rate spectrum (optional, from the population rate): power spectral density of the rate
         (Hz^2/Hz) by Welch's method (rate_spectrum), and its peak frequency above 0 Hz.
The file is read in blocks of `block` spikes: per-neuron accumulators (counts, ISI sums,
last spike, last ISI) carry across blocks, so a file larger than memory works; only the
correlation sample is held as a (sample x bins) count matrix.
"""
from dataclasses import dataclass

import numpy as np

from ..io.sonata import open_h5, population_size_in_file, run_window
from ..numbers import is_integer, is_real, shown


def _finite_mean(x):
    """The mean of the finite values (nan if none): neurons without a CV or LvR are left out."""
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")


@dataclass
class PopulationStats:
    name: str
    n_neurons: int
    rates: np.ndarray            # Hz, every neuron
    cv: np.ndarray               # per neuron, nan with fewer than 2 ISIs
    lvr: np.ndarray              # per neuron, nan with fewer than 2 ISIs
    corr_ids: np.ndarray         # sampled neuron ids
    corr_per_neuron: np.ndarray  # mean coefficient of each sampled neuron with the others
    corr_mean: float             # mean over all pairs of the sample (nan if < 2 neurons)
    rate_edges: np.ndarray = None   # ms, the population rate's bin edges (with rate_bin)
    rate_series: np.ndarray = None  # Hz, the population rate per bin (with rate_bin)

    def by_node_type(self, type_ids, types=None, labels=("pop_name", "model_name", "ei")):
        """{node type id (str): summary of its neurons (n_neurons, mean_rate_hz, mean_cv,
        mean_lvr, n_silent), with the types table's label columns it has} for a SONATA node
        population whose node_type_id per neuron is `type_ids` (io.sonata_circuit.node_types)."""
        type_ids = np.asarray(type_ids, dtype=np.int64)
        if type_ids.size != self.n_neurons:
            raise ValueError(f"population {self.name!r}: {type_ids.size} node types for {self.n_neurons} neurons")
        out = {}
        for t in np.unique(type_ids).tolist():
            sel = type_ids == t
            out[str(t)] = {"n_neurons": int(sel.sum()), "mean_rate_hz": _finite_mean(self.rates[sel]),
                           "mean_cv": _finite_mean(self.cv[sel]), "mean_lvr": _finite_mean(self.lvr[sel]),
                           "n_silent": int(np.sum(self.rates[sel] == 0))}
            row = (types or {}).get(t, {})
            out[str(t)].update({k: row[k] for k in labels if row.get(k) is not None})
        return out

    def _full_bins(self):
        """The population rate's bin widths (ms), less a last bin shorter than the others
        (the window is not a multiple of the bin)."""
        widths = np.diff(self.rate_edges)
        return widths[:-1] if widths.size > 1 and widths[-1] < widths[0] - 1e-9 else widths

    def spectrum(self, segment_bins=256):
        """rate_spectrum of the population rate (needs rate_bin); a last bin shorter than
        the others (the window is not a multiple of the bin) is left out."""
        if self.rate_series is None:
            raise ValueError("no population rate: analyze with a rate bin for a spectrum")
        widths = self._full_bins()
        return rate_spectrum(self.rate_series[:widths.size], widths[0], segment_bins)

    def population_fano(self):
        """Fano factor (variance / mean) of the population's spike count per bin of the
        population rate (needs rate_bin; a shorter last bin is left out): 1 for neurons that
        fire independently as Poisson processes, larger the more they fire together (nan for
        a silent population or a single bin)."""
        if self.rate_series is None:
            raise ValueError("no population rate: analyze with a rate bin for a Fano factor")
        widths = self._full_bins()
        counts = self.rate_series[:widths.size] * self.n_neurons * widths * 1e-3
        mean = counts.mean() if widths.size > 1 else 0.0
        return float(counts.var() / mean) if mean > 0 else float("nan")

    def summary(self, series=False, spectrum=False):
        """Means over neurons; with series=True also the population rate per bin, with
        spectrum=True its power spectrum (rate_spectrum)."""
        m = _finite_mean
        out = {"n_neurons": self.n_neurons, "mean_rate_hz": m(self.rates), "mean_cv": m(self.cv),
               "mean_lvr": m(self.lvr), "mean_corr": self.corr_mean, "n_silent": int(np.sum(self.rates == 0)),
               "n_with_cv": int(np.isfinite(self.cv).sum()), "n_corr_sample": int(self.corr_ids.size)}
        if self.rate_series is not None:
            out["population_fano"] = self.population_fano()
        if series and self.rate_series is not None:
            out["population_rate"] = {"edges_ms": self.rate_edges.tolist(), "hz": self.rate_series.tolist()}
        if spectrum:
            freq, psd, peak = self.spectrum()
            out["rate_spectrum"] = {"freq_hz": freq.tolist(), "psd_hz2_per_hz": psd.tolist(), "peak_hz": peak}
        return out


def rate_spectrum(series, bin_ms, segment_bins=256):
    """(freq_hz, psd, peak_hz): the one-sided power spectral density (Hz^2/Hz) of a rate
    series (Hz) sampled every bin_ms ms, by Welch's method: Hann-windowed segments of
    `segment_bins` bins (fewer if the series is shorter), overlapping by half, each with its
    mean removed, periodograms averaged. Normalised so that sum(psd) * df is the variance of
    the series (exactly for one segment with a flat window; Hann segments estimate it).
    Resolution df = 1000 / (segment_bins * bin_ms) Hz, up to 500 / bin_ms Hz. peak_hz: the
    frequency of the largest density above 0 Hz (nan for a constant series, e.g. a silent
    population: it has no peak)."""
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"a rate spectrum needs a series of at least 2 bins, got {x.size}")
    if not bin_ms > 0:
        raise ValueError(f"the rate's bin must be > 0 ms, got {bin_ms}")
    seg = int(min(segment_bins, x.size))
    if seg < 2:
        raise ValueError(f"segment_bins must be at least 2, got {segment_bins}")
    fs = 1000.0 / bin_ms                                  # samples per second
    window = np.hanning(seg + 2)[1:-1]                    # no zero end points: every bin counts
    starts = range(0, x.size - seg + 1, max(seg // 2, 1))
    psd = np.zeros(seg // 2 + 1)
    for k in starts:
        part = x[k:k + seg]
        psd += np.abs(np.fft.rfft((part - part.mean()) * window)) ** 2
    psd /= len(starts) * fs * np.sum(window ** 2)
    psd[1:(seg + 1) // 2] *= 2.0                          # one-sided: the negative frequencies' power
    freq = np.fft.rfftfreq(seg, d=1.0 / fs)
    peak = float(freq[1 + np.argmax(psd[1:])]) if psd[1:].max() > 0 else float("nan")
    return freq, psd, peak


def _rate_edges(t_start, t_stop, bin_ms):
    """Bin edges from t_start in steps of bin_ms, the last one at t_stop (a shorter last bin)."""
    n = max(int(np.ceil((t_stop - t_start) / bin_ms - 1e-9)), 1)
    return np.minimum(t_start + bin_ms * np.arange(n + 1), t_stop)


def _rate_bins(t, edges):
    """Index of the bin (edges[k], edges[k + 1]] of each time; edges[0] itself in bin 0."""
    return np.clip(np.searchsorted(edges, t, side="left") - 1, 0, edges.size - 2)


class _Accumulator:
    """Per-neuron running sums over time-sorted blocks of one population's spikes."""

    def __init__(self, n, lvr_r):
        self.count = np.zeros(n, dtype=np.int64)
        self.last_t = np.full(n, np.nan)
        self.last_isi = np.full(n, np.nan)
        self.n_isi = np.zeros(n, dtype=np.int64)
        self.s_isi = np.zeros(n)
        self.s2_isi = np.zeros(n)
        self.lvr_sum = np.zeros(n)
        self.lvr_r = lvr_r

    def add(self, ids, t):
        if ids.size == 0:          # a block with no spikes in the window (e.g. all before t_start)
            return
        n = self.count.size
        self.count += np.bincount(ids, minlength=n)
        order = np.argsort(ids, kind="stable")     # grouped by neuron, still time-ordered inside
        ids, t = ids[order], t[order]
        same = ids[1:] == ids[:-1]
        first = np.concatenate([[True], ~same])
        last = np.concatenate([~same, [True]])
        prev_t = np.empty_like(t)
        prev_t[1:] = t[:-1]
        prev_t[first] = self.last_t[ids[first]]
        isi = t - prev_t
        prev_isi = np.empty_like(isi)
        prev_isi[1:] = isi[:-1]
        prev_isi[first] = self.last_isi[ids[first]]
        ok = np.isfinite(isi)
        self.n_isi += np.bincount(ids[ok], minlength=n)
        self.s_isi += np.bincount(ids[ok], weights=isi[ok], minlength=n)
        self.s2_isi += np.bincount(ids[ok], weights=isi[ok] ** 2, minlength=n)
        pair = ok & np.isfinite(prev_isi)
        a, b = prev_isi[pair], isi[pair]
        s = a + b
        with np.errstate(invalid="ignore", divide="ignore"):
            # two intervals of 0 in a row (a spike source's repeated spikes in one step): the
            # LvR is undefined, NaN for that neuron
            term = (1.0 - 4.0 * a * b / s ** 2) * (1.0 + 4.0 * self.lvr_r / s)
        self.lvr_sum += np.bincount(ids[pair], weights=term, minlength=n)
        self.last_t[ids[last]] = t[last]
        upd = last & ok
        self.last_isi[ids[upd]] = isi[upd]

    def results(self, span_ms):
        rates = self.count / (span_ms * 1e-3)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = self.s_isi / self.n_isi
            std = np.sqrt(np.maximum(self.s2_isi / self.n_isi - mean ** 2, 0.0))
            cv = np.where(self.n_isi >= 2, std / mean, np.nan)
            lvr = np.where(self.n_isi >= 2, 3.0 * self.lvr_sum / (self.n_isi - 1), np.nan)
        return rates, cv, lvr


def population_rates(counts, recorded, t_start, t_stop):
    """{population: mean rate (Hz)}: its spikes in the window (t_start, t_stop] (ms) over
    (recorded neurons x window); NaN where no neuron is recorded or the window is empty.
    counts: {population: spikes in the window}; recorded: {population: recorded neurons}.
    The one formula behind RunResult.mean_rates and io.segments.mean_rates."""
    span = (t_stop - t_start) * 1e-3
    return {name: float(counts.get(name, 0) / (n * span)) if n and span > 0 else float("nan")
            for name, n in recorded.items()}


def _blocks(group, block, t_start, t_stop):
    ts, ids = group["timestamps"], group["node_ids"]
    for lo in range(0, ts.shape[0], block):
        t = ts[lo:lo + block]
        i = ids[lo:lo + block].astype(np.int64)
        sel = (t >= t_start) & (t <= t_stop)
        yield i[sel], t[sel]


def _correlations(group, sample, block, t_start, t_stop, bin_ms):
    _check_bins(f"correlations of {group.name.rsplit('/', 1)[-1]}", sample.size, t_stop - t_start, bin_ms,
                "give a larger bin (--corr-bin) or fewer neurons (--corr-neurons)")
    n_bins = int(np.ceil((t_stop - t_start) / bin_ms))
    row = np.full(int(sample.max()) + 1 if sample.size else 0, -1, dtype=np.int64)
    row[sample] = np.arange(sample.size)
    counts = np.zeros((sample.size, max(n_bins, 1)))
    for ids, t in _blocks(group, block, t_start, t_stop):
        keep = ids < row.size
        ids, t = ids[keep], t[keep]
        r = row[ids]
        keep = r >= 0
        b = np.minimum(((t[keep] - t_start) / bin_ms).astype(np.int64), n_bins - 1)   # t_stop in the last bin
        np.add.at(counts, (r[keep], b), 1.0)
    if sample.size < 2:
        return np.full(sample.size, np.nan), float("nan")
    c = np.corrcoef(counts)
    np.fill_diagonal(c, np.nan)
    return np.nanmean(c, axis=1), float(np.nanmean(c[np.triu_indices(sample.size, 1)]))


def check_options(lvr_r, corr_neurons, corr_bin, rate_bin):
    """The analysis options, checked before the file is read (a ValueError names the option)."""
    if not (is_real(lvr_r) and lvr_r >= 0):
        raise ValueError(f"LvR's refractoriness R must be a finite number of ms >= 0, got {lvr_r!r}")
    if not is_integer(corr_neurons) \
            or corr_neurons < 0 or corr_neurons == 1:
        raise ValueError(f"correlations: the sample of neurons per population must be 0 (no correlations) or "
                         f"an integer >= 2 (a coefficient needs a pair), got {shown(corr_neurons)}")
    if not (is_real(corr_bin) and corr_bin > 0):
        raise ValueError(f"correlations: the bin of the spike counts must be a positive number of ms, "
                         f"got {corr_bin!r}")
    if rate_bin is not None and not (is_real(rate_bin) and rate_bin > 0):
        raise ValueError(f"the population rate's bin must be a positive number of ms, got {rate_bin!r}")


MAX_BIN_BYTES = 4 << 30   # the largest count matrix or rate series the bins may ask for (bytes)


def _check_bins(what, rows, span_ms, bin_ms, option):
    """Refuse, before allocating, `rows` series of bins of bin_ms ms over span_ms ms (the
    correlations' count matrix, the population rate) that would exceed MAX_BIN_BYTES: a clear
    error rather than a MemoryError or a stalled machine."""
    bins = np.ceil(span_ms / bin_ms)
    need = rows * max(bins, rows) * 8.0   # the correlations' coefficients are rows x rows
    if need > MAX_BIN_BYTES:
        raise ValueError(f"{what}: {rows} x {bins:.4g} bins of {bin_ms:g} ms over {span_ms:g} ms would take "
                         f"{need / 2**30:.3g} GiB (at most {MAX_BIN_BYTES / 2**30:g}); {option}")


def analyze_file(path, t_start=None, t_stop=None, lvr_r=2.0, corr_neurons=200, corr_bin=1.0, block=1 << 20,
                 seed=0, populations=None, rate_bin=None):
    """{population: PopulationStats} of a SONATA spike file.

    t_start / t_stop (ms; default: the run's own window, which starts after 0 for a run
    restarted from a checkpoint); lvr_r: LvR refractoriness (ms);
    corr_neurons: sample size per population for correlations (non-silent neurons, seeded;
    0: none);
    corr_bin (ms); block: spikes read at a time; rate_bin (ms): also the population rate
    in bins of this width (rate_edges, rate_series).
    """
    check_options(lvr_r, corr_neurons, corr_bin, rate_bin)
    out = {}
    with open_h5(path, "spikes") as f:
        run_start, run_stop = run_window(f)
        t_start = run_start if t_start is None else float(t_start)
        t_stop = run_stop if t_stop is None else float(t_stop)
        if not (np.isfinite(t_start) and np.isfinite(t_stop) and t_stop > t_start):
            raise ValueError(f"analysis window: t_stop ({t_stop}) must be after t_start ({t_start}), both finite")
        if rate_bin is not None:
            _check_bins("population rate", 1, t_stop - t_start, rate_bin, "give a larger bin (--rate-bin)")
        edges = _rate_edges(t_start, t_stop, rate_bin) if rate_bin is not None else None   # one grid for all
        for name, group in f["spikes"].items():
            if populations is not None and name not in populations:
                continue
            n = population_size_in_file(group, block)
            acc = _Accumulator(n, lvr_r)
            per_bin = np.zeros(edges.size - 1 if edges is not None else 0, dtype=np.int64)
            for ids, t in _blocks(group, block, t_start, t_stop):
                acc.add(ids, t)
                if edges is not None:
                    per_bin += np.bincount(_rate_bins(t, edges), minlength=per_bin.size)
            rates, cv, lvr = acc.results(t_stop - t_start)
            series = per_bin / (max(n, 1) * np.diff(edges) * 1e-3) if edges is not None else None
            active = np.nonzero(acc.count > 0)[0]
            rng = np.random.default_rng(seed)
            sample = np.sort(rng.choice(active, size=min(corr_neurons, active.size), replace=False))
            per_neuron, mean = _correlations(group, sample, block, t_start, t_stop, corr_bin)
            out[name] = PopulationStats(name, n, rates, cv, lvr, sample, per_neuron, mean, edges, series)
    return out
