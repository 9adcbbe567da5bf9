"""The multi-area model: its structure read from the shared data file equals the published
totals, weights and delays follow the model's rules in both states, scaling and area subsets
behave as documented, bad input is refused with a clear error, and a small version runs,
the same on the CPU, on the emulated GPU and from the command line."""
import json
import math
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from distsnn.backends.cpu.sizes import state_bytes
from distsnn.backends.gpu.delivery_items import procedural_items
from distsnn.backends.gpu.simulator import device_bytes
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.count_layout import held_cells
from distsnn.io import read_spikes
from distsnn.model import FixedTotalNumber
from distsnn.models import MODELS, multi_area
from distsnn.runtime import simulate
from partitioning import partition_network


@pytest.fixture(scope="module")
def data(shared_data):
    return json.loads((shared_data / multi_area.DATA_FILE).read_text())


@pytest.fixture(scope="module")
def full(shared_data):
    return multi_area.build(data=str(shared_data))


def by_name(net):
    return {(p.source, p.target): p for p in net.projections}


def test_full_scale_totals_equal_the_data(full, data):
    tot = data["totals"]
    assert MODELS["multi_area"] is multi_area.build
    assert len(full.populations) == tot["populations"] == 254
    assert full.n_neurons == tot["neurons_int_sum"] == 4_129_924
    assert len(full.projections) == tot["projections_nonzero_int"] == 8344
    assert all(isinstance(p.rule, FixedTotalNumber) for p in full.projections)
    assert sum(p.rule.n for p in full.projections) == tot["synapses_int_sum"] == 24_126_516_728
    areas = full.metadata["areas"]
    intra = sum(p.rule.n for p in full.projections if areas[p.source] == areas[p.target])
    assert intra == tot["synapses_intra_area_int"]
    assert sum(p.rule.n for p in full.projections if areas[p.source] != areas[p.target]) == \
        tot["synapses_cortico_cortical_int"]
    # per area, and TH without layer 4
    assert sum(full.populations[f"V1_{p}"].size for p in data["structure"]["V1"]) == data["per_area"]["V1"]["neurons_int"]
    assert "TH_4E" not in full.populations and "TH_23E" in full.populations
    # only excitatory populations project between areas
    assert all(p.source.endswith("E") for p in full.projections if areas[p.source] != areas[p.target])
    # external input: K_ext x 10 Hz at 87.81 pA, one Poisson input per population
    ext = {pin.target: pin for pin in full.poisson_inputs}
    assert len(ext) == 254 and len(full.poisson_inputs) == 254
    assert ext["V1_5E"].indegree == data["external_input"]["K_ext"]["V1"]["5E"]
    assert ext["V1_5E"].rate == 10.0 and ext["V1_5E"].weight == pytest.approx(87.80849352920845)


