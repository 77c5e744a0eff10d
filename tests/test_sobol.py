"""Sobol' indices against functions with analytic indices, output layout and validation."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from kursk_da.dims import PARAMETER
from kursk_da.errors import VOIInputError
from kursk_da.stats import sobol

VARIABLES = ("S1", "ST", "S1_conf_low", "S1_conf_high", "ST_conf_low", "ST_conf_high")


def _ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def _ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic first-order and total indices of the Ishigami function, inputs U(-pi, pi)."""
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / var, np.array([v1 + v13, v2, v13]) / var


def _g_function(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.prod((np.abs(4 * x - 2) + a) / (1 + a), axis=1)


def _g_indices(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Analytic indices of the Sobol' G-function, inputs U(0, 1)."""
    vi = 1 / (3 * (1 + a) ** 2)
    var = np.prod(1 + vi) - 1
    total = np.array([vi[i] * np.prod(np.delete(1 + vi, i)) for i in range(a.size)]) / var
    return vi / var, total


def _check_against(ds: xr.Dataset, s1: np.ndarray, st: np.ndarray) -> None:
    """Truth inside the bootstrap interval widened by half its width (the estimator's
    error is of the order of the interval; the widening absorbs the fixed-seed draw)."""
    for key, truth in (("S1", s1), ("ST", st)):
        low, high = ds[f"{key}_conf_low"].values, ds[f"{key}_conf_high"].values
        half = (high - low) / 2
        assert np.all(low <= ds[key].values + 1e-12) and np.all(ds[key].values <= high + 1e-12)
        assert np.all(truth >= low - half) and np.all(truth <= high + half), (key, ds[key].values,
                                                                               truth)
        assert np.all(half < 0.05), (key, half)  # the bounds are informative


def test_sobol_ishigami() -> None:
    dists = {f"x{i}": stats.uniform(-np.pi, 2 * np.pi) for i in (1, 2, 3)}
    ds = sobol(_ishigami, dists, 4096, rng=20240806, n_bootstrap=500)
    s1, st = _ishigami_indices()
    _check_against(ds, s1, st)
    assert ds.attrs["n"] == 4096 and ds.attrs["n_evaluations"] == 4096 * 5
    assert ds.attrs["conf_level"] == 0.95
    assert "Saltelli" in ds.attrs["estimator"] and "Jansen" in ds.attrs["estimator"]


def test_sobol_g_function_with_plain_monte_carlo() -> None:
    a = np.array([0.0, 1.0, 4.5, 9.0, 99.0])
    dists = {f"g{i}": stats.uniform(0, 1) for i in range(a.size)}
    ds = sobol(lambda x: _g_function(x, a), dists, 8192, rng=3, sampler="random",
               n_bootstrap=300)
    s1, st = _g_indices(a)
    _check_against(ds, s1, st)
    assert ds.attrs["sampler"] == "Monte Carlo"


def test_sobol_dataset_layout_and_reproducibility() -> None:
    dists = {"b": stats.norm(0, 1), "a": stats.norm(0, 2)}

    def linear(x: np.ndarray) -> np.ndarray:
        return x[:, 0] + x[:, 1]

    ds = sobol(linear, dists, 1024, rng=1, n_bootstrap=200)
    assert set(ds.data_vars) == set(VARIABLES)
    assert all(ds[v].dims == (PARAMETER,) for v in VARIABLES)
    assert list(ds[PARAMETER].values) == ["b", "a"]  # dict order kept
    # additive model: S1 = ST = share of variance = 1/5, 4/5
    np.testing.assert_allclose(ds["ST"].values, [0.2, 0.8], atol=0.03)
    np.testing.assert_allclose(ds["S1"].values, [0.2, 0.8], atol=0.05)
    again = sobol(linear, dists, 1024, rng=np.random.default_rng(1), n_bootstrap=200)
    xr.testing.assert_identical(ds, again)
    column = sobol(lambda x: linear(x)[:, None], dists, 1024, rng=1, n_bootstrap=200)
    xr.testing.assert_identical(ds, column)


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 0}, "n: expected an integer >= 2"),
    ({"n": 10.5}, "n: expected an integer >= 2"),
    ({"n": True}, "n: expected an integer >= 2"),
    ({"distributions": {}}, "distributions: expected a non-empty mapping"),
    ({"distributions": [stats.norm()]}, "distributions: expected a non-empty mapping"),
    ({"distributions": {"x": 3.0}}, r"distributions\['x'\]: expected a frozen scipy.stats"),
    ({"distributions": {"x": stats.norm}}, r"distributions\['x'\]: expected a frozen"),
    ({"func": lambda x: x}, r"func: expected an output of shape \(64,\)"),
    ({"func": lambda x: x.sum(axis=1)[:10]}, r"func: expected an output of shape \(64,\)"),
    ({"func": lambda x: np.full(len(x), np.nan)}, "func: returned 64 NaN"),
    ({"func": 3}, "func: expected a callable"),
    ({"conf_level": 1.5}, r"conf_level: expected a probability in \(0, 1\)"),
    ({"n_bootstrap": -1}, "n_bootstrap: expected an integer >= 0"),
    ({"sampler": "latin"}, "sampler: expected one of"),
])
def test_sobol_validation(kwargs: dict, message: str) -> None:
    args = {"func": lambda x: x.sum(axis=1), "distributions": {"x": stats.norm(),
                                                               "y": stats.norm()},
            "n": 64, "rng": 0}
    args.update(kwargs)
    with pytest.raises(VOIInputError, match=message):
        sobol(**args)


def test_sobol_without_bootstrap_gives_nan_bounds() -> None:
    ds = sobol(lambda x: x[:, 0] + 0.5 * x[:, 1], {"x": stats.uniform(), "y": stats.uniform()},
               256, rng=5, n_bootstrap=0)
    assert np.all(np.isnan(ds["S1_conf_low"].values))
    assert np.all(np.isfinite(ds["S1"].values))
