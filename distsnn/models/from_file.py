"""A model of one's own on the command line: `distsnn run my_model.py ...` runs the Network
that the file's build() returns, with everything the library's models get (backends, ranks,
checkpoints and segments, recording, the summary, the batch scripts).

The file defines build(**options) -> Network. The command line passes the options build
declares: scale (--scale), record_voltage (--record), and the model options (--g, --eta,
...), each only where it was given or build takes it; --record on a build without
record_voltage records the first K neurons of every population that has a state, and a
network that records no spikes gets all its spikes recorded (a run's output is its spike
file)."""
import hashlib
import importlib.util
import inspect
import os

from ..model import Network

SUFFIX = ".py"


def is_model_file(name):
    """Whether the model named on the command line is a file of one's own (ends in .py)."""
    return str(name).endswith(SUFFIX)


def load_build(path):
    """The build function of the model file `path` (imported under a name of its own, so that
    two files may both be called model.py)."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"model file {path!r} does not exist")
    name = "distsnn_model_" + hashlib.sha1(path.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:   # a user's file: say which file, keep the cause chained
        raise ValueError(f"model file {path!r} failed to load: {type(err).__name__}: {err}") from err
    build = getattr(module, "build", None)
    if not callable(build):
        raise ValueError(f"model file {path!r} defines no build() function (build(**options) -> Network)")
    return build


def build_from_file(path, scale=1.0, record_voltage=0, **options):
    """The Network of the model file `path`, built with the options its build() declares."""
    build = load_build(path)
    accepted = inspect.signature(build).parameters
    takes_all = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
    extra = [k for k in options if k not in accepted and not takes_all]
    if extra:
        own = ", ".join(k for k in accepted if k not in ("scale", "record_voltage"))
        raise ValueError(f"model file {path!r}: build() does not take "
                         f"{', '.join('--' + k.replace('_', '-') for k in extra)} (its options: {own or 'none'})")
    kwargs = dict(options)
    if "scale" in accepted or takes_all:
        kwargs["scale"] = scale
    elif scale != 1.0:
        raise ValueError(f"model file {path!r}: build() takes no scale, so --scale {scale:g} cannot apply")
    own_recording = "record_voltage" in accepted or takes_all
    if own_recording:
        kwargs["record_voltage"] = record_voltage
    net = build(**kwargs)
    if not isinstance(net, Network):
        raise ValueError(f"model file {path!r}: build() returned {type(net).__name__}, not a distsnn Network")
    if record_voltage and not own_recording:
        for name, pop in net.populations.items():
            if not pop.is_source:
                net.record_voltage(name, range(min(record_voltage, pop.size)))
    if not net.spike_records:
        for name in net.populations:
            net.record_spikes(name)
    net.metadata.setdefault("model_file", path)
    return net
