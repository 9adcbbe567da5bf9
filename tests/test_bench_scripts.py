"""Benchmark scripts run end to end: the GPU benchmark on the emulated device (so a session
with a GPU can run it as it is), the checkpoint benchmark on a small microcircuit, the rules
benchmark on a small network."""
import json
import math
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_bench_gpu_smoke(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_gpu.py"), "--backend", "gpu-emu", "--scale",
                           "0.01", "--t-sim", "20", "--overhead-steps", "100", "--loop-block", "2", "--loop-team",
                           "2", "--tune-steps", "1", "--delays", "clip", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("gpu_microcircuit_*_clip_*.json")
    report = json.loads(js.read_text())
    assert report["delays"] == "clip"
    assert [r["mode"] for r in report["runs"]] == ["procedural"] * 8 + ["stored"] * 7
    proc_tuned, stored_tuned = report["runs"][7], report["runs"][14]
    untuned = report["runs"][:7] + report["runs"][8:14]
    assert [r["launches"].split(" (")[0] for r in untuned] == ["separate launches"] * 2 + [
        "step loop"] * 3 + ["separate launches", "step loop"] + ["separate launches"] + ["step loop"] * 3 + [
        "separate launches", "step loop"]
    proc_run, proc_full, proc_loop, proc_loop_block, proc_loop_team, proc_rows, proc_loop_rows = report["runs"][:7]
    stored_run, stored_loop, stored_loop_block, stored_loop_team, stored_rows, stored_loop_rows = report["runs"][8:14]
    # rows in parts of 2 rounds (--row-rounds' default) in both of their runs only, in each mode
    assert [r["device"]["row_rounds"] for r in untuned] == [0] * 5 + [2, 2] + [0] * 4 + [2, 2]
    # the tuned runs tried the step loop on and off (and procedural rows whole and in parts)
    assert "tuning" not in proc_run["device"]
    for tuned, n in ((proc_tuned, 4), (stored_tuned, 4)):
        tuning = tuned["device"]["tuning"]
        assert tuning["trial_steps"] == 1 and len(tuning["setups"]) == n
        assert tuning["chosen"].startswith(tuned["launches"].split(" (")[0])
    # (the emulated device keeps its teams of 2: DISTSNN_GPU_TEAM is a real device's)
    assert {r["device"]["delivery_team"] for r in report["runs"]} == {2}
    # the microcircuit with delays clipped has no fixed_indegree projection and no redraw: the
    # smaller variant, unless the full one is asked for (its redraw takes the full one:
    # test_delay_redraw)
    assert proc_run["kernels"][-1] == "deliver_procedural_no_indegree_r32"
    assert proc_full["kernels"][-1] == "deliver_procedural_r32"
    assert proc_loop["kernels"] == ["step_loop_no_indegree_r32"]
    # the emulated device (2 multiprocessors, room for 2 blocks of 4 threads each): one block of
    # 8 per multiprocessor, or blocks of 2 as asked (two per multiprocessor)
    assert proc_loop["launches"].endswith("2 blocks of 8)") and stored_loop["launches"].endswith("2 blocks of 8)")
    assert proc_loop_block["launches"].endswith("4 blocks of 2)") and stored_loop_block["launches"].endswith("4 blocks of 2)")
    # the same network in both modes and every way of launching
    assert len({r["events"] for r in report["runs"]}) == 1 and proc_run["events"] > 0
    assert proc_loop_team["kernels"] == stored_loop_team["kernels"] == ["step_loop_no_indegree_r32"]
    assert proc_run["n_steps"] == 200 and proc_run["real_time_factor"] > 0
    assert [o["graphs"] for o in report["overhead"]] == [True, False, True, True]
    assert report["overhead"][2]["launches"].endswith("2 blocks of 8)")
    assert report["overhead"][3]["launches"].endswith("4 blocks of 2)")
    md = js.with_suffix(".md").read_text()
    assert "smoke test of this script" in md
    assert "| step loop, 2 blocks of 8 | step_loop_no_indegree_r32 | 2 | whole rows |" in md
    assert "| step loop, 2 blocks of 8 | step_loop_no_indegree_r32 | 2 | 2 rounds |" in md
    assert "| stored | step loop, 2 blocks of 8 | step_loop_no_indegree_r32 | 2 | 2 rounds |" in md
    assert "Tuned procedural run: median µs per step of each setup in trial blocks of 1 steps" in md
    assert md.count(" (chosen)") == 2 and "| procedural | tuned: " in md


def test_bench_gpu_windows_smoke(tmp_path):
    """Two ranks on the emulated device, an exchange after every step: one copy back per
    window and at most one to the device (received spikes), spikes in both directions."""
    import shutil
    mpiexec = shutil.which("mpiexec", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("mpiexec")
    if mpiexec is None:
        pytest.skip("no mpiexec")
    proc = subprocess.run([mpiexec, "-n", "2", sys.executable, str(REPO / "scripts" / "bench_gpu_windows.py"),
                           "--backend", "gpu-emu", "--steps", "400", "--neurons", "50", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("gpu_windows_*.json")
    r = json.loads(js.read_text())["result"]
    assert r["steps"] == r["windows"] == 400 and r["spikes_per_window"] > 0.1 and r["us_per_window"] > 0
    assert r["copies_back_per_window"] == 1.0 and 0 < r["copies_to_device_per_window"] <= 1.0
    assert "| 400 | 400 |" in js.with_suffix(".md").read_text()


def test_bench_gpu_delivery_smoke(tmp_path):
    """Delivery launched alone on the emulated device with the model's own spikes: a row per
    spike count in every configuration, the events a launch delivers are the same whatever the
    mode, team, grid and rows in parts (the same spikes, the same synapses), and grow with the
    spikes."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_gpu_delivery.py"), "--backend", "gpu-emu",
                           "--scale", "0.02", "--spikes", "1,6,20", "--teams", "2,4", "--blocks-per-sm", "2,1", "--row-rounds", "0,1",
                           "--repeats", "2", "--warm-steps", "1000", "--delays", "clip", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("gpu_delivery_microcircuit_emulated_clip_*.json")
    report = json.loads(js.read_text())
    configs = report["configs"]
    assert [(c["mode"], c["team"], c["blocks_per_sm"], c["grid"], c["row_rounds"]) for c in configs] == [
        (m, t, b, 2 * b, r) for m in ("procedural", "stored") for t in (2, 4) for b in (2, 1) for r in (0, 1)]
    # rows in parts: more items, the more the smaller the team, in both modes
    for mode in ("procedural", "stored"):
        items = {(c["team"], c["row_rounds"]): c["items"] for c in configs if c["mode"] == mode}
        assert items[2, 0] == items[4, 0] < items[4, 1] < items[2, 1]
    assert configs[0]["kernels"] == ["deliver_procedural_no_indegree_r32"]
    assert configs[-1]["kernels"] == ["deliver_stored_r32"]
    events = {tuple(r["events"] for r in c["rows"]) for c in configs}
    assert len(events) == 1
    (per_launch,) = events
    assert 0 < per_launch[0] < per_launch[1] < per_launch[2]
    assert all(r["us_back_to_back"] > 0 and r["us_alone"] > 0 for c in configs for r in c["rows"])
    assert report["mean_spikes_per_step"] > 0 and report["mean_events_per_step"] > 0
    assert "smoke test of this script" in js.with_suffix(".md").read_text()


def test_bench_checkpoint_smoke(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_checkpoint.py"), "--scale", "0.05",
                           "--t1", "30", "--t2", "30", "--every", "20", "--out", str(tmp_path), "--note",
                           "smoke test of this script"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("checkpoint_microcircuit_scale0.05_*.json")
    r = json.loads(js.read_text())
    assert r["restart_equals_uninterrupted"] and r["spikes_after_cut"] > 0
    # at least the rings: 2 receptors x ring_len x 4 B (int32) per neuron
    assert r["checkpoint_bytes_per_neuron"] > 8 * r["ring_len_steps"] and r["write_s"] > 0 and r["restore_s"] > 0
    assert r["periodic_equals_uninterrupted"] and r["periodic_checkpoints"] == 3   # at 20, 40 and 60 ms
    assert r["periodic_checkpoint_s"] > 0 and r["periodic_segments_write_s"] > 0


@pytest.mark.parametrize("backend", ["cpu", "gpu-emu"])
def test_bench_rules_smoke(tmp_path, backend):
    """The CPU engine, and the GPU backend on the emulated device (what a GPU session runs)."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_rules.py"), "--n", "600", "--k", "50",
                           "--t-sim", "30", "--backend", backend, "--out", str(tmp_path)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("rules_2*.json" if backend == "cpu" else "rules_gpu-emu_emulated_gpu*.json")
    report = json.loads(js.read_text())
    runs = report["runs"]
    assert report["backend"] == backend and all(r["s_per_bio_s"] > 0 for r in runs)
    assert len(runs) == 9 and {r["connectivity"] for r in runs} == {"procedural", "stored"}
    for r in runs:
        assert r["events"] > 0 and r["ns_per_event"] > 0
        if r["rule"] == "from_list":   # held: run once
            continue
        # the same rule gives the same network in both modes (fixed_probability's procedural
        # synapse count is the expected one, the stored mode's the drawn one)
        twin = next(x for x in runs if x["rule"] == r["rule"] and x is not r)
        assert twin["events"] == r["events"]
    exact = {r["rule"]: r["synapses"] for r in runs}
    assert exact["fixed_indegree"] == exact["fixed_total_number"] == exact["fixed_outdegree"] == exact["from_list"] \
        == 600 * 50


@pytest.mark.parametrize("draws", ["constant", "uniform_lognormal", "exponential"])
def test_bench_brunel_smoke(tmp_path, draws):
    """Without NEST: distsnn's runs, stored == procedural, the per-run and over-seed tables;
    with the delays spread and the weights lognormal, or both exponential, in the file's name
    and title, and in the peers' spec."""
    options, suffix, title = {
        "constant": ([], "", None),
        "uniform_lognormal": (["--delay-spread", "2", "--weight-sigma", "0.5"], "_spread2_wsigma0.5",
                              "recurrent delays uniform over 1.5 ± 1 ms, recurrent weights lognormal (sd of log 0.5)"),
        "exponential": (["--delay-beta", "1", "--weight-exponential"], "_dbeta1_wexp",
                        "recurrent delays 0.5 ms + exponential of mean 1 ms, recurrent weights exponential")}[draws]
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_brunel.py"), "--scale", "0.02", "--t-sim",
                           "150", "--analysis-from", "50", "--threads", "1", "--out-dir", str(tmp_path), *options],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob(f"brunel_g5_eta2{suffix}_scale0.02_*.json")
    md = (tmp_path / js.name.replace(".json", ".md")).read_text()
    assert title is None or title in md
    sys.path.insert(0, str(REPO / "scripts"))
    from bench_brunel import nest_spec
    spread, sigma = (2.0, 0.5) if draws == "uniform_lognormal" else (0.0, 0.0)
    beta = 1.0 if draws == "exponential" else 0.0
    spec = nest_spec(0.02, 150.0, 5.0, 2.0, spread, sigma, beta, draws == "exponential")
    assert (spec["delay_low"], spec["delay_high"]) == {"constant": (1.5, 1.5), "uniform_lognormal": (0.5, 2.5),
                                                       "exponential": (0.5, 0.5)}[draws]
    assert spec["delay_beta"] == beta and spec["weight_exponential"] == (draws == "exponential")
    assert spec["weight_sigma"] == sigma and (("mu_e" in spec) == bool(sigma))
    if sigma:
        assert spec["mu_e"] == pytest.approx(math.log(0.1) - 0.125) and spec["mu_i"] == pytest.approx(math.log(0.5)
                                                                                                        - 0.125)
    res = json.loads(js.read_text())
    assert [(r["mode"], r["seed"]) for r in res["runs"]] == [("procedural", 1), ("stored", 1), ("procedural", 2)]
    assert res["stored_equals_procedural"] is True
    assert all(r["n_synapses"] == 250 * 1250 and r["n_spikes"] > 0 for r in res["runs"])
    over = res["analysis"]["rate_over_seeds"]["distsnn"]
    assert over["E"]["n"] == 2 and over["E"]["mean"] > 1.0
    assert "Mean rate (Hz) over seeds" in (tmp_path / js.name.replace(".json", ".md")).read_text()


def test_bench_adex_smoke(tmp_path):
    """Without NEST: distsnn's runs, stored == procedural, and the spec NEST would read."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_adex.py"), "--scale", "0.02", "--t-sim",
                           "150", "--analysis-from", "50", "--threads", "1", "--out-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("adex_b60_scale0.02_*.json")
    res = json.loads(js.read_text())
    assert [(r["mode"], r["seed"]) for r in res["runs"]] == [("procedural", 1), ("stored", 1), ("procedural", 2)]
    assert res["stored_equals_procedural"] is True and all(r["n_spikes"] > 0 for r in res["runs"])
    assert "ns per neuron update" in (tmp_path / js.name.replace(".json", ".md")).read_text()
    sys.path.insert(0, str(REPO / "scripts"))
    from bench_adex import nest_spec
    spec = nest_spec(0.02, 150.0, 60.0)
    signs = {(c["source"], c["target"]): (c["weight"], c["indegree"]) for c in spec["projections"]}
    assert signs[("E", "I")] == (1.5, 160) and signs[("I", "E")] == (-5.0, 40)   # NEST: inhibition negative
    assert spec["populations"]["E"]["params"]["b"] == 60.0 and spec["ext_rate_hz"] == 1000.0


def test_bench_izhikevich_smoke(tmp_path):
    """Without NEST: distsnn's runs, stored == procedural, and the spec NEST would read (the
    inhibitory weights negative, as the delta synapses of both simulators take them)."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_izhikevich.py"), "--scale", "0.02",
                           "--t-sim", "150", "--analysis-from", "50", "--threads", "1", "--out-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("izhikevich_scale0.02_*.json")
    res = json.loads(js.read_text())
    assert [(r["mode"], r["seed"]) for r in res["runs"]] == [("procedural", 1), ("stored", 1), ("procedural", 2)]
    assert res["stored_equals_procedural"] is True and all(r["n_spikes"] > 0 for r in res["runs"])
    assert all(r["n_synapses"] == 200 * 1000 for r in res["runs"])
    sys.path.insert(0, str(REPO / "scripts"))
    from bench_izhikevich import nest_spec
    spec = nest_spec(0.02, 150.0)
    w = {(c["source"], c["target"]): (c["weight_mean"], c["indegree"]) for c in spec["projections"]}
    assert w[("E", "I")] == (0.25, 800) and w[("I", "E")] == (-0.5, 200)
    assert spec["populations"]["I"]["params"]["a"] == 0.1 and spec["populations"]["E"]["noise_std"] == 5.0


