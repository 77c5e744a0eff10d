"""Front shocks: Box-Muller standard normals from a NumPy generator."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from scipy import stats

from kursk_da.engine._noise import _cos_sin_turn, standard_normals


@njit
def _turns(u, c, s):
    for i in range(u.size):
        c[i], s[i] = _cos_sin_turn(u[i])


def test_cos_sin_of_turns():
    u = np.concatenate([np.random.default_rng(0).random(100_000),
                        np.arange(8) / 8.0, [1.0 - 2.0**-53, 0.125 - 2.0**-55]])
    c, s = np.empty_like(u), np.empty_like(u)
    _turns(u, c, s)
    angle = 2.0 * np.pi * u.astype(np.longdouble)
    np.testing.assert_allclose(c, np.cos(angle), rtol=0, atol=5e-16)
    np.testing.assert_allclose(s, np.sin(angle), rtol=0, atol=5e-16)


def test_standard_normals_distribution_and_determinism():
    z = standard_normals(np.random.default_rng(1), (51, 2001))  # odd size: one spare uniform
    assert z.shape == (51, 2001) and z.flags.c_contiguous
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-3
    np.testing.assert_array_equal(z, standard_normals(np.random.default_rng(1), (51, 2001)))
    assert np.isfinite(z).all() and np.abs(z).max() < 8.6


def test_standard_normals_into_buffer():
    buf = np.empty(1001)
    z = standard_normals(np.random.default_rng(4), (10, 100), buf)
    assert np.shares_memory(z, buf)
    np.testing.assert_array_equal(z, standard_normals(np.random.default_rng(4), (10, 100)))
    with pytest.raises(ValueError, match="at least 1000"):
        standard_normals(np.random.default_rng(4), (10, 100), np.empty(999))
