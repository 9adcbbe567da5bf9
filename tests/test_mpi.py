"""Under MPI (mpiexec -n 2 / -n 4 python -m mpi4py -m pytest --only-mpi): the same spikes as
one process, for every connectivity mode, collective and partition; parallel output."""
import os

import h5py
import numpy as np
import pytest

from distsnn.io import read_spikes, write_spikes
from distsnn.io.parallel import h5py_has_mpi, write_spikes_parallel
from distsnn.build.plan import JI_COUNT_COL0, JI_COUNT_COLS, UI_CHUNK
from distsnn.build.count_layout import held_cells
from distsnn.model import FixedIndegree, FixedOutdegree, FixedProbability, FixedTotalNumber, Network, Normal
from distsnn.runtime import simulate
from test_determinism import mixed_network

pytestmark = pytest.mark.mpi(min_size=2)


@pytest.fixture(scope="module")
def comm():
    from mpi4py import MPI
    return MPI.COMM_WORLD


def interval_network():
    """Cross-population delays of 9+ steps, 1-step delays inside populations."""
    n = Network(dt=0.1, chunk_size=64)
    n.add_population("E", 256, v_init=Normal(-60.0, 5.0))
    n.add_population("I", 64)
    n.add_population("F", 128)
    n.connect("E", "E", FixedTotalNumber(8000), Normal(40.0, 4.0), 0.1)
    n.connect("E", "I", FixedProbability(0.2), 60.0, 1.0)
    n.connect("I", "E", FixedProbability(0.2), -80.0, 1.2)
    n.connect("F", "F", FixedProbability(0.1), Normal(30.0, 3.0), 0.2)
    n.connect("E", "F", FixedTotalNumber(3000), 20.0, 0.9)
    rng = np.random.default_rng(0)
    n.add_spike_source("S", 150, rng.integers(0, 150, 3000), rng.uniform(0.1, 150.0, 3000))
    n.connect("S", "F", FixedProbability(0.1), 80.0, 1.1)
    n.record_spikes("S")
    for p in ("E", "I", "F"):
        n.add_poisson_input(p, indegree=1000, rate=16.0, weight=45.0, delay=1.5)
        n.record_spikes(p)
    n.record_voltage("E", [0, 100, 255])
    return n


def assert_same(res, ref):
    g, s = res.all_spikes()
    assert np.array_equal(g, ref.spike_gids) and np.array_equal(s, ref.spike_steps)
    assert res.events == ref.events


def assert_same_voltages(comm, res, ref):
    """The state every rank recorded of its own neurons, gathered, is the one process's."""
    g = np.concatenate(comm.allgather(res.vrec_gids))
    var = np.concatenate(comm.allgather(res.vrec_var))
    v = np.concatenate(comm.allgather(res.vrec), axis=1)
    order = np.lexsort((g, var))
    assert np.array_equal(g[order], ref.vrec_gids) and np.array_equal(v[:, order], ref.vrec)


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
@pytest.mark.parametrize("method", ["allgatherv", "alltoallv"])
def test_same_spikes_as_one_process(comm, connectivity, method):
    ref = simulate(mixed_network(), 150.0, seed=12, connectivity=connectivity, progress=False)
    res = simulate(mixed_network(), 150.0, seed=12, connectivity=connectivity, progress=False, comm=comm,
                   exchange=method)
    assert_same(res, ref)
    assert res.mean_rates() == ref.mean_rates()
    # every recorded variable, on whichever rank owns its neuron, equals the one-process trace
    got = dict(zip(zip(res.vrec_var.tolist(), res.vrec_gids.tolist()), res.vrec.T))
    assert comm.allreduce(len(got)) == ref.vrec.shape[1] == len(set(zip(ref.vrec_var, ref.vrec_gids)))
    for probe, trace in zip(zip(ref.vrec_var.tolist(), ref.vrec_gids.tolist()), ref.vrec.T):
        if probe in got:
            assert np.array_equal(got[probe], trace)
    # each rank bounded only its own neurons' input: the allreduce gives the one-process scales
    assert res.plan.ring_bits == ref.plan.ring_bits == 32
    assert np.array_equal(res.plan.scale_exp, ref.plan.scale_exp)
    assert res.plan.info["input_bound"] == ref.plan.info["input_bound"]


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
@pytest.mark.parametrize("draws", ["uniform", "exponential"])
def test_uniform_and_exponential_draws_same_as_one_process(comm, draws, connectivity):
    """Uniform and Exponential draws on ranks, each rank's neurons' synapses regenerated on
    their own: the one process's spikes and events."""
    from test_exponential_synapses import exponential_network
    from test_uniform_synapses import uniform_network
    network = uniform_network if draws == "uniform" else exponential_network
    ref = simulate(network(), 100.0, seed=12, connectivity=connectivity, progress=False)
    res = simulate(network(), 100.0, seed=12, connectivity=connectivity, progress=False, comm=comm)
    assert ref.spike_gids.size > 300
    assert_same(res, ref)


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_currents_into_subsets_same_as_one_process(comm, connectivity):
    """Step, DC, AC and noise currents into some neurons (dc_mask's bits, read by each rank
    for its own neurons): the one process's spikes and voltages."""
    from test_step_current import stimulated_network
    ref = simulate(stimulated_network(), 100.0, seed=12, connectivity=connectivity, progress=False)
    res = simulate(stimulated_network(), 100.0, seed=12, connectivity=connectivity, progress=False, comm=comm)
    assert ref.spike_gids.size > 300
    assert_same(res, ref)
    assert_same_voltages(comm, res, ref)


