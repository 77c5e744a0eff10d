"""The model spec: typed, validated, immutable.

A spec is a TOML file (see ``models/kursk_2025.toml`` for a complete, commented
example) with the sections

``[meta]``
    ``name``, ``title``, ``description``.
``[decision]``
    ``date`` (TOML date, from 2024-08-06 to 2026-12-31), ``horizon_days`` (1 to 730),
    ``retention_threshold_km2`` (area that counts as "territory retained"),
    ``cvar_alpha`` (tail probability of CVaR, default 0.05), ``trajectories``
    (number of draws whose daily trajectories are stored, default 200).
``[history]``
    ``phases``: the plan followed from 6 August 2024 up to the decision date
    (required when the decision date is later than 6 August 2024).
``[parameters.<name>]``
    Every campaign parameter of :data:`kursk_da.dynamics.catalogue.PARAMETER_NAMES`
    as a distribution (see :mod:`kursk_da.spec._distributions`) with ``units``,
    ``source`` (an essay quote, a dated public figure, or "analyst judgement") and
    optionally ``group`` and ``description``. Further parameters are allowed when a
    plan lever refers to them.
``[[correlations]]``
    ``params = [a, b]``, ``rank_corr`` (Spearman, in (-1, 1)), ``source``.
``[options.<name>]``
    ``description`` and ``phases`` (see :mod:`kursk_da.spec._plans`).
``[[observations]]``
    Dated observations for the Bayesian calibration (optional; parsed and checked for
    look-ahead by :mod:`kursk_da.spec._observations`).
``[variants.<name>]``
    Competing model structures to calibrate and compare (optional;
    :mod:`kursk_da.spec._variants`): ``description``, ``source`` and ``parameters``
    (overrides of inputs, like a scenario's).
``[value.weights.<attribute>]``
    One weight (a distribution, in value units per attribute unit) for each
    attribute of :data:`kursk_da.dynamics.catalogue.ATTRIBUTE_NAMES`, with ``source``.

Every number must lie in its physical domain (catalogue ``Quantity.domain``): a fixed
value, the support and the central 99.9% interval of a distribution, an observation's
value and interval; see :mod:`kursk_da.spec._domains`, which also bounds a run
(:func:`check_run_size`: ``chunk_size`` and the memory of ``draws x options x days``).
A file that cannot be parsed (invalid TOML, not UTF-8, nested deeper than
:data:`MAX_DEPTH` levels) raises a :class:`SpecError` too.

Specs are immutable; :meth:`Spec.with_parameter`, :meth:`Spec.with_option` and
:meth:`Spec.without_option` return new validated specs. The spec hash is the
SHA-256 of the canonical JSON of its contents, so an edit in code changes it.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kursk_da.dynamics.catalogue import (
    ATTRIBUTE_NAMES,
    ATTRIBUTE_UNITS,
    PARAMETER_GROUPS,
    PARAMETER_NAMES,
    PARAMETER_UNITS,
    REAL,
    Domain,
    quantity,
)
from kursk_da.errors import SpecError
from kursk_da.spec._distributions import Distribution, parse_distribution
from kursk_da.spec._domains import (
    LATEST_DECISION_DATE,
    MAX_HORIZON_DAYS,
    check_distribution,
    check_sizes,
    intersect,
)
from kursk_da.spec._observations import (
    CSV_COLUMNS,
    Observation,
    embed_observation_files,
    observation_file_paths,
    parse_observations,
)
from kursk_da.spec._plans import _LEVER_BOUNDS, EPOCH, Phase, day_of, parse_phases
from kursk_da.spec._scenarios import BASE_SCENARIO, Scenario, parse_scenarios, scenario_raw
from kursk_da.spec._variants import Variant, parse_variants, variant_raw
from kursk_da.spec.copula import rank_correlation
from kursk_da.validation import MAX_NAME_LENGTH, check_input_file, check_text

__all__ = [
    "Parameter",
    "Option",
    "Correlation",
    "Spec",
    "load_spec",
    "spec_files",
    "as_spec",
    "apply_scenario",
    "apply_variant",
    "spec_from_dict",
    "check_run_size",
    "MAX_DEPTH",
    "ATTRIBUTE_UNITS",
    "DEFAULT_GROUPS",
]

# ATTRIBUTE_UNITS (units of the value attributes; weights are in dkm2 per attribute unit)
# is the catalogue's, re-exported.

DEFAULT_GROUPS: dict[str, str] = PARAMETER_GROUPS
"""Group of each campaign parameter unless the spec says otherwise (from the catalogue)."""

WEIGHT_PREFIX = "weight_"
_TOP_KEYS = {
    "meta", "decision", "history", "parameters", "correlations", "options", "value",
    "observations",
}
_TOP_KEYS |= {"scenarios"}  # named input overrides: kursk_da.spec._scenarios
_TOP_KEYS |= {"variants"}  # competing model structures: kursk_da.spec._variants
_META_KEYS = {"name", "title", "description"}
_DECISION_KEYS = {"date", "horizon_days", "retention_threshold_km2", "cvar_alpha", "trajectories"}
_META_PARAM_KEYS = ("units", "source", "group", "description", "label")
MAX_DEPTH = 32
"""Deepest nesting of tables and arrays a spec may have (the shipped specs use 4)."""
# phase key -> catalogue lever it sets (for the domain of an uncertain lever)
_PHASE_LEVERS = {"force_scale": "force_scale", "force_added": "force_added",
                 "force_initial": "force_initial", "strike_intensity": "strike",
                 "loss_multiplier": "loss_multiplier"}


@dataclass(frozen=True)
class Parameter:
    """An uncertain input: a distribution with its units, source and group."""

    name: str
    dist: Distribution
    units: str
    source: str
    group: str
    description: str = ""


@dataclass(frozen=True)
class Option:
    """A strategic option: a named plan from the decision date to the horizon."""

    name: str
    description: str
    phases: tuple[Phase, ...]


@dataclass(frozen=True)
class Correlation:
    """A rank correlation between two inputs (Gaussian copula)."""

    a: str
    b: str
    rank_corr: float
    source: str


@dataclass(frozen=True)
class Spec:
    """A validated model spec (see the module docstring for the TOML form).

    Use :func:`load_spec` or :func:`spec_from_dict` to make one.
    """

    name: str
    title: str
    description: str
    decision_date: dt.date
    horizon_days: int
    retention_threshold: float
    cvar_alpha: float
    trajectories: int
    history: tuple[Phase, ...]
    parameters: Mapping[str, Parameter]
    weights: Mapping[str, Parameter]
    correlations: tuple[Correlation, ...]
    options: Mapping[str, Option]
    raw: Mapping[str, Any] = field(repr=False)
    path: str | None = None
    observations: tuple[Observation, ...] = ()
    scenarios: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Named scenarios (:class:`kursk_da.spec._scenarios.Scenario`), empty by default."""
    variants: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Competing model structures (:class:`kursk_da.spec._variants.Variant`, the base
    variant included), empty when the spec has no ``[variants]``."""

    # ---------------------------------------------------------------- derived
    @property
    def decision_day(self) -> int:
        """Day index of the decision (days since 2024-08-06)."""
        return day_of(self.decision_date)

    @property
    def n_days(self) -> int:
        """Days simulated: history plus horizon."""
        return self.decision_day + self.horizon_days

    @property
    def dates(self) -> np.ndarray:
        """Calendar dates of the simulated days, ``datetime64[ns]``."""
        start = np.datetime64(EPOCH.isoformat(), "D")
        return (start + np.arange(self.n_days)).astype("datetime64[ns]")

    @property
    def option_names(self) -> tuple[str, ...]:
        """Names of the options, in spec order."""
        return tuple(self.options)

    @property
    def inputs(self) -> dict[str, Parameter]:
        """All uncertain inputs in column order: parameters, then value weights."""
        out = dict(self.parameters)
        out.update({WEIGHT_PREFIX + k: v for k, v in self.weights.items()})
        return out

    @property
    def input_names(self) -> tuple[str, ...]:
        """Column names of the input matrix."""
        return tuple(self.inputs)

    @property
    def sha256(self) -> str:
        """SHA-256 of the canonical JSON of the spec contents."""
        return hashlib.sha256(_canonical_json(self.raw).encode()).hexdigest()

    # ---------------------------------------------------------------- edits
    def with_parameter(self, name: str, table: Mapping[str, Any] | float) -> Spec:
        """Return a new spec with parameter ``name`` replaced or added.

        ``table`` is a distribution table as in the TOML file; a bare number fixes
        the parameter. Units, source and group are kept from the old entry unless
        given.
        """
        raw = copy.deepcopy(dict(self.raw))
        old = dict(raw["parameters"].get(name, {}))
        new = {"dist": "fixed", "value": table} if not isinstance(table, Mapping) else dict(table)
        for key in _META_PARAM_KEYS:
            if key in old and key not in new:
                new[key] = old[key]
        new.setdefault("source", "analyst judgement (set in code)")
        raw["parameters"][name] = new
        return spec_from_dict(raw, path=self.path)

    def with_observation(self, table: Mapping[str, Any]) -> Spec:
        """Return a new spec with one more observation, validated like the spec's own.

        The form follows the spec's observations. Inline observations (a
        ``[[observations]]`` array, or none yet): ``table`` is one such table (``name``,
        ``date``, ``quantity``, ``value``, ``source`` and ``sd`` or ``interval``).
        Observations from a CSV file (``[observations] file = ...``): ``table`` is one
        more row of that file (``date``, ``quantity``, ``value``, ``claimant``,
        ``reported_on``, ``source``; optional ``low``, ``high``, ``note``), added to the
        rows stored in the spec (the file is not changed); dates and numbers may be
        given as such or as the file's text.

        Parameters
        ----------
        table : mapping
            The observation.

        Returns
        -------
        Spec

        Raises
        ------
        SpecError
            Naming the field of the new observation (``observations[<i>].<field>`` or
            ``observations.file[<i>].<field>``) that is invalid.

        Examples
        --------
        >>> import datetime as dt, kursk_da as kd
        >>> spec = kd.load_spec("models/kursk_2025.toml")              # doctest: +SKIP
        >>> more = spec.with_observation({                               # doctest: +SKIP
        ...     "date": dt.date(2024, 12, 1), "quantity": "area_held", "value": 800,
        ...     "claimant": "OSINT DeepState", "reported_on": dt.date(2024, 12, 2),
        ...     "source": "my reading of the map"})
        """
        if not isinstance(table, Mapping):
            raise SpecError("observation", f"expected a table, got {type(table).__name__}")
        raw = copy.deepcopy(dict(self.raw))
        obs = raw.get("observations")
        if isinstance(obs, Mapping):  # a CSV file's rows, embedded in the spec
            bad = sorted(set(table) - set(CSV_COLUMNS))
            if bad:
                raise SpecError(f"observation.{bad[0]}", "unknown column; expected "
                                f"{', '.join(CSV_COLUMNS)} (the spec's observations are "
                                "rows of a CSV file)")
            row = {c: _csv_text(table.get(c, "")) for c in CSV_COLUMNS}
            obs = dict(obs)
            obs["rows"] = [*obs.get("rows", []), row]
            raw["observations"] = obs
        else:
            raw["observations"] = [*(obs or []), dict(table)]
        return spec_from_dict(raw, path=self.path)

    def with_option(self, name: str, table: Mapping[str, Any]) -> Spec:
        """Return a new spec with option ``name`` added (or replaced)."""
        raw = copy.deepcopy(dict(self.raw))
        raw["options"][name] = copy.deepcopy(dict(table))
        return spec_from_dict(raw, path=self.path)

    def without_option(self, name: str) -> Spec:
        """Return a new spec without option ``name``."""
        if name not in self.options:
            raise SpecError(
                f"options.{name}", f"no such option; expected one of {self.option_names}"
            )
        raw = copy.deepcopy(dict(self.raw))
        del raw["options"][name]
        return spec_from_dict(raw, path=self.path)


def _csv_text(value: Any) -> str:
    """A value of an observations CSV row as the file's text (dates ISO, numbers repr)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return repr(value)
    return "" if value is None else str(value)