def test_bench_izhikevich_published_cells_reach_nest_per_neuron():
    """With --cells published, the spec NEST reads gives each cell its own a, b (I) or c, d (E),
    one value per neuron in node order, the values distsnn's model holds."""
    sys.path.insert(0, str(REPO / "scripts"))
    from bench_izhikevich import nest_spec
    from distsnn.models import izhikevich
    spec = nest_spec(0.02, 150.0, "published")
    net = izhikevich.build(0.02, cells="published")
    e, i = spec["populations"]["E"]["params"], spec["populations"]["I"]["params"]
    assert e["c"] == net.populations["E"].per_neuron["c"].values.tolist() and len(e["d"]) == 160
    assert i["a"] == net.populations["I"].per_neuron["a"].values.tolist() and len(i["b"]) == 40
    assert e["a"] == 0.02 and i["c"] == -65.0   # the others stay numbers


def test_bench_heterogeneous_smoke(tmp_path):
    """The four runs (as published and with parameters per neuron, with and without
    projections) and their table; the microcircuit with its parameters drawn per neuron is
    alive and differs from the published one."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_heterogeneous.py"), "--scale", "0.02",
                           "--t-sim", "100", "--threads", "1", "--out-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("heterogeneous_microcircuit_scale0.02_*.json")
    res = json.loads(js.read_text())
    assert [(r["spread"], r["no_projections"]) for r in res["runs"]] == [(False, True), (True, True), (False, False),
                                                                         (True, False)]
    full = [r for r in res["runs"] if not r["no_projections"]]
    assert all(r["events"] > 0 and sum(r["rates"].values()) > 0 for r in full)
    assert full[0]["rates"] != full[1]["rates"]
    assert "| distsnn | per neuron | all |" in (tmp_path / js.name.replace(".json", ".md")).read_text()


def test_bench_sonata_smoke(tmp_path):
    """A small circuit of the benchmark's kind, written, read and run by distsnn alone."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_sonata.py"), "--n-v1", "300", "--n-lgn", "60",
                           "--p", "0.1", "--k-lgn", "20", "--t-stop", "100", "--threads", "1", "--work",
                           str(tmp_path / "circuit"), "--out-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("sonata_circuit_300_*.json")
    runs = json.loads(js.read_text())["runs"]
    assert [r["ring_bits"] for r in runs] == [32, 64]   # auto chose int32 here; then int64
    run = runs[0]
    assert run["simulator"] == "distsnn cpu (int32 input)" and run["events"] > 0 and run["spike_count"] > 0
    import h5py
    edges = 0
    for name in ("lgn_v1", "v1_v1"):
        with h5py.File(tmp_path / "circuit" / "network" / f"{name}_edges.h5") as f:
            edges += sum(g["source_node_id"].shape[0] for g in f["edges"].values())
    assert run["synapses"] == edges > 300 * 20   # every edge of the files, lgn's 20 per node and more
    assert set(run["rates"]) == {"100", "101", "102"} and all(v > 0 for v in run["rates"].values())


