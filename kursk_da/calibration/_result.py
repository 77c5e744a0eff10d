"""The result of a calibration: a plain object, no result set.

:func:`run_calibration` samples the calibration model of a spec
(:func:`kursk_da.calibration.calibrate`), runs the diagnostics gate
(:func:`kursk_da.calibration.diagnose`) and the checks of fit that need only the
posterior (posterior predictive check, contraction, forecast scores of withheld
observations), and returns a :class:`Calibration`. The check of the option ranking
under power-scaled priors needs the engine's values of the propagated posterior;
the orchestrator (:func:`kursk_da.analysis.analyze`) adds it with
:meth:`Calibration.with_ranking_check`. :mod:`kursk_da.io` turns a ``Calibration``
into the ArviZ groups and ``/diagnostics`` of a result set.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import arviz as az
import numpy as np
import pandas as pd

from kursk_da.calibration._checks import (
    contraction,
    forecast_table,
    loo_pointwise,
    ppc_table,
    prior_sensitivity,
    psens_table,
    ranking_verdict,
)
from kursk_da.calibration._diagnostics import Diagnostics, diagnose
from kursk_da.calibration._sampling import (
    DEFAULT_DRAWS,
    DEFAULT_TUNE,
    CompiledCalibration,
    calibrate,
    from_posterior,
)
from kursk_da.dims import CHAIN, DRAW, PARAMETER
from kursk_da.errors import SpecError
from kursk_da.spec._schema import as_spec
from kursk_da.validation import check_keywords

if TYPE_CHECKING:
    from kursk_da.spec._schema import Spec

__all__ = ["Calibration", "run_calibration", "calibration_from_posterior"]


@dataclass(frozen=True)
class Calibration:
    """Posterior draws, sampler statistics, diagnostics and checks of one calibration.

    Attributes
    ----------
    idata : arviz.InferenceData
        The ArviZ groups (``posterior``, ``sample_stats``, ``prior``,
        ``posterior_predictive``, ``observed_data``, ``constant_data``); see
        :func:`kursk_da.calibration.calibrate`.
    diagnostics : Diagnostics
        R-hat, ESS, MCSE, divergences, tree depth, E-BFMI and the pass/fail gate.
    ppc : pandas.DataFrame
        Posterior predictive check per observation (observed value against its 90%
        predictive interval).
    contraction : pandas.Series
        ``1 - var_post / var_prior`` per sampled parameter (unconstrained scale).
    forecast : pandas.DataFrame or None
        Coverage and CRPS of the observations withheld by a cutoff.
    sensitivity : pandas.DataFrame or None
        The option ranking under power-scaled priors (None until
        :meth:`with_ranking_check`).
    psens : pandas.DataFrame or None
        ``az.psens`` of each sampled parameter under power-scaling of the prior and of
        the likelihood (:func:`kursk_da.calibration._checks.psens_table`; None until
        :meth:`with_ranking_check`).
    per_draw : int
        Engine draws per posterior draw in the propagation (1 until set).
    loo : pandas.DataFrame or None
        PSIS-LOO per used observation: ``pareto_k`` and ``elpd_loo``
        (:func:`kursk_da.calibration._checks.loo_pointwise`).
    """

    idata: az.InferenceData
    diagnostics: Diagnostics
    ppc: pd.DataFrame
    contraction: pd.Series
    forecast: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    per_draw: int = 1
    psens: pd.DataFrame | None = None
    loo: pd.DataFrame | None = None

    @property
    def high_pareto_k(self) -> list[str]:
        """Observations whose PSIS-LOO Pareto k exceeds 0.7 (largest first)."""
        from kursk_da.calibration._variants import PARETO_K_THRESHOLD

        if self.loo is None:
            return []
        k = self.loo["pareto_k"]
        return [str(n) for n in k[k > PARETO_K_THRESHOLD].sort_values(ascending=False).index]

    @property
    def converged(self) -> bool:
        """True when the diagnostics gate passed."""
        return self.diagnostics.passed

    @property
    def sampled(self) -> list[str]:
        """Names of the sampled (calibrated) inputs, in the order of ``theta``."""
        return [str(p) for p in self.idata["posterior"][PARAMETER].values]

    @property
    def n_posterior(self) -> int:
        """Posterior draws (chains x draws per chain)."""
        post = self.idata["posterior"]
        return int(post.sizes[CHAIN] * post.sizes[DRAW])

    @property
    def ranking_depends_on_prior(self) -> str:
        """``"yes"``, ``"no"`` or ``"inconclusive"`` (``""`` before the ranking check)."""
        return "" if self.sensitivity is None else ranking_verdict(self.sensitivity)

    @property
    def attrs(self) -> dict[str, Any]:
        """Sampler settings and timings (``sampler``, ``seed``, ``draws``, ``tune``,
        ``chains``, ``compile_seconds``, ``sampling_seconds`` (s), ``cutoff``, ...)."""
        return dict(self.idata.attrs)

    def with_ranking_check(self, spec: Spec, values: np.ndarray, per_draw: int
                           ) -> Calibration:
        """This calibration with the prior-sensitivity check of the option ranking.

        Parameters
        ----------
        spec : Spec
        values : array (n_posterior * per_draw, n_options)
            Engine values (dkm2) of the propagated posterior, rows grouped by
            posterior draw (chain-major), ``per_draw`` rows each.
        per_draw : int
            Engine draws per posterior draw.

        Returns
        -------
        Calibration
        """
        sens = prior_sensitivity(spec, self.idata, values, per_draw=per_draw)
        return dataclasses.replace(self, sensitivity=sens, per_draw=int(per_draw),
                                   psens=psens_table(self.idata))


def run_calibration(
    spec: Spec | str | Path,
    *,
    seed: int,
    draws: int = DEFAULT_DRAWS,
    tune: int = DEFAULT_TUNE,
    chains: int = 4,
    sampler: str = "nutpie",
    cutoff: dt.date | None = None,
    compiled: CompiledCalibration | None = None,
    **options: Any,
) -> Calibration:
    """Calibrate ``spec`` on its observations and check the fit.

    Parameters
    ----------
    spec : Spec or path
        A spec with ``[[observations]]``.
    seed : int
        Root seed (streams in :mod:`kursk_da.calibration._streams`).
    draws, tune, chains : int
        Posterior draws per chain, tuning steps per chain, chains.
    sampler : {"nutpie", "pymc"}
    cutoff : datetime.date, optional
        Calibrate on observations up to ``cutoff``; the later ones are forecast and
        scored (``Calibration.forecast``).
    compiled : CompiledCalibration, optional
        Reuse a compiled model.
    **options
        Further keywords of :func:`kursk_da.calibration.calibrate` (``cores``,
        ``target_accept``, ``sampler_options``, ``progress_bar``).

    Returns
    -------
    Calibration
    """
    check_keywords(options, ("cores", "target_accept", "sampler_options", "progress_bar"),
                   "run_calibration",
                   error=SpecError)
    spec = as_spec(spec)
    idata = calibrate(spec, seed=seed, draws=draws, tune=tune, chains=chains,
                      sampler=sampler, cutoff=cutoff, compiled=compiled, **options)
    return _checked(spec, idata)


def calibration_from_posterior(spec: Spec | str | Path, posterior: Any, *, seed: int,
                               cutoff: dt.date | None = None) -> Calibration:
    """A :class:`Calibration` of posterior draws obtained elsewhere (no sampling).

    :func:`kursk_da.calibration.from_posterior` (the groups of :func:`calibrate`) and
    the checks of :func:`run_calibration` (diagnostics gate, posterior predictive
    check, contraction, forecast scores with a cutoff).

    Parameters
    ----------
    spec : Spec or path
    posterior : arviz.InferenceData, xarray.Dataset or xarray.DataTree
        See :func:`kursk_da.calibration.from_posterior`.
    seed : int
    cutoff : datetime.date, optional

    Returns
    -------
    Calibration

    Raises
    ------
    SpecError
        ``posterior`` without the parameters the spec's calibration samples (named).
    """
    spec = as_spec(spec)
    return _checked(spec, from_posterior(spec, posterior, seed=seed, cutoff=cutoff))


def _checked(spec: Spec, idata: az.InferenceData) -> Calibration:
    """The :class:`Calibration` of an InferenceData of :func:`calibrate`."""
    forecast = forecast_table(idata) if "y_withheld" in idata["observed_data"] else None
    return Calibration(idata=idata, diagnostics=diagnose(idata), ppc=ppc_table(idata),
                       contraction=contraction(idata, spec), forecast=forecast,
                       loo=loo_pointwise(idata))
