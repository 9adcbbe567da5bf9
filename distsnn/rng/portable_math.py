"""Portable transcendental functions (NumPy reference, float64).

Every function here uses only IEEE-exact basic operations (+ - * /, sqrt, floor) and exact
exponent manipulation (frexp / ldexp), evaluated in a fixed order. A CPU kernel (numba) or a
CUDA kernel compiled with --fmad=false that performs the same operations in the same order
returns the same bits; the library `log`, `sin`, `exp` of different platforms do not
guarantee that. The polynomial coefficients are module constants so that other backends can
be generated from, and tested against, exactly these numbers.

Accuracy (tested against NumPy's libm): plog, pexp, pexp_tree, pexpm1 within 2 ulp; psincos_2pi within
2 ulp of sin/cos(2*pi*u) evaluated in extended precision, for the ranges stated.
"""
import numpy as np

LN2_HI = 6.93147180369123816490e-01   # high bits of ln 2 (fdlibm split: e*LN2_HI is exact)
LN2_LO = 1.90821492927058770002e-10   # ln 2 - LN2_HI
INV_LN2 = 1.44269504088896338700e+00
SQRT_HALF = 0.70710678118654752440
HALF_PI = 1.57079632679489661923
# the lowest argument the exponentials take (their domain is |x| < 700): callers bound or
# floor theirs here, where exp(x) ~ 1e-304 is below anything a sum with 1 can see
EXP_ARG_MIN = -700.0

# log(m) = 2*atanh(s), s = (m-1)/(m+1), |s| <= 0.1716: 2s(1 + s^2/3 + s^4/5 + ...)
LOG_COEFFS = tuple(1.0 / (2 * k + 1) for k in range(1, 12))
# expm1(r) for |r| <= ln2/2: r + r^2/2! + ... + r^14/14!
EXPM1_COEFFS = tuple(1.0 / float(np.prod(np.arange(1, k + 1, dtype=np.float64))) for k in range(2, 15))
# sin(x) = x + x^3 * (S1 + x^2 * (S2 + ...)), cos(x) = 1 + x^2 * (C1 + ...), |x| <= pi/4
SIN_COEFFS = tuple((-1.0) ** k / float(np.prod(np.arange(1, 2 * k + 2, dtype=np.float64))) for k in range(1, 9))
COS_COEFFS = tuple((-1.0) ** k / float(np.prod(np.arange(1, 2 * k + 1, dtype=np.float64))) for k in range(1, 10))


def _horner(x, coeffs):
    """coeffs[0] + x*(coeffs[1] + x*(...)), innermost first, in a fixed order."""
    acc = np.float64(coeffs[-1]) + 0.0 * x
    for c in coeffs[-2::-1]:
        acc = c + x * acc
    return acc


def plog(x):
    """Natural logarithm of x > 0 (float64). Not defined for x <= 0, inf or nan."""
    x = np.asarray(x, dtype=np.float64)
    m, e = np.frexp(x)                      # x = m * 2**e, m in [0.5, 1)
    small = m < SQRT_HALF
    m = np.where(small, m * 2.0, m)         # exact
    e = np.where(small, e - 1, e).astype(np.float64)
    f = m - 1.0                             # exact (Sterbenz)
    s = f / (2.0 + f)
    s2 = s * s
    poly = s2 * _horner(s2, LOG_COEFFS)
    log_m = (2.0 * s) + (2.0 * s) * poly    # 2s(1 + poly); 2s is exact
    return e * LN2_HI + (e * LN2_LO + log_m)


def _exp_reduce(x):
    """x = k*ln2 + r with |r| <= ~ln2/2; returns (k, r) with k as float64 integer."""
    k = np.floor(x * INV_LN2 + 0.5)
    r = (x - k * LN2_HI) - k * LN2_LO
    return k, r


def pexpm1(x):
    """exp(x) - 1 for |x| < 700 (float64), accurate also for small |x|."""
    x = np.asarray(x, dtype=np.float64)
    k, r = _exp_reduce(x)
    em1_r = r + (r * r) * _horner(r, EXPM1_COEFFS)
    scale = np.ldexp(1.0, k.astype(np.int64))
    return scale * em1_r + (scale - 1.0)


def pexp(x):
    """exp(x) for |x| < 700 (float64)."""
    x = np.asarray(x, dtype=np.float64)
    k, r = _exp_reduce(x)
    em1_r = r + (r * r) * _horner(r, EXPM1_COEFFS)
    return np.ldexp(1.0 + em1_r, k.astype(np.int64))


def _estrin(x, coeffs):
    """coeffs[0] + coeffs[1] x + ... as a tree (Estrin's scheme): adjacent terms are paired
    with x, those pairs with x^2, then x^4 ..., an odd last term carried up; the same value
    to rounding as Horner's rule with a chain of dependent operations about half as long."""
    terms = [np.float64(c) for c in coeffs]
    p = x
    while len(terms) > 1:
        paired = [terms[i] + terms[i + 1] * p for i in range(0, len(terms) - 1, 2)]
        terms = paired + ([terms[-1]] if len(terms) % 2 else [])
        p = p * p
    return terms[0]


def pexp_tree(x):
    """exp(x) for |x| < 700 (float64): pexp's reduction and coefficients with the polynomial
    evaluated as a tree (_estrin). Within 2 ulp like pexp, but not always its bits; about a
    third faster in a latency-bound loop (aeif_cond_exp's solver uses it)."""
    x = np.asarray(x, dtype=np.float64)
    k, r = _exp_reduce(x)
    em1_r = r + (r * r) * _estrin(r, EXPM1_COEFFS)
    return np.ldexp(1.0 + em1_r, k.astype(np.int64))


def plog1p(x):
    """log(1 + x) for x > -1 (float64). Uses the classic correction for the rounding of 1+x."""
    x = np.asarray(x, dtype=np.float64)
    y = 1.0 + x
    z = y - 1.0
    # log1p(x) = log(y) * x / (y - 1) corrects the rounding of y (Goldberg); exact when y == 1
    safe_z = np.where(z == 0.0, 1.0, z)
    return np.where(z == 0.0, x, plog(y) * (x / safe_z))


def psincos_2pi(u):
    """(sin(2*pi*u), cos(2*pi*u)) for u in [0, 1] (float64).

    4u and its split into a quadrant q and a remainder f in [-1/2, 1/2] are exact; only
    x = f*pi/2 rounds once before the polynomials.
    """
    u = np.asarray(u, dtype=np.float64)
    v = 4.0 * u
    q = np.floor(v + 0.5)
    f = v - q
    x = f * HALF_PI
    x2 = x * x
    s = x + (x * x2) * _horner(x2, SIN_COEFFS)
    c = 1.0 + x2 * _horner(x2, COS_COEFFS)
    qi = q.astype(np.int64) & 3
    sin_v = np.select([qi == 0, qi == 1, qi == 2], [s, c, -s], -c)
    cos_v = np.select([qi == 0, qi == 1, qi == 2], [c, -s, -c], s)
    return sin_v, cos_v


def box_muller(u1, u2):
    """Two independent standard normals from uniforms u1 in (0, 1] and u2 in [0, 1].

    With u1 >= 2**-32 (32-bit uniforms) the radius is bounded: |z| <= sqrt(64 ln 2) < 6.67,
    which is what makes the fixed-point overflow bounds of the input buffers hard bounds.
    """
    r = np.sqrt(-2.0 * plog(u1))
    s, c = psincos_2pi(u2)
    return r * c, r * s
