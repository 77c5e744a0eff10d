"""The model's predictions of the historical course against the essay's figures, and the priors.

:func:`plot_prior_predictive` draws the stored trajectories (prior draws in a prior
analysis, posterior draws after calibration) of area held, the Russian build-up and the
casualties up to the decision date, with the essay's figures (:data:`ESSAY_FIGURES`) and
the spec's observations on them. :func:`plot_prior_inputs` shows the Monte Carlo
draws of the uncertain inputs (group ``/prior``) with their units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from kursk_da.dims import CHAIN, DATE, DRAW, OPTION
from kursk_da.plots._common import (
    date_values,
    decision_date,
    flat_draws,
    format_date_axis,
    group,
    mark_decision,
    new_figure,
)
from kursk_da.plots._trajectories import SHORT_NAMES, _fan, _overlay_observations, trajectory

__all__ = ["EssayFigure", "ESSAY_FIGURES", "plot_prior_predictive", "plot_prior_inputs"]


@dataclass(frozen=True)
class EssayFigure:
    """A figure quoted in the essay, placed on a date of the model's calendar.

    The dates are analyst readings of vague phrases ("within days", "by October").
    """

    quantity: str
    date: np.datetime64
    value: float
    label: str
    quote: str


ESSAY_FIGURES: tuple[EssayFigure, ...] = (
    EssayFigure("area_held", np.datetime64("2024-08-16"), 1250.0,
                "~1,250 km² within days of 6 Aug 2024",
                "Within days, they had advanced deep into the Kursk region, capturing about "
                "1,250 square kilometers"),
    EssayFigure("area_held", np.datetime64("2024-10-31"), 625.0,
                "about half retaken by October 2024",
                "By October, they had reclaimed about half of the territory Ukraine had captured"),
    EssayFigure("ru_buildup", np.datetime64("2024-12-15"), 50_000.0,
                "~50,000 Russian reinforcements (incl. ~12,000 North Korean)",
                "deploying approximately 50,000 additional troops to the region, including "
                "12,000 North Korean soldiers"),
)
"""The essay's figures on the first offensive (dates: analyst judgement)."""


def _window(tree: xr.DataTree, option: str | None) -> tuple[str, np.datetime64]:
    """The option to show and the last date: the shared history up to the decision
    when it covers the essay's figures, else the option that took the most ground."""
    traj = group(tree, "/trajectories")
    dates = date_values(traj)
    last_fig = max(f.date for f in ESSAY_FIGURES)
    dd = decision_date(tree)
    if option is None:
        if dd is not None and dd > last_fig:
            option = str(traj[OPTION].values[0])
        else:
            first = np.argmin(np.abs(dates - ESSAY_FIGURES[0].date))
            area = traj["area_held_mean"] if "area_held_mean" in traj else \
                traj["area_held"].mean(DRAW)
            option = str(area.isel({DATE: first}).idxmax(OPTION).values)
    end = dd if dd is not None and dd > last_fig else last_fig + np.timedelta64(45, "D")
    return option, min(end, dates[-1])


