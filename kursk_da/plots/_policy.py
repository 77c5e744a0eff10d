"""Figures of the policy analyses: EV surface of a threshold search, trigger days, value of
waiting, EVSI/ENBS of intelligence, two-way sensitivity map.

Each function takes a result set or the group's Dataset and returns a new
:class:`matplotlib.figure.Figure` (object-oriented API; nothing shown or saved).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from kursk_da.dims import (
    DATE,
    GRID_POINT,
    OPTION,
    REPORTS,
    VALUE_UNITS,
    WAIT_DAYS,
    X_VALUE,
    Y_VALUE,
)

__all__ = ["plot_policy_surface", "plot_trigger_days", "plot_waiting", "plot_intelligence",
           "plot_twoway"]


def _ds(obj: xr.DataTree | xr.Dataset, path: str) -> xr.Dataset:
    if isinstance(obj, xr.Dataset):
        return obj
    key = path.lstrip("/")
    try:
        return obj[key].to_dataset()
    except KeyError:
        raise KeyError(f"result set has no group {path}; run the matching kursk-da command") \
            from None


def plot_policy_surface(obj: xr.DataTree | xr.Dataset) -> Figure:
    """EV of the policy over the search grid (``/policy/search``): a heat map for two
    searched fields, a line with 2-MCSE band for one; the chosen point marked."""
    ds = _ds(obj, "/policy/search")
    names = str(ds.attrs["searched"]).split(",")
    ev = ds["expected_value"].values
    best = int(np.argmax(ev)) if "best_grid_point" not in ds.attrs else int(
        ds.attrs["best_grid_point"])
    fig = Figure(figsize=(7, 5), layout="constrained")
    ax = fig.subplots()
    option = ds.attrs.get("option", "policy")
    if len(names) >= 2:
        x = ds[names[0]].values
        y = ds[names[1]].values
        xs, ys = np.unique(x), np.unique(y)
        grid = np.full((ys.size, xs.size), np.nan)
        for k in range(ev.size):
            grid[np.searchsorted(ys, y[k]), np.searchsorted(xs, x[k])] = ev[k]
        mesh = ax.pcolormesh(np.arange(xs.size + 1) - 0.5, np.arange(ys.size + 1) - 0.5, grid,
                             cmap="viridis", shading="flat")
        ax.set_xticks(np.arange(xs.size), [f"{v:g}" for v in xs])
        ax.set_yticks(np.arange(ys.size), [f"{v:g}" for v in ys])
        kb = int(np.nanargmax(grid))
        ax.plot(kb % xs.size, kb // xs.size, marker="*", color="red", markersize=14,
                label="highest EV")
        fig.colorbar(mesh, ax=ax, label=f"expected value ({VALUE_UNITS})")
        ax.set_xlabel(f"{names[0]} ({ds[names[0]].attrs.get('units', '')})")
        ax.set_ylabel(f"{names[1]} ({ds[names[1]].attrs.get('units', '')})")
        ax.legend(loc="upper right")
    else:
        x = ds[names[0]].values
        se = ds["expected_value_mcse"].values
        order = np.argsort(x)
        ax.plot(x[order], ev[order], marker="o", label="EV (search draws)")
        ax.fill_between(x[order], ev[order] - 2 * se[order], ev[order] + 2 * se[order],
                        alpha=0.3, label="± 2 MCSE")
        ax.axvline(x[best], color="red", linestyle="--", label="chosen")
        ax.set_xlabel(f"{names[0]} ({ds[names[0]].attrs.get('units', '')})")
        ax.set_ylabel(f"expected value ({VALUE_UNITS})")
        ax.legend()
    ax.set_title(f"{option}: EV over the trigger thresholds ({ds.sizes[GRID_POINT]} points, "
                 "search draws)")
    return fig


def plot_trigger_days(obj: xr.DataTree | xr.Dataset) -> Figure:
    """Fraction of draws whose triggered phase has started, by date (``/triggers``)."""
    ds = _ds(obj, "/triggers")
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    for name in ds[OPTION].values:
        prob = float(ds["fired_probability"].sel({OPTION: name}))
        ax.plot(ds[DATE].values, ds["fired_by_date"].sel({OPTION: name}).values,
                label=f"{name} (P(fires) = {prob:.2f})")
    ax.set_ylim(0, 1)
    ax.set_xlabel("date")
    ax.set_ylabel("fraction of draws triggered (1)")
    ax.set_title("When the state-triggered phase starts")
    ax.legend()
    fig.autofmt_xdate()
    return fig


def plot_waiting(obj: xr.DataTree | xr.Dataset) -> Figure:
    """Value of waiting k days (``/waiting``) with 2-SE band, the EVPI as a bound."""
    ds = _ds(obj, "/waiting")
    k = ds[WAIT_DAYS].values
    v = ds["value_of_waiting"].values
    se = ds["value_of_waiting_se"].values
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(k, v, marker="o", label="value of waiting (net of the cost of waiting)")
    ax.fill_between(k, v - 2 * se, v + 2 * se, alpha=0.3, label="± 2 SE")
    if "gross_value_of_waiting" in ds:
        ax.plot(k, ds["gross_value_of_waiting"].values, linestyle=":",
                label="gross (information only)")
    if "evpi" in ds:
        ax.axhline(float(ds["evpi"]), color="grey", linestyle="--", label="EVPI (upper bound)")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel(f"days waited before deciding ({WAIT_DAYS})")
    ax.set_ylabel(f"value of waiting ({VALUE_UNITS})")
    ax.set_title("Wait, observe, then decide — against deciding now")
    ax.legend()
    return fig


def plot_intelligence(obj: xr.DataTree | xr.Dataset) -> Figure:
    """EVSI and ENBS against the number of reports (``/intelligence``), both methods."""
    ds = _ds(obj, "/intelligence")
    n = ds[REPORTS].values
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    for var, label in (("evsi_regression", "EVSI (regression)"),
                       ("evsi_moment_matching", "EVSI (moment matching)")):
        if var in ds:
            ax.plot(n, ds[var].values, marker="o", label=label)
    if "evsi_regression_se" in ds:
        v, se = ds["evsi_regression"].values, ds["evsi_regression_se"].values
        ax.fill_between(n, v - 2 * se, v + 2 * se, alpha=0.25)
    if "enbs" in ds:
        ax.plot(n, ds["enbs"].values, marker="s", linestyle="--", label="ENBS (regression)")
    if "evppi" in ds:
        ax.axhline(float(ds["evppi"]), color="grey", linestyle="--",
                   label="EVPPI of the measured quantity")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel(f"independent reports ({REPORTS})")
    ax.set_ylabel(f"value ({VALUE_UNITS})")
    ax.set_title(str(ds.attrs.get("question", "value of intelligence")))
    ax.legend()
    return fig


def plot_twoway(obj: xr.DataTree | xr.Dataset) -> Figure:
    """Best option over a grid of two inputs (``/twoway``), with the EV difference of the
    two leaders as contours and its zero contour (the threshold curve)."""
    ds = _ds(obj, "/twoway")
    xn, yn = str(ds.attrs["x"]), str(ds.attrs["y"])
    x, y = ds[X_VALUE].values, ds[Y_VALUE].values
    best = ds["best_option_index"].values  # (x, y)
    diff = ds["leader_difference"].values
    options = [str(o) for o in ds[OPTION].values]
    fig = Figure(figsize=(7.5, 5.5), layout="constrained")
    ax = fig.subplots()
    cmap = "tab10"
    ax.pcolormesh(x, y, best.T, cmap=cmap, vmin=-0.5, vmax=9.5, shading="nearest", alpha=0.6)
    cs = ax.contour(x, y, diff.T, levels=8, colors="k", linewidths=0.6)
    ax.clabel(cs, fontsize=7)
    ax.contour(x, y, diff.T, levels=[0.0], colors="red", linewidths=2)
    import matplotlib as mpl

    colors = mpl.colormaps[cmap]
    for k, name in enumerate(options):
        if np.any(best == k):
            ax.plot([], [], marker="s", linestyle="", color=colors(k), label=f"best: {name}")
    ax.plot([], [], color="red", label=f"{ds.attrs.get('leaders', 'leaders')} tie (threshold)")
    ax.set_xlabel(f"{xn} ({ds[X_VALUE].attrs.get('units', '')})")
    ax.set_ylabel(f"{yn} ({ds[Y_VALUE].attrs.get('units', '')})")
    ax.set_title(f"Best option over {xn} and {yn}; contours: EV difference of the two "
                 f"leaders ({VALUE_UNITS})", fontsize=9)
    ax.legend(fontsize=8, loc="best")
    return fig
