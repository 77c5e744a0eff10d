"""Figures of the rolling-origin hindcast (``/hindcast``, ``kursk-da hindcast``).

Each function takes a result set or its ``/hindcast`` Dataset and returns a new
:class:`matplotlib.figure.Figure` (nothing shown or saved).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from kursk_da.dims import FORECAST, ORIGIN, QUANTITY

__all__ = ["plot_hindcast_skill", "plot_hindcast_pit", "plot_hindcast_forecasts",
           "HINDCAST_CAPTIONS"]

HINDCAST_CAPTIONS = {
    "hindcast_skill": (
        "Read: for each origin (rows) and quantity (columns), how much better the model's "
        "forecasts of the later claims are than a naive forecast: 1 - CRPS of the model / "
        "CRPS of persistence (left: the last value known at the origin) or of a linear trend "
        "(right: through the last two values). Blue (> 0): the model beats the baseline; red "
        "(< 0): the naive forecast was closer; blank: no baseline (no earlier value of that "
        "quantity) or only bounds to score."),
    "hindcast_pit": (
        "Read: where the later claims fell within the model's forecast distributions (PIT, "
        "point claims of every origin). A calibrated forecast gives a flat histogram (dashed "
        "line, grey band: +/- 2 binomial SE); a U shape means too narrow forecasts, a hump "
        "too wide, a slope a bias (mass on the left: the claims came in lower than "
        "forecast)."),
    "hindcast_forecasts": (
        "Read: the area held as forecast from each origin (colour; bars: 50% and 90% "
        "predictive intervals of the claim, including the claimant's bias) against the "
        "claims themselves (black). Claims dated before an origin but reported after it are "
        "forecast too (left of the dotted origin line)."),
}
"""The "Read: ..." caption of each figure (the report's captions)."""


def _ds(obj: xr.DataTree | xr.Dataset) -> xr.Dataset:
    if isinstance(obj, xr.Dataset):
        return obj
    try:
        return obj["hindcast"].to_dataset()
    except KeyError:
        raise KeyError("result set has no group /hindcast; run kursk-da hindcast") from None


def _origin_labels(ds: xr.Dataset) -> list[str]:
    return [str(v)[:10] for v in ds[ORIGIN].values]


def plot_hindcast_skill(obj: xr.DataTree | xr.Dataset) -> Figure:
    """CRPS skill by origin and quantity against persistence and against the trend."""
    ds = _ds(obj)
    keep = [q for q in ds[QUANTITY].values.tolist()
            if int(ds["n_point_by_quantity"].sel({QUANTITY: q}).sum()) > 0]
    origins = _origin_labels(ds)
    fig = Figure(figsize=(max(8.0, 1.1 * len(keep) + 3), 1.0 + 0.9 * len(origins) + 2.5),
                 layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    mesh = None
    for ax, base in zip(axes, ("persistence", "trend"), strict=True):
        grid = ds[f"skill_{base}_by_quantity"].sel({QUANTITY: keep}).transpose(
            ORIGIN, QUANTITY).to_numpy()
        mesh = ax.imshow(np.clip(grid, -1, 1), cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                if np.isfinite(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:+.2f}", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(keep)), keep, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(origins)), origins)
        overall = ds[f"skill_{base}"].to_numpy()
        ax.set_title(f"skill vs {base}\n(all quantities by origin: "
                     + ", ".join("-" if not np.isfinite(v) else f"{v:+.2f}" for v in overall)
                     + ")", fontsize=9)
    axes[0].set_ylabel("origin")
    if mesh is not None:
        fig.colorbar(mesh, ax=axes, label="CRPS skill (1; clipped to [-1, 1])", shrink=0.8)
    fig.suptitle("Rolling-origin hindcast: CRPS skill against naive forecasts")
    return fig


def plot_hindcast_pit(obj: xr.DataTree | xr.Dataset, bins: int = 10) -> Figure:
    """Histogram of the PIT values of the point claims, stacked by origin."""
    ds = _ds(obj)
    pit = ds["pit"].to_numpy()
    origin = ds["forecast_origin"].to_numpy()
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    edges = np.linspace(0, 1, bins + 1)
    data, labels = [], []
    for o, lab in zip(ds[ORIGIN].values, _origin_labels(ds), strict=True):
        v = pit[(origin == o) & np.isfinite(pit)]
        data.append(v)
        labels.append(f"origin {lab} ({v.size})")
    n = int(np.isfinite(pit).sum())
    if n:
        ax.hist(data, bins=edges.tolist(), stacked=True, label=labels, edgecolor="white")
        expect = n / bins
        se = np.sqrt(n * (1 / bins) * (1 - 1 / bins))
        ax.axhline(expect, color="black", linestyle="--", label="uniform (calibrated)")
        ax.axhspan(expect - 2 * se, expect + 2 * se, color="grey", alpha=0.2)
    ax.set_xlim(0, 1)
    ax.set_xlabel("PIT: predictive probability below the claim (1)")
    ax.set_ylabel("point claims (count)")
    ax.set_title(f"PIT of the hindcast forecasts ({n} point claims)")
    ax.legend(fontsize=8)
    return fig


def plot_hindcast_forecasts(obj: xr.DataTree | xr.Dataset,
                            quantity: str = "area_held") -> Figure:
    """Forecasts from each origin (50 % and 90 % intervals) against the claims."""
    ds = _ds(obj)
    sel = ds["forecast_quantity"].to_numpy() == quantity
    if not sel.any():
        raise ValueError(f"no hindcast forecast of {quantity!r}")
    sub = ds.isel({FORECAST: np.flatnonzero(sel)})
    units = str(sub["forecast_units"].values[0])
    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.subplots()
    colours = [f"C{i}" for i in range(ds.sizes[ORIGIN])]
    n_o = ds.sizes[ORIGIN]
    for i, (o, lab) in enumerate(zip(ds[ORIGIN].values, _origin_labels(ds), strict=True)):
        r = sub.isel({FORECAST: np.flatnonzero(sub["forecast_origin"].to_numpy() == o)})
        if r.sizes[FORECAST] == 0:
            continue
        shift = np.timedelta64(int((i - (n_o - 1) / 2) * 18), "h")
        x = r["forecast_date"].to_numpy() + shift
        med = r["predictive_median"].to_numpy()
        ax.vlines(x, r["lower_90"].to_numpy(), r["upper_90"].to_numpy(), color=colours[i],
                  linewidth=1.2, alpha=0.8)
        ax.vlines(x, r["lower_50"].to_numpy(), r["upper_50"].to_numpy(), color=colours[i],
                  linewidth=4, alpha=0.8)
        ax.plot(x, med, "_", color=colours[i], markersize=10,
                label=f"forecast from {lab}")
        ax.axvline(o, color=colours[i], linestyle=":", linewidth=1)
    claims = sub.isel({FORECAST: np.unique(sub["forecast_observation"].to_numpy(),
                                           return_index=True)[1]})
    ax.plot(claims["forecast_date"].to_numpy(), claims["observed"].to_numpy(), "o",
            color="black", markersize=5, label="claim")
    ax.set_ylabel(f"{quantity.replace('_', ' ')} ({units})")
    ax.set_xlabel("date the claim describes")
    ax.set_title(f"Hindcast of {quantity.replace('_', ' ')}: forecasts from each origin "
                 "against the claims")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    return fig