def test_full_scale_plan_and_partition_need_no_per_synapse_memory(full):
    # flattening the full model allocates only small tables (bound_inputs=False: no pass
    # over its 24 billion synapses, which the build of a run makes)
    plan = make_plan(full, 1, bound_inputs=False)
    assert plan.counts is None and plan.ring_bits is None and plan.ring_item_bytes == 4
    assert plan.n_neurons == 4_129_924
    # longest delay: the largest inter-area mean (17.98 ms) plus Z_MAX sds of 0.5 x mean
    assert plan.max_delay_steps == math.floor((17.97623882122857 * (1 + 0.5 * 6.6605)) / 0.1 + 0.5)
    assert plan.min_delay_steps == 1        # delays are clipped at dt: the exchange interval is one step
    assert held_cells(plan) == 853_076_123               # (pre neuron, post chunk) counts at chunk 4096
    assert not plan.proj_i[:, bp.JI_COUNT_WIDE].any()    # every one 16 bits: 1.6 GiB, not 3.2
    assert plan.info["count_words"] == (853_076_123 + 1) // 2
    # each population's ring per receptor: its own longest incoming delay (build.ring_layout)
    steps = lambda d: math.floor(d * (1 + 0.5 * 6.6605) / 0.1 + 0.5)    # noqa: E731
    longest = {}
    for pr in full.projections:
        key = (pr.target, pr.receptor)
        longest[key] = max(longest.get(key, 0), steps(pr.delay.mean))
    for k, name in enumerate(plan.pop_names):
        assert plan.pop_i[k, bp.PI_RING_EX] == longest[(name, "excitatory")] + 1
        assert plan.pop_i[k, bp.PI_RING_IN] == longest[(name, "inhibitory")] + 1 == steps(0.75) + 1 == 33
    assert plan.pop_i[:, bp.PI_RING_EX].max() == plan.ring_len == plan.max_delay_steps + 1
    rings = state_bytes(plan, plan.units)["rings"]
    assert rings == 4 * int((plan.pop_i[:, bp.PI_SIZE] * (plan.pop_i[:, bp.PI_RING_EX] + 33)).sum())
    assert rings < 0.4 * 4 * 2 * plan.ring_len * plan.n_neurons          # one length for all: 24.0 GiB
    assert device_bytes(plan, plan.units, 0) < 16 * 10 ** 9              # the whole model on a 16 GB GPU
    # GPU delivery's work items: a spike visits only the (unit, projection) pairs of its own
    # population (on average 141, at most 1089), not all 35,824 incoming (unit, projection) pairs
    ptr, *_ = procedural_items(plan, plan.units)
    assert ptr[-1] == 35_824 and np.diff(ptr).max() == 1089 and 141 < ptr[-1] / len(plan.pop_names) < 142
    part = partition_network(full, 32, "areas")
    areas = full.metadata["areas"]
    for name, ranks in zip(plan.pop_names, part.rank_of_population()):
        assert ranks == part.rank_of_population()[plan.pop_names.index(areas[name] + "_23E")]
    assert part.exchange_interval() == 1


@pytest.mark.parametrize("state,chi,chi_i", [("ground", 1.0, 1.0), ("resting", 1.9, 2.0)])
def test_weights_and_delays_follow_the_rules(shared_data, data, state, chi, chi_i):
    net = multi_area.build(data=str(shared_data), state=state)
    pr = by_name(net)
    w = 0.15 * 585.3899568613897
    cases = {("V1_23E", "V1_23I"): w, ("V1_4E", "V1_23E"): 2 * w, ("V1_4E", "V1_4E"): w,
             ("V1_23I", "V1_23E"): -11 * w, ("V2_23E", "V1_23E"): chi * w, ("V2_5E", "V1_23I"): chi * chi_i * w}
    for key, mean in cases.items():
        p = pr[key]
        assert p.weight.mean == pytest.approx(mean, rel=1e-12), key
        assert p.weight.sd == pytest.approx(0.1 * abs(mean), rel=1e-12)
        assert p.receptor == ("inhibitory" if mean < 0 else "excitatory")
    assert pr["V1_23E", "V1_23I"].delay.mean == 1.5 and pr["V1_23I", "V1_23E"].delay.mean == 0.75
    areas = data["areas"]
    cc = pr["V2_23E", "V1_23E"].delay
    assert cc.mean == data["delays"]["inter_area_mean_delay_ms"][areas.index("V1")][areas.index("V2")]
    assert cc.mean == pytest.approx(data["delays"]["distance_mm"][0][1] / 3.5)
    assert cc.sd == pytest.approx(0.5 * cc.mean)
    assert net.metadata["state"] == state and net.metadata["chi"] == chi
    for pop in net.populations.values():
        assert pop.v_init.mean == -150.0 and pop.v_init.sd == 50.0 and pop.params["I_e"] == 0.0


def test_neuron_scaling_keeps_in_degrees(shared_data, data, full):
    net = multi_area.build(data=str(shared_data), scale=0.01)
    nf = data["neuron_numbers_float"]
    assert net.populations["V1_4E"].size == int(nf["V1"]["4E"] * 0.01)
    entry = next(e for e in data["synapses"]["entries"] if e[:4] == ["V1", "23E", "V1", "4E"])
    p = by_name(net)["V1_4E", "V1_23E"]
    assert p.rule.n == int(entry[4] * 0.01)
    # in-degree, weights and external input per neuron are those of the full model
    k_full = entry[4] / nf["V1"]["23E"]
    assert p.rule.n / net.populations["V1_23E"].size == pytest.approx(k_full, rel=0.01)
    assert p.weight == by_name(full)["V1_4E", "V1_23E"].weight
    assert [pin.indegree for pin in net.poisson_inputs] == [pin.indegree for pin in full.poisson_inputs]
    assert all(pop.params["I_e"] == 0.0 for pop in net.populations.values())


