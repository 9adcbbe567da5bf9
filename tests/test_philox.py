"""Philox4x32 against the Random123 known-answer vectors; the numba kernel against the spec."""
import numpy as np
import pytest
from numba import njit

from distsnn.backends.cpu import rng_kernels as rk
from distsnn.rng import philox4x32, uint_below, uniform_open0_closed1

# Random123 tests/kat_vectors: counter[4] key[2] -> output[4]
KAT10 = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]
KAT7 = [
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x5207DDC2, 0x45165E59, 0x4D8EE751, 0x8C52F662)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0x4DFCCABA, 0x190A87F0, 0xC47362BA, 0xB6B5242A)),
]


@pytest.mark.parametrize("ctr,key,expected", KAT10)
def test_philox_10_rounds_known_answers(ctr, key, expected):
    assert tuple(int(w) for w in philox4x32(*ctr, *key)) == expected


@pytest.mark.parametrize("ctr,key,expected", KAT7)
def test_philox_7_rounds_known_answers(ctr, key, expected):
    assert tuple(int(w) for w in philox4x32(*ctr, *key, rounds=7)) == expected


@pytest.mark.parametrize("ctr,key,expected", KAT10)
def test_numba_philox_known_answers(ctr, key, expected):
    assert tuple(int(w) for w in rk.philox(*ctr, *key)) == expected


@njit
def _many(c0, c1, c2, c3, k0, k1):
    out = np.empty((c0.size, 4), dtype=np.uint64)
    for i in range(c0.size):
        a, b, c, d = rk.philox(c0[i], c1[i], c2[i], c3[i], k0, k1)
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = a, b, c, d
    return out


def test_numba_philox_matches_numpy_spec():
    rng = np.random.default_rng(5)
    c = rng.integers(0, 2 ** 32, size=(4, 50000), dtype=np.uint64)
    got = _many(c[0], c[1], c[2], c[3], 0x12345678, 0x9ABCDEF0)
    ref = np.stack(philox4x32(c[0], c[1], c[2], c[3], 0x12345678, 0x9ABCDEF0), axis=1)
    assert np.array_equal(got, ref)


def test_uniform_and_integer_maps():
    w = np.array([0, 1, 2 ** 31, 2 ** 32 - 1], dtype=np.uint64)
    u = uniform_open0_closed1(w)
    assert u[0] == 2.0 ** -32 and u[-1] == 1.0 and np.all((u > 0) & (u <= 1))
    assert list(uint_below(w, 10)) == [0, 0, 5, 9]
    # uniformity of the output words over many counters (chi-square on 16 bins)
    words = philox4x32(np.arange(160000), 0, 0, 0, 1, 2)[0]
    hist = np.bincount(uint_below(words, 16).astype(np.int64), minlength=16)
    chi2 = np.sum((hist - 10000.0) ** 2 / 10000.0)
    assert chi2 < 37.7  # 99.9 % quantile of chi-square with 15 dof
