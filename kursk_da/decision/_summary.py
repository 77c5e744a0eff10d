"""Decision summary as xarray: the thin layer over :mod:`kursk_da.decision._metrics`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from kursk_da.decision import _metrics as metrics
from kursk_da.dims import DRAW, OPTION, VALUE_UNITS

__all__ = ["decision_summary", "streamed_summary", "summary_dataset"]


def decision_summary(
    values: np.ndarray,
    options: Sequence[str],
    cvar_alpha: float = 0.05,
    *,
    chains: tuple[int, int] | None = None,
    per_draw: int = 1,
) -> xr.Dataset:
    """Expected value, probability best, regret, CVaR and EVPI of each option, with MCSEs.

    Parameters
    ----------
    values : array (n_draws, n_options)
        Value of each option under each draw, in dkm2 (higher is better).
    options : sequence of str
        Option names (coordinate labels).
    cvar_alpha : float
        Tail probability of CVaR.
    chains : (n_chain, n_draw), optional
        The sampling design of a posterior analysis: the rows are MCMC draws,
        chain-major, ``per_draw`` consecutive replicate rows per posterior draw. The
        MCSEs are then those of the per-posterior-draw means with the ESS of the chains
        (ArviZ). None (default): independent draws, ``sd / sqrt(n)``.
    per_draw : int
        Replicate rows per posterior draw (only with ``chains``).

    Returns
    -------
    xarray.Dataset
        Variables ``value`` (draw, option) and, over ``option``, ``expected_value``,
        ``expected_value_mcse``, ``value_difference`` (EV minus the highest EV) and
        ``value_difference_mcse``, ``prob_best``, ``prob_best_mcse``, ``expected_regret``,
        ``expected_regret_mcse``, ``cvar``, ``cvar_mcse``; scalars ``evpi`` and
        ``evpi_mcse``. Units in attrs; the attribute ``mcse_design`` says how the MCSEs
        were computed (estimators in :mod:`kursk_da.decision._metrics`).
    """
    v = metrics.as_values_array(values)
    if v.shape[1] != len(options):
        raise ValueError(f"options: expected {v.shape[1]} names, got {len(options)}")
    if chains is None and per_draw != 1:
        raise ValueError("per_draw: replicate rows need the chains=(n_chain, n_draw) design")
    if isinstance(per_draw, bool) or not isinstance(per_draw, int | np.integer) or per_draw < 1:
        raise ValueError(f"per_draw: expected an integer >= 1, got {per_draw!r}")
    mean, mcse = metrics.expected_value(v)
    se = metrics.mcse_all(v, cvar_alpha, chains, per_draw)
    evpi_mcse = metrics.evpi_se_core(v)
    if chains is None:
        design = "independent draws: sd / sqrt(n)"
    else:
        mcse, evpi_mcse = se["expected_value"], float(se["evpi"])
        design = (f"{chains[0]} chains x {chains[1]} posterior draws, {per_draw} replicate "
                  "rows each: ArviZ MCSE (ESS of the chains) of the per-posterior-draw means")
    regret = metrics.regret(v)
    stats = {
        "expected_value": mean, "expected_value_mcse": mcse,
        "value_difference": mean - mean.max(),
        "value_difference_mcse": se["value_difference"],
        "prob_best": metrics.prob_best(v), "prob_best_mcse": se["prob_best"],
        "expected_regret": regret.mean(axis=0), "expected_regret_mcse": se["expected_regret"],
        "cvar": metrics.cvar(v, cvar_alpha), "cvar_mcse": se["cvar"],
        "evpi": metrics.evpi_core(v), "evpi_mcse": evpi_mcse,
    }
    return summary_dataset(stats, v, np.arange(v.shape[0]), options, cvar_alpha, design)


def streamed_summary(
    stream: metrics.StreamingSummary,
    values: np.ndarray,
    rows: np.ndarray,
    options: Sequence[str],
) -> xr.Dataset:
    """The decision summary of a :class:`~kursk_da.decision._metrics.StreamingSummary`.

    Parameters
    ----------
    stream : StreamingSummary
        Fed with the values of every draw.
    values : array (n_stored, n_options)
        The values of the stored draws (``value``), dkm2.
    rows : array of int (n_stored,)
        Their draw indices (the ``draw`` coordinate).
    options : sequence of str

    Returns
    -------
    xarray.Dataset
        As :func:`decision_summary`; the attribute ``draws_stored`` says how many draws
        ``value`` holds, of ``draws_total``.
    """
    stats = stream.result()
    if stream.chains is None:
        design = "independent draws: sd / sqrt(n)"
    else:
        c = stream.chains
        design = (f"{c[0]} chains x {c[1]} posterior draws, {stream.per_draw} replicate "
                  "rows each: ArviZ MCSE (ESS of the chains) of the per-posterior-draw means")
    ds = summary_dataset(stats, values, rows, options, stream.alpha, design)
    ds.attrs["draws_total"] = int(stream.n_rows)
    ds.attrs["draws_stored"] = int(np.asarray(rows).size)
    return ds


def summary_dataset(
    stats: dict[str, np.ndarray] | dict[str, object],
    values: np.ndarray,
    rows: np.ndarray,
    options: Sequence[str],
    cvar_alpha: float,
    design: str,
) -> xr.Dataset:
    """Assemble the summary Dataset from its metrics (units and long names)."""
    v = values
    cvar_alpha = float(cvar_alpha)
    opt = {OPTION: list(options)}

    def da(x: object, long_name: str, units: str) -> xr.DataArray:
        return xr.DataArray(np.asarray(x, dtype=float), dims=(OPTION,), coords=opt,
                            attrs={"long_name": long_name, "units": units})

    ds = xr.Dataset(
        {
            "value": xr.DataArray(
                v, dims=(DRAW, OPTION), coords={DRAW: np.asarray(rows), **opt},
                attrs={"long_name": "value of the option under the draw", "units": VALUE_UNITS},
            ),
            "expected_value": da(stats["expected_value"], "expected value", VALUE_UNITS),
            "expected_value_mcse": da(stats["expected_value_mcse"],
                                      "Monte Carlo standard error of the expected value",
                                      VALUE_UNITS),
            "value_difference": da(stats["value_difference"],
                                   "expected value minus the highest expected value",
                                   VALUE_UNITS),
            "value_difference_mcse": da(stats["value_difference_mcse"],
                                        "Monte Carlo standard error of value_difference",
                                        VALUE_UNITS),
            "prob_best": da(stats["prob_best"], "probability that the option is best", "1"),
            "prob_best_mcse": da(stats["prob_best_mcse"],
                                 "Monte Carlo standard error of prob_best", "1"),
            "expected_regret": da(stats["expected_regret"], "expected regret", VALUE_UNITS),
            "expected_regret_mcse": da(stats["expected_regret_mcse"],
                                       "Monte Carlo standard error of expected_regret",
                                       VALUE_UNITS),
            "cvar": da(stats["cvar"],
                       f"conditional value at risk: mean of the worst {cvar_alpha:.0%} of outcomes",
                       VALUE_UNITS),
            "cvar_mcse": da(stats["cvar_mcse"], "Monte Carlo standard error of cvar (influence "
                            "function of the CVaR estimator)", VALUE_UNITS),
            "evpi": xr.DataArray(float(np.asarray(stats["evpi"])), attrs={
                "long_name": "expected value of perfect information", "units": VALUE_UNITS}),
            "evpi_mcse": xr.DataArray(float(np.asarray(stats["evpi_mcse"])), attrs={
                "long_name": "Monte Carlo standard error of the EVPI", "units": VALUE_UNITS}),
        },
        attrs={"cvar_alpha": cvar_alpha, "value_units": VALUE_UNITS, "mcse_design": design},
    )
    return ds
