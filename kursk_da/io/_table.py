"""The tables of a result set: data frames, console text, and CSV/JSON/Markdown to paste.

:func:`options_frame` computes the options table (one row per option, units in the
column headers); :func:`options_table` renders it as the fixed-width text that
``kursk-da analyze`` and ``kursk-da summary`` print, and :mod:`kursk_da.report` renders
the same frame in HTML and Markdown.

For analysts who paste the numbers elsewhere, :func:`options_export` and
:func:`voi_export` give the same tables as a :class:`ExportTable` (every number of the
result set unrounded, with its Monte Carlo standard error, and the units of every
column), which :func:`render_table` writes as CSV (one header row, units in the headers,
no index column), JSON (units and MCSE carried, NaN as ``null``) or a Markdown pipe
table (text escaped, numbers rounded for reading). ``kursk-da summary --format`` and
``kursk-da voi --format`` print them.
"""

from __future__ import annotations

import html
import io
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from kursk_da._defaults import EXPORT_FORMATS
from kursk_da.decision._metrics import same_value_as
from kursk_da.dims import DRAW, GROUP, OPTION, PARAMETER, VALUE_UNITS
from kursk_da.io._resultset import as_result_set

__all__ = [
    "identical_options",
    "options_frame",
    "options_table",
    "options_export",
    "voi_export",
    "render_table",
    "csv_text",
    "CSV_FORMULA_START",
    "md_escape",
    "ExportColumn",
    "ExportTable",
    "EXPORT_FORMATS",
]

DEFAULT_CVAR_ALPHA = 0.05
"""CVaR tail probability assumed when a result set does not record ``cvar_alpha``."""


JSON_SCHEMA = "kursk-da-table/1"
"""Identifier of the JSON layout written by :func:`render_table` (key ``schema``)."""


def _alpha(tree: xr.DataTree) -> float:
    dec = tree["decision"].dataset
    return float(tree.attrs.get("cvar_alpha", dec.attrs.get("cvar_alpha", DEFAULT_CVAR_ALPHA)))


def _units(tree: xr.DataTree) -> str:
    return str(tree.attrs.get("value_units", VALUE_UNITS))


def options_frame(tree: xr.DataTree | str | os.PathLike[str]) -> pd.DataFrame:
    """The decision summary of a result set as a data frame.

    Parameters
    ----------
    tree : xarray.DataTree, str or path
        A result set, or the path of one.

    Returns
    -------
    pandas.DataFrame
        One row per option (index ``option``), best expected value first; columns, in
        this order, ``expected value (U)``, ``MCSE (U)`` (Monte Carlo standard error of
        the expected value), ``P(best)`` (probability, 1), ``expected regret (U)`` and
        ``CVaR a% (U)``, where ``U`` is the result set's value units (dkm2) and ``a``
        the CVaR tail probability. Values are not rounded.
    """
    tree = as_result_set(tree)
    dec = tree["decision"].dataset
    units = _units(tree)
    frame = pd.DataFrame({
        f"expected value ({units})": dec["expected_value"].to_series(),
        f"MCSE ({units})": dec["expected_value_mcse"].to_series(),
        "P(best)": dec["prob_best"].to_series(),
        f"expected regret ({units})": dec["expected_regret"].to_series(),
        f"CVaR {_alpha(tree):.0%} ({units})": dec["cvar"].to_series(),
    })
    frame.index.name = OPTION
    order = dec["expected_value"].to_series().sort_values(ascending=False, kind="stable").index
    return frame.loc[order]


def _run_line(tree: xr.DataTree, units: str) -> str:
    return (f"{tree.attrs.get('spec_name', '')}: {tree.attrs.get('analysis', 'prior')} analysis, "
            f"{tree.attrs.get('draws')} draws, seed {tree.attrs.get('seed')}; values in {units} "
            "(Donbas-equivalent km2, higher is better)")


_UNCONVERGED = "WARNING: the calibration did not converge; these decisions are flagged."