@pytest.mark.parametrize("strategy", ["populations", "split", "auto"])
def test_exchange_intervals_longer_than_one_step(comm, strategy):
    if strategy == "populations" and comm.Get_size() > 3:
        pytest.skip("more ranks than populations")
    ref = simulate(interval_network(), 150.0, seed=3, progress=False)
    res = simulate(interval_network(), 150.0, seed=3, progress=False, comm=comm, partition=strategy)
    assert_same(res, ref)
    # E->E (1 step) and F->F (2 steps) cross ranks only if E or F is split; otherwise 9 steps
    # (S->F, 11 steps, never sets it)
    split = [len(r) > 1 for r in res.partition.rank_of_population()]
    expected = 1 if split[0] else (2 if split[2] else 9)
    assert res.exchange["interval_steps"] == expected
    # voltages recorded on whichever rank owns the neuron equal the single-process trace
    got = dict(zip(res.vrec_gids.tolist(), res.vrec.T))
    for gid, trace in zip(ref.vrec_gids.tolist(), ref.vrec.T):
        if gid in got:
            assert np.array_equal(got[gid], trace)


def _shared_dir(comm, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("par")) if comm.Get_rank() == 0 else None
    return comm.bcast(path, root=0)


@pytest.mark.parametrize("mode", ["virtual", "gather", "mpio"])
def test_parallel_spike_file_reads_like_single_process_file(comm, tmp_path_factory, mode):
    if mode == "mpio" and not h5py_has_mpi():
        pytest.skip("h5py without MPI")
    d = _shared_dir(comm, tmp_path_factory)
    ref = simulate(mixed_network(), 100.0, seed=4, progress=False)
    res = simulate(mixed_network(), 100.0, seed=4, progress=False, comm=comm)
    if comm.Get_rank() == 0:
        write_spikes(os.path.join(d, "serial.h5"), ref, {"seed": 4})
    path = os.path.join(d, f"{mode}.h5")
    used = write_spikes_parallel(path, comm, res.plan, res.spike_gids, res.spike_steps, res.n_steps, {"seed": 4}, mode)
    assert used == mode
    comm.Barrier()
    a, b = read_spikes(os.path.join(d, "serial.h5")), read_spikes(path)
    assert sorted(a) == sorted(b)
    for name in a:
        assert np.array_equal(a[name][0], b[name][0]) and np.array_equal(a[name][1], b[name][1])
    with h5py.File(path, "r") as f:
        assert f.attrs["magic"] == 0x0A7A and f["spikes/E"].attrs["sorting"] == "by_time"
        assert f["distsnn"].attrs["write_mode"] == mode
        if mode == "virtual":
            assert f["spikes/E/timestamps"].is_virtual
    comm.Barrier()


