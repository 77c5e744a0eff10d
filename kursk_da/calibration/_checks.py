"""Checks of fit: posterior predictive check, contraction, prior sensitivity, forecasts.

* :func:`ppc_table`: every observation against the central 90 % interval of its
  posterior predictive distribution (``posterior_predictive.y``), with the predictive
  tail probability ``P(y_rep <= y)``.
* :func:`contraction`: ``1 - var_post / var_prior`` per sampled parameter (1: the data
  pinned it down, 0: the data said nothing, < 0: the posterior is wider), on the
  sampler's unconstrained scale when the spec is given.
* :func:`prior_sensitivity`: power-scaling of the prior (Kallioinen et al. 2023): the
  posterior under the prior raised to the power ``alpha`` is approximated by
  importance weights ``w ~ p(theta)^(alpha - 1)`` on the posterior draws, smoothed by
  Pareto-smoothed importance sampling (ArviZ ``psislw``). ``alpha < 1`` weakens
  (widens) the prior, ``alpha > 1`` strengthens it (:data:`PRIOR_POWERS`). The option
  ranking by expected value is recomputed under each; ``ranking_changed`` says whether
  it differs from the base ranking, ``pareto_k > 0.7`` that the weights are unreliable
  (``reliable`` False; for those powers refit with a modified spec instead).
  :func:`ranking_verdict` summarises. Only the calibrated parameters' prior is
  scaled; the other inputs keep theirs.
* :func:`forecast_table`: withheld observations (``--cutoff``): 90 % interval coverage
  and CRPS of the posterior predictive draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from kursk_da.calibration._priors import copula_pearson
from kursk_da.calibration._scoring import crps_ensemble, interval_covers
from kursk_da.decision._metrics import same_value_as
from kursk_da.dims import CHAIN, DRAW, OBSERVATION, PARAMETER
from kursk_da.spec.copula import normal_scores

if TYPE_CHECKING:
    from kursk_da.spec._schema import Spec

__all__ = ["ppc_table", "contraction", "log_prior_density", "prior_sensitivity",
           "psens_table", "ranking_verdict", "forecast_table", "PRIOR_POWERS", "PARETO_K_MAX"]

PRIOR_POWERS: tuple[float, ...] = (0.5, 0.8, 1.25, 2.0)
"""Prior power-scaling exponents of the sensitivity check."""

PARETO_K_MAX = 0.7
"""Largest Pareto k for which importance weights are trusted."""


def _interval_table(draws: np.ndarray, observed: np.ndarray, names: Sequence[str],
                    level: float) -> pd.DataFrame:
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return pd.DataFrame({
        "observed": observed,
        "predictive_mean": draws.mean(axis=0),
        "lower_90": lo,
        "upper_90": hi,
        "covered": interval_covers(draws.T, observed, level),
        "p_below": (draws <= observed).mean(axis=0),
    }, index=pd.Index(list(names), name=OBSERVATION))


def ppc_table(idata: az.InferenceData, level: float = 0.9) -> pd.DataFrame:
    """Posterior predictive check of every observation used in the calibration.

    Returns
    -------
    pandas.DataFrame
        Index ``observation``; columns ``observed``, ``predictive_mean``,
        ``lower_90``, ``upper_90`` (the central ``level`` interval), ``covered``,
        ``p_below`` (``P(y_rep <= y)``).
    """
    y = idata["posterior_predictive"]["y"].stack(sample=(CHAIN, DRAW)).transpose("sample", ...)
    obs = idata["observed_data"]["y"]
    table = _interval_table(y.to_numpy(), obs.to_numpy(),
                            [str(v) for v in obs[OBSERVATION].values], level)
    const = idata["constant_data"] if "constant_data" in idata.groups() else None
    if const is not None and "censoring" in const:
        # a bound is covered when the predictive interval reaches it: "at least" low when
        # the upper end is >= low, "up to" high when the lower end is <= high, an interval
        # when the two overlap (docs/observations.md)
        c = const["censoring"].to_numpy()
        low, high = const["low"].to_numpy(), const["high"].to_numpy()
        lo, hi = table["lower_90"].to_numpy(), table["upper_90"].to_numpy()
        cov = table["covered"].to_numpy().astype(bool)
        cov = np.where(c == 1, hi >= low, np.where(c == 2, lo <= high,
                                                   np.where(c == 3, (hi >= low) & (lo <= high),
                                                            cov)))
        table["covered"] = cov
    return table


def loo_pointwise(idata: az.InferenceData) -> pd.DataFrame | None:
    """PSIS-LOO of the calibration, per used observation (Vehtari, Gelman and Gabry 2017).

    ``az.loo(..., pointwise=True)`` on ``log_likelihood.y`` with ArviZ's relative
    efficiency of the posterior. A Pareto k above
    :data:`kursk_da.calibration._variants.PARETO_K_THRESHOLD` (0.7) marks an observation
    whose leave-one-out term is unreliable: the posterior changes much without it (an
    influential claim, or one the model cannot fit).

    Returns
    -------
    pandas.DataFrame or None
        Index ``observation``; columns ``pareto_k`` (1) and ``elpd_loo`` (nats, the
        pointwise LOO log predictive density). None without a ``log_likelihood`` group.
    """
    from kursk_da.calibration._variants import loo_of, relative_efficiency

    if "log_likelihood" not in idata.groups() or "y" not in idata["log_likelihood"]:
        return None
    ll = idata["log_likelihood"]["y"]
    elpd = loo_of(ll, relative_efficiency(idata["posterior"]))
    names = [str(v) for v in ll[OBSERVATION].values]
    return pd.DataFrame({"pareto_k": np.asarray(elpd.pareto_k, dtype=float),
                         "elpd_loo": np.asarray(elpd.loo_i, dtype=float)},
                        index=pd.Index(names, name=OBSERVATION))


def forecast_table(idata: az.InferenceData, level: float = 0.9) -> pd.DataFrame:
    """Coverage and CRPS of the withheld observations (calibration with a cutoff).

    Returns
    -------
    pandas.DataFrame
        As :func:`ppc_table` plus ``crps`` (units of the observation).
    """
    y = idata["posterior_predictive"]["y_withheld"].stack(sample=(CHAIN, DRAW))
    obs = idata["observed_data"]["y_withheld"]
    dim = obs.dims[0]
    draws = y.transpose("sample", ...).to_numpy()
    table = _interval_table(draws, obs.to_numpy(), [str(v) for v in obs[dim].values], level)
    table["crps"] = crps_ensemble(draws.T, obs.to_numpy())
    return table


def _unconstrained(spec: Spec, name: str, x: np.ndarray) -> np.ndarray:
    """``x`` on the sampler's unconstrained scale (log or logit; identity if unbounded)."""
    lo, hi = spec.inputs[name].dist.support
    if np.isfinite(lo) and np.isfinite(hi):
        u = np.clip((x - lo) / (hi - lo), 1e-12, 1 - 1e-12)
        return np.log(u) - np.log1p(-u)
    if np.isfinite(lo):
        return np.log(np.maximum(x - lo, 1e-300))
    return x


