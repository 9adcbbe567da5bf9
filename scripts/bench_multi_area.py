"""Benchmark and validation: the multi-area model, its activity next to the published
reference statistics (Knight & Nowotny 2021; NEST and GeNN at full scale).

Runs `distsnn run multi_area` (in a fresh process, timed phases) and then analyses the spike
file over [500 ms, T] as the reference scripts do (scripts/calc_multi_area_stats.py of the
procedural_paper repository):
- per area and population: mean rate (Hz, silent neurons included), mean LvR (R = 2 ms,
  spiking neurons; fewer than 2 ISIs count as 0), mean pairwise correlation coefficient of
  1 ms spike counts among the first 2000 neurons that spike in the window, of the reference's
  block of 3001 consecutive ids (NaN -> 0);
- per population type, the distribution of these per-area values over areas (median and
  quartiles) next to NEST's and GeNN's;
- ground state: per-neuron histograms pooled over areas on the reference's own bins, and
  D_KL(NEST || distsnn) next to D_KL(NEST || GeNN seed k), computed the same way on the same
  bins (the published anchor).
It also writes down the memory the full-scale model needs on one device (from the engines'
own estimates; nothing is allocated). Writes bench/results/multi_area_*.json and .md, and
the per-area values as violins beside NEST's and GeNN's (.png).

    python scripts/bench_multi_area.py --scale 0.01 --t-sim 10500              # ~4 min on 2 cores
    python scripts/bench_multi_area.py --scale 0.01 --t-sim 10500 --state resting
    python scripts/bench_multi_area.py --scale 1 --t-sim 1500 --backend gpu --work /tmp   # one GPU, ~13 GiB
    python scripts/bench_multi_area.py --scale 1 --backend cpu --work /big --checkpoint-every 1000
        # on CPU (hours): run the same command again after it was stopped, it resumes

With --checkpoint-every the run checkpoints as it goes (in --work; at full scale each
checkpoint is about 10 GiB) and the same command, on a later day too, resumes it; the report
then gives the simulate time summed over all the jobs the run took.

On a GPU the report adds the device, its peak memory and NVML energy. With --work outside
--out the spike file stays there (at full scale it is large).

A down-scaled model (--scale < 1 keeps in-degrees and shrinks populations) is not the full
model: finite-size effects (shared input, fewer neurons per histogram) are expected to show.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from distsnn.analysis import analyze_file, kl_from_histograms  # noqa: E402
from distsnn.io import read_spikes, summary_path  # noqa: E402
from distsnn.models import multi_area  # noqa: E402

T_START = 500.0            # ms discarded, as in the reference analysis
DONE = {"redraw": "redrawn", "clip": "clipped"}   # what the delays below dt were (--delays)
REF_WINDOW_MS = 10000.0    # the references' analysis window (10.5 s runs)
DEFAULT_T_SIM = T_START + REF_WINDOW_MS
CORR_SAMPLE = 2000
MEASURES = ("rate_spikes_per_s", "irregularity_LvR", "correlation_coefficient")
POPS = ("23E", "23I", "4E", "4I", "5E", "5I", "6E", "6I")


def read_summary(spikes):
    """The run summary `distsnn run` writes beside its spike file."""
    with open(summary_path(spikes)) as fh:
        return json.load(fh)


def run_model(args, output, seed, quiet=False, **options):
    """`distsnn run multi_area` in a fresh process with the script's data, scale, t_sim,
    backend and threads, and the options given (state, areas, ring_bits, checkpoint, ...;
    None or False: not passed, True: a flag); returns the run's summary."""
    cmd = [sys.executable, "-m", "distsnn", "run", "multi_area", "--data", args.data, "--scale", str(args.scale),
           "--t-sim", str(args.t_sim), "--seed", str(seed), "--backend", args.backend, "--output", output,
           "--no-progress"]
    for key, value in options.items():
        if value is True:
            cmd.append("--" + key.replace("_", "-"))
        elif value not in (None, False):
            cmd += ["--" + key.replace("_", "-"), str(value)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO, stdout=subprocess.DEVNULL if quiet else None)
    return read_summary(output)


