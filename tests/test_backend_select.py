"""Backend choice and GPU binding, on a machine without a GPU: auto falls back to the CPU
with a one-line notice, gpu is a clear error, and ranks are bound one per device."""
import subprocess
import sys

import pytest

from distsnn.backends.gpu.binding import assign_devices, bind_rank
from distsnn.backends.gpu.device import cuda_device_count, usable_gpu
from distsnn.backends.gpu.nvml import DeviceMonitor
from distsnn.backends.select import BackendUnavailable, resolve
from distsnn.runtime import simulate
from test_determinism import mixed_network


GPU_WORKS = usable_gpu()[0]
no_gpu = pytest.mark.skipif(GPU_WORKS, reason="a GPU works here: the fallback paths are not taken")


@no_gpu
def test_auto_falls_back_to_the_cpu_with_one_line():
    lines = []
    name, device = resolve("auto", log=lines.append)
    assert (name, device) == ("cpu", None)
    assert len(lines) == 1 and lines[0].startswith("backend auto: no usable GPU (") and "running on the CPU" in lines[0]
    assert "\n" not in lines[0]


@no_gpu
def test_gpu_without_a_gpu_is_a_clear_error():
    with pytest.raises(BackendUnavailable, match="--backend gpu: no usable GPU: "):
        resolve("gpu")
    with pytest.raises(ValueError, match="no usable GPU"):        # BackendUnavailable is a ValueError
        simulate(mixed_network(), 10.0, backend="gpu", progress=False)


@no_gpu
def test_cli_gpu_without_a_gpu_exits_2_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "distsnn", "run", "microcircuit", "--scale", "0.02", "--t-sim", "10",
                           "--backend", "gpu", "--output", str(tmp_path / "x.h5")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "no usable GPU" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.h5").exists()


@pytest.mark.parametrize("visible", [1, 2])
def test_visible_devices_whose_kernel_fails(monkeypatch, visible):
    """The path of a machine that sees CUDA devices (taken on every GPU machine, and here with
    the device count and the test kernel replaced): binding picks device 0, and a failing test
    kernel means the CPU under auto, a clear error under gpu."""
    from distsnn.backends.gpu import device
    probed = []
    monkeypatch.setattr(device, "cuda_device_count", lambda: (visible, ""))
    monkeypatch.setattr(device, "kernel_works", lambda index: probed.append(index) or (False, "the probe failed"))
    lines = []
    assert resolve("auto", log=lines.append) == ("cpu", None)
    assert lines == ["backend auto: no usable GPU (the probe failed); running on the CPU"]
    with pytest.raises(BackendUnavailable, match=r"--backend gpu: no usable GPU: the probe failed"):
        resolve("gpu")
    assert probed == [0, 0]


def test_gpu_emu_without_a_compiler_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))          # no cached library to fall back on
    with pytest.raises(BackendUnavailable, match="--backend gpu-emu: "):
        resolve("gpu-emu")


def test_unknown_backend_is_rejected():
    with pytest.raises(ValueError, match="backend must be one of"):
        resolve("tpu")


def test_reason_names_the_missing_piece():
    n, reason = cuda_device_count()
    if n:
        pytest.skip("CUDA devices are visible")
    assert "CuPy is not importable" in reason or "no usable CUDA driver" in reason or "no CUDA device" in reason


def test_one_rank_per_gpu():
    assert assign_devices([None] * 4, [4] * 4) == [0, 1, 2, 3]
    assert assign_devices(["2,3"] * 2, [2] * 2) == [0, 1]


def test_more_ranks_than_gpus_is_an_error_unless_shared():
    with pytest.raises(ValueError, match=r"3 ranks on node n1 share 2 GPU\(s\).*--share-gpus"):
        assign_devices([None] * 3, [2] * 3, where="node n1")
    assert assign_devices([None] * 3, [2] * 3, share=True) == [0, 1, 0]


def test_ranks_given_their_own_devices_do_not_compete():
    """SLURM --gpus-per-task: every rank sees one device, a different one."""
    assert assign_devices(["0", "1", "2", "3"], [1] * 4) == [0, 0, 0, 0]
    with pytest.raises(ValueError, match="sees no GPU"):
        assign_devices(["0", ""], [1, 0])


def test_single_process_binding_honours_visible_count(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert bind_rank(None, 1) == 0
    with pytest.raises(ValueError, match="sees no GPU"):
        bind_rank(None, 0)


@pytest.mark.skipif(GPU_WORKS, reason="NVML works here")
def test_nvml_monitor_without_a_driver_says_why():
    mon = DeviceMonitor("0000:00:00.0").start()
    out = mon.stop()
    assert out["available"] is False and "NVML unavailable" in out["reason"]


class _FakeNvml:
    """NVML's Python interface as nvidia-ml-py exposes it, with a device whose energy counter
    advances 2 J and power reads 100 W (NVML itself cannot run without a driver)."""

    class _Util:
        gpu = 80

    class _Mem:
        used = 3 * 2 ** 30

    def __init__(self, counter=True, step_mj=1000):
        self.counter = counter
        self.energy_mj = 1000
        self.step_mj = step_mj   # how far the counter moves per read (0: a run shorter than its update)

    def nvmlInit(self):
        pass

    def nvmlDeviceGetHandleByPciBusId(self, bus_id):
        assert bus_id == "0000:01:00.0"
        return "handle"

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if not self.counter:
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
        self.energy_mj += self.step_mj
        return self.energy_mj

    def nvmlDeviceGetUtilizationRates(self, handle):
        return self._Util()

    def nvmlDeviceGetPowerUsage(self, handle):
        return 100000   # mW

    def nvmlDeviceGetMemoryInfo(self, handle):
        return self._Mem()

    def nvmlDeviceGetName(self, handle):
        return b"Fake H100"


@pytest.mark.parametrize("counter,step_mj", [(True, 1000), (False, 1000), (True, 0)])
def test_nvml_monitor_bookkeeping(monkeypatch, counter, step_mj):
    import time
    monkeypatch.setitem(sys.modules, "pynvml", _FakeNvml(counter, step_mj))
    mon = DeviceMonitor("0000:01:00.0", interval=0.01).start()
    time.sleep(0.05)
    out = mon.stop()
    assert out["available"] and out["name"] == "Fake H100" and out["samples"] >= 2
    assert out["mean_power_W"] == 100.0 and out["mean_utilization_pct"] == 80
    assert out["peak_used_memory_bytes"] == 3 * 2 ** 30
    if counter and step_mj:
        assert out["energy_source"] == "counter" and out["energy_J"] == 1.0   # two reads, 1 J apart
    else:   # no counter, or one that did not move (not 0 J: the device drew 100 W all along)
        assert out["energy_source"] == ("sampled power" if not counter
                                        else "sampled power (the energy counter did not move)")
        assert out["energy_J"] == pytest.approx(100.0 * out["seconds"]) and out["energy_J"] > 0


def test_device_summary_counts_each_physical_device_once():
    from distsnn.cli_run import _device_summary
    dev = {"host": "n1", "pci_bus_id": "0000:01:00.0", "peak_allocated_bytes": 10, "nvml": {"energy_J": 5.0}}
    other = dict(dev, pci_bus_id="0000:02:00.0", peak_allocated_bytes=30, nvml={"energy_J": 7.0})
    out = _device_summary([dev, dict(dev), other], events=4e6)          # two ranks share the first GPU
    assert out["device_peak_memory_bytes"] == 30
    assert out["energy_J"] == 12.0 and out["uJ_per_synaptic_event"] == pytest.approx(12.0 * 1e6 / 4e6)
    assert _device_summary([], 1) == {}
