"""The value of waiting: hold ``k`` days, observe the front, then take the best option.

"Decide now" takes the option of highest expected value today. "Wait ``k`` days" holds
the salient (posture ``defend``) for ``k`` days, observes some quantities of the
simulated state at the end of day ``k - 1`` with a stated measurement error, and then
starts the option that is best *given what was observed* (each option's plan shifted by
``k`` days and cut at the horizon). The cost of the waiting days is in the simulation:
the ``k`` days of holding accrue casualties and Donbas losses, and the options act
``k`` days later; an optional extra cost per day (``cost_per_day``, analyst judgement)
is subtracted.

Preposterior analysis by regression (as for EVSI, Strong et al. 2015): for each ``k``
the values ``V_kj`` of "wait ``k`` then option ``j``" (all on the same draws and front
shocks as "decide now": common random numbers) are regressed on the simulated
observation ``y_k`` (P-spline GAM, :func:`kursk_da.stats.evppi_gam_fast`), and

    VoW(k) = E[max_j E(V_kj | y_k)] - c k - max_j E[V_0j]
           = EVSI_k + (max_j E V_kj - max_j E V_0j) - c k ,

the information value of the observation minus the price of the delay. Waiting pays
when ``VoW(k) > 0``; the best ``k`` maximises it. Bound (tested): ``VoW(k) <=
E[max_j V_kj] - max_j E[V_0j]``, the value of waiting with perfect information, which
is the EVPI when waiting costs nothing.

Observation model: ``y = log(q + 1) + error * N(0, 1)`` for each observed quantity
``q`` (relative error ``error``; ``+ 1`` keeps an empty salient finite), independent
across quantities.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from kursk_da.dims import OPTION, VALUE_UNITS, WAIT_DAYS
from kursk_da.dynamics.catalogue import PARAMETER_NAMES, TRAJECTORY_NAMES
from kursk_da.engine import run_engine
from kursk_da.spec._plans import day_of
from kursk_da.spec._schema import Spec, as_spec, spec_from_dict
from kursk_da.stats import evpi_core, evppi_gam_fast
from kursk_da.validation import check_int, check_real, check_seed, fail

__all__ = ["OBSERVABLE_STATES", "DEFAULT_OBSERVATION", "value_of_waiting",
           "value_of_waiting_core", "shifted_option", "restrict_options"]

OBSERVABLE_STATES: dict[str, str] = {"area_held": "A", "ru_force": "R", "ua_force": "U"}
"""Quantities the waiting side may observe (state symbol of each)."""
DEFAULT_OBSERVATION: dict[str, float] = {"area_held": 0.1, "ru_force": 0.2}
"""Default observation and relative errors (sd of the log), analyst judgement: the area
held is mapped from open sources to about 10%; the Russian troops in Kursk are known to
Ukrainian intelligence to about 20% (the essay's '50,000' is a round figure)."""
_WAIT_KEY = 13  # spawn key (13, 2) of the measurement errors


def value_of_waiting_core(now: np.ndarray, wait: Sequence[np.ndarray],
                          observations: Sequence[np.ndarray], *, cost: Sequence[float] = (),
                          rng: np.random.Generator | None = None,
                          n_se_draws: int = 100) -> dict[str, np.ndarray]:
    """Value of waiting from arrays (any decision model).

    Parameters
    ----------
    now : numpy.ndarray, shape (n, J)
        Values of the options decided now.
    wait : sequence of arrays (n, J_k)
        For each waiting time, the values of the options taken after waiting (same draws).
    observations : sequence of arrays (n,) or (n, d)
        For each waiting time, what is observed before choosing (d <= 4 quantities).
    cost : sequence of float
        Extra cost of each waiting time (units of the values; default 0).
    rng : numpy.random.Generator, optional
        For the standard errors of the regression.
    n_se_draws : int
        Posterior samples of the regression fit for the standard error.

    Returns
    -------
    dict of numpy.ndarray, each of length ``len(wait)``
        ``value_of_waiting``, ``value_of_waiting_se``, ``information_value`` (EVSI of
        the observation for the waiting options), ``delay_cost`` (``max_j E V_0j -
        max_j E V_kj + cost``), ``perfect_information_bound`` (``E max_j V_kj - cost -
        max_j E V_0j``).
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    now = np.asarray(now, dtype=float)
    best_now = int(np.argmax(now.mean(axis=0)))
    n = now.shape[0]
    costs = list(cost) + [0.0] * (len(wait) - len(cost))
    out: dict[str, list[float]] = {k: [] for k in (
        "value_of_waiting", "value_of_waiting_se", "information_value", "delay_cost",
        "perfect_information_bound")}
    for vals, obs, c in zip(wait, observations, costs, strict=True):
        vals = np.asarray(vals, dtype=float)
        res = evppi_gam_fast(vals, np.asarray(obs, dtype=float), rng=rng, n_se_draws=n_se_draws)
        best_k = int(np.argmax(vals.mean(axis=0)))
        diff = vals[:, best_k] - now[:, best_now]  # paired (common random numbers)
        delay = -float(diff.mean()) + c
        mc_se = float(diff.std(ddof=1) / np.sqrt(n))
        fit_se = res.se if np.isfinite(res.se) else 0.0
        out["value_of_waiting"].append(res.value - delay)
        out["value_of_waiting_se"].append(float(np.hypot(fit_se, mc_se)))
        out["information_value"].append(res.value)
        out["delay_cost"].append(delay)
        out["perfect_information_bound"].append(
            float(vals.max(axis=1).mean()) - c - float(now[:, best_now].mean()))
    return {k: np.asarray(v) for k, v in out.items()}


def _phases_after(raw_phases: list[Any], d_day: int) -> list[dict[str, Any]]:
    out = []
    for ph in raw_phases:
        ph = dict(ph)
        if "start" in ph:
            ph["after_days"] = day_of(ph.pop("start")) - d_day
        out.append(ph)
    return out


def shifted_option(raw_option: Mapping[str, Any], k: int, d_day: int,
                   horizon: int) -> dict[str, Any]:
    """An option's plan started ``k`` days late, after ``k`` days of holding (raw TOML form)."""
    opt = copy.deepcopy(dict(raw_option))
    phases = []
    for ph in _phases_after(opt["phases"], d_day):
        if "trigger" in ph:
            trig = dict(ph["trigger"])
            trig["earliest_days"] = int(trig.get("earliest_days", 0)) + k
            if trig["earliest_days"] >= horizon:
                continue
            if "latest_days" in trig:
                trig["latest_days"] = min(int(trig["latest_days"]) + k, horizon - 1)
            ph["trigger"] = trig
        else:
            ph["after_days"] = int(ph["after_days"]) + k
            if ph["after_days"] >= horizon:
                continue
        phases.append(ph)
    if k > 0:
        phases.insert(0, {"after_days": 0, "posture": "defend",
                          "description": f"hold {k} days and observe before deciding"})
    opt["phases"] = phases
    return opt


def restrict_options(raw: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """A raw spec with only ``options``, without the lever parameters no option uses."""
    out = copy.deepcopy(dict(raw))
    out.pop("scenarios", None)
    out["options"] = dict(options)
    text = repr(out["options"])
    drop = {p for p in out["parameters"] if p not in PARAMETER_NAMES and repr(p) not in text}
    for p in drop:
        del out["parameters"][p]
    out["correlations"] = [c for c in out.get("correlations", [])
                           if not set(c.get("params", [])) & drop]
    return out


def _check_observe(observe: Mapping[str, float]) -> dict[str, float]:
    if not isinstance(observe, Mapping) or not 1 <= len(observe) <= 4:
        fail("observe", f"expected 1 to 4 quantities of {', '.join(OBSERVABLE_STATES)} "
                        f"with their relative errors, got {observe!r}")
    out = {}
    for name, err in observe.items():
        if name not in OBSERVABLE_STATES:
            fail(f"observe.{name}", f"expected one of {', '.join(OBSERVABLE_STATES)}")
        out[name] = check_real(err, f"observe.{name}", minimum=0.0)
    return out


def value_of_waiting(
    spec: Spec | str | Path,
    days: Sequence[int] = (0, 5, 10, 15, 20, 30, 45, 60),
    *,
    draws: int = 3000,
    seed: int = 0,
    observe: Mapping[str, float] | None = None,
    cost_per_day: float = 0.0,
    inputs: np.ndarray | None = None,
    n_jobs: int | None = None,
) -> xr.Dataset:
    """The value-of-waiting curve of a spec (the ``/waiting`` group).

    Parameters
    ----------
    spec : Spec or path
    days : sequence of int
        Waiting times ``k`` (days after the decision date, ``0 <= k < horizon``); ``k = 0``
        observes the state at the decision date and decides at once.
    draws : int
        Prior draws (ignored with ``inputs``).
    seed : int
        Root seed of the engine; the measurement errors use ``SeedSequence(seed,
        spawn_key=(13, 2))``.
    observe : mapping of str to float, optional
        Observed quantities (:data:`OBSERVABLE_STATES`) and their relative errors (sd of
        the log); default :data:`DEFAULT_OBSERVATION`.
    cost_per_day : float
        Extra cost of each day of waiting beyond what the simulation accrues (dkm2/day;
        default 0, analyst judgement).
    inputs : numpy.ndarray, optional
        Input matrix (e.g. a posterior result set's ``/decision/inputs``).
    n_jobs : int, optional
        Engine threads.

    Returns
    -------
    xarray.Dataset
        Over ``wait_days``: ``value_of_waiting`` and its ``_se``, ``information_value``,
        ``gross_value_of_waiting``, ``delay_cost``, ``perfect_information_bound``,
        ``best_option_after_waiting`` (the option of highest EV after waiting, before the
        observation); ``now_expected_value`` over ``option``; the scalar ``evpi`` (decide
        now); attributes ``best_wait_days`` and ``waiting_pays`` (``"yes"`` when the best
        value of waiting exceeds 2 standard errors).

    Raises
    ------
    ArgumentError
        Naming ``days``, ``draws``, ``observe``, ``cost_per_day`` or ``seed``.
    """
    spec = as_spec(spec)
    seed = check_seed(seed)
    draws = check_int(draws, "draws", minimum=20)
    cost = check_real(cost_per_day, "cost_per_day")
    obs_err = _check_observe(DEFAULT_OBSERVATION if observe is None else observe)
    ks = [check_int(k, f"days[{i}]", minimum=0, maximum=spec.horizon_days - 1)
          for i, k in enumerate(days)]
    if not ks or len(set(ks)) != len(ks):
        fail("days", f"expected distinct waiting times, got {list(days)}")
    ks = sorted(ks)
    d = spec.decision_day
    names = spec.option_names
    raw = dict(spec.raw)
    opts: dict[str, Any] = {}
    for k in ks:
        for name in names:
            opts[f"{name}@wait{k}"] = shifted_option(raw["options"][name], k, d,
                                                     spec.horizon_days)
    if 0 not in ks:
        opts.update({f"{name}@wait0": raw["options"][name] for name in names})
    w_spec = spec_from_dict(restrict_options(raw, opts), path=spec.path)
    out = run_engine(w_spec, draws, seed, inputs=inputs, n_jobs=n_jobs)
    vals = out.values
    col = {name: i for i, name in enumerate(w_spec.option_names)}
    now = vals[:, [col[f"{n}@wait0"] for n in names]]
    # the observations: the state under holding, for every draw (a run of the holding plan)
    hold = {"phases": [{"after_days": 0, "posture": "defend"}]}
    o_raw = restrict_options(raw, {"hold_a": hold, "hold_b": hold})
    o_raw["decision"] = {**o_raw["decision"], "trajectories": out.n_draws}
    o_spec = spec_from_dict(o_raw, path=spec.path)
    # the same draws (inputs given) and, with the same seed, the same front shocks
    o_cols = [w_spec.input_names.index(name) for name in o_spec.input_names]
    o_out = run_engine(o_spec, draws, seed, inputs=out.inputs[:, o_cols], n_jobs=n_jobs)
    traj = o_out.trajectories[:, 0]  # (n, n_days, n_vars)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_WAIT_KEY, 2)))
    wait_vals, observations, best_after = [], [], []
    for k in ks:
        day = d + k - 1
        y = np.column_stack([
            np.log(traj[:, day, TRAJECTORY_NAMES.index(OBSERVABLE_STATES[q])] + 1.0)
            + err * rng.standard_normal(out.n_draws)
            for q, err in obs_err.items()])
        v = vals[:, [col[f"{n}@wait{k}"] for n in names]]
        wait_vals.append(v)
        observations.append(y)
        b = int(np.argmax(v.mean(axis=0)))
        best_after.append(names[b])
    core = value_of_waiting_core(now, wait_vals, observations, cost=[cost * k for k in ks],
                                 rng=rng)
    vow = core["value_of_waiting"]
    best_k = int(np.argmax(vow))
    pays = bool(vow[best_k] - 2 * core["value_of_waiting_se"][best_k] > 0)
    now_ev = now.mean(axis=0)
    desc = ", ".join(f"{q} ({100 * e:g}% error)" for q, e in obs_err.items())
    return xr.Dataset(
        {
            "value_of_waiting": ((WAIT_DAYS,), vow, {
                "long_name": "value of waiting k days, observing, then choosing (net of the "
                             "cost of the delay)", "units": VALUE_UNITS}),
            "value_of_waiting_se": ((WAIT_DAYS,), core["value_of_waiting_se"], {
                "long_name": "standard error of value_of_waiting (regression fit and Monte "
                             "Carlo)", "units": VALUE_UNITS}),
            "information_value": ((WAIT_DAYS,), core["information_value"], {
                "long_name": "EVSI of the observation for the options taken after waiting",
                "units": VALUE_UNITS}),
            "gross_value_of_waiting": ((WAIT_DAYS,), core["information_value"], {
                "long_name": "value of the information alone (before the cost of delay)",
                "units": VALUE_UNITS}),
            "delay_cost": ((WAIT_DAYS,), core["delay_cost"], {
                "long_name": "best EV now minus best EV after waiting, plus cost_per_day x k",
                "units": VALUE_UNITS}),
            "perfect_information_bound": ((WAIT_DAYS,), core["perfect_information_bound"], {
                "long_name": "value of waiting with perfect information (upper bound)",
                "units": VALUE_UNITS}),
            "best_option_after_waiting": ((WAIT_DAYS,), np.array(best_after, dtype=object), {
                "long_name": "option of highest EV after waiting (before the observation)",
                "units": "1"}),
            "now_expected_value": ((OPTION,), now_ev, {
                "long_name": "EV of each option decided now (same draws)", "units": VALUE_UNITS}),
            "evpi": ((), float(evpi_core(now)), {
                "long_name": "EVPI of the decision now", "units": VALUE_UNITS}),
        },
        coords={WAIT_DAYS: np.asarray(ks, dtype=np.int64), OPTION: list(names)},
        attrs={"observed": desc, "cost_per_day": cost, "draws": int(out.n_draws),
               "seed": seed, "best_wait_days": int(ks[best_k]),
               "waiting_pays": "yes" if pays else "no",
               "description": "hold k days, observe the state with the stated error, then take "
                              "the best option for what was observed, against deciding now "
                              "(preposterior regression on the engine, common random numbers)"},
    )
