"""distsnn: large spiking neural networks, the same spikes on CPU, GPU and many ranks.

Typical use:
    from distsnn.models import microcircuit
    from distsnn.runtime import simulate
    result = simulate(microcircuit.build(scale=0.1), t_sim=1000.0, seed=1)
"""
__version__ = "0.1.0"
