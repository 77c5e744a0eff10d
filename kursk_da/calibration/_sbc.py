"""Simulation-based calibration (Talts et al. 2018) of the calibration model.

For ``s = 1 .. S``: draw ``theta_s`` from the prior (the spec's marginals and copula,
which are the PyMC model's prior), simulate observations ``y_s`` from the likelihood
at ``theta_s`` (the exact generative model of :mod:`kursk_da.calibration._likelihood`;
for claims, the observation-model parameters from their priors, the claims from
:func:`kursk_da.calibration._bias.claim_predictive` and each bound row's censoring event
from the simulated claim, :func:`kursk_da.calibration._bias.simulated_censoring`; the
observation-model parameters are ranked too),
fit the model to ``y_s`` with the same compiled sampler (only the data container
changes), thin the posterior draws to ``L`` and record, for every sampled parameter,
the rank of ``theta_s`` among them (``0 .. L``). If the sampler and the model are
correct, every parameter's ranks are uniform on ``{0, .., L}``.

The uniformity test is a chi-square test on a histogram of the ranks in ``bins``
equal bins (``L + 1`` must be divisible by ``bins``); with ``S`` simulations the
expected count per bin is ``S / bins``. A parameter fails at level ``alpha`` after a
Bonferroni correction over the parameters.

With a dask ``client`` every fit is one task (:func:`sbc_fit`, seeded by its position
``s`` only); each worker process compiles the model once and reuses it, so the ranks do
not depend on the number of workers and equal those of the in-process loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from kursk_da.calibration._bias import claim_predictive, obs_model_prior_draws, simulated_censoring
from kursk_da.calibration._likelihood import predictive_draws
from kursk_da.calibration._sampling import calibrate, compile_calibration
from kursk_da.calibration._skeleton import skeleton_numpy
from kursk_da.dims import CHAIN, DRAW, OBS_PARAMETER, PARAMETER
from kursk_da.spec._sampling import sample_inputs

if TYPE_CHECKING:
    from distributed import Client

    from kursk_da.calibration._sampling import CompiledCalibration
    from kursk_da.spec._schema import Spec

__all__ = ["SBCResult", "run_sbc", "rank_uniformity", "sbc_fit"]

_COMPILED: dict[str, Any] = {}  # per process: the compiled model of each spec (dask workers)


def _compiled_for(spec: Spec) -> CompiledCalibration:
    cc = _COMPILED.get(spec.sha256)
    if cc is None:
        cc = _COMPILED[spec.sha256] = compile_calibration(spec)
    return cc


def sbc_fit(spec: Spec, s: int, seed: int, draws: int, tune: int, chains: int,
            thin_to: int, maxdepth: int, compiled: CompiledCalibration | None = None
            ) -> tuple[np.ndarray, int, float]:
    """Simulation ``s`` of :func:`run_sbc`: (ranks of the sampled parameters, divergent
    transitions, fraction at the maximum tree depth). A pure function of its arguments
    (the model is compiled once per process when ``compiled`` is None)."""
    cc = _compiled_for(spec) if compiled is None else compiled
    setup = cc.setup
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(20, s)))
    theta = sample_inputs(spec, 1, rng)
    mu = skeleton_numpy(theta, setup.omap)[0]
    cm = setup.claims
    if cm is None:
        y = predictive_draws(mu, setup.scale, setup.is_log, setup.offset, rng)
        fit = cc.with_values(y)
        truth = theta[0, setup.cols]
    else:
        # claims: the claimant biases, grey-zone factor and layer start from their
        # priors, the claims from the claim model, each bound row's event from the claim
        d = obs_model_prior_draws(cm, 1, rng)
        y = claim_predictive(mu, d["log_bias"][0, cm.combo_index], d["log_g"][0],
                             d["start"][0], setup.scale, setup.offset, cm, rng)
        fit = cc.with_values(y, **dict(zip(("censoring", "low", "high"),
                                           simulated_censoring(y, cm), strict=True)))
        truth = np.concatenate([theta[0, setup.cols], d["obs_theta"][0]])
    idata = calibrate(spec, seed=seed * 100003 + s, draws=draws, tune=tune, chains=chains,
                      compiled=fit, sampler_options={"maxdepth": maxdepth})
    post = idata["posterior"]
    th = post["theta"].transpose(CHAIN, DRAW, PARAMETER).to_numpy()
    if cm is not None:
        th = np.concatenate([th, post["obs_theta"].transpose(CHAIN, DRAW, OBS_PARAMETER)
                             .to_numpy()], axis=-1)
    # interleave chains so that thinning takes draws from every chain
    flat = th.transpose(1, 0, 2).reshape(-1, th.shape[-1])
    keep = np.linspace(0, flat.shape[0] - 1, thin_to).round().astype(int)
    ranks: np.ndarray = (flat[keep] < truth).sum(axis=0)
    return (ranks, int(idata["sample_stats"]["diverging"].sum()),
            float(idata["sample_stats"]["reached_max_treedepth"].mean()))


@dataclass(frozen=True)
class SBCResult:
    """Ranks and uniformity tests of a simulation-based calibration run.

    Attributes
    ----------
    ranks : pandas.DataFrame
        One row per simulation, one column per sampled parameter, values in ``0..L``.
    table : pandas.DataFrame
        Per parameter: ``chi2``, ``dof``, ``p_value``, ``uniform`` (not rejected).
    divergences : numpy.ndarray
        Divergent transitions of each fit.
    saturation : numpy.ndarray
        Fraction of each fit's draws at the maximum tree depth.
    seconds : float
        Wall time.
    thin_to : int
        ``L``.
    """

    ranks: pd.DataFrame
    table: pd.DataFrame
    divergences: np.ndarray
    saturation: np.ndarray
    seconds: float
    thin_to: int

    @property
    def passed(self) -> bool:
        """True when no parameter's ranks reject uniformity."""
        return bool(self.table["uniform"].all())


