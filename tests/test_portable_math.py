"""Portable log / exp / sin / cos: accuracy bounds against NumPy, numba kernels bit-identical."""
import math

import numpy as np
from numba import njit

from distsnn.backends.cpu import rng_kernels as rk
from distsnn.build.fixed_point import Z_MAX
from distsnn.rng import box_muller, pexp, pexpm1, plog, plog1p, psincos_2pi
from distsnn.rng.portable_math import pexp_tree


def ulps(got, ref):
    return np.max(np.abs(got - ref) / np.spacing(np.abs(ref)))


def test_plog_within_2_ulp():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.random(200000), (np.arange(1, 2000) + 0.0) * 2.0 ** -32,
                        rng.uniform(1, 1e6, 10000), [1.0 - 2.0 ** -53, 2.0 ** -1074 * 1e10]])
    x = x[x != 1.0]
    assert ulps(plog(x), np.log(x)) <= 2.0
    assert plog(1.0) == 0.0


def test_pexp_pexpm1_plog1p_within_bounds():
    rng = np.random.default_rng(2)
    y = rng.uniform(-50, 50, 100000)
    assert ulps(pexp(y), np.exp(y)) <= 2.0
    assert ulps(pexp_tree(y), np.exp(y)) <= 2.0
    wide = rng.uniform(-700, 700, 100000)
    assert ulps(pexp_tree(wide), np.exp(wide)) <= 2.0
    assert ulps(pexpm1(y), np.expm1(y)) <= 2.0
    small = rng.uniform(-1e-4, 1e-4, 100000)
    assert ulps(pexpm1(small), np.expm1(small)) <= 2.0
    p = rng.uniform(-0.999, 10, 100000)
    assert ulps(plog1p(p), np.log1p(p)) <= 4.0


def test_sincos_2pi_accuracy():
    u = np.random.default_rng(3).random(200000)
    s, c = psincos_2pi(u)
    # reference in extended precision where the platform has it
    ang = 2 * np.pi * u.astype(np.longdouble)
    assert np.max(np.abs(s - np.sin(ang))) < 4e-16 + 1e-16
    assert np.max(np.abs(c - np.cos(ang))) < 4e-16 + 1e-16
    s, c = psincos_2pi(np.array([0.0, 0.25, 0.5, 0.75, 1.0]))
    assert np.allclose(s, [0, 1, 0, -1, 0], atol=1e-16) and np.allclose(c, [1, 0, -1, 0, 1], atol=1e-16)


def test_box_muller_bounded_and_normal():
    z0, z1 = box_muller(np.array([2.0 ** -32]), np.array([0.0]))
    assert abs(z0[0]) <= Z_MAX and abs(z0[0]) > 6.66  # the hard bound is attained, never exceeded
    w = np.random.default_rng(4).integers(0, 2 ** 32, size=(2, 200000)).astype(np.float64)
    a, b = box_muller((w[0] + 1) * 2.0 ** -32, (w[1] + 1) * 2.0 ** -32)
    for z in (a, b):
        assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
        assert np.max(np.abs(z)) <= Z_MAX
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01


@njit
def _numba_math(x, u):
    out = np.empty((x.size, 5))
    for i in range(x.size):
        out[i, 0] = rk.plog(x[i])
        out[i, 1], out[i, 2] = rk.psincos_2pi(u[i])
        out[i, 3], out[i, 4] = rk.box_muller(x[i], u[i])
    return out


def test_numba_math_bit_identical_to_spec():
    rng = np.random.default_rng(6)
    x = (rng.integers(0, 2 ** 32, 100000).astype(np.float64) + 1) * 2.0 ** -32
    u = rng.random(100000)
    got = _numba_math(x, u)
    s, c = psincos_2pi(u)
    z0, z1 = box_muller(x, u)
    for col, ref in enumerate((plog(x), s, c, z0, z1)):
        assert np.array_equal(got[:, col], ref), col


@njit
def _frexp_both(x):
    out = np.empty((x.size, 4))
    for i in range(x.size):
        m, e = rk.frexp_normal(x[i])
        m2, e2 = math.frexp(x[i])
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = m, e, m2, e2
    return out


def test_bitcast_frexp_equals_math_frexp():
    x = np.concatenate([np.random.default_rng(7).random(10000), [2.0 ** -1022, 2.0 ** -33, 1.0, 3.5, 1e300]])
    r = _frexp_both(x)
    assert np.array_equal(r[:, 0], r[:, 2]) and np.array_equal(r[:, 1], r[:, 3])


@njit
def _exp_kernels(x):
    """The kernels' pexp and pexp_tree of every x (columns 0 and 1)."""
    out = np.empty((x.size, 2))
    for i in range(x.size):
        out[i, 0] = rk.pexp(x[i])
        out[i, 1] = rk.pexp_tree(x[i])
    return out


def test_kernel_exp_bit_identical_to_spec():
    x = np.concatenate([np.random.default_rng(8).uniform(-60, 5, 100000), [-699.0, 0.0, 1e-300, 690.0]])
    assert np.array_equal(_exp_kernels(x)[:, 0], pexp(x))


def test_kernel_exp_tree_bit_identical_to_spec():
    x = np.concatenate([np.random.default_rng(9).uniform(-700, 60, 100000), [-699.0, 0.0, 1e-300, 690.0]])
    got = _exp_kernels(x)[:, 1]
    assert np.array_equal(got, pexp_tree(x))
    assert np.mean(got != pexp(x)) < 0.2     # another evaluation order: mostly, not always, pexp's bits
