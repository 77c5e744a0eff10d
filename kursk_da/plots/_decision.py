"""Figures of the decision summary: the value distribution per option and the metrics.

Both read group ``/decision`` of a result set (``value`` over draw x option and the
per-option summaries); values are in dkm² (Donbas-equivalent km², higher is better).
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import xarray as xr
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from kursk_da.dims import DRAW, OPTION, VALUE_UNITS
from kursk_da.plots._common import group, new_figure, option_colors

__all__ = ["plot_value_distribution", "plot_decision_metrics"]

_UNITS = VALUE_UNITS.replace("km2", "km²")


def _order(ds: xr.Dataset) -> list[str]:
    """Options by expected value, best first."""
    return [str(o) for o in ds["expected_value"].sortby(ds["expected_value"], ascending=False)
            [OPTION].values]


def plot_value_distribution(tree: xr.DataTree | xr.Dataset, *, clip: float = 0.005) -> Figure:
    """Violin plot of the value of each option over the draws.

    Each violin shows the distribution of ``value`` for one option (tails beyond the
    ``clip`` and ``1 - clip`` quantiles of all values are cut for readability), with
    its expected value (diamond, ± 2 Monte Carlo standard errors), median (bar) and CVaR
    (triangle). Options are ordered by expected value.

    Parameters
    ----------
    tree : DataTree or Dataset
        A result set or its ``/decision`` group.
    clip : float
        Tail probability cut from each end of the displayed range.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ds = group(tree, "/decision")
    order = _order(ds)
    colors = option_colors(ds[OPTION].values)
    values = ds["value"].transpose(DRAW, OPTION)
    lo, hi = np.nanquantile(values.values, [clip, 1 - clip])
    data = [np.clip(values.sel({OPTION: o}).values, lo, hi) for o in order]
    fig = new_figure(9, 1.2 + 1.1 * len(order))
    ax = fig.subplots()
    y = np.arange(len(order))[::-1]
    kw: dict[str, Any] = {"positions": y, "showextrema": False, "showmedians": True, "widths": 0.85}
    try:
        parts = ax.violinplot(data, orientation="horizontal", **kw)
    except TypeError:  # matplotlib < 3.10
        parts = ax.violinplot(data, vert=False, **kw)
    # matplotlib's stubs type every entry as a Collection; "bodies" is a list of them
    bodies = cast("list[PolyCollection]", parts["bodies"])
    for body, o in zip(bodies, order, strict=True):
        body.set_facecolor(colors[o])
        body.set_alpha(0.55)
    parts["cmedians"].set_color("k")
    ev = ds["expected_value"].sel({OPTION: order}).values
    mcse = ds["expected_value_mcse"].sel({OPTION: order}).values
    ax.errorbar(ev, y, xerr=2 * mcse, fmt="D", color="k", ms=6, capsize=3,
                label="expected value ± 2 MCSE")
    if "cvar" in ds:
        alpha = float(ds.attrs.get("cvar_alpha", getattr(tree, "attrs", {}).get("cvar_alpha",
                                                                                0.05)))
        ax.plot(ds["cvar"].sel({OPTION: order}).values, y, "v", color="tab:red", ms=7,
                label=f"CVaR {alpha:.0%} (mean of the worst {alpha:.0%})")
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(y, order)
    ax.set_xlabel(f"value ({_UNITS}, higher is better)")
    ax.set_ylabel("option")
    ax.set_title(f"Distribution of value per option ({values.sizes[DRAW]} draws; "
                 f"range cut at the {clip:.1%} and {1 - clip:.1%} quantiles)")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def plot_decision_metrics(tree: xr.DataTree | xr.Dataset) -> Figure:
    """Bars of the decision metrics per option: P(best), expected regret, CVaR, EV.

    Parameters
    ----------
    tree : DataTree or Dataset
        A result set or its ``/decision`` group.

    Returns
    -------
    matplotlib.figure.Figure
        Four panels; the EVPI (= the smallest expected regret) is in the suptitle.
    """
    ds = group(tree, "/decision")
    order = _order(ds)
    colors = [option_colors(ds[OPTION].values)[o] for o in order]
    alpha = float(ds.attrs.get("cvar_alpha", 0.05))
    panels = (
        ("expected_value", f"expected value ({_UNITS})", "Expected value ± 2 MCSE"),
        ("prob_best", "probability best (1)", "Probability of being the best option"),
        ("expected_regret", f"expected regret ({_UNITS})", "Expected regret (lower is better)"),
        ("cvar", f"CVaR {alpha:.0%} ({_UNITS})",
         f"CVaR {alpha:.0%}: mean of the worst {alpha:.0%}"),
    )
    fig = new_figure(11, 1.8 + 0.9 * len(order))
    axes = fig.subplots(2, 2)
    y = np.arange(len(order))[::-1]
    for ax, (var, xlabel, title) in zip(axes.flat, panels, strict=True):
        vals = ds[var].sel({OPTION: order}).values
        xerr = None
        if var == "expected_value" and "expected_value_mcse" in ds:
            xerr = 2 * ds["expected_value_mcse"].sel({OPTION: order}).values
        ax.barh(y, vals, xerr=xerr, color=colors, capsize=3, label=var.replace("_", " "))
        ax.axvline(0, color="0.5", lw=0.8)
        ax.set_yticks(y, order)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("option")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        if var == "prob_best":
            ax.set_xlim(0, 1)
    evpi = float(ds["evpi"])
    se = float(ds["evpi_mcse"]) if "evpi_mcse" in ds else float("nan")
    fig.suptitle(f"Decision metrics per option (EVPI {evpi:,.1f} ± {se:,.1f} {_UNITS})")
    return fig
