"""The AdEx E/I network of the model library (distsnn.models.adex): in-degrees kept at every
scale, active asynchronous irregular firing, and spike-triggered adaptation (b) lowering the
excitatory rate; the CLI's --b."""
import json

import h5py
import numpy as np
import pytest

from distsnn.cli import main
from distsnn.models import adex
from distsnn.runtime import simulate


def test_structure_keeps_indegrees():
    net = adex.build(0.1, b=30.0)
    assert {n: p.size for n, p in net.populations.items()} == {"E": 800, "I": 200}
    assert {(pr.source, pr.target): pr.rule.n for pr in net.projections} == {
        ("E", "E"): 400, ("E", "I"): 400, ("I", "E"): 100, ("I", "I"): 100}
    assert net.populations["E"].params["b"] == 30.0 and net.populations["I"].params["b"] == 0.0
    with pytest.raises(ValueError, match="b must be a finite number"):
        adex.build(0.1, b=float("nan"))


def test_adaptation_lowers_the_excitatory_rate():
    rates = {}
    for b in (0.0, 100.0):
        res = simulate(adex.build(0.1, b=b), 600.0, seed=2, progress=False)
        rates[b] = res.mean_rates(t_start=200.0)
    assert 1.0 < rates[0.0]["E"] < 30.0 and rates[0.0]["I"] > rates[0.0]["E"]   # active, I faster than E
    assert rates[100.0]["E"] < 0.8 * rates[0.0]["E"]


def test_cli_runs_adex_with_b(tmp_path):
    out = tmp_path / "adex.h5"
    assert main(["run", "adex", "--scale", "0.02", "--t-sim", "100", "--b", "0", "--no-progress",
                 "--output", str(out)]) == 0
    summary = json.loads((tmp_path / "adex_summary.json").read_text())
    assert set(summary["mean_rates_hz"]) == {"E", "I"}
    with h5py.File(out, "r") as f:
        assert np.all(np.diff(f["spikes/E/timestamps"][()]) >= 0)


def test_cli_reports_numerical_instability_in_one_line(tmp_path, capsys):
    """An absurd adaptation (b = 2e6 pA: |w| above NEST's bound at the first spike) ends the
    run with exit status 1 and a one-line error naming the neuron, not a traceback."""
    code = main(["run", "adex", "--scale", "0.01", "--t-sim", "200", "--b", "2e6", "--no-progress",
                 "--output", str(tmp_path / "adex.h5")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("distsnn: error: numerical instability in population 'E'")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