def contraction(idata: az.InferenceData, spec: Spec | None = None) -> pd.Series:
    """Prior-to-posterior contraction ``1 - var_post / var_prior`` per parameter.

    Parameters
    ----------
    idata : arviz.InferenceData
    spec : Spec, optional
        When given, the variances are taken on the sampler's unconstrained scale (log
        for positive, logit for bounded parameters), where the lognormal priors are
        Gaussian; on the natural scale the variance of a skewed prior is dominated by
        its upper tail and a posterior that merely shifts upwards shows a negative
        contraction.
    """
    post = idata["posterior"]["theta"].stack(s=(CHAIN, DRAW)).transpose(PARAMETER, "s")
    prior = idata["prior"]["theta"].stack(s=(CHAIN, DRAW)).transpose(PARAMETER, "s")
    names = [str(p) for p in post[PARAMETER].values]
    a, b = post.to_numpy(), prior.to_numpy()
    if spec is not None:
        a = np.stack([_unconstrained(spec, n, a[i]) for i, n in enumerate(names)])
        b = np.stack([_unconstrained(spec, n, b[i]) for i, n in enumerate(names)])
    c = 1.0 - a.var(axis=1) / b.var(axis=1)
    return pd.Series(c, index=pd.Index(names, name=PARAMETER), name="contraction")


def log_prior_density(spec: Spec, sampled: Sequence[str], x: np.ndarray) -> np.ndarray:
    """Joint log prior density of the sampled inputs (marginals and Gaussian copula).

    Parameters
    ----------
    x : array (n, k)
        Values of ``sampled``.
    """
    lp = np.zeros(x.shape[0])
    for j, n in enumerate(sampled):
        lp += spec.inputs[n].dist.logpdf(x[:, j])
    pear = copula_pearson(spec, list(sampled))
    if pear is not None:
        z = normal_scores(spec, x, list(sampled))
        prec = np.linalg.inv(pear) - np.eye(len(sampled))
        _, logdet = np.linalg.slogdet(pear)
        lp += -0.5 * np.einsum("ni,ij,nj->n", z, prec, z) - 0.5 * logdet
    return lp