def plot_prior_predictive(tree: xr.DataTree, option: str | None = None) -> Figure:
    """The model's course of the first offensive against the essay's figures.

    Panels: area held (km²), the Russian build-up in Kursk (troops; Russian forces when
    the garrison of each draw is not available) and cumulative casualties of both sides
    (troops), from 6 Aug 2024 to the decision date (the history shared by every option)
    or, when the decision comes before the essay's figures (the 2024 spec), under the
    option that took the most ground, to mid-January 2025 at most.

    Parameters
    ----------
    tree : DataTree
        A result set; in a prior analysis the stored trajectories are the prior
        predictive distribution, in a posterior analysis the posterior predictive one.
    option : str, optional
        The option whose trajectories are drawn (default: see above).

    Returns
    -------
    matplotlib.figure.Figure
    """
    option, end = _window(tree, option)
    try:
        force = trajectory(tree, "ru_buildup").rename("ru_buildup")
    except KeyError:
        force = trajectory(tree, "russian_forces").rename("russian_forces")
    rows = [trajectory(tree, "area_held").rename("area_held"), force,
            trajectory(tree, "ua_casualties").rename("ua_casualties"),
            trajectory(tree, "ru_casualties").rename("ru_casualties")]
    kind = "Posterior" if tree.attrs.get("analysis") == "posterior" else "Prior"
    fig = new_figure(11, 7.5)
    axes = fig.subplots(2, 2, sharex=True)
    dd = decision_date(tree)
    for k, (ax, da) in enumerate(zip(axes.flat, rows, strict=True)):
        da = da.sel({OPTION: option}).sel({DATE: slice(None, end)})
        _fan(ax, date_values(da), da.transpose(DRAW, DATE).values, "tab:blue", legend=(k == 0))
        name = str(da.name)
        for i, f in enumerate(x for x in ESSAY_FIGURES if x.quantity == name):
            ax.plot([f.date], [f.value], "*", color="tab:red", ms=13, zorder=6,
                    label="essay's figure" if i == 0 else None)
            right = f.date > date_values(da)[0] + (end - date_values(da)[0]) / 2
            ax.annotate(f.label, (f.date, f.value), textcoords="offset points",
                        xytext=(-8 if right else 8, 6), ha="right" if right else "left",
                        fontsize=7, color="tab:red")
        _overlay_observations(ax, tree, name)
        if dd is not None and dd <= end:
            mark_decision(ax, dd)
        format_date_axis(ax)
        ax.grid(alpha=0.3)
        ax.set_title(SHORT_NAMES.get(name, name), fontsize=10)
        ax.set_ylabel(f"{SHORT_NAMES.get(name, name)} ({da.attrs.get('units', '')})"
                      .replace("km2", "km²"), fontsize=9)
        ax.set_xlabel("date")
        ax.xaxis.label.set_visible(k >= 2)  # shared x: bottom row only
    handles: dict[str, Artist] = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center",
               ncols=6, fontsize=8)
    n = group(tree, "/trajectories").sizes[DRAW]
    shown = "history shared by every option" if dd is not None and end >= dd else option
    fig.suptitle(f"{kind} predictive of the first offensive against the essay's figures "
                 f"({shown}, {n} stored draws)")
    return fig


def plot_prior_inputs(tree: xr.DataTree | xr.Dataset, variables: Sequence[str] | None = None,
                      *, ncols: int = 5, bins: int = 40) -> Figure:
    """Histograms of the Monte Carlo draws of the uncertain inputs (group ``/prior``).

    Parameters
    ----------
    tree : DataTree or Dataset
        A result set or its ``/prior`` group.
    variables : sequence of str, optional
        Inputs to show (default: all that vary).
    ncols : int
        Panels per row.
    bins : int
        Histogram bins.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per input; the x label carries the units, the title the input's name.
    """
    ds = group(tree, "/prior")
    if variables is None:  # one value per draw; constant (fixed) inputs carry no uncertainty
        variables = [str(v) for v, da in ds.data_vars.items()
                     if set(da.dims) <= {CHAIN, DRAW} and np.ptp(flat_draws(ds, str(v))) > 0]
    names = list(variables)
    nrows = int(np.ceil(len(names) / ncols))
    height = 2.0 * nrows + 0.5
    fig = new_figure(2.6 * ncols, height, layout=None)  # fixed spacing: fast with many panels
    fig.subplots_adjust(left=0.03, right=0.98, bottom=0.6 / height, top=1 - 0.9 / height,
                        wspace=0.25, hspace=0.75)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, name in zip(axes, names, strict=False):
        x = flat_draws(ds, name).ravel()
        ax.hist(x[np.isfinite(x)], bins=bins, color="tab:blue", alpha=0.7, density=True)
        ax.set_title(name, fontsize=8)
        ax.set_xlabel(str(ds[name].attrs.get("units", "")).replace("km2", "km²") or "1",
                      fontsize=7)
        ax.set_ylabel("density", fontsize=7)
        ax.set_yticks([])
        ax.tick_params(labelsize=6)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"Prior draws of the uncertain inputs ({ds.sizes.get(DRAW, 0)} draws; "
                 "x axis in each input's units)", y=1 - 0.2 / height)
    return fig
