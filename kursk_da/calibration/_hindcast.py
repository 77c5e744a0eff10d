"""Rolling-origin hindcast of the calibration (issue 11, item 5).

For each origin ``t_k`` (default: the first of each month, September to December 2024):

1. calibrate on the observations dated **and** reported on or before ``t_k`` (the
   calibration's ``cutoff``, :func:`kursk_da.spec._observations.select_observations`);
2. forecast every other observation of the spec (all are dated and reported before the
   decision date): the posterior predictive draws of the claim, with the claimant's bias
   and the measurement and process error, exactly as the calibration forecasts its
   withheld observations (``posterior_predictive.y_withheld``). A row dated before
   ``t_k`` but reported after it is forecast too (a nowcast, negative ``lead_days``);
3. score each forecast: the CRPS of the ensemble (:func:`crps_ensemble`, units of the
   claim), the relative CRPS ``CRPS / |y|`` (1), whether the central 50 % and 90 %
   predictive intervals cover the claim, and the PIT ``P(Y < y) + P(Y = y) / 2``;
4. compare with two naive point forecasts made from what was known at ``t_k``:
   *persistence* (the last value of the same quantity) and *trend* (the straight line
   through its last two values, extrapolated to the forecast date). A point forecast's
   CRPS is its absolute error. The CRPS skill is ``1 - CRPS_model / CRPS_baseline``.

Baselines. The "values known at the origin" of a quantity are its point claims (no
bound) among the observations used at that origin, averaged over claims of the same
date (two claimants on one day give one value); the last value is that of the latest
date. With no such value the persistence forecast is NaN; with fewer than two dates the
trend is NaN; rows without a baseline are left out of that baseline's skill.

Censored claims ("at least", "up to", a stated range) have no CRPS, PIT or baseline
error (a bound is not a value): they count only in the coverage, as in the posterior
predictive check (:func:`kursk_da.calibration.ppc_table`): "at least ``low``" is covered
when the upper end of the interval reaches ``low``, "up to ``high``" when the lower end
is at or below ``high``, a range when the two overlap.

Aggregates. By origin, the quantities have different units (km2, troops), so the CRPS is
the mean *relative* CRPS of the point claims and the skill is
``1 - mean(CRPS_model / |y|) / mean(CRPS_baseline / |y|)`` over the rows that have the
baseline. By (origin, quantity), the mean CRPS is in the units of the quantity and the
skill ``1 - mean CRPS_model / mean CRPS_baseline`` over the rows that have the baseline.
Coverage is the share of all forecast rows (point and censored) covered.

Seeds and dask. Origin ``k`` (position in ``origins``) is calibrated with the root seed
``SeedSequence(seed, spawn_key=(21, k))`` (:func:`origin_seed`); with a dask ``client``
each origin is one task (:func:`forecast_origin`, via
:func:`kursk_da.engine._dask.map_tasks`), so the results do not depend on where the
tasks ran. Without a client nothing imports dask.

Sampler settings. Defaults :data:`DEFAULT_DRAWS` and :data:`DEFAULT_TUNE` per chain and
:data:`DEFAULT_CHAINS` chains, smaller than a full calibration's (1000, 1000, 4): a
hindcast calibrates once per origin, and the CRPS and coverage of an ensemble of 1000
draws have a Monte Carlo error far below the differences between origins. The
diagnostics of each origin's calibration (divergences, largest R-hat) are kept with the
scores.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import arviz as az
import numpy as np
import pandas as pd

from kursk_da.calibration._sampling import calibrate, compile_calibration
from kursk_da.calibration._scoring import crps_ensemble
from kursk_da.dims import CHAIN, DRAW, WITHHELD
from kursk_da.errors import SpecError
from kursk_da.spec._observations import Observation, select_observations
from kursk_da.spec._plans import EPOCH
from kursk_da.spec._schema import as_spec
from kursk_da.validation import check_int

if TYPE_CHECKING:
    from distributed import Client

    from kursk_da.spec._schema import Spec

__all__ = [
    "DEFAULT_ORIGINS",
    "DEFAULT_DRAWS",
    "DEFAULT_TUNE",
    "DEFAULT_CHAINS",
    "HINDCAST_STREAM",
    "LEVELS",
    "OriginForecast",
    "HindcastResult",
    "check_origins",
    "origin_seed",
    "baseline_values",
    "score_forecasts",
    "aggregate",
    "forecast_origin",
    "run_hindcast",
]

DEFAULT_ORIGINS: tuple[dt.date, ...] = tuple(dt.date(2024, m, 1) for m in (9, 10, 11, 12))
"""The first of each month from September to December 2024 (issue 11)."""
DEFAULT_DRAWS = 500
"""Posterior draws per chain of each origin's calibration."""
DEFAULT_TUNE = 500
"""Tuning steps per chain of each origin's calibration."""
DEFAULT_CHAINS = 2
"""Chains of each origin's calibration."""
HINDCAST_STREAM = 21
"""``spawn_key[0]`` of the origins' seeds (the calibration uses 10-14, SBC 20)."""
LEVELS = (0.5, 0.9)
"""Probability content of the scored central predictive intervals."""


