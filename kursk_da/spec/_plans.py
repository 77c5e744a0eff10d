"""Plans: the history before the decision and each strategic option, as phases.

A plan is a list of phases. Each phase starts on a day and sets the Ukrainian
posture and the levers of :data:`kursk_da.dynamics.catalogue.LEVER_NAMES` until
the next phase starts. Options are *interventions on the same model*: they differ
only in their plans, so a user adds an option in the spec without code.

TOML form of a phase (``[[options.<name>.phases]]`` or ``[[history.phases]]``)::

    [[options.renewed_offensive.phases]]
    after_days = 0            # or: start = 2025-01-05 (a date)
    posture = "attack"        # "attack" | "defend" | "withdraw"
    force_scale = 1.0         # target force as a multiple of ua_force_max      [1]
    force_added = "renewed_added_forces"  # troops added to the target, number or parameter name
    force_initial = 12000     # optional: set the force to this many troops at phase start
    strike_intensity = 1.0    # long-range strikes, 0..1                           [1]
    loss_multiplier = 0.8     # multiplier of Ukraine's attacker loss rate         [1]
    surprise = false          # a surprise attack starts with this phase

A phase may instead start on a **trigger**, a condition on the simulated state
(evaluated per draw and day by the compiled kernel, after the decision date only)::

    [[options.hold_until_untenable.phases]]
    posture = "withdraw"
    [options.hold_until_untenable.phases.trigger]
    any = [{ quantity = "area_held", below = 250.0 },      # km2
           { quantity = "force_ratio", above = 4.0 }]      # Russian / Ukrainian troops
    earliest_days = 7          # not before the decision date + 7 days (default 0)
    latest_days = 150          # at the latest on the decision date + 150 days (default: never)

``any`` (or) / ``all`` (and) is a list of 1 to :data:`MAX_CONDITIONS` conditions,
each with a ``quantity`` of :data:`TRIGGER_QUANTITIES` and exactly one of ``below``
or ``above``. On day ``h`` of the decision window (``earliest_days <= h``) the
condition is tested on the state at the start of the day (the end of day ``h - 1``,
so a day's observation acts the next day); the first day it holds, or
``latest_days``, the triggered phase starts and lasts to the horizon (dated phases
after it no longer apply). A triggered phase has no ``start``/``after_days``; an
option has at most one, and the history none. Casualty quantities count from the
decision date.

``posture = "withdraw"`` is ``"defend"`` with the target force set to zero
(``force_scale = 0``, ``force_added = 0``); giving a non-zero force with it is an
error. Lever values are numbers or names of entries of ``[parameters]`` (uncertain
levers, e.g. the size of the reinforcement of a renewed offensive).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from kursk_da.dynamics.catalogue import (
    J_ATTACK,
    J_FORCE_ADDED,
    J_FORCE_INITIAL,
    J_FORCE_SCALE,
    J_LOSS_MULTIPLIER,
    J_RESET_FORCE,
    J_RESET_SURPRISE,
    J_STRIKE,
    LEVER_NAMES,
)
from kursk_da.errors import SpecError
from kursk_da.validation import check_int

__all__ = ["EPOCH", "Phase", "Condition", "Trigger", "TriggerArrays", "TRIGGER_QUANTITIES",
           "MAX_CONDITIONS", "parse_phases", "compile_schedule", "compile_triggers",
           "day_of", "date_of"]

EPOCH = dt.date(2024, 8, 6)
"""Day 0 of every simulation: the first Kursk offensive, 6 August 2024."""

POSTURES = ("attack", "defend", "withdraw")
_PHASE_KEYS = {
    "start",
    "after_days",
    "posture",
    "force_scale",
    "force_added",
    "force_initial",
    "strike_intensity",
    "loss_multiplier",
    "surprise",
    "description",
    "trigger",
}
TRIGGER_QUANTITIES: dict[str, str] = {
    "area_held": "km2",
    "force_ratio": "1",
    "ua_force": "troops",
    "ru_force": "troops",
    "ua_casualties": "troops",
    "ru_casualties": "troops",
}
"""Quantities a trigger condition may test (kernel codes in this order) and their units.

