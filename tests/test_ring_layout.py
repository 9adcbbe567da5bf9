"""The input rings (build.ring_layout): each (population, receptor) holds as many slots as its
longest incoming delay needs, and the engines hand ring contents over in arrival order."""
import numpy as np
import pytest

from distsnn.backends.cpu.simulator import CpuSimulator
from distsnn.backends.cpu.sizes import state_bytes
from distsnn.backends.gpu.emulator import EmulatedDevice
from distsnn.backends.gpu.simulator import GpuSimulator
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.fixed_point import Z_MAX
from distsnn.build.ring_layout import local_units, ring_entries, ring_slots
from distsnn.connectivity import expand_projection
from distsnn.model import FixedTotalNumber, Network, Normal


def layered_network():
    """A long excitatory delay onto E only, short inhibitory ones, a population without input,
    chunks that split populations unevenly."""
    net = Network(dt=0.1, chunk_size=48)
    net.add_population("E", 130)
    net.add_population("I", 70)
    net.add_population("Q", 20)                                            # no input at all
    net.connect("E", "E", FixedTotalNumber(6000), Normal(30.0, 3.0), Normal(6.0, 3.0))
    net.connect("E", "I", FixedTotalNumber(3000), 40.0, 1.5)
    net.connect("I", "E", FixedTotalNumber(3000), -90.0, Normal(0.8, 0.4))
    net.connect("I", "I", FixedTotalNumber(1000), -90.0, 0.5)
    net.add_poisson_input("E", indegree=900, rate=10.0, weight=40.0, delay=1.0)
    net.add_poisson_input("I", indegree=900, rate=10.0, weight=40.0, delay=1.0)
    return net


def test_each_receptor_holds_its_longest_incoming_delay():
    plan = make_plan(layered_network(), 5)
    steps = lambda d: int(np.floor(max(d, 0.1) / 0.1 + 0.5))           # noqa: E731
    expect = {"E": (steps(6.0 + Z_MAX * 3.0) + 1, steps(0.8 + Z_MAX * 0.4) + 1), "I": (16, 6), "Q": (1, 1)}
    got = {name: tuple(int(x) for x in ring_slots(plan)[k]) for k, name in enumerate(plan.pop_names)}
    assert got == expect and plan.ring_len == expect["E"][0]                 # the checkpoint's length: the longest
    # every synapse's drawn delay fits its receptor's ring, the extreme draws included
    for j in range(plan.proj_i.shape[0]):
        _, _, _, _, d = expand_projection(plan, j)
        k, rec = plan.proj_i[j, bp.JI_POST_POP], plan.proj_i[j, bp.JI_REC]
        assert 1 <= d.min() and d.max() < ring_slots(plan)[k, rec]
    sizes = {"E": 130, "I": 70, "Q": 20}
    n_entries = sum(sizes[n] * sum(expect[n]) for n in sizes)
    assert ring_entries(plan, plan.units) == n_entries
    assert state_bytes(plan, plan.units)["rings"] == n_entries * plan.ring_item_bytes
    # against one ring length for all: E's long delays no longer size I's and Q's rings
    assert n_entries < 0.55 * 220 * 2 * plan.ring_len
    # blocks follow each other in unit order, on any subset of units (a rank's)
    owned = np.arange(plan.units.shape[0]) % 2 == 1
    units = local_units(plan, owned)[0]
    n_u = units[:, bp.UI_GID_END] - units[:, bp.UI_GID_START]
    per = ring_slots(plan)[units[:, bp.UI_POP]].sum(axis=1) * n_u
    assert np.array_equal(units[:, bp.UI_RING_OFF], np.concatenate([[0], np.cumsum(per)[:-1]]))


def _engines(plan):
    yield CpuSimulator(plan).build()
    yield GpuSimulator(plan, device=EmulatedDevice()).build()


def test_state_round_trips_in_arrival_order_across_unit_edges():
    plan = make_plan(layered_network(), 5)
    rng = np.random.default_rng(3)
    arrival = rng.integers(-1000, 1000, size=(plan.ring_len, 2, 220)).astype(np.int32)
    for k in range(3):                                                     # nothing beyond a ring's slots
        sl = plan.pop_slice(plan.pop_names[k])
        lex, lin = ring_slots(plan)[k]
        arrival[lex:, 0, sl] = 0
        arrival[lin:, 1, sl] = 0
    for sim in _engines(plan):
        sim.start_at(1237)                                                 # slot != arrival index
        for lo, hi in ((0, 30), (30, 131), (131, 220)):                    # cuts through units
            st = sim.read_state(lo, hi)
            st["ring"] = arrival[:, :, lo:hi]
            sim.write_state(lo, hi, st)
        assert np.array_equal(sim.read_state(0, 220)["ring"], arrival)
        assert np.array_equal(sim.read_state(17, 101)["ring"], arrival[:, :, 17:101])
        bad = sim.read_state(200, 220)
        bad["ring"][1, 1, 5] = 7                                           # Q has a 1-slot inhibitory ring
        with pytest.raises(ValueError, match="population 'Q' holds input arriving after its longest delay"):
            sim.write_state(200, 220, bad)