def test_in_degree_scaling_compensates_the_mean_input(shared_data, data):
    k = 0.25
    net = multi_area.build(data=str(shared_data), scale=0.01, k_scale=k)
    rates = json.loads((shared_data / multi_area.REFERENCE_FILE).read_text())[
        "other_references_in_multi_area_model_repo"]["tests/fullscale_rates.json"]["rates_spikes_per_s"]
    full = multi_area.build(data=str(shared_data))
    # the mean input of the full model, sum over sources of K * w * rate (pA), external included
    target, nf = "V4_5E", data["neuron_numbers_float"]["V4"]["5E"]
    mean_in = 87.80849352920845 * data["external_input"]["K_ext"]["V4"]["5E"] * 10.0
    for p in full.projections:
        if p.target == target:
            area, pop = p.source.split("_")
            entry = next(e for e in data["synapses"]["entries"] if e[:4] == ["V4", "5E", area, pop])
            mean_in += p.weight.mean * entry[4] / nf * rates[area][pop]
    dc = net.populations[target].params["I_e"]
    assert dc == pytest.approx(1e-3 * 0.5 * (1 - math.sqrt(k)) * mean_in, rel=1e-9)
    assert dc > 0
    # weights up by 1/sqrt(k), in-degrees down by k
    p, q = by_name(net)["V1_23E", "V1_4E"], by_name(full)["V1_23E", "V1_4E"]
    assert p.weight.mean == pytest.approx(2 * q.weight.mean)
    pin = next(pin for pin in net.poisson_inputs if pin.target == "V1_4E")
    assert pin.indegree == pytest.approx(k * data["external_input"]["K_ext"]["V1"]["4E"])
    assert pin.weight == pytest.approx(2 * 87.80849352920845)


def test_area_subset_replaces_missing_input_by_poisson(shared_data, data):
    net = multi_area.build(data=str(shared_data), areas="V2, V1", scale=0.01)
    assert net.metadata["simulated_areas"] == ["V1", "V2"]          # the model's order
    assert sorted({a for a in net.metadata["areas"].values()}) == ["V1", "V2"]
    assert len(net.populations) == 16
    assert all(p.source[:2] in ("V1", "V2") and p.target[:2] in ("V1", "V2") for p in net.projections)
    rates = json.loads((shared_data / multi_area.REFERENCE_FILE).read_text())[
        "other_references_in_multi_area_model_repo"]["tests/fullscale_rates.json"]["rates_spikes_per_s"]
    nf = data["neuron_numbers_float"]["V1"]["23E"]
    missing = [(e[2], e[3], e[4] / nf) for e in data["synapses"]["entries"]
               if e[:2] == ["V1", "23E"] and e[2] not in ("V1", "V2")]
    k_missing = sum(k for _, _, k in missing)
    pins = [pin for pin in net.poisson_inputs if pin.target == "V1_23E"]
    assert len(pins) == 2                          # background, and the missing areas merged
    cc = pins[1]
    assert cc.indegree == pytest.approx(k_missing)
    assert cc.rate == pytest.approx(sum(k * rates[a][p] for a, p, k in missing) / k_missing)
    assert cc.weight == pytest.approx(87.80849352920845) and cc.receptor == "excitatory"
    dropped = multi_area.build(data=str(shared_data), areas=["V1", "V2"], scale=0.01, replace_missing=None)
    assert len(dropped.poisson_inputs) == 16
    assert [p.rule.n for p in dropped.projections] == [p.rule.n for p in net.projections]


