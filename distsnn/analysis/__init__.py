"""Spike-train statistics, plots and run comparison, computed from SONATA spike files."""
from .statistics import PopulationStats, analyze_file, rate_spectrum
from .compare import compare_files, kl_divergence, kl_from_histograms

__all__ = ["PopulationStats", "analyze_file", "rate_spectrum", "compare_files", "kl_divergence", "kl_from_histograms"]
