"""distsnn: large spiking neural networks, the same spikes on CPU, GPU and many ranks.

Typical use:
    from distsnn.models import microcircuit
    import distsnn
    result = distsnn.run(microcircuit.build(scale=0.1), t_sim=1000.0, seed=1)       # one process
    result = distsnn.run(network, t_sim=1000.0, seed=1, comm=MPI.COMM_WORLD)       # under mpiexec
"""
__version__ = "0.1.0"


def run(network, t_sim, **kwargs):
    """Simulate `network` for t_sim ms; see distsnn.runtime.simulate for the options
    (seed, backend, connectivity, comm, partition, exchange, progress, log)."""
    from .runtime import simulate
    return simulate(network, t_sim, **kwargs)
