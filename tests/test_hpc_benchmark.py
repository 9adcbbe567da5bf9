"""NEST's HPC benchmark network (distsnn.models.hpc_benchmark): NEST's script's numbers (the
mV-to-pA conversion against scipy's Lambert W, the external rate, the in-degrees kept at
every scale, power-law STDP between E neurons), and short runs that learn, the same on both
engines (the GPU's emulated) and from the command line."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from distsnn.model import FixedIndegree, STDPPowerLaw
from distsnn.models import MODELS, hpc_benchmark as hpc
from distsnn.runtime import simulate


def test_conversion_is_nest_scripts_with_scipys_lambert_w():
    special = pytest.importorskip("scipy.special")
    tau_m, tau_syn, c_m = 10.0, hpc.TAU_SYN, 250.0
    a, b = tau_m / tau_syn, 1.0 / tau_syn - 1.0 / tau_m
    t_rise = 1.0 / b * (-special.lambertw(-math.exp(-1.0 / a) / a, -1).real - 1.0 / a)
    v_max = (math.exp(1.0) / (tau_syn * c_m * b)
             * ((math.exp(-t_rise / tau_m) - math.exp(-t_rise / tau_syn)) / b - t_rise * math.exp(-t_rise / tau_syn)))
    assert hpc.convert_synapse_weight(tau_m, tau_syn, c_m) == pytest.approx(1.0 / v_max, rel=1e-13)
    for x in (-0.36, -0.3, -0.1, -0.0315, -1e-3, -1e-8):
        assert hpc.lambert_wm1(x) == pytest.approx(special.lambertw(x, -1).real, rel=1e-14)
    with pytest.raises(ValueError, match="W_-1 is defined on"):
        hpc.lambert_wm1(0.1)


def test_the_network_is_nest_scripts():
    net = MODELS["hpc_benchmark"](scale=0.02)
    assert {p.name: p.size for p in net.populations.values()} == {"E": 180, "I": 45}
    w = hpc.je_pa()
    # the drive: NEST's one Poisson train of CE nu_ext per neuron, with nu_ext = eta nu_thresh
    nu_thresh = 20.0 / (9000 * 10.0 / 250.0 * w * math.e * hpc.TAU_SYN)
    for inp in net.poisson_inputs:
        assert inp.indegree * inp.rate == pytest.approx(1.685 * nu_thresh * 9000 * 1000.0, rel=1e-12)
        assert inp.weight == w
    got = {(p.source, p.target): p for p in net.projections}
    assert set(got) == {("E", "E"), ("E", "I"), ("I", "E"), ("I", "I")}
    for (src, _), p in got.items():
        assert isinstance(p.rule, FixedIndegree) and p.rule.n == (9000 if src == "E" else 2250)   # at every scale
        assert p.weight.value == (w if src == "E" else -5.0 * w) and p.delay.value == 1.5
    stdp = got[("E", "E")].stdp
    assert isinstance(stdp, STDPPowerLaw) and all(p.stdp is None for k, p in got.items() if k != ("E", "E"))
    assert (stdp.tau_plus, stdp.tau_minus, stdp.lambda_, stdp.alpha, stdp.mu) == (15.0, 30.0, 0.1, 0.0513, 0.4)
    with pytest.raises(ValueError, match="scale must be a positive number"):
        MODELS["hpc_benchmark"](scale=0)


def test_short_runs_learn_alike_on_both_engines():
    runs = [simulate(hpc.build(0.02), 30.0, seed=2, backend=b, connectivity="stored", progress=False)
            for b in ("cpu", "gpu-emu")]
    cpu, gpu = runs
    assert cpu.spike_gids.size > 50
    assert np.array_equal(cpu.spike_gids, gpu.spike_gids) and np.array_equal(cpu.spike_steps, gpu.spike_steps)
    assert np.array_equal(cpu.plastic, gpu.plastic)
    w = cpu.weights("E", "E")[3]
    assert w.size == 180 * 9000 and np.abs(w - hpc.je_pa()).max() > 0.1   # they learned
    with pytest.raises(ValueError, match="connectivity='stored'"):
        simulate(hpc.build(0.02), 1.0, backend="cpu", connectivity="procedural", progress=False)


def test_command_line(tmp_path):
    out = tmp_path / "hpc.h5"
    proc = subprocess.run([sys.executable, "-m", "distsnn", "run", "hpc_benchmark", "--scale", "0.02", "--t-sim", "10",
                           "--connectivity", "stored", "--backend", "cpu", "--no-progress", "--output", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "hpc_summary.json").read_text())
    assert summary["model"] == "hpc_benchmark" and (tmp_path / "hpc_weights.h5").exists()
