"""Dated observations of the campaign, used to calibrate the model (issue 3).

A spec may list observations as a top-level array of tables::

    [[observations]]
    name = "area_2024_08_16"
    date = 2024-08-16
    quantity = "area_held"
    value = 1250.0
    interval = [1000.0, 1550.0]
    level = 0.9
    source = "Essay: 'Within days ... capturing about 1,250 square kilometers'."

Fields
------
``name``
    Unique identifier (letters, digits, ``_``); the ``observation`` coordinate.
``date``
    TOML date. The observation is compared with the model state at the *end* of that
    day. It must lie on or after 2024-08-06 and strictly before the decision date
    (no look-ahead: the decision is taken at the start of the decision day).
``quantity``
    One of :data:`QUANTITIES` (units there).
``value``
    The reported figure, in the quantity's units; it and the ``interval`` must lie in
    the quantity's physical domain (catalogue ``Quantity.domain``: e.g. an area held
    is ``>= 0``).
``sd`` *or* ``interval = [lo, hi]`` with ``level`` (default 0.9)
    The measurement uncertainty. ``sd`` gives a **normal** likelihood
    ``value ~ N(model, sd^2)``. An ``interval`` gives a **lognormal** likelihood
    ``log(value) ~ N(log(model), sigma^2)`` with
    ``sigma = ln(hi / lo) / (2 z)`` and ``z = Phi^-1((1 + level) / 2)``: the stated
    interval, read as "the truth is within [lo, hi] with probability ``level``", fixes
    the relative uncertainty; ``value`` must lie strictly inside it.
``source``
    Where the figure comes from (an essay quote, a dated public figure, or
    "analyst judgement" with the reasoning).

Every problem raises :class:`~kursk_da.errors.SpecError` whose path names the field,
e.g. ``observations[2].date``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scipy import special

from kursk_da.dynamics.catalogue import OBSERVABLES
from kursk_da.errors import SpecError
from kursk_da.spec._domains import check_value
from kursk_da.spec._plans import EPOCH, day_of

__all__ = [
    "QUANTITIES",
    "Observation",
    "parse_observations",
    "select_observations",
]

QUANTITIES: dict[str, tuple[str, str]] = {
    q.name: (q.units, f"{q.long_name} ({q.reads()})") for q in OBSERVABLES
}
"""Observable quantities: name -> (units, meaning in terms of the model state).

