"""Sinusoids on the step grid without drift: a phase as a uint64 fraction of a cycle.

The phase of step n is x = phase + cycles * n mod 2**64, with `cycles` the cycles per step
and `phase` the phase at n = 0, both as fractions of 2**64 (integer arithmetic that wraps: the
same on every backend, and exact however long the run). u = (x >> 11) * 2**-53 is exact, and
sin(2 pi u) is the portable psincos_2pi. The kernels repeat sine_at operation for operation
(neuron_kernels.sine_at, common.cuh's sine_at). Used by sinusoidal Poisson sources
(build.poisson_source) and AC currents (Network.add_ac_input).
"""
import math

from ..rng.portable_math import psincos_2pi


def word(fraction):
    """A fraction of a cycle as a phase word (fraction * 2**64 mod 2**64), with the same bits
    as an int64 (the plan's integer tables hold it)."""
    w = int(round(math.fmod(fraction, 1.0) * 2.0 ** 64)) % 2 ** 64
    return w - 2 ** 64 if w >= 2 ** 63 else w


def words(frequency, phase, dt):
    """(cycles per step, phase at step 0) words of a sinusoid of `frequency` Hz and `phase`
    degrees with steps of `dt` ms."""
    return word(frequency * dt * 1e-3), word((phase % 360.0) / 360.0)


def sine_at(cycles, phase, n):
    """sin(2 pi u) at step n of the sinusoid with these words (the reference the kernels match)."""
    x = (int(phase) % 2 ** 64 + (int(cycles) % 2 ** 64) * int(n)) % 2 ** 64
    return float(psincos_2pi(float(x >> 11) * 2.0 ** -53)[0])