# -------------------------------------------------------------------- loading
def _canonical_json(obj: Any) -> str:
    def default(o: Any) -> Any:
        if isinstance(o, dt.date | dt.datetime):
            return o.isoformat()
        raise TypeError(type(o).__name__)

    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=default)


def load_spec(path: str | Path) -> Spec:
    """Read and validate a TOML model spec.

    Parameters
    ----------
    path : str or Path
        The TOML file.

    Returns
    -------
    Spec

    Raises
    ------
    SpecError
        If the file is missing, is not valid TOML, or any field is invalid; the
        error's ``path`` names the field.
    """
    if not isinstance(path, str | os.PathLike) or not str(path):
        raise SpecError("path", f"expected the path of a TOML spec file, got {path!r}")
    p = check_input_file(path, str(path), SpecError)  # a fifo or device: refused, never read
    if not p.is_file():
        raise SpecError(str(p), "spec file not found (expected a TOML file)")
    try:
        data = p.read_bytes()
        text = data.decode("utf-8-sig")  # a byte-order mark (some editors) is accepted
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise SpecError(f"{p}:{line}", f"not UTF-8 text: byte 0x{data[exc.start]:02x} on line "
                                       f"{line} (expected a UTF-8 TOML file)") from None
    except OSError as exc:
        raise SpecError(str(p), f"cannot read the spec file: {exc.strerror or exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(str(p), f"not valid TOML: {exc}") from None
    except RecursionError:
        raise SpecError(str(p), f"not a usable TOML file: tables or arrays are nested too "
                                f"deeply (expected at most {MAX_DEPTH} levels)") from None
    except (ValueError, TypeError, MemoryError) as exc:
        raise SpecError(str(p), f"not valid TOML: {type(exc).__name__}: {exc}") from None
    return spec_from_dict(raw, path=str(p))


def spec_files(path: str | Path) -> list[Path]:
    """The files a spec reads: the TOML file and its observations CSV files.

    Cheap (the TOML is parsed, nothing validated, no CSV read): for the CLI's check that
    no output overwrites an input before anything is computed. A spec that cannot be
    read yields only its own path (:func:`load_spec` reports the error).
    """
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}
    except (OSError, ValueError, RecursionError, MemoryError):
        raw = {}
    return [p, *observation_file_paths(raw, str(p))]


