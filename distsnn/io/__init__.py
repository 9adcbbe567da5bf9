"""Output files: SONATA spike files and reports of recorded state (V_m, w, g_ex, ...)."""
from .sonata import (read_report, read_spikes, read_voltage_report, report_path, summary_path, write_report,
                     write_spikes)

__all__ = ["read_report", "read_spikes", "read_voltage_report", "report_path", "summary_path", "write_report",
           "write_spikes"]
