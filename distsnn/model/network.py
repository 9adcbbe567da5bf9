"""The network description: populations, projections, inputs and recording requests.

Pure data with eager validation: every `add_*` / `connect` call checks its arguments and
raises a ValueError naming the field and the value, before anything is allocated.
"""
import math
from dataclasses import dataclass, field

import numpy as np

from ..numbers import is_integer, is_real, shown
from .connectors import RULE_CODES
from .distributions import Constant, Normal, Uniform, Values, as_distribution, given_values
from .inputs import DCInput, NoiseInput, PoissonInput, neuron_subset, step_schedule, whole_steps, window
from .neurons import SOURCE_MODELS, default_v_init, validate_params
from .per_neuron import split_params
from .projection_checks import check_rule_size, check_uniforms, receptor_and_weight, weight_and_delay
from .rate_sources import RateSources
from .long_term import checked_stdp, mean_of, signed_stdp
from .short_term import checked_stp
from .recording import checked_sampling, recordable, records_of
from ..rng.streams import ID_MASK, projection_id


@dataclass
class Population:
    name: str
    size: int
    model: str
    params: dict
    v_init: object           # Constant | Uniform | Normal | Values (mV); None: each neuron's own E_L
    spike_ids: np.ndarray = None     # spike_source: population-local ids ...
    spike_times: np.ndarray = None   # ... and their spike times (ms)
    rate_times: np.ndarray = None    # poisson_source: the times (ms) its rate changes at ...
    rate_values: np.ndarray = None   # ... and the rates (Hz) from then on (0 before the first)
    sinusoid: tuple = None           # sinusoidal poisson_source: (amplitude Hz, frequency Hz, phase degrees)
    p_copy: float = None             # MIP poisson_source: the probability of copying the parent's spikes
    packets: tuple = None            # pulse packets (spike_source): (pulse times ms, activity, sdev ms)
    v_th: object = None              # Normal | Uniform | Values (mV): a threshold per neuron; None: params["V_th"]
    per_neuron: dict = None          # {name: Normal | Uniform | Values}: izhikevich's a-d, row_params

    @property
    def is_source(self):
        return self.model in SOURCE_MODELS


@dataclass
class Projection:
    source: str
    target: str
    rule: object
    weight: object           # Constant | Normal | Uniform (pA); FromList: or Values, one per synapse
    delay: object            # Constant | Normal | Uniform (ms); FromList: or Values
    receptor: str
    label: str
    pid: int                 # stable 28-bit stream id
    stp: object = None       # TsodyksMarkram: short-term plasticity (model.short_term); None: static
    stdp: object = None      # STDP: spike-timing-dependent plasticity (model.long_term); None: static


RING_BITS = ("auto", 32, 64)