def as_spec(spec: Spec | str | Path, name: str = "spec") -> Spec:
    """A :class:`Spec` from a spec object or the path of a TOML file.

    Every public function that takes a spec accepts either.

    Raises
    ------
    SpecError
        ``spec`` is neither (named ``name``), or the file is invalid.
    """
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, str | Path):
        return load_spec(spec)
    raise SpecError(name, f"expected a Spec or the path of a TOML spec file, got "
                          f"{type(spec).__name__}")


def _table(raw: Mapping[str, Any], key: str, path: str, required: bool = True) -> dict[str, Any]:
    if key not in raw:
        if required:
            raise SpecError(f"{path}{key}", "missing required section")
        return {}
    val = raw[key]
    if not isinstance(val, Mapping):
        raise SpecError(f"{path}{key}", f"expected a table, got {type(val).__name__}")
    return dict(val)


def _number(
    tbl: Mapping[str, Any],
    key: str,
    path: str,
    *,
    lo: float,
    hi: float,
    default: float | None = None,
    integer: bool = False,
) -> float:
    if key not in tbl:
        if default is None:
            raise SpecError(f"{path}.{key}", "missing required field")
        return default
    val: float = tbl[key]
    ok = isinstance(val, int) if integer else isinstance(val, int | float)
    if isinstance(val, bool) or not ok:
        kind = "a whole number" if integer else "a number"
        raise SpecError(f"{path}.{key}", f"expected {kind}, got {val!r}")
    if not (lo <= val <= hi) or not np.isfinite(val):
        raise SpecError(f"{path}.{key}", f"expected a value in [{lo:g}, {hi:g}], got {val!r}")
    return val


