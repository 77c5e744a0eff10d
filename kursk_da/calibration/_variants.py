"""PSIS-LOO comparison and stacking of calibrations of competing model structures.

Each variant of a spec (:mod:`kursk_da.spec._variants`) is calibrated on the same
observations; its pointwise log likelihood (the ``log_likelihood`` group, one value per
used observation and posterior draw, nats) gives the PSIS-LOO estimate of its expected log
predictive density (Vehtari, Gelman and Gabry 2017, ``az.loo``), and the variants are
compared and combined by stacking of predictive distributions (Yao et al. 2018,
``az.compare(..., method="stacking")``): the weights maximise the leave-one-out log score
of the mixture of the variants' predictive densities.

The relative efficiency ``reff`` of each variant is ArviZ's default (the mean over the
posterior's variables of their mean-ESS divided by the number of draws), computed once
from the posterior (:func:`relative_efficiency`) and then passed to ``az.loo``, so the
comparison can be recomputed from the stored log likelihoods and ``reff`` alone
(``/variants`` in a result set).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from kursk_da.dims import CHAIN, DRAW, VARIANT

__all__ = ["PARETO_K_THRESHOLD", "LOO_COLUMNS", "relative_efficiency", "loo_of", "loo_table"]

PARETO_K_THRESHOLD = 0.7
"""Pareto k above which a PSIS-LOO term is unreliable (Vehtari et al. 2017)."""

LOO_COLUMNS = ("rank", "elpd_loo", "se", "p_loo", "elpd_diff", "dse", "weight",
               "max_pareto_k", "n_k_above_0_7", "reff")
"""Columns of :func:`loo_table`."""


def relative_efficiency(posterior: xr.Dataset) -> float:
    """ArviZ's default relative efficiency of a posterior for PSIS-LOO.

    Parameters
    ----------
    posterior : xarray.Dataset
        Variables over (``chain``, ``draw``, ...).

    Returns
    -------
    float
        The mean over every variable and element of ``ess(method="mean")``, divided by
        ``chains x draws`` (1.0 for a single chain), as ``az.loo`` computes it.
    """
    n = int(posterior.sizes[CHAIN]) * int(posterior.sizes[DRAW])
    if int(posterior.sizes[CHAIN]) == 1:
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ess = az.ess(posterior, method="mean")
    vals = np.hstack([np.asarray(ess[v].values, dtype=float).ravel() for v in ess.data_vars])
    return float(np.nanmean(vals) / n)


def loo_of(log_likelihood: xr.DataArray, reff: float) -> az.ELPDData:
    """PSIS-LOO of one calibration.

    Parameters
    ----------
    log_likelihood : xarray.DataArray
        Pointwise log likelihood (nats) over (``chain``, ``draw``, observation).
    reff : float
        Relative efficiency (:func:`relative_efficiency`).

    Returns
    -------
    arviz.ELPDData
        With the pointwise values and the Pareto k of each observation.
    """
    idata = az.InferenceData(log_likelihood=xr.Dataset({"y": log_likelihood}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # high Pareto k: reported, not warned
        out: az.ELPDData = az.loo(idata, pointwise=True, reff=float(reff))
    return out


def loo_table(log_likelihoods: Mapping[str, xr.DataArray],
              reffs: Mapping[str, float]) -> pd.DataFrame:
    """The PSIS-LOO comparison and stacking weights of calibrations on the same data.

    Parameters
    ----------
    log_likelihoods : mapping of str to xarray.DataArray
        Each variant's pointwise log likelihood (nats; ``chain``, ``draw``, observation),
        the same observations in the same order for all.
    reffs : mapping of str to float
        Each variant's relative efficiency.

    Returns
    -------
    pandas.DataFrame
        One row per variant, in the order given: ``rank`` (0 = best), ``elpd_loo`` and its
        standard error ``se`` (nats), ``p_loo`` (effective number of parameters),
        ``elpd_diff`` (nats, elpd of the best minus this one, 0 for the best) and its
        standard error ``dse`` (paired over the observations), ``weight`` (stacking
        weight, sums to 1), ``max_pareto_k``, ``n_k_above_0_7`` (observations whose
        Pareto k exceeds :data:`PARETO_K_THRESHOLD`) and ``reff``.
    """
    names = list(log_likelihoods)
    elpds = {n: loo_of(log_likelihoods[n], reffs[n]) for n in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # az.compare accepts precomputed ELPDData (its stub says InferenceData)
        cmp = az.compare(dict(elpds), ic="loo", method="stacking",  # type: ignore[arg-type]
                         scale="log")
    rows = []
    for n in names:
        k = np.asarray(elpds[n].pareto_k, dtype=float)
        r = cmp.loc[n]
        rows.append({"rank": int(r["rank"]), "elpd_loo": float(r["elpd_loo"]),
                     "se": float(r["se"]), "p_loo": float(r["p_loo"]),
                     "elpd_diff": float(r["elpd_diff"]), "dse": float(r["dse"]),
                     "weight": float(r["weight"]), "max_pareto_k": float(np.max(k)),
                     "n_k_above_0_7": int(np.sum(k > PARETO_K_THRESHOLD)),
                     "reff": float(reffs[n])})
    return pd.DataFrame(rows, index=pd.Index(names, name=VARIANT),
                        columns=list(LOO_COLUMNS))
