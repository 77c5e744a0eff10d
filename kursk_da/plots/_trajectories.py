"""Fan charts of the daily trajectories and the retention probability over time.

The bands are quantiles over the stored trajectory draws (the first
``decision.trajectories`` draws of the run, group ``/trajectories``); the mean of area
held uses every draw (``area_held_mean``). The decision date is a dashed line, and the
claims of each panel's quantity (:func:`kursk_da.io.observations_frame`) are drawn by
claimant family, intervals as error bars and one-sided bounds as arrows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from kursk_da.dims import DATE, DRAW, OPTION, PARAMETER
from kursk_da.dynamics.catalogue import OBSERVABLES, TRAJECTORIES
from kursk_da.plots._common import (
    claims,
    date_values,
    decision_date,
    draw_claims,
    flat_draws,
    format_date_axis,
    group,
    mark_decision,
    new_figure,
    option_colors,
    option_styles,
    units_of,
)

__all__ = [
    "DERIVED",
    "SHORT_NAMES",
    "trajectory",
    "plot_fan",
    "plot_area_held",
    "plot_forces",
    "plot_casualties",
    "plot_retention",
]

DERIVED: dict[str, tuple[str, str]] = {
    q.name: (f"{q.long_name} ({q.state} - {q.minus})", q.units)
    for q in OBSERVABLES if q.minus is not None and q.name not in {t.name for t in TRAJECTORIES}
}
"""Trajectories computed from stored ones: name -> (long name, units) (from the catalogue)."""

SHORT_NAMES: dict[str, str] = {
    **{q.name: q.label for q in TRAJECTORIES},
    **{q.name: q.label for q in OBSERVABLES},
}
"""Axis labels of the trajectory variables (the catalogue's ``label``)."""

_BANDS = ((0.05, 0.95, 0.18), (0.25, 0.75, 0.35))  # (low, high, alpha)


def _input_for_draws(tree: xr.DataTree, name: str, draws: np.ndarray) -> np.ndarray | None:
    """Values of input ``name`` for the trajectory draws, or None if not alignable.

    The engine's input matrix (``/decision/inputs``, draw x parameter) when the result
    set stores it (posterior analysis); otherwise, in a prior analysis, the ``/prior``
    draws, whose ``draw`` index is the engine's.
    """
    if not draws.size or draws.min() < 0:
        return None
    dec = tree.children.get("decision")
    if dec is not None and "inputs" in dec.data_vars and PARAMETER in dec.dataset["inputs"].dims:
        inputs = dec.dataset["inputs"]
        if name in inputs[PARAMETER].values:
            column = inputs.sel({PARAMETER: name})
            if set(draws) <= set(column[DRAW].values.tolist()):
                return column.sel({DRAW: draws}).values
    if tree.attrs.get("analysis", "prior") == "prior" and "/prior" in tree.groups \
            and name in tree["prior"].data_vars:
        flat = flat_draws(tree["prior"].to_dataset(), name).reshape(-1)
        if draws.max() < flat.size:
            values: np.ndarray = flat[draws]
            return values
    return None


def trajectory(tree: xr.DataTree | xr.Dataset, name: str) -> xr.DataArray:
    """One trajectory variable (option, draw, date), stored or derived.

    Parameters
    ----------
    tree : DataTree or Dataset
        A result set, or its ``/trajectories`` group.
    name : str
        A variable of ``/trajectories`` or a key of :data:`DERIVED` (``ru_buildup``: Russian
        forces minus each draw's ``ru_garrison``; needs the tree, not only the group).

    Returns
    -------
    xarray.DataArray
        With ``long_name`` and ``units`` attributes.
    """
    ds = group(tree, "/trajectories")
    if name in ds:
        return ds[name]
    if name == "ru_buildup" and isinstance(tree, xr.DataTree):
        garrison = _input_for_draws(tree, "ru_garrison", ds[DRAW].values)
        if garrison is not None:
            g = xr.DataArray(garrison, dims=(DRAW,), coords={DRAW: ds[DRAW].values})
            long_name, units = DERIVED[name]
            return (ds["russian_forces"] - g).assign_attrs(long_name=long_name, units=units)
    raise KeyError(f"no trajectory {name!r} in the result set")


def _fan(ax: Axes, dates: np.ndarray, values: np.ndarray, color: str, *, legend: bool) -> None:
    """Quantile bands and the median of ``values`` (draw x date)."""
    for lo, hi, alpha in _BANDS:
        q = np.nanquantile(values, [lo, hi], axis=0)
        ax.fill_between(dates, q[0], q[1], color=color, alpha=alpha, lw=0,
                        label=f"{lo:.0%}-{hi:.0%} of stored draws" if legend else None)
    ax.plot(dates, np.nanmedian(values, axis=0), color=color, lw=1.5,
            label="median" if legend else None)


def _overlay_observations(ax: Axes, tree: xr.DataTree | xr.Dataset, quantity: str,
                          *, legend: bool = True) -> int:
    """Draw the claims of ``quantity`` (and of quantities reading the same state) on ``ax``."""
    frame = claims(tree, quantity)
    related = sorted(set(frame.loc[frame["related"], "quantity"])) if len(frame) else []
    label = ("hollow: " + ", ".join(SHORT_NAMES.get(q, q) for q in related)) if related else ""
    return draw_claims(ax, frame, legend=legend, related_label=label)


def _panel(ax: Axes, tree: xr.DataTree | xr.Dataset, da: xr.DataArray, option: str, color: str,
           *, legend: bool, mean: xr.DataArray | None = None) -> None:
    dates = date_values(da)
    _fan(ax, dates, da.sel({OPTION: option}).transpose(DRAW, DATE).values, color, legend=legend)
    if mean is not None:
        ax.plot(dates, mean.sel({OPTION: option}).values, color="k", lw=1, ls=":",
                label="mean over all draws" if legend else None)
    _overlay_observations(ax, tree, str(da.name))  # labels deduplicated in the legend
    mark_decision(ax, decision_date(tree), label=legend)
    format_date_axis(ax)
    ax.grid(alpha=0.3)


def plot_fan(tree: xr.DataTree | xr.Dataset, variables: str | Sequence[str] = "area_held",
             *, options: Sequence[str] | None = None, title: str | None = None) -> Figure:
    """Fan chart of trajectory variables: one row per variable, one column per option.

    A single variable is laid out on a grid of at most two columns.

    Parameters
    ----------
    tree : DataTree or Dataset
        A result set (or its ``/trajectories`` group; then no observations/decision date).
    variables : str or sequence of str
        Names accepted by :func:`trajectory`.
    options : sequence of str, optional
        Default: every option.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = [variables] if isinstance(variables, str) else list(variables)
    ds = group(tree, "/trajectories")
    opts = [str(o) for o in (options if options is not None else ds[OPTION].values)]
    colors = option_colors(ds[OPTION].values)
    arrays = [trajectory(tree, n).rename(n) for n in names]
    if len(names) == 1:
        ncols = min(2, len(opts))
        nrows = int(np.ceil(len(opts) / ncols))
    else:
        nrows, ncols = len(names), len(opts)
    fig = new_figure(4.6 * ncols, 3.2 * nrows + 0.6)
    axes = np.atleast_2d(fig.subplots(nrows, ncols, sharex=True, sharey="row", squeeze=False))
    for k, ax in enumerate(axes.flat):
        if len(names) == 1:
            if k >= len(opts):
                ax.set_visible(False)
                continue
            da, opt = arrays[0], opts[k]
        else:
            da, opt = arrays[k // ncols], opts[k % ncols]
        mean = None
        if f"{da.name}_mean" in ds:
            mean = ds[f"{da.name}_mean"]
        _panel(ax, tree, da, opt, colors[opt], legend=(k == 0), mean=mean)
        ax.set_title(opt if len(names) == 1 or k < ncols else "", fontsize=10)
        ax.set_ylabel(f"{SHORT_NAMES.get(str(da.name), da.name)} ({units_of(da)})", fontsize=9)
        if k % ncols:
            ax.yaxis.label.set_visible(False)
        ax.set_xlabel("date")
        ax.xaxis.label.set_visible(k >= (nrows - 1) * ncols)  # shared x: bottom row only
    handles: dict[str, Artist] = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center",
               ncols=3 if ncols <= 2 else 6, fontsize=8)
    n = ds.sizes[DRAW]
    fig.suptitle(title or f"{', '.join(names)} per option ({n} stored draws)")
    return fig


def plot_area_held(tree: xr.DataTree | xr.Dataset,
                   options: Sequence[str] | None = None) -> Figure:
    """Fan chart of the area of Kursk oblast held by Ukraine (km²) per option.

    Bands: 5-95% and 25-75% of the stored draws; the median; the mean over all draws
    (``area_held_mean``); the decision date; the spec's ``area_held`` observations.
    """
    return plot_fan(tree, "area_held", options=options,
                    title="Area of Kursk oblast held by Ukraine, per option")


def plot_forces(tree: xr.DataTree | xr.Dataset, options: Sequence[str] | None = None) -> Figure:
    """Fan charts of Ukrainian and Russian troops in Kursk (and the Russian build-up).

    The build-up row (Russian forces minus the draw's garrison) is added when the
    garrison of each stored draw is in the result set; it carries the ``ru_buildup``
    observations.
    """
    names = ["ukrainian_forces", "russian_forces"]
    try:
        trajectory(tree, "ru_buildup")
        names.append("ru_buildup")
    except KeyError:
        pass
    return plot_fan(tree, names, options=options, title="Forces in Kursk, per option (troops)")


def plot_casualties(tree: xr.DataTree | xr.Dataset,
                    options: Sequence[str] | None = None) -> Figure:
    """Fan charts of cumulative Ukrainian and Russian casualties in Kursk (troops)."""
    return plot_fan(tree, ["ua_casualties", "ru_casualties"], options=options,
                    title="Cumulative casualties in Kursk since 6 Aug 2024, per option")


def plot_retention(tree: xr.DataTree | xr.Dataset) -> Figure:
    """Probability of retaining territory (area held >= threshold) over time, per option.

    Each option has its own colour, dash pattern and marker (markers staggered between
    options), so options whose curves coincide, such as two that both leave the
    salient, stay distinguishable.
    """
    ds = group(tree, "/trajectories")
    da = ds["retention_probability"]
    styles = option_styles(ds[OPTION].values)
    dates = date_values(ds)
    fig = new_figure(8, 4.5)
    ax = fig.subplots()
    n_opt = ds.sizes[OPTION]
    every = max(1, len(dates) // 12)
    for k, opt in enumerate(ds[OPTION].values):
        st = styles[str(opt)]
        ax.plot(dates, da.sel({OPTION: opt}).values, color=st["color"], ls=st["ls"],
                marker=st["marker"], ms=5, lw=1.6, markevery=(k * every // n_opt, every),
                label=str(opt), zorder=3 + k)  # later (dotted) styles on top
    mark_decision(ax, decision_date(tree))
    format_date_axis(ax)
    threshold = da.attrs.get("threshold_km2", tree.attrs.get("retention_threshold_km2", ""))
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("date")
    ax.set_ylabel("P(area held ≥ threshold) (1)")
    ax.set_title(f"Probability of retaining at least {float(threshold):g} km² of Kursk oblast"
                 if threshold != "" else "Probability of retaining territory")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig
