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

``posture = "withdraw"`` is ``"defend"`` with the target force set to zero
(``force_scale = 0``, ``force_added = 0``); giving a non-zero force with it is an
error. Lever values are numbers or names of entries of ``[parameters]`` (uncertain
levers, e.g. the size of the reinforcement of a renewed offensive).
"""

from __future__ import annotations

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

__all__ = ["EPOCH", "Phase", "parse_phases", "compile_schedule", "day_of", "date_of"]

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
}
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
    """

    start_day: int
    posture: str
    force_scale: Lever = 1.0
    force_added: Lever = 0.0
    force_initial: Lever | None = None
    strike_intensity: Lever = 0.0
    loss_multiplier: Lever = 1.0
    surprise: bool = False

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

    Returns
    -------
    tuple of Phase
        Sorted by start day; the first starts on ``plan_start``.

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
        if ("start" in tbl) == ("after_days" in tbl):
            raise SpecError(p, "expected exactly one of 'start' (a date) or 'after_days' (days)")
        if "start" in tbl:
            start = tbl["start"]
            if isinstance(start, dt.datetime) or not isinstance(start, dt.date):
                raise SpecError(f"{p}.start", f"expected a date like 2025-01-05, got {start!r}")
            day = day_of(start)
        else:
            after = tbl["after_days"]
            after = check_int(after, f"{p}.after_days", minimum=0, error=SpecError)
            day = plan_start + after
        if not plan_start <= day < plan_end:
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
            )
        )
    phases.sort(key=lambda ph: ph.start_day)
    days = [ph.start_day for ph in phases]
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
        Sorted phases, the first starting on ``start``.
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