def _ranking(ev: np.ndarray, names: Sequence[str], rep: np.ndarray) -> str:
    """``a > b = c > d``: options by expected value, ``=`` between options of the same value
    in every draw (ties exact: ``ev`` is taken from each group's first option)."""
    parts: list[str] = []
    prev = -1
    for i in np.argsort(-ev[rep], kind="stable"):
        if prev >= 0 and rep[i] == rep[prev]:
            parts[-1] += f" = {names[i]}"
        else:
            parts.append(names[i])
        prev = int(i)
    return " > ".join(parts)


def prior_sensitivity(spec: Spec, idata: az.InferenceData, values: np.ndarray, *,
                      per_draw: int = 1, powers: Sequence[float] = PRIOR_POWERS
                      ) -> pd.DataFrame:
    """Does the option ranking depend on the priors? (power-scaling, see module doc).

    Parameters
    ----------
    spec : Spec
    idata : arviz.InferenceData
        The calibration.
    values : array (n_post * per_draw, n_options)
        Engine values of the propagated posterior draws (rows in the order of
        :func:`kursk_da.calibration._propagate.posterior_input_matrix`).
    per_draw : int
        Rows per posterior draw.
    powers : sequence of float
        Prior exponents.

    Returns
    -------
    pandas.DataFrame
        One row per power (and ``1.0``, the base): ``best``, ``ranking`` (``a > b = c``:
        ``=`` joins options with the same value in every draw, which tie exactly),
        ``pareto_k``, ``ranking_changed``, and the expected value of every option.
    """
    sampled = [str(p) for p in idata["posterior"][PARAMETER].values]
    th = idata["posterior"]["theta"].transpose(CHAIN, DRAW, PARAMETER).to_numpy()
    x = th.reshape(-1, th.shape[-1])
    lp = log_prior_density(spec, sampled, x)
    names = list(spec.option_names)
    # options with the same value in every draw (a rule whose trigger fires at once takes
    # another option's actions) tie exactly: a weighted mean of two equal columns can differ
    # in the last bit (BLAS), which must not read as a change of the ranking
    rep = same_value_as(values)
    base_ev = values.mean(axis=0)[rep]
    base_rank = _ranking(base_ev, names, rep)
    rows = [{"power": 1.0, "best": names[int(np.argmax(base_ev))], "ranking": base_rank,
             "pareto_k": 0.0, "ranking_changed": False,
             **{f"ev_{n}": float(v) for n, v in zip(names, base_ev, strict=True)}}]
    for a in powers:
        lw = (a - 1.0) * lp
        lw = lw - lw.max()
        lw_s, k = az.psislw(lw.copy())
        w = np.exp(lw_s - lw_s.max())
        w = np.repeat(w / w.sum(), per_draw) / per_draw
        ev = (w @ values)[rep]
        rank = _ranking(ev, names, rep)
        rows.append({"power": float(a), "best": names[int(np.argmax(ev))], "ranking": rank,
                     "pareto_k": float(k), "ranking_changed": rank != base_rank,
                     **{f"ev_{n}": float(v) for n, v in zip(names, ev, strict=True)}})
    out = pd.DataFrame(rows)
    out["reliable"] = out["pareto_k"] <= PARETO_K_MAX
    return out


def psens_table(idata: az.InferenceData) -> pd.DataFrame | None:
    """ArviZ's power-scaling sensitivity (``az.psens``) of each sampled parameter.

    Columns ``psens_prior`` and ``psens_likelihood``: the cumulative Jensen-Shannon
    distance derivative of each parameter's posterior under power-scaling of the prior
    (``log_prior`` group) or of the likelihood (``log_likelihood``); values above
    about 0.05 flag sensitivity (Kallioinen et al. 2023). None when the InferenceData
    has no ``log_prior``/``log_likelihood`` group.

    Returns
    -------
    pandas.DataFrame or None
        One row per sampled parameter (index ``parameter``).
    """
    if not {"log_prior", "log_likelihood", "posterior"} <= set(idata.groups()):
        return None
    cols = {}
    for comp in ("prior", "likelihood"):
        res = az.psens(idata, component=comp, var_names=["theta"])
        da = res["theta"] if isinstance(res, xr.Dataset) else res  # one variable: DataArray
        cols[f"psens_{comp}"] = da.to_series()
    out = pd.DataFrame(cols)
    out.index = pd.Index([str(p) for p in out.index], name=PARAMETER)
    return out


def ranking_verdict(table: pd.DataFrame) -> str:
    """``"yes"``, ``"no"`` or ``"inconclusive"`` from :func:`prior_sensitivity`.

    ``yes`` when the ranking changes under a power whose weights are reliable
    (Pareto k <= 0.7); ``no`` when it changes under none of the reliable powers;
    ``inconclusive`` when no power other than 1 has reliable weights.
    """
    alt = table[table["power"] != 1.0]
    rel = alt[alt["reliable"]]
    if bool(rel["ranking_changed"].any()):
        return "yes"
    return "no" if len(rel) else "inconclusive"