def check_origins(spec: Spec, origins: Sequence[dt.date]) -> tuple[dt.date, ...]:
    """Validate hindcast origins against ``spec``.

    Parameters
    ----------
    spec : Spec
        A spec with observations.
    origins : sequence of datetime.date
        Distinct dates on or after 2024-08-06 and before the decision date, each with at
        least one observation known by then (dated and reported on or before it) and one
        after it.

    Returns
    -------
    tuple of datetime.date
        Sorted.

    Raises
    ------
    SpecError
        Naming ``origins[i]`` (or ``origins``) and what was expected.
    """
    if not spec.observations:
        raise SpecError("observations", "a hindcast needs a spec with observations")
    out = list(origins)
    if not out:
        raise SpecError("origins", "expected at least one origin date")
    for i, o in enumerate(out):
        path = f"origins[{i}]"
        if isinstance(o, dt.datetime) or not isinstance(o, dt.date):
            raise SpecError(path, f"expected a date like 2024-10-01, got {o!r}")
        if o < EPOCH or o >= spec.decision_date:
            raise SpecError(path, f"expected a date on or after {EPOCH} and before the "
                                  f"decision date {spec.decision_date}, got {o}")
        used, withheld = select_observations(spec.observations, o)
        if not used:
            raise SpecError(path, f"no observation is dated and reported on or before {o}; "
                                  "nothing to calibrate on")
        if not withheld:
            raise SpecError(path, f"every observation is known by {o}; nothing to forecast")
    if len(set(out)) != len(out):
        raise SpecError("origins", f"expected distinct dates, got {', '.join(map(str, out))}")
    return tuple(sorted(out))


def origin_seed(seed: int, k: int) -> int:
    """Root seed of the calibration at origin number ``k`` (0-based position).

    ``SeedSequence(seed, spawn_key=(HINDCAST_STREAM, k))`` reduced to a 63-bit integer.
    """
    state = np.random.SeedSequence(seed, spawn_key=(HINDCAST_STREAM, k)).generate_state(
        1, np.uint64)[0]
    return int(state >> np.uint64(1))


@dataclass(frozen=True)
class OriginForecast:
    """The forecasts of one origin (the result of one task).

    Attributes
    ----------
    origin : datetime.date
    index : int
        Position of the origin (its seed).
    used : tuple of Observation
        Observations the calibration used (known at the origin).
    forecast : tuple of Observation
        The other observations, forecast.
    draws : numpy.ndarray (len(forecast), n)
        Posterior predictive draws of each forecast claim (units of each), chains
        concatenated.
    divergences : int
        Divergent transitions of the calibration.
    max_rhat : float
        Largest R-hat of the sampled campaign parameters.
    seconds : float
        Wall time of the task (compile and sampling), s; not stored in the result set.
    failing : tuple of str
        What fails the convergence gate of the origin's calibration
        (:func:`kursk_da.calibration.diagnose`: parameters, ``"divergences"``,
        ``"e_bfmi"``); empty when it passes.
    """

    origin: dt.date
    index: int
    used: tuple[Observation, ...]
    forecast: tuple[Observation, ...]
    draws: np.ndarray
    divergences: int
    max_rhat: float
    seconds: float = 0.0
    failing: tuple[str, ...] = ()

    @property
    def converged(self) -> bool:
        """Whether the origin's calibration passed the convergence gate."""
        return not self.failing


