"""SONATA type tables and component files: the node types and edge types CSV files (what
the members of one type share: model_type, model_template, dynamics_params, syn_weight,
delay, ...), and the JSON parameter files their dynamics_params name."""
import json
import math
import os
import shlex

from .sonata_config import read_json

MISSING = ("", "NULL", "NONE", "None", "null", "NaN", "nan")


def _value(text):
    if text in MISSING:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_types(path, key):
    """The rows of a SONATA types table (space-separated, a header line, values quoted where
    they hold spaces) as {type id: {column: value}}; numbers are int or float, missing
    values (NULL, NONE, empty) None. `key` names the id column (node_type_id, edge_type_id)."""
    try:
        with open(path) as fp:
            lines = [ln for ln in fp.read().splitlines() if ln.strip()]
    except OSError as err:
        raise ValueError(f"types table {path!r} cannot be read: {err.strerror or err}") from None
    if not lines:
        raise ValueError(f"{path}: empty types table")
    try:
        rows = [shlex.split(ln, posix=True) for ln in lines]
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    header = rows[0]
    if key not in header:
        raise ValueError(f"{path}: no {key} column (columns: {', '.join(header)})")
    out = {}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}, line {number}: {len(row)} values for {len(header)} columns")
        entry = {h: _value(v) for h, v in zip(header, row)}
        type_id = entry[key]
        if not isinstance(type_id, int):
            raise ValueError(f"{path}, line {number}: {key} {row[header.index(key)]!r} is not an integer")
        if type_id in out:
            raise ValueError(f"{path}, line {number}: {key} {type_id} appears twice")
        out[type_id] = entry
    return out


def component_params(directory, name, where):
    """The parameters in the JSON file `name` of the components directory: {name: number or
    bool}. Anything else in it (a list, a nested object) is a ValueError naming the file."""
    if directory is None:
        raise ValueError(f"{where}: dynamics_params {name!r} but the config gives no components directory for it")
    path = os.path.join(directory, name)
    params = read_json(path, f"{where}: dynamics_params file")
    if not isinstance(params, dict):
        raise ValueError(f"{path}: parameters must be a JSON object")
    for k, v in params.items():
        if isinstance(v, bool):
            continue
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"{path}: parameter {k!r} must be a finite number, got {json.dumps(v)}")
    return params