``force_ratio`` is Russian over Ukrainian troops in Kursk; casualties count from the
decision date."""
MAX_CONDITIONS = 8
"""Most conditions of one trigger."""
_TRIGGER_KEYS = {"any", "all", "earliest_days", "latest_days", "description"}
_LEVER_BOUNDS: dict[str, tuple[float, float]] = {
    "force_scale": (0.0, 10.0),
    "force_added": (0.0, 1e6),
    "force_initial": (0.0, 1e6),
    "strike_intensity": (0.0, 1.0),
    "loss_multiplier": (0.0, 10.0),
}

Lever = float | str  # a number, or the name of a parameter


def _as_float(val: float) -> float:
    """``float(val)``, infinite for an integer too large for a float."""
    try:
        return float(val)
    except OverflowError:
        return math.inf


def day_of(date: dt.date) -> int:
    """Day index of a calendar date (days since 2024-08-06)."""
    return (date - EPOCH).days


def date_of(day: int) -> dt.date:
    """Calendar date of a day index."""
    return EPOCH + dt.timedelta(days=int(day))


def _date_text(day: int) -> str:
    """ISO date of a day index, or ``day N`` when it is beyond the calendar."""
    try:
        return date_of(day).isoformat()
    except (OverflowError, ValueError):
        return f"day {day}"


@dataclass(frozen=True)
class Condition:
    """One condition of a trigger: ``quantity < value`` (below) or ``> value`` (above).

    Attributes
    ----------
    quantity : str
        One of :data:`TRIGGER_QUANTITIES`.
    above : bool
        True for ``above``, False for ``below``.
    value : float
        Threshold, in the quantity's units.
    """

    quantity: str
    above: bool
    value: float


@dataclass(frozen=True)
class Trigger:
    """When a triggered phase starts.

    Attributes
    ----------
    conditions : tuple of Condition
    combine : str
        ``"any"`` (or) or ``"all"`` (and).
    earliest_day, latest_day : int
        Absolute days (since 2024-08-06): the phase starts no earlier than
        ``earliest_day`` and at the latest on ``latest_day`` (``-1``: no latest day).
    """

    conditions: tuple[Condition, ...]
    combine: str
    earliest_day: int
    latest_day: int = -1

    def with_threshold(self, quantity: str, value: float) -> Trigger:
        """The trigger with the threshold of every condition on ``quantity`` set to ``value``."""
        conds = tuple(Condition(c.quantity, c.above, float(value)) if c.quantity == quantity
                      else c for c in self.conditions)
        return Trigger(conds, self.combine, self.earliest_day, self.latest_day)


def parse_trigger(tbl: Any, path: str, *, plan_start: int, plan_end: int) -> Trigger:
    """Validate a ``trigger`` table (see the module docstring).

    Raises
    ------
    SpecError
        Naming the field: unknown key, not exactly one of ``any``/``all``, an empty or
        too long list, an unknown quantity, not exactly one of ``below``/``above``, a
        non-finite or negative threshold, days outside the horizon or ``earliest >
        latest``.
    """
    if not isinstance(tbl, Mapping):
        raise SpecError(path, f"expected a table with 'any' or 'all', got {tbl!r}")
    unknown = set(tbl) - _TRIGGER_KEYS
    if unknown:
        raise SpecError(f"{path}.{sorted(unknown, key=str)[0]}",
                        f"unknown key; expected one of {', '.join(sorted(_TRIGGER_KEYS))}")
    if ("any" in tbl) == ("all" in tbl):
        raise SpecError(path, "expected exactly one of 'any' (or) and 'all' (and)")
    combine = "any" if "any" in tbl else "all"
    raw = tbl[combine]
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_CONDITIONS:
        raise SpecError(f"{path}.{combine}",
                        f"expected a list of 1 to {MAX_CONDITIONS} condition tables, got {raw!r}")
    conds = []
    for k, c in enumerate(raw):
        cp = f"{path}.{combine}[{k}]"
        if not isinstance(c, Mapping):
            raise SpecError(cp, f"expected a table like {{quantity = \"area_held\", below = "
                                f"300.0}}, got {c!r}")
        bad = set(c) - {"quantity", "below", "above"}
        if bad:
            raise SpecError(f"{cp}.{sorted(bad, key=str)[0]}",
                            "unknown key; expected quantity and one of below, above")
        q = c.get("quantity")
        if not isinstance(q, str) or q not in TRIGGER_QUANTITIES:
            raise SpecError(f"{cp}.quantity",
                            f"expected one of {', '.join(TRIGGER_QUANTITIES)}, got {q!r}")
        if ("below" in c) == ("above" in c):
            raise SpecError(cp, "expected exactly one of 'below' and 'above'")
        key = "above" if "above" in c else "below"
        val = c[key]
        if isinstance(val, bool) or not isinstance(val, int | float) \
                or not math.isfinite(_as_float(val)) or val < 0:
            raise SpecError(f"{cp}.{key}",
                            f"expected a finite number >= 0 ({TRIGGER_QUANTITIES[q]}), "
                            f"got {val!r}")
        conds.append(Condition(q, key == "above", float(val)))
    horizon = plan_end - plan_start
    earliest = check_int(tbl.get("earliest_days", 0), f"{path}.earliest_days", minimum=0,
                         maximum=horizon - 1, error=SpecError)
    latest = -1
    if "latest_days" in tbl:
        latest_rel = check_int(tbl["latest_days"], f"{path}.latest_days", minimum=0,
                               maximum=horizon - 1, error=SpecError)
        if latest_rel < earliest:
            raise SpecError(f"{path}.latest_days",
                            f"expected a day >= earliest_days ({earliest}), got {latest_rel}")
        latest = plan_start + latest_rel
    return Trigger(tuple(conds), combine, plan_start + earliest, latest)


@dataclass(frozen=True)
class Phase:
    """One phase of a plan.

    Attributes
    ----------
    start_day : int
        First day of the phase (days since 2024-08-06).
    posture : str
        ``"attack"``, ``"defend"`` or ``"withdraw"``.
    force_scale, force_added, strike_intensity, loss_multiplier : float or str
        Lever values (numbers, or parameter names resolved per draw).
    force_initial : float or str or None
        Troops in Kursk at the start of the phase, if the phase sets them.
    surprise : bool
        Whether a surprise attack starts with the phase.
    trigger : Trigger or None
        For a triggered phase, its condition (``start_day`` is then the earliest day).
    """

    start_day: int
    posture: str
    force_scale: Lever = 1.0
    force_added: Lever = 0.0
    force_initial: Lever | None = None
    strike_intensity: Lever = 0.0
    loss_multiplier: Lever = 1.0
    surprise: bool = False
    trigger: Trigger | None = None

    def lever_refs(self) -> set[str]:
        """Names of the parameters this phase refers to."""
        vals = (
            self.force_scale,
            self.force_added,
            self.force_initial,
            self.strike_intensity,
            self.loss_multiplier,
        )
        return {v for v in vals if isinstance(v, str)}


@overload
def _lever(
    table: Mapping[str, Any], key: str, default: Lever, path: str, parameters: Sequence[str]
) -> Lever: ...
@overload
def _lever(
    table: Mapping[str, Any], key: str, default: None, path: str, parameters: Sequence[str]
) -> Lever | None: ...
def _lever(
    table: Mapping[str, Any], key: str, default: Lever | None, path: str, parameters: Sequence[str]
) -> Lever | None:
    if key not in table:
        return default
    val = table[key]
    if isinstance(val, bool):
        raise SpecError(f"{path}.{key}", f"expected a number or a parameter name, got {val!r}")
    if isinstance(val, str):
        if val not in parameters:
            raise SpecError(
                f"{path}.{key}",
                f"unknown parameter {val!r}; expected a number or one of the names in "
                f"[parameters]: {', '.join(sorted(parameters))}",
            )
        return val
    if not isinstance(val, int | float) or not math.isfinite(_as_float(val)):
        raise SpecError(f"{path}.{key}", f"expected a finite number, got {val!r}")
    lo, hi = _LEVER_BOUNDS[key]
    if not lo <= val <= hi:
        raise SpecError(f"{path}.{key}", f"expected a value in [{lo:g}, {hi:g}], got {val!r}")
    return float(val)


def parse_phases(
    raw: Any,
    path: str,
    *,
    plan_start: int,
    plan_end: int,
    parameters: Sequence[str],
    triggers: bool = False,
) -> tuple[Phase, ...]:
    """Validate a list of phase tables into :class:`Phase` objects.

    Parameters
    ----------
    raw : list of dict
        The TOML array of tables.
    path : str
        Dotted path of the list, for error messages (``options.hold.phases``).
    plan_start, plan_end : int
        Day of the first phase and first day after the plan (exclusive).
    parameters : sequence of str
        Names a lever may refer to.
    triggers : bool
        Whether a phase may have a ``trigger`` (options: yes; the history: no).

    Returns
    -------
    tuple of Phase
        Dated phases sorted by start day (the first starts on ``plan_start``), then the
        triggered phase, if any.

    Raises
    ------
    SpecError
        If a phase has an unknown key, a bad posture or lever, or a start outside
        ``[plan_start, plan_end)``, or if no phase starts on ``plan_start``.
    """
    if not isinstance(raw, list) or not raw:
        raise SpecError(path, "expected a non-empty array of phase tables ([[...phases]])")
    phases = []
    for k, tbl in enumerate(raw):
        p = f"{path}[{k}]"
        if not isinstance(tbl, Mapping):
            raise SpecError(p, f"expected a table, got {type(tbl).__name__}")
        unknown = set(tbl) - _PHASE_KEYS
        if unknown:
            raise SpecError(
                f"{p}.{sorted(unknown)[0]}",
                f"unknown key; expected one of {', '.join(sorted(_PHASE_KEYS))}",
            )
        trigger = None
        if "trigger" in tbl:
            if not triggers:
                raise SpecError(f"{p}.trigger", "triggers act only after the decision date; "
                                                "the history has none")
            if "start" in tbl or "after_days" in tbl:
                raise SpecError(f"{p}.trigger", "a triggered phase has no 'start' or "
                                                "'after_days' (use earliest_days/latest_days)")
            trigger = parse_trigger(tbl["trigger"], f"{p}.trigger", plan_start=plan_start,
                                    plan_end=plan_end)
            day = trigger.earliest_day
        elif ("start" in tbl) == ("after_days" in tbl):
            raise SpecError(p, "expected exactly one of 'start' (a date) or 'after_days' (days)")
        elif "start" in tbl:
            start = tbl["start"]
            if isinstance(start, dt.datetime) or not isinstance(start, dt.date):
                raise SpecError(f"{p}.start", f"expected a date like 2025-01-05, got {start!r}")
            day = day_of(start)
        else:
            after = tbl["after_days"]
            after = check_int(after, f"{p}.after_days", minimum=0, error=SpecError)
            day = plan_start + after
        if trigger is None and not plan_start <= day < plan_end:
            raise SpecError(
                f"{p}.{'start' if 'start' in tbl else 'after_days'}",
                f"date {_date_text(day)} is outside the plan, expected a date from "
                f"{date_of(plan_start).isoformat()} to {date_of(plan_end - 1).isoformat()}",
            )
        posture = tbl.get("posture")
        if posture not in POSTURES:
            raise SpecError(
                f"{p}.posture", f"expected one of {', '.join(POSTURES)}, got {posture!r}"
            )
        scale = _lever(tbl, "force_scale", 1.0, p, parameters)
        added = _lever(tbl, "force_added", 0.0, p, parameters)
        if posture == "withdraw":
            if "force_scale" in tbl or "force_added" in tbl:
                raise SpecError(
                    f"{p}.posture",
                    "'withdraw' sets the target force to zero; remove force_scale/force_added",
                )
            scale, added = 0.0, 0.0
        surprise = tbl.get("surprise", False)
        if not isinstance(surprise, bool):
            raise SpecError(f"{p}.surprise", f"expected true or false, got {surprise!r}")
        phases.append(
            Phase(
                start_day=day,
                posture=posture,
                force_scale=scale,
                force_added=added,
                force_initial=_lever(tbl, "force_initial", None, p, parameters),
                strike_intensity=_lever(tbl, "strike_intensity", 0.0, p, parameters),
                loss_multiplier=_lever(tbl, "loss_multiplier", 1.0, p, parameters),
                surprise=surprise,
                trigger=trigger,
            )
        )
    n_trig = sum(ph.trigger is not None for ph in phases)
    if n_trig > 1:
        raise SpecError(path, f"expected at most one triggered phase, got {n_trig}")
    phases.sort(key=lambda ph: (ph.trigger is not None, ph.start_day))
    days = [ph.start_day for ph in phases if ph.trigger is None]
    if not days:
        raise SpecError(path, "expected a dated phase starting on the plan start besides the "
                              "triggered one")
    if len(set(days)) != len(days):
        raise SpecError(path, "two phases start on the same day")
    if days[0] != plan_start:
        raise SpecError(
            path, f"expected a phase starting on {date_of(plan_start).isoformat()} (the plan start)"
        )
    return tuple(phases)


def compile_schedule(
    phases: Sequence[Phase], start: int, end: int, columns: Mapping[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Daily lever schedule of a plan, for the engine kernel.

    Parameters
    ----------
    phases : sequence of Phase
        Sorted phases, the first starting on ``start`` (a triggered phase is ignored:
        see :func:`compile_triggers`).
    start, end : int
        Days covered, ``start <= t < end``.
    columns : mapping
        Column of the input matrix of every parameter a lever may refer to.

    Returns
    -------
    const : float64 array (end - start, len(LEVER_NAMES))
        Lever values, where constant.
    ref : int64 array (end - start, len(LEVER_NAMES))
        Column of the input matrix supplying the lever, or -1 where constant.
    """
    phases = [ph for ph in phases if ph.trigger is None]
    n = end - start
    const = np.zeros((n, len(LEVER_NAMES)))
    ref = np.full((n, len(LEVER_NAMES)), -1, dtype=np.int64)
    for k, ph in enumerate(phases):
        a = ph.start_day - start
        b = (phases[k + 1].start_day - start) if k + 1 < len(phases) else n
        if a >= n:
            break
        b = min(b, n)

        def put(j: int, val: Lever, rows: slice) -> None:
            if isinstance(val, str):
                ref[rows, j] = columns[val]
            else:
                const[rows, j] = val

        rows = slice(max(a, 0), b)
        const[rows, J_ATTACK] = 1.0 if ph.posture == "attack" else 0.0
        put(J_FORCE_SCALE, ph.force_scale, rows)
        put(J_FORCE_ADDED, ph.force_added, rows)
        put(J_STRIKE, ph.strike_intensity, rows)
        put(J_LOSS_MULTIPLIER, ph.loss_multiplier, rows)
        if a >= 0:
            first = slice(a, a + 1)
            if ph.force_initial is not None:
                const[a, J_RESET_FORCE] = 1.0
                put(J_FORCE_INITIAL, ph.force_initial, first)
            if ph.surprise:
                const[a, J_RESET_SURPRISE] = 1.0
    return const, ref