@dataclass
class Network(RateSources):
    """A network of point-neuron populations.

    dt: time step (ms). chunk_size: post-synaptic chunk length C of procedural connectivity
    (a model property, not a hardware one: it fixes the random streams). ring_bits: width of
    the fixed-point input buffers: 32 (half the memory; the build proves from every neuron's
    in-degree that one step's input cannot overflow, or refuses), 64 (bound from the rules
    alone), or 'auto' (32 where the proof gives a resolution finer than 1e-4 of the smallest
    mean weight, else 64). Like chunk_size it is part of the model: it sets the fixed-point
    scale, so the spikes depend on it (never on the backend or the partition).
    """
    dt: float = 0.1
    chunk_size: int = 1024
    ring_bits: object = "auto"
    name: str = "network"
    populations: dict = field(default_factory=dict)
    projections: list = field(default_factory=list)
    poisson_inputs: list = field(default_factory=list)
    dc_inputs: list = field(default_factory=list)
    noise_inputs: list = field(default_factory=list)
    spike_records: dict = field(default_factory=dict)     # pop -> None (all) or array of ids
    state_records: dict = field(default_factory=dict)     # pop -> (array of ids, tuple of variables)
    state_sampling: tuple = None                          # (interval, start, stop) ms; None: every step
    metadata: dict = field(default_factory=dict)

    def __repr__(self):   # every population and projection: 2.4 MB for the multi-area model
        n = sum(p.size for p in self.populations.values())
        inputs = len(self.poisson_inputs) + len(self.dc_inputs) + len(self.noise_inputs)
        return (f"Network({self.name!r}: {n} neurons in {len(self.populations)} populations, "
                f"{len(self.projections)} projections, {inputs} inputs, dt={self.dt} ms, "
                f"chunk_size={self.chunk_size}, ring_bits={self.ring_bits!r})")

    def __post_init__(self):
        if not is_real(self.dt) or self.dt <= 0:
            raise ValueError(f"network: dt must be a positive number of ms, got {shown(self.dt)}")
        self.dt = float(self.dt)
        if not is_integer(self.chunk_size) or self.chunk_size < 1:
            raise ValueError(f"network: chunk_size must be a positive integer, got {shown(self.chunk_size)}")
        self.chunk_size = int(self.chunk_size)
        self._check_ring_bits()

    def _check_ring_bits(self):
        if self.ring_bits not in RING_BITS or isinstance(self.ring_bits, bool):
            raise ValueError(f"network: ring_bits must be one of {RING_BITS}, got {self.ring_bits!r}")

    # -- populations -------------------------------------------------------------------
    def add_population(self, name, size, model="iaf_psc_exp", params=None, v_init=None):
        """Add `size` neurons of `model`. v_init: number, Uniform, Normal or one value per
        neuron (a list or array, mV); default E_L (izhikevich: -65 mV, NEST's initial V_m; its
        initial u is the parameter U_m). params: the model's parameters (neurons.py). Some may
        differ between neurons:
        - I_e a Normal or Uniform (pA), drawn once per neuron from the counter-based streams
          (heterogeneous bias currents), or one value per neuron, as a frozen noise current
          (NoiseInput with dt inf);
        - V_th (mV), izhikevich's a, b, c (mV), d (mV) and initial u, U_m (mV), and every
          parameter that enters the model's constants (C_m, tau_m, t_ref, E_L, V_reset,
          tau_syn_*, g_L, E_ex, E_in, the AdEx a, b, Delta_T, tau_w, V_peak, izhikevich's
          V_min; per_neuron.row_params: a row of constants per neuron, build.param_rows), each
          a Normal or Uniform drawn from the neuron's INIT stream, or one value per neuron (a
          list or array: Values), e.g. Izhikevich's (2003) c = -65 + 15 r**2. With E_L per
          neuron and no v_init, each neuron starts at its own E_L.
        Drawn values depend on the seed only. Every value must pass the model's checks, jointly
        per neuron (V_reset < V_th, ...): given ones and a Uniform's bounds here, every draw
        when the plan is made."""
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"population name must be a non-empty string without '/', got {name!r}")
        if name in self.populations:
            raise ValueError(f"population {name!r}: name already used")
        where = f"population {name!r}"
        if not is_integer(size) or size < 0:
            raise ValueError(f"{where}: size must be a non-negative integer, got {shown(size)}")
        params, i_e, v_th, per_neuron = split_params(where, model, int(size), params)
        full = validate_params(where, model, params)
        if v_init is None and "E_L" in (per_neuron or {}):
            v_init = None   # each neuron starts at its own E_L (build.neuron_values.initial_state)
        else:
            v_init = given_values(default_v_init(model, full) if v_init is None else v_init)
        if isinstance(v_init, Values):
            v_init = v_init.validated(f"{where}: v_init", int(size))
        if v_init is not None:
            v_init = as_distribution(v_init, f"{where}: v_init", (Constant, Uniform, Normal, Values))
        self.populations[name] = Population(name, int(size), model, full, v_init, v_th=v_th,
                                            per_neuron=per_neuron)
        if isinstance(i_e, Normal):
            self.noise_inputs.append(NoiseInput(name, i_e.mean, i_e.sd, math.inf, 0.0, math.inf, "normal"))
        elif isinstance(i_e, Uniform):
            self.noise_inputs.append(NoiseInput(name, i_e.low, i_e.high - i_e.low, math.inf, 0.0, math.inf,
                                                "uniform"))
        elif isinstance(i_e, Values):
            self.noise_inputs.append(NoiseInput(name, 0.0, 0.0, math.inf, 0.0, math.inf, "given", i_e.values))
        return self.populations[name]

    def add_spike_source(self, name, size, ids, times):
        """A population of `size` neurons that emit the given spikes: neuron ids[i] (local,
        0..size-1) spikes at times[i] (ms). Times are rounded to the step grid (a spike at
        time T is emitted in the step ending at round(T/dt)*dt, so T >= dt); each spike counts,
        several of a neuron in a step too (NEST's multiplicity). Sources receive no input."""
        where = f"spike source {name!r}"
        pop = self.add_population(name, size)
        ids = np.asarray(ids)
        times = np.asarray(times, dtype=np.float64)
        if ids.shape != times.shape or ids.ndim != 1:
            del self.populations[name]
            raise ValueError(f"{where}: ids and times must be 1-D arrays of the same length, "
                             f"got shapes {ids.shape} and {times.shape}")
        if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= size):
            del self.populations[name]
            raise ValueError(f"{where}: ids must be integers in [0, {size}), got {ids.min()}..{ids.max()}")
        if times.size and (not np.all(np.isfinite(times)) or times.min() < self.dt * 0.5):
            del self.populations[name]
            raise ValueError(f"{where}: spike times must be finite and >= dt/2 = {self.dt / 2} ms, "
                             f"got minimum {times.min()}")
        pop.model = "spike_source"
        pop.spike_ids = ids.astype(np.int64)
        pop.spike_times = times
        return pop

    def add_pulse_packet_source(self, name, size, pulse_times, activity, sdev):
        """`size` sources of Gaussian pulse packets, as many of NEST's pulsepacket_generators
        into parrot_neurons (Diesmann, Gewaltig & Aertsen 1999): around each pulse time t
        (ms), each source emits `activity` spikes at times t + sdev * z (sdev ms, z standard
        normal), each source its own. The times are drawn when the run starts, from the
        seed's counter-based streams (build.pulse_packets), and emitted as a spike source's
        spikes: rounded to the grid, several of a source in one step each counting (NEST's
        multiplicity), none before dt / 2. (NEST's generator, through parrots of delay d,
        emits a spike drawn at x at ceil(x / dt) dt + dt + d, measured in NEST 3.10; here x
        is rounded to the nearest step: pulse times t + dt + d give NEST's times where t is
        on the grid, exactly for sdev 0. A NEST generator sends one train to all its
        targets; each source here is one generator's.)"""
        where = f"pulse packet source {name!r}"
        try:
            times = np.asarray(pulse_times, dtype=np.float64).ravel() if np.size(pulse_times) else np.zeros(0)
        except (TypeError, ValueError):
            times = np.array([np.nan])   # not numbers: refused below with the others
        if not np.all(np.isfinite(times)) or np.any(times < 0):
            raise ValueError(f"{where}: pulse_times must be finite times >= 0 (ms), got {pulse_times!r}")
        if not is_integer(activity) or activity < 0:
            raise ValueError(f"{where}: activity (spikes per source and pulse) must be an integer >= 0, "
                             f"got {shown(activity)}")
        if not is_real(sdev) or sdev < 0:
            raise ValueError(f"{where}: sdev must be a finite number >= 0 (ms), got {shown(sdev)}")
        pop = self.add_spike_source(name, size, np.zeros(0, dtype=np.int64), np.zeros(0))
        pop.packets = (np.sort(times), int(activity), float(sdev))
        return pop

    def _pop(self, name, role):
        if name not in self.populations:
            raise ValueError(f"{role}: unknown population {name!r}; known: {list(self.populations)}")
        return self.populations[name]

    # -- projections -------------------------------------------------------------------
    def connect(self, source, target, rule, weight, delay, receptor=None, label="", stp=None, stdp=None):
        """Connect `source` to `target` with a connection rule.

        weight: number, Normal or Uniform in the target model's unit (pA for iaf_psc_exp and
        iaf_psc_alpha, nS for the conductance-based models, mV for iaf_psc_delta); a Normal's
        draws are clipped at 0 so they keep the sign of its mean, a Uniform must not span both
        signs; onto the conductance-based models a negative weight is an inhibitory
        conductance of its magnitude, as in NEST;
        delay: number, Normal (ms, mean >= dt; clipped below at dt or redrawn: Normal's
        `outside`, `low`) or Uniform (ms, low >= dt), in steps as NEST rounds them.
        With rule FromList, weight and delay may also be one value per synapse (a sequence;
        the weights of one sign, the delays >= dt).
        receptor: 'excitatory' or 'inhibitory'; default by the sign of the mean weight.
        stp: TsodyksMarkram(...) for short-term depression and facilitation (NEST's
        tsodyks2_synapse): each spike's weights scaled by its source neuron's efficacy x u.
        stdp: STDP(...) for spike-timing-dependent plasticity (NEST's stdp_synapse), or
        STDPPowerLaw(...) (NEST's stdp_pl_synapse_hom): each synapse's weight changes with its
        source's and target's spikes; a rule projection with STDP needs connectivity 'stored'
        (FromList is stored in either mode).
        """
        where = f"projection {source}->{target}" + (f" ({label})" if label else "")
        pre = self._pop(source, f"{where}: source")
        post = self._pop(target, f"{where}: target")
        if post.is_source:
            raise ValueError(f"{where}: target {target!r} is a spike source and cannot receive projections")
        if type(rule) not in RULE_CODES:
            raise ValueError(f"{where}: unknown connection rule {rule!r}")
        rule = rule.validated(where, pre.size, post.size)
        check_rule_size(where, rule, post, self.chunk_size)
        weight, delay = weight_and_delay(where, rule, weight, delay, self.dt)
        given = weight
        receptor, weight = receptor_and_weight(where, post, weight, receptor)
        stp = checked_stp(where, stp)
        stdp = signed_stdp(where, stdp, stp, given, weight)
        pid = projection_id(source, target, label)
        keys, pids = self._projection_index()
        if (source, target, label) in keys:
            raise ValueError(f"{where}: a projection with this source, target and label exists; give a distinct label")
        if pid in pids:
            other = pids[pid]
            raise ValueError(f"{where}: stream id collides with {other.source}->{other.target}; change the label")
        proj = Projection(source, target, rule, weight, delay, receptor, label, pid, stp, stdp)
        self.projections.append(proj)
        keys.add((source, target, label))
        pids[pid] = proj
        self.__dict__["_proj_index"] = (len(self.projections), proj, keys, pids)
        return proj

    def _projection_index(self):
        """The identities (source, target, label) and stream ids of the projections, kept
        beside the list so that connect() stays O(1) in models with thousands of
        projections; rebuilt when the list's length or last element is not what connect()
        left (clearing, appending, replacing the list). build() re-validates in any case."""
        cache = self.__dict__.get("_proj_index")
        if cache is not None and cache[0] == len(self.projections) and \
                (not self.projections or cache[1] is self.projections[-1]):
            return cache[2], cache[3]
        return ({(p.source, p.target, p.label) for p in self.projections},
                {p.pid: p for p in self.projections})

    # -- inputs ------------------------------------------------------------------------
    def add_poisson_input(self, target, indegree, rate, weight, delay, receptor=None, start=0.0, stop=math.inf):
        """Poisson background: `indegree` sources at `rate` Hz each, `weight` (unit as in
        connect: pA, nS or mV by the target's model), `delay` ms; the sources fire for
        start <= t < stop (ms, on the time grid like DC input), so a stimulus window is one
        more input on top of the background."""
        where = f"poisson input to {target!r}"
        post = self._input_target(where, target)
        values = {}
        for name, value in (("indegree", indegree), ("rate", rate), ("weight", weight), ("delay", delay)):
            if not is_real(value):
                raise ValueError(f"{where}: {name} must be a finite number, got {shown(value)}")
            values[name] = float(value)
        if values["indegree"] < 0 or values["rate"] < 0:
            raise ValueError(f"{where}: indegree and rate must be >= 0, got {indegree!r}, {rate!r}")
        if values["delay"] < self.dt:
            raise ValueError(f"{where}: delay {delay} ms is below dt = {self.dt} ms")
        receptor, values["weight"] = receptor_and_weight(where, post, values["weight"], receptor)
        start, stop = window(where, start, stop)
        self.poisson_inputs.append(PoissonInput(target, receptor=receptor, start=start, stop=stop, **values))

    def add_dc_input(self, target, amplitude, start=0.0, stop=math.inf, neurons=None):
        """Constant current `amplitude` (pA) for start <= t < stop (ms), into every neuron of
        `target` or the population-local ids `neurons` (a generator connected to some)."""
        where = f"dc input to {target!r}"
        size = self._input_target(where, target).size
        if not is_real(amplitude):
            raise ValueError(f"{where}: amplitude must be a finite number, got {shown(amplitude)}")
        self.dc_inputs.append(DCInput(target, float(amplitude), *window(where, start, stop),
                                      neurons=neuron_subset(where, neurons, size)))

    def add_ac_input(self, target, amplitude, frequency, phase=0.0, offset=0.0, start=0.0, stop=math.inf,
                     neurons=None):
        """Sinusoidal current into every neuron of `target` (or the population-local ids
        `neurons`), NEST's ac_generator: offset + amplitude * sin(2 pi frequency t + phase) pA
        (frequency in Hz, t in s, phase in degrees) for start <= t < stop (ms), t the start
        time of each step, as a DC input acts.
        (NEST delivers a generator's current of time t one connection delay d later: the same
        currents as phase - 360 * frequency * d / 1000 and the window moved by d here.) The
        phase advances in exact integer steps (build.phase_words): no drift, the same bits on
        every backend. The frequency is at most half a cycle per step."""
        where = f"ac input to {target!r}"
        size = self._input_target(where, target).size
        for what, value in (("amplitude", amplitude), ("frequency", frequency), ("phase", phase), ("offset", offset)):
            if not is_real(value):
                raise ValueError(f"{where}: {what} must be a finite number, got {shown(value)}")
        if not 0 <= frequency * self.dt * 1e-3 <= 0.5:
            raise ValueError(f"{where}: frequency must be in [0, {500.0 / self.dt:g}] Hz (at most half a cycle per "
                             f"step of dt = {self.dt:g} ms), got {frequency!r}")
        self.dc_inputs.append(DCInput(target, float(offset), *window(where, start, stop), ac_amplitude=float(amplitude),
                                      frequency=float(frequency), phase=float(phase),
                                      neurons=neuron_subset(where, neurons, size)))

    def add_step_current_input(self, target, amplitude_times, amplitude_values, start=0.0, stop=math.inf,
                               neurons=None):
        """Piecewise-constant current, NEST's step_current_generator, into every neuron of
        `target` or the population-local ids `neurons`: amplitude_values[i] pA in the steps
        from amplitude_times[i] to amplitude_times[i + 1] (ms, increasing, rounded to the grid
        and at least a step apart), the last value to the end, 0 before the first time; it
        flows for start <= t < stop (ms), t the start time of a step, as a DC input acts.
        (NEST delivers a generator's current one connection delay d later: amplitude_times
        moved by d here.) A step's amplitude is found by a binary search over the times, so
        a current sampled from a recording (thousands of values) costs no more per step than
        a few."""
        where = f"step current input to {target!r}"
        size = self._input_target(where, target).size
        times, values = step_schedule(where, amplitude_times, amplitude_values, self.dt)
        self.dc_inputs.append(DCInput(target, 0.0, *window(where, start, stop), step_times=times,
                                      step_amplitudes=values, neurons=neuron_subset(where, neurons, size)))

    def _input_target(self, where, target):
        """The population `target`, checked to take input (not a spike source)."""
        pop = self._pop(target, where)
        if pop.is_source:
            raise ValueError(f"{where}: {target!r} is a spike source and cannot receive input")
        return pop

    def add_noise_input(self, target, mean=0.0, std=0.0, dt=None, start=0.0, stop=math.inf, neurons=None):
        """Gaussian white-noise current (NEST's noise_generator) into every neuron of
        `target`, or the population-local ids `neurons` (a generator connected to some): each
        neuron draws its own current mean + std * z (pA; z standard normal, independent
        across neurons and intervals) for every interval of `dt` ms (default: the time step;
        a whole number of steps), counted from t = 0, and holds it during the interval; it
        flows for start <= t < stop (ms), added to I_e like a DC input.
        Independent of ranks, threads and devices, as every random number here."""
        where = f"noise input to {target!r}"
        size = self._input_target(where, target).size
        for name, value in (("mean", mean), ("std", std)):
            if not is_real(value):
                raise ValueError(f"{where}: {name} must be a finite number (pA), got {shown(value)}")
        if std < 0:
            raise ValueError(f"{where}: std must be >= 0 pA, got {std}")
        dt = self.dt if dt is None else dt
        whole_steps(f"{where}: interval dt", dt, self.dt)
        if len(self.noise_inputs) > ID_MASK:
            raise ValueError(f"{where}: more than {ID_MASK + 1} noise inputs")
        self.noise_inputs.append(NoiseInput(target, float(mean), float(std), float(dt), *window(where, start, stop),
                                            neurons=neuron_subset(where, neurons, size)))

    # -- recording ---------------------------------------------------------------------
    def _ids(self, where, pop, neurons):
        ids = np.asarray(neurons, dtype=np.int64).ravel()
        if ids.size and (ids.min() < 0 or ids.max() >= pop.size):
            raise ValueError(f"{where}: neuron ids must be in [0, {pop.size}), got {ids.min()}..{ids.max()}")
        return np.unique(ids)

    def record_spikes(self, population, neurons=None):
        """Record spikes of all neurons (None) or of the given population-local ids."""
        where = f"spike recording of {population!r}"
        pop = self._pop(population, where)
        self.spike_records[population] = None if neurons is None else self._ids(where, pop, neurons)

    def recorded_spike_counts(self):
        """{population: how many of its neurons have their spikes recorded} (0: none)."""
        return {name: 0 if name not in self.spike_records else
                pop.size if self.spike_records[name] is None else int(self.spike_records[name].size)
                for name, pop in self.populations.items()}

    def record_voltage(self, population, neurons):
        """Record the membrane potential V_m (mV) of the given population-local ids (every
        step, or as sample_state says)."""
        self.record_state(population, neurons, ("V_m",))

    def record_state(self, population, neurons, variables=("V_m",)):
        """Record state variables of the given population-local ids every step (or as
        sample_state says), as NEST's multimeter does (its names: V_m mV; I_syn_ex, I_syn_in
        pA or g_ex, g_in nS; w pA; neurons.RECORDABLES lists each model's). Replaces an earlier
        recording of the population."""
        where = f"state recording of {population!r}"
        pop = self._pop(population, where)
        if pop.is_source:
            raise ValueError(f"{where}: a spike source has no state to record")
        self.state_records[population] = (self._ids(where, pop, neurons), recordable(where, pop.model, variables))

    def sample_state(self, interval=None, start=0.0, stop=math.inf):
        """When the recorded state (record_state) is sampled: every `interval` ms (default
        dt: every step), at the times in (start, stop] ms that are multiples of the interval,
        as NEST's multimeter with these interval, start and stop (whose default interval is
        1 ms). One sampling for every recorded population; all three are whole numbers of
        time steps (stop may be inf). The samples keep their grid across checkpoints."""
        interval = self.dt if interval is None else interval
        self.state_sampling = checked_sampling("sample_state", (interval, start, stop), self.dt)

    def record_variables(self, variables):
        """Record `variables` (instead of those chosen before) of the neurons whose state is
        recorded, in each population whose model has them; a population whose model has none
        of them is no longer recorded. A ValueError names a variable that no recorded
        population's model has (the command line's --record-from)."""
        self.state_records = records_of(self.state_records, {n: p.model for n, p in self.populations.items()},
                                        variables)

    # -- whole-model checks ------------------------------------------------------------
    @property
    def n_neurons(self):
        return sum(p.size for p in self.populations.values())

    def validate(self):
        """Re-check cross-references (cheap); called by the build before allocating."""
        if not self.populations:
            raise ValueError("network: has no populations")
        self._check_ring_bits()
        if self.n_neurons >= 2 ** 32:
            raise ValueError(f"network: {self.n_neurons} neurons exceed the 2**32 neuron ids")
        for proj in self.projections:
            where = f"projection {proj.source}->{proj.target}"
            pre, post = self._pop(proj.source, where), self._pop(proj.target, where)
            proj.rule.validated(where, pre.size, post.size)
            check_rule_size(where, proj.rule, post, self.chunk_size)
            check_uniforms(where, proj.weight, proj.delay, self.dt)   # also a projection replaced after connect
            checked_stp(where, proj.stp)
            checked_stdp(where, proj.stdp, proj.stp, mean_of(proj.weight))
        if self.state_sampling is not None:
            checked_sampling("sample_state", self.state_sampling, self.dt)
        keys = {(p.source, p.target, p.label) for p in self.projections}
        pids = {p.pid for p in self.projections}
        if len(keys) != len(self.projections) or len(pids) != len(self.projections):
            raise ValueError("network: two projections share a source, target and label (or a stream id); "
                             "give them distinct labels")
        return self
