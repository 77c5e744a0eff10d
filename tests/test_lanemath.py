"""The engine's vectorisable elementary functions against long-double references."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from kursk_da.engine import _lanemath as lanemath
from kursk_da.engine._kernel import _FLAGS


@njit(fastmath=_FLAGS)
def _apply_exp(x, out):
    for i in range(x.size):
        out[i] = lanemath.exp(x[i])


@njit(fastmath=_FLAGS)
def _apply_log(x, out):
    for i in range(x.size):
        out[i] = lanemath.log(x[i])


@njit(fastmath=_FLAGS)
def _apply_misc(x, y, out):
    for i in range(x.size):
        out[0, i] = lanemath.sqrt(x[i])
        out[1, i] = lanemath.minimum(x[i], y[i])
        out[2, i] = lanemath.maximum(x[i], y[i])


def _ulps(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Error in units in the last place of the float64 result (exact in long double)."""
    spacing = np.spacing(np.abs(exact.astype(np.float64)))
    return np.abs(got.astype(np.longdouble) - exact) / spacing


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 60, reason="needs 80-bit long double")
@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (-40.0, 40.0), (-708.0, 709.78)])
def test_exp_within_one_ulp(lo, hi):
    x = np.random.default_rng(1).uniform(lo, hi, 50_000)
    out = np.empty_like(x)
    _apply_exp(x, out)
    assert _ulps(out, np.exp(x.astype(np.longdouble))).max() <= 1.0


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 60, reason="needs 80-bit long double")
@pytest.mark.parametrize("x", [
    np.exp(np.random.default_rng(2).uniform(-700.0, 700.0, 50_000)),
    np.exp(np.random.default_rng(3).uniform(-1.0, 1.0, 50_000)),
    1.0 + np.random.default_rng(4).uniform(-1e-6, 1e-6, 50_000),
])
def test_log_within_one_ulp(x):
    out = np.empty_like(x)
    _apply_log(x, out)
    assert _ulps(out, np.log(x.astype(np.longdouble))).max() <= 1.0


def test_special_values():
    x = np.array([0.0, 1.0, -1.0, 709.7, 709.78, -708.0, 710.0, 1e300])
    out = np.empty_like(x)
    _apply_exp(x, out)
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(out, np.exp(x), rtol=2.3e-16, atol=0.0)
    # results below 3.3e-308 are flushed to zero
    x = np.array([-708.01, -745.0, -746.0, -1e300])
    _apply_exp(x, out[:4])
    np.testing.assert_array_equal(out[:4], 0.0)
    x = np.array([1.0, 2.0, 0.5, np.sqrt(2.0), 1e-300, 1e300, 2.2250738585072014e-308])
    out = np.empty_like(x)
    _apply_log(x, out)
    np.testing.assert_allclose(out, np.log(x), rtol=2.3e-16, atol=0.0)


def test_sqrt_minimum_maximum():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 10, 1000), rng.uniform(0, 10, 1000)
    out = np.empty((3, 1000))
    _apply_misc(x, y, out)
    np.testing.assert_array_equal(out[0], np.sqrt(x))
    np.testing.assert_array_equal(out[1], np.minimum(x, y))
    np.testing.assert_array_equal(out[2], np.maximum(x, y))