@pytest.mark.parametrize("mode", ["virtual", "gather", "mpio"])
def test_parallel_spike_file_with_populations_silent_on_some_ranks(comm, tmp_path_factory, mode):
    """Spikes are written by time: the first rank holds the early ones. A population that
    fires only late (and one that never fires) leaves ranks with nothing to write of it; in
    mpio mode they must still take part in the collective writes: h5py skips a write with an
    empty selection, so the first rank made two collective writes fewer than the others, and
    the job hung (the mixed network of test_determinism did so once it had such a population)."""
    if mode == "mpio" and not h5py_has_mpi():
        pytest.skip("h5py without MPI")
    d = _shared_dir(comm, tmp_path_factory)
    net = Network(dt=0.1, chunk_size=64)
    net.add_spike_source("steady", 40, np.arange(40), np.linspace(1.0, 99.0, 40))
    net.add_spike_source("late", 40, np.arange(40), np.linspace(90.0, 99.0, 40))
    net.add_population("never", 70)
    for name in ("steady", "late", "never"):
        net.record_spikes(name)
    res = simulate(net, 100.0, seed=2, progress=False, comm=comm)
    path = os.path.join(d, f"silent_{mode}.h5")
    assert write_spikes_parallel(path, comm, res.plan, res.spike_gids, res.spike_steps, res.n_steps, {}, mode) == mode
    comm.Barrier()
    got = read_spikes(path)
    assert np.allclose(np.sort(got["late"][1]), np.linspace(90.0, 99.0, 40).round(1), rtol=0, atol=1e-9)
    assert got["steady"][1].size == 40 and got["never"][1].size == 0
    comm.Barrier()


def test_every_rank_owns_neurons(comm):
    res = simulate(mixed_network(), 10.0, seed=1, progress=False, comm=comm)
    counts = comm.allgather(int(np.sum(res.partition.unit_rank == comm.Get_rank())))
    assert all(c > 0 for c in counts)
    assert np.array_equal(comm.bcast(res.partition.unit_rank, root=0), res.partition.unit_rank)


def split_network():
    """One population of 8 chunks with every counted rule onto it, which "split" cuts
    between the ranks: every rank's share but one starts past chunk 0."""
    n = Network(dt=0.1, chunk_size=32)
    n.add_population("E", 256, v_init=Normal(-60.0, 5.0))
    n.connect("E", "E", FixedTotalNumber(20000), Normal(30.0, 3.0), Normal(1.5, 0.3))
    n.connect("E", "E", FixedOutdegree(40), -60.0, 1.0, receptor="inhibitory", label="out")
    n.connect("E", "E", FixedIndegree(30), 20.0, 2.0, label="in")
    n.add_poisson_input("E", indegree=1000, rate=16.0, weight=45.0, delay=1.5)
    n.record_spikes("E")
    return n


def test_each_rank_holds_its_own_chunks_counts(comm):
    """Each rank holds the row counts of the chunks it simulates only (build.count_layout),
    together the model's cells once; the spikes are one process's."""
    ref = simulate(split_network(), 100.0, seed=5, progress=False)
    res = simulate(split_network(), 100.0, seed=5, progress=False, comm=comm, partition="split")
    assert_same(res, ref)
    mine = res.plan.units[res.partition.unit_rank == comm.Get_rank()]
    counted = res.plan.proj_i[:, [JI_COUNT_COL0, JI_COUNT_COLS]]
    assert (counted[:, 0] == mine[:, UI_CHUNK].min()).all()      # the first column: this rank's first chunk
    assert (counted[:, 1] == mine.shape[0]).all()                # as many columns as chunks here
    cells = held_cells(res.plan)
    assert cells < held_cells(ref.plan)
    assert comm.allreduce(cells) == held_cells(ref.plan)
    assert comm.allreduce(int(counted[0, 0] > 0)) == comm.Get_size() - 1
