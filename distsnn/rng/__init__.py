"""Counter-based random numbers: the specification every backend must match bit for bit.

`philox` holds Philox4x32-10 (NumPy, vectorised); `portable_math` the transcendental
functions built only from + - * /, sqrt, floor and exponent extraction; `streams` the layout
of counters (which model identity feeds which counter word).
"""
from .philox import philox4x32, uniform_open0_closed1, uint_below
from .portable_math import plog, pexp, pexpm1, plog1p, psincos_2pi, box_muller
from . import streams

__all__ = ["philox4x32", "uniform_open0_closed1", "uint_below", "plog", "pexp", "pexpm1",
           "plog1p", "psincos_2pi", "box_muller", "streams"]
