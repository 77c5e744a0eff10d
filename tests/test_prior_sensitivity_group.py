"""The prior-sensitivity result as variables over ``prior_power`` and az.psens per parameter."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from kursk_da.calibration._checks import psens_table
from kursk_da.dims import OPTION, PARAMETER, PRIOR_POWER
from kursk_da.io._resultset import prior_sensitivity_dataset


def _idata(seed: int = 0) -> az.InferenceData:
    r = np.random.default_rng(seed)
    th = r.normal(size=(4, 300, 3))
    pc = ("chain", "draw")
    return az.InferenceData(
        posterior=xr.Dataset({"theta": (("chain", "draw", PARAMETER), th)},
                             coords={PARAMETER: ["a", "b", "c"]}),
        log_prior=xr.Dataset({"a": (pc, -th[..., 0] ** 2 / 2), "b": (pc, 0 * th[..., 1]),
                              "copula": (pc, 0 * th[..., 0])}),
        log_likelihood=xr.Dataset({"y": (("chain", "draw", "obs"), r.normal(size=(4, 300, 2)))}))


def test_psens_table_matches_arviz_per_parameter():
    idata = _idata()
    table = psens_table(idata)
    assert list(table.index) == ["a", "b", "c"] and table.index.name == PARAMETER
    want = az.psens(idata, component="prior", var_names=["theta"])
    np.testing.assert_allclose(table["psens_prior"].to_numpy(), np.asarray(want))
    # only parameter a has a prior term: it is the prior-sensitive one
    assert table["psens_prior"]["a"] > 5 * max(table["psens_prior"][["b", "c"]])
    assert psens_table(az.InferenceData(posterior=idata.posterior)) is None


def test_prior_sensitivity_dataset_has_a_prior_power_dimension():
    table = pd.DataFrame({
        "power": [1.0, 0.5, 2.0], "best": ["hold", "hold", "withdraw"],
        "ranking": ["hold > withdraw", "hold > withdraw", "withdraw > hold"],
        "pareto_k": [0.0, 0.2, 0.9], "ranking_changed": [False, False, True],
        "ev_hold": [3.0, 2.5, 1.0], "ev_withdraw": [2.0, 2.1, 2.2],
        "reliable": [True, True, False]})
    ds = prior_sensitivity_dataset(table)
    assert ds["prior_sensitivity_ev"].dims == (PRIOR_POWER, OPTION)
    assert list(ds[OPTION].values) == ["hold", "withdraw"]
    np.testing.assert_array_equal(ds[PRIOR_POWER].values, [1.0, 0.5, 2.0])
    np.testing.assert_array_equal(ds["prior_sensitivity_ranking_changed"].values, [0, 0, 1])
    np.testing.assert_array_equal(ds["prior_sensitivity_reliable"].values, [1, 1, 0])
    assert ds["prior_sensitivity_best"].sel({PRIOR_POWER: 2.0}).item() == "withdraw"
    assert ds["prior_sensitivity_ev"].attrs["units"] == "dkm2"
