"""The input bound on the device (kernel input_bounds, GpuSimulator.bound_inputs): the same
integers as the host's pass (build.input_bound), so the same ring width and scales, from row
counts the host never holds. On the emulated device, which runs the kernel's own source."""
import numpy as np
import pytest

from distsnn.backends.cpu.simulator import compute_counts
from distsnn.backends.gpu.emulator import EmulatedDevice
from distsnn.backends.gpu.simulator import GpuSimulator
from distsnn.build.input_bound import host_unit_bounds, neuron_input_bounds, weight_quanta
from distsnn.build.plan import make_plan
from distsnn.model import AllToAll, Network
from distsnn.runtime.run import simulate
from test_determinism import mixed_network
from test_gpu_emulated import assert_same_run
from test_fixed_point import _rules_network


def _networks():
    """Every rule onto chunks shorter than the population, and the mixed network (spike and
    Poisson sources, synapse lists, every neuron model)."""
    return {"rules": _rules_network, "mixed": mixed_network}


@pytest.mark.parametrize("name", ["rules", "mixed"])
@pytest.mark.parametrize("share", [None, 0, 1])
def test_device_bound_equals_the_hosts(name, share):
    """The per-population maxima, whole or for one of two processes' shares of the units."""
    plan = make_plan(_networks()[name](), 5, bound_inputs=False)
    owned = None if share is None else np.arange(plan.units.shape[0]) % 2 == share
    host = neuron_input_bounds(plan, host_unit_bounds(plan, compute_counts(plan)), owned)
    sim = GpuSimulator(plan, device=EmulatedDevice(block_threads=8), owned=owned)
    device = neuron_input_bounds(plan, sim.unit_bounds, owned)
    for h, d in zip(host, device):
        assert np.array_equal(h, d)
    assert host[1].max() > 0


def test_device_unit_maxima_equal_the_hosts_unit_by_unit():
    """Unit by unit (each receptor's largest in-degree and weight sum), not only their maxima."""
    plan = make_plan(_rules_network(), 2, bound_inputs=False)
    wq = weight_quanta(plan, np.full((plan.n_pops, 2), 10, dtype=np.int64))
    units = plan.units[::-1]                               # any order of units
    host = host_unit_bounds(plan, compute_counts(plan))(units, wq)
    device = GpuSimulator(plan, device=EmulatedDevice(block_threads=4)).unit_bounds(units, wq)
    for h, d in zip(host, device):
        assert h.shape == (units.shape[0], 2)
        assert np.array_equal(h, d)
    assert len(set(host[1][:, 0].tolist())) > 1           # the units differ: a real comparison


@pytest.mark.parametrize("name", ["rules", "mixed"])
def test_bound_inputs_decides_as_make_plan_without_host_counts(name):
    """The width, scales and tables the host's pass gives; the counts live on the device only."""
    ref = make_plan(_networks()[name](), 5)
    plan = make_plan(_networks()[name](), 5, bound_inputs=False)
    assert plan.ring_bits is None
    sim = GpuSimulator(plan, device=EmulatedDevice())
    sim.bound_inputs()
    assert plan.ring_bits == ref.ring_bits == 32
    assert np.array_equal(plan.scale_exp, ref.scale_exp)
    for table in ("proj_f", "pin_i", "pop_f"):
        assert np.array_equal(getattr(plan, table), getattr(ref, table)), table
    assert plan.info["input_bound"] == ref.info["input_bound"]
    assert plan.counts is None
    assert np.array_equal(sim.d_counts, ref.counts)
    sim.bound_inputs()                                      # decided: nothing more
    assert plan.ring_bits == 32


def test_without_a_communicator_a_share_bounds_every_unit():
    """A simulator of some units, without a communicator to combine maxima, still decides
    the model's width and scales (it bounds every unit, not only its own)."""
    ref = make_plan(_rules_network(), 5)
    plan = make_plan(_rules_network(), 5, bound_inputs=False)
    owned = np.arange(plan.units.shape[0]) % 3 == 0
    share = neuron_input_bounds(plan, host_unit_bounds(plan, compute_counts(plan)), owned)
    whole = neuron_input_bounds(plan, host_unit_bounds(plan, compute_counts(plan)))
    assert not np.array_equal(share[1], whole[1])          # a share alone would decide otherwise
    GpuSimulator(plan, device=EmulatedDevice(), owned=owned).bound_inputs()
    assert np.array_equal(plan.scale_exp, ref.scale_exp)
    assert plan.info["input_bound"] == ref.info["input_bound"]


def test_too_coarse_int32_falls_back_to_int64_with_the_hosts_reason():
    def net():
        n = Network(dt=0.1)
        n.add_population("a", 300)
        n.add_population("tiny", 10)
        n.connect("a", "a", AllToAll(), 1e6, 1.0)
        n.connect("tiny", "a", AllToAll(), 1e-3, 1.0)
        return n
    ref = make_plan(net(), 1)
    plan = make_plan(net(), 1, bound_inputs=False)
    GpuSimulator(plan, device=EmulatedDevice()).bound_inputs()
    assert plan.ring_bits == ref.ring_bits == 64
    assert plan.info["ring_bits_reason"] == ref.info["ring_bits_reason"]


def test_int64_models_skip_the_pass():
    net = _rules_network(bits=64)
    plan = make_plan(net, 1, bound_inputs=False)
    sim = GpuSimulator(plan, device=EmulatedDevice())
    sim.bound_inputs()
    assert plan.ring_bits == 64
    assert sim.d_counts is None                             # counted at build, as before


class _SmallDevice(EmulatedDevice):
    """An emulated device with 64 KiB free."""
    def free_bytes(self):
        return 2 ** 16


def test_counts_that_do_not_fit_are_refused_before_allocating():
    plan = make_plan(_rules_network(), 1, bound_inputs=False)
    plan.info["count_words"] = 2 ** 20                     # 4 MiB of counts, as a large model's
    dev = _SmallDevice()
    with pytest.raises(MemoryError, match=r"row counts and the input bound's sums needs .* GiB but the device"):
        GpuSimulator(plan, device=dev).bound_inputs()
    assert dev.peak_bytes == 0


def _driven_rules_network():
    net = _rules_network()
    net.add_poisson_input("a", 100, 20.0, 90.0, 1.0)
    net.add_poisson_input("b", 100, 20.0, 90.0, 1.0)
    net.record_spikes("b")
    net.record_state("b", [0, 36], ["V_m", "I_syn_ex", "I_syn_in"])
    return net


def test_a_run_on_the_device_bounds_there_and_matches_the_cpu():
    """simulate() on a GPU leaves the pass to the device (the log names the width) and gives
    the CPU engine's spikes, state and event count."""
    lines = []
    ref = simulate(_driven_rules_network(), 30.0, seed=4, backend="cpu", progress=False)
    res = simulate(_driven_rules_network(), 30.0, seed=4, backend="gpu-emu", progress=False, log=lines.append)
    assert "input ring buffers: int32" in lines
    assert ref.spike_gids.size > 0
    assert_same_run(res, ref)