def test_bench_delay_tail_summary_and_report(tmp_path):
    """Without NEST: the statistics bench_delay_tail.py compares (from a real run's spike
    file) and its report's ratio columns, with the NEST runs stood in for by scaled copies."""
    import numpy as np
    sys.path.insert(0, str(REPO / "scripts"))
    from bench_delay_tail import markdown, summarise
    from distsnn.io import read_spikes
    from distsnn.io.sonata import write_spikes
    from distsnn.models import microcircuit
    from distsnn.runtime import simulate
    out = tmp_path / "mc.h5"
    res = simulate(microcircuit.build(0.02), 400.0, seed=3, progress=False)
    write_spikes(str(out), res)
    stats = summarise(str(out), 100.0, 400.0, corr_neurons=20)
    spikes = read_spikes(str(out))
    sizes = {p.name: p.size for p in microcircuit.build(0.02).populations.values()}
    for name, (ids, times) in spikes.items():
        window = (times >= 100.0) & (times < 400.0)
        assert stats[name]["rate_hz"] == pytest.approx(window.sum() / sizes[name] / 0.3)
        assert stats[name]["n_corr"] == min(20, np.unique(ids[window]).size)   # a sample of the spiking ones
    assert res.n_synapses > 0 and all(np.isfinite(s["lvr"]) for s in stats.values() if s["rate_hz"] > 5)
    scaled = {p: {m: 2.0 * v for m, v in s.items()} for p, s in stats.items()}
    rep = {"date": "today", "host": "here", "config": {"scale": 0.02, "t_sim": 400.0, "seed": 3, "corr_neurons": 20},
           "runs": {"NEST redraw": {"simulate_s": 1.0, "stats": stats}, "NEST clip": {"simulate_s": 1.0, "stats": scaled},
                    "distsnn redraw": {"simulate_s": 1.0, "stats": stats},
                    "distsnn clip": {"simulate_s": 1.0, "stats": stats}}}
    md = markdown(rep)
    row = next(line for line in md.splitlines() if line.startswith("| L4E |"))   # the first table: rates
    assert row.endswith("| 2.000 | 1.000 | 0.500 |")   # NEST clip / redraw, distsnn / NEST of each rule
    assert md.count("| L23E |") == 3 and "The NEST runs are those of" not in md
    # --nest-from: NEST's runs of an earlier report of the same configuration, else an error
    from bench_delay_tail import earlier_nest_runs
    rep["config"]["threads"] = 2
    (tmp_path / "earlier.json").write_text(json.dumps(rep))
    got = earlier_nest_runs(str(tmp_path / "earlier.json"), rep["config"])
    assert set(got) == {"NEST redraw", "NEST clip"} and got["NEST clip"]["stats"]["L4E"] == scaled["L4E"]
    with pytest.raises(SystemExit, match=r"earlier.json: another configuration \(seed 3 there, 4 here\)"):
        earlier_nest_runs(str(tmp_path / "earlier.json"), {**rep["config"], "seed": 4})
    assert "are those of earlier.json" in markdown({**rep, "nest_from": "earlier.json"})
    assert set(earlier_nest_runs(str(tmp_path / "earlier.json"), rep["config"], ("redraw",))) == {"NEST redraw"}


