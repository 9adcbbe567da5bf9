"""Device-resident step state shared by the GPU kernels and their driver.

The current step and the bounds of the spike buffer live on the device (a u64 array), so a
step's kernels take no per-step arguments: the same launches, or one captured CUDA graph,
replay step after step with no host synchronisation until the driver flushes the buffers.
A step runs only while a worst-case step (every local neuron spiking) still fits the spike
buffer and the recording buffer has a row left; otherwise the remaining enqueued steps do
nothing and the driver, seeing the step counter short, flushes and enqueues them again.
So the buffers are sized for the usual activity, never lose a spike, and rarely flush.
"""
ST_T = 0        # current step (absolute)
ST_BEGIN = 1    # first spike-buffer entry of the current step's spikes
ST_END = 2      # one past the last spike-buffer entry (atomic append counter)
ST_T0 = 3       # step of row 0 of the state-recording buffer
ST_LIVE = 4     # 1: the current step runs; 0: the buffers might overflow, steps are skipped
# (step << 32) | gid of the AdEx neuron found numerically unstable in the earliest step (the
# lowest gid of that step; atomicMin), NO_BAD if none: the driver raises at the next flush.
# Steps and gids below 2**32 (5 days of biological time at dt 0.1 ms; 4.3e9 neurons)
ST_BAD = 5
NO_BAD = 2 ** 64 - 1
N_ST = 6
