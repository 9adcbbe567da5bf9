"""The run loop: build, simulate in blocks with a progress bar, phase timers."""
from ..model.rkf45 import NumericalInstability
from .result import RunResult
from .run import simulate
from .timers import PhaseTimers

__all__ = ["RunResult", "simulate", "PhaseTimers", "NumericalInstability"]