def _text(tbl: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
    val = tbl.get(key, default)
    if val is None:
        raise SpecError(f"{path}.{key}", "missing required field")
    if not isinstance(val, str) or (default is None and not val.strip()):
        raise SpecError(f"{path}.{key}", f"expected a non-empty string, got {val!r}")
    return val


def _parameter(
    name: str, tbl: Any, path: str, default_units: str | None, default_group: str,
    domain: Domain = REAL,
) -> Parameter:
    if isinstance(tbl, bool) or not isinstance(tbl, Mapping | int | float):
        raise SpecError(path, f"expected a distribution table, got {tbl!r}")
    if not isinstance(tbl, Mapping):
        raise SpecError(
            path,
            "expected a table with 'dist', 'units' and 'source' (a bare number "
            'has no source); write {dist = "fixed", value = ..., source = ...}',
        )
    dist = parse_distribution(tbl, path)
    units = tbl.get("units", default_units)
    if units is None:
        raise SpecError(f"{path}.units", "missing required field")
    if default_units is not None and units != default_units:
        raise SpecError(f"{path}.units", f"expected {default_units!r}, got {units!r}")
    check_distribution(dist, domain, path, f"{name} ({units})")
    return Parameter(
        name=name,
        dist=dist,
        units=str(units),
        source=_text(tbl, "source", path),
        group=_text(tbl, "group", path, default=default_group),
        description=_text(tbl, "description", path, default=""),
    )


def spec_from_dict(raw: Mapping[str, Any], path: str | None = None) -> Spec:
    """Validate a spec given as nested dicts (the parsed TOML).

    Parameters
    ----------
    raw : mapping
        Same structure as the TOML file.
    path : str, optional
        File the spec came from, kept for provenance.

    Returns
    -------
    Spec

    Raises
    ------
    SpecError
        Naming the offending field and what was expected.
    """
    if not isinstance(raw, Mapping):
        raise SpecError("", f"expected a table at the top level, got {type(raw).__name__}")
    _check_depth(raw)
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise SpecError(
            sorted(unknown)[0], f"unknown section; expected {', '.join(sorted(_TOP_KEYS))}"
        )
    raw = embed_observation_files(copy.deepcopy(dict(raw)), path)  # CSV rows into the spec
    _check_strings(raw)
    meta = _table(raw, "meta", "", required=False)
    bad_meta = sorted(set(meta) - _META_KEYS, key=str)
    if bad_meta:
        raise SpecError(f"meta.{bad_meta[0]}",
                        f"unknown field; expected {', '.join(sorted(_META_KEYS))}")
    decision = _table(raw, "decision", "")
    extra = set(decision) - _DECISION_KEYS
    if extra:
        raise SpecError(
            f"decision.{sorted(extra)[0]}",
            f"unknown field; expected {', '.join(sorted(_DECISION_KEYS))}",
        )
    date = decision.get("date")
    if isinstance(date, dt.datetime) or not isinstance(date, dt.date):
        raise SpecError("decision.date", f"expected a date like 2025-01-05, got {date!r}")
    if not EPOCH <= date <= LATEST_DECISION_DATE:
        raise SpecError(
            "decision.date", f"expected a date from {EPOCH.isoformat()} to "
                             f"{LATEST_DECISION_DATE.isoformat()}, got {date}"
        )
    horizon = int(_number(decision, "horizon_days", "decision", lo=1, hi=MAX_HORIZON_DAYS,
                          integer=True))
    threshold = float(_number(decision, "retention_threshold_km2", "decision", lo=0, hi=1e5))
    alpha = float(_number(decision, "cvar_alpha", "decision", lo=1e-6, hi=1.0, default=0.05))
    n_traj = int(
        _number(decision, "trajectories", "decision", lo=0, hi=100000, default=200, integer=True)
    )
    d_day = day_of(date)

    # parameters
    ptab = _table(raw, "parameters", "")
    missing = [n for n in PARAMETER_NAMES if n not in ptab]
    if missing:
        raise SpecError(
            f"parameters.{missing[0]}",
            f"missing required parameter ({len(missing)} missing: {', '.join(missing)})",
        )
    params: dict[str, Parameter] = {}
    for name in PARAMETER_NAMES:
        params[name] = _parameter(
            name, ptab[name], f"parameters.{name}", PARAMETER_UNITS[name], DEFAULT_GROUPS[name],
            quantity(name, "parameter").domain,
        )
    extras = [n for n in ptab if n not in params]
    for name in extras:
        if name.startswith(WEIGHT_PREFIX):
            raise SpecError(
                f"parameters.{name}",
                f"names starting with {WEIGHT_PREFIX!r} are reserved for value weights",
            )
        params[name] = _parameter(name, ptab[name], f"parameters.{name}", None, "option_levers")

    # plans
    names = tuple(params)
    hist_raw = _table(raw, "history", "", required=d_day > 0)
    if d_day == 0:
        if hist_raw.get("phases"):
            raise SpecError(
                "history.phases", "the decision is on day 0 (2024-08-06); expected no history"
            )
        history: tuple[Phase, ...] = ()
    else:
        history = parse_phases(
            hist_raw.get("phases"), "history.phases", plan_start=0, plan_end=d_day, parameters=names
        )
    otab = _table(raw, "options", "")
    if len(otab) < 2:
        raise SpecError("options", f"expected at least two options to compare, got {len(otab)}")
    options: dict[str, Option] = {}
    for oname, otbl in otab.items():
        op = f"options.{oname}"
        if not isinstance(otbl, Mapping):
            raise SpecError(op, f"expected a table, got {type(otbl).__name__}")
        bad = set(otbl) - {"description", "phases"}
        if bad:
            raise SpecError(f"{op}.{sorted(bad)[0]}", "unknown field; expected description, phases")
        options[oname] = Option(
            name=oname,
            description=_text(otbl, "description", op, default=""),
            phases=parse_phases(
                otbl.get("phases"),
                f"{op}.phases",
                plan_start=d_day,
                plan_end=d_day + horizon,
                parameters=names,
                triggers=True,
            ),
        )
    used = set().union(
        *(ph.lever_refs() for ph in history),
        *(ph.lever_refs() for o in options.values() for ph in o.phases),
    )
    for name in extras:
        if name not in used:
            raise SpecError(
                f"parameters.{name}",
                "not a campaign parameter and not used by any "
                f"plan lever; campaign parameters are: {', '.join(PARAMETER_NAMES)}",
            )
    _check_lever_domains(params, extras, history, options)

    # value weights
    value = _table(raw, "value", "")
    wtab = _table(value, "weights", "value.")
    missing_w = [a for a in ATTRIBUTE_NAMES if a not in wtab]
    if missing_w:
        raise SpecError(
            f"value.weights.{missing_w[0]}",
            f"missing weight; every attribute needs one: {', '.join(ATTRIBUTE_NAMES)}",
        )
    bad_w = [a for a in wtab if a not in ATTRIBUTE_NAMES]
    if bad_w:
        raise SpecError(
            f"value.weights.{bad_w[0]}",
            f"unknown attribute; expected one of {', '.join(ATTRIBUTE_NAMES)}",
        )
    weights = {
        a: _parameter(
            a, wtab[a], f"value.weights.{a}", f"dkm2/{ATTRIBUTE_UNITS[a]}", "value_weights"
        )
        for a in ATTRIBUTE_NAMES
    }

    # correlations
    all_inputs = (*names, *(WEIGHT_PREFIX + a for a in ATTRIBUTE_NAMES))
    corrs = []
    craw = raw.get("correlations", [])
    if not isinstance(craw, list):
        raise SpecError("correlations", "expected an array of tables ([[correlations]])")
    for k, c in enumerate(craw):
        cp = f"correlations[{k}]"
        if not isinstance(c, Mapping):
            raise SpecError(cp, "expected a table")
        pair = c.get("params")
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
        ):
            raise SpecError(f"{cp}.params", f"expected two input names, got {pair!r}")
        for x in pair:
            if x not in all_inputs:
                raise SpecError(f"{cp}.params", f"unknown input {x!r}")
        rho = _number(c, "rank_corr", cp, lo=-0.999, hi=0.999)
        corrs.append(Correlation(pair[0], pair[1], float(rho), _text(c, "source", cp)))

    spec = Spec(
        name=_text(meta, "name", "meta", default=Path(path).stem if path else "spec"),
        title=_text(meta, "title", "meta", default=""),
        description=_text(meta, "description", "meta", default=""),
        decision_date=date,
        horizon_days=horizon,
        retention_threshold=threshold,
        cvar_alpha=alpha,
        trajectories=n_traj,
        history=history,
        parameters=params,
        weights=weights,
        correlations=tuple(corrs),
        options=options,
        raw=raw,
        path=path,
        observations=parse_observations(raw.get("observations"), date),
    )
    rank_correlation(spec)  # the copula's check (positive definiteness)
    if "variants" in raw:
        variants = parse_variants(raw["variants"], spec.input_names)
        for var in variants.values():
            if not var.is_base:
                _variant_spec(spec, var)  # full validation of the overridden spec
        spec = dataclasses.replace(spec, variants=variants)
    if "scenarios" in raw:
        scenarios = parse_scenarios(raw["scenarios"], spec.input_names)
        for scen in scenarios.values():
            _scenario_spec(spec, scen)  # full validation of the overridden spec
        spec = dataclasses.replace(spec, scenarios=scenarios)
    return spec


