"""A keyed pseudo-random permutation of [0, D), evaluated one element at a time (NumPy
specification; the numba and CUDA kernels repeat it operation for operation).

Why: a fixed_indegree projection gives every post neuron of a chunk exactly K inputs, so the
chunk owns D = (chunk length) x K input slots, slot s belonging to post s // K. The rows
(pre, chunk) split the slots: pre gets n_pre of them, at positions [S_pre, S_pre + n_pre) of a
random arrangement pi, where n_pre is drawn by histogramming D uniform pre draws (so the
counts are exactly multinomial) and S_pre is their running sum. Synapse k of the row is slot
pi(S_pre + k), which needs pi at one point only: a spike regenerates its row in O(row length),
with nothing stored but the running sums, as for the other counted rules.

The permutation is a 6-round Feistel network on b-bit integers, b = max(8, bit length of D - 1)
(halves of floor(b/2) and ceil(b/2) bits, alternating), with cycle walking: a value >= D is
permuted again until it falls below D (fewer than 2 passes on average once D > 128; the floor
of 8 bits keeps tiny domains from 1- and 2-bit halves, whose round functions are too few to mix).
Round i XORs mix32(R ^ key_i), cut to the other half's width, into that half; key_i is word
i % 4 of one Philox call (PERM domain, counter (chunk, 0, 0, projection id)) XOR i * 0x9E3779B9.
mix32 is Chris Wellons' `lowbias32` integer hash. It is a pseudo-random arrangement, as every draw here
is pseudo-random; tests check in-degrees (exact), the multinomial counts and the targets'
statistics against the law of independent uniform draws.
"""
import numpy as np

from . import streams
from .philox import philox4x32

ROUNDS = 6
MIN_BITS = 8
GOLDEN = 0x9E3779B9
M32 = np.uint64(0xFFFFFFFF)
MIX_A = np.uint64(0x7FEB352D)
MIX_B = np.uint64(0x846CA68B)
# key_i = Philox word i % 4 XOR ROUND_XOR[i] (i * golden ratio, modulo 2**32)
ROUND_XOR = tuple((i * GOLDEN) & 0xFFFFFFFF for i in range(ROUNDS))


def perm_tag(syn_tag):
    """The PERM-domain counter word 3 of a projection, from its SYN-domain word."""
    return streams.retag(syn_tag, streams.DOM_PERM)


def round_keys(chunk, syn_tag, key0, key1):
    """The ROUNDS 32-bit round keys of the permutation of one post chunk of a projection."""
    w = [int(x) for x in philox4x32(chunk, 0, 0, perm_tag(syn_tag), key0, key1)]
    return tuple(w[i % 4] ^ ROUND_XOR[i] for i in range(ROUNDS))


def half_bits(domain):
    """(left, right) widths in bits of the Feistel halves for a domain of `domain` values:
    b = max(MIN_BITS, bit length of domain - 1), left floor(b/2), right ceil(b/2)."""
    b = max(MIN_BITS, int(domain - 1).bit_length())
    return b // 2, b - b // 2


def mix32(x):
    """lowbias32: x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16
    (all modulo 2**32), on uint64 arrays holding 32-bit words."""
    x = x ^ (x >> np.uint64(16))
    x = (x * MIX_A) & M32
    x = x ^ (x >> np.uint64(15))
    x = (x * MIX_B) & M32
    return x ^ (x >> np.uint64(16))


def feistel(x, keys, lbits, rbits):
    """One pass of the network over uint64 values < 2**(lbits + rbits)."""
    wl, wr = lbits, rbits
    left = x >> np.uint64(wr)
    right = x & np.uint64((1 << wr) - 1)
    for i in range(ROUNDS):
        left = left ^ (mix32(right ^ np.uint64(keys[i])) & np.uint64((1 << wl) - 1))
        left, right = right, left
        wl, wr = wr, wl
    return (left << np.uint64(wr)) | right


def permute(x, domain, keys):
    """pi(x) for values x in [0, domain): the network, then cycle walking into [0, domain)."""
    lbits, rbits = half_bits(domain)
    y = feistel(np.asarray(x, dtype=np.uint64), keys, lbits, rbits)
    out = y >= np.uint64(domain)
    while out.any():
        y[out] = feistel(y[out], keys, lbits, rbits)
        out = y >= np.uint64(domain)
    return y
