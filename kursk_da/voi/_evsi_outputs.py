"""EVSI of intelligence on model outputs: noisy reports of a simulated quantity on a date.

The intelligence question is a measurement of a *model output*, e.g. "Russian troops in
Kursk on 1 February 2025" (the state ``R`` on that date, under a reference option for a
date after the decision: what a forecast of the Russian build-up would tell), or of one
or several *inputs* at once (e.g. ``ru_reinforcement_ceiling`` and ``nk_troops``). Each
of ``n`` independent reports has multiplicative lognormal error ``error`` (sd of the
log); averaged on the log scale they give one datum ``y_n = phi + error / sqrt(n) * N(0,
1)`` with ``phi = log(q + 1)`` (``+ 1`` keeps a zero finite; for inputs ``phi = log x``).

Two EVSI methods, as a curve over ``n``:

* **regression** (Strong et al. 2015): regress the option values on the simulated datum
  ``y_n`` (P-spline GAM, :func:`kursk_da.stats.evppi_gam_fast`) and take
  ``E max_j g_j(y_n) - max_j E V_j``;
* **moment matching** (after Heath, Manolopoulou & Baio 2018): shrink the fitted values
  ``g(phi)`` of the EVPPI regression towards their mean by the square root of the share
  of ``Var(phi)`` a datum of ``n`` reports resolves, ``r_n = Var(phi) / (Var(phi) +
  error^2 / n)`` (the variance of the preposterior mean of a normal-normal model), so
  ``EVSI_MM(n) = E max_j [m_j + sqrt(r_n) (g_j(phi) - m_j)] - max_j m_j``. Exact for
  the normal-normal model with linear values; one quantity only.

Both are cross-checked against the closed form of the normal-normal two-option problem
with linear loss (``tests/test_intelligence.py``: ``EVSI = s phi(mu / s) + mu Phi(mu /
s) - max(mu, 0)``, ``s^2 = sigma0^4 / (sigma0^2 + sigma^2 / n)``). ``EVSI(n)`` increases
with ``n`` and tends to the EVPPI of the measured quantity. ENBS(n) = EVSI(n) - n * cost
per report; the optimal number maximises it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from kursk_da._defaults import DEFAULT_COST_PER_REPORT
from kursk_da.dims import REPORTS, VALUE_UNITS
from kursk_da.dynamics.catalogue import TRAJECTORY_NAMES
from kursk_da.engine import run_engine
from kursk_da.spec._plans import day_of
from kursk_da.spec._schema import Spec, as_spec, spec_from_dict
from kursk_da.stats import evpi_core, evppi_gam_fast
from kursk_da.stats._gam import margin_basis_size, tensor_spline_design
from kursk_da.stats._gam_fast import _fit_curves
from kursk_da.validation import check_int, check_real, check_seed, fail
from kursk_da.voi._waiting import OBSERVABLE_STATES, restrict_options

__all__ = ["evsi_curve_core", "evsi_moment_matching", "evsi_intelligence",
           "DEFAULT_COST_PER_REPORT", "DEFAULT_REPORTS"]

DEFAULT_REPORTS = (1, 2, 3, 5, 8, 12, 20, 40)
"""Numbers of reports of the default curve."""
_KEY = 13  # spawn key (13, 3) of the simulated reports


def evsi_moment_matching(values: np.ndarray, phi: np.ndarray, error: float,
                         reports: Sequence[int], *, rng: np.random.Generator) -> np.ndarray:
    """Moment-matching EVSI of ``n`` reports of ``phi`` with additive normal error ``error``.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_draws, J)
    phi : numpy.ndarray, shape (n_draws,)
        The measured quantity on the scale of the error (e.g. its logarithm).
    error : float
        Sd of one report's error on that scale.
    reports : sequence of int
        Numbers of reports.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (len(reports),)
    """
    fit = _fitted(values, phi, rng)
    mean = fit.mean(axis=0)
    var = float(np.var(phi))
    out = []
    for n in reports:
        r = var / (var + error**2 / n) if error > 0 else 1.0
        shrunk = mean + np.sqrt(r) * (fit - mean)
        out.append(float(shrunk.max(axis=1).mean() - mean.max()))
    return np.asarray(out)


def _fitted(values: np.ndarray, phi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fitted values E[V_j | phi] (the EVPPI's GAM: same basis, penalty and GCV)."""
    del rng
    z = ((phi - phi.mean()) / phi.std())[:, None]
    basis, pen = tensor_spline_design(z, margin_basis_size(z.shape[0], 1, None))
    incr = values[:, 1:] - values[:, :1]
    coef, _, _ = _fit_curves(basis, pen, incr)
    fitted = basis @ coef
    base = values[:, 0].mean()
    out: np.ndarray = np.column_stack([np.zeros(len(phi)), fitted]) + base
    return out


