"""What counts as a number in a model's arguments: Python's and NumPy's integers and reals
(a count computed with NumPy is an np.int64, a value read from an array an np.float32 or
np.float64), never a bool. The checks that name an argument's unit and range use these and
keep the value as Python's int or float, so that tables, hashes and metadata see one type.
No imports from the package: the model, the models, the streams and the analysis share it."""
import math

import numpy as np


def is_number(value):
    """Whether `value` is a real number, Python's or NumPy's integer or float (not a bool);
    infinities and NaN included."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def is_integer(value):
    """Whether `value` is an integer, Python's or NumPy's (not a bool)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value):
    """Whether `value` is a finite real number (is_number, not an infinity or NaN)."""
    return is_number(value) and math.isfinite(value)


def shown(value):
    """repr of a value for an error message, NumPy's scalars as the Python number they hold
    (np.float64(nan) reads as nan)."""
    return repr(value.item()) if isinstance(value, np.generic) else repr(value)
