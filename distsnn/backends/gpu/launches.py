"""The launches of a GPU step: which kernels a step of a GpuSimulator runs, and their
arguments (the simulator's device arrays), as separate launches (one_step) or as one launch of
the step loop for a block of steps (loop_kernel, loop_args)."""
import os

import numpy as np

from ...build import plan as bp
from ...model.neurons import AEIF_MODELS, MODEL_CODES
from . import layout, stdp


def env_int(name, default, what):
    """The whole number in the environment variable `name` (`default` where it is unset or
    empty), or an error naming the variable where it is not one (`what`: what it counts)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number of {what}") from None


def launch_choices(step_loop=None):
    """(step_loop, rule_variants) of a device, real or emulated, so that both read the
    environment alike: blocks of steps as one launch of the step loop where the model allows
    (step_loop.cu; given, or DISTSNN_GPU_STEP_LOOP=1: off until a device has measured it
    against the CUDA graphs), and delivery's smallest rule variant that covers the model
    (source.RULE_VARIANTS; DISTSNN_GPU_RULE_VARIANTS=0 always takes the full one, to measure
    what the variants gain)."""
    if step_loop is None:
        step_loop = os.environ.get("DISTSNN_GPU_STEP_LOOP", "0") == "1"
    return step_loop, os.environ.get("DISTSNN_GPU_RULE_VARIANTS", "1") != "0"


def row_rounds(rounds=None):
    """Rounds of a delivery team per part of a row (delivery_items.row_parts, stored_parts),
    for a real or an emulated device alike: given, or DISTSNN_GPU_ROW_ROUNDS; 0 (the default:
    whole rows, as measured on the H100) lists every row once."""
    if rounds is None:
        rounds = env_int("DISTSNN_GPU_ROW_ROUNDS", 0, "rounds")
    if rounds < 0:
        raise ValueError(f"rounds per part of a row must be 0 (whole rows) or more, got {rounds}")
    return rounds


def deliveries(sim, sl, lo, hi, finish, gid, step, pop, eff=None, pre=None):
    """(kernel, args) of the delivery of spikes gid, step, pop (their populations)
    [lo[0], hi[0]) with the items and team of sl (step_setups.StepLaunches): the rules'
    synapses, then the synapse lists' (if any). finish: the parity of the step that the first
    launch ends (the step's own spikes), -1 for none (received spikes). Where the model has
    short-term plasticity, the spikes' efficacies (stp_efficacies, launched before by the
    caller) scale the weights: eff (default sim.d_eff), a row of sim.n_groups per spike from
    lo[0]; where it has STDP, the spikes' presynaptic states (stdp_pre_state, launched before)
    update the weights: pre (default sim.d_pre), rows from lo[0] too."""
    plan = sim.plan
    U = sim.units.shape[0]
    stp = (sim.d_eff if eff is None else eff, sim.n_groups)
    if sim.connectivity == "stored":
        out = [(sim.entry_point("deliver_stored"), (
            lo, hi, sim.state, finish, gid, step, pop, *sl.items, sl.split, U, 0, sim.d_no_rows,
            sim.d_ptr, sim.d_syn_loc, sim.d_syn_w, sim.d_syn_d, sim.ring, sim.d_events, sl.team, sim.d_syn_q, *stp,
            int(sim.has_syn_q), *stdp.delivery_args(sim, sim.d_syn_wf, pre)))]
    else:
        out = [(sim.entry_point("deliver_procedural"), (
            lo, hi, sim.state, finish, gid, step, pop, *sl.items, sl.split, sim.d_proj_f,
            sim.d_counts, plan.chunk_size, plan.key0, plan.key1, plan.dt, 1.0 / plan.dt, sim.ring, sim.d_events,
            sl.team, sim.d_proj_stp, *stp))]
    if sim.list_items is not None:
        out.append((sim.entry_point("deliver_stored"), (
            lo, hi, sim.state, -1, gid, step, pop, *sim.list_items, sim.list_split, U, 1, *sim.d_lists,
            sim.ring, sim.d_events, sl.team, sim.d_list_q, *stp, int(sim.has_list_q),
            *stdp.delivery_args(sim, sim.d_list_wf, pre))))
    return out


def efficacies(sim, base, lo, hi, gid, step, eff=None):
    """(kernel, grid, block, args) of the efficacies of spikes gid, step [lo[0], hi[0]) (all of
    one step), rows from base[0] in eff (default sim.d_eff: a step's own spikes); None
    without short-term plasticity."""
    if not sim.n_groups:
        return None
    plan = sim.plan
    return ("stp_efficacies", sim.deliver_grid, sim.dev.block_threads, (
        base, lo, hi, gid, step, sim.n_groups, sim.d_stp_f, sim.d_stp_i, sim.stp_u, sim.stp_x, sim.stp_last, plan.dt,
        sim.d_eff if eff is None else eff))


def neuron_args(sim):
    """The neuron kernels' arguments after (state, parity)."""
    plan = sim.plan
    return (sim.n_local, sim.d_gids, sim.d_local_pop, sim.d_local_unit, sim.d_units, sim.v, sim.i_ex,
            sim.i_in, sim.dj_ex, sim.dj_in, sim.refr, sim.vth, sim.izp, sim.nrow, sim.nf, sim.ring,
            sim.d_pop_f, sim.d_pop_i, sim.d_pin_i, sim.d_pin_cdf, sim.d_dc_f, sim.d_dc_i, sim.d_dc_seg_i,
            sim.d_dc_seg_f, sim.d_dc_mask, sim.d_noise_f, sim.d_noise_i, int(plan.noise_i.shape[0]), sim.ie_given,
            plan.key0, plan.key1, sim.spk_gid, sim.spk_step, sim.spk_pop, sim.spk_cap)


def has_aeif(plan):
    """Whether the model has AdEx neurons (their own kernel, neuron_update_aeif)."""
    return bool(np.isin(plan.pop_i[:, bp.PI_MODEL], [MODEL_CODES[m] for m in AEIF_MODELS]).any())


def loop_kernel(sim, step_loop):
    """The step loop's entry point (step_loop.cu) if step_loop asks for it and this process's
    steps are its launches alone (neuron update, recording, delivery of the rules' synapses:
    no spike or Poisson sources, AdEx neurons, synapse lists, short-term plasticity or STDP),
    else None: the steps run as separate launches."""
    plan = sim.plan
    if not (step_loop and sim.n_local and sim.units.shape[0]):
        return None
    if plan.sched_step.size or sim.n_src or has_aeif(plan) or sim.list_items is not None or sim.n_groups \
            or sim.n_stdp:
        return None
    return sim.entry_point("step_loop")


MAX_BLOCK = 1024   # threads per block (every CUDA device since compute capability 2.0)


def loop_shape(resident, team, cap_threads, forced=None):
    """(block, grid) of the step loop's cooperative launch.

    resident(block): how many blocks of `block` threads the device holds at once (all
    multiprocessors: device.cooperative_grid). team: delivery's threads per row (a block is
    a multiple of it). cap_threads: at most this many threads in all (delivery's grid: its
    event counters). forced: a block size to use instead (DISTSNN_GPU_LOOP_BLOCK), for
    measurement.

    The block is chosen for the grid barriers: every block arrives at one counter twice a
    step, one atomic after another, and waits on one word. So of the shapes that keep the
    most threads resident (the registers decide: 6 blocks of 128 at 80 registers on an
    H100, or 1 of 768), the one with the fewest blocks: 132 arrivals per barrier on an H100
    instead of 792. The work is the same either way (the bodies are grid-stride loops, and
    delivery has as many teams)."""
    def shape(block):
        return block, min(resident(block), cap_threads // block)

    if forced is not None:
        if forced < team or forced % team or forced > MAX_BLOCK:
            raise ValueError(f"the step loop's block ({forced} threads) must be a multiple of the delivery team "
                             f"({team} threads), at most {MAX_BLOCK}")
        return shape(forced)
    best = (team, 0)   # where no block fits: the smallest, with no grid (the caller's error names it)
    for block in range(team, MAX_BLOCK + 1, team):
        b, grid = shape(block)
        if grid >= 1 and (b * grid, b) > (best[0] * best[1], best[0]):
            best = (b, grid)
    return best


def forced_loop_block():
    """DISTSNN_GPU_LOOP_BLOCK as an int, or None where unset."""
    return env_int("DISTSNN_GPU_LOOP_BLOCK", None, "threads")


def loop_args(sim, sl, n):
    """Arguments of the step loop's launch for n steps, with the items and team of sl
    (step_setups.StepLaunches). The stored CSR gets stand-ins (unread) in procedural mode."""
    plan = sim.plan
    stored = sim.connectivity == "stored"
    if stored:
        csr = (sim.d_ptr, sim.d_syn_loc, sim.d_syn_w, sim.d_syn_d)
    else:
        csr = (sim.d_no_rows, sim.d_local_pop, sim.ring, sim.d_local_pop)
    return (n, sim.state, *neuron_args(sim), sim.n_rec, sim.d_rec_local, sim.d_rec_code, sim.d_vrec, *sl.items,
            sl.split, sim.d_proj_f, sim.d_counts, plan.chunk_size, plan.dt, 1.0 / plan.dt, int(stored),
            sim.units.shape[0], *csr, sim.d_events, sl.team)


def one_step(sim, sl, p):
    """(kernel, grid, block, args) of the launches of a step of parity p, delivering with the
    items and team of sl (step_setups.StepLaunches)."""
    plan, d = sim.plan, sim.dev
    bt = d.block_threads
    U = sim.units.shape[0]
    steps = []
    if plan.sched_step.size:
        steps.append(("spike_sources", sim.grid_for(U), bt, (
            sim.state, p, U, sim.d_units, sim.d_pop_i, sim.d_sched_step, sim.d_sched_gid, sim.d_cursor,
            sim.spk_gid, sim.spk_step, sim.spk_pop, sim.spk_cap)))
    if sim.n_src:
        steps.append(("poisson_sources", sim.grid_for(sim.n_src), bt, (
            sim.state, p, sim.n_src, sim.d_src_gids, sim.d_pop_of, sim.d_pop_i, sim.d_ps_seg, plan.key0,
            plan.key1, sim.spk_gid, sim.spk_step, sim.spk_pop, sim.spk_cap)))
    if sim.n_local:
        args = (sim.state, p, *neuron_args(sim))
        steps.append((sim.entry_point("neuron_update"), sim.grid_for(sim.n_local), bt, args))
        if has_aeif(plan):
            steps.append((sim.entry_point("neuron_update_aeif"), sim.grid_for(sim.n_local), bt, args))
    if sim.n_rec:
        steps.append(("record_state", sim.grid_for(sim.n_rec), bt, (
            sim.state, p, sim.n_rec, sim.d_rec_local, sim.d_rec_code, sim.v, sim.i_ex, sim.i_in,
            sim.dj_ex, sim.d_vrec)))
    history = stdp.record(sim, p)
    if history is not None:   # STDP: the step's spikes join their neurons' histories, before delivery
        steps.append(history)
    if U:   # the first delivery launch ends the step
        lo, hi = sim.state[layout.ST_BEGIN + layout.ST_SLOT * p:], sim.state[layout.ST_END:]
        # the step's spikes' efficacies and STDP's presynaptic states, before they are delivered
        steps.extend(x for x in (efficacies(sim, lo, lo, hi, sim.spk_gid, sim.spk_step),
                                 stdp.pre_states(sim, lo, lo, hi, sim.spk_gid, sim.spk_step)) if x is not None)
        for kernel, args in deliveries(sim, sl, lo, hi, p, sim.spk_gid, sim.spk_step, sim.spk_pop):
            steps.append((kernel, sim.deliver_grid, bt, args))
    else:
        steps.append(("advance_step", 1, 1, (sim.state, p)))
    return steps