Derived from :data:`kursk_da.dynamics.catalogue.OBSERVABLES`; add a row there to add one.
"""

_ROWS = {q.name: q for q in OBSERVABLES}
_KEYS = {"name", "date", "quantity", "value", "sd", "interval", "level", "source", "description"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Observation:
    """One dated observation and its likelihood.

    Attributes
    ----------
    name : str
        Identifier (the ``observation`` coordinate).
    date : datetime.date
        Calendar date; compared with the state at the end of that day.
    quantity : str
        One of :data:`QUANTITIES`.
    value : float
        Reported value, in ``units``.
    likelihood : str
        ``"normal"`` (from ``sd``) or ``"lognormal"`` (from ``interval``).
    scale : float
        Measurement standard deviation: in ``units`` for ``"normal"``, of the natural
        log (dimensionless) for ``"lognormal"``.
    source : str
        Provenance.
    interval : tuple of float or None
        The stated interval ``(lo, hi)``, in ``units``, if given.
    level : float or None
        Probability content of ``interval``.
    description : str
        Free text.
    """

    name: str
    date: dt.date
    quantity: str
    value: float
    likelihood: str
    scale: float
    source: str
    interval: tuple[float, float] | None = None
    level: float | None = None
    description: str = ""

    @property
    def day(self) -> int:
        """Day index (days since 2024-08-06)."""
        return day_of(self.date)

    @property
    def units(self) -> str:
        """Units of ``value``."""
        return QUANTITIES[self.quantity][0]


def _number(val: Any, path: str) -> float:
    if isinstance(val, bool) or not isinstance(val, int | float):
        raise SpecError(path, f"expected a finite number, got {val!r}")
    try:
        x = float(val)
    except OverflowError:  # an integer beyond the float range
        x = math.inf
    if not math.isfinite(x):
        raise SpecError(path, f"expected a finite number, got {val!r}")
    return x


def _parse_one(tbl: Any, path: str, decision_date: dt.date) -> Observation:
    if not isinstance(tbl, Mapping):
        raise SpecError(path, f"expected a table, got {type(tbl).__name__}")
    bad = set(tbl) - _KEYS
    if bad:
        raise SpecError(f"{path}.{sorted(bad)[0]}",
                        f"unknown field; expected {', '.join(sorted(_KEYS))}")
    for key in ("name", "date", "quantity", "value", "source"):
        if key not in tbl:
            raise SpecError(f"{path}.{key}", "missing required field")
    name = tbl["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpecError(f"{path}.name", f"expected an identifier like 'area_aug', got {name!r}")
    date = tbl["date"]
    if isinstance(date, dt.datetime) or not isinstance(date, dt.date):
        raise SpecError(f"{path}.date", f"expected a date like 2024-08-16, got {date!r}")
    if date < EPOCH:
        raise SpecError(f"{path}.date",
                        f"expected a date on or after {EPOCH.isoformat()}, got {date}")
    check_no_look_ahead(date, decision_date, f"{path}.date")
    quantity = tbl["quantity"]
    if not isinstance(quantity, str) or quantity not in QUANTITIES:
        raise SpecError(f"{path}.quantity",
                        f"expected one of {', '.join(QUANTITIES)}, got {quantity!r}")
    value = _number(tbl["value"], f"{path}.value")
    row = _ROWS[quantity]
    what = f"{quantity} ({row.units})"
    check_value(value, row.domain, f"{path}.value", what)
    source = tbl["source"]
    if not isinstance(source, str) or not source.strip():
        raise SpecError(f"{path}.source", f"expected a non-empty string, got {source!r}")
    description = tbl.get("description", "")
    if not isinstance(description, str):
        raise SpecError(f"{path}.description", f"expected a string, got {description!r}")

    has_sd, has_int = "sd" in tbl, "interval" in tbl
    if has_sd == has_int:
        raise SpecError(path, "expected exactly one of 'sd' (normal likelihood) or "
                              "'interval' with 'level' (lognormal likelihood)")
    if has_sd:
        if "level" in tbl:
            raise SpecError(f"{path}.level", "'level' goes with 'interval', not with 'sd'")
        sd = _number(tbl["sd"], f"{path}.sd")
        if sd <= 0:
            raise SpecError(f"{path}.sd", f"expected a positive number, got {sd!r}")
        return Observation(name, date, quantity, value, "normal", sd, source,
                           description=description)
    interval = tbl["interval"]
    if not (isinstance(interval, list | tuple) and len(interval) == 2):
        raise SpecError(f"{path}.interval", f"expected [lo, hi], got {interval!r}")
    lo = _number(interval[0], f"{path}.interval")
    hi = _number(interval[1], f"{path}.interval")
    for end in (lo, hi):
        check_value(end, row.domain, f"{path}.interval", what)
    if not 0 < lo < hi:
        raise SpecError(f"{path}.interval", f"expected 0 < lo < hi, got {interval!r}")
    if not lo < value < hi:
        raise SpecError(f"{path}.value", f"expected a value inside the interval "
                                         f"[{lo:g}, {hi:g}], got {value:g}")
    level = _number(tbl.get("level", 0.9), f"{path}.level")
    if not 0 < level < 1:
        raise SpecError(f"{path}.level", f"expected a probability in (0, 1), got {level!r}")
    z = float(special.ndtri(0.5 + level / 2.0))
    sigma = math.log(hi / lo) / (2.0 * z)
    return Observation(name, date, quantity, value, "lognormal", sigma, source,
                       interval=(lo, hi), level=level, description=description)


def check_no_look_ahead(date: dt.date, decision_date: dt.date, path: str) -> None:
    """Refuse an observation that would not be known at the decision.

    Raises
    ------
    SpecError
        If ``date`` is on or after ``decision_date`` (the state at the end of the
        decision day already depends on the option chosen).
    """
    if date >= decision_date:
        raise SpecError(path, f"observation dated {date} is not before the decision date "
                              f"{decision_date} (no look-ahead: only data known when the "
                              "decision is taken may calibrate the model)")


def parse_observations(raw: Any, decision_date: dt.date) -> tuple[Observation, ...]:
    """Parse and validate the ``[[observations]]`` array of a spec.

    Parameters
    ----------
    raw : list of tables or None
        The parsed TOML array (``None`` or missing means no observations).
    decision_date : datetime.date
        The spec's decision date; later (or same-day) observations are refused.

    Returns
    -------
    tuple of Observation
        Sorted by date (stable for equal dates).

    Raises
    ------
    SpecError
        Naming the offending field, e.g. ``observations[1].date``.
    """
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SpecError("observations", "expected an array of tables ([[observations]])")
    out = [_parse_one(tbl, f"observations[{i}]", decision_date) for i, tbl in enumerate(raw)]
    seen: set[str] = set()
    for i, ob in enumerate(out):
        if ob.name in seen:
            raise SpecError(f"observations[{i}].name", f"duplicate name {ob.name!r}")
        seen.add(ob.name)
    return tuple(sorted(out, key=lambda o: o.date))


def select_observations(
    observations: Sequence[Observation], cutoff: dt.date | None
) -> tuple[tuple[Observation, ...], tuple[Observation, ...]]:
    """Split observations into those dated on or before ``cutoff`` and the withheld rest.

    Parameters
    ----------
    observations : sequence of Observation
    cutoff : datetime.date or None
        ``None`` uses every observation.

    Returns
    -------
    (used, withheld) : tuple of tuples of Observation
    """
    if cutoff is None:
        return tuple(observations), ()
    used = tuple(o for o in observations if o.date <= cutoff)
    withheld = tuple(o for o in observations if o.date > cutoff)
    return used, withheld
