"""The multi-area model of macaque visual cortex (Schmidt et al. 2018, Brain Struct Funct
223:1409 and PLoS Comput Biol 14:e1006359): 32 areas, 254 populations of iaf_psc_exp,
4.13 million neurons and 24.1 billion synapses at full scale.

The structure (neuron and synapse numbers, external in-degrees, distances, weights by state)
is read from `multi_area_model.json` (the project's shared data; see its README for the
provenance), never copied into the package. Where the file is: the `data` argument (a
directory or the file itself), else the environment variable DISTSNN_DATA.

Rules, as in the model's own code and the GeNN port used by Knight & Nowotny (2021):
- fixed_total_number connectivity with int(count) synapses per projection (multapses and
  autapses allowed);
- weights normal(mean, 0.1 |mean|) clipped to keep their sign (the model redraws; 10 sd from
  the mean, no draw gets there, so clipping and redrawing agree); intra-area E sources
  87.81 pA (4E->23E twice that), I sources g = -11 times it; cortico-cortical weights are
  multiplied by chi (and by chi_I onto I targets) of the state ('ground': chi = 1,
  'resting': chi = 1.9, chi_I = 2);
- delays normal(mean, 0.5 mean) redrawn below dt, as the model's own code (NEST 2's
  normal_clipped) and the GeNN port draw them (`delays="redraw"`, the default; 'clip' puts
  the 3 to 4 % of intra-area synapses drawn below dt on dt, as distsnn did before
  2026-11-23: docs/design.md, "The multi-area model"); intra-area means 1.5 ms (E sources)
  and 0.75 ms (I sources), inter-area means distance / 3.5 mm/ms (1.7 to 18.0 ms);
- independent Poisson input of K_ext x 10 Hz per neuron, 87.81 pA, delay 1 ms (NEST's
  default; irrelevant for stationary input);
- initial membrane potentials N(-150, 50) mV; dt = 0.1 ms.

Scaling (for runs smaller than the full model):
- `scale` (the model's N_scaling) multiplies neuron numbers and synapse numbers together,
  so in-degrees, weights and the mean input per neuron stay those of the full model;
- `k_scale` (K_scaling) multiplies in-degrees (recurrent and external); weights are scaled
  by 1/sqrt(k_scale) and a DC current restores the mean input lost, computed from the
  full-scale rates that the model's code uses for this (its tests/fullscale_rates.json, kept
  in multi_area_reference_stats.json), as the model's own code does.

`areas` simulates a subset; cortico-cortical input from the areas left out is replaced, as
the model's 'het_poisson_stat' option does, by Poisson input at their full-scale rates
(`replace_missing="poisson"`, the default), or dropped (`replace_missing=None`).
"""
import json
import math
import os
import pathlib

import numpy as np

from ..model import FixedTotalNumber, Network, Normal
from ..model.distributions import OUTSIDE
from ..numbers import is_real, shown

DATA_FILE = "multi_area_model.json"
REFERENCE_FILE = "multi_area_reference_stats.json"
STATES = ("ground", "resting")
REPLACEMENTS = (None, "poisson")
# Post chunk length of the procedural streams. A model property: 4096 keeps the per-(pre,
# chunk) synapse counts of the full model at 3.2 GiB (1024 would need 11.8 GiB) while still
# cutting the largest population (70,387 neurons) into 18 pieces for partitioning.
CHUNK_SIZE = 4096
W_REL_SD = 0.1
DELAY_REL_SD = 0.5
POISSON_DELAY = 1.0        # ms; NEST's default static_synapse delay
REQUIRED_KEYS = ("areas", "populations", "structure", "neuron_numbers", "neuron_numbers_float", "synapses",
                 "external_input", "neuron_params", "weights", "delays", "simulation")
# the nested numbers build() reads, as key paths ("*" = every state)
REQUIRED_NUMBERS = (
    ("external_input", "weight_pA"), ("external_input", "rate_ext_per_synapse_hz"),
    ("delays", "intra_area_mean_E_source"), ("delays", "intra_area_mean_I_source"), ("simulation", "dt"),
    *(("neuron_params", k) for k in ("C_m", "tau_m", "t_ref", "E_L", "V_th", "V_reset", "tau_syn_ex", "tau_syn_in")),
    *(("weights", "by_state", state, k) for state in STATES for k in (
        "intra_area_E_source_pA", "intra_area_L4E_to_L23E_pA", "intra_area_I_source_pA",
        "inter_area_E_source_to_E_target_pA", "inter_area_E_source_to_I_target_pA")),
)


