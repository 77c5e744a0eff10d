"""Decision summary as xarray: the thin layer over :mod:`kursk_da.decision._metrics`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from kursk_da.decision import _metrics as metrics
from kursk_da.dims import DRAW, OPTION, VALUE_UNITS

__all__ = ["decision_summary"]


def decision_summary(
    values: np.ndarray, options: Sequence[str], cvar_alpha: float = 0.05
) -> xr.Dataset:
    """Expected value, MCSE, probability best, regret, CVaR and EVPI of each option.

    Parameters
    ----------
    values : array (n_draws, n_options)
        Value of each option under each draw, in dkm2 (higher is better).
    options : sequence of str
        Option names (coordinate labels).
    cvar_alpha : float
        Tail probability of CVaR.

    Returns
    -------
    xarray.Dataset
        Variables ``value`` (draw, option) and, over ``option``, ``expected_value``,
        ``expected_value_mcse``, ``prob_best``, ``expected_regret``, ``cvar``; scalars
        ``evpi`` and ``evpi_mcse``. Units in attrs.
    """
    v = metrics.as_values_array(values)
    if v.shape[1] != len(options):
        raise ValueError(f"options: expected {v.shape[1]} names, got {len(options)}")
    mean, mcse = metrics.expected_value(v)
    regret = metrics.regret(v)
    opt = {OPTION: list(options)}

    def da(x: np.ndarray, long_name: str, units: str) -> xr.DataArray:
        return xr.DataArray(x, dims=(OPTION,), coords=opt,
                            attrs={"long_name": long_name, "units": units})

    ds = xr.Dataset(
        {
            "value": xr.DataArray(
                v, dims=(DRAW, OPTION), coords={DRAW: np.arange(v.shape[0]), **opt},
                attrs={"long_name": "value of the option under the draw", "units": VALUE_UNITS},
            ),
            "expected_value": da(mean, "expected value", VALUE_UNITS),
            "expected_value_mcse": da(mcse, "Monte Carlo standard error of the expected value",
                                      VALUE_UNITS),
            "prob_best": da(metrics.prob_best(v), "probability that the option is best", "1"),
            "expected_regret": da(regret.mean(axis=0), "expected regret", VALUE_UNITS),
            "cvar": da(metrics.cvar(v, cvar_alpha),
                       f"conditional value at risk: mean of the worst {cvar_alpha:.0%} of outcomes",
                       VALUE_UNITS),
            "evpi": xr.DataArray(metrics.evpi_core(v), attrs={
                "long_name": "expected value of perfect information", "units": VALUE_UNITS}),
            "evpi_mcse": xr.DataArray(metrics.evpi_se_core(v), attrs={
                "long_name": "Monte Carlo standard error of the EVPI", "units": VALUE_UNITS}),
        },
        attrs={"cvar_alpha": cvar_alpha, "value_units": VALUE_UNITS},
    )
    return ds
