"""The ``/hindcast`` group of a result set (``kursk-da hindcast``; docs/resultset.md).

Built from a :class:`kursk_da.calibration._hindcast.HindcastResult` (plain tables) by
:func:`hindcast_dataset`; :func:`add_hindcast` returns a copy of a result set with it.
Dims (:mod:`kursk_da.dims`): ``forecast`` (one (origin, observation) pair), ``origin``
and ``quantity``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from kursk_da.dims import FORECAST, ORIGIN, QUANTITY

if TYPE_CHECKING:
    from kursk_da.calibration._hindcast import HindcastResult

__all__ = ["hindcast_dataset", "add_hindcast", "HINDCAST_GROUP"]

HINDCAST_GROUP = "hindcast"
"""Name of the group."""

_PER_FORECAST = "per forecast (coordinate forecast_units)"
_PER_QUANTITY = "per quantity (coordinate quantity_units)"

# name in the frame -> (long name, units; None: the claim's own units)
_FORECAST_VARS: dict[str, tuple[str, str | None]] = {
    "observed": ("the claim (its value; for a bound, the bound)", None),
    "low": ("lower bound of the claim (NaN if none)", None),
    "high": ("upper bound of the claim (NaN if none)", None),
    "predictive_mean": ("mean of the posterior predictive draws of the claim", None),
    "predictive_median": ("median of the posterior predictive draws", None),
    "lower_50": ("lower end of the central 50% predictive interval", None),
    "upper_50": ("upper end of the central 50% predictive interval", None),
    "lower_90": ("lower end of the central 90% predictive interval", None),
    "upper_90": ("upper end of the central 90% predictive interval", None),
    "covered_50": ("1 if the central 50% interval covers the claim (a bound: reaches it)", "1"),
    "covered_90": ("1 if the central 90% interval covers the claim (a bound: reaches it)", "1"),
    "pit": ("probability integral transform P(Y < y) + P(Y = y)/2 (NaN for a bound)", "1"),
    "crps": ("CRPS of the ensemble forecast (NaN for a bound)", None),
    "crps_relative": ("CRPS / |claim|", "1"),
    "persistence": ("persistence forecast: last value of the quantity known at the origin "
                    "(NaN if none)", None),
    "trend": ("linear trend through the last two values known at the origin (NaN if fewer)",
              None),
    "crps_persistence": ("CRPS (absolute error) of the persistence forecast", None),
    "crps_trend": ("CRPS (absolute error) of the trend forecast", None),
    "lead_days": ("forecast date minus origin (negative: dated before, reported after)",
                  "days"),
}
_ORIGIN_VARS: dict[str, tuple[str, str]] = {
    "n_used": ("observations the calibration used (known at the origin)", "1"),
    "n_forecast": ("observations forecast", "1"),
    "n_point": ("forecast point claims (scored by CRPS and PIT)", "1"),
    "coverage_50": ("share of forecasts covered by the central 50% interval", "1"),
    "coverage_90": ("share of forecasts covered by the central 90% interval", "1"),
    "crps_relative": ("mean relative CRPS (CRPS / |claim|) of the point claims", "1"),
    "skill_persistence": ("CRPS skill against persistence: 1 - mean relative CRPS / that of "
                          "persistence, over the rows with a persistence value", "1"),
    "skill_trend": ("CRPS skill against the linear trend (relative CRPS, rows with a trend)",
                    "1"),
    "n_persistence": ("point claims with a persistence forecast", "1"),
    "n_trend": ("point claims with a trend forecast", "1"),
    "divergences": ("divergent transitions of the origin's calibration", "1"),
    "max_rhat": ("largest R-hat of the campaign parameters of the origin's calibration", "1"),
    "converged": ("1 if the origin's calibration passed the convergence gate (R-hat, ESS, "
                  "divergences, E-BFMI), else 0", "1"),
}
_QUANTITY_VARS: dict[str, tuple[str, str | None]] = {
    "n_forecast": ("observations forecast", "1"),
    "n_point": ("forecast point claims", "1"),
    "coverage_50": ("share covered by the central 50% interval", "1"),
    "coverage_90": ("share covered by the central 90% interval", "1"),
    "crps": ("mean CRPS of the point claims", None),
    "crps_relative": ("mean relative CRPS of the point claims", "1"),
    "crps_persistence": ("mean CRPS of persistence (rows with a persistence value)", None),
    "crps_trend": ("mean CRPS of the trend (rows with a trend)", None),
    "skill_persistence": ("CRPS skill against persistence: 1 - mean CRPS / that of "
                          "persistence, over the rows with a persistence value", "1"),
    "skill_trend": ("CRPS skill against the linear trend, over the rows with a trend", "1"),
    "n_persistence": ("point claims with a persistence forecast", "1"),
    "n_trend": ("point claims with a trend forecast", "1"),
}


def _dates(values: Any) -> np.ndarray:
    return np.array(pd.to_datetime(list(values)).to_numpy(), dtype="datetime64[ns]")


def hindcast_dataset(result: HindcastResult) -> xr.Dataset:
    """The ``/hindcast`` Dataset of a hindcast.

    Parameters
    ----------
    result : HindcastResult
        Of :func:`kursk_da.calibration.run_hindcast`.

    Returns
    -------
    xarray.Dataset
        Over ``forecast``: the scores of every forecast (:data:`_FORECAST_VARS`), with the
        coordinates ``forecast_origin``, ``forecast_observation``, ``forecast_quantity``,
        ``forecast_units``, ``forecast_date``, ``forecast_reported_on``,
        ``forecast_claimant``, ``forecast_claimant_family``, ``forecast_censoring``. Over
        ``origin``: the aggregates by origin. Over (``origin``, ``quantity``): the
        aggregates by quantity, named ``<score>_by_quantity``. Every variable has
        ``units`` and ``long_name``; the attributes hold the provenance (``origins``,
        ``seed``, ``draws``, ``tune``, ``chains``, ``sampler``, ``spec_name``,
        ``spec_sha256``, ``decision_date``).
    """
    f = result.forecasts
    labels = [f"{o.isoformat()}:{n}" for o, n in zip(f["origin"], f["observation"],
                                                        strict=True)]
    coords: dict[str, Any] = {
        FORECAST: labels,
        "forecast_origin": (FORECAST, _dates(f["origin"])),
        "forecast_observation": (FORECAST, f["observation"].astype(str).tolist()),
        "forecast_quantity": (FORECAST, f["quantity"].astype(str).tolist()),
        "forecast_units": (FORECAST, f["units"].astype(str).tolist()),
        "forecast_date": (FORECAST, _dates(f["date"])),
        "forecast_reported_on": (FORECAST, _dates(f["reported_on"])),
        "forecast_claimant": (FORECAST, f["claimant"].astype(str).tolist()),
        "forecast_claimant_family": (FORECAST, f["family"].astype(str).tolist()),
        "forecast_censoring": (FORECAST, f["censoring"].astype(str).tolist()),
    }
    origins = list(result.by_origin.index)
    quantities = sorted(set(f["quantity"]))
    units_of = dict(zip(f["quantity"], f["units"], strict=False))
    coords[ORIGIN] = _dates(origins)
    coords[QUANTITY] = quantities
    coords["quantity_units"] = (QUANTITY, [str(units_of[q]) for q in quantities])
    ds = xr.Dataset(coords=coords)
    for name, (long_name, units) in _FORECAST_VARS.items():
        dtype = (np.int8 if name.startswith("covered") else np.int64 if name == "lead_days"
                 else np.float64)
        values = f[name].to_numpy().astype(dtype)
        ds[name] = xr.DataArray(values, dims=(FORECAST,), attrs={
            "long_name": long_name, "units": units or _PER_FORECAST})
    diag = result.diagnostics
    if "converged" not in diag:  # a result of an older run: unknown, counted as passed
        diag = diag.assign(converged=True)
    table = result.by_origin.join(diag[["n_used", "divergences", "max_rhat", "converged"]])
    for name, (long_name, units) in _ORIGIN_VARS.items():
        col = table[name]
        values = col.to_numpy(dtype=np.int8 if name == "converged" else np.int64
                              if name.startswith("n_") or name == "divergences" else float)
        ds[name] = xr.DataArray(values, dims=(ORIGIN,), attrs={"long_name": long_name,
                                                               "units": units})
    bq = result.by_quantity
    full = pd.MultiIndex.from_product([origins, quantities], names=["origin", "quantity"])
    bq = bq.reindex(full)
    for name, (long_name, qunits) in _QUANTITY_VARS.items():
        count = name.startswith("n_")
        col = bq[name].fillna(0) if count else bq[name]
        grid = col.to_numpy(dtype=np.int64 if count else float).reshape(
            len(origins), len(quantities))
        ds[f"{name}_by_quantity"] = xr.DataArray(grid, dims=(ORIGIN, QUANTITY), attrs={
            "long_name": f"{long_name}, by origin and quantity",
            "units": qunits or _PER_QUANTITY})
    ds.attrs.update(result.settings)
    ds.attrs.update({
        "long_name": "rolling-origin hindcast: calibrate on what was known at each origin, "
                     "forecast and score every later observation (docs/resultset.md)",
        "baselines": "persistence: last point value of the quantity known at the origin "
                     "(claims of one date averaged); trend: line through its last two dates",
        "censored": "bounds ('at least', 'up to', ranges) count only in the coverage: "
                    "covered when the interval reaches the bound",
    })
    return ds


def add_hindcast(tree: xr.DataTree, hindcast: xr.Dataset) -> xr.DataTree:
    """A copy of the result set ``tree`` with ``hindcast`` as ``/hindcast`` (replaced).

    Parameters
    ----------
    tree : xarray.DataTree
    hindcast : xarray.Dataset
        Of :func:`hindcast_dataset`.

    Returns
    -------
    xarray.DataTree
    """
    nodes = {node.path: node.to_dataset(inherit=False) for node in tree.subtree}
    nodes[f"/{HINDCAST_GROUP}"] = hindcast
    return xr.DataTree.from_dict(nodes)