@dataclass(frozen=True)
class TriggerArrays:
    """Triggers of every option as arrays for the compiled kernel and the reference.

    Attributes
    ----------
    mode : int64 array (n_options,)
        0: no trigger; 1: ``all`` (and); 2: ``any`` (or).
    quantity, above : int64 arrays (n_options, MAX_CONDITIONS)
        Code of the quantity (index in :data:`TRIGGER_QUANTITIES`, -1 for an unused
        slot) and 1 for ``above``, 0 for ``below``.
    value : float64 array (n_options, MAX_CONDITIONS)
        Thresholds.
    window : int64 array (n_options, 2)
        Earliest and latest day of the start, relative to the decision day (latest -1:
        none).
    post_const, post_ref : arrays (n_options, N_LEVERS)
        Levers of the triggered phase (constant or input column), its phase-start resets
        (``reset_force``, ``reset_surprise``) applied on its first day only.
    """

    mode: np.ndarray
    quantity: np.ndarray
    above: np.ndarray
    value: np.ndarray
    window: np.ndarray
    post_const: np.ndarray
    post_ref: np.ndarray

    def as_tuple(self) -> tuple[np.ndarray, ...]:
        """The arrays in the kernel's argument order."""
        return (self.mode, self.quantity, self.above, self.value, self.window,
                self.post_const, self.post_ref)


