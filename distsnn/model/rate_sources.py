"""Populations of Poisson spike sources (NEST's poisson_generator, sinusoidal_poisson_generator,
inhomogeneous_poisson_generator and mip_generator into parrot_neurons): the methods that add
them to a Network. Each is a population of model poisson_source with rate segments
(Population.rate_times, rate_values) that build.poisson_source turns into thresholds."""
import math

import numpy as np

from ..numbers import is_real, shown
from .inputs import check_rate, grid_steps, window


class RateSources:
    """Network's methods that add Poisson source populations (a mixin: it uses the
    network's dt and add_population)."""

    def add_poisson_source(self, name, size, rate, start=0.0, stop=math.inf):
        """A population of `size` independent Poisson spike sources, each firing at `rate` Hz
        with spike times start < T <= stop (ms): NEST's poisson_generator into as many
        parrot_neurons. (NEST's generator with start, stop stamps its spikes in
        (start + dt, stop + dt], and the parrots repeat them one connection delay d later:
        the same times as start + dt + d, stop + dt + d here.) Each step within the window,
        every source spikes with probability
        rate * dt (a Bernoulli process on the time grid: the same mean rate; NEST's sources
        may spike twice in one step, with probability (rate dt)**2 / 2, which here counts
        once). The draws are counter-based (seed, step, neuron id): no state, so every
        backend, rank count and restart gives the same spikes. Like spike sources they
        project but receive no input."""
        where = f"poisson source {name!r}"
        check_rate(where, rate, self.dt)
        return self._add_window_source(where, name, size, rate, start, stop)

    def add_mip_source(self, name, size, rate, p_copy, start=0.0, stop=math.inf):
        """Correlated Poisson sources, NEST's mip_generator (a Multiple Interaction Process,
        Kuhn, Aertsen & Rotter 2003) into `size` parrot_neurons: a parent Poisson process of
        `rate` Hz whose spikes each source copies with probability `p_copy` (in (0, 1]), so
        that each fires at p_copy * rate Hz and any two have correlation coefficient p_copy.
        Spike times start < T <= stop (ms). (NEST's generator, through parrots of delay d,
        stamps its spikes in (start + d + min_delay, stop + d + min_delay], its simulation's
        least delay, where poisson_generator's come dt after start: measured in NEST 3.10.)
        As add_poisson_source's, a Bernoulli process on the time grid: the parent spikes at
        most once per step, with probability rate * dt. Its draws are counter-based (seed,
        step, population; and each source's), so the sources keep no state."""
        where = f"mip source {name!r}"
        check_rate(where, rate, self.dt)
        if not is_real(p_copy) or not 0.0 < p_copy <= 1.0:
            raise ValueError(f"{where}: p_copy must be a probability in (0, 1], got {shown(p_copy)}")
        pop = self._add_window_source(where, name, size, rate, start, stop)
        pop.p_copy = float(p_copy)
        return pop

    def add_sinusoidal_poisson_source(self, name, size, rate, amplitude, frequency, phase=0.0, start=0.0,
                                      stop=math.inf):
        """Poisson sources with a sinusoidally modulated rate, NEST's sinusoidal_poisson_generator
        (individual_spike_trains) into parrot_neurons: a spike at time T, start < T <= stop
        (ms), comes at max(0, rate + amplitude * sin(2 pi frequency T + phase)) Hz (frequency
        in Hz, T in s, phase in degrees). (NEST's generator stamps its spikes in [start, stop),
        each at the rate of its stamp, and its parrots repeat them a delay d ms later: here, the
        window (start - dt + d, stop - dt + d] and the phase phase - 360 * frequency * d / 1000.)
        rate + |amplitude| is at most one spike per step, the frequency at most half a cycle
        per step. Otherwise as add_poisson_source."""
        where = f"sinusoidal poisson source {name!r}"
        check_rate(where, rate, self.dt)
        for what, value in (("amplitude", amplitude), ("frequency", frequency), ("phase", phase)):
            if not is_real(value):
                raise ValueError(f"{where}: {what} must be a finite number, got {shown(value)}")
        if (rate + abs(amplitude)) * self.dt * 1e-3 > 1.0:
            raise ValueError(f"{where}: rate + |amplitude| = {rate + abs(amplitude):g} Hz exceeds one spike per "
                             f"step (1 / dt = {1e3 / self.dt:g} Hz)")
        if not 0 <= frequency * self.dt * 1e-3 <= 0.5:
            raise ValueError(f"{where}: frequency must be in [0, {500.0 / self.dt:g}] Hz (at most half a cycle per "
                             f"step of dt = {self.dt:g} ms), got {frequency!r}")
        pop = self._add_window_source(where, name, size, rate, start, stop)
        pop.sinusoid = (float(amplitude), float(frequency), float(phase))
        return pop

    def add_inhomogeneous_poisson_source(self, name, size, rate_times, rate_values):
        """Poisson sources with a piecewise-constant rate, NEST's inhomogeneous_poisson_generator
        into parrot_neurons: rate_values[i] Hz for spike times rate_times[i] < T <= rate_times[i + 1]
        (ms; increasing, at least one step apart on the grid they are rounded to), the last rate
        to the end, 0 before the first time. (NEST's generator applies rate i to spikes stamped
        in (t_i - dt, t_(i+1) - dt], which its parrots repeat a delay d later: t_i - dt + d
        here.) Otherwise as add_poisson_source."""
        where = f"inhomogeneous poisson source {name!r}"
        times = np.asarray(rate_times, dtype=np.float64) if np.size(rate_times) else np.zeros(0)
        values = list(rate_values) if np.ndim(rate_values) == 1 else None
        if times.ndim != 1 or values is None or times.size != len(values) or times.size == 0:
            raise ValueError(f"{where}: rate_times and rate_values must be 1-D sequences of the same, "
                             f"nonzero length")
        grid_steps(where, "rate_times", times, self.dt)
        for v in values:
            check_rate(where, v, self.dt)
        return self._add_rate_source(name, size, times.tolist(), [float(v) for v in values])

    def _add_window_source(self, where, name, size, rate, start, stop):
        """A rate source of `rate` Hz for start < T <= stop (ms), 0 outside."""
        start, stop = window(where, start, stop)
        times, values = [start], [float(rate)]
        if math.isfinite(stop):
            times.append(stop)
            values.append(0.0)
        return self._add_rate_source(name, size, times, values)

    def _add_rate_source(self, name, size, times, values):
        pop = self.add_population(name, size)
        pop.model = "poisson_source"
        pop.rate_times = np.array(times, dtype=np.float64)
        pop.rate_values = np.array(values, dtype=np.float64)
        return pop
