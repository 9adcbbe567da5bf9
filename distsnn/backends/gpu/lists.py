"""Synapse lists (model FromList) on the device: their CSR, built on the host
(build.synapse_lists) and delivered by deliver_stored in both connectivity modes, with their
own (source population, unit) items. A function of the GpuSimulator, as efficacies.py's."""
import numpy as np

from ...build.synapse_lists import list_bytes, list_csr
from . import stdp
from .delivery_items import list_items, stored_records, teams_per_spike
from .step_setups import records_on


def build(sim):
    """The lists onto sim's local neurons: sim.d_lists (row_of, ptr, syn_loc, syn_w, syn_d),
    their plasticity codes (sim.d_list_q) and STDP weights, and their items (sim.list_items,
    None without lists)."""
    d, plan = sim.dev, sim.plan
    sim.list_items = None
    if not plan.lists:
        return
    sim._check_fits("synapse lists", list_bytes(plan, sim.units))
    row_of, ptr, loc, w, dl, q = list_csr(plan, sim.units, sim.ring_dtype)
    sim.d_lists = (d.to_device(row_of, np.int64), d.to_device(ptr, np.int64),
                   d.to_device(loc if loc.size else np.zeros(1, np.int32), np.int32),
                   d.to_device(w if w.size else np.zeros(1, sim.ring_dtype), sim.ring_dtype),
                   d.to_device(dl if dl.size else np.zeros(1, np.int32), np.int32))
    if q.size:   # the plasticity code of each list synapse, and STDP's weights
        sim.d_list_q, sim.has_list_q = d.to_device(q, np.int16), True
        stdp.list_weights(sim, row_of, ptr, loc, w, q)
    item_ptr, unit = list_items(plan, sim.units, row_of, ptr)
    sim.list_split = teams_per_spike(item_ptr)
    sim.list_items = [d.to_device(item_ptr, np.int64), records_on(d, stored_records(plan, sim.units, unit))]
    if sim.n_synapses is not None:
        sim.n_synapses += int(ptr[-1])
