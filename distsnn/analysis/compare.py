"""Compare two runs: KL divergence between per-neuron distributions, per population.

The method of Knight & Nowotny (2021, fig. 4): bins from the reference run by the
Freedman-Diaconis rule over [min, max] of the reference values (sqrt(n) bins where the
interquartile range is 0; at most 1000 bins), both histograms normalised
to densities, bins where the comparison is empty (density <= 1e-15) left out, then
D_KL(reference || comparison) of what remains (renormalised).
"""
import numpy as np

from .statistics import analyze_file

MEASURES = ("rate", "lvr", "corr")
MAX_BINS = 1000   # as the reference histograms of the multi-area data (merged to ~1000 bins)


def kl_divergence(reference, comparison):
    """D_KL of the histograms of two samples (nan where the reference cannot be binned)."""
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(comparison, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size == 0:
        return float("nan")
    q75, q25 = np.percentile(a, [75, 25])
    width = 2.0 * (q75 - q25) / a.size ** (1.0 / 3.0)
    lo, hi = a.min(), a.max()
    if hi <= lo:
        return float("nan")                 # a constant reference has no histogram to compare
    # a zero IQR (most values equal, e.g. silent neurons) falls back to sqrt(n) bins; at most
    # MAX_BINS: a near-zero IQR would otherwise ask for billions
    n_bins = np.ceil((hi - lo) / width) if width > 0 else np.ceil(np.sqrt(a.size))
    edges = np.linspace(lo, hi, int(min(n_bins, MAX_BINS)))
    if edges.size < 2:
        return float("nan")
    p, _ = np.histogram(a, bins=edges)
    q, _ = np.histogram(b, bins=edges)
    return kl_from_histograms(p, q, edges[1] - edges[0])


def kl_from_histograms(p, q, width=1.0):
    """D_KL(p || q) of two histograms (counts) on the same bins of `width`: both made
    densities, bins where q's density is <= 1e-15 left out, the rest renormalised (as
    scipy.stats.entropy does in the reference scripts); nan where p has no mass left."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.shape != q.shape or p.sum() <= 0 or q.sum() <= 0:
        return float("nan")
    p, q = p / (p.sum() * width), q / (q.sum() * width)
    keep = q > 1e-15
    if p[keep].sum() <= 0:
        return float("nan")   # no reference mass where the comparison has any: nothing left to compare
    p, q = p[keep] / p[keep].sum(), q[keep] / q[keep].sum()
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))


def _values(stats, measure):
    return {"rate": stats.rates, "lvr": stats.lvr, "corr": stats.corr_per_neuron}[measure]


def compare_files(reference, comparison, **analysis_options):
    """{population: {measure: KL}} for the populations both files share, plus both summaries."""
    a = analyze_file(reference, **analysis_options)
    b = analyze_file(comparison, **analysis_options)
    if not set(a) & set(b):   # two different models: an empty comparison would look like a result
        raise ValueError(f"{reference} and {comparison} have no population in common (populations: "
                         f"{', '.join(sorted(a)) or 'none'}; {', '.join(sorted(b)) or 'none'}): nothing to compare")
    kl = {}
    for name in sorted(set(a) & set(b)):
        kl[name] = {m: kl_divergence(_values(a[name], m), _values(b[name], m)) for m in MEASURES}
    result = {"reference": reference, "comparison": comparison, "kl_divergence": kl,
              "summary_reference": {n: s.summary() for n, s in a.items()},
              "summary_comparison": {n: s.summary() for n, s in b.items()}}
    for key, only in (("only_in_reference", set(a) - set(b)), ("only_in_comparison", set(b) - set(a))):
        if only:   # said, not silently left out of the KL divergences
            result[key] = sorted(only)
    return result, a, b
