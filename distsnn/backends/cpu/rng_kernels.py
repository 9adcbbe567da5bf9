"""Scalar Philox4x32-10 and portable math for numba kernels.

Same operations in the same order as `distsnn.rng` (the NumPy specification); the tests
check the two bit for bit.
"""
import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ...rng import permutation as perm
from ...rng import portable_math as pm
from ...rng import streams
from ...rng.synapse_variates import EXPONENTIAL_DELAY, EXPONENTIAL_WEIGHT, WORD_DELAY, WORD_WEIGHT
from .jit import kernel

M32 = np.uint64(0xFFFFFFFF)
PM0 = np.uint64(0xD2511F53)
PM1 = np.uint64(0xCD9E8D57)
PW0 = np.uint64(0x9E3779B9)
PW1 = np.uint64(0xBB67AE85)
S32 = np.uint64(32)
TWO_M32 = 2.0 ** -32

LOG_C = pm.LOG_COEFFS
SIN_C = pm.SIN_COEFFS
COS_C = pm.COS_COEFFS
EXPM1_C = pm.EXPM1_COEFFS
INV_LN2 = pm.INV_LN2
LN2_HI = pm.LN2_HI
LN2_LO = pm.LN2_LO
SQRT_HALF = pm.SQRT_HALF
HALF_PI = pm.HALF_PI


@intrinsic
def _f64_as_i64(typingctx, x):
    """Reinterpret the bits of a float64 as an int64 (no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _i64_as_f64(typingctx, x):
    """Reinterpret the bits of an int64 as a float64."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def sqrt_ieee(typingctx, x):
    """Correctly rounded square root as the llvm.sqrt intrinsic (one instruction). numba's
    math.sqrt / np.sqrt become a libm call, which keeps LLVM from vectorising a loop."""
    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.sqrt", [ir.DoubleType()])
        return builder.call(fn, args)
    return types.float64(types.float64), codegen


EXP_MASK = np.int64(0x7FF << 52)
HALF_EXP = np.int64(1022 << 52)


@kernel(inline="always")
def frexp_normal(x):
    """(m, e) with x = m * 2**e, m in [0.5, 1), for positive normal x: exactly math.frexp,
    by moving the exponent bits (a libm call costs more than the rest of plog)."""
    bits = _f64_as_i64(x)
    e = ((bits & EXP_MASK) >> 52) - 1022
    return _i64_as_f64((bits & ~EXP_MASK) | HALF_EXP), e


