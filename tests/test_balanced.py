"""The Vogels-Abbott COBA and CUBA benchmark networks."""
import numpy as np
import pytest

from distsnn.cli import main
from distsnn.models import balanced
from distsnn.runtime import simulate


def test_parameters_as_pynn_vabenchmarks():
    net = balanced.coba()
    assert net.populations["E"].size == 3200 and net.populations["I"].size == 800
    e = net.populations["E"]
    assert e.model == "iaf_cond_exp" and e.params["g_L"] == 10.0 and e.params["C_m"] / e.params["g_L"] == 20.0
    weights = {(p.source, p.target): (p.weight.value, p.receptor) for p in net.projections}
    assert weights[("E", "I")] == (4.0, "excitatory") and weights[("I", "E")] == (51.0, "inhibitory")
    cuba = balanced.cuba()
    assert cuba.populations["E"].params["E_L"] == -49.0
    assert sorted({round(p.weight.value, 9) for p in cuba.projections}) == [-90.0, 16.2]
    assert all(p.delay.value == 0.2 and p.rule.p == 0.02 for p in cuba.projections)


@pytest.mark.parametrize("build", [balanced.coba, balanced.cuba])
def test_self_sustained_activity_and_modes_agree(build):
    net = build(0.5)
    proc = simulate(net, 400.0, seed=2, progress=False)
    stored = simulate(net, 400.0, seed=2, connectivity="stored", progress=False)
    assert np.array_equal(proc.spike_gids, stored.spike_gids) and np.array_equal(proc.spike_steps, stored.spike_steps)
    late = proc.mean_rates(t_start=150.0)        # long after the COBA kick-off ended (50 ms)
    assert 1.0 < late["E"] < 60.0 and 1.0 < late["I"] < 60.0


def test_run_coba_from_the_command_line(tmp_path, capsys):
    assert main(["run", "coba", "--t-sim", "200", "--no-progress", "--output", str(tmp_path / "coba.h5")]) == 0
    out = capsys.readouterr().out
    assert "coba: 4020 neurons" in out and (tmp_path / "coba.h5").exists()
