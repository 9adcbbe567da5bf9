"""The one decorator of the CPU kernels.

`kernel` is numba's njit with the on-disk cache and error_model="numpy". Numba's default
("python") checks every float division for a zero divisor so that it can raise
ZeroDivisionError; that branch keeps LLVM from vectorising any loop with a division in it
(plog's f / (2 + f), a delay's d / dt), and made the procedural row generator five times
slower. No kernel divides by zero (divisors are validated model parameters or sums bounded
away from zero), and IEEE division gives the same bits either way, so the spikes do not
change; a zero divisor would give inf or nan instead of an exception.
"""
from functools import partial

from numba import njit

kernel = partial(njit, cache=True, error_model="numpy")