def _variant_spec(spec: Spec, var: Variant) -> Spec:
    try:
        return spec_from_dict(variant_raw(spec.raw, var), path=spec.path)
    except SpecError as exc:
        where = f"variants.{var.name}.parameters"
        for key in var.overrides:
            inner = (f"value.weights.{key[len(WEIGHT_PREFIX):]}"
                     if key.startswith(WEIGHT_PREFIX) else f"parameters.{key}")
            if exc.path == inner or exc.path.startswith(inner + "."):
                where = f"{where}.{key}"
                break
        raise SpecError(where, str(exc)) from None


def apply_variant(spec: Spec, name: str) -> Spec:
    """The spec of variant ``name``: its overrides applied, without ``[variants]`` and
    ``[scenarios]`` (the base variant: the spec as written without them).

    Raises
    ------
    SpecError
        Path ``variants.<name>`` if the spec has no such variant.
    """
    variants = spec.variants or {}
    if name not in variants:
        raise SpecError(f"variants.{name}", f"no such variant; expected one of "
                                            f"{list(variants)}" if variants else
                        "the spec has no [variants] (competing model structures)")
    return spec_from_dict(variant_raw(spec.raw, variants[name]), path=spec.path)


def _scenario_spec(spec: Spec, scen: Scenario) -> Spec:
    try:
        raw = scenario_raw(spec.raw, scen)
        raw.pop("variants", None)  # validated on their own (a scenario spec has none)
        return spec_from_dict(raw, path=spec.path)
    except SpecError as exc:
        where = f"scenarios.{scen.name}.parameters"
        # name the override when the error is about one (e.g. a value outside its domain)
        for key in scen.overrides:
            inner = (f"value.weights.{key[len(WEIGHT_PREFIX):]}"
                     if key.startswith(WEIGHT_PREFIX) else f"parameters.{key}")
            if exc.path == inner or exc.path.startswith(inner + "."):
                where = f"{where}.{key}"
                break
        raise SpecError(where, str(exc)) from None


