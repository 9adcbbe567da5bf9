"""The command line's models: the options only some models take (--g, --eta, ...), the
keywords of a model's build() given as --param NAME=VALUE, and the model a command names
(the library's, a file of one's own, a SONATA config) built with them."""
import argparse
import inspect


# options only some models take: (flag, keyword, type, help)
MODEL_OPTIONS = (
    ("--data", "data", str, "directory of the model's structural data (multi_area; default $DISTSNN_DATA)"),
    ("--state", "state", str, "multi_area: 'ground' (chi = 1) or 'resting' (chi = 1.9)"),
    ("--areas", "areas", str, "multi_area: comma-separated areas to simulate (default all 32); input from the "
                              "others becomes Poisson input at their full-scale rates"),
    ("--k-scale", "k_scale", float, "multi_area: fraction of in-degrees (0, 1], weights x 1/sqrt, DC compensation"),
    ("--g", "g", float, "brunel: relative strength of inhibition (default 5)"),
    ("--eta", "eta", float, "brunel: external rate in units of the threshold rate (default 2)"),
    ("--delay-spread", "delay_spread", float, "brunel: width (ms) of the recurrent delays, uniform around 1.5 ms "
                                              "(default 0: all 1.5 ms)"),
    ("--weight-sigma", "weight_sigma", float, "brunel: recurrent weights LogNormal of means J and -g J, this the sd "
                                              "of their logarithm (default 0: all J and -g J)"),
    ("--delay-beta", "delay_beta", float, "brunel: recurrent delays 1.5 ms - beta + an exponential of mean beta (ms, "
                                          "up to 1.4; default 0: all 1.5 ms)"),
    ("--weight-exponential", "weight_exponential", bool, "brunel: recurrent weights Exponential of means J and -g J"),
    ("--b", "b", float, "adex: spike-triggered adaptation of the excitatory neurons, pA (default 60)"),
    ("--cells", "cells", str, "izhikevich: 'central' (one parameter set per class, the default) or 'published' "
                              "(each cell its own a, b, c, d as Izhikevich 2003 draws them)"),
    ("--delays", "delays", str, "microcircuit, multi_area: what a delay drawn below dt becomes, 'redraw' (the "
                                "models' rule, the default) or 'clip' (as distsnn did before 2026-11-23)"),
    ("--stimulus", "stimulus", str, "microcircuit: 'thalamus' (902 thalamic Poisson sources, 120 Hz, 700-710 ms, "
                                    "onto L4 and L6), 'dc' (0.3 pA per external input, 650-750 ms) or 'thalamus,dc'"),
)


def _model_options(parser):
    for flag, dest, typ, text in MODEL_OPTIONS:
        if typ is bool:   # a switch: given or not
            parser.add_argument(flag, dest=dest, action="store_const", const=True, default=None, help=text)
        else:
            parser.add_argument(flag, dest=dest, type=typ, default=None, help=text)


def _model_kwargs(args):
    """The model-specific options given on the command line (those left at None are not
    passed), with the --param NAME=VALUE ones; a name given twice is an error."""
    out = {dest: getattr(args, dest) for _, dest, _, _ in MODEL_OPTIONS if getattr(args, dest, None) is not None}
    for name, value in getattr(args, "params", None) or ():
        if name in out:
            raise ValueError(f"--param {name}: {name} is given twice (as --{name.replace('_', '-')} or another "
                             f"--param); give it once")
        out[name] = value
    return out


def param_value(text):
    """A --param or --vary value: an integer, else a float, else true/false, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _param(text):
    """argparse type of --param: NAME=VALUE, NAME a Python identifier (a keyword of build)."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier() or not value.strip():
        raise argparse.ArgumentTypeError(f"give NAME=VALUE, NAME a keyword of the model's build(), got {text!r}")
    return name, param_value(value.strip())


def _params_option(parser):
    parser.add_argument("--param", dest="params", action="append", type=_param, default=None, metavar="NAME=VALUE",
                        help="a keyword of the model's build() that has no option of its own (a model file's, say): "
                             "an integer, a number, true/false or text; repeat for several")


def _model(name, **kwargs):
    from .models import MODELS
    from .models.from_file import build_from_file, is_model_file
    from .io.sonata_circuit import build_circuit, is_config
    if is_model_file(name):
        return build_from_file(name, **kwargs)
    if is_config(name):
        return build_circuit(name, **kwargs)
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {sorted(MODELS)}, or a file of one's own "
                         f"(my_model.py, defining build(**options) -> Network)")
    accepted = inspect.signature(MODELS[name]).parameters
    extra = [k for k in kwargs if k not in accepted]
    if extra:
        flags = ", ".join("--" + k.replace("_", "-") for k in extra)
        own = ", ".join(k for k in accepted if k not in ("scale", "record_voltage"))
        raise ValueError(f"model {name!r} does not take {flags} (its options: {own or 'none'})")
    return MODELS[name](**kwargs)