def pairwise_correlations(ids, times, t_start, t_stop, max_neurons=CORR_SAMPLE, bin_ms=1.0):
    """Coefficients of all pairs among the neurons the reference analysis takes: of the block
    of max_neurons + 1001 consecutive ids that starts at the lowest id with any spike (before
    t_start too), the first `max_neurons` that spike in [t_start, t_stop). Pearson correlation
    of spike counts in `bin_ms` bins over [t_start, t_stop); NaN -> 0.

    The block is the reference's (calc_correlations of calc_multi_area_stats.py): where more
    than a third of a population is silent in the window, it gives fewer than max_neurons."""
    if ids.size == 0:
        return np.zeros(0)
    first = ids.min()
    sel = (times >= t_start) & (times < t_stop) & (ids < first + max_neurons + 1001)
    ids, times = ids[sel], times[sel]
    active = np.unique(ids)[:max_neurons]
    if active.size < 2:
        return np.zeros(0)
    row = np.searchsorted(active, ids)
    keep = (row < active.size) & (active[np.minimum(row, active.size - 1)] == ids)
    n_bins = int(np.ceil((t_stop - t_start) / bin_ms))
    counts = np.zeros((active.size, n_bins))
    np.add.at(counts, (row[keep], ((times[keep] - t_start) / bin_ms).astype(np.int64)), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.corrcoef(counts)
    return np.nan_to_num(c[np.triu_indices(active.size, 1)])


def analyse(path, t_stop):
    """{area: {pop: {measure: per-area value}}} and pooled per-neuron values per population type."""
    stats = analyze_file(path, t_start=T_START, t_stop=t_stop, lvr_r=2.0, corr_neurons=0)
    spikes = read_spikes(path)
    per_area, pooled = {}, {}
    for name, st in stats.items():
        area, pop = name.rsplit("_", 1)
        lvr = np.where(np.isnan(st.lvr) & (st.rates > 0), 0.0, st.lvr)     # spiking, < 2 ISIs: 0
        lvr = lvr[st.rates > 0]
        corr = pairwise_correlations(spikes[name][0].astype(np.int64), spikes[name][1], T_START, t_stop)
        per_area.setdefault(area, {})[pop] = {
            "rate_spikes_per_s": float(st.rates.mean()) if st.rates.size else float("nan"),
            "irregularity_LvR": float(lvr.mean()) if lvr.size else float("nan"),
            "correlation_coefficient": float(corr.mean()) if corr.size else float("nan")}
        p = pooled.setdefault(pop, {m: [] for m in MEASURES})
        p["rate_spikes_per_s"].append(st.rates)
        p["irregularity_LvR"].append(lvr)
        p["correlation_coefficient"].append(corr)
    pooled = {pop: {m: np.concatenate(v) for m, v in d.items()} for pop, d in pooled.items()}
    return per_area, pooled


def across_areas(per_area):
    """Per population type and measure: the distribution of the per-area values."""
    out = {}
    for pops in per_area.values():
        for pop, vals in pops.items():
            for m, v in vals.items():
                out.setdefault(pop, {}).setdefault(m, []).append(v)
    summ = {}
    for pop, d in out.items():
        for m, v in d.items():
            v = np.asarray(v)
            v = v[np.isfinite(v)]
            summ.setdefault(m, {})[pop] = {"n": int(v.size), "median": float(np.median(v)) if v.size else None,
                                           "q25": float(np.percentile(v, 25)) if v.size else None,
                                           "q75": float(np.percentile(v, 75)) if v.size else None}
    return summ


def _edges(h):
    if "edges" in h:
        return np.asarray(h["edges"], dtype=np.float64)
    e = h["native_edges_linspace"]
    return np.linspace(e["start"], e["stop"], e["num_edges"])


def kl_table(pooled, hists):
    """D_KL(NEST || distsnn) and D_KL(NEST || GeNN seed k) on the reference's bins."""
    out = {}
    for m, by_pop in hists.items():
        for pop, h in by_pop.items():
            if pop not in pooled or "nest" not in h:
                continue
            edges = _edges(h)
            width = np.diff(edges)
            ours, _ = np.histogram(pooled[pop][m], bins=edges)
            genn = [kl_from_histograms(h["nest"], h[k], width) for k in ("genn_seed_1", "genn_seed_2", "genn_seed_3")]
            # what D_KL a sample of our size drawn from NEST's own histogram gives: the part of
            # our value that is only the smaller population, not a different distribution
            nest = np.asarray(h["nest"], dtype=np.float64)
            rng = np.random.default_rng(0)
            floor = [kl_from_histograms(nest, rng.multinomial(int(ours.sum()), nest / nest.sum()), width)
                     for _ in range(5)] if ours.sum() > 0 else [float("nan")]
            out.setdefault(m, {})[pop] = {
                "distsnn": kl_from_histograms(h["nest"], ours, width),
                "genn_mean": float(np.mean(genn)), "genn_sd": float(np.std(genn)),
                "sampling_floor": float(np.mean(floor)),
                "n_distsnn": int(pooled[pop][m].size), "n_nest": int(sum(h["nest"])),
                "outside_bins": int(pooled[pop][m].size - ours.sum())}
    return out


def full_scale_memory(data):
    """Bytes the full-scale model needs on one device (engines' estimates, nothing allocated)."""
    from distsnn.backends.cpu.sizes import state_bytes
    from distsnn.backends.gpu.simulator import device_bytes
    from distsnn.build import make_plan
    from distsnn.build.count_layout import held_cells
    plan = make_plan(multi_area.build(data=data), 0, bound_inputs=False)   # sizes only: no input-bound pass
    n = plan.n_neurons
    parts = state_bytes(plan, plan.units)
    return {"neurons": n, "ring_len_steps": plan.ring_len, "ring_bits": 8 * plan.ring_item_bytes,
            "ring_slots_per_neuron": parts["rings"] / plan.ring_item_bytes / n,
            "count_cells": held_cells(plan),
            "gpu_bytes": device_bytes(plan, plan.units, 0),
            "gpu_ring_bytes": parts["rings"], "gpu_count_bytes": parts["counts"]}


def fmt(x, spec=".3g"):
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, spec)