def data_path(data=None, name=DATA_FILE):
    """The path of a shared data file: `data` (a directory or the file), else $DISTSNN_DATA."""
    where = data if data is not None else os.environ.get("DISTSNN_DATA")
    if not where:
        raise ValueError(f"multi_area: the model's structural data ({name}) is read from a path: "
                         "pass data=DIR (--data DIR on the command line) or set DISTSNN_DATA")
    path = pathlib.Path(where)
    if path.is_dir():
        path = path / name
    if not path.is_file():
        raise ValueError(f"multi_area: data file {str(path)!r} not found (need {name}; "
                         "--data DIR or DISTSNN_DATA names the directory that holds it)")
    return path


def _load_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"multi_area: cannot read {str(path)!r}: {err}") from None


def load_structure(data=None):
    """Read and check multi_area_model.json; returns its dict. Errors name the key at fault."""
    path = data_path(data)
    d = _load_json(path)
    where = f"multi_area: {path.name}"
    missing = [k for k in REQUIRED_KEYS if k not in d] if isinstance(d, dict) else list(REQUIRED_KEYS)
    if missing:
        raise ValueError(f"{where}: missing keys {missing}")
    for keys in REQUIRED_NUMBERS:
        node = d
        for k in keys:
            node = node.get(k) if isinstance(node, dict) else None
        if not is_real(node):
            raise ValueError(f"{where}: {'.'.join(keys)} must be a number, got {shown(node)}")
    if not isinstance(d["external_input"].get("K_ext"), dict) or not isinstance(d["synapses"].get("entries"), list):
        raise ValueError(f"{where}: external_input.K_ext must be a mapping and synapses.entries a list")
    for area in d["areas"]:
        for key in ("structure", "neuron_numbers", "neuron_numbers_float"):
            if area not in d[key]:
                raise ValueError(f"{where}: area {area!r} missing from {key!r}")
        for pop in d["structure"][area]:
            n, nf = d["neuron_numbers"][area].get(pop), d["neuron_numbers_float"][area].get(pop)
            if not isinstance(n, int) or n < 0 or not isinstance(nf, (int, float)) or not nf >= 0:
                raise ValueError(f"{where}: neuron_numbers[{area!r}][{pop!r}] must be a non-negative integer "
                                 f"(and its float a non-negative number), got {n!r} and {nf!r}")
            k = d["external_input"]["K_ext"].get(area, {}).get(pop)
            if not isinstance(k, (int, float)) or not math.isfinite(k) or k < 0:
                raise ValueError(f"{where}: external_input.K_ext[{area!r}][{pop!r}] must be a number >= 0, got {k!r}")
    cols = d["synapses"].get("columns")
    if cols != ["target_area", "target_pop", "source_area", "source_pop", "count_float", "count_int"]:
        raise ValueError(f"{where}: synapses.columns {cols!r} not understood")
    for i, entry in enumerate(d["synapses"]["entries"]):
        if not isinstance(entry, list) or len(entry) != 6:
            raise ValueError(f"{where}: synapses.entries[{i}] must be a list of the 6 columns, got {entry!r}")
        ta, tp, sa, sp, cf, ci = entry
        if tp not in d["structure"].get(ta, ()) or sp not in d["structure"].get(sa, ()):
            raise ValueError(f"{where}: synapses.entries[{i}] names an unknown population "
                             f"{ta}/{tp} or {sa}/{sp}")
        if not isinstance(ci, int) or ci < 0 or not isinstance(cf, (int, float)) or not cf >= 0:
            raise ValueError(f"{where}: synapses.entries[{i}] ({sa}/{sp} -> {ta}/{tp}) has counts {cf!r}, {ci!r}")
    n_areas = len(d["areas"])
    order = d["delays"].get("areas_order")
    dist = np.asarray(d["delays"].get("inter_area_mean_delay_ms"), dtype=np.float64)
    if order != d["areas"] or dist.shape != (n_areas, n_areas) or not np.all(np.isfinite(dist)):
        raise ValueError(f"{where}: delays.inter_area_mean_delay_ms must be a {n_areas}x{n_areas} matrix "
                         "in the order of 'areas'")
    return d


def fullscale_rates(data=None):
    """The full-scale rates (Hz) per area and population that the model's code uses to
    compensate down-scaled in-degrees (its tests/fullscale_rates.json)."""
    path = data_path(data, REFERENCE_FILE)
    ref = _load_json(path)
    try:
        return ref["other_references_in_multi_area_model_repo"]["tests/fullscale_rates.json"]["rates_spikes_per_s"]
    except (KeyError, TypeError):
        raise ValueError(f"multi_area: {path.name} holds no full-scale rates "
                         "(other_references_in_multi_area_model_repo / tests/fullscale_rates.json)") from None


