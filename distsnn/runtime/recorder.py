"""The recorded state of a run, sampled (build.state_sampling) as the steps go."""
import numpy as np

from ..build.neuron_values import resting_potentials
from ..model.neurons import STATE_V


class StateRecorder:
    """The engines write the state of every step of one call into `block(n)`; keep() then
    copies the rows of the sampled steps into the kept rows. Host memory holds the kept
    rows and one call's block, whatever the length of the run.

    sampling: a StateSampling; n_probes: columns (the simulator's probes); rows: how many
    sampled rows to hold (the run's, or one checkpoint window's); block_steps: the most
    steps one engine call runs."""

    def __init__(self, sampling, n_probes, rows, block_steps):
        self.sampling = sampling
        self.values = np.empty((rows, n_probes))      # the variable's units; V relative to E_L
        self.steps = np.empty(rows, dtype=np.int64)   # absolute step of each row
        self.n = 0
        self._block = np.empty((block_steps, n_probes))

    def block(self, n_steps):
        """Where an engine writes the state of its next n_steps steps (one row each)."""
        return self._block[:n_steps]

    def keep(self, first, n_steps):
        """Keep the sampled rows of the n_steps steps from absolute step `first` just run."""
        steps = self.sampling.steps(first, first + n_steps)
        k = steps.size
        if k:
            self.values[self.n:self.n + k] = self._block[steps - first]
            self.steps[self.n:self.n + k] = steps
            self.n += k

    def taken(self):
        """(values, steps) of the rows kept so far (views)."""
        return self.values[:self.n], self.steps[:self.n]

    def clear(self):
        self.n = 0


def recorded_offset(plan, sim):
    """What to add to the recorded row of the simulator `sim`: E_L (mV) for the probes of
    V_m (the engines hold V relative to it), 0 for the other variables."""
    return np.where(sim.vrec_code == STATE_V, resting_potentials(plan, sim.vrec_gids), 0.0)[None, :]
