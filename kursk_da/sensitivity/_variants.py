"""Competing model structures: calibrate each variant, compare by PSIS-LOO, stack, decide.

:func:`compare_variants` takes a spec with ``[variants]`` (:mod:`kursk_da.spec._variants`)
and, for each variant in spec order (position ``i``):

1. runs the package's own orchestrator :func:`kursk_da.analysis.run_analysis` on the
   variant's spec (:func:`kursk_da.spec._schema.apply_variant`): the calibration on the
   same observations, then the propagation of its posterior through every option, with the
   seed of its position, ``SeedSequence(seed, spawn_key=(VARIANT_STREAM, i))`` (so the
   results do not depend on the order in which the variants finish, nor on dask workers);
2. keeps the pointwise log likelihood and the relative efficiency of the posterior
   (:func:`kursk_da.calibration._variants.relative_efficiency`), the decision table
   (``/decision``: expected value, P(best), expected regret, their MCSE), the convergence
   gate and the posterior mean and sd of every input.

Then PSIS-LOO of each variant, ``az.compare(..., method="stacking")`` (stacking weights,
elpd differences and their standard errors; :func:`kursk_da.calibration._variants.loo_table`)
and the decision table of the **stacked mixture**.

The mixture is computed exactly, not by resampling: under the mixture
``p(v) = sum_k w_k p_k(v)`` every metric of the table is the expectation of a per-draw
quantity (the value; the indicator that the option is best; the regret
``max_i v_i - v_j``), hence exactly ``sum_k w_k`` times the variant's metric, P(best) and
the regret included (their per-draw quantities do not depend on the mixture). Resampling
posterior rows in proportion to the weights would give the same numbers plus resampling
noise. The variants' runs use independent seed streams, so the MCSE of a mixture metric
is ``sqrt(sum_k w_k^2 MCSE_k^2)``; the weights are treated as known (their own sampling
uncertainty, visible in ``dse``, is not in the MCSE). CVaR, which is not linear in the
distribution, is not reported for the mixture.

With a dask ``client`` each variant is one task (:func:`fit_variant`, seeded by its
position only), so the numbers are those of the in-process loop.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from kursk_da.analysis import run_analysis
from kursk_da.dims import (
    CHAIN,
    DECISION_MODEL,
    DRAW,
    OBSERVATION,
    OPTION,
    PARAMETER,
    VALUE_UNITS,
    VARIANT,
)
from kursk_da.errors import SpecError
from kursk_da.spec._schema import Spec, apply_variant, as_spec
from kursk_da.validation import check_int, check_seed

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["VARIANT_STREAM", "STACKED", "VariantFit", "variant_seed", "fit_variant",
           "compare_variants", "variants_frame", "variants_decision_frame"]

VARIANT_STREAM = 21
"""Spawn key of the variants' seeds: variant ``i`` runs with the seed drawn from
``SeedSequence(seed, spawn_key=(VARIANT_STREAM, i))``."""

STACKED = "stacked"
"""Label of the stacked mixture in the ``decision_model`` coordinate."""

_METRICS = ("expected_value", "prob_best", "expected_regret")
_METRIC_INFO = {"expected_value": ("expected value", VALUE_UNITS),
                "prob_best": ("probability that the option is best", "1"),
                "expected_regret": ("expected regret", VALUE_UNITS)}
_NATS = "log density (nats)"


@dataclass(frozen=True)
class VariantFit:
    """What :func:`compare_variants` keeps of one variant's analysis.

    Attributes
    ----------
    name : str
    position : int
        Index of the variant in spec order (its seed stream).
    seed : int
        Root seed of the variant's analysis.
    log_likelihood : xarray.DataArray
        Pointwise log likelihood (nats) over (``chain``, ``draw``, ``observation``).
    reff : float
        Relative efficiency of the posterior (PSIS-LOO).
    decision : xarray.Dataset
        ``expected_value``, ``prob_best``, ``expected_regret`` and their ``*_mcse`` over
        ``option`` (dkm2; P(best) in 1), from ``/decision``.
    input_mean, input_sd : numpy.ndarray
        Posterior mean and sd of every input (``/decision/inputs``; input units), in the
        order of ``input_names``.
    input_names : tuple of str
    converged : bool
        The calibration passed its diagnostics gate.
    max_r_hat, min_ess_bulk, min_ess_tail : float
        Over the calibrated parameters.
    divergences : int
    seconds : float
        Wall time of the variant's analysis.
    """

    name: str
    position: int
    seed: int
    log_likelihood: xr.DataArray
    reff: float
    decision: xr.Dataset
    input_mean: np.ndarray
    input_sd: np.ndarray
    input_names: tuple[str, ...]
    converged: bool
    max_r_hat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    seconds: float


def variant_seed(seed: int, position: int) -> int:
    """Root seed of the analysis of the variant at ``position`` (see :data:`VARIANT_STREAM`).

    Returns
    -------
    int
        From 0 to ``2**63 - 1``.
    """
    ss = np.random.SeedSequence(int(seed), spawn_key=(VARIANT_STREAM, int(position)))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def fit_variant(spec: Spec, name: str, position: int, seed: int, draws: int, mcmc_draws: int,
                tune: int, chains: int, sampler: str, n_jobs: int | None) -> VariantFit:
    """Calibrate and propagate one variant (a pure function of its arguments: one dask task).

    Parameters
    ----------
    spec : Spec
        The spec with ``[variants]``.
    name : str
        The variant.
    position : int
        Its index in spec order (seed stream).
    seed : int
        The root seed of the comparison.
    draws : int
        Engine draws of the propagation (:func:`kursk_da.analysis.run_analysis`).
    mcmc_draws, tune, chains : int
        NUTS settings.
    sampler : {"nutpie", "pymc"}
    n_jobs : int or None
        Engine threads.

    Returns
    -------
    VariantFit
    """
    from kursk_da.calibration._variants import relative_efficiency  # imports PyMC

    t0 = time.perf_counter()
    vspec = apply_variant(spec, name)
    vseed = variant_seed(seed, position)
    an = run_analysis(vspec, draws, vseed, sampler=sampler, mcmc_draws=mcmc_draws, tune=tune,
                      chains=chains, n_jobs=n_jobs)
    cal = an.calibration
    if cal is None:  # pragma: no cover - apply_variant keeps the observations
        raise SpecError(f"variants.{name}", "the variant has no observations to calibrate on")
    ll = cal.idata["log_likelihood"]["y"].transpose(CHAIN, DRAW, OBSERVATION)
    ll = xr.DataArray(ll.to_numpy(), dims=(CHAIN, DRAW, OBSERVATION),
                      coords={CHAIN: ll[CHAIN].values, DRAW: ll[DRAW].values,
                              OBSERVATION: ll[OBSERVATION].values})
    dec = an.tree["decision"].to_dataset()
    keep = [m for base in _METRICS for m in (base, f"{base}_mcse")]
    decision = xr.Dataset({m: dec[m].reset_coords(drop=True) for m in keep})
    inputs = np.asarray(dec["inputs"].values, dtype=float)
    table = cal.diagnostics.table
    return VariantFit(
        name=name, position=position, seed=vseed, log_likelihood=ll,
        reff=relative_efficiency(cal.idata["posterior"]), decision=decision.load(),
        input_mean=inputs.mean(axis=0), input_sd=inputs.std(axis=0),
        input_names=tuple(str(p) for p in dec[PARAMETER].values),
        converged=bool(cal.converged), max_r_hat=float(table["r_hat"].max()),
        min_ess_bulk=float(table["ess_bulk"].min()),
        min_ess_tail=float(table["ess_tail"].min()),
        divergences=int(cal.diagnostics.divergences), seconds=time.perf_counter() - t0)


def compare_variants(
    spec: Spec | str | Path,
    *,
    draws: int = 4000,
    seed: int = 0,
    mcmc_draws: int = 1000,
    tune: int = 800,
    chains: int = 4,
    sampler: str = "nutpie",
    n_jobs: int | None = None,
    client: Client | None = None,
    progress: Callable[[str, int, int], object] | None = None,
) -> xr.Dataset:
    """Calibrate every variant of a spec, compare them by PSIS-LOO and stack them.

    Parameters
    ----------
    spec : Spec or path
        A spec with ``[variants]`` and observations.
    draws : int
        Engine draws of each variant's propagation (each posterior draw is run
        ``max(1, draws // (chains * mcmc_draws))`` times).
    seed : int
        Root seed; variant ``i`` uses :func:`variant_seed` ``(seed, i)``.
    mcmc_draws, tune, chains : int
        NUTS settings of every calibration (the same for all, so the LOO estimates are
        comparable).
    sampler : {"nutpie", "pymc"}
    n_jobs : int, optional
        Engine threads of each propagation (default all CPUs).
    client : distributed.Client, optional
        Run each variant as one dask task on this cluster (``kursk_da`` and PyMC
        importable on its workers); the numbers do not depend on it. Without it dask is
        not imported.
    progress : callable, optional
        Called with ``(variant, done, total)`` after each finished variant.

    Returns
    -------
    xarray.Dataset
        The ``/variants`` group (schema in ``docs/resultset.md``): the LOO table over
        ``variant``, the decision tables over (``decision_model``, ``option``), each
        variant's and the mixture's recommended option, the pointwise log likelihoods.

    Raises
    ------
    SpecError
        The spec has no ``[variants]`` or no observations, or an argument is invalid
        (named).
    """
    spec = as_spec(spec)
    if not spec.variants:
        raise SpecError("variants", "the spec has no [variants] (competing model structures "
                                    "to compare); add [variants.NAME] tables")
    if not spec.observations:
        raise SpecError("observations", "comparing variants needs a calibration: the spec "
                                        "has no observations")
    for name, val, lo in (("draws", draws, 1), ("mcmc_draws", mcmc_draws, 1),
                          ("tune", tune, 0), ("chains", chains, 1)):
        check_int(val, name, minimum=lo, error=SpecError)
    check_seed(seed, "seed", error=SpecError)
    if chains < 2:
        raise SpecError("chains", "expected at least 2 chains (PSIS-LOO's relative "
                                  f"efficiency needs them), got {chains}")
    names = list(spec.variants)
    tasks = [(name, i, seed, draws, mcmc_draws, tune, chains, sampler, n_jobs)
             for i, name in enumerate(names)]
    fits: list[VariantFit | None] = [None] * len(names)
    if client is None:
        for i, task in enumerate(tasks):
            fits[i] = fit_variant(spec, *task)
            if progress:
                progress(names[i], i + 1, len(names))
    else:
        from kursk_da.engine._dask import map_tasks  # imports dask only here

        for done, (i, res) in enumerate(map_tasks(client, fit_variant, tasks, shared=spec,
                                                  name="kursk-da-variant")):
            fits[i] = res
            if progress:
                progress(names[i], done + 1, len(names))
    done_fits = [f for f in fits if f is not None]
    return variants_dataset(spec, done_fits, settings={
        "seed": seed, "draws": draws, "mcmc_draws": mcmc_draws, "tune": tune,
        "chains": chains, "sampler": sampler})


def _version() -> str:
    try:
        return version("kursk_da")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


def _mixture(fits: Sequence[VariantFit], weights: np.ndarray) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for m in _METRICS:
        vals = np.stack([f.decision[m].to_numpy() for f in fits])
        se = np.stack([f.decision[f"{m}_mcse"].to_numpy() for f in fits])
        out[m] = weights @ vals
        out[f"{m}_mcse"] = np.sqrt((weights ** 2) @ (se ** 2))
    return out


def variants_dataset(spec: Spec, fits: Sequence[VariantFit],
                     settings: dict[str, Any]) -> xr.Dataset:
    """The ``/variants`` Dataset of the fits of a spec's variants (spec order).

    Parameters
    ----------
    spec : Spec
    fits : sequence of VariantFit
        One per variant of ``spec.variants``, in that order.
    settings : dict
        ``seed``, ``draws``, ``mcmc_draws``, ``tune``, ``chains``, ``sampler`` (stored as
        attributes).

    Returns
    -------
    xarray.Dataset
    """
    from kursk_da.calibration._variants import (  # imports PyMC
        LOO_COLUMNS,
        PARETO_K_THRESHOLD,
        loo_of,
        loo_table,
    )

    names = [f.name for f in fits]
    options = list(spec.option_names)
    loo = loo_table({f.name: f.log_likelihood for f in fits}, {f.name: f.reff for f in fits})
    weights = loo["weight"].to_numpy(dtype=float)
    models = [*names, STACKED]
    mix = _mixture(fits, weights)
    base = next(v.name for v in spec.variants.values() if v.is_base)
    dv = (VARIANT,)
    loo_info = {
        "rank": ("rank by elpd_loo (0 = best)", "1"),
        "elpd_loo": ("expected log pointwise predictive density, PSIS-LOO", _NATS),
        "se": ("standard error of elpd_loo", _NATS),
        "p_loo": ("effective number of parameters (PSIS-LOO)", "1"),
        "elpd_diff": ("elpd_loo of the best variant minus this one's", _NATS),
        "dse": ("standard error of elpd_diff (paired over the observations)", _NATS),
        "weight": ("stacking weight (az.compare, method='stacking'); sums to 1", "1"),
        "max_pareto_k": ("largest Pareto k of the PSIS-LOO terms", "1"),
        "n_k_above_0_7": (f"observations whose Pareto k exceeds {PARETO_K_THRESHOLD} "
                          "(their LOO term is unreliable)", "1"),
        "reff": ("relative efficiency of the posterior draws used by PSIS-LOO", "1"),
    }
    data: dict[str, Any] = {}
    for c in LOO_COLUMNS:
        long_name, units = loo_info[c]
        data[c] = (dv, loo[c].to_numpy(), {"long_name": long_name, "units": units})
    var = [spec.variants[n] for n in names]
    text = {
        "description": ([v.description for v in var], "what the variant assumes"),
        "source": ([v.source for v in var], "why an analyst would argue for it"),
        "overrides": ([", ".join(f"{k} = {o!r}" for k, o in v.overrides.items()) or
                       "(none: the spec as written)" for v in var],
                      "inputs the variant overrides"),
    }
    for key, (words, long_name) in text.items():
        data[key] = (dv, np.array([" ".join(str(s).split()) for s in words], dtype=object),
                     {"long_name": long_name, "units": "1"})
    per_fit = {
        "is_base": ([int(n == base) for n in names], "1 for the spec as written", "1"),
        "converged": ([int(f.converged) for f in fits],
                      "1 when the calibration passed its diagnostics gate", "1"),
        "max_r_hat": ([f.max_r_hat for f in fits], "largest R-hat of the calibrated "
                                                   "parameters", "1"),
        "min_ess_bulk": ([f.min_ess_bulk for f in fits], "smallest bulk ESS", "1"),
        "min_ess_tail": ([f.min_ess_tail for f in fits], "smallest tail ESS", "1"),
        "divergences": ([f.divergences for f in fits], "divergent transitions", "1"),
        "calibration_seed": ([f.seed for f in fits], "root seed of the variant's analysis "
                             "(SeedSequence(seed, spawn_key=(21, position)))", "1"),
        "seconds": ([f.seconds for f in fits], "wall time of the variant's analysis", "s"),
    }
    for key, (column, long_name, units) in per_fit.items():
        data[key] = (dv, np.asarray(column), {"long_name": long_name, "units": units})
    in_units = [spec.inputs[p].units if p in spec.inputs else "" for p in fits[0].input_names]
    data["input_posterior_mean"] = (
        (VARIANT, PARAMETER), np.stack([f.input_mean for f in fits]),
        {"long_name": "posterior mean of the input under the variant (engine input matrix)",
         "units": "per parameter (coordinate parameter_units)"})
    data["input_posterior_sd"] = (
        (VARIANT, PARAMETER), np.stack([f.input_sd for f in fits]),
        {"long_name": "posterior sd of the input under the variant",
         "units": "per parameter (coordinate parameter_units)"})
    ll = np.stack([f.log_likelihood.to_numpy() for f in fits])
    data["log_likelihood"] = (
        (VARIANT, CHAIN, DRAW, OBSERVATION), ll,
        {"long_name": "pointwise log likelihood of each used observation at each posterior "
                      "draw of the variant (az.loo with reff)", "units": _NATS})
    data["pareto_k"] = (
        (VARIANT, OBSERVATION),
        np.stack([np.asarray(loo_of(f.log_likelihood, f.reff).pareto_k, dtype=float)
                  for f in fits]),
        {"long_name": "Pareto k of each observation's PSIS-LOO term under the variant; above "
                      f"{PARETO_K_THRESHOLD} the term is unreliable", "units": "1"})
    dm = (DECISION_MODEL, OPTION)
    for m in _METRICS:
        long_name, units = _METRIC_INFO[m]
        vals = np.vstack([np.stack([f.decision[m].to_numpy() for f in fits]), mix[m][None]])
        se = np.vstack([np.stack([f.decision[f"{m}_mcse"].to_numpy() for f in fits]),
                        mix[f"{m}_mcse"][None]])
        data[m] = (dm, vals, {"long_name": f"{long_name} under the model", "units": units})
        data[f"{m}_mcse"] = (dm, se, {"long_name": f"Monte Carlo standard error of {m}",
                                      "units": units})
    ev = data["expected_value"][1]
    best = [options[int(np.argmax(row))] for row in ev]
    base_best = best[names.index(base)]
    data["recommended_option"] = ((DECISION_MODEL,), np.array(best, dtype=object),
                                  {"long_name": "option of highest expected value under the "
                                                "model", "units": "1"})
    data["differs_from_base"] = ((DECISION_MODEL,),
                                 np.array([int(b != base_best) for b in best], dtype=np.int8),
                                 {"long_name": "1 when the recommended option differs from "
                                               f"the base variant's ({base})", "units": "1"})
    chain = fits[0].log_likelihood[CHAIN].values
    draw = fits[0].log_likelihood[DRAW].values
    obs = fits[0].log_likelihood[OBSERVATION].values
    stacked_best = best[-1]
    changes = any(b != base_best for b in best)
    attrs: dict[str, Any] = {
        "description": "competing model structures of the spec ([variants]): each "
                       "calibrated on the same observations, compared by PSIS-LOO, "
                       "combined by stacking weights (kursk_da/sensitivity/_variants.py)",
        "base_variant": base,
        "ic": "loo", "method": "stacking", "scale": "log",
        "mixture_method": "exact: each metric of the stacked mixture is the "
                          "stacking-weighted sum of the variants' metrics (the value, the "
                          "best indicator and the regret are per-draw quantities of the "
                          "mixture); MCSE sqrt(sum w^2 MCSE^2) over independent runs, "
                          "weights treated as known",
        "base_recommendation": base_best,
        "stacked_recommendation": stacked_best,
        "recommendation_changes": "yes" if changes else "no",
        "stacked_recommendation_changes": "yes" if stacked_best != base_best else "no",
        "spec_sha256": spec.sha256,
        "kursk_da_version": _version(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "variant_stream": VARIANT_STREAM,
        "units": VALUE_UNITS,
    }
    attrs.update({k: (str(v) if isinstance(v, str) else int(v)) for k, v in settings.items()})
    return xr.Dataset(
        data,
        coords={VARIANT: names, DECISION_MODEL: models, OPTION: options,
                PARAMETER: list(fits[0].input_names), CHAIN: chain, DRAW: draw,
                OBSERVATION: obs,
                "parameter_units": ((PARAMETER,), np.array(in_units, dtype=object),
                                    {"units": "1"})},
        attrs=attrs)


def variants_frame(ds: xr.Dataset) -> pd.DataFrame:
    """The LOO table of a ``/variants`` Dataset, best variant first.

    Returns
    -------
    pandas.DataFrame
        Index ``variant``; columns ``elpd_loo``, ``se``, ``p_loo``, ``elpd_diff``,
        ``dse`` (nats), ``weight``, ``max_pareto_k``, ``n_k_above_0_7``, ``converged``.
    """
    cols = ["elpd_loo", "se", "p_loo", "elpd_diff", "dse", "weight", "max_pareto_k",
            "n_k_above_0_7", "converged"]
    frame = pd.DataFrame({c: ds[c].values for c in cols},
                         index=pd.Index([str(v) for v in ds[VARIANT].values], name=VARIANT))
    order = np.argsort(ds["rank"].values, kind="stable")
    return frame.iloc[order]


def variants_decision_frame(ds: xr.Dataset) -> pd.DataFrame:
    """The decision tables of a ``/variants`` Dataset in long form.

    Returns
    -------
    pandas.DataFrame
        Index (``decision_model``, ``option``); columns ``expected_value``,
        ``expected_value_mcse``, ``prob_best``, ``prob_best_mcse``, ``expected_regret``,
        ``expected_regret_mcse`` (dkm2; P(best) in 1).
    """
    cols = [m for base in _METRICS for m in (base, f"{base}_mcse")]
    frame = ds[cols].to_dataframe()[cols]
    return frame