def evsi_curve_core(values: np.ndarray, phi: np.ndarray, error: float,
                    reports: Sequence[int], *, rng: np.random.Generator,
                    n_se_draws: int = 100) -> dict[str, np.ndarray]:
    """Regression and moment-matching EVSI of ``n`` reports, and the EVPPI of ``phi``.

    ``phi`` (n_draws,) or (n_draws, d <= 4) is measured with additive normal error
    ``error`` per report (on the scale of ``phi``); moment matching needs ``d = 1``. The
    same standard-normal errors are scaled by ``error / sqrt(n)`` for every ``n``
    (common random numbers along the curve).

    Returns
    -------
    dict
        ``evsi_regression``, ``evsi_regression_se``, ``evsi_moment_matching`` (NaN for
        ``d > 1``), arrays over ``reports``; ``evppi``, ``evppi_se`` (scalars as 0-d
        arrays).
    """
    phi2 = phi[:, None] if phi.ndim == 1 else phi
    reg, reg_se = [], []
    eps = rng.standard_normal(phi2.shape)  # common to every n: a smooth curve over n
    for n in reports:
        y = phi2 + (error / np.sqrt(n)) * eps
        res = evppi_gam_fast(values, y, rng=rng, n_se_draws=n_se_draws)
        reg.append(res.value)
        reg_se.append(res.se)
    ev = evppi_gam_fast(values, phi2, rng=rng, n_se_draws=n_se_draws)
    mm = (evsi_moment_matching(values, phi2[:, 0], error, reports, rng=rng)
          if phi2.shape[1] == 1 else np.full(len(reports), np.nan))
    return {"evsi_regression": np.asarray(reg), "evsi_regression_se": np.asarray(reg_se),
            "evsi_moment_matching": mm, "evppi": np.asarray(ev.value),
            "evppi_se": np.asarray(ev.se)}