def apply_scenario(spec: Spec, name: str) -> Spec:
    """The spec with scenario ``name``'s overrides applied (and no scenarios of its own).

    ``name == "base"`` returns the spec unchanged.

    Raises
    ------
    SpecError
        Path ``scenarios.<name>`` if the spec has no such scenario.
    """
    if name == BASE_SCENARIO:
        return spec
    scenarios = spec.scenarios or {}
    if name not in scenarios:
        raise SpecError(f"scenarios.{name}",
                        f"no such scenario; expected one of {[BASE_SCENARIO, *scenarios]}")
    return _scenario_spec(spec, scenarios[name])


def _check_depth(raw: Mapping[str, Any]) -> None:
    """Refuse tables or arrays nested deeper than MAX_DEPTH (no recursion used)."""
    stack: list[tuple[Any, str, int]] = [(raw, "", 0)]
    while stack:
        obj, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SpecError(where, f"nested too deeply (expected at most {MAX_DEPTH} levels of "
                                   "tables and arrays)")
        if isinstance(obj, Mapping):
            stack.extend((v, f"{where}.{k}" if where else str(k), depth + 1)
                         for k, v in obj.items())
        elif isinstance(obj, list | tuple):
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj))


def _key_path(where: str, key: str) -> str:
    """The dotted path of ``key`` under ``where``; an unprintable key shown abridged."""
    ok = (isinstance(key, str) and 0 < len(key) <= MAX_NAME_LENGTH and key.strip()
          and key.isprintable())
    shown = key if ok else repr(key[:40] + ("..." if len(key) > 40 else "")
                                if isinstance(key, str) else key)
    path = f"{where}.{shown}" if where else shown
    return (path.replace("observations.rows", "observations.file")
            .replace("observations.daily_rows", "observations.daily"))