@kernel(inline="always")
def philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10; all arguments and results are uint64 holding 32-bit words."""
    c0 = np.uint64(c0) & M32
    c1 = np.uint64(c1) & M32
    c2 = np.uint64(c2) & M32
    c3 = np.uint64(c3) & M32
    k0 = np.uint64(k0) & M32
    k1 = np.uint64(k1) & M32
    for r in range(10):
        if r > 0:
            k0 = (k0 + PW0) & M32
            k1 = (k1 + PW1) & M32
        p0 = PM0 * c0
        p1 = PM1 * c2
        n0 = (p1 >> S32) ^ c1 ^ k0
        n2 = (p0 >> S32) ^ c3 ^ k1
        c1 = p1 & M32
        c3 = p0 & M32
        c0 = n0
        c2 = n2
    return c0, c1, c2, c3


@kernel(inline="always")
def u01(word):
    """(x + 1) * 2**-32, in (0, 1]."""
    return (float(word) + 1.0) * TWO_M32


@kernel(inline="always")
def below(word, n):
    """Integer in [0, n) from a 32-bit word: high 32 bits of x * n."""
    return np.int64((np.uint64(word) * np.uint64(n)) >> S32)


@kernel(inline="always")
def _horner(x, coeffs):
    n = len(coeffs)
    acc = coeffs[n - 1] + 0.0 * x
    for i in range(n - 2, -1, -1):
        acc = coeffs[i] + x * acc
    return acc


@kernel(inline="always")
def plog(x):
    """Natural log of a positive normal float64 (the kernels' arguments are >= 2**-33)."""
    m, e = frexp_normal(x)
    if m < SQRT_HALF:
        m = m * 2.0
        e = e - 1
    ef = float(e)
    f = m - 1.0
    s = f / (2.0 + f)
    s2 = s * s
    poly = s2 * _horner(s2, LOG_C)
    log_m = (2.0 * s) + (2.0 * s) * poly
    return ef * LN2_HI + (ef * LN2_LO + log_m)


@kernel(inline="always")
def pexp(x):
    """exp(x) for -700 < x < 700, as the spec: Cody-Waite reduction, Taylor polynomial, and
    the exact scaling by 2**k built from its exponent bits (equal to ldexp in that range)."""
    k = math.floor(x * INV_LN2 + 0.5)
    r = (x - k * LN2_HI) - k * LN2_LO
    em1 = r + (r * r) * _horner(r, EXPM1_C)
    return (1.0 + em1) * _i64_as_f64((np.int64(k) + 1023) << 52)


# pexp_tree's tree (portable_math._estrin) is written out for pexp's 13 coefficients
assert len(EXPM1_C) == 13
T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12 = EXPM1_C


@kernel(inline="always")
def pexp_tree(x):
    """exp(x) for -700 < x < 700, as the spec's pexp_tree: pexp with the polynomial as a tree."""
    k = math.floor(x * INV_LN2 + 0.5)
    r = (x - k * LN2_HI) - k * LN2_LO
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    q0 = (T0 + T1 * r) + (T2 + T3 * r) * r2
    q1 = (T4 + T5 * r) + (T6 + T7 * r) * r2
    q2 = (T8 + T9 * r) + (T10 + T11 * r) * r2
    poly = (q0 + q1 * r4) + (q2 + T12 * r4) * r8
    em1 = r + r2 * poly
    return (1.0 + em1) * _i64_as_f64((np.int64(k) + 1023) << 52)


@kernel(inline="always")
def psincos_2pi(u):
    v = 4.0 * u
    q = math.floor(v + 0.5)
    f = v - q
    x = f * HALF_PI
    x2 = x * x
    s = x + (x * x2) * _horner(x2, SIN_C)
    c = 1.0 + x2 * _horner(x2, COS_C)
    # quadrant without branches (random quadrants mispredict): multiplying by +-1 is exact,
    # so this equals the spec's select (sin, cos) = (s, c), (c, -s), (-s, -c), (-c, s)
    qi = np.int64(q) & 3
    swap = (qi & 1) == 1
    a = c if swap else s
    b = s if swap else c
    sign_s = 1.0 - 2.0 * float((qi >> 1) & 1)
    sign_c = 1.0 - 2.0 * float(((qi + 1) >> 1) & 1)
    return a * sign_s, b * sign_c


@kernel(inline="always")
def box_muller(u1, u2):
    r = sqrt_ieee(-2.0 * plog(u1))
    s, c = psincos_2pi(u2)
    return r * c, r * s


@kernel(inline="always")
def kind_flags(uni, wsd, dsd):
    """(weight of one word, delay of one word, a normal drawn, weight Exponential, delay
    Exponential) of a projection with kinds `uni` (JF_KINDS) and spreads wsd, dsd: a Uniform's
    or an Exponential's variate is of one word; a quantity draws a normal where it is neither
    and its spread is nonzero, a LogNormal weight included (rng.synapse_variates.kinds)."""
    bits = np.int64(uni)
    wu = (bits & WORD_WEIGHT) != 0
    du = (bits & WORD_DELAY) != 0
    return (wu, du, ((not wu) and wsd != 0.0) or ((not du) and dsd != 0.0),
            (bits & EXPONENTIAL_WEIGHT) != 0, (bits & EXPONENTIAL_DELAY) != 0)


@kernel(inline="always")
def word_variate(w, exponential):
    """The variate of one word: -log u (an Exponential's) or u - 1/2 (a Uniform's)."""
    u = u01(w)
    return -plog(u) if exponential else u - 0.5


@kernel(inline="always")
def kind_pair(w1, w2, w3, flags, logs):
    """(x_w, x_d) of one synapse of a projection with kinds of its own (a Uniform, an
    Exponential or a LogNormal), from its counter words 1 to 3 (rng.synapse_variates, the
    specification): where a normal is drawn (a Normal's or a LogNormal's), the Box-Muller
    pair of words 1 and 2, and a one-word variate (word_variate) from word 3; where none is,
    the one-word variates of words 1 and 2 (a constant's variate is then its own word's,
    which its spread 0 cancels). flags (kind_flags) are the projection's, the same for a
    whole row, and nothing here branches on the words, so that the row loops vectorise.
    logs: whether the row has an Exponential (flags' last two), given as a constant by the
    row loops (True or False), so that the Uniform's loop holds no logarithm (it cost the
    Uniform rows a third more time when the loop carried it)."""
    wu, du, normal, we, de = flags
    we = we and logs
    de = de and logs
    if normal:
        z0, z1 = box_muller(u01(w1), u01(w2))
        u3 = u01(w3)
        x3 = -plog(u3) if (we or de) else u3 - 0.5
        return (x3 if wu else z0), (x3 if du else z1)
    return word_variate(w1, we), word_variate(w2, de)


@kernel(inline="always")
def variates(w1, w2, w3, uni, wsd, dsd):
    """(x_w, x_d): the weight's and the delay's variates of one synapse from its counter words
    1 to 3, for a projection with kinds `uni` (JF_KINDS) and spreads wsd, dsd (where uni is
    0, Box-Muller of words 1 and 2 where a spread is nonzero; else kind_pair)."""
    if uni != 0.0:
        flags = kind_flags(uni, wsd, dsd)
        return kind_pair(w1, w2, w3, flags, flags[3] or flags[4])
    if wsd != 0.0 or dsd != 0.0:
        return box_muller(u01(w1), u01(w2))
    return 0.0, 0.0


REDRAW_DOMAIN = np.uint64(streams.DOM_REDRAW << streams.DOMAIN_SHIFT)
ID_MASK = np.uint64(streams.ID_MASK)


@kernel
def redraw_normal(c0, c1, c2, tag, key0, key1, mean, sd, low):
    """The first mean + sd z >= low of the redraw chain of the synapse with SYN counter words
    (c0, c1, c2) of the projection with SYN word `tag` (rng.redraw, the NumPy specification):
    four candidates a block, block b + 1 from words 0..2 of block b. Not inlined: a rare path
    (3 to 4 % of the models' delays), kept out of the vectorised row loops."""
    rtag = (np.uint64(tag) & ID_MASK) | REDRAW_DOMAIN
    while True:
        w0, w1, w2, w3 = philox(c0, c1, c2, rtag, key0, key1)
        for u1, u2 in ((w0, w1), (w2, w3)):   # z_cos, z_sin of each pair, in this order
            za, zb = box_muller(u01(u1), u01(u2))
            if mean + sd * za >= low:
                return mean + sd * za
            if mean + sd * zb >= low:
                return mean + sd * zb
        c0, c1, c2 = w0, w1, w2


# -- keyed permutation of a chunk's input slots (fixed_indegree; rng.permutation) -------------
MIX_A = np.uint64(perm.MIX_A)
MIX_B = np.uint64(perm.MIX_B)
RX = tuple(np.uint64(x) for x in perm.ROUND_XOR)
assert perm.ROUNDS == 6, "perm_keys spells out six round keys"


@kernel(inline="always")
def perm_keys(chunk, ptag, k0, k1):
    """The round keys of one chunk's permutation (ptag: the projection's PERM-domain word):
    Philox word i % 4 XOR ROUND_XOR[i] (permutation.round_keys)."""
    w0, w1, w2, w3 = philox(chunk, 0, 0, ptag, k0, k1)
    return w0 ^ RX[0], w1 ^ RX[1], w2 ^ RX[2], w3 ^ RX[3], w0 ^ RX[4], w1 ^ RX[5]


@kernel(inline="always")
def mix32(x):
    x = x ^ (x >> np.uint64(16))
    x = (x * MIX_A) & M32
    x = x ^ (x >> np.uint64(15))
    x = (x * MIX_B) & M32
    return x ^ (x >> np.uint64(16))


@kernel(inline="always")
def half_bits(domain):
    """(left, right) Feistel half widths for `domain` values (permutation.half_bits)."""
    b = np.int64(perm.MIN_BITS)
    while (np.int64(1) << b) < domain:
        b += 1
    return b // 2, b - b // 2


@kernel(inline="always")
def feistel(x, keys, lbits, rbits):
    """One pass of the network (permutation.feistel)."""
    wl, wr = lbits, rbits
    left = x >> np.uint64(wr)
    right = x & np.uint64((np.int64(1) << wr) - 1)
    for i in range(perm.ROUNDS):
        left = left ^ (mix32(right ^ np.uint64(keys[i])) & np.uint64((np.int64(1) << wl) - 1))
        left, right = right, left
        wl, wr = wr, wl
    return (left << np.uint64(wr)) | right


@kernel(inline="always")
def permute(x, domain, keys, lbits, rbits):
    """pi(x) for 0 <= x < domain: the network, then cycle walking (permutation.permute)."""
    y = feistel(np.uint64(x), keys, lbits, rbits)
    while y >= np.uint64(domain):
        y = feistel(y, keys, lbits, rbits)
    return y


@kernel(inline="always")
def permute_range(start, n, domain, keys, lbits, rbits, out, vals, idx):
    """out[k] = pi(start + k) for k < n, the same values as `permute`, in passes that LLVM
    vectorises (vals, idx: scratch of n int64 each, distinct from out).

    Cycle walking is a while loop per value, which kept the one-value-at-a-time loop scalar
    (16 to 46 ns per value, by the fraction of [0, 2**b) outside the domain). Here every value
    goes through the network once in a branch-free pass; the few that left the domain (under
    1/8 of the row) are walked one by one; otherwise they are gathered into vals (their
    positions in idx) and walked together, one branch-free pass per step of the walk, until
    none is left (3.4 to 5.8 ns per value on rows of 1000, for any such fraction)."""
    dom = np.int64(domain)
    for k in range(n):
        out[k] = np.int64(feistel(np.uint64(start + k), keys, lbits, rbits))
    m = 0
    for k in range(n):
        m += out[k] >= dom
    if m == 0:
        return
    if 8 * m <= n:
        for k in range(n):
            if out[k] >= dom:
                y = np.uint64(out[k])
                while y >= np.uint64(domain):
                    y = feistel(y, keys, lbits, rbits)
                out[k] = np.int64(y)
        return
    m = 0
    for k in range(n):   # branch-free compaction: every position is written, only the outside kept
        idx[m] = k
        vals[m] = out[k]
        m += out[k] >= dom
    while m > 0:
        for i in range(m):
            vals[i] = np.int64(feistel(np.uint64(vals[i]), keys, lbits, rbits))
        kept = 0
        for i in range(m):
            y = vals[i]
            out[idx[i]] = y
            idx[kept] = idx[i]
            vals[kept] = y
            kept += y >= dom
        m = kept