def test_bad_input_is_refused_clearly(shared_data, tmp_path, monkeypatch):
    monkeypatch.delenv("DISTSNN_DATA", raising=False)
    with pytest.raises(ValueError, match="DISTSNN_DATA"):
        multi_area.build()
    with pytest.raises(ValueError, match="not found"):
        multi_area.build(data=str(tmp_path))
    monkeypatch.setenv("DISTSNN_DATA", str(shared_data))
    assert multi_area.build(areas=["TH"], scale=0.01).n_neurons > 0      # the environment variable is used
    for kwargs, match in [({"state": "awake"}, "state must be one of"), ({"areas": ["V1", "V9"]}, r"unknown areas \['V9'\]"),
                          ({"areas": []}, "areas is empty"), ({"areas": ["V1", "V1"]}, "listed twice"),
                          ({"scale": 0.0}, r"scale must be in \(0, 1\]"), ({"scale": 2}, r"scale must be in"),
                          ({"k_scale": float("nan")}, r"k_scale must be in"),
                          ({"replace_missing": "current"}, "replace_missing must be one of"),
                          ({"scale": 1e-4}, "without neurons; the smallest population has")]:
        with pytest.raises(ValueError, match=match):
            multi_area.build(**kwargs)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / multi_area.DATA_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="cannot read"):
        multi_area.build(data=str(bad))
    d = json.loads((shared_data / multi_area.DATA_FILE).read_text())
    del d["external_input"]
    (bad / multi_area.DATA_FILE).write_text(json.dumps(d))
    with pytest.raises(ValueError, match=r"missing keys \['external_input'\]"):
        multi_area.build(data=str(bad))
    d = json.loads((shared_data / multi_area.DATA_FILE).read_text())
    d["synapses"]["entries"][5][5] = -3
    (bad / multi_area.DATA_FILE).write_text(json.dumps(d))
    with pytest.raises(ValueError, match=r"synapses.entries\[5\]"):
        multi_area.build(data=str(bad))
    d = json.loads((shared_data / multi_area.DATA_FILE).read_text())
    del d["weights"]["by_state"]["resting"]["intra_area_I_source_pA"]
    (bad / multi_area.DATA_FILE).write_text(json.dumps(d))
    with pytest.raises(ValueError, match="weights.by_state.resting.intra_area_I_source_pA must be a number"):
        multi_area.build(data=str(bad))
    d = json.loads((shared_data / multi_area.DATA_FILE).read_text())
    d["synapses"]["entries"][7] = d["synapses"]["entries"][7][:4]
    (bad / multi_area.DATA_FILE).write_text(json.dumps(d))
    with pytest.raises(ValueError, match=r"synapses.entries\[7\] must be a list of the 6 columns"):
        multi_area.build(data=str(bad))
    # scaled in-degrees need the full-scale rates of the reference file next to the structure
    (bad / multi_area.DATA_FILE).write_text((shared_data / multi_area.DATA_FILE).read_text())
    assert multi_area.build(data=str(bad), scale=0.01).n_neurons > 0
    with pytest.raises(ValueError, match=multi_area.REFERENCE_FILE):
        multi_area.build(data=str(bad), scale=0.01, k_scale=0.5)


def small(shared_data, **kw):
    return multi_area.build(data=str(shared_data), areas=["V1", "V2"], scale=0.005, **kw)


def test_small_version_runs_the_same_on_cpu_and_emulated_gpu(shared_data):
    ref = simulate(small(shared_data), 200.0, seed=3, backend="cpu", progress=False)
    rates = ref.mean_rates(100.0)
    assert ref.spike_gids.size > 1000 and ref.events > 1e6
    assert all(np.isfinite(r) and r < 50.0 for r in rates.values())
    assert sum(r > 0 for r in rates.values()) >= 12                 # most populations fire
    stored = simulate(small(shared_data), 200.0, seed=3, backend="cpu", connectivity="stored", progress=False)
    emu = simulate(small(shared_data), 200.0, seed=3, backend="gpu-emu", progress=False)
    for res in (stored, emu):
        assert np.array_equal(res.spike_gids, ref.spike_gids) and np.array_equal(res.spike_steps, ref.spike_steps)
        assert res.events == ref.events
    other = simulate(small(shared_data, state="resting"), 200.0, seed=3, backend="cpu", progress=False)
    assert not np.array_equal(other.spike_gids, ref.spike_gids)     # the state changes the network


