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


def parameters(network, population, seed=1, ids=None):
    """{parameter: array, one value per neuron} of the neurons `ids` (population-local, default
    all) of `population` as a run with this seed simulates them, values drawn or given per
    neuron included (NEST's GetStatus); see distsnn.build.neuron_table. Builds only the
    plan's small tables: no synapse is generated."""
    from .build import make_plan
    from .build.neuron_table import neuron_table
    return neuron_table(make_plan(network, seed, bound_inputs=False), population, ids)