def test_bench_delay_tail_one_rule_and_seeds(tmp_path):
    """bench_delay_tail.py with one rule (its report's ratios only those of the runs made, its
    name with the seed and the rule) and --combine (seeds side by side, NEST's spread)."""
    sys.path.insert(0, str(REPO / "scripts"))
    from bench_delay_tail import combined, earlier_nest_runs, markdown, report_stem

    def stats(rate, corr):
        return {"L4E": {"rate_hz": rate, "lvr": 1.0, "corr": corr, "n_corr": 5}}

    def report(seed, nest, dist, rules=("redraw",)):
        runs = {}
        for rule in rules:
            runs[f"NEST {rule}"] = {"simulate_s": 1.0, "stats": stats(*nest)}
        for rule in rules:
            runs[f"distsnn {rule}"] = {"simulate_s": 1.0, "stats": stats(*dist)}
        return {"date": "today", "host": "here", "runs": runs, "nest_from": None,
                "config": {"scale": 1.0, "t_sim": 5500.0, "seed": seed, "threads": 2, "corr_neurons": 500}}

    one = report(2, (4.0, 0.010), (5.0, 0.008))
    md = markdown(one)
    assert "NEST clip" not in md and "distsnn redraw / NEST redraw" in md
    assert next(x for x in md.splitlines() if x.startswith("| L4E |")).endswith("| 4 | 5 | 1.250 |")
    assert report_stem("out", 1.0, 2, ["redraw"], "D") == "out/delay_tail_microcircuit_scale1_seed2_redraw_D"
    assert report_stem("out", 0.5, 1, ["redraw", "clip"], "D") == "out/delay_tail_microcircuit_scale0.5_D"
    (tmp_path / "one.json").write_text(json.dumps(one))
    with pytest.raises(SystemExit, match="one.json: has no NEST run with delays clip"):
        earlier_nest_runs(str(tmp_path / "one.json"), one["config"], ("redraw", "clip"))
    # seed 1 ran both rules, seed 2 only redraw: the redraw runs side by side
    both = report(1, (5.0, 0.012), (4.5, 0.011), rules=("redraw", "clip"))
    md = combined([both, one])
    rates, corrs = [x for x in md.splitlines() if x.startswith("| L4E |")][:3:2]
    assert rates == "| L4E | 5 / 4 | 4.5 / 5 | 0.900 / 1.250 | 1.056 | 1.250 |"
    assert corrs == "| L4E | 0.012 / 0.01 | 0.011 / 0.008 | 0.917 / 0.800 | 0.864 | 1.200 |"
    # the ratios' mean over populations (one here) per seed, and over seeds
    assert "distsnn redraw / NEST redraw, mean over populations: 0.917 / 0.800 (seeds 1/2), 0.858 over all." in md
    assert "clip" not in md and "seeds 1, 2" in md
    with pytest.raises(SystemExit, match="differ in more than their seed"):
        combined([both, {**one, "config": {**one["config"], "t_sim": 1000.0}}])
    with pytest.raises(SystemExit, match="a seed is given twice"):
        combined([one, one])