def test_a_spike_waits_in_the_ring_until_its_arrival_step():
    """One spike of a source with a 3.7 ms delay: after its step, the ring shows its weight
    (in fixed point) at exactly 37 steps after emission, on the receptor it targets."""
    net = Network(dt=0.1, chunk_size=8)
    net.add_spike_source("S", 1, [0], [1.0])                               # emitted in step 9
    net.add_population("T", 20, params={"V_th": 1e6})
    net.connect("S", "T", FixedTotalNumber(1), 25.0, 3.7)
    net.connect("S", "T", FixedTotalNumber(1), -50.0, 0.3, receptor="inhibitory", label="inh")
    plan = make_plan(net, 2)
    kt = plan.pop_names.index("T")
    pre, post, _, w_int, d = expand_projection(plan, 0)
    assert d.tolist() == [37] and w_int[0] > 0
    for sim in _engines(plan):
        out = np.zeros(100, dtype=np.int64)
        sim.run(12, out, out.copy(), 0, np.zeros((12, 0)))
        assert sim.t == 12
        ring = sim.read_state(1, 21)["ring"]                               # T's neurons
        hit = np.argwhere(ring != 0)
        tgt = int(post[0])
        # arrival step 9 + 37 = 46 is k = 46 - 12 ahead; the inhibitory one arrived at step 12
        assert hit.tolist() == [[0, 1, int(expand_projection(plan, 1)[1][0])], [34, 0, tgt]]
        assert ring[34, 0, tgt] == w_int[0] and ring[0, 1].sum() == expand_projection(plan, 1)[3][0]
        assert ring_slots(plan)[kt].tolist() == [38, 4]


def test_cpu_memory_estimate_covers_what_the_build_allocates():
    """Rings, state, counts and the per-unit scratch (row, spike and Poisson buffers): the
    estimate checked before allocating is what the built engine holds, to within the small
    tables it leaves out."""
    plan = make_plan(layered_network(), 5)
    sim = CpuSimulator(plan).build()
    held = sum(a.nbytes for a in vars(sim).values() if isinstance(a, np.ndarray) and a is not plan.units)
    assert sim.sc_t.shape[1] <= plan.chunk_size                        # rows no longer than the estimate takes
    assert held <= sim.memory_estimate() <= held + 4096


def test_checkpoint_stores_each_population_s_slots_only(tmp_path, monkeypatch):
    """A checkpoint's ring dataset keeps the format (ring_len slots for every neuron), but the
    chunks past a population's own slots are never written: the file holds about what memory
    holds, and the restored state equals the saved one. (HDF5 chunks scaled down with the
    network: by default they span 1024 neurons, more than this whole network.)"""
    import h5py

    from distsnn.io import checkpoint
    from distsnn.io.checkpoint import restore_checkpoint, write_checkpoint
    monkeypatch.setattr(checkpoint, "RING_CHUNK_NEURONS", 10)
    plan = make_plan(layered_network(), 5)
    sim = CpuSimulator(plan).build()
    out = np.zeros(10 ** 5, dtype=np.int64)
    sim.run(400, out, out.copy(), 0, np.zeros((400, 0)))
    write_checkpoint(str(tmp_path / "ck"), sim)
    (part,) = (tmp_path / "ck").glob("part-*.h5")
    with h5py.File(part, "r") as f:
        ds = f["ring"]
        assert ds.shape == (220, 2, plan.ring_len)
        assert ds.id.get_storage_size() < 0.6 * ds.size * ds.dtype.itemsize
    saved = sim.read_state(0, 220)
    assert np.count_nonzero(saved["ring"][:, 0]) > 100 and np.count_nonzero(saved["ring"][:, 1]) > 100
    again = CpuSimulator(plan).build()
    restore_checkpoint(str(tmp_path / "ck"), again)
    assert again.t == 400
    back = again.read_state(0, 220)
    assert all(np.array_equal(back[name], saved[name]) for name in saved)
