"""One-call analysis: spec -> (calibration) -> engine -> decision summary -> result set.

:func:`analyze` is the prior Monte Carlo analysis. :func:`analyze_spec` chooses: the
posterior analysis of :mod:`kursk_da.calibration` when the spec has observations
(unless ``prior_only``), else the prior analysis. PyMC is imported only when needed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from kursk_da.decision.summary import decision_summary
from kursk_da.engine.run import DEFAULT_CHUNK_SIZE, run_engine
from kursk_da.errors import SpecError
from kursk_da.io.resultset import build_result_set
from kursk_da.spec.schema import Spec, load_spec
from kursk_da.validation import check_int

if TYPE_CHECKING:
    from kursk_da.calibration.propagate import PosteriorAnalysis

__all__ = ["analyze", "analyze_spec"]


def _check_count(value: int, name: str, lo: int) -> int:
    return check_int(value, name, minimum=lo, error=SpecError)


def analyze(
    spec: Spec | str | Path,
    draws: int = 20_000,
    seed: int = 0,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    n_jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> xr.DataTree:
    """Run the prior Monte Carlo decision analysis of a spec.

    Parameters
    ----------
    spec : Spec or path
        A spec object or a TOML file.
    draws : int
        Monte Carlo draws (each evaluated under every option).
    seed : int
        Root seed; the same seed gives identical results.
    chunk_size : int
        Draws per independent chunk (part of the reproducibility contract).
    n_jobs : int, optional
        Threads; default all CPUs. Does not change the results.
    progress : callable, optional
        Called with the number of draws of each finished chunk.

    Returns
    -------
    xarray.DataTree
        The result set (schema in :mod:`kursk_da.io.resultset`).

    Examples
    --------
    >>> import kursk_da as kd
    >>> spec = kd.load_spec("models/kursk_2025.toml")
    >>> tree = kd.analyze(spec, draws=2000, seed=1)           # doctest: +SKIP
    >>> tree["decision"]["expected_value"].to_series()       # doctest: +SKIP
    """
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    _check_count(draws, "draws", 1)
    _check_count(seed, "seed", 0)
    _check_count(chunk_size, "chunk_size", 1)
    out = run_engine(spec, draws, seed, chunk_size=chunk_size, n_jobs=n_jobs, progress=progress)
    summary = decision_summary(out.values, spec.option_names, spec.cvar_alpha)
    return build_result_set(spec, out, summary, analysis="prior")


def analyze_spec(
    spec: Spec | str | Path,
    draws: int = 20_000,
    seed: int = 0,
    *,
    prior_only: bool = False,
    cutoff: dt.date | None = None,
    sampler: str = "nutpie",
    mcmc_draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    n_jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    **calibration: Any,
) -> tuple[xr.DataTree, PosteriorAnalysis | None]:
    """Posterior analysis when the spec has observations, else the prior analysis.

    Parameters
    ----------
    spec : Spec or path
    draws : int
        Engine draws (prior analysis), or the target number of engine draws of the
        posterior analysis (each posterior draw is run ``max(1, draws // n_post)``
        times).
    seed : int
        Root seed.
    prior_only : bool
        Skip the calibration even if the spec has observations.
    cutoff : datetime.date, optional
        Calibrate on observations up to ``cutoff``; the rest are forecast and scored.
    sampler, mcmc_draws, tune, chains :
        NUTS settings (:func:`kursk_da.calibration.calibrate`).
    chunk_size, n_jobs, progress :
        Engine settings.
    **calibration :
        Further keywords of :func:`kursk_da.calibration.analyze_posterior`.

    Returns
    -------
    tree : xarray.DataTree
        The result set (root attribute ``analysis`` says which).
    posterior : PosteriorAnalysis or None
        Calibration, diagnostics and checks (None for the prior analysis).

    Raises
    ------
    SpecError
        ``cutoff`` given together with ``prior_only`` or for a spec without
        observations; any invalid input.
    """
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    _check_count(draws, "draws", 1)
    _check_count(seed, "seed", 0)
    if cutoff is not None and (prior_only or not spec.observations):
        raise SpecError("cutoff", "a cutoff needs a calibration: the spec has no observations"
                        if not spec.observations else "a cutoff cannot be combined with "
                        "the prior-only analysis")
    if prior_only or not spec.observations:
        return analyze(spec, draws, seed, chunk_size=chunk_size, n_jobs=n_jobs,
                       progress=progress), None
    from kursk_da.calibration.propagate import analyze_posterior

    post = analyze_posterior(spec, seed, draws=draws, mcmc_draws=mcmc_draws, tune=tune,
                             chains=chains, sampler=sampler, cutoff=cutoff,
                             chunk_size=chunk_size, n_jobs=n_jobs, progress=progress,
                             **calibration)
    return post.tree, post
