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
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from kursk_da.dims import DRAW, OPTION, VALUE_UNITS
from kursk_da.plots._common import group, new_figure, option_colors

__all__ = ["plot_value_distribution", "plot_decision_metrics"]

_UNITS = VALUE_UNITS.replace("km2", "km²")


def _order(ds: xr.Dataset) -> list[str]:
    """Options by expected value, best first."""
    return [str(o) for o in ds["expected_value"].sortby(ds["expected_value"], ascending=False)
            [OPTION].values]


def _share(p: float) -> str:
    return "<0.1%" if p < 0.001 else f"{p:.1%}"


def plot_value_distribution(tree: xr.DataTree | xr.Dataset, *, trim: float = 0.005) -> Figure:
    """Violin plot of the value of each option over the draws.

    Each violin is the distribution of ``value`` for one option over the draws inside the
    displayed range, the ``trim`` and ``1 - trim`` quantiles of all values (stated in the
    title). Draws beyond the range are left out of the violin, never moved onto its edge,
    and the share of each option's draws beyond each end is printed at that end. The
    expected value (diamond, ± 2 Monte Carlo standard errors), the median (bar) and the
    CVaR (triangle) use every draw; the axis widens to show them. Options are ordered by
    expected value, best on top. Every mark is in the legend.

    Parameters
    ----------
    tree : DataTree or Dataset
        A result set or its ``/decision`` group.
    trim : float
        Tail probability (of all values pooled) left out of each end of the range.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not 0.0 <= trim < 0.5:
        raise ValueError(f"trim: expected a probability in [0, 0.5), got {trim}")
    ds = group(tree, "/decision")
    order = _order(ds)
    colors = option_colors(ds[OPTION].values)
    values = ds["value"].transpose(DRAW, OPTION)
    lo, hi = (float(q) for q in np.nanquantile(values.values, [trim, 1 - trim]))
    full = [np.asarray(values.sel({OPTION: o}).values, dtype=float) for o in order]
    data = [x[(x >= lo) & (x <= hi)] for x in full]
    fig = new_figure(9, 1.6 + 1.1 * len(order))
    ax = fig.subplots()
    y = np.arange(len(order))[::-1]
    keep = [k for k, d in enumerate(data) if d.size > 1]
    kw: dict[str, Any] = {"positions": y[keep], "showextrema": False, "showmedians": False,
                          "widths": 0.85}
    if keep:
        try:
            parts = ax.violinplot([data[k] for k in keep], orientation="horizontal", **kw)
        except TypeError:  # matplotlib < 3.10
            parts = ax.violinplot([data[k] for k in keep], vert=False, **kw)
        # matplotlib's stubs type every entry as a Collection; "bodies" is a list of them
        bodies = cast("list[PolyCollection]", parts["bodies"])
        for body, k in zip(bodies, keep, strict=True):
            body.set_facecolor(colors[order[k]])
            body.set_edgecolor(colors[order[k]])
            body.set_alpha(0.55)
    handles: list[Any] = [Patch(facecolor="0.6", alpha=0.55,
                                label=f"draws of the option inside the range "
                                      f"({trim:.1%}-{1 - trim:.1%} of all draws)")]
    med = np.array([np.median(x) for x in full])
    handles.append(ax.scatter(med, y, marker="|", s=500, color="k", linewidths=2,
                              label="median (all draws)", zorder=4))
    ev = ds["expected_value"].sel({OPTION: order}).values
    mcse = ds["expected_value_mcse"].sel({OPTION: order}).values
    handles.append(ax.errorbar(ev, y, xerr=2 * mcse, fmt="D", color="k", ms=6, capsize=3,
                               label="expected value ± 2 MCSE", zorder=5))
    marks = [ev - 2 * mcse, ev + 2 * mcse, med]
    if "cvar" in ds:
        alpha = float(ds.attrs.get("cvar_alpha", getattr(tree, "attrs", {}).get("cvar_alpha",
                                                                                0.05)))
        cv = ds["cvar"].sel({OPTION: order}).values
        handles.append(ax.plot(cv, y, "v", color="tab:red", ms=8, zorder=5,
                               label=f"CVaR {alpha:.0%} (mean of the worst {alpha:.0%})")[0])
        marks.append(cv)
    handles.append(ax.axvline(0, color="0.5", lw=0.8, label="zero"))
    left = min(lo, *(float(np.min(m)) for m in marks))
    right = max(hi, *(float(np.max(m)) for m in marks))
    pad = 0.04 * (right - left if right > left else 1.0)
    ax.set_xlim(left - pad, right + pad)
    for yk, x in zip(y, full, strict=True):
        below, above = float(np.mean(x < lo)), float(np.mean(x > hi))
        if below > 0:
            ax.text(left - pad, yk + 0.3, f"◀ {_share(below)} beyond", fontsize=7, ha="left",
                    va="center", color="0.3")
        if above > 0:
            ax.text(right + pad, yk + 0.3, f"{_share(above)} beyond ▶", fontsize=7, ha="right",
                    va="center", color="0.3")
    ax.set_yticks(y, order)
    ax.set_xlabel(f"value ({_UNITS}, higher is better)")
    ax.set_ylabel("option")
    ax.set_title(f"Distribution of value per option ({values.sizes[DRAW]} draws); range: the "
                 f"{trim:.1%} to {1 - trim:.1%} quantiles of all draws,\nshare of draws beyond "
                 "it printed at each end (left out of the violins, not piled on the edge)",
                 fontsize=10)
    fig.legend(handles=handles, loc="outside lower center", fontsize=8, ncols=2)
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
        ax.barh(y, vals, xerr=xerr, color=colors, capsize=3)
        ax.axvline(0, color="0.5", lw=0.8)
        if xerr is not None:
            ax.legend(handles=[Line2D([], [], color="k", marker="|", ls="-", ms=8,
                                      label="± 2 MCSE")], fontsize=7, loc="best")
        ax.set_yticks(y, order)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("option")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        if var == "prob_best":
            ax.set_xlim(0, 1)
    evpi = float(ds["evpi"])
    se = float(ds["evpi_mcse"]) if "evpi_mcse" in ds else float("nan")
    fig.suptitle(f"Decision metrics per option, bars coloured by option as named on the y axes "
                 f"(EVPI {evpi:,.1f} ± {se:,.1f} {_UNITS})")
    return fig
