"""SONATA configuration files: a circuit config (`networks`: node and edge files with their
type tables, `components`: the directories of the models' parameter files) and a simulation
config (`run`: dt and tstop in ms, `inputs`), alone or one naming the other (`network`).

Paths may use the manifest's variables ($BASE_DIR, $NETWORK_DIR, ... and ${configdir}, the
directory of the file they are written in); relative paths are relative to that directory.
"""
import json
import os
import re

_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def read_json(path, what):
    """The JSON file `path` (`what` names it in errors: unreadable, not JSON)."""
    try:
        with open(path) as fp:
            return json.load(fp)
    except OSError as err:
        raise ValueError(f"{what} {path!r} cannot be read: {err.strerror or err}") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{what} {path!r} is not valid JSON: {err}") from None


def _manifest(conf, path):
    """The manifest's variables with their values as absolute paths (each may use the others
    and ${configdir}, in any order)."""
    base = os.path.dirname(os.path.abspath(path))
    values = {"configdir": base}
    raw = conf.get("manifest", {})
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: manifest must be a JSON object")
    for _ in range(len(raw) + 1):   # variables may refer to ones defined after them
        changed = False
        for key, value in raw.items():
            name = key.lstrip("$").strip("{}")
            resolved = _substitute(str(value), values, path, strict=False)
            if "$" not in resolved:
                resolved = os.path.normpath(os.path.join(base, resolved))
                changed |= values.get(name) != resolved
                values[name] = resolved
        if not changed:
            break
    unresolved = [k for k in raw if k.lstrip("$").strip("{}") not in values]
    if unresolved:
        raise ValueError(f"{path}: manifest variable(s) {unresolved} refer to undefined variables")
    return values


def _substitute(text, values, path, strict=True):
    def one(m):
        if m.group(1) in values:
            return values[m.group(1)]
        if strict:
            raise ValueError(f"{path}: {text!r} uses ${m.group(1)}, which the manifest does not define")
        return m.group(0)
    return _VAR.sub(one, text)


def _resolve(obj, values, path, base):
    """Every string of obj with the manifest's variables replaced; a string that used one is
    an absolute path."""
    if isinstance(obj, dict):
        return {k: obj[k] if k == "manifest" else _resolve(v, values, path, base) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_resolve(v, values, path, base) for v in obj]
    if isinstance(obj, str) and "$" in obj:
        return os.path.normpath(os.path.join(base, _substitute(obj, values, path)))
    return obj


def _load_one(path):
    conf = read_json(path, "SONATA config")
    if not isinstance(conf, dict):
        raise ValueError(f"{path}: a SONATA config is a JSON object")
    base = os.path.dirname(os.path.abspath(path))
    conf = _resolve(conf, _manifest(conf, path), path, base)
    for key in ("node_sets_file", "network"):   # plain relative file names are relative to the config too
        if isinstance(conf.get(key), str):
            conf[key] = os.path.normpath(os.path.join(base, conf[key]))
    return conf


def load_config(path):
    """The configuration of a SONATA circuit and simulation as one dict with absolute paths:
    networks, components, run, inputs, node_sets_file, each present if given. `path` is a
    circuit config, a simulation config that names its circuit config in `network`, or one
    file with both."""
    conf = _load_one(path)
    if "networks" not in conf:
        circuit = conf.get("network")
        if not isinstance(circuit, str):
            raise ValueError(f"{path}: neither a circuit config (no 'networks') nor a simulation config that "
                             f"names one ('network': path of circuit_config.json)")
        merged = _load_one(circuit)
        if "networks" not in merged:
            raise ValueError(f"{circuit} (named by {path}): no 'networks' section")
        merged.update({k: v for k, v in conf.items() if k not in ("networks", "components", "manifest")})
        conf = merged
    conf["config_file"] = os.path.abspath(path)
    return conf
