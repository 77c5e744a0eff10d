"""The single-source equations evaluate identically with every ``ops`` back end."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from kursk_da.dynamics.equations import LEVER_NAMES, derived, initial_state, step
from kursk_da.engine import _lanemath as lanemath
from kursk_da.engine._kernel import _FLAGS
from kursk_da.spec._sampling import sample_inputs


def _levers(rng, n):
    lev = np.empty((len(LEVER_NAMES), n))
    lev[0] = rng.integers(0, 2, n)  # attack
    lev[1] = rng.uniform(0, 2, n)
    lev[2] = rng.uniform(0, 5000, n)
    lev[3] = rng.integers(0, 2, n)
    lev[4] = rng.uniform(5000, 15000, n)
    lev[5] = rng.uniform(0, 1, n)
    lev[6] = rng.uniform(0.5, 1.5, n)
    lev[7] = rng.integers(0, 2, n)
    return lev


def _numpy_days(theta, lev, eps, days):
    p = theta.T
    dv = derived(p, np)
    state = initial_state(p)
    for t in range(days):
        state = step(state, p, dv, lev, eps[t], float(t), np)
    return np.array(state)


@njit(fastmath=_FLAGS)
def _lanemath_days(theta, lev, eps, days):
    n = theta.shape[0]
    out = np.empty((8, n))
    for i in range(n):
        p = theta[i]
        lv = lev[:, i]
        dv = derived(p, lanemath)
        s = initial_state(p)
        for t in range(days):
            s = step(s, p, dv, lv, eps[t, i], float(t), lanemath)
        for k in range(8):
            out[k, i] = s[k]
    return out


@pytest.fixture(scope="module")
def case(spec_2025):
    rng = np.random.default_rng(21)
    n, days = 64, 60
    theta = sample_inputs(spec_2025, n, rng)
    return theta, _levers(rng, n), rng.standard_normal((days, n)) * 0.3, days


def test_lanemath_matches_numpy(case):
    theta, lev, eps, days = case
    np.testing.assert_allclose(_lanemath_days(theta, lev, eps, days),
                               _numpy_days(theta, lev, eps, days), rtol=1e-11, atol=1e-9)


def test_pytensor_matches_numpy(case):
    pt = pytest.importorskip("pytensor.tensor")
    import pytensor

    theta, lev, eps, _ = case
    days = 10  # a short graph: the symbolic loop is unrolled
    th = pt.dmatrix("theta")
    lv = pt.dmatrix("lev")
    ep = pt.dmatrix("eps")
    p = [th[:, k] for k in range(theta.shape[1])]
    dv = derived(p, pt)
    state = initial_state(p)
    for t in range(days):
        state = step(state, p, dv, [lv[j] for j in range(lev.shape[0])], ep[t], float(t), pt)
    # the Python linker: no C compilation (fast, and no compile-directory lock)
    mode = pytensor.compile.mode.Mode(linker="py", optimizer="fast_compile")
    f = pytensor.function([th, lv, ep], pt.stack(state), mode=mode)
    np.testing.assert_allclose(f(theta, lev, eps), _numpy_days(theta, lev, eps, days),
                               rtol=1e-11, atol=1e-9)