def rank_uniformity(ranks: pd.DataFrame, thin_to: int, bins: int = 10,
                    alpha: float = 0.01) -> pd.DataFrame:
    """Chi-square test of uniform ranks per parameter (Bonferroni over parameters).

    Parameters
    ----------
    ranks : pandas.DataFrame
        Ranks in ``0..thin_to``, one column per parameter.
    thin_to : int
        ``L``; ``L + 1`` must be a multiple of ``bins``.
    bins : int
        Histogram bins.
    alpha : float
        Family-wise level.

    Returns
    -------
    pandas.DataFrame
    """
    if (thin_to + 1) % bins:
        raise ValueError(f"thin_to + 1 = {thin_to + 1} is not a multiple of bins = {bins}")
    width = (thin_to + 1) // bins
    rows = {}
    for name in ranks.columns:
        counts = np.bincount(ranks[name].to_numpy() // width, minlength=bins)
        chi2, p = stats.chisquare(counts)
        rows[name] = {"chi2": float(chi2), "dof": bins - 1, "p_value": float(p),
                      "uniform": bool(p >= alpha / len(ranks.columns)),
                      "counts": " ".join(str(int(c)) for c in counts)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(PARAMETER)


def run_sbc(
    spec: Spec,
    n_sims: int,
    seed: int,
    *,
    draws: int = 250,
    tune: int = 250,
    chains: int = 2,
    thin_to: int = 99,
    bins: int = 10,
    alpha: float = 0.01,
    maxdepth: int = 8,
    progress: Callable[[int, float], None] | None = None,
    client: Client | None = None,
) -> SBCResult:
    """Run a simulation-based calibration of ``spec``'s calibration model.

    Parameters
    ----------
    spec : Spec
        A spec with observations (their dates, quantities and scales are used; the
        values are replaced by simulated ones).
    n_sims : int
        Simulations ``S``.
    seed : int
        Root seed; simulation ``s`` uses ``SeedSequence(seed, spawn_key=(20, s))`` for
        its truth and data and ``seed * 100003 + s`` as the sampler seed.
    draws, tune, chains : int
        NUTS settings of each fit (``draws * chains >= thin_to``).
    thin_to : int
        Posterior draws kept (evenly spaced) for the rank, ``L``.
    bins, alpha :
        Of :func:`rank_uniformity`.
    maxdepth : int
        Maximum NUTS tree depth of each fit (nutpie; default 10 in production). Data
        simulated from the prior include campaigns where the Ukrainian force is
        annihilated early, whose posteriors are much harder than the real one; the cap
        bounds the cost of such fits (saturation is reported, and a bias it caused
        would show in the ranks).
    progress : callable, optional
        Called with ``(s, seconds)`` after each fit (with a client: ``s`` counts the
        finished fits).
    client : distributed.Client, optional
        Run each fit as a dask task on this cluster (``kursk_da`` and PyMC importable on
        its workers); the results do not depend on it.

    Returns
    -------
    SBCResult
    """
    if draws * chains < thin_to:
        raise ValueError("draws * chains must be at least thin_to")
    t0 = time.perf_counter()
    cc = compile_calibration(spec)
    setup = cc.setup
    names = list(setup.sampled)
    if setup.claims is not None:  # the observation-model parameters are ranked too
        names += list(setup.claims.names)
    ranks = np.empty((n_sims, len(names)), dtype=np.int64)
    divergences = np.zeros(n_sims, dtype=np.int64)
    saturation = np.zeros(n_sims)
    settings = (seed, draws, tune, chains, thin_to, maxdepth)
    if client is None:
        for s in range(n_sims):
            ranks[s], divergences[s], saturation[s] = sbc_fit(spec, s, *settings, compiled=cc)
            if progress:
                progress(s, time.perf_counter() - t0)
    else:
        from kursk_da.engine._dask import map_tasks  # imports dask only here

        tasks = [(s, *settings) for s in range(n_sims)]
        for done, (s, res) in enumerate(map_tasks(client, sbc_fit, tasks, shared=spec,
                                                  name="kursk-da-sbc")):
            ranks[s], divergences[s], saturation[s] = res
            if progress:
                progress(done, time.perf_counter() - t0)
    frame = pd.DataFrame(ranks, columns=names)
    return SBCResult(frame, rank_uniformity(frame, thin_to, bins, alpha), divergences,
                     saturation, time.perf_counter() - t0, thin_to)