def compile_triggers(
    plans: Sequence[Sequence[Phase]], start: int, columns: Mapping[str, int]
) -> TriggerArrays:
    """Trigger arrays of the options' plans (see :class:`TriggerArrays`).

    Parameters
    ----------
    plans : sequence of sequences of Phase
        Each option's phases.
    start : int
        Decision day (days since 2024-08-06).
    columns : mapping
        Column of the input matrix of every parameter a lever may refer to.
    """
    n_opt = len(plans)
    mode = np.zeros(n_opt, dtype=np.int64)
    qty = np.full((n_opt, MAX_CONDITIONS), -1, dtype=np.int64)
    above = np.zeros((n_opt, MAX_CONDITIONS), dtype=np.int64)
    value = np.zeros((n_opt, MAX_CONDITIONS))
    window = np.full((n_opt, 2), -1, dtype=np.int64)
    post_const = np.zeros((n_opt, len(LEVER_NAMES)))
    post_ref = np.full((n_opt, len(LEVER_NAMES)), -1, dtype=np.int64)
    codes = list(TRIGGER_QUANTITIES)
    for o, phases in enumerate(plans):
        trig = [ph for ph in phases if ph.trigger is not None]
        if not trig:
            continue
        ph = trig[0]
        tr = ph.trigger
        assert tr is not None
        mode[o] = 1 if tr.combine == "all" else 2
        for k, c in enumerate(tr.conditions):
            qty[o, k] = codes.index(c.quantity)
            above[o, k] = int(c.above)
            value[o, k] = c.value
        window[o, 0] = tr.earliest_day - start
        window[o, 1] = tr.latest_day - start if tr.latest_day >= 0 else -1
        dated = dataclasses.replace(ph, start_day=start, trigger=None)
        c1, r1 = compile_schedule([dated], start, start + 1, columns)
        post_const[o], post_ref[o] = c1[0], r1[0]
    return TriggerArrays(mode, qty, above, value, window, post_const, post_ref)