def markdown(rep):
    r, g = rep["run"], rep["config"]
    lines = [f"# Multi-area model, {g['state']} state, scale {g['scale']} ({g['t_sim']:.0f} ms, {g['backend']})", "",
             f"{rep['date']} on {rep['host']}, seed {g['seed']}; delays below dt {DONE[g.get('delays', 'clip')]} "
             f"(redrawn: the model's rule).", "",
             f"- {r['n_neurons']} neurons, {fmt(r.get('n_synapses'), '.4g')} synapses, {len(rep['per_area'])} areas"]
    t = r["timers_s"]
    if "simulate" in t:   # not when the job only joined a finished run's segments
        lines.append(f"- build {t['build']:.2f} s, simulate {t['simulate']:.1f} s: real-time factor "
                     f"{r['real_time_factor']:.2f}, {r['events_per_s']:.3g} synaptic events/s "
                     f"({r['synaptic_events']:.3g} events)")
    joined = r.get("joined")
    if joined and joined.get("segments", 1) > 1:   # resumed over several jobs: the timers are the last job's
        whole = (f"the whole {(joined['t_stop'] - joined['t_start']) / 1000:g} s took {joined['simulate_s']:.1f} s "
                 f"to simulate: real-time factor {joined['real_time_factor']:.2f}, "
                 f"{joined['synaptic_events'] / joined['simulate_s']:.3g} synaptic events/s"
                 if "simulate_s" in joined else "the segments' simulate times are not all known")
        last = (f"the line above is the last job's (from {r.get('t_start', 0):g} ms)" if "simulate" in t else
                "the last job only joined them (the run had reached its end)")
        lines.append(f"- run in {joined['segments']} segments (checkpoints) over more than one job: {whole}; {last}")
    if "build_bound" in t:   # the build's parts (runtime.run.simulate), and the write
        lines.append(f"- build: plan {t['build_plan']:.2f} s, row counts and input bound {t['build_bound']:.2f} s, "
                     f"engine {t['build_engine']:.2f} s; write {t.get('write', float('nan')):.2f} s")
    if r.get("devices"):
        dev = r["devices"][0]
        line = (f"- device {dev.get('name')}: peak memory {r['device_peak_memory_bytes'] / 2 ** 30:.2f} GiB, "
                f"int{r.get('ring_bits')} ring buffers")
        if "energy_J" in r:
            line += f", energy {r['energy_J']:.3g} J ({r['uJ_per_synaptic_event']:.3g} uJ per synaptic event)"
        lines.append(line)
    lines.append("")
    if g["scale"] < 1:
        lines += [f"Down-scaled: populations are {g['scale']} of full size with full in-degrees, so every neuron "
                  "shares far more of its input with its neighbours than at full scale, and the pooled "
                  "histograms hold fewer neurons (noisier D_KL). Differences from the full-scale references "
                  "below are expected; they are not a validation of the full model.", ""]
    window = g.get("analysis_to_ms", g["t_sim"]) - g.get("analysis_from_ms", T_START)
    if window < REF_WINDOW_MS:
        lines += [f"Short run: the statistics cover {window:.0f} ms, the references' {REF_WINDOW_MS / 1000:.0f} s. "
                  f"Per-neuron rates are spike counts over {window:.0f} ms (steps of {1000 / window:.2g} Hz), "
                  "LvR comes from the few intervals a slow neuron has in the window, and correlations from "
                  f"{window:.0f} 1-ms bins of sparse counts. So the LvR, correlation and D_KL rows describe the window "
                  "more than the model; the per-area rates are the comparison that holds at this length.", ""]
    names = {"rate_spikes_per_s": "rate (Hz)", "irregularity_LvR": "LvR", "correlation_coefficient": "correlation"}
    for m in MEASURES:
        lines += [f"## Per-area {names[m]}: median [q25, q75] over areas", "",
                  "| population | distsnn | NEST (full scale) | GeNN (full scale) |", "| --- | --- | --- | --- |"]
        for pop in POPS:
            cells = []
            for src in (rep["across_areas"].get(m, {}).get(pop),
                        rep["reference_across_areas"]["nest"][m].get(pop),
                        rep["reference_across_areas"]["genn"][m].get(pop)):
                cells.append("n/a" if not src or src.get("median") is None else
                             f"{fmt(src['median'])} [{fmt(src['q25'])}, {fmt(src['q75'])}]")
            lines.append(f"| {pop} | " + " | ".join(cells) + " |")
        lines.append("")
    if rep.get("kl"):
        lines += ["## D_KL(NEST || x) of per-neuron histograms pooled over areas, on the reference's bins", "",
                  "Sampling floor: D_KL(NEST || a sample of distsnn's size drawn from NEST's histogram), the "
                  "value a run of this size would show if its distribution were NEST's.", "",
                  "| measure | population | distsnn | sampling floor | GeNN seeds 1-3 (mean ± sd) "
                  "| neurons or pairs: distsnn / NEST |",
                  "| --- | --- | ---: | ---: | ---: | ---: |"]
        for m, by_pop in rep["kl"].items():
            for pop, k in by_pop.items():
                lines.append(f"| {names[m]} | {pop} | {fmt(k['distsnn'])} | {fmt(k['sampling_floor'])} "
                             f"| {fmt(k['genn_mean'])} ± {fmt(k['genn_sd'])} "
                             f"| {k['n_distsnn']} / {k['n_nest']} |")
        lines.append("")
    mem = rep.get("full_scale_memory")
    if mem:
        lines += ["## The full-scale model on one device (estimate, nothing allocated)", "",
                  f"- {mem['neurons']} neurons; int{mem.get('ring_bits', 64)} ring buffers, each population's "
                  "receptor as long as its longest incoming delay (at most "
                  f"{mem['ring_len_steps']} steps, mean + 6.66 sd of the longest inter-area projection; "
                  f"{mem.get('ring_slots_per_neuron', 2 * mem['ring_len_steps']):.0f} slots per neuron on average): "
                  f"{mem['gpu_ring_bytes'] / 2 ** 30:.1f} GiB",
                  f"- per (pre neuron, post chunk) synapse counts: {mem['count_cells']} cells, "
                  f"{mem['gpu_count_bytes'] / 2 ** 30:.2f} GiB (16 bits a cell where they fit)",
                  f"- GPU total, procedural: {mem['gpu_bytes'] / 2 ** 30:.1f} GiB "
                  "(an RTX 4090 has 24 GB, an H100 80 GB)", ""]
    return "\n".join(lines)


