"""Device-resident step state shared by the GPU kernels and their driver.

The current step and the bounds of the spike buffer live on the device (a u64 array), so a
step's kernels take no per-step values from the host: the same launches, or one captured
CUDA graph, replay step after step with no host synchronisation until the driver flushes
the buffers. A step runs only while a worst-case step (every local neuron spiking) still
fits the spike buffer and the recording buffer has a row left; otherwise the remaining
enqueued steps do nothing and the driver, seeing the step counter short, flushes and
enqueues them again. So the buffers are sized for the usual activity, never lose a spike,
and rarely flush.

The per-step fields come in two slots, by the parity of the step's place in its block of
enqueued steps: the kernels of a step of parity p read slot p, and the step's first
delivery launch (one thread) ends the step by writing slot 1 - p for the next (kernel
finish_step). Nobody else touches slot 1 - p during that launch, so the end of a step needs
no launch of its own: on an H100 the per-step overhead in CUDA graphs (4 silent neurons)
fell from 7.57 to 5.99 us, against a full-scale microcircuit step of about 22 us.
"""
ST_T = 0        # slot field: current step (absolute)
ST_BEGIN = 1    # slot field: first spike-buffer entry of the current step's spikes
ST_LIVE = 2     # slot field: 1: the current step runs; 0: the buffers might overflow, steps are skipped
ST_SLOT = 3     # slot p's field f is at f + ST_SLOT * p
ST_END = 6      # one past the last spike-buffer entry (atomic append counter)
ST_T0 = 7       # step of row 0 of the state-recording buffer
# (step << 32) | gid of the AdEx neuron found numerically unstable in the earliest step (the
# lowest gid of that step; atomicMin), NO_BAD if none: the driver raises at the next flush.
# Steps and gids below 2**32 (5 days of biological time at dt 0.1 ms; 4.3e9 neurons)
ST_BAD = 8
NO_BAD = 2 ** 64 - 1
# constants of the run, read by finish_step: spikes of a step at most, spike-buffer entries,
# recording-buffer rows
ST_PER_STEP = 9
ST_CAP = 10
ST_ROWS = 11
# the step loop's grid barrier (grid_barrier.cuh): its count, whose top bit flips when the
# last block arrives (any value with the other bits 0 between barriers; 0 at every reset)
ST_BAR = 12
# 1 once an STDP target's spike history ring is full (kernel stdp_record): the next steps are
# skipped, as for full buffers, and the driver makes room before it enqueues them again
# (backends.gpu.stdp); 0 at every reset
ST_FULL = 13
N_ST = 14


def initial_state(t, per_step, spk_cap, rows):
    """The state array at the start of a block of steps that begins at step t (slot 0)."""
    state = [0] * N_ST
    state[ST_T], state[ST_BEGIN], state[ST_LIVE] = t, 0, 1
    state[ST_END], state[ST_T0], state[ST_BAD], state[ST_FULL] = 0, t, NO_BAD, 0
    state[ST_PER_STEP], state[ST_CAP], state[ST_ROWS] = per_step, spk_cap, rows
    return state
