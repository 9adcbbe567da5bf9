"""The CPU kernels' software prefetch (backends.cpu.prefetch) and delivery's row buffers.

A prefetch is a hint: it must compile for the arrays delivery prefetches (the int32 and
int64 rings, the counts' uint32 words), change no value, and not fault at any index of the
array. Delivery keeps two rows of weights and delays per unit (one scattered while the next
is generated) and refuses buffers that hold only one.
"""
import platform
import re

import numpy as np
import pytest
from numba import njit

from distsnn.backends.cpu.delivery_kernels import deliver_procedural
from distsnn.backends.cpu.prefetch import prefetch_write


@njit
def hint_all(a, idx):
    for i in idx:
        prefetch_write(a, i)
    return a.sum()


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint32, np.float64])
def test_prefetch_changes_nothing(dtype):
    a = np.arange(1000, dtype=dtype)
    before = a.copy()
    idx = np.array([0, 999, 500, 3, 998], dtype=np.int64)
    assert hint_all(a, idx) == before.sum()
    assert np.array_equal(a, before)
    # an index of another integer type is converted
    assert hint_all(a, idx.astype(np.int32)) == before.sum()


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 instruction names")
def test_prefetch_is_an_instruction():
    """The hint reaches the machine code (prefetchw, or prefetcht0 where the core lacks it):
    an intrinsic that LLVM dropped would change no value either."""
    a = np.zeros(16, dtype=np.int32)
    hint_all(a, np.arange(4))
    asm = hint_all.inspect_asm(hint_all.signatures[0])
    assert re.search(r"\bprefetch(w|t0|t1|t2|nta)\b", asm)


def test_prefetch_refuses_what_is_not_a_1d_array():
    from numba.core.errors import TypingError

    @njit
    def on_scalar(x):
        prefetch_write(x, 0)

    @njit
    def on_2d(a):
        prefetch_write(a, 0)

    with pytest.raises(TypingError):
        on_scalar(1.0)
    with pytest.raises(TypingError):
        on_2d(np.zeros((2, 2)))


def test_delivery_refuses_single_row_buffers():
    units = np.zeros((1, 16), dtype=np.int64)
    one = np.zeros((1, 8), dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    with pytest.raises(ValueError, match="two row buffers"):
        deliver_procedural(empty, empty, np.zeros(2, dtype=np.int64), np.zeros(4, dtype=np.int32), units,
                           np.zeros((1, 32), dtype=np.int64), empty, np.zeros((1, 8)), np.zeros((1, 32), dtype=np.int64),
                           np.zeros(1, dtype=np.uint32), 4096, 1, 2, 0.1, one, one, one, np.zeros(1, dtype=np.int64),
                           empty, np.zeros((0, 0)))
