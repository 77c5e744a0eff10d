"""Helpers shared by the plot modules: groups, the spec, the claims, dates, colours.

Private to :mod:`kursk_da.plots`; every public plot function goes through these so that
a result set in memory and one loaded from netCDF behave the same.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from kursk_da.dims import CHAIN, DATE, DRAW, OPTION
from kursk_da.dynamics.catalogue import OBSERVABLES, TRAJECTORIES
from kursk_da.errors import ResultFileError
from kursk_da.io import OBSERVATION_COLUMNS, observations_frame
from kursk_da.io._resultset import stored_spec_dict

__all__ = [
    "EPOCH",
    "group",
    "has_group",
    "spec_dict",
    "claims",
    "draw_claims",
    "FAMILY_STYLES",
    "CLAIM_GID",
    "decision_date",
    "option_colors",
    "option_styles",
    "new_figure",
    "mark_decision",
    "flat_draws",
    "units_of",
    "format_date_axis",
    "as_date",
    "option_names",
    "date_values",
]

EPOCH = np.datetime64("2024-08-06")
"""Day 0 of the campaign model: the first Kursk offensive."""

QUANTITIES = {**{q.name: q for q in TRAJECTORIES}, **{q.name: q for q in OBSERVABLES}}
"""Catalogue rows of the trajectories and observables by name."""

_CYCLE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
          "tab:pink", "tab:gray", "tab:olive", "tab:cyan")


def has_group(obj: xr.DataTree | xr.Dataset, path: str) -> bool:
    """Whether a result set has group ``path`` (``"/voi"`` or ``"voi"``) with variables."""
    if isinstance(obj, xr.Dataset):
        return False
    key = "/" + path.strip("/")
    return key in obj.groups and len(obj[key].data_vars) > 0


def group(obj: xr.DataTree | xr.Dataset, path: str) -> xr.Dataset:
    """The Dataset of group ``path`` of a result set, or ``obj`` itself if it is a Dataset.

    Raises
    ------
    KeyError
        If the result set has no such group.
    """
    if isinstance(obj, xr.Dataset):
        return obj
    key = "/" + path.strip("/")
    if key not in obj.groups:
        raise KeyError(f"result set has no group {key}")
    return obj[key].to_dataset()


def spec_dict(obj: xr.DataTree | xr.Dataset) -> dict[str, Any]:
    """The spec stored in the root attribute ``spec_json`` (empty dict when absent)."""
    if not isinstance(obj, xr.DataTree) or not obj.attrs.get("spec_json"):
        return {}
    try:
        return stored_spec_dict(obj)
    except ResultFileError:
        return {}


def claims(obj: xr.DataTree | xr.Dataset, quantity: str | None = None) -> pd.DataFrame:
    """The result set's observations (:func:`kursk_da.io.observations_frame`), optionally of
    the claims that read the model the way trajectory or observable ``quantity`` does.

    With ``quantity``, the rows of that quantity and of every observable that reads the
    same state variable directly (catalogue ``reading = "state"``, nothing subtracted:
    e.g. ``area_held_incl_grey`` for ``area_held``, ``ua_losses_undefined`` for
    ``ua_casualties``); column ``related`` is True for the latter. Empty for a bare
    Dataset (no observations).
    """
    if not isinstance(obj, xr.DataTree):
        frame = pd.DataFrame(columns=[*OBSERVATION_COLUMNS, "related"])
        return frame
    frame = observations_frame(obj)
    if quantity is None:
        return frame.assign(related=False)
    row = QUANTITIES.get(quantity)
    same = {quantity}
    if row is not None and row.state is not None and row.reading == "state" \
            and row.minus is None:
        same |= {q.name for q in OBSERVABLES if q.state == row.state
                 and q.reading == "state" and q.minus is None}
    out = frame[frame["quantity"].isin(sorted(same))]
    return out.assign(related=out["quantity"] != quantity)


CLAIM_GID = "claim:"
"""Prefix of the ``gid`` of the line that marks a claim (``claim:<observation name>``)."""

FAMILY_STYLES: dict[str, tuple[str, str, str]] = {
    "ua_officials": ("Ukrainian officials", "#1f3d99", "o"),
    "ru_officials": ("Russian officials", "#b2182b", "s"),
    "osint_maps": ("OSINT maps", "#1a7837", "D"),
    "third_party": ("third parties", "#7b3294", "P"),
    "": ("reported figure", "k", "D"),
}
"""Claimant family -> (legend label, colour, marker) of the claims drawn on the figures
(colours apart from the option colours; an inline observation has no family: "")."""


def _family_style(family: str) -> tuple[str, str, str]:
    return FAMILY_STYLES.get(family, (family, "0.3", "X"))


def draw_claims(ax: Axes, frame: pd.DataFrame, *, x: str = "date", legend: bool = True,
                related_label: str = "") -> int:
    """Draw claims (rows of :func:`claims`) on ``ax``: one colour and marker per claimant
    family, an interval as an error bar with caps, an "at least" bound as an upward arrow
    from its value and an "up to" bound as a downward one (matplotlib ``lolims``/``uplims``
    carets), claims of a related quantity hollow.

    Parameters
    ----------
    ax : Axes
    frame : pandas.DataFrame
        Rows of :func:`claims` (columns ``value``, ``low``, ``high``, ``censoring``,
        ``family``, ``related`` and ``x``).
    x : str
        Column with the x position (``"date"`` on a date axis).
    legend : bool
        Label the artists (one legend entry per family and kind of mark).
    related_label : str
        Legend text of the hollow markers (claims of a related quantity).

    Returns
    -------
    int
        Number of claims drawn.
    """
    seen: set[str] = set()

    def once(label: str) -> str | None:
        if not legend or label in seen:
            return None
        seen.add(label)
        return label

    lo_ax, hi_ax = ax.get_ylim() if ax.has_data() else (0.0, 1.0)
    arrow = 0.08 * (hi_ax - lo_ax) if hi_ax > lo_ax else 1.0
    for obs_name, r in frame.iterrows():
        name, color, marker = _family_style(str(r["family"]))
        face = "none" if bool(r.get("related", False)) else color
        value, kind = float(r["value"]), str(r["censoring"])
        xs = [r[x]]
        common: dict[str, Any] = {"color": color, "mfc": face, "mec": color, "ms": 6,
                                  "capsize": 3, "zorder": 6, "lw": 1.2}
        if kind == "interval" and np.isfinite(r["low"]) and np.isfinite(r["high"]):
            yerr = np.array([[value - float(r["low"])], [float(r["high"]) - value]])
            bar = ax.errorbar(xs, [value], yerr=np.abs(yerr), fmt=marker, label=once(name),
                              **common)
        elif kind == "lower":
            bar = ax.errorbar(xs, [value], yerr=[[0.0], [arrow]], lolims=True, fmt=marker,
                              label=once(name), **common)
        elif kind == "upper":
            bar = ax.errorbar(xs, [value], yerr=[[arrow], [0.0]], uplims=True, fmt=marker,
                              label=once(name), **common)
        else:
            bar = None
            (point,) = ax.plot(xs, [value], marker, color=color, mfc=face, mec=color, ms=6,
                               zorder=6, label=once(name))
        data_line = bar.lines[0] if bar is not None else point
        if data_line is not None:
            data_line.set_gid(f"{CLAIM_GID}{obs_name}")  # found by tests and tools
    kinds = set(frame["censoring"]) if len(frame) else set()
    from matplotlib.lines import Line2D

    extra = (("lower", "^", "arrow up: at least (lower bound)"),
             ("upper", "v", "arrow down: up to (upper bound)"),
             ("interval", "|", "bar: stated interval"))
    for kind, mk, text in extra:
        if kind in kinds and legend and text not in seen:
            seen.add(text)
            ax.add_line(Line2D([], [], ls="none", marker=mk, color="k", label=text))
    if legend and len(frame) and bool(frame["related"].any()) and related_label:
        ax.add_line(Line2D([], [], ls="none", marker="o", mfc="none", color="k",
                           label=related_label))
    return len(frame)


def decision_date(obj: xr.DataTree | xr.Dataset) -> np.datetime64 | None:
    """The decision date (root attribute ``decision_date``), if known."""
    text = obj.attrs.get("decision_date") if isinstance(obj, xr.DataTree) else None
    if not text:
        text = spec_dict(obj).get("decision", {}).get("date")
    return np.datetime64(str(text)[:10]) if text else None


def option_colors(options: Any) -> dict[str, str]:
    """A stable colour per option, in the order of the ``option`` coordinate."""
    return {str(o): _CYCLE[i % len(_CYCLE)] for i, o in enumerate(options)}


_LINESTYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def option_styles(options: Any) -> dict[str, dict[str, Any]]:
    """Colour, line style and marker per option (``option`` order), for lines that overlap.

    Options whose curves coincide (e.g. two that both leave the salient) stay apart by
    dash pattern and marker, not by colour alone.
    """
    colors = option_colors(options)
    return {str(o): {"color": colors[str(o)], "ls": _LINESTYLES[i % len(_LINESTYLES)],
                     "marker": _MARKERS[i % len(_MARKERS)]}
            for i, o in enumerate(options)}


def new_figure(
    width: float, height: float,
    layout: Literal["constrained", "compressed", "tight"] | None = "constrained",
) -> Figure:
    """A figure outside pyplot's registry (no global state, nothing to close)."""
    return Figure(figsize=(width, height), layout=layout)