def test_bench_currents_smoke(tmp_path):
    """Every case runs, the step currents have the amplitudes asked for, and the report is
    written."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_currents.py"), "--scale", "0.02",
                           "--t-sim", "50", "--values", "200", "--repeat", "1", "--threads", "1", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("currents_scale0.02_*.json")
    cases = {c["case"]: c for c in json.loads(js.read_text())["cases"]}
    assert list(cases) == ["none", "step, few", "step", "step into half", "noise", "noise into half"]
    assert cases["none"]["dc_rows"] == 0 and cases["step"]["dc_rows"] == 8
    assert cases["step"]["amplitudes"] == 8 * 200 and cases["step, few"]["amplitudes"] == 8 * 4
    assert all(c["simulate_s"] > 0 for c in cases.values())
    assert "| step into half | 8 | 1600 |" in (tmp_path / js.name.replace(".json", ".md")).read_text()


def test_bench_sweep_smoke(tmp_path):
    """The sweep benchmark without NEST: both distsnn sweeps (one process, two ranks), their
    spikes checked equal, the report's table and the plot."""
    pytest.importorskip("matplotlib")
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_sweep.py"), "--scale", "0.02", "--t-sim",
                           "60", "--rates-from", "10", "--g", "4,6", "--eta", "2", "--out-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("sweep_brunel_scale0.02_*.json")
    report = json.loads(js.read_text())
    assert report["points"] == [{"g": 4.0, "eta": 2.0}, {"g": 6.0, "eta": 2.0}]
    assert report["distsnn"]["same_spikes_on_ranks"] and report["distsnn"]["wall_2_ranks_s"] > 0
    rates = [p["populations"]["E"]["rate_hz"] for p in report["distsnn"]["points"]]
    assert rates[1] < rates[0]   # stronger inhibition, lower rate
    md = js.with_suffix(".md").read_text()
    assert "| 4 | 2 |" in md and "| 6 | 2 |" in md and "n/a" in md   # no NEST: its columns n/a
    assert js.with_suffix(".png").stat().st_size > 0
    # as the GPU session's stage "sweep" runs it, here on the emulated device: the same points
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_sweep.py"), "--scale", "0.02", "--t-sim",
                           "30", "--rates-from", "10", "--g", "4", "--eta", "2", "--backend", "gpu-emu", "--out-dir",
                           str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    emu = json.loads(next(tmp_path.glob("sweep_brunel_scale0.02_gpu-emu_*.json")).read_text())
    assert emu["backend"] == "gpu-emu" and emu["distsnn"]["points"][0]["backend"] == "gpu-emu"