def forecast_origin(spec: Spec, k: int, origin: dt.date, seed: int, draws: int, tune: int,
                    chains: int, sampler: str = "nutpie",
                    sampler_options: dict[str, Any] | None = None) -> OriginForecast:
    """Calibrate on what was known at ``origin`` and forecast the rest (one task).

    A pure function of its arguments: the calibration's root seed is
    :func:`origin_seed` ``(seed, k)``. The compiled model is cached per process
    (:func:`kursk_da.calibration.compile_calibration`).

    Parameters
    ----------
    spec : Spec
    k : int
        Position of the origin.
    origin : datetime.date
    seed : int
        Root seed of the hindcast.
    draws, tune, chains : int
        NUTS settings.
    sampler : {"nutpie", "pymc"}
    sampler_options : dict, optional
        Further keywords of the sampler.

    Returns
    -------
    OriginForecast
    """
    t0 = time.perf_counter()
    cc = compile_calibration(spec, cutoff=origin, sampler=sampler)
    idata = calibrate(spec, seed=origin_seed(seed, k), draws=draws, tune=tune, chains=chains,
                      compiled=cc, sampler_options=sampler_options)
    y = idata["posterior_predictive"]["y_withheld"].stack(sample=(CHAIN, DRAW))
    y_draws = np.asarray(y.transpose(WITHHELD, "sample").to_numpy(), dtype=float)
    rhat = az.rhat(idata["posterior"]["theta"]) if chains > 1 else None
    max_rhat = float(np.nanmax(rhat["theta"].to_numpy())) if rhat is not None else float("nan")
    from kursk_da.calibration._diagnostics import diagnose

    failing = diagnose(idata).failing
    return OriginForecast(origin, k, cc.setup.used, cc.setup.withheld, y_draws,
                          int(idata["sample_stats"]["diverging"].sum()), max_rhat,
                          time.perf_counter() - t0, tuple(failing))


def baseline_values(known: Sequence[Observation], quantity: str, date: dt.date
                    ) -> tuple[float, float]:
    """Persistence and linear-trend forecasts of ``quantity`` on ``date``.

    Parameters
    ----------
    known : sequence of Observation
        The observations known at the origin.
    quantity : str
        The forecast observation's quantity.
    date : datetime.date
        The forecast observation's date.

    Returns
    -------
    (persistence, trend) : tuple of float
        In the quantity's units; NaN where there is no value (persistence: no point
        claim of the quantity; trend: fewer than two dates). Claims of the same date are
        averaged; the trend is ``v2 + (v2 - v1) (date - d2) / (d2 - d1)`` through the
        last two dates ``d1 < d2``.
    """
    by_date: dict[dt.date, list[float]] = {}
    for o in known:
        if o.quantity == quantity and o.censoring == "none":
            by_date.setdefault(o.date, []).append(o.value)
    if not by_date:
        return float("nan"), float("nan")
    dates = sorted(by_date)
    v2 = float(np.mean(by_date[dates[-1]]))
    if len(dates) < 2:
        return v2, float("nan")
    d1, d2 = dates[-2], dates[-1]
    v1 = float(np.mean(by_date[d1]))
    slope = (v2 - v1) / (d2 - d1).days
    return v2, v2 + slope * (date - d2).days


def _covered(draws: np.ndarray, o: Observation, level: float) -> bool:
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    c = o.censoring
    if c == "lower":
        return bool(hi >= o.low)
    if c == "upper":
        return bool(lo <= o.high)
    if c == "interval":
        return bool(hi >= o.low and lo <= o.high)
    return bool(lo <= o.value <= hi)