def figure(rep, ref_per_area, path):
    """The per-area values of each measure and population as violins, distsnn beside NEST and
    GeNN (the form of the reference paper's figure): one violin per simulator over its areas."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = {"rate_spikes_per_s": "rate (Hz)", "irregularity_LvR": "LvR", "correlation_coefficient": "correlation"}
    sims = (("distsnn", "tab:blue", "distsnn"), ("nest", "tab:gray", "NEST (reference)"),
            ("genn", "tab:orange", "GeNN (reference)"))
    fig, axes = plt.subplots(len(MEASURES), 1, figsize=(12, 9), sharex=True)
    for ax, m in zip(axes, MEASURES):
        for k, (sim, colour, label) in enumerate(sims):
            data, pos = [], []
            for i, pop in enumerate(POPS):
                if sim == "distsnn":
                    v = [a[pop][m] for a in rep["per_area"].values() if pop in a]
                else:
                    v = ref_per_area[sim][m].get(pop, [])
                v = np.asarray(v, dtype=np.float64)
                v = v[np.isfinite(v)]
                if v.size > 1 and np.ptp(v) > 0:
                    data.append(v)
                    pos.append(4 * i + k)
            if data:
                parts = ax.violinplot(data, positions=pos, widths=0.9, showmedians=True)
                for body in parts["bodies"]:
                    body.set_facecolor(colour)
                    body.set_alpha(0.6)
                for lines in ("cmedians", "cmins", "cmaxes", "cbars"):
                    parts[lines].set_color(colour)
            ax.plot([], [], color=colour, lw=6, alpha=0.6, label=label)
        ax.set_ylabel(names[m])
    axes[0].legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3, frameon=False)
    axes[-1].set_xticks([4 * i + 1 for i in range(len(POPS))])
    axes[-1].set_xticklabels(POPS)
    g = rep["config"]
    fig.suptitle(f"Multi-area model, {g['state']} state, scale {g['scale']:g}: per-area values over "
                 f"[{g['analysis_from_ms']:.0f}, {g.get('analysis_to_ms', g['t_sim']):.0f}] ms "
                 f"({len(rep['per_area'])} areas), delays {g.get('delays', 'clip')}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--t-sim", type=float, default=DEFAULT_T_SIM, help="ms (default: the references' 10500)")
    ap.add_argument("--state", choices=multi_area.STATES, default="ground")
    ap.add_argument("--areas", default=None, help="comma-separated subset (default all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--delays", choices=multi_area.OUTSIDE, default="redraw",
                    help="delays below dt redrawn (the model's rule) or clipped (distsnn before 2026-11-23)")
    ap.add_argument("--window-end", type=float, default=None,
                    help="ms: analyse [500, this] (default: --t-sim), e.g. a longer earlier run against a shorter one")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--data", default=os.environ.get("DISTSNN_DATA", os.path.join(REPO, "..", "shared", "data")))
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    ap.add_argument("--work", default=None, help="directory of the spike file (default: --out)")
    ap.add_argument("--no-memory", action="store_true", help="skip the full-scale memory estimate")
    ap.add_argument("--checkpoint-every", type=float, default=None, metavar="MS",
                    help="checkpoint every MS of biological time and resume the run's checkpoint if there is one: "
                         "a run longer than a job (or a session) is finished by the same command, run again")
    ap.add_argument("--checkpoint", default=None, metavar="DIR",
                    help="the checkpoint directory of --checkpoint-every (default: in --work, named by state, "
                         "scale, delays, backend and seed)")
    ap.add_argument("--from-spikes", default=None, metavar="FILE.h5",
                    help="analyse this earlier run of the same configuration (its _summary.json beside it) "
                         "instead of simulating; the file is kept")
    args = ap.parse_args()
    if args.t_sim <= T_START:
        ap.error(f"--t-sim must exceed the {T_START:.0f} ms discarded at the start")
    t_stop = args.t_sim if args.window_end is None else args.window_end
    if not T_START < t_stop <= args.t_sim:
        ap.error(f"--window-end must be in ({T_START:.0f}, --t-sim]")
    work = args.work or args.out
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(work, exist_ok=True)
    date = datetime.date.today().isoformat()
    # a GPU run is named apart from the CPU's of the same day, an analysis of another window
    # from the default's, a run of delays clipped from the model's
    length = "" if t_stop == DEFAULT_T_SIM else f"_{t_stop:g}ms"
    gpu = "_gpu" if args.backend.startswith("gpu") else ""
    clip = "_clip" if args.delays == "clip" else ""
    stem = f"multi_area_{args.state}_scale{args.scale:g}{length}{clip}{gpu}_{date}"
    spikes = os.path.join(work, stem + "_spikes.h5")
    if args.from_spikes:
        spikes = args.from_spikes
        run = read_summary(spikes)
    else:
        checkpoint = None
        if args.checkpoint_every is not None:   # not named by date: a later day's command resumes it
            checkpoint = args.checkpoint or os.path.join(
                work, f"multi_area_{args.state}_scale{args.scale:g}{clip}{gpu}_seed{args.seed}_checkpoint")
        run = run_model(args, spikes, args.seed, state=args.state, areas=args.areas, delays=args.delays,
                        checkpoint=checkpoint, checkpoint_every=args.checkpoint_every,
                        resume=checkpoint is not None)
    whole = dict(run)
    if "joined" in run:   # a resumed run: its summary's t_sim is the last job's, the spike file holds it all
        whole["t_sim"] = run["joined"]["t_stop"] - run["joined"]["t_start"]
    for key, want in (("scale", args.scale), ("t_sim", args.t_sim), ("seed", args.seed)):
        if whole[key] != want:
            raise SystemExit(f"{spikes}: {key} is {whole[key]}, not {want}")
    if run["parameters"]["state"] != args.state:
        raise SystemExit(f"{spikes}: state is {run['parameters']['state']}, not {args.state}")
    if run["parameters"].get("delays", "clip") != args.delays:   # (runs before the option clipped)
        raise SystemExit(f"{spikes}: its delays are {DONE[run['parameters'].get('delays', 'clip')]}, not "
                         f"{DONE[args.delays]}")
    per_area, pooled = analyse(spikes, t_stop)
    with open(multi_area.data_path(args.data, multi_area.REFERENCE_FILE)) as fh:
        ref = json.load(fh)
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": f"{platform.platform()} ({os.cpu_count()} CPUs)",
        "config": {"scale": args.scale, "t_sim": args.t_sim, "state": args.state, "seed": args.seed,
                   "backend": run["backend"], "areas": args.areas, "analysis_from_ms": T_START,
                   "analysis_to_ms": t_stop, "delays": args.delays},
        "run": {k: run[k] for k in ("n_neurons", "n_synapses", "synaptic_events", "events_per_s",
                                    "real_time_factor", "timers_s", "backend", "versions", "ring_bits", "devices",
                                    "device_peak_memory_bytes", "energy_J", "uJ_per_synaptic_event", "joined",
                                    "t_start") if k in run},
        "per_area": per_area,
        "across_areas": across_areas(per_area),
        "reference_across_areas": ref["summary_across_areas"][args.state],
        "kl": kl_table(pooled, ref["per_neuron_histograms_ground_state"]) if args.state == "ground" else None,
        "full_scale_memory": None if args.no_memory else full_scale_memory(args.data),
    }
    with open(os.path.join(args.out, stem + ".json"), "w") as fh:
        json.dump(report, fh, indent=1, default=float)
    with open(os.path.join(args.out, stem + ".md"), "w") as fh:
        fh.write(markdown(report) + "\n")
    figure(report, ref["per_area_population_averages"][args.state], os.path.join(args.out, stem + ".png"))
    if work == args.out and not args.from_spikes:
        os.remove(spikes)                      # results are the report; the spike file is large
        os.remove(summary_path(spikes))
    print(f"wrote {os.path.join(args.out, stem)}.json, .md and .png")


if __name__ == "__main__":
    main()
