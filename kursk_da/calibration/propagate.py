"""Posterior propagation: posterior draws through every option of the engine.

The input matrix of the posterior analysis has one row per posterior draw (chain x
draw flattened, chain-major), repeated ``per_draw`` times when several stochastic
trajectories per draw are wanted:

* the MCMC-sampled campaign parameters take their posterior values;
* every other input (value weights, option levers, parameters the observations
  cannot inform) is drawn from its prior *conditional on the sampled ones* through
  the spec's Gaussian copula: with normal scores ``z_S`` of the sampled inputs,
  ``z_O | z_S ~ N(R_OS R_SS^-1 z_S, R_OO - R_OS R_SS^-1 R_SO)``, then
  ``x_O = F_O^-1(Phi(z_O))`` (:func:`kursk_da.spec.copula.sample_conditional`). Without
  correlations this is an independent prior draw.

:func:`analyze_posterior` runs the calibration, the diagnostics, this propagation
through :func:`kursk_da.engine.run.run_engine` and the decision summary, and
assembles the result set (schema in :mod:`kursk_da.io.resultset`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from kursk_da.dims import CHAIN, DRAW, PARAMETER
from kursk_da.spec.copula import sample_conditional

if TYPE_CHECKING:
    from kursk_da.calibration.diagnostics import Diagnostics
    from kursk_da.calibration.sampling import CompiledCalibration
    from kursk_da.spec.schema import Spec

__all__ = ["posterior_input_matrix", "PosteriorAnalysis", "analyze_posterior"]


def posterior_input_matrix(
    spec: Spec,
    posterior: xr.Dataset | np.ndarray,
    sampled: Sequence[str],
    *,
    seed: int,
    per_draw: int = 1,
) -> np.ndarray:
    """Input matrix of the posterior analysis (see the module docstring).

    Parameters
    ----------
    spec : Spec
    posterior : xarray.Dataset with ``theta`` (chain, draw, parameter), or array (n, k)
        Posterior draws of the sampled inputs.
    sampled : sequence of str
        Names of the sampled inputs (columns of ``theta``).
    seed : int
        Root seed; the conditional prior draws use ``SeedSequence(seed, spawn_key=(13,))``.
    per_draw : int
        Rows per posterior draw.

    Returns
    -------
    numpy.ndarray (n * per_draw, len(spec.input_names))
    """
    from kursk_da.calibration.sampling import stream

    if isinstance(posterior, xr.Dataset):
        th = posterior["theta"].transpose(CHAIN, DRAW, PARAMETER).to_numpy()
        xs = th.reshape(-1, th.shape[-1])
    else:
        xs = np.asarray(posterior, dtype=float)
    xs = np.repeat(xs, per_draw, axis=0)
    n = xs.shape[0]
    names = list(spec.input_names)
    s_idx = [names.index(s) for s in sampled]
    fixed = [j for j, nm in enumerate(names) if spec.inputs[nm].dist.is_fixed]
    o_idx = [j for j in range(len(names)) if j not in s_idx and j not in fixed]
    out = np.empty((n, len(names)))
    out[:, s_idx] = xs
    for j in fixed:
        out[:, j] = spec.inputs[names[j]].dist.params["value"]
    if not o_idx:
        return out
    rng = np.random.default_rng(stream(seed, 13))
    out[:, o_idx] = sample_conditional(spec, sampled, xs, [names[j] for j in o_idx], rng)
    return out


@dataclass
class PosteriorAnalysis:
    """Result of :func:`analyze_posterior`.

    Attributes
    ----------
    tree : xarray.DataTree
        The result set (``analysis = "posterior"``).
    idata : arviz.InferenceData
        The calibration.
    diagnostics : Diagnostics
    ppc : pandas.DataFrame
        Posterior predictive check per observation.
    sensitivity : pandas.DataFrame
        Prior-sensitivity check of the option ranking.
    forecast : pandas.DataFrame or None
        Coverage and CRPS of the withheld observations (with a cutoff).
    """

    tree: xr.DataTree
    idata: az.InferenceData
    diagnostics: Diagnostics
    ppc: pd.DataFrame
    sensitivity: pd.DataFrame
    forecast: pd.DataFrame | None

    @property
    def converged(self) -> bool:
        """True when the diagnostics gate passed."""
        return self.diagnostics.passed


def analyze_posterior(
    spec: Spec,
    seed: int,
    *,
    draws: int | None = None,
    mcmc_draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    sampler: str = "nutpie",
    cutoff: dt.date | None = None,
    chunk_size: int | None = None,
    n_jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    compiled: CompiledCalibration | None = None,
) -> PosteriorAnalysis:
    """Calibrate, diagnose, propagate the posterior through every option, summarise.

    Parameters
    ----------
    spec : Spec
        A spec with observations.
    seed : int
        Root seed of the calibration and the engine.
    draws : int, optional
        Engine draws wanted; each posterior draw is run ``max(1, draws // n_post)``
        times with fresh front shocks and conditional prior draws of the other inputs
        (default: once).
    mcmc_draws, tune, chains, sampler, cutoff :
        Passed to :func:`kursk_da.calibration.calibrate`.
    chunk_size, n_jobs, progress :
        Passed to :func:`kursk_da.engine.run.run_engine`.
    compiled : CompiledCalibration, optional
        Reuse a compiled model.

    Returns
    -------
    PosteriorAnalysis
    """
    from kursk_da.calibration.checks import (
        contraction,
        forecast_table,
        ppc_table,
        prior_sensitivity,
        ranking_verdict,
    )
    from kursk_da.calibration.diagnostics import diagnose
    from kursk_da.calibration.sampling import calibrate
    from kursk_da.decision.summary import decision_summary
    from kursk_da.engine.run import DEFAULT_CHUNK_SIZE, run_engine
    from kursk_da.io.resultset import build_result_set

    idata = calibrate(spec, seed=seed, draws=mcmc_draws, tune=tune, chains=chains,
                      sampler=sampler, cutoff=cutoff, compiled=compiled)
    diag = diagnose(idata)
    sampled = [str(p) for p in idata.posterior[PARAMETER].values]
    n_post = idata.posterior.sizes[CHAIN] * idata.posterior.sizes[DRAW]
    per_draw = max(1, (draws or n_post) // n_post)
    theta = posterior_input_matrix(spec, idata.posterior, sampled, seed=seed, per_draw=per_draw)
    out = run_engine(spec, theta.shape[0], seed, inputs=theta,
                     chunk_size=chunk_size or DEFAULT_CHUNK_SIZE, n_jobs=n_jobs,
                     progress=progress)
    summary = decision_summary(out.values, spec.option_names, spec.cvar_alpha)
    ppc = ppc_table(idata)
    sens = prior_sensitivity(spec, idata, out.values, per_draw=per_draw)
    fc = forecast_table(idata) if "y_withheld" in idata.observed_data else None

    dgroup = diag.to_dataset()
    dgroup["contraction"] = xr.DataArray(contraction(idata, spec).to_numpy(), dims=(PARAMETER,),
                                         attrs={"long_name": "1 - var_post / var_prior on the "
                                                "unconstrained (log/logit) scale"})
    for col in ("observed", "predictive_mean", "lower_90", "upper_90", "covered"):
        vals = ppc[col].to_numpy()
        dgroup[f"ppc_{col}"] = xr.DataArray(vals.astype(np.int8) if col == "covered" else vals,
                                            dims=("observation",),
                                            coords={"observation": list(ppc.index)})
    dgroup.attrs["prior_sensitivity"] = sens.to_json(orient="records")
    dgroup.attrs["ranking_depends_on_prior"] = ranking_verdict(sens)
    if fc is not None:
        dgroup.attrs["forecast"] = fc.to_json(orient="index")
        dgroup.attrs["forecast_coverage_90"] = float(fc["covered"].mean())
        dgroup.attrs["forecast_mean_crps"] = float(fc["crps"].mean())

    groups = {
        "prior": idata.prior,
        "posterior": idata.posterior,
        "posterior_predictive": idata.posterior_predictive,
        "observed_data": idata.observed_data,
        "constant_data": idata.constant_data,
        "sample_stats": idata.sample_stats,
        "diagnostics": dgroup,
    }
    attrs = {
        "converged": "yes" if diag.passed else "no",
        "calibration_sampler": idata.attrs["sampler"],
        "calibration_draws": int(idata.attrs["draws"]),
        "calibration_tune": int(idata.attrs["tune"]),
        "calibration_chains": int(idata.attrs["chains"]),
        "calibration_compile_seconds": float(idata.attrs["compile_seconds"]),
        "calibration_sampling_seconds": float(idata.attrs["sampling_seconds"]),
        "calibration_cutoff": idata.attrs["cutoff"],
        "draws_per_posterior_draw": int(per_draw),
    }
    tree = build_result_set(spec, out, summary, analysis="posterior", groups=groups,
                            attrs=attrs)
    inputs = xr.DataArray(theta, dims=(DRAW, PARAMETER),
                          coords={DRAW: tree["decision"][DRAW].values,
                                  PARAMETER: list(spec.input_names)},
                          attrs={"description": "engine input matrix: posterior draws of the "
                                                "calibrated parameters, conditional prior "
                                                "draws of the other inputs"})
    tree["decision"] = tree["decision"].to_dataset().assign(inputs=inputs)
    return PosteriorAnalysis(tree, idata, diag, ppc, sens, fc)