def test_bench_stp_smoke(tmp_path):
    """Static and plastic runs in both modes and their table: the plastic ones deliver other
    events (depression), and both modes give the same spikes."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_stp.py"), "--scale", "0.02",
                           "--t-sim", "100", "--threads", "1", "--out-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("stp_microcircuit_scale0.02_*.json")
    runs = json.loads(js.read_text())["runs"]
    assert [(r["mode"], r["stp"]) for r in runs] == [("procedural", False), ("procedural", True), ("stored", False),
                                                     ("stored", True)]
    assert all(r["events"] > 0 for r in runs)
    assert runs[0]["events"] != runs[1]["events"]
    assert (runs[0]["events"], runs[1]["events"]) == (runs[2]["events"], runs[3]["events"])
    assert "| distsnn (stored) | Tsodyks-Markram |" in (tmp_path / js.name.replace(".json", ".md")).read_text()


def test_bench_stdp_smoke(tmp_path):
    """A static and an STDP run on each engine (the GPU's emulated) and their table, with the
    plastic synapses' weights (NEST's weights, operation for operation: tests/test_stdp.py),
    the same on both engines."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_stdp.py"), "--scale", "0.02",
                           "--t-sim", "200", "--threads", "1", "--backends", "cpu,gpu-emu", "--out-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("stdp_microcircuit_scale0.02_*.json")
    runs = json.loads(js.read_text())["runs"]
    assert [r["stdp"] for r in runs] == [False, True] * 2
    assert [r["simulator"] for r in runs] == ["distsnn"] * 2 + ["distsnn (gpu-emu)"] * 2
    assert all(r["events"] > 0 for r in runs)
    w = runs[1]["weights"]
    assert w["n"] > 1000 and w["mean"] > 0 and w["sd"] > 0 and "weights" not in runs[0]
    assert runs[3]["weights"] == w and runs[3]["spikes"] == runs[1]["spikes"]
    table = (tmp_path / js.name.replace(".json", ".md")).read_text()
    assert "| distsnn | STDP |" in table and "| distsnn (gpu-emu) | STDP |" in table


def test_bench_hpc_smoke(tmp_path):
    """NEST's HPC benchmark network on each engine (the GPU's emulated) and their table: the
    same spikes and learned weights on both."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_hpc.py"), "--scale", "0.02", "--t-sim", "20",
                           "--threads", "1", "--backends", "cpu,gpu-emu", "--out-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (js,) = tmp_path.glob("hpc_benchmark_scale0.02_*.json")
    cpu, gpu = json.loads(js.read_text())["runs"]
    assert (cpu["simulator"], gpu["simulator"]) == ("distsnn", "distsnn (gpu-emu)")
    assert cpu["spikes"] > 0 and cpu["spikes"] == gpu["spikes"] and cpu["weights"] == gpu["weights"]
    assert cpu["synapses"] == 225 * 11250 and cpu["weights"]["n"] > 1000
    assert "| distsnn (gpu-emu) |" in (tmp_path / js.name.replace(".json", ".md")).read_text()
