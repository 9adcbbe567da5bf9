"""Under MPI: the GPU backend (emulated device) on every rank gives the single-process CPU
spikes; binding refuses more ranks than GPUs on a node unless sharing is asked for."""
import numpy as np
import pytest

from distsnn.backends.gpu.binding import bind_rank
from distsnn.models import MODELS
from distsnn.runtime import simulate
from test_determinism import mixed_network
from test_gpu_step_loop import loop_network
from test_mpi import assert_same, assert_same_voltages, interval_network

pytestmark = pytest.mark.mpi(min_size=2)


@pytest.fixture(scope="module")
def comm():
    from mpi4py import MPI
    return MPI.COMM_WORLD


@pytest.mark.parametrize("connectivity", ["procedural", "stored"])
def test_gpu_ranks_same_spikes_as_one_cpu_process(comm, connectivity):
    ref = simulate(mixed_network(), 150.0, seed=12, backend="cpu", connectivity=connectivity, progress=False)
    res = simulate(mixed_network(), 150.0, seed=12, backend="gpu-emu", connectivity=connectivity, progress=False,
                   comm=comm, share_gpus=True)
    assert res.backend == "gpu-emu"
    assert_same(res, ref)
    # per exchange window: one copy back (the step state and the spikes; one more for the
    # recorded rows where this rank records), and at most one to the device (received spikes)
    windows = res.exchange["calls"]
    copies = res.device["copies_while_running"]
    assert windows >= 150 / 0.1 / res.exchange["interval_steps"]
    assert copies["to_host"] == windows * (1 + bool(res.vrec_gids.size))
    assert 0 < copies["to_device"] <= windows


@pytest.mark.parametrize("draws", ["uniform", "exponential"])
def test_gpu_ranks_draw_uniforms_and_exponentials_as_one_cpu_process(comm, draws):
    """Uniform and Exponential weights and delays (the full rule variant) on emulated devices,
    one per rank."""
    from test_exponential_synapses import exponential_network
    from test_uniform_synapses import uniform_network
    network = uniform_network if draws == "uniform" else exponential_network
    ref = simulate(network(), 100.0, seed=12, backend="cpu", progress=False)
    res = simulate(network(), 100.0, seed=12, backend="gpu-emu", progress=False, comm=comm, share_gpus=True)
    assert res.backend == "gpu-emu" and ref.spike_gids.size > 300
    assert_same(res, ref)


def test_gpu_ranks_give_currents_into_subsets_as_one_cpu_process(comm):
    from test_step_current import stimulated_network
    ref = simulate(stimulated_network(), 100.0, seed=12, backend="cpu", progress=False)
    res = simulate(stimulated_network(), 100.0, seed=12, backend="gpu-emu", progress=False, comm=comm, share_gpus=True)
    assert res.backend == "gpu-emu" and ref.spike_gids.size > 300
    assert_same(res, ref)
    assert_same_voltages(comm, res, ref)


def test_gpu_ranks_with_long_exchange_interval_and_spike_sources(comm):
    ref = simulate(interval_network(), 150.0, seed=3, backend="cpu", progress=False)
    res = simulate(interval_network(), 150.0, seed=3, backend="gpu-emu", progress=False, comm=comm, share_gpus=True)
    assert res.exchange["interval_steps"] >= 1
    assert_same(res, ref)
    assert_same_voltages(comm, res, ref)


@pytest.mark.parametrize("model", ["loop_network", "brunel"])
def test_gpu_ranks_on_the_step_loop_same_spikes_as_one_cpu_process(comm, monkeypatch, model):
    """Blocks of one step (delays of one step: an exchange after every step) and of 15
    (Brunel's network), each one launch of the step loop, then the received spikes."""
    net = loop_network if model == "loop_network" else lambda: MODELS["brunel"](scale=0.25)   # 4 post chunks
    ref = simulate(net(), 100.0, seed=4, backend="cpu", progress=False)
    monkeypatch.setenv("DISTSNN_GPU_STEP_LOOP", "1")
    res = simulate(net(), 100.0, seed=4, backend="gpu-emu", progress=False, comm=comm, share_gpus=True)
    assert res.device["step_launches"].startswith("step loop")
    assert res.exchange["interval_steps"] == (1 if model == "loop_network" else 15)
    assert_same(res, ref)


def test_gpu_ranks_tune_their_step_setups_on_their_windows(comm, monkeypatch):
    """Each rank tries the step setups (step_setups.py) in trial blocks of 4 steps, in windows
    of 15 (Brunel's network at 0.25), so that a window holds several trial blocks and some trial
    blocks span two windows, then goes on with its own fastest: the single CPU process's
    spikes."""
    net = lambda: MODELS["brunel"](scale=0.25)   # noqa: E731
    ref = simulate(net(), 100.0, seed=4, backend="cpu", progress=False)
    monkeypatch.setenv("DISTSNN_GPU_TUNE", "1")
    monkeypatch.setenv("DISTSNN_GPU_TUNE_STEPS", "4")
    res = simulate(net(), 100.0, seed=4, backend="gpu-emu", progress=False, comm=comm, share_gpus=True)
    tuning = res.device["tuning"]
    assert {t["setup"].split(",")[0] for t in tuning["setups"]} == {"separate launches", "step loop"}
    assert tuning["chosen"] in [t["setup"] for t in tuning["setups"]]
    assert_same(res, ref)


def test_each_rank_bounds_its_units_on_its_device_and_all_find_one_width(comm):
    """The input bound on the device under MPI (GpuSimulator.bound_inputs with the
    communicator): each rank places the synapses onto its own units, the maxima are combined,
    and every rank finds the width, scales and bounds of one process's host pass."""
    from distsnn.build.plan import make_plan
    ref = make_plan(mixed_network(), 12)
    res = simulate(mixed_network(), 5.0, seed=12, backend="gpu-emu", progress=False, comm=comm, share_gpus=True)
    assert res.plan.counts is None                        # the host held no counts
    assert res.plan.ring_bits == ref.ring_bits == 32
    assert np.array_equal(res.plan.scale_exp, ref.scale_exp)
    assert res.plan.info["input_bound"] == ref.info["input_bound"]


def test_binding_one_device_per_rank_and_refusal(comm, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    size = comm.Get_size()          # all ranks of the test job run on this node
    assert bind_rank(comm, size) == comm.Get_rank()
    with pytest.raises(ValueError, match=rf"{size} ranks on node .* share 1 GPU\(s\).*--share-gpus"):
        bind_rank(comm, 1)
    assert bind_rank(comm, 1, share=True) == 0


def test_gpu_emu_without_share_is_refused_on_every_rank(comm):
    with pytest.raises(ValueError, match="--share-gpus"):
        simulate(mixed_network(), 10.0, backend="gpu-emu", progress=False, comm=comm)


@pytest.mark.gpu
def test_real_gpu_ranks_same_spikes_as_one_cpu_process(comm):
    """On a GPU machine: every rank on a real device (sharing it if there are fewer GPUs)."""
    for connectivity in ("procedural", "stored"):
        ref = simulate(mixed_network(), 150.0, seed=12, backend="cpu", connectivity=connectivity, progress=False)
        res = simulate(mixed_network(), 150.0, seed=12, backend="gpu", connectivity=connectivity, progress=False,
                       comm=comm, share_gpus=True)
        assert res.backend == "gpu"
        assert_same(res, ref)
