"""Policy optimisation: the trigger thresholds of a state-triggered option that maximise EV.

A *policy* is an option with a state-triggered phase (:mod:`kursk_da.spec._plans`), e.g.
"hold, withdraw when the area held falls below X km2 or the Russian/Ukrainian force
ratio passes Y". :func:`optimize_policy` evaluates every point of a grid of thresholds
on one set of draws (all grid points and the fixed options in one engine run, common
random numbers), picks the point of highest expected value (optionally among those
whose CVaR is at least a floor), then **re-estimates** the chosen policy and the best
fixed option on fresh draws from an independent seed stream. The reported EV and the
value of flexibility ``EV(best policy) - EV(best fixed option)`` come from the fresh
draws only, so they carry no optimiser's curse (the maximum over a grid of noisy
estimates is biased upwards; an independent re-estimate is not).

The array core (:func:`select_policy`, :func:`paired_difference`) works on any
draws x grid-points array, e.g. the toy models of the tests.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from kursk_da.decision._metrics import cvar
from kursk_da.dims import GRID_POINT, OPTION, SEARCHED, VALUE_UNITS
from kursk_da.engine import run_engine
from kursk_da.spec._plans import TRIGGER_QUANTITIES
from kursk_da.spec._schema import Spec, as_spec, spec_from_dict
from kursk_da.validation import check_int, check_real, check_seed, fail

__all__ = ["DEFAULT_SEARCH", "PolicyResult", "optimize_policy", "select_policy",
           "paired_difference", "policy_datasets", "search_grid", "SEARCH_FIELDS",
           "MAX_GRID_POINTS", "eval_seed"]

SEARCH_FIELDS = (*TRIGGER_QUANTITIES, "earliest_days", "latest_days")
"""What ``--search`` may vary: the threshold of the trigger's condition on a quantity, or
its earliest/latest day (days after the decision date)."""
MAX_GRID_POINTS = 400
"""Most grid points of one search (each is one option of the engine run)."""
DEFAULT_SEARCH: dict[str, tuple[float, ...]] = {
    "area_held": (0.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0),
    "force_ratio": (0.0, 2.0, 3.0, 4.0, 6.0, 8.0, 1e6),
}
"""Default grid of ``kursk-da policy`` for ``hold_until_untenable``: area held from 0 (never
on area) to 600 km2 (about the 625 km2 of October 2024), and force ratios from 0 (at once:
the rule is then ``strike_only``) through 2:1 to 8:1 and 1e6 (never on the ratio: with area
0, the rule is ``hold``), so the family nests both fixed options; analyst judgement."""
_EVAL_KEY = 13  # spawn key of the fresh-draws stream (issue 13)


def eval_seed(seed: int, key: int = 0) -> int:
    """Seed of the fresh draws: an independent child stream of ``SeedSequence(seed)``.

    ``SeedSequence(seed, spawn_key=(13, key))``, reduced to a 63-bit integer seed.
    """
    state = np.random.SeedSequence(seed, spawn_key=(_EVAL_KEY, key)).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def search_grid(search: Mapping[str, Sequence[float] | np.ndarray]) -> tuple[list[str], np.ndarray]:
    """The full grid of a search: names and an (n_points, n_names) array of values.

    Raises
    ------
    ArgumentError
        Path ``search`` for an empty search, an unknown field, an empty or non-finite
        list of values, or more than :data:`MAX_GRID_POINTS` points.
    """
    if not isinstance(search, Mapping) or not search:
        fail("search", "expected at least one PARAM=LO:HI:STEP (a mapping of field to values)")
    names = list(search)
    lists = []
    for name in names:
        if name not in SEARCH_FIELDS:
            fail(f"search.{name}", f"expected one of {', '.join(SEARCH_FIELDS)}")
        vals = np.asarray(search[name], dtype=float).ravel()
        if vals.size == 0 or not np.all(np.isfinite(vals)):
            fail(f"search.{name}", f"expected a non-empty list of finite values, got {vals}")
        lists.append(vals)
    n_points = int(np.prod([v.size for v in lists]))
    if n_points > MAX_GRID_POINTS:
        fail("search", f"expected at most {MAX_GRID_POINTS} grid points, got {n_points}")
    grid = np.array(list(itertools.product(*lists)), dtype=float)
    return names, grid


def select_policy(values: np.ndarray, *, cvar_alpha: float = 0.05,
                  cvar_floor: float | None = None) -> int:
    """Index of the grid point of highest mean value, among those with CVaR >= the floor.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_draws, n_points)
        Value of each grid point under each draw.
    cvar_alpha : float
        Tail probability of the CVaR.
    cvar_floor : float, optional
        Lowest acceptable CVaR (units of ``values``).

    Raises
    ------
    ArgumentError
        Path ``cvar_floor`` when no grid point meets the floor.
    """
    ev = values.mean(axis=0)
    if cvar_floor is not None:
        ok = cvar(values, cvar_alpha) >= cvar_floor
        if not ok.any():
            fail("cvar_floor", f"no grid point has CVaR >= {cvar_floor:g} (highest "
                               f"{float(cvar(values, cvar_alpha).max()):.4g})")
        ev = np.where(ok, ev, -np.inf)
    return int(np.argmax(ev))


def paired_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of ``a - b`` over draws (paired: common random numbers) and its MCSE."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else np.nan


@dataclass(frozen=True)
class PolicyResult:
    """Result of :func:`optimize_policy` (values in dkm2).

    Attributes
    ----------
    option : str
        The policy option searched.
    names : list of str
        Searched fields; ``grid`` (n_points, n_names) their values.
    grid : numpy.ndarray
    search_ev, search_ev_mcse, search_cvar : numpy.ndarray, shape (n_points,)
        EV, its MCSE and CVaR of every grid point on the search draws.
    best : int
        Index of the chosen grid point.
    fixed_options : tuple of str
        The options without a trigger; ``best_fixed`` the one of highest EV on the search
        draws.
    best_fixed : str
    eval_ev, eval_ev_mcse, eval_cvar : float
        The chosen policy re-estimated on the fresh draws.
    eval_fixed_ev, eval_fixed_ev_mcse : numpy.ndarray, shape (n_fixed,)
        Every fixed option on the fresh draws.
    flexibility, flexibility_mcse : float
        ``EV(best policy) - EV(best fixed option)`` on the fresh draws (paired).
    fired_probability, trigger_day_mean : float
        How often and when (days after the decision date) the chosen policy's trigger
        fired on the fresh draws.
    search_draws, eval_draws, seed, eval_seed, cvar_alpha, cvar_floor
        Provenance.
    """

    option: str
    names: list[str]
    grid: np.ndarray
    search_ev: np.ndarray
    search_ev_mcse: np.ndarray
    search_cvar: np.ndarray
    best: int
    fixed_options: tuple[str, ...]
    best_fixed: str
    eval_ev: float
    eval_ev_mcse: float
    eval_cvar: float
    eval_fixed_ev: np.ndarray
    eval_fixed_ev_mcse: np.ndarray
    flexibility: float
    flexibility_mcse: float
    fired_probability: float
    trigger_day_mean: float
    search_draws: int
    eval_draws: int
    seed: int
    eval_seed: int
    cvar_alpha: float
    cvar_floor: float | None

    @property
    def best_thresholds(self) -> dict[str, float]:
        """The chosen value of every searched field."""
        return {n: float(v) for n, v in zip(self.names, self.grid[self.best], strict=True)}


def _triggered_phase(raw: Mapping[str, Any], option: str) -> int:
    phases = raw["options"][option]["phases"]
    for k, ph in enumerate(phases):
        if isinstance(ph, Mapping) and "trigger" in ph:
            return k
    fail("option", f"option {option!r} has no state-triggered phase (a phase with 'trigger')")


def _set_field(trigger: dict[str, Any], name: str, value: float) -> None:
    if name in ("earliest_days", "latest_days"):
        trigger[name] = int(round(value))
        return
    combine = "any" if "any" in trigger else "all"
    hits = [c for c in trigger[combine] if c.get("quantity") == name]
    if not hits:
        fail(f"search.{name}", f"the trigger has no condition on {name!r}")
    for c in hits:
        side = "above" if "above" in c else "below"
        c[side] = float(value)


def _policy_raw(spec: Spec, option: str, names: list[str], grid: np.ndarray,
                fixed: Sequence[str], label: str = "{option}@{k}") -> dict[str, Any]:
    raw = copy.deepcopy(dict(spec.raw))
    raw.pop("scenarios", None)
    k_phase = _triggered_phase(raw, option)
    base = raw["options"][option]
    options: dict[str, Any] = {name: raw["options"][name] for name in fixed}
    for k, point in enumerate(grid):
        opt = copy.deepcopy(base)
        trig = opt["phases"][k_phase]["trigger"]
        for name, val in zip(names, point, strict=True):
            _set_field(trig, name, float(val))
        options[label.format(option=option, k=k)] = opt
    raw["options"] = options
    return raw


def _split_inputs(inputs: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    if inputs is None:
        return None, None
    arr = np.asarray(inputs, dtype=float)
    half = arr.shape[0] // 2
    if half < 2:
        fail("inputs", f"expected at least 4 rows to split into search and evaluation draws, "
                       f"got {arr.shape[0]}")
    return arr[:half], arr[half:]


def optimize_policy(
    spec: Spec | str | Path,
    option: str,
    search: Mapping[str, Sequence[float] | np.ndarray],
    *,
    draws: int = 4000,
    seed: int = 0,
    eval_draws: int | None = None,
    cvar_floor: float | None = None,
    inputs: np.ndarray | None = None,
    n_jobs: int | None = None,
) -> PolicyResult:
    """Choose the trigger thresholds of ``option`` that maximise EV, then re-estimate.

    Parameters
    ----------
    spec : Spec or path
    option : str
        An option of the spec with a state-triggered phase.
    search : mapping of str to sequence of float
        Field -> values (a full grid over the fields): a trigger quantity (its condition's
        threshold, in its units) or ``earliest_days``/``latest_days`` (days).
    draws : int
        Search draws (prior draws of the spec, seed ``seed``).
    seed : int
        Root seed; the fresh draws use the independent stream :func:`eval_seed`.
    eval_draws : int, optional
        Fresh draws for the re-estimate (default ``draws``).
    cvar_floor : float, optional
        Lowest acceptable CVaR of the policy (dkm2, tail ``spec.cvar_alpha``).
    inputs : numpy.ndarray, optional
        Input matrix (e.g. posterior draws of a result set) instead of prior draws: its
        first half is searched and its second half re-estimates (``draws`` and
        ``eval_draws`` are then ignored).
    n_jobs : int, optional
        Engine threads.

    Returns
    -------
    PolicyResult

    Raises
    ------
    ArgumentError
        Naming ``option``, ``search``, ``draws``, ``eval_draws``, ``cvar_floor`` or
        ``seed``.
    SpecError
        A grid value that makes the trigger invalid (e.g. a negative threshold), naming
        the field of the generated option.
    """
    spec = as_spec(spec)
    if not isinstance(option, str) or option not in spec.options:
        fail("option", f"expected one of {', '.join(spec.option_names)}, got {option!r}")
    seed = check_seed(seed)
    draws = check_int(draws, "draws", minimum=2)
    n_eval = draws if eval_draws is None else check_int(eval_draws, "eval_draws", minimum=2)
    if cvar_floor is not None:
        cvar_floor = check_real(cvar_floor, "cvar_floor")
    names, grid = search_grid(search)
    fixed = tuple(o for o, op in spec.options.items()
                  if o != option and not any(ph.trigger for ph in op.phases))
    if not fixed:
        fail("option", "expected at least one option without a trigger to compare with")
    in_search, in_eval = _split_inputs(inputs)
    s_spec = spec_from_dict(_policy_raw(spec, option, names, grid, fixed), path=spec.path)
    out = run_engine(s_spec, draws, seed, inputs=in_search, n_jobs=n_jobs)
    nf = len(fixed)
    vals = out.values[:, nf:]
    ev = vals.mean(axis=0)
    mcse = vals.std(axis=0, ddof=1) / np.sqrt(vals.shape[0])
    cv = cvar(vals, spec.cvar_alpha)
    best = select_policy(vals, cvar_alpha=spec.cvar_alpha, cvar_floor=cvar_floor)
    best_fixed = fixed[int(np.argmax(out.values[:, :nf].mean(axis=0)))]
    # fresh draws: the fixed options and the chosen policy only
    e_seed = eval_seed(seed)
    e_spec = spec_from_dict(_policy_raw(spec, option, names, grid[best:best + 1], fixed,
                                        label="{option}"), path=spec.path)
    e_out = run_engine(e_spec, n_eval, e_seed, inputs=in_eval, n_jobs=n_jobs)
    pol = e_out.values[:, nf]
    fix_ev = e_out.values[:, :nf].mean(axis=0)
    fix_mcse = e_out.values[:, :nf].std(axis=0, ddof=1) / np.sqrt(e_out.n_draws)
    flex, flex_se = paired_difference(pol, e_out.values[:, fixed.index(best_fixed)])
    td = np.asarray(e_out.trigger_day)[:, nf] if e_out.trigger_day is not None else np.array([])
    fired = ~np.isnan(td)
    return PolicyResult(
        option=option, names=names, grid=grid, search_ev=ev, search_ev_mcse=mcse,
        search_cvar=cv, best=best, fixed_options=fixed, best_fixed=best_fixed,
        eval_ev=float(pol.mean()), eval_ev_mcse=float(pol.std(ddof=1) / np.sqrt(pol.size)),
        eval_cvar=float(cvar(pol[:, None], spec.cvar_alpha)[0]),
        eval_fixed_ev=fix_ev, eval_fixed_ev_mcse=fix_mcse, flexibility=flex,
        flexibility_mcse=flex_se, fired_probability=float(fired.mean()) if td.size else 0.0,
        trigger_day_mean=float(td[fired].mean()) if fired.any() else float("nan"),
        search_draws=int(out.n_draws), eval_draws=int(e_out.n_draws), seed=seed,
        eval_seed=e_seed, cvar_alpha=float(spec.cvar_alpha), cvar_floor=cvar_floor,
    )


def policy_datasets(res: PolicyResult) -> dict[str, xr.Dataset]:
    """The ``/policy/search`` and ``/policy/choice`` groups of a :class:`PolicyResult`.

    ``search`` has the EV surface over ``grid_point`` with one coordinate per searched
    field; ``choice`` the re-estimate on fresh draws and the value of flexibility.
    """
    coords: dict[str, Any] = {GRID_POINT: np.arange(res.grid.shape[0])}
    units = {n: TRIGGER_QUANTITIES.get(n, "day") for n in res.names}
    for k, name in enumerate(res.names):
        coords[name] = (GRID_POINT, res.grid[:, k], {"units": units[name],
                                                     "long_name": f"searched {name}"})
    attrs = {"option": res.option, "searched": ",".join(res.names), "seed": res.seed,
             "search_draws": res.search_draws, "cvar_alpha": res.cvar_alpha,
             "cvar_floor": "none" if res.cvar_floor is None else res.cvar_floor}
    search = xr.Dataset(
        {"expected_value": ((GRID_POINT,), res.search_ev, {
            "long_name": "expected value of the policy at the grid point (search draws)",
            "units": VALUE_UNITS}),
         "expected_value_mcse": ((GRID_POINT,), res.search_ev_mcse, {
             "long_name": "Monte Carlo standard error of expected_value", "units": VALUE_UNITS}),
         "cvar": ((GRID_POINT,), res.search_cvar, {
             "long_name": "CVaR of the policy at the grid point (search draws)",
             "units": VALUE_UNITS})},
        coords=coords, attrs=attrs)
    choice = xr.Dataset(
        {"best_threshold": ((SEARCHED,), res.grid[res.best], {
            "long_name": "chosen value of each searched field", "units": "per field "
            "(attribute field_units)"}),
         "policy_expected_value": ((), res.eval_ev, {
             "long_name": "EV of the chosen policy, re-estimated on fresh draws",
             "units": VALUE_UNITS}),
         "policy_expected_value_mcse": ((), res.eval_ev_mcse, {
             "long_name": "MCSE of policy_expected_value", "units": VALUE_UNITS}),
         "policy_cvar": ((), res.eval_cvar, {
             "long_name": "CVaR of the chosen policy on fresh draws", "units": VALUE_UNITS}),
         "fixed_expected_value": ((OPTION,), res.eval_fixed_ev, {
             "long_name": "EV of each fixed option on the fresh draws", "units": VALUE_UNITS}),
         "fixed_expected_value_mcse": ((OPTION,), res.eval_fixed_ev_mcse, {
             "long_name": "MCSE of fixed_expected_value", "units": VALUE_UNITS}),
         "value_of_flexibility": ((), res.flexibility, {
             "long_name": "EV(best policy) - EV(best fixed option), fresh draws (paired)",
             "units": VALUE_UNITS}),
         "value_of_flexibility_mcse": ((), res.flexibility_mcse, {
             "long_name": "MCSE of value_of_flexibility", "units": VALUE_UNITS}),
         "fired_probability": ((), res.fired_probability, {
             "long_name": "probability that the chosen policy's trigger fires (fresh draws)",
             "units": "1"}),
         "trigger_day_mean": ((), res.trigger_day_mean, {
             "long_name": "mean day after the decision date on which it fires",
             "units": "day"})},
        coords={SEARCHED: res.names, OPTION: list(res.fixed_options)},
        attrs={**attrs, "best_grid_point": res.best, "best_fixed_option": res.best_fixed,
               "eval_seed": str(res.eval_seed), "eval_draws": res.eval_draws,
               "field_units": ",".join(units[n] for n in res.names),
               "description": "the policy chosen on the search draws, re-estimated with the "
                              "fixed options on fresh draws (independent seed stream): no "
                              "optimiser's curse in these figures"})
    return {"search": search, "choice": choice}