def options_table(tree: xr.DataTree | str | os.PathLike[str]) -> str:
    """Format the decision summary of a result set as a fixed-width table.

    Parameters
    ----------
    tree : xarray.DataTree, str or path
        A result set, or the path of one.

    Returns
    -------
    str
        The rows of :func:`options_frame` (expected value +- MCSE, probability best,
        expected regret, CVaR), sorted by expected value, under a line naming the run
        and followed by the EVPI line. Values in dkm2.
    """
    tree = as_result_set(tree)
    dec = tree["decision"].dataset
    units = _units(tree)
    frame = options_frame(tree)
    name_w = max(6, *(len(str(o)) for o in frame.index))
    head = (f"{'option':<{name_w}}  {'expected value':>22}  {'P(best)':>7}  "
            f"{'regret':>9}  {f'CVaR {_alpha(tree):.0%}':>10}")
    lines = [_run_line(tree, units), head, "-" * len(head)]
    for o, (mean, mcse, p_best, regret, cvar) in zip(
            frame.index, frame.itertuples(index=False, name=None), strict=True):
        ev = f"{float(mean):,.1f} ± {float(mcse):,.1f}"
        lines.append(f"{o!s:<{name_w}}  {ev:>22}  {float(p_best):>7.3f}  "
                     f"{float(regret):>9,.1f}  {float(cvar):>10,.1f}")
    lines.append(f"EVPI: {float(dec['evpi']):,.1f} ± {float(dec['evpi_mcse']):,.1f} {units}")
    lines += [f"{b} has the value of {a} in every draw (the same actions: a rule whose trigger "
              "fires at once, for example)" for a, b in identical_options(tree)]
    if tree.attrs.get("converged") == "no":
        lines.append(_UNCONVERGED)
    return "\n".join(lines)