def _check_strings(raw: Mapping[str, Any]) -> None:
    """Every key a name (:func:`kursk_da.validation.check_text` with ``key=True``: non-empty,
    at most MAX_NAME_LENGTH characters, no control character), every string value text
    (UTF-8, no NUL, at most MAX_TEXT_LENGTH characters); the error names the field."""
    stack: list[tuple[Any, str]] = [(raw, "")]
    while stack:
        obj, where = stack.pop()
        if isinstance(obj, str):
            check_text(obj, where, error=SpecError)
        elif isinstance(obj, Mapping):
            for k, v in obj.items():
                here = _key_path(where, k)
                check_text(k, here, key=True, error=SpecError)
                stack.append((v, here))
        elif isinstance(obj, list | tuple):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(obj))


def _check_lever_domains(
    params: Mapping[str, Parameter], extras: list[str], history: tuple[Phase, ...],
    options: Mapping[str, Option],
) -> None:
    """An uncertain lever must lie in the domain of every lever that uses it."""
    uses: dict[str, list[tuple[str, str]]] = {name: [] for name in extras}
    plans = [("history", history), *((f"options.{o}", op.phases) for o, op in options.items())]
    for where, phases in plans:
        for k, ph in enumerate(phases):
            for key, lever in _PHASE_LEVERS.items():
                val = getattr(ph, key)
                if isinstance(val, str) and val in uses:
                    uses[val].append((f"{where}.phases[{k}].{key}", lever))
    for name, refs in uses.items():
        if not refs:
            continue
        doms = [quantity(lever, "lever").domain for _, lever in refs]
        doms += [Domain(*_LEVER_BOUNDS[r.rsplit(".", 1)[1]]) for r, _ in refs]
        par = params[name]
        check_distribution(par.dist, intersect(doms), f"parameters.{name}",
                           f"{name} ({par.units}), used by {refs[0][0]}")


def check_run_size(
    spec: Spec, draws: int, chunk_size: int, n_jobs: int | None = None, *,
    summary_draws: int = 0,
) -> None:
    """Refuse a run of ``spec`` too large for the machine, before anything is allocated.

    Parameters
    ----------
    spec : Spec
    draws : int
        Monte Carlo draws.
    chunk_size : int
        Draws per engine chunk (at most :data:`kursk_da.spec._domains.MAX_CHUNK_SIZE`).
    n_jobs : int, optional
        Engine threads (default: the number of CPUs).
    summary_draws : int, optional
        All the draws of a streamed run whose per-draw data are kept for ``draws`` of
        them (its summary's exact CVaR selection grows with them).

    Raises
    ------
    SpecError
        Path ``draws`` (with the estimated GB) or ``chunk_size``; see
        :func:`kursk_da.spec._domains.check_sizes`.
    """
    check_sizes(len(spec.input_names), len(spec.options), spec.n_days, spec.trajectories,
                draws, chunk_size, n_jobs, summary_draws=summary_draws,
                cvar_alpha=float(spec.cvar_alpha))
