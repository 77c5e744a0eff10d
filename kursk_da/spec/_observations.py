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

Observations as data (issue 11)
-------------------------------
Instead of the array, a spec may reference a CSV file (path relative to the spec)::

    [observations]
    file = "data/kursk_public_figures_2024.csv"
    exclude_quantities = ["nk_casualties_cum"]     # quantities the model does not read
    [observations.measurement_error]               # log-scale sd of one claim, by kind
    control = 0.08
    strength = 0.15
    losses = 0.2
    undefined_definition = 0.3                     # added for "losses" of no definition
    [[observations.daily]]                         # a daily series, thinned
    file = "data/isw_kursk_russian_advances_daily.csv"
    every_days = 14
    measurement_error = 0.08

The CSV columns are ``date, quantity, value, low, high, claimant, reported_on, source,
note`` (:data:`CSV_COLUMNS`). ``low``/``high`` make a bound ("at least": ``low`` = value;
"up to": ``high`` = value) or an interval (both). ``claimant`` is mapped to a claimant
family (:func:`claimant_family`) and ``quantity`` to a kind of claim
(:data:`CLAIM_KINDS`). Every row becomes an :class:`Observation` with likelihood
``"claim"`` (the calibration's claimant-bias model, :mod:`kursk_da.calibration._bias`).
The rows are read once, when the spec is loaded, and kept in the spec itself
(``observations.rows``), so a result set's stored spec needs no file. No look-ahead: a
row dated **or reported** on or after the decision date is refused, naming the row and
the field (``observations.file[12].reported_on``). A daily series is thinned to one
reading every ``every_days`` days (the first reading on or after each grid date counted
from the first reading), because its readings share their errors (docs/observations.md).

Every problem raises :class:`~kursk_da.errors.SpecError` whose path names the field,
e.g. ``observations[2].date``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scipy import special

from kursk_da.dynamics.catalogue import OBSERVABLES
from kursk_da.errors import SpecError
from kursk_da.spec._domains import check_value
from kursk_da.spec._plans import EPOCH, day_of
from kursk_da.validation import check_input_file, fail

__all__ = [
    "QUANTITIES",
    "CSV_COLUMNS",
    "CLAIMANT_FAMILIES",
    "CLAIM_KINDS",
    "Observation",
    "claimant_family",
    "embed_observation_files",
    "observation_file_paths",
    "MAX_FILE_BYTES",
    "MAX_FILE_ROWS",
    "parse_observations",
    "select_observations",
    "thin_daily",
]

CSV_COLUMNS = ("date", "quantity", "value", "low", "high", "claimant", "reported_on", "source",
               "note")
"""Columns of an observations CSV file (the data set's own, see models/data/README.md)."""

CLAIMANT_FAMILIES: dict[str, tuple[str, ...]] = {
    "ua_officials": ("UA",),
    "ru_officials": ("RU",),
    "osint_maps": ("OSINT",),
    "third_party": ("US", "KR", "other third party"),
}
"""Claimant family -> prefixes of the ``claimant`` column (the data set's conventions):
Ukrainian officials, Russian MoD and commanders, OSINT map projects, third-party
governments (US, South Korea) and media citing unnamed sources."""

CLAIM_KINDS: dict[str, str] = {
    "area_held": "control", "area_held_incl_grey": "control",
    "area_retaken_from_peak": "control", "area_retaken_isw_layer": "control",
    "russian_forces": "strength", "ru_buildup": "strength", "ru_arrivals": "strength",
    "russian_forces_excl_nk": "strength", "nk_troops_in_kursk": "strength",
    "nk_troops_planned": "strength", "ukrainian_forces": "strength",
    "ua_casualties": "losses", "ru_casualties": "losses", "ua_losses_undefined": "losses",
    "ru_losses_undefined": "losses",
}
"""Observable -> kind of claim: ``control`` (ground held or lost), ``strength`` (troops),
``losses`` (casualties). The claimant bias is per family and kind."""

UNDEFINED_DEFINITION = ("ua_losses_undefined", "ru_losses_undefined")
"""Quantities whose claims do not say what they count (extra definition error)."""

_CLAIM_KEY = ("date", "quantity", "value", "low", "high", "claimant")
"""Columns that identify a claim: a row repeating them is a duplicate (refused)."""

MAX_FILE_BYTES = 8 * 2**20
"""The largest observations CSV file read, bytes (8 MiB). Analyst judgement: about 150
times the shipped files (55 kB for 146 rows, about 400 bytes a row); a larger file is
refused before it is read (reading 78 MB of rows took 4 minutes and 2.8 GB)."""
MAX_FILE_ROWS = 20_000
"""The most rows of one observations CSV file. Analyst judgement: a claim a day from
each of ten claimants over five years; every row is embedded in the result set."""

_CSV_KEYS = {"file", "exclude_quantities", "measurement_error", "daily", "rows", "daily_rows"}
_ERROR_KEYS = {"control", "strength", "losses", "undefined_definition"}
_DAILY_KEYS = {"file", "every_days", "measurement_error"}

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
    claimant : str
        Who makes the claim (CSV rows; empty for inline observations).
    family : str
        Claimant family (:data:`CLAIMANT_FAMILIES`; CSV rows).
    kind : str
        Kind of claim (:data:`CLAIM_KINDS`; CSV rows).
    reported_on : datetime.date or None
        Publication date (CSV rows); ``None`` means the ``date``.
    low, high : float or None
        Bound(s) of a claim: "at least" ``low``, "up to" ``high``, or both (interval).
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
    claimant: str = ""
    family: str = ""
    kind: str = ""
    reported_on: dt.date | None = None
    low: float | None = None
    high: float | None = None

    @property
    def known_on(self) -> dt.date:
        """The date the figure became known (``reported_on``, else ``date``)."""
        return self.reported_on if self.reported_on is not None else self.date

    @property
    def censoring(self) -> str:
        """``"none"``, ``"lower"`` (at least), ``"upper"`` (up to) or ``"interval"``."""
        if self.low is not None and self.high is not None:
            return "interval"
        if self.low is not None:
            return "lower"
        return "upper" if self.high is not None else "none"

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
    """Parse and validate the ``[[observations]]`` array (or ``[observations]`` table) of a spec.

    Parameters
    ----------
    raw : list of tables, table or None
        The parsed TOML array (``None`` or missing means no observations), or the
        ``[observations]`` table of a CSV file whose rows :func:`embed_observation_files`
        has embedded (``rows``, ``daily_rows``).
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
    if isinstance(raw, Mapping):
        return tuple(sorted(_parse_table(raw, decision_date), key=lambda o: o.date))
    if not isinstance(raw, list):
        raise SpecError("observations", "expected an array of tables ([[observations]]) "
                                        "or a table with 'file'")
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
        ``None`` uses every observation. An observation is used when it is dated **and**
        reported (``reported_on``) on or before the cutoff.

    Returns
    -------
    (used, withheld) : tuple of tuples of Observation
    """
    if cutoff is None:
        return tuple(observations), ()
    used = tuple(o for o in observations if o.date <= cutoff and o.known_on <= cutoff)
    withheld = tuple(o for o in observations if not (o.date <= cutoff and o.known_on <= cutoff))
    return used, withheld


# ----------------------------------------------------------------------------- CSV files
def claimant_family(claimant: str, path: str = "claimant") -> str:
    """The claimant family of a ``claimant`` entry (:data:`CLAIMANT_FAMILIES`).

    Raises
    ------
    SpecError
        Naming ``path`` if the claimant matches no family.
    """
    text = claimant.strip()
    for fam, prefixes in CLAIMANT_FAMILIES.items():
        if any(text == p or text.startswith(p + " ") or text.startswith(p + "(")
               for p in prefixes):
            return fam
    known = ", ".join(p for ps in CLAIMANT_FAMILIES.values() for p in ps)
    fail(path, f"expected a claimant starting with one of {known}, got {claimant!r}",
         SpecError)


def _read_csv(text: str, path: str) -> list[dict[str, str]]:
    try:
        return _read_rows(text, path)
    except csv.Error as exc:
        fail(path, f"not a readable CSV file: {exc}", SpecError)


def _read_rows(text: str, path: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    cols = tuple(c.strip() for c in reader.fieldnames or ())
    reader.fieldnames = list(cols)
    missing = [c for c in CSV_COLUMNS if c not in cols]
    if missing:
        fail(f"{path}.columns", f"missing column {missing[0]!r}; expected "
                                f"{', '.join(CSV_COLUMNS)}", SpecError)
    rows: list[dict[str, str]] = []
    for row in reader:
        if len(rows) == MAX_FILE_ROWS:
            fail(path, f"more than {MAX_FILE_ROWS} rows; expected at most {MAX_FILE_ROWS} "
                       "(the rows are embedded in the result set)", SpecError)
        if None in row:
            fail(f"{path}[{len(rows)}]", "more fields than columns", SpecError)
        rows.append({c: (row.get(c) or "").strip() for c in CSV_COLUMNS})
    return rows


def _file_text(name: Any, base: Path | None, path: str) -> str:
    if not isinstance(name, str) or not name.strip():
        fail(path, f"expected the path of a CSV file (relative to the spec), got {name!r}",
             SpecError)
    p = _resolve(name, base)
    check_input_file(p, path, SpecError, max_bytes=MAX_FILE_BYTES)  # no fifo: never blocks
    try:
        # utf-8-sig: a byte-order mark (a CSV saved by Excel) is not part of the header
        return p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(path, f"cannot read the observations file {str(p)!r}: {exc}", SpecError)


def _resolve(name: str, base: Path | None) -> Path:
    p = Path(name)
    return base / p if not p.is_absolute() and base is not None else p


def observation_file_paths(raw: Mapping[str, Any], spec_path: str | None) -> list[Path]:
    """The CSV files a spec's ``[observations]`` reads (``file`` and the ``daily`` files),
    resolved as :func:`embed_observation_files` resolves them; names that are not
    strings are skipped (the reader refuses them)."""
    obs = raw.get("observations")
    if not isinstance(obs, Mapping) or "rows" in obs:
        return []
    base = Path(spec_path).resolve().parent if spec_path else None
    names = [obs.get("file")]
    daily = obs.get("daily", [])
    if isinstance(daily, list):
        names += [d.get("file") for d in daily if isinstance(d, Mapping)]
    return [_resolve(n, base) for n in names if isinstance(n, str) and n.strip()]


def embed_observation_files(raw: Mapping[str, Any], spec_path: str | None) -> dict[str, Any]:
    """``raw`` with the rows of the spec's observation CSV files embedded.

    A spec whose ``observations`` is a table with ``file`` (and ``daily`` files) gets
    ``observations.rows`` and ``observations.daily_rows`` (lists of the CSV rows as
    strings), read relative to the spec's directory; a table that already has them (a
    spec from a result set) is returned unchanged, as is every other spec.

    Raises
    ------
    SpecError
        A missing or unreadable file (``observations.file``), a missing column.
    """
    obs = raw.get("observations")
    if not isinstance(obs, Mapping) or "rows" in obs or "file" not in obs:
        return dict(raw)
    base = Path(spec_path).resolve().parent if spec_path else None
    tbl = dict(obs)
    tbl["rows"] = _read_csv(_file_text(obs.get("file"), base, "observations.file"),
                            "observations.file")
    daily = obs.get("daily", [])
    if not isinstance(daily, list):
        fail("observations.daily", "expected an array of tables ([[observations.daily]])",
             SpecError)
    tbl["daily_rows"] = [
        _read_csv(_file_text(d.get("file") if isinstance(d, Mapping) else None, base,
                             f"observations.daily[{k}].file"), f"observations.daily[{k}].file")
        for k, d in enumerate(daily)]
    return {**raw, "observations": tbl}


def _csv_number(text: str, path: str, required: bool) -> float | None:
    if not text:
        if required:
            fail(path, "missing value (expected a number)", SpecError)
        return None
    try:
        x = float(text.replace("_", ""))
    except ValueError:
        fail(path, f"expected a number, got {text!r}", SpecError)
    if not math.isfinite(x):
        fail(path, f"expected a finite number, got {text!r}", SpecError)
    return x


def _csv_date(text: str, path: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(path, f"expected a date like 2024-08-16, got {text!r}", SpecError)


def _error_table(raw: Any, path: str) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        fail(path, "expected a table of log-scale standard deviations by kind of claim "
                   f"({', '.join(sorted(_ERROR_KEYS))})", SpecError)
    out = {}
    for key in sorted(_ERROR_KEYS):
        if key not in raw:
            fail(f"{path}.{key}", "missing required field", SpecError)
        val = _number(raw[key], f"{path}.{key}")
        if val <= 0 and key != "undefined_definition" or val < 0:
            fail(f"{path}.{key}", f"expected a positive number, got {val!r}", SpecError)
        out[key] = val
    bad = set(raw) - _ERROR_KEYS
    if bad:
        fail(f"{path}.{sorted(bad)[0]}",
             f"unknown field; expected {', '.join(sorted(_ERROR_KEYS))}", SpecError)
    return out


def _csv_row(row: Mapping[str, str], path: str, decision_date: dt.date, name: str,
             sd: float) -> Observation:
    date = _csv_date(row["date"], f"{path}.date")
    if date < EPOCH:
        fail(f"{path}.date", f"expected a date on or after {EPOCH.isoformat()}, got {date}",
             SpecError)
    check_no_look_ahead(date, decision_date, f"{path}.date")
    reported = _csv_date(row["reported_on"], f"{path}.reported_on")
    if reported < date:
        fail(f"{path}.reported_on", f"expected a date on or after the row's date {date}, "
                                    f"got {reported}", SpecError)
    if reported >= decision_date:
        fail(f"{path}.reported_on", f"observation reported on {reported} is not before the "
                                    f"decision date {decision_date} (no look-ahead: only data "
                                    "known when the decision is taken may calibrate the model)",
             SpecError)
    quantity = row["quantity"]
    q = _ROWS[quantity]
    what = f"{quantity} ({q.units})"
    value = _csv_number(row["value"], f"{path}.value", True)
    assert value is not None
    check_value(value, q.domain, f"{path}.value", what)
    low = _csv_number(row["low"], f"{path}.low", False)
    high = _csv_number(row["high"], f"{path}.high", False)
    for key, bound in (("low", low), ("high", high)):
        if bound is not None:
            check_value(bound, q.domain, f"{path}.{key}", what)
    if low is not None and high is not None and not low < high:
        fail(f"{path}.high", f"expected low < high, got low {low:g}, high {high:g}", SpecError)
    if (low is not None and value < low) or (high is not None and value > high):
        fail(f"{path}.value", f"expected a value within the row's bounds, got {value:g}",
             SpecError)
    if value <= 0:
        fail(f"{path}.value", f"expected a positive claim (the bias model is multiplicative), "
                              f"got {value:g}", SpecError)
    claimant = row["claimant"]
    family = claimant_family(claimant, f"{path}.claimant")
    source = row["source"]
    if not source:
        fail(f"{path}.source", "expected a non-empty source", SpecError)
    return Observation(name, date, quantity, value, "claim", sd, source,
                       description=row["note"], claimant=claimant, family=family,
                       kind=CLAIM_KINDS[quantity], reported_on=reported, low=low, high=high)



def _check_excluded(excl: list[str], in_file: set[Any]) -> None:
    """Refuse a name of ``exclude_quantities`` that no row of the file has."""
    for j, name in enumerate(excl):
        if name not in in_file:
            fail(f"observations.exclude_quantities[{j}]",
                 f"{name!r} is not a quantity of the file (its quantities: "
                 f"{', '.join(sorted(str(q) for q in in_file))})", SpecError)


def _parse_table(raw: Mapping[str, Any], decision_date: dt.date) -> list[Observation]:
    if "file" not in raw:
        fail("observations", "expected an array of tables ([[observations]]) or a table with "
                             "'file' (a CSV file of observations)", SpecError)
    bad = set(raw) - _CSV_KEYS
    if bad:
        fail(f"observations.{sorted(bad)[0]}",
             f"unknown field; expected {', '.join(sorted(_CSV_KEYS - {'rows', 'daily_rows'}))}",
             SpecError)
    if "rows" not in raw:
        fail("observations.file", "the rows of the file are not loaded (load the spec with "
                                  "kursk_da.load_spec or spec_from_dict(raw, path=...))",
             SpecError)
    if not isinstance(raw["rows"], list):
        fail("observations.file", "expected the rows of the file (a list)", SpecError)
    excl = raw.get("exclude_quantities", [])
    if not (isinstance(excl, list) and all(isinstance(x, str) for x in excl)):
        fail("observations.exclude_quantities", f"expected a list of names, got {excl!r}",
             SpecError)
    err = _error_table(raw.get("measurement_error"), "observations.measurement_error")
    in_file = {row.get("quantity") for row in raw["rows"] if isinstance(row, Mapping)}
    out: list[Observation] = []
    claims: dict[tuple[str, ...], int] = {}
    for i, row in enumerate(raw["rows"]):
        path = f"observations.file[{i}]"
        if not isinstance(row, Mapping) or any(not isinstance(row.get(c), str)
                                               for c in CSV_COLUMNS):
            fail(path, f"expected a row with the columns {', '.join(CSV_COLUMNS)}", SpecError)
        quantity = row["quantity"]
        if quantity in excl:
            continue
        if quantity not in QUANTITIES:
            fail(f"{path}.quantity", f"expected one of {', '.join(QUANTITIES)} (or a name in "
                                     f"exclude_quantities), got {quantity!r}", SpecError)
        sd = err[CLAIM_KINDS[quantity]]
        if quantity in UNDEFINED_DEFINITION:
            sd = math.hypot(sd, err["undefined_definition"])
        observation = _csv_row(row, path, decision_date, f"r{i:02d}_{quantity}", sd)
        # (after the fields are checked, so a bad field is named first) one claim counted
        # once: the same claimant's same figure for the same date twice
        claim = tuple(row[c] for c in _CLAIM_KEY)
        if claim in claims:
            fail(path, f"duplicate claim: the same {', '.join(_CLAIM_KEY)} as "
                       f"observations.file[{claims[claim]}] (it would be counted twice)",
                 SpecError)
        claims[claim] = i
        out.append(observation)
    _check_excluded(excl, in_file)  # after the rows, so that a bad row is named first
    daily = raw.get("daily", [])
    if not isinstance(daily, list) or not isinstance(raw.get("daily_rows", []), list) or \
            len(daily) != len(raw.get("daily_rows", [])):
        fail("observations.daily", "expected an array of tables ([[observations.daily]]) whose "
                                   "files are loaded", SpecError)
    series: dict[str, int] = {}
    for k, (spec_d, rows) in enumerate(zip(daily, raw.get("daily_rows", []), strict=True)):
        key = repr(rows)
        if key in series:
            fail(f"observations.daily[{k}].file", f"the same series as observations.daily"
                                                  f"[{series[key]}] (listed twice, its readings "
                                                  "would be counted twice)", SpecError)
        series[key] = k
        dpath = f"observations.daily[{k}]"
        if not isinstance(spec_d, Mapping):
            fail(dpath, "expected a table", SpecError)
        badd = set(spec_d) - _DAILY_KEYS
        if badd:
            fail(f"{dpath}.{sorted(badd)[0]}",
                 f"unknown field; expected {', '.join(sorted(_DAILY_KEYS))}", SpecError)
        every = spec_d.get("every_days", 1)
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            fail(f"{dpath}.every_days", f"expected an integer >= 1, got {every!r}", SpecError)
        sd_d = _number(spec_d.get("measurement_error"), f"{dpath}.measurement_error")
        if sd_d <= 0:
            fail(f"{dpath}.measurement_error", f"expected a positive number, got {sd_d!r}",
                 SpecError)
        parsed = []
        readings: dict[tuple[str, str], int] = {}
        for i, row in enumerate(rows):
            path = f"{dpath}.file[{i}]"
            if not isinstance(row, Mapping) or any(not isinstance(row.get(c), str)
                                                   for c in CSV_COLUMNS):
                fail(path, f"expected a row with the columns {', '.join(CSV_COLUMNS)}",
                     SpecError)
            reading = (row["quantity"], row["date"])
            if reading in readings:
                fail(path, f"duplicate reading: {row['quantity']} on {row['date']} again (first "
                           f"{dpath}.file[{readings[reading]}])", SpecError)
            readings[reading] = i
            if row.get("quantity") not in QUANTITIES:
                fail(f"{path}.quantity", f"expected one of {', '.join(QUANTITIES)}, got "
                                         f"{row.get('quantity')!r}", SpecError)
            parsed.append(_csv_row(row, path, decision_date,
                                   f"d{k}_{row['quantity']}_{row['date'].replace('-', '')}", sd_d))
        out.extend(thin_daily(parsed, every))
    seen: set[str] = set()
    for ob in out:
        if ob.name in seen:
            fail("observations", f"duplicate observation {ob.name!r}", SpecError)
        seen.add(ob.name)
    return out


def thin_daily(rows: Sequence[Observation], every_days: int) -> list[Observation]:
    """One reading every ``every_days`` days: the first reading of each block.

    The blocks are ``[start + k * every_days, start + (k + 1) * every_days)`` with
    ``start`` the first reading's date; they do not depend on any cutoff, so a cutoff
    keeps a prefix of the same thinned readings.
    """
    if not rows:
        return []
    rows = sorted(rows, key=lambda o: o.date)
    start = rows[0].date
    out, taken = [], set()
    for ob in rows:
        block = (ob.date - start).days // every_days
        if block not in taken:
            taken.add(block)
            out.append(ob)
    return out