def score_forecasts(fc: OriginForecast) -> pd.DataFrame:
    """Scores of the forecasts of one origin, one row per forecast observation.

    Parameters
    ----------
    fc : OriginForecast

    Returns
    -------
    pandas.DataFrame
        Columns ``origin``, ``observation``, ``quantity``, ``units``, ``date``,
        ``reported_on``, ``claimant``, ``family``, ``censoring`` (``none``, ``lower``,
        ``upper``, ``interval``), ``lead_days`` (date - origin, days), ``observed``,
        ``low``, ``high`` (NaN if none), ``predictive_mean``, ``predictive_median``,
        ``lower_50``, ``upper_50``, ``lower_90``, ``upper_90`` (units of the claim),
        ``covered_50``, ``covered_90`` (bool), ``pit`` (1), ``crps`` (units),
        ``crps_relative`` (1), ``persistence``, ``trend`` (units),
        ``crps_persistence``, ``crps_trend`` (units; absolute errors),
        ``crps_persistence_relative``, ``crps_trend_relative`` (1). Scores of censored
        rows are NaN except the coverage.
    """
    rows = []
    for j, o in enumerate(fc.forecast):
        x = fc.draws[j]
        point = o.censoring == "none"
        pers, trend = baseline_values(fc.used, o.quantity, o.date)
        q = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
        crps = float(crps_ensemble(x, o.value)) if point else float("nan")
        pit = float(np.mean(x < o.value) + 0.5 * np.mean(x == o.value)) if point else np.nan
        scale = abs(o.value) if point and o.value != 0 else float("nan")
        e_p = abs(o.value - pers) if point else float("nan")
        e_t = abs(o.value - trend) if point else float("nan")
        rows.append({
            "origin": fc.origin, "observation": o.name, "quantity": o.quantity,
            "units": o.units, "date": o.date, "reported_on": o.known_on,
            "claimant": o.claimant, "family": o.family, "censoring": o.censoring,
            "lead_days": (o.date - fc.origin).days, "observed": o.value,
            "low": np.nan if o.low is None else o.low,
            "high": np.nan if o.high is None else o.high,
            "predictive_mean": float(x.mean()), "predictive_median": float(q[2]),
            "lower_50": float(q[1]), "upper_50": float(q[3]),
            "lower_90": float(q[0]), "upper_90": float(q[4]),
            "covered_50": _covered(x, o, 0.5), "covered_90": _covered(x, o, 0.9),
            "pit": pit, "crps": crps, "crps_relative": crps / scale,
            "persistence": pers, "trend": trend,
            "crps_persistence": e_p, "crps_trend": e_t,
            "crps_persistence_relative": e_p / scale, "crps_trend_relative": e_t / scale,
        })
    return pd.DataFrame(rows)


def _skill(model: pd.Series, base: pd.Series) -> tuple[float, int]:
    ok = model.notna() & base.notna()
    n = int(ok.sum())
    if n == 0:
        return float("nan"), 0
    den = float(base[ok].mean())
    if den <= 0:
        return float("nan"), n
    return 1.0 - float(model[ok].mean()) / den, n


def _mean(s: pd.Series) -> float:
    return float(s.mean()) if bool(s.notna().any()) else float("nan")


