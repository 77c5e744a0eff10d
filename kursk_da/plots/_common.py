"""Helpers shared by the plot modules: groups, the spec, observations, dates, colours.

Private to :mod:`kursk_da.plots`; every public plot function goes through these so that
a result set in memory and one loaded from netCDF behave the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from kursk_da.dims import CHAIN, DATE, DRAW, OPTION
from kursk_da.errors import ResultFileError
from kursk_da.io._resultset import stored_spec_dict

__all__ = [
    "EPOCH",
    "ObservedPoint",
    "group",
    "has_group",
    "spec_dict",
    "observations",
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

_CYCLE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
          "tab:pink", "tab:gray", "tab:olive", "tab:cyan")


@dataclass(frozen=True)
class ObservedPoint:
    """One observation of the spec, ready to draw.

    Attributes
    ----------
    name, quantity, source : str
    date : numpy.datetime64
    value : float
    low, high : float
        The stated interval, or value -/+ 1.645 sd (a 90% normal interval), or ``nan``.
    level : float
        Probability of the interval (``nan`` when there is none).
    """

    name: str
    quantity: str
    date: np.datetime64
    value: float
    low: float
    high: float
    level: float
    source: str


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


def observations(obj: xr.DataTree | xr.Dataset) -> list[ObservedPoint]:
    """The ``[[observations]]`` of the stored spec (empty list when there are none)."""
    out = []
    for raw in spec_dict(obj).get("observations", []) or []:
        try:
            value = float(raw["value"])
            date = np.datetime64(str(raw["date"])[:10])
        except (KeyError, TypeError, ValueError):
            continue
        if "interval" in raw:
            low, high = (float(v) for v in raw["interval"])
            level = float(raw.get("level", 0.9))
        elif "sd" in raw:
            sd = float(raw["sd"])
            low, high, level = value - 1.645 * sd, value + 1.645 * sd, 0.9
        else:
            low = high = level = float("nan")
        out.append(ObservedPoint(str(raw.get("name", "")), str(raw.get("quantity", "")), date,
                                 value, low, high, level, str(raw.get("source", ""))))
    return out


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