def mark_decision(ax: Axes, date: np.datetime64 | None, *, label: bool = True) -> None:
    """Draw the decision date as a dashed vertical line."""
    if date is None:
        return
    # matplotlib's stubs say float; a datetime64 goes through its date unit converter
    ax.axvline(date, color="k", ls="--", lw=1,  # type: ignore[arg-type]
               label=f"decision {str(date)[:10]}" if label else None)


def flat_draws(ds: xr.Dataset, name: str) -> np.ndarray:
    """Values of ``name`` with ``chain`` and ``draw`` flattened into one sample axis."""
    da = ds[name]
    dims = [d for d in (CHAIN, DRAW) if d in da.dims]
    rest = [d for d in da.dims if d not in dims]
    return np.asarray(da.transpose(*dims, *rest).values).reshape(-1, *[da.sizes[d] for d in rest])


def units_of(da: xr.DataArray, default: str = "1") -> str:
    """The ``units`` attribute of a variable, written as matplotlib text."""
    units = str(da.attrs.get("units", default))
    return units.replace("km2", "km²")


def format_date_axis(ax: Axes) -> None:
    """Concise month labels on a date x axis."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def as_date(value: Any) -> dt.date:
    """A ``datetime.date`` from a numpy datetime64 or ISO text."""
    return dt.date.fromisoformat(str(value)[:10])


def option_names(obj: xr.DataTree | xr.Dataset) -> list[str]:
    """The option names of a result set (decision or trajectories group)."""
    for path in ("/decision", "/trajectories"):
        if isinstance(obj, xr.DataTree) and path in obj.groups:
            ds = group(obj, path)
            if OPTION in ds.dims:
                return [str(o) for o in ds[OPTION].values]
    if isinstance(obj, xr.Dataset) and OPTION in obj.dims:
        return [str(o) for o in obj[OPTION].values]
    return []


def date_values(ds: xr.Dataset | xr.DataArray) -> np.ndarray:
    """The ``date`` coordinate as datetime64[D]."""
    return ds[DATE].values.astype("datetime64[D]")