def population_name(area, pop):
    """Network population name of population `pop` (e.g. '23E') of `area` (e.g. 'V1')."""
    return f"{area}_{pop}"


def _check_scale(name, value):
    if not is_real(value) or not 0 < value <= 1:
        raise ValueError(f"multi_area: {name} must be in (0, 1], got {shown(value)}")
    return float(value)


def _areas(areas, known):
    if areas is None:
        return list(known)
    if isinstance(areas, str):
        areas = [a.strip() for a in areas.split(",") if a.strip()]
    areas = list(areas)
    unknown = [a for a in areas if a not in known]
    if unknown or not areas:
        raise ValueError(f"multi_area: unknown areas {unknown}; known: {list(known)}" if unknown
                         else "multi_area: areas is empty")
    if len(set(areas)) != len(areas):
        raise ValueError(f"multi_area: areas listed twice in {areas}")
    return [a for a in known if a in areas]       # the model's order, whatever the order given


def build(scale=1.0, k_scale=1.0, state="ground", areas=None, replace_missing="poisson", data=None,
          record_voltage=0, delays="redraw"):
    """Return the multi-area model as a Network.

    scale: N_scaling in (0, 1] (neuron and synapse numbers; in-degrees kept);
    k_scale: K_scaling in (0, 1] (in-degrees; weights x 1/sqrt(k_scale) plus DC compensation);
    state: 'ground' or 'resting'; areas: names (list or comma-separated) or None for all 32;
    replace_missing: 'poisson' or None, for input from areas left out; data: directory or
    file of the structure (default $DISTSNN_DATA); record_voltage: first K neurons of each
    population; delays: what a delay drawn below dt becomes, 'redraw' (the model's rule) or
    'clip' (the spikes of distsnn runs before 2026-11-23).
    """
    scale, k_scale = _check_scale("scale", scale), _check_scale("k_scale", k_scale)
    if state not in STATES:
        raise ValueError(f"multi_area: state must be one of {STATES}, got {state!r}")
    if replace_missing not in REPLACEMENTS:
        raise ValueError(f"multi_area: replace_missing must be one of {REPLACEMENTS}, got {replace_missing!r}")
    if delays not in OUTSIDE:
        raise ValueError(f"multi_area: delays must be one of {OUTSIDE}, got {delays!r}")
    d = load_structure(data)
    all_areas = d["areas"]
    chosen = _areas(areas, all_areas)
    simulated = set(chosen)
    need_rates = k_scale < 1.0 or (replace_missing == "poisson" and len(chosen) < len(all_areas))
    rates = fullscale_rates(data) if need_rates else None

    # neurons: int(N) as instantiated at full scale; int(N_float * scale) when scaled (as the model's code)
    sizes = {}
    for a in all_areas:
        for p in d["structure"][a]:
            sizes[a, p] = d["neuron_numbers"][a][p] if scale == 1.0 else int(d["neuron_numbers_float"][a][p] * scale)
    empty = [population_name(a, p) for (a, p), n in sizes.items() if a in chosen and n == 0]
    if empty:
        smallest = min(d["neuron_numbers_float"][a][p] for a in chosen for p in d["structure"][a])
        raise ValueError(f"multi_area: scale {scale} leaves populations {empty[:4]}{'...' if len(empty) > 4 else ''} "
                         f"without neurons; the smallest population has {smallest:.0f} neurons, so scale must be "
                         f">= {1.0 / smallest:.2g}")

    prm = d["neuron_params"]
    v0 = prm.get("V0_distribution", {"mean": -150.0, "sd": 50.0})
    neuron = {k: float(prm[k]) for k in ("C_m", "tau_m", "t_ref", "E_L", "V_th", "V_reset", "tau_syn_ex", "tau_syn_in")}
    wts = d["weights"]["by_state"][state]
    w_ext = float(d["external_input"]["weight_pA"])
    rate_ext = float(d["external_input"]["rate_ext_per_synapse_hz"])
    dly_data = d["delays"]
    area_index = {a: i for i, a in enumerate(all_areas)}
    inter_delay = np.asarray(dly_data["inter_area_mean_delay_ms"], dtype=np.float64)
    w_factor = 1.0 / math.sqrt(k_scale)

    def mean_weight(ta, tp, sa, sp):
        """Full-scale mean weight (pA) of source (sa, sp) -> target (ta, tp)."""
        if sa != ta:
            return wts["inter_area_E_source_to_I_target_pA" if tp.endswith("I") else "inter_area_E_source_to_E_target_pA"]
        if sp.endswith("I"):
            return wts["intra_area_I_source_pA"]
        if tp == "23E" and sp == "4E":
            return wts["intra_area_L4E_to_L23E_pA"]
        return wts["intra_area_E_source_pA"]

    def mean_delay(ta, sa, sp):
        if sa != ta:
            return float(inter_delay[area_index[ta], area_index[sa]])
        return float(dly_data["intra_area_mean_I_source"] if sp.endswith("I") else dly_data["intra_area_mean_E_source"])

    incoming = {}            # (ta, tp) -> list of entries
    for ta, tp, sa, sp, cf, ci in d["synapses"]["entries"]:
        if ta in simulated:
            incoming.setdefault((ta, tp), []).append((sa, sp, cf, ci))

    # int32 ring buffers: half of the 48 GiB the int64 ones would take at full scale; the build
    # proves them safe (in-degrees up to ~19,000; a fixed-point unit below 5e-5 of the smallest
    # mean weight at 1% scale, see docs/design.md)
    net = Network(dt=float(d["simulation"]["dt"]), chunk_size=CHUNK_SIZE, ring_bits=32, name="multi_area")
    net.metadata.update({
        "model": "multi_area", "state": state, "scale": scale, "k_scale": k_scale, "areas": {},
        "simulated_areas": chosen, "replace_missing": replace_missing, "delays": delays,
        "reference": "Schmidt et al. (2018) Brain Struct Funct 223:1409; PLoS Comput Biol 14:e1006359",
        "chi": wts.get("chi"), "chi_I": wts.get("chi_I"),
    })
    for a in chosen:
        for p in d["structure"][a]:
            name = population_name(a, p)
            n_full = d["neuron_numbers_float"][a][p]
            k_ext = float(d["external_input"]["K_ext"][a][p])
            dc = 0.0
            if k_scale < 1.0:
                # mean input lost by scaling in-degrees down with weights up by 1/sqrt(k): the model's
                # code adds it back as DC: (1 - sqrt(k)) * tau_syn * sum(K * J * rate), pA
                mean_in = w_ext * k_ext * rate_ext
                for sa, sp, cf, _ in incoming.get((a, p), ()):
                    mean_in += mean_weight(a, p, sa, sp) * (cf / n_full) * rates[sa][sp]
                dc = 1e-3 * neuron["tau_syn_ex"] * (1.0 - math.sqrt(k_scale)) * mean_in
            net.add_population(name, sizes[a, p], "iaf_psc_exp", dict(neuron, I_e=dc),
                               v_init=Normal(float(v0["mean"]), float(v0["sd"])))
            net.metadata["areas"][name] = a
            if k_ext > 0:
                net.add_poisson_input(name, indegree=k_ext * k_scale, rate=rate_ext, weight=w_ext * w_factor,
                                      delay=POISSON_DELAY)
            net.record_spikes(name)
            if record_voltage:
                net.record_voltage(name, np.arange(min(record_voltage, sizes[a, p])))

    for a in chosen:
        for p in d["structure"][a]:
            missing_k = missing_rate = missing_delay = 0.0
            w_missing = None
            n_full = d["neuron_numbers_float"][a][p]
            for sa, sp, cf, ci in incoming.get((a, p), ()):
                w = mean_weight(a, p, sa, sp)
                dly = mean_delay(a, sa, sp)
                if sa not in simulated:
                    if replace_missing == "poisson":
                        k = cf / n_full
                        missing_k += k
                        missing_rate += k * rates[sa][sp]
                        missing_delay += k * dly
                        if w_missing is not None and w != w_missing:     # the merge below needs one weight
                            raise ValueError(f"multi_area: input to {population_name(a, p)} from missing areas "
                                             f"has weights {w_missing} and {w} pA; cannot merge it")
                        w_missing = w
                    continue
                n_syn = ci if scale == 1.0 and k_scale == 1.0 else int(cf * scale * k_scale)
                if n_syn == 0:
                    continue
                w *= w_factor
                net.connect(population_name(sa, sp), population_name(a, p), FixedTotalNumber(n_syn),
                            weight=Normal(w, W_REL_SD * abs(w)), delay=Normal(dly, DELAY_REL_SD * dly, delays))
            if missing_k > 0:
                # all cortico-cortical sources are excitatory with one weight per target population, so
                # the missing areas merge into one Poisson input of their summed in-degree and
                # in-degree-weighted rate (Hz); for stationary input the delay only shifts it
                net.add_poisson_input(population_name(a, p), indegree=missing_k * k_scale,
                                      rate=missing_rate / missing_k, weight=w_missing * w_factor,
                                      delay=missing_delay / missing_k)
    return net