def evsi_intelligence(
    spec: Spec | str | Path,
    quantity: str = "ru_force",
    *,
    date: dt.date | None = dt.date(2025, 2, 1),
    option: str = "hold",
    inputs_measured: Sequence[str] | None = None,
    error: float = 0.2,
    reports: Sequence[int] = DEFAULT_REPORTS,
    cost_per_report: float = DEFAULT_COST_PER_REPORT,
    draws: int = 4000,
    seed: int = 0,
    inputs: np.ndarray | None = None,
    n_jobs: int | None = None,
) -> xr.Dataset:
    """EVSI and ENBS curve of intelligence reports on a model output (the ``/intelligence``
    group).

    Parameters
    ----------
    spec : Spec or path
    quantity : str
        Measured state (:data:`kursk_da.voi._waiting.OBSERVABLE_STATES`: ``area_held``,
        ``ru_force``, ``ua_force``), ignored when ``inputs_measured`` is given.
    date : datetime.date
        Date of the measured state (end of that day), within the simulated days.
    option : str
        Option under which a date after the decision is simulated (default ``hold``).
    inputs_measured : sequence of str, optional
        Instead of a state: 1 to 4 uncertain inputs measured at once (each with ``error``).
    error : float
        Relative error of one report (sd of the log), e.g. 0.2 = 20%.
    reports : sequence of int
        Numbers of independent reports of the curve.
    cost_per_report : float
        dkm2 per report (analyst judgement, :data:`DEFAULT_COST_PER_REPORT`).
    draws, seed, inputs, n_jobs
        As for :func:`kursk_da.voi.value_of_waiting`.

    Returns
    -------
    xarray.Dataset
        Over ``reports``: ``evsi_regression`` (+ ``_se``), ``evsi_moment_matching``,
        ``enbs``; scalars ``evppi`` (+ ``_se``) of the measured quantity, ``evpi``,
        ``optimal_reports``, ``cost_per_report``.
    """
    spec = as_spec(spec)
    seed = check_seed(seed)
    draws = check_int(draws, "draws", minimum=20)
    error = check_real(error, "error", minimum=0.0)
    cost = check_real(cost_per_report, "cost_per_report", minimum=0.0)
    ns = [check_int(n, f"reports[{i}]", minimum=1) for i, n in enumerate(reports)]
    if not ns:
        fail("reports", "expected at least one number of reports")
    ns = sorted(set(ns))
    if option not in spec.options:
        fail("option", f"expected one of {', '.join(spec.option_names)}, got {option!r}")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_KEY, 3)))
    if inputs_measured:
        names = list(inputs_measured)
        if len(names) > 4:
            fail("inputs_measured", f"expected 1 to 4 inputs, got {len(names)}")
        for name in names:
            if name not in spec.input_names:
                fail(f"inputs_measured.{name}", "unknown input; expected one of "
                                                f"{', '.join(spec.input_names)}")
        out = run_engine(spec, draws, seed, inputs=inputs, n_jobs=n_jobs)
        x = out.inputs[:, [spec.input_names.index(n) for n in names]]
        if np.any(x <= 0):
            fail("inputs_measured", "a lognormal report needs positive inputs")
        phi = np.log(x)
        question = f"reports of {', '.join(names)} ({100 * error:g}% error each)"
    else:
        if quantity not in OBSERVABLE_STATES:
            fail("quantity", f"expected one of {', '.join(OBSERVABLE_STATES)}, got {quantity!r}")
        if date is None:
            date = spec.decision_date - dt.timedelta(days=1)
        day = day_of(date)
        if not 0 <= day < spec.n_days:
            fail("date", f"expected a date from 2024-08-06 to the horizon, got {date}")
        out = run_engine(spec, draws, seed, inputs=inputs, n_jobs=n_jobs)
        n_rows = out.values.shape[0]  # ``draws``, or the rows of ``inputs`` when given
        raw = dict(spec.raw)
        keep = {option: raw["options"][option], "_copy": raw["options"][option]}
        o_raw = restrict_options(raw, keep)
        o_raw["decision"] = {**o_raw["decision"], "trajectories": n_rows}
        o_spec = spec_from_dict(o_raw, path=spec.path)
        cols = [spec.input_names.index(n) for n in o_spec.input_names]
        traj = run_engine(o_spec, draws, seed, inputs=out.inputs[:, cols],
                          n_jobs=n_jobs).trajectories
        q = traj[:, 0, day, TRAJECTORY_NAMES.index(OBSERVABLE_STATES[quantity])]
        phi = np.log(q + 1.0)
        names = [quantity]
        when = "" if day < spec.decision_day else f" under {option}"
        question = (f"{quantity} on {date.isoformat()}{when} ({100 * error:g}% error per "
                    "report)")
    vals = out.values
    core = evsi_curve_core(vals, phi, error, ns, rng=rng)
    enbs = core["evsi_regression"] - cost * np.asarray(ns)
    best = int(np.argmax(enbs))
    return xr.Dataset(
        {
            "evsi_regression": ((REPORTS,), core["evsi_regression"], {
                "long_name": "EVSI by regression on simulated reports", "units": VALUE_UNITS}),
            "evsi_regression_se": ((REPORTS,), core["evsi_regression_se"], {
                "long_name": "standard error of evsi_regression (regression fit)",
                "units": VALUE_UNITS}),
            "evsi_moment_matching": ((REPORTS,), core["evsi_moment_matching"], {
                "long_name": "EVSI by moment matching (shrunk EVPPI fit; NaN for several "
                             "inputs)", "units": VALUE_UNITS}),
            "enbs": ((REPORTS,), enbs, {
                "long_name": "expected net benefit of sampling: evsi_regression - reports x "
                             "cost_per_report", "units": VALUE_UNITS}),
            "evppi": ((), float(core["evppi"]), {
                "long_name": "EVPPI of the measured quantity (the limit of the EVSI)",
                "units": VALUE_UNITS}),
            "evppi_se": ((), float(core["evppi_se"]), {
                "long_name": "standard error of evppi", "units": VALUE_UNITS}),
            "evpi": ((), float(evpi_core(vals)), {"long_name": "EVPI", "units": VALUE_UNITS}),
            "optimal_reports": ((), int(ns[best]) if enbs[best] > 0 else 0, {
                "long_name": "number of reports of highest ENBS (0: none pays)", "units": "1"}),
            "cost_per_report": ((), cost, {
                "long_name": "cost of one report (analyst judgement)", "units": VALUE_UNITS}),
        },
        coords={REPORTS: np.asarray(ns, dtype=np.int64)},
        attrs={"question": f"EVSI of {question}", "measured": ",".join(names),
               "error": error, "draws": int(out.n_draws), "seed": seed,
               "datum": "log(q + 1) + error / sqrt(n) N(0, 1) (inputs: log x)",
               "methods": "regression (Strong et al. 2015); moment matching (Heath et al. "
                          "2018, normal-normal variance ratio)"},
    )