def test_command_line(shared_data, tmp_path):
    out = tmp_path / "mam.h5"
    cmd = [sys.executable, "-m", "distsnn", "run", "multi_area", "--data", str(shared_data), "--areas", "V1,TH",
           "--scale", "0.005", "--state", "resting", "--t-sim", "50", "--no-progress", "--backend", "cpu",
           "--output", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "multi_area:" in proc.stdout and "TH_6I" in proc.stdout
    spikes = read_spikes(str(out))
    assert sorted(spikes) == sorted(f"{a}_{p}" for a in ("V1", "TH")
                                    for p in ("23E", "23I", "4E", "4I", "5E", "5I", "6E", "6I")
                                    if not (a == "TH" and p.startswith("4")))
    summary = json.loads((tmp_path / "mam_summary.json").read_text())
    assert summary["parameters"]["state"] == "resting" and summary["parameters"]["simulated_areas"] == ["V1", "TH"]
    proc = subprocess.run([sys.executable, "-m", "distsnn", "partition", "multi_area", "--data", str(shared_data),
                           "--ranks", "4", "--strategy", "areas", "--scale", "0.01"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "exchange" in proc.stdout.lower()
    proc = subprocess.run([sys.executable, "-m", "distsnn", "run", "microcircuit", "--state", "ground",
                           "--output", str(tmp_path / "x.h5")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "model 'microcircuit' does not take --state" in proc.stderr and "Traceback" not in proc.stderr


def test_areas_split_over_ranks_give_the_same_spikes(shared_data, tmp_path):
    from test_mpi_cli import MPIEXEC, same_files
    if MPIEXEC is None:
        pytest.skip("no mpiexec (pip install 'distsnn[mpi]')")
    args = ["-m", "distsnn", "run", "multi_area", "--data", str(shared_data), "--areas", "V1,V2,V4",
            "--scale", "0.005", "--t-sim", "100", "--no-progress", "--backend", "cpu", "--threads", "1"]
    one, two = tmp_path / "one.h5", tmp_path / "two.h5"
    proc = subprocess.run([sys.executable] + args + ["--output", str(one)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([MPIEXEC, "-n", "2", sys.executable] + args + ["--partition", "areas", "--output", str(two)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "2 ranks" in proc.stdout
    assert same_files(one, two)
    assert sum(v[0].size for v in read_spikes(str(one)).values()) > 100


def test_kl_divergence_reproduces_the_published_values(shared_data):
    """D_KL(NEST || GeNN seed k) recomputed from the stored histograms equals the published
    values, so the benchmark's D_KL(NEST || distsnn) is the same measure as the anchor."""
    from distsnn.analysis import kl_from_histograms
    ref = json.loads((shared_data / multi_area.REFERENCE_FILE).read_text())
    hists, published = ref["per_neuron_histograms_ground_state"], ref["kl_divergences_ground_state"]
    checked = 0
    for measure in ("rate_spikes_per_s", "irregularity_LvR"):       # native bins (correlations were merged)
        for pop, h in hists[measure].items():
            e = h["native_edges_linspace"]
            width = (e["stop"] - e["start"]) / (e["num_edges"] - 1)
            for k in (1, 2, 3):
                got = kl_from_histograms(h["nest"], h[f"genn_seed_{k}"], width)
                assert got == pytest.approx(published[measure][pop][f"nest_seed_{k}"], rel=1e-9)
                checked += 1
    assert checked == 48


def test_benchmark_correlations_take_the_references_neurons():
    """The reference analysis (calc_correlations of the procedural_paper repository) takes
    the first 2000 neurons spiking in the window of the 3001 ids from the lowest id that
    spiked at all; here with 4 of 7 ids: the first spiked only before the window (it opens
    the block, is silent in it), the last lies past the block, one is silent."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "scripts"))
    from bench_multi_area import pairwise_correlations as corr
    rng = np.random.default_rng(5)
    t0, t1 = 500.0, 600.0
    trains = {10: np.array([100.0, 200.0]),                                    # before the window only
              11: np.sort(rng.uniform(t0, t1, 30)), 12: np.sort(rng.uniform(t0, t1, 30)),
              14: np.sort(rng.uniform(t0, t1, 30)), 15: np.sort(rng.uniform(t0, t1, 30)),
              16: np.sort(rng.uniform(t0, t1, 30)),
              10 + 40 + 1001: np.sort(rng.uniform(t0, t1, 30))}               # past both blocks below
    ids = np.concatenate([np.full(t.size, i) for i, t in trains.items()])
    times = np.concatenate(list(trains.values()))
    got = corr(ids, times, t0, t1, max_neurons=4)
    counts = np.array([np.histogram(trains[i], bins=np.arange(t0, t1 + 0.5, 1.0))[0] for i in (11, 12, 14, 15)])
    want = np.corrcoef(counts)[np.triu_indices(4, 1)]
    assert got.shape == (6,) and np.allclose(got, want)
    # with a larger cap (a block of 1041 ids) the neuron past it still stays out: 5 neurons, 10 pairs
    assert corr(ids, times, t0, t1, max_neurons=40).size == 5 * 4 // 2
    assert corr(ids[:2], times[:2], t0, t1).size == 0                           # no neuron in the window


def test_benchmark_script_runs(shared_data, tmp_path):
    script = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "bench_multi_area.py"
    proc = subprocess.run([sys.executable, str(script), "--data", str(shared_data), "--areas", "V1,V2",
                           "--scale", "0.005", "--t-sim", "700", "--backend", "gpu-emu", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("multi_area_ground_scale0.005_*.json")
    rep = json.loads(js.read_text())
    assert sorted(rep["per_area"]) == ["V1", "V2"]
    assert rep["across_areas"]["rate_spikes_per_s"]["4E"]["n"] == 2
    assert rep["run"]["synaptic_events"] > 0 and rep["run"]["real_time_factor"] > 0
    kl = rep["kl"]["rate_spikes_per_s"]["23E"]
    nf = json.loads((shared_data / multi_area.DATA_FILE).read_text())["neuron_numbers_float"]
    assert kl["n_distsnn"] == int(nf["V1"]["23E"] * 0.005) + int(nf["V2"]["23E"] * 0.005)   # every neuron
    assert np.isfinite(kl["distsnn"]) and kl["genn_mean"] == pytest.approx(0.00011359989793234596, rel=1e-9)
    mem = rep["full_scale_memory"]
    assert mem["neurons"] == 4_129_924 and mem["ring_len_steps"] == 779 and mem["ring_bits"] == 32
    assert mem["gpu_ring_bytes"] == round(mem["ring_slots_per_neuron"] * 4 * 4_129_924)   # int32
    assert 33 + 66 < mem["ring_slots_per_neuron"] < 0.4 * 2 * 779         # 9.5 GiB, not 24.0
    assert mem["gpu_bytes"] > mem["gpu_ring_bytes"] + mem["gpu_count_bytes"]
    md = js.with_suffix(".md").read_text()
    assert "Down-scaled" in md and "| 23E |" in md
    png = js.with_suffix(".png").read_bytes()                 # the violins beside NEST's and GeNN's
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    # the (emulated) device's line: name, peak memory, ring width
    assert rep["run"]["ring_bits"] == 32 and rep["run"]["device_peak_memory_bytes"] > 0
    assert "- device emulated GPU (host C++): peak memory" in md and "int32 ring buffers" in md
    assert not list(tmp_path.glob("*_spikes.h5"))            # the spike file is removed after analysis


def test_benchmark_script_windows_and_delay_rules(shared_data, tmp_path):
    """A kept spike file analysed again over a shorter window (named by it), its delay rule
    recorded and checked: a file of delays redrawn is not analysed as one of delays clipped."""
    script = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "bench_multi_area.py"
    common = [sys.executable, str(script), "--data", str(shared_data), "--areas", "V1", "--scale", "0.005",
              "--t-sim", "700", "--backend", "cpu", "--no-memory", "--out", str(tmp_path)]
    proc = subprocess.run(common + ["--work", str(tmp_path / "work")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (spikes,) = (tmp_path / "work").glob("*_spikes.h5")
    (whole,) = tmp_path.glob("multi_area_ground_scale0.005_700ms_2*.json")
    assert json.loads(whole.read_text())["config"]["delays"] == "redraw"
    proc = subprocess.run(common + ["--from-spikes", str(spikes), "--window-end", "600"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (part,) = tmp_path.glob("multi_area_ground_scale0.005_600ms_2*.json")
    a, b = (json.loads(f.read_text()) for f in (whole, part))
    assert b["config"]["analysis_to_ms"] == 600 and a["config"]["analysis_to_ms"] == 700
    assert a["per_area"]["V1"] != b["per_area"]["V1"]
    assert "the statistics cover 100 ms" in part.with_suffix(".md").read_text()
    proc = subprocess.run(common + ["--from-spikes", str(spikes), "--delays", "clip"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode != 0 and "its delays are redrawn, not clipped" in proc.stderr
    proc = subprocess.run(common + ["--window-end", "800"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "--window-end must be in (500, --t-sim]" in proc.stderr


def test_benchmark_script_resumes_a_stopped_run(shared_data, tmp_path):
    """--checkpoint-every: a run stopped after a checkpoint (SIGKILL) is finished by the same
    command; the report is that of a run that never stopped, and gives the simulate time of
    all its jobs."""
    script = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "bench_multi_area.py"
    common = [sys.executable, str(script), "--data", str(shared_data), "--areas", "V1", "--scale", "0.005",
              "--t-sim", "700", "--backend", "cpu", "--no-memory"]
    proc = subprocess.run(common + ["--out", str(tmp_path / "plain")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    resumable = common + ["--out", str(tmp_path / "out"), "--work", str(tmp_path / "work"), "--checkpoint-every", "200"]
    env = dict(os.environ, DISTSNN_INJECT_FAULT="0:checkpointed:2:kill")   # killed after the checkpoint at 400 ms
    proc = subprocess.run(resumable, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode != 0
    assert not list((tmp_path / "out").glob("*.json"))
    ck = tmp_path / "work" / "multi_area_ground_scale0.005_seed1_checkpoint"
    assert json.loads((ck / "checkpoint.json").read_text())["step"] == 4000
    proc = subprocess.run(resumable, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "300 ms (from 400 ms, resumed from" in proc.stdout
    (plain,), (out,) = (list((tmp_path / d).glob("multi_area_ground_scale0.005_700ms_2*.json"))
                        for d in ("plain", "out"))
    a, b = (json.loads(f.read_text()) for f in (plain, out))
    assert a["per_area"] == b["per_area"] and a["run"]["synaptic_events"] > b["run"]["synaptic_events"]
    joined = b["run"]["joined"]
    assert (joined["segments"], joined["t_start"], joined["t_stop"]) == (4, 0.0, 700.0)
    assert joined["synaptic_events"] == a["run"]["synaptic_events"]
    assert joined["simulate_s"] > b["run"]["timers_s"]["simulate"] > 0
    md = out.with_suffix(".md").read_text()
    assert "- run in 4 segments (checkpoints) over more than one job: the whole 0.7 s took" in md
    assert "the line above is the last job's (from 400 ms)" in md
    # a job that died after the last checkpoint, writing the output: the same command joins the
    # segments, simulates nothing, and the report is the same but for the last job's timers
    for leftover in [*(tmp_path / "work").glob("*.h5"), *(tmp_path / "work").glob("*.json"), out]:
        leftover.unlink()
    proc = subprocess.run(resumable, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "nothing left to simulate" in proc.stdout
    c = json.loads(out.read_text())
    assert c["per_area"] == a["per_area"] and c["run"]["joined"] == joined and "simulate" not in c["run"]["timers_s"]
    assert (c["run"]["n_neurons"], c["run"]["n_synapses"]) == (a["run"]["n_neurons"], a["run"]["n_synapses"])
    md = out.with_suffix(".md").read_text()
    assert "the whole 0.7 s took" in md and "the last job only joined them (the run had reached its end)" in md


def test_ring_width_benchmark_script_runs(shared_data, tmp_path):
    """scripts/bench_ring_width.py: both widths per seed, the runs really at those widths."""
    script = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "bench_ring_width.py"
    proc = subprocess.run([sys.executable, str(script), "--data", str(shared_data), "--scale", "0.002",
                           "--t-sim", "550", "--seeds", "3", "--out", str(tmp_path), "--work", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("ring_width_multi_area_scale0.002_*.json")
    rep = json.loads(js.read_text())
    assert [(r["seed"], r["ring_bits"]) for r in rep["runs"]] == [(3, 32), (3, 64)]
    assert all(set(r["medians_over_areas"]) == {"rate_spikes_per_s", "irregularity_LvR", "correlation_coefficient"}
               for r in rep["runs"])
    md = js.with_suffix(".md").read_text()
    assert "| 23E |" in md and re.search(r"state \(median 23E correlation > 0.1\): int32 [01] of 1, int64 [01] of 1", md)
    assert not list(tmp_path.glob("*.h5"))                  # spike files removed after analysis
