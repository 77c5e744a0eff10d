"""EVPI: closed form, input types, result type and input validation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from kursk_da.dims import DRAW, OPTION
from kursk_da.errors import UnknownParameterError, VOIInputError
from kursk_da.stats import VOIResult, evpi


def _normal_evpi(mu: float, sigma: float) -> float:
    """E[max(0, X)] - max(0, mu) for X ~ N(mu, sigma^2) (normal partial expectation)."""
    z = mu / sigma
    return mu * stats.norm.cdf(z) + sigma * stats.norm.pdf(z) - max(0.0, mu)


@pytest.mark.parametrize("mu, sigma", [(-0.5, 1.0), (0.3, 1.0), (2.0, 3.0), (0.0, 0.5)])
def test_evpi_matches_closed_form_two_options(mu: float, sigma: float) -> None:
    rng = np.random.default_rng(20240806)
    n = 200_000
    values = np.column_stack([np.zeros(n), rng.normal(mu, sigma, n)])
    res = evpi(values)
    truth = _normal_evpi(mu, sigma)
    assert res.se > 0
    assert abs(res.value - truth) < 4 * res.se + 1e-12
    assert res.n_draws == n
    assert res.method == "monte-carlo"
    assert res.parameters == ()


def test_evpi_same_for_array_dataframe_and_dataarray() -> None:
    rng = np.random.default_rng(1)
    arr = rng.normal(size=(500, 3))
    df = pd.DataFrame(arr, columns=["hold", "withdraw", "reinforce"])
    da = xr.DataArray(arr.T, dims=(OPTION, DRAW),
                      coords={OPTION: ["hold", "withdraw", "reinforce"]})
    r_arr, r_df, r_da = evpi(arr), evpi(df), evpi(da)
    assert r_arr.value == pytest.approx(r_df.value, rel=1e-12)
    assert r_arr.value == pytest.approx(r_da.value, rel=1e-12)
    assert r_df.options == ("hold", "withdraw", "reinforce")
    assert r_da.options == ("hold", "withdraw", "reinforce")
    assert r_arr.options == ("0", "1", "2")


def test_voi_result_is_frozen_floatable_and_readable() -> None:
    rng = np.random.default_rng(2)
    res = evpi(rng.normal(size=(100, 2)))
    assert isinstance(res, VOIResult)
    assert float(res) == res.value
    text = repr(res)
    assert "monte-carlo" in text and "value=" in text and "se=" in text
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.value = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        res.diagnostics["x"] = 1  # type: ignore[index]


def test_evpi_zero_when_one_option_always_best() -> None:
    values = np.column_stack([np.arange(10.0), np.arange(10.0) + 1.0])
    assert evpi(values).value == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), n_options=st.integers(2, 5),
       shift=st.floats(-1e3, 1e3, allow_nan=False))
def test_evpi_nonnegative_and_invariant_to_common_shift(seed: int, n_options: int,
                                                        shift: float) -> None:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(300, n_options)) * rng.uniform(0.1, 10.0, n_options)
    base = evpi(values).value
    assert base >= -1e-12
    # adding the same per-draw amount to every option changes nothing
    common = shift + rng.normal(size=(300, 1))
    assert evpi(values + common).value == pytest.approx(base, abs=1e-9 * (1 + abs(shift)))
    # the order of the options does not matter
    assert evpi(values[:, ::-1]).value == pytest.approx(base, abs=1e-12)


@pytest.mark.parametrize("bad, message", [
    (np.zeros(10), "values: expected a 2-D array"),
    (np.zeros((10, 1)), "values: expected at least 2 options"),
    (np.array([[0.0, 1.0], [np.nan, 2.0]]), "values: expected finite numbers"),
    (xr.Dataset({"a": ((DRAW,), np.zeros(3))}), "values: expected a DataArray"),
    (xr.DataArray(np.zeros((3, 2)), dims=(DRAW, "x")), "values: expected a DataArray with dims"),
    (pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}), "values: expected numeric columns"),
])
def test_evpi_rejects_bad_values(bad: object, message: str) -> None:
    with pytest.raises(VOIInputError, match=message):
        evpi(bad)


def test_error_classes_are_value_and_key_errors() -> None:
    assert issubclass(VOIInputError, ValueError)
    assert issubclass(UnknownParameterError, KeyError)
