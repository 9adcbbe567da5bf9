"""Philox4x32-10 (Salmon et al. 2011, Random123) in NumPy.

This is the reference implementation. It is vectorised over counters; the key is shared.
All arithmetic is done in uint64 so that the 32x32->64 bit products are exact.
Note: ``numpy.random.Philox`` is the 4x64 variant and cannot be used here.
"""
import numpy as np

PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85
MASK32 = 0xFFFFFFFF
TWO_M32 = 2.0 ** -32


def philox4x32(c0, c1, c2, c3, k0, k1, rounds=10):
    """Return the four 32-bit output words (uint64 arrays, each < 2**32).

    c0..c3: counter words (scalars or arrays, broadcast together); k0, k1: key words.
    """
    m = np.uint64(MASK32)
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) & m for c in np.broadcast_arrays(c0, c1, c2, c3))
    k0 = np.uint64(int(k0) & MASK32)
    k1 = np.uint64(int(k1) & MASK32)
    m0 = np.uint64(PHILOX_M0)
    m1 = np.uint64(PHILOX_M1)
    s32 = np.uint64(32)
    for r in range(rounds):
        if r > 0:
            k0 = np.uint64((int(k0) + PHILOX_W0) & MASK32)
            k1 = np.uint64((int(k1) + PHILOX_W1) & MASK32)
        p0 = m0 * c0
        p1 = m1 * c2
        hi0, lo0 = p0 >> s32, p0 & m
        hi1, lo1 = p1 >> s32, p1 & m
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


def uniform_open0_closed1(word):
    """Map a 32-bit word to a double in (0, 1]: (x + 1) * 2**-32, exact."""
    return (np.asarray(word, dtype=np.uint64).astype(np.float64) + 1.0) * TWO_M32


def uint_below(word, n):
    """Map a 32-bit word to an integer in [0, n), n < 2**32: the high 32 bits of x * n."""
    return (np.asarray(word, dtype=np.uint64) * np.uint64(n)) >> np.uint64(32)