def identical_options(tree: xr.DataTree | str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Pairs of options whose value is the same in every stored draw of ``/decision``.

    Parameters
    ----------
    tree : xarray.DataTree, str or path
        A result set, or the path of one.

    Returns
    -------
    list of (str, str)
        ``(a, b)`` with ``a`` before ``b`` in the ranking of :func:`options_frame`
        (``b`` is listed once, against the first option it equals); empty when the group
        stores no per-draw ``value``.
    """
    tree = as_result_set(tree)
    dec = tree["decision"].dataset
    if "value" not in dec:
        return []
    order = [str(o) for o in options_frame(tree).index]
    v = dec["value"].transpose(DRAW, OPTION).sel({OPTION: order}).values
    rep = same_value_as(v)
    return [(order[int(rep[j])], order[j]) for j in range(len(order)) if rep[j] != j]


# --------------------------------------------------------------------------- export


@dataclass(frozen=True)
class ExportColumn:
    """One column of an :class:`ExportTable`.

    Attributes
    ----------
    key : str
        Machine name (the JSON key), e.g. ``expected_value``.
    label : str
        Header without units, e.g. ``expected value``.
    units : str
        Units of the column (``dkm2``, ``1`` for probabilities and counts); empty for text.
    description : str
        What the column holds (the ``long_name`` of the result-set variable).
    digits : int or None
        Decimals shown in Markdown (None: text, or an integer count); CSV and JSON are
        never rounded.
    """

    key: str
    label: str
    units: str = ""
    description: str = ""
    digits: int | None = None

    @property
    def header(self) -> str:
        """The CSV and Markdown header: ``label (units)``, or the label of a text column."""
        return f"{self.label} ({self.units})" if self.units else self.label


@dataclass(frozen=True)
class ExportTable:
    """A table of a result set, ready to render as CSV, JSON or Markdown.

    Attributes
    ----------
    name : str
        ``options`` or ``voi``.
    caption : str
        One line naming the run (spec, analysis, draws, seed, units).
    columns : tuple of ExportColumn
    rows : tuple of tuple
        Plain Python values (str, int, float; NaN for a missing number).
    meta : dict
        Scalars of the run (spec name, analysis, draws, seed, EVPI and its MCSE, ...).
    notes : tuple of str
        Lines printed after the table in Markdown (warnings, the EVPI).
    """

    name: str
    caption: str
    columns: tuple[ExportColumn, ...]
    rows: tuple[tuple[Any, ...], ...]
    meta: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def frame(self) -> pd.DataFrame:
        """The table as a data frame: headers with units, a plain range index."""
        return pd.DataFrame(list(self.rows), columns=[c.header for c in self.columns],
                            dtype=object)


def _plain(value: Any) -> Any:
    """A NumPy scalar or a 0-d array as a plain Python value."""
    if isinstance(value, np.ndarray):
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    return value


def _run_meta(tree: xr.DataTree) -> dict[str, Any]:
    keys = ("spec_name", "analysis", "draws", "seed", "kursk_da_version", "result_schema",
            "decision_date", "horizon_days", "converged")
    meta = {k: _plain(tree.attrs[k]) for k in keys if k in tree.attrs}
    meta["value_units"] = _units(tree)
    return meta


def options_export(tree: xr.DataTree) -> ExportTable:
    """The options table of a result set with every MCSE, for CSV/JSON/Markdown.

    Parameters
    ----------
    tree : xarray.DataTree
        A result set.

    Returns
    -------
    ExportTable
        One row per option, best expected value first: ``option``, ``expected_value``
        and ``expected_value_mcse`` (U), ``prob_best`` and ``prob_best_mcse`` (1),
        ``expected_regret`` and ``expected_regret_mcse`` (U), ``cvar`` and ``cvar_mcse``
        (U), where U is the value units (dkm2); the values of ``/decision``, unrounded.
        ``meta`` holds the run and ``evpi``, ``evpi_mcse`` (U), ``cvar_alpha``.
    """
    dec = tree["decision"].dataset
    units = _units(tree)
    alpha = _alpha(tree)
    cvar = f"CVaR {alpha:.0%}"
    spec: list[tuple[str, str, int]] = [
        ("expected_value", "expected value", 1),
        ("expected_value_mcse", "MCSE of expected value", 1),
        ("prob_best", "P(best)", 3),
        ("prob_best_mcse", "MCSE of P(best)", 3),
        ("expected_regret", "expected regret", 1),
        ("expected_regret_mcse", "MCSE of expected regret", 1),
        ("cvar", cvar, 1),
        ("cvar_mcse", f"MCSE of {cvar}", 1),
    ]
    spec = [s for s in spec if s[0] in dec]
    columns = [ExportColumn(OPTION, OPTION, "", "strategic option")]
    columns += [ExportColumn(key, label, str(dec[key].attrs.get("units", units)),
                             str(dec[key].attrs.get("long_name", label)), digits)
                for key, label, digits in spec]
    order = dec["expected_value"].to_series().sort_values(ascending=False, kind="stable").index
    rows = tuple(
        (str(o), *(float(dec[key].sel({OPTION: o})) for key, _, _ in spec)) for o in order)
    meta = _run_meta(tree)
    meta.update({"cvar_alpha": alpha, "evpi": float(dec["evpi"]),
                 "evpi_mcse": float(dec["evpi_mcse"]),
                 "mcse_design": str(dec.attrs.get("mcse_design", ""))})
    notes = [f"EVPI: {meta['evpi']:,.1f} ± {meta['evpi_mcse']:,.1f} {units} (± one MCSE)"]
    if tree.attrs.get("converged") == "no":
        notes.append(_UNCONVERGED)
    return ExportTable("options", _run_line(tree, units), tuple(columns), rows, meta,
                       tuple(notes))


def _var(ds: xr.Dataset, name: str, dim: str) -> pd.Series:
    if name in ds:
        return ds[name].to_series()
    return pd.Series(np.nan, index=pd.Index(ds[dim].values, name=dim))


def voi_export(voi: xr.Dataset, tree: xr.DataTree | None = None) -> ExportTable:
    """The EVPPI ranking of a ``/voi`` group (every input, then every group), for export.

    Parameters
    ----------
    voi : xarray.Dataset
        A ``/voi`` group (:func:`kursk_da.voi.campaign_evppi` or ``kursk-da voi``).
    tree : xarray.DataTree, optional
        The result set it belongs to (names the run in the caption and ``meta``).

    Returns
    -------
    ExportTable
        One row per uncertain input (``level`` ``input``) then per input group (``level``
        ``group``), each block ranked by EVPPI, highest first: ``level``, ``name``,
        ``group`` (the input's group), ``evppi`` and ``evppi_se`` (U, the standard error
        of the regression estimate), ``evppi_share`` (EVPPI / EVPI, 1), ``smoother``
        (groups: linear, gam or gp), ``inputs`` (uncertain inputs valued jointly), where U
        is the value units (dkm2). ``meta`` holds ``evpi``, ``evpi_se``, ``n_draws`` and,
        when computed, ``evsi``, ``evsi_se`` with the measurement it values.
    """
    units = str(voi.attrs.get("units", VALUE_UNITS))
    evpi = float(voi["evpi"])
    columns = (
        ExportColumn("level", "level", "", "input (one input alone) or group (inputs jointly)"),
        ExportColumn("name", "name", "", "the input or the group"),
        ExportColumn(GROUP, GROUP, "", "group of the input"),
        ExportColumn("evppi", "EVPPI", units, "expected value of partial perfect information", 2),
        ExportColumn("evppi_se", "SE of EVPPI", units,
                     "standard error of the EVPPI: regression fit and Monte Carlo error", 2),
        ExportColumn("evppi_share", "share of EVPI", "1", "EVPPI as a fraction of the EVPI", 3),
        ExportColumn("smoother", "smoother", "",
                     "regression: linear (value weights), gam (<= 4 inputs), gp (more)"),
        ExportColumn("inputs", "inputs", "1", "uncertain inputs valued jointly"),
    )
    p = pd.DataFrame({"v": voi["evppi"].to_series(), "se": voi["evppi_se"].to_series(),
                      "g": _var(voi, "parameter_group", PARAMETER)})
    p = p.sort_values("v", ascending=False, kind="stable")
    g = pd.DataFrame({"v": voi["group_evppi"].to_series(),
                      "se": voi["group_evppi_se"].to_series(),
                      "m": _var(voi, "group_method", GROUP),
                      "k": _var(voi, "group_size", GROUP)})
    g = g.sort_values("v", ascending=False, kind="stable")

    def share(v: float) -> float:
        return v / evpi if evpi > 0 else math.nan

    rows: list[tuple[Any, ...]] = [
        ("input", str(n), "" if pd.isna(r.g) else str(r.g), float(r.v), float(r.se),
         share(float(r.v)), "", 1) for n, r in p.iterrows()]
    rows += [("group", str(n), str(n), float(r.v), float(r.se), share(float(r.v)),
              "" if pd.isna(r.m) else str(r.m), None if pd.isna(r.k) else int(r.k))
             for n, r in g.iterrows()]
    meta: dict[str, Any] = _run_meta(tree) if tree is not None else {"value_units": units}
    meta.update({"evpi": evpi, "evpi_se": float(voi["evpi_se"]),
                 "n_draws": _plain(voi.attrs.get("n_draws"))})
    notes = [f"EVPI {evpi:,.2f} ± {float(voi['evpi_se']):.2f} {units} (± one standard error)"]
    if "evsi" in voi:
        a = voi["evsi"].attrs
        meta.update({"evsi": float(voi["evsi"]), "evsi_se": float(voi["evsi_se"]),
                     "evsi_parameter": str(a.get("parameter", "")),
                     "evsi_error": _plain(a.get("error")), "evsi_n_obs": _plain(a.get("n_obs"))})
        notes.append(f"EVSI of {meta['evsi_n_obs']} measurement(s) of {meta['evsi_parameter']} "
                     f"({100 * float(meta['evsi_error']):g}% lognormal error): "
                     f"{meta['evsi']:,.2f} ± {meta['evsi_se']:.2f} {units}")
    caption = (_run_line(tree, units) if tree is not None else f"values in {units}")
    caption += f"; EVPPI ranking from {meta['n_draws']} draws"
    return ExportTable("voi", caption, columns, tuple(rows), meta, tuple(notes))


# --------------------------------------------------------------------------- rendering

_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]|#"})


def md_escape(text: str) -> str:
    """Plain text safe inside a Markdown table cell or paragraph.

    HTML is escaped (``<`` becomes ``&lt;``) and the Markdown characters that would make
    links, emphasis, code, headings or table cells (``\\ ` * _ [ ] | #``) are
    backslash-escaped; newlines become spaces. The text renders as it reads.
    """
    escaped = html.escape(text, quote=False).translate(_MD_SPECIAL)
    return escaped.replace("\r", " ").replace("\n", " ")


def _json_value(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _md_cell(value: Any, col: ExportColumn) -> str:
    value = _plain(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if col.digits is None:
            return f"{value:,}" if isinstance(value, int) else f"{value:,g}"
        return f"{value:,.{col.digits}f}"
    return md_escape(str(value))


CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP, "CSV
injection"): a text cell starting with one is written with a leading single quote."""


def csv_text(text: str) -> str:
    """A text cell of a CSV file that no spreadsheet runs as a formula.

    A text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    (:data:`CSV_FORMULA_START`) gets a leading ``'`` (the OWASP rule); other text is
    unchanged. Numbers are never passed here: they stay numbers, negatives included.
    """
    return "'" + text if text.startswith(CSV_FORMULA_START) else text


def _csv_value(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return csv_text(value)
    return value


def render_table(table: ExportTable, fmt: str) -> str:
    """Render an :class:`ExportTable` as CSV, JSON or Markdown.

    Parameters
    ----------
    table : ExportTable
    fmt : {"csv", "json", "markdown"}
        ``csv``: one header row (``label (units)``), one line per row, no index column,
        numbers unrounded. ``json``: an object with ``schema``, ``table``, ``caption``,
        ``meta`` (the run, EVPI with its MCSE), ``units`` (per key), ``columns`` (key,
        label, units, description) and ``rows`` (one object per row, keyed like
        ``columns``; NaN as ``null``), numbers unrounded. ``markdown``: the caption, a
        pipe table with numbers rounded for reading and text escaped, then the notes.

    Returns
    -------
    str
        The text, ending with a newline.

    Raises
    ------
    ValueError
        An unknown ``fmt``.
    """
    if fmt == "csv":
        buf = io.StringIO()
        frame = table.frame()
        frame = frame.apply(lambda col: col.map(_csv_value)) if len(frame) else frame
        frame.columns = [csv_text(str(c)) for c in frame.columns]
        frame.to_csv(buf, index=False, lineterminator="\n")
        return buf.getvalue()
    if fmt == "json":
        doc = {
            "schema": JSON_SCHEMA,
            "table": table.name,
            "caption": table.caption,
            "meta": {k: _json_value(v) for k, v in table.meta.items()},
            "units": {c.key: c.units for c in table.columns},
            "columns": [{"key": c.key, "label": c.label, "units": c.units,
                         "description": c.description} for c in table.columns],
            "rows": [{c.key: _json_value(v) for c, v in zip(table.columns, row, strict=True)}
                     for row in table.rows],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "markdown":
        numeric = [c.units != "" for c in table.columns]
        lines = [md_escape(table.caption), "",
                 "| " + " | ".join(md_escape(c.header) for c in table.columns) + " |",
                 "| " + " | ".join("---:" if n else ":---" for n in numeric) + " |"]
        lines += ["| " + " | ".join(_md_cell(v, c) for c, v in
                                    zip(table.columns, row, strict=True)) + " |"
                  for row in table.rows]
        if table.notes:
            lines += [""] + [md_escape(n) + "  " for n in table.notes[:-1]]
            lines.append(md_escape(table.notes[-1]))
        return "\n".join(lines) + "\n"
    raise ValueError(f"fmt: expected one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")

