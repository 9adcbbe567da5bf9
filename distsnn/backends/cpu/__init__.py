"""CPU backend (numba).

Numba's on-disk cache is invalidated per function by its own file only: a cached caller
keeps an inlined copy of a callee from another module even after that module changed.
So the cache lives in a directory named after a hash of every source the kernels depend on
(unless NUMBA_CACHE_DIR is set): a change anywhere gives a fresh cache.
"""
import hashlib
import os
import pathlib

import numba

_PKG = pathlib.Path(__file__).resolve().parents[2]
_KERNEL_SOURCES = ("backends/cpu/*.py", "build/*.py", "rng/*.py")


def _source_hash():
    h = hashlib.sha256(numba.__version__.encode())
    for pattern in _KERNEL_SOURCES:
        for path in sorted(_PKG.glob(pattern)):
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


if not os.environ.get("NUMBA_CACHE_DIR"):
    _root = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache"))
    numba.config.CACHE_DIR = str(_root / "distsnn" / f"numba-{_source_hash()}")