def aggregate(forecasts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Aggregate the per-forecast scores by origin and by (origin, quantity).

    Parameters
    ----------
    forecasts : pandas.DataFrame
        Rows of :func:`score_forecasts` for every origin.

    Returns
    -------
    (by_origin, by_quantity) : tuple of pandas.DataFrame
        ``by_origin`` (index ``origin``): ``n_forecast``, ``n_point``, ``coverage_50``,
        ``coverage_90`` (share of all rows), ``crps_relative`` (mean over point rows),
        ``skill_persistence``, ``skill_trend`` (of the relative CRPS),
        ``n_persistence``, ``n_trend`` (rows in each skill). ``by_quantity`` (index
        ``origin, quantity``): the same plus ``crps``, ``crps_persistence``,
        ``crps_trend`` (means in the quantity's units over the rows in each skill, the
        model's over all point rows) and ``units``; skills of the mean CRPS.
    """
    by_o, by_q = [], []
    for origin, g in forecasts.groupby("origin", sort=True):
        pt = g[g["censoring"] == "none"]
        sp, n_p = _skill(pt["crps_relative"], pt["crps_persistence_relative"])
        st, n_t = _skill(pt["crps_relative"], pt["crps_trend_relative"])
        by_o.append({"origin": origin, "n_forecast": len(g), "n_point": len(pt),
                     "coverage_50": float(g["covered_50"].mean()),
                     "coverage_90": float(g["covered_90"].mean()),
                     "crps_relative": float(pt["crps_relative"].mean()) if len(pt) else np.nan,
                     "skill_persistence": sp, "skill_trend": st,
                     "n_persistence": n_p, "n_trend": n_t})
        for quantity, h in g.groupby("quantity", sort=True):
            pq = h[h["censoring"] == "none"]
            sp, n_p = _skill(pq["crps"], pq["crps_persistence"])
            st, n_t = _skill(pq["crps"], pq["crps_trend"])
            by_q.append({
                "origin": origin, "quantity": quantity, "units": h["units"].iloc[0],
                "n_forecast": len(h), "n_point": len(pq),
                "coverage_50": float(h["covered_50"].mean()),
                "coverage_90": float(h["covered_90"].mean()),
                "crps": _mean(pq["crps"]), "crps_relative": _mean(pq["crps_relative"]),
                "crps_persistence": _mean(pq["crps_persistence"]),
                "crps_trend": _mean(pq["crps_trend"]),
                "skill_persistence": sp, "skill_trend": st,
                "n_persistence": n_p, "n_trend": n_t})
    return (pd.DataFrame(by_o).set_index("origin"),
            pd.DataFrame(by_q).set_index(["origin", "quantity"]))


@dataclass(frozen=True)
class HindcastResult:
    """A rolling-origin hindcast (plain tables; :mod:`kursk_da.io` stores it).

    Attributes
    ----------
    forecasts : pandas.DataFrame
        One row per (origin, forecast observation) (:func:`score_forecasts`).
    by_origin, by_quantity : pandas.DataFrame
        :func:`aggregate`.
    diagnostics : pandas.DataFrame
        Per origin: ``n_used``, ``divergences``, ``max_rhat``, ``converged`` (bool: the
        calibration passed the gate), ``failing`` (what fails it, comma-separated),
        ``seconds``.
    settings : dict
        ``origins`` (ISO dates), ``seed``, ``draws``, ``tune``, ``chains``, ``sampler``,
        ``spec_name``, ``spec_sha256``, ``decision_date``.
    """

    forecasts: pd.DataFrame
    by_origin: pd.DataFrame
    by_quantity: pd.DataFrame
    diagnostics: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)


def run_hindcast(
    spec: Spec,
    origins: Sequence[dt.date] = DEFAULT_ORIGINS,
    *,
    seed: int = 0,
    draws: int = DEFAULT_DRAWS,
    tune: int = DEFAULT_TUNE,
    chains: int = DEFAULT_CHAINS,
    sampler: str = "nutpie",
    sampler_options: dict[str, Any] | None = None,
    client: Client | None = None,
    progress: Callable[[OriginForecast], None] | None = None,
) -> HindcastResult:
    """Rolling-origin hindcast of ``spec``'s calibration (see the module docstring).

    Parameters
    ----------
    spec : Spec
        A spec with observations.
    origins : sequence of datetime.date
        Forecast origins (:func:`check_origins`); default :data:`DEFAULT_ORIGINS`.
    seed : int
        Root seed; origin ``k`` uses :func:`origin_seed` ``(seed, k)`` (``k`` its position
        among the sorted origins).
    draws, tune, chains : int
        NUTS settings of each origin's calibration.
    sampler : {"nutpie", "pymc"}
    sampler_options : dict, optional
        Further keywords of the sampler.
    client : distributed.Client, optional
        Run each origin's calibration as one dask task; the results do not depend on it.
    progress : callable, optional
        Called with each finished :class:`OriginForecast` (completion order).

    Returns
    -------
    HindcastResult

    Raises
    ------
    SpecError
        Bad origins or sampler settings (naming the field).
    """
    spec = as_spec(spec)
    for name, val, lo in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1),
                          ("seed", seed, 0)):
        check_int(val, name, minimum=lo, error=SpecError)
    sorted_origins = check_origins(spec, origins)
    settings = (seed, draws, tune, chains, sampler, sampler_options)
    results: dict[int, OriginForecast] = {}
    if client is None:
        for k, o in enumerate(sorted_origins):
            results[k] = forecast_origin(spec, k, o, *settings)
            if progress:
                progress(results[k])
    else:
        from kursk_da.engine._dask import map_tasks  # imports dask only here

        tasks = [(k, o, *settings) for k, o in enumerate(sorted_origins)]
        for k, res in map_tasks(client, forecast_origin, tasks, shared=spec,
                                name="kursk-da-hindcast"):
            results[k] = res
            if progress:
                progress(res)
    ordered = [results[k] for k in range(len(sorted_origins))]
    forecasts = pd.concat([score_forecasts(fc) for fc in ordered], ignore_index=True)
    by_origin, by_quantity = aggregate(forecasts)
    diagnostics = pd.DataFrame(
        [{"origin": fc.origin, "n_used": len(fc.used), "divergences": fc.divergences,
          "max_rhat": fc.max_rhat, "converged": fc.converged,
          "failing": ", ".join(fc.failing), "seconds": fc.seconds} for fc in ordered]
    ).set_index("origin")
    return HindcastResult(forecasts, by_origin, by_quantity, diagnostics, {
        "origins": ",".join(o.isoformat() for o in sorted_origins), "seed": int(seed),
        "draws": int(draws), "tune": int(tune), "chains": int(chains), "sampler": sampler,
        "spec_name": spec.name, "spec_sha256": spec.sha256,
        "decision_date": spec.decision_date.isoformat()})
