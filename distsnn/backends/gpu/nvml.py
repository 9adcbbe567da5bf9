"""Device memory, utilisation, power and energy through NVML (nvidia-ml-py).

A monitor samples utilisation, power and used memory in a background thread while the
simulation runs and reads the device's energy counter (mJ, Volta and later) at start and
stop; where the counter is missing, energy is the integral of the sampled power. So it is
where the counter did not move: NVML updates it every few tens of ms, and a run shorter than
that (a simulate phase of about 50 ms on an H100) read 0 J, which would claim free synaptic events.
Without NVML (no driver, no package) it reports why and nothing else.
"""
import threading
import time


class DeviceMonitor:
    """Samples one device (by PCI bus id, which CUDA_VISIBLE_DEVICES does not renumber)."""

    def __init__(self, pci_bus_id, interval=0.05):
        self.interval = interval
        self.available = False
        self.reason = ""
        self._samples = []
        self._thread = None
        try:
            import pynvml
            pynvml.nvmlInit()
            self.nvml = pynvml
            try:
                self.handle = pynvml.nvmlDeviceGetHandleByPciBusId(pci_bus_id)
            except (TypeError, AttributeError):   # older bindings want bytes
                self.handle = pynvml.nvmlDeviceGetHandleByPciBusId(pci_bus_id.encode())
            self.available = True
        except Exception as err:   # ImportError, NVMLError_LibraryNotFound, ...
            self.reason = f"NVML unavailable ({type(err).__name__}: {err})"

    def _energy_mj(self):
        try:
            return self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)
        except Exception:
            return None

    def _sample(self):
        n = self.nvml
        try:
            util = n.nvmlDeviceGetUtilizationRates(self.handle).gpu
            power = n.nvmlDeviceGetPowerUsage(self.handle) / 1000.0     # mW -> W
            used = n.nvmlDeviceGetMemoryInfo(self.handle).used
            self._samples.append((time.perf_counter(), util, power, used))
        except Exception:
            pass

    def _loop(self):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def start(self):
        if not self.available:
            return self
        self._samples = []
        self._t0 = time.perf_counter()
        self._e0 = self._energy_mj()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Summary over the monitored interval: energy_J, mean_power_W, mean_utilization_pct,
        peak_used_memory_bytes (whole device, all processes), seconds, samples."""
        if not self.available:
            return {"available": False, "reason": self.reason}
        self._stop.set()
        self._thread.join()
        self._sample()
        t1 = time.perf_counter()
        e1 = self._energy_mj()
        s = self._samples
        seconds = t1 - self._t0
        out = {"available": True, "seconds": seconds, "samples": len(s),
               "name": self.nvml.nvmlDeviceGetName(self.handle)}
        if isinstance(out["name"], bytes):
            out["name"] = out["name"].decode()
        if s:
            out["mean_utilization_pct"] = sum(x[1] for x in s) / len(s)
            out["mean_power_W"] = sum(x[2] for x in s) / len(s)
            out["peak_used_memory_bytes"] = max(x[3] for x in s)
        if self._e0 is not None and e1 is not None and e1 > self._e0:
            out["energy_J"] = (e1 - self._e0) / 1000.0
            out["energy_source"] = "counter"
        elif s:
            out["energy_J"] = out["mean_power_W"] * seconds
            out["energy_source"] = "sampled power" if self._e0 is None or e1 is None else \
                "sampled power (the energy counter did not move)"
        return out
