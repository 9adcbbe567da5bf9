"""Reference for tests/test_single_neuron.py: how NEST counts refractory steps when t_ref is
not a whole number of steps. A neuron driven so hard that it spikes in the first step after
its refractory period has interspike intervals of (refractory steps + 1) dt; this records
them for several t_ref, models and resolutions. Usage:

    /path/to/venv-with-nest/bin/python scripts/peers/nest_refractory.py tests/data/nest_refractory.json
"""
import json
import sys

import nest
import numpy as np

T_REFS = [2.0, 2.04, 2.05, 2.06, 1.96, 0.15, 2.15, 0.5004, 0.5006]
RUNS = [("iaf_psc_exp", 0.1), ("iaf_psc_delta", 0.1), ("iaf_cond_exp", 0.1), ("iaf_psc_exp", 0.025)]


def main(out):
    nest.set_verbosity("M_ERROR")
    result = {"nest_version": nest.__version__, "t_refs": T_REFS, "runs": []}
    for model, dt in RUNS:
        isi = []
        for t_ref in T_REFS:
            nest.ResetKernel()
            nest.resolution = dt
            n = nest.Create(model, params={"t_ref": t_ref, "I_e": 1e7})
            sr = nest.Create("spike_recorder")
            nest.Connect(n, sr)
            nest.Simulate(20.0)
            isi.append(float(np.diff(sr.get("events")["times"])[1]))
        result["runs"].append({"model": model, "dt": dt, "isi_ms": isi})
    with open(out, "w") as fh:
        json.dump(result, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
