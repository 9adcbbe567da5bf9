"""Output files: SONATA spike files and membrane-potential reports."""
from .sonata import read_spikes, write_spikes, write_voltage_report, read_voltage_report

__all__ = ["read_spikes", "write_spikes", "write_voltage_report", "read_voltage_report"]
