"""Figures: EVPPI ranking, tornado, Sobol' indices, acceptability curve, weight simplex.

Every function accepts a result set (:class:`xarray.DataTree` with the groups of
:mod:`kursk_da.io._voi_groups`) or the group's Dataset, and returns a new
:class:`matplotlib.figure.Figure` (object-oriented API: no global pyplot state).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from kursk_da.dims import GROUP, OPTION, OUTPUT, PARAMETER, VALUE_UNITS, WEIGHT_VALUE
from kursk_da.io._atomic import save_figure
from kursk_da.plots._common import option_styles

__all__ = ["plot_evppi", "plot_tornado", "plot_sobol", "plot_acceptability", "plot_simplex",
           "save_all_plots"]


def _group(obj: xr.DataTree | xr.Dataset, path: str) -> xr.Dataset:
    if isinstance(obj, xr.Dataset):
        return obj
    if path.lstrip("/") not in obj.groups and path not in obj.groups:
        raise KeyError(f"result set has no group {path}; run the matching kursk-da command")
    return obj[path].to_dataset()


def plot_evppi(obj: xr.DataTree | xr.Dataset, top: int = 15) -> Figure:
    """Horizontal bars of the EVPPI of the top inputs and of every group, with 2 SE."""
    ds = _group(obj, "/voi")
    fig = Figure(figsize=(10, 6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for ax, dim, var, se, title in (
            (ax1, PARAMETER, "evppi", "evppi_se", f"inputs (top {top})"),
            (ax2, GROUP, "group_evppi", "group_evppi_se", "input groups")):
        d = ds[[var, se]].isel({dim: slice(0, top)})
        y = np.arange(d.sizes[dim])[::-1]
        ax.barh(y, d[var].values, xerr=2 * np.nan_to_num(d[se].values), color="tab:blue",
                label="EVPPI (error bar: ± 2 SE)")
        ax.set_yticks(y, [str(v) for v in d[dim].values])
        ax.axvline(float(ds["evpi"]), color="tab:red", ls="--", label="EVPI (all inputs)")
        ax.set_xlabel(f"EVPPI ({VALUE_UNITS})")
        ax.set_title(title)
        ax.legend(loc="lower right")
    fig.suptitle("Expected value of partial perfect information: which uncertainty matters")
    return fig


def plot_tornado(obj: xr.DataTree | xr.Dataset, top: int = 15) -> Figure:
    """Tornado of EV(leader) - EV(runner-up) over each input's swept interval."""
    ds = _group(obj, "/sensitivity/tornado").isel({PARAMETER: slice(0, top)})
    base = float(ds["base_expected_value"].sel({OPTION: ds.attrs["leader"]})
                 - ds["base_expected_value"].sel({OPTION: ds.attrs["runner_up"]}))
    fig = Figure(figsize=(9, 6), layout="constrained")
    ax = fig.subplots()
    y = np.arange(ds.sizes[PARAMETER])[::-1]
    lo, hi = ds["difference"].values[:, 0], ds["difference"].values[:, -1]
    ax.barh(y, lo - base, left=base, color="tab:orange", label="input at 5% quantile")
    ax.barh(y, hi - base, left=base, color="tab:blue", label="input at 95% quantile")
    ax.axvline(base, color="k", lw=1, label="base difference (all inputs uncertain)")
    ax.axvline(0.0, color="tab:red", ls="--", lw=1, label="options equal")
    ax.set_yticks(y, [str(p) for p in ds[PARAMETER].values])
    ax.set_xlabel(f"EV({ds.attrs['leader']}) - EV({ds.attrs['runner_up']}) ({VALUE_UNITS})")
    ax.set_title(f"One-way sensitivity under the {ds.attrs.get('distribution', 'prior')} "
                 "(others uncertain, common random numbers)")
    ax.legend(loc="lower right")
    return fig


def plot_sobol(obj: xr.DataTree | xr.Dataset, output: str = "difference", top: int = 15) -> Figure:
    """First-order and total Sobol' indices of one output, with bootstrap bounds."""
    ds = _group(obj, "/sensitivity/sobol").sel({OUTPUT: output}).sortby("ST", ascending=False)
    ds = ds.isel({PARAMETER: slice(0, top)})
    fig = Figure(figsize=(9, 6), layout="constrained")
    ax = fig.subplots()
    y = np.arange(ds.sizes[PARAMETER])[::-1]
    for var, off, color in (("S1", 0.2, "tab:blue"), ("ST", -0.2, "tab:orange")):
        err = np.vstack([ds[var] - ds[f"{var}_conf_low"], ds[f"{var}_conf_high"] - ds[var]])
        ax.barh(y + off, ds[var].values, height=0.4, xerr=np.clip(err, 0, None), color=color,
                label=("first order S1" if var == "S1" else "total ST")
                + " (error bar: bootstrap interval)")
    ax.set_yticks(y, [str(p) for p in ds[PARAMETER].values])
    ax.set_xlabel("share of output variance (1)")
    label = (f"{ds.attrs['leader']} - {ds.attrs['runner_up']}"
             if output == "difference" and "leader" in ds.attrs else output)
    ax.set_title(f"Sobol' indices of {label} (under the {ds.attrs.get('distribution', 'prior')})")
    ax.legend(loc="lower right")
    return fig


def plot_acceptability(obj: xr.DataTree | xr.Dataset) -> Figure:
    """Probability that each option is best against one value weight."""
    ds = _group(obj, "/scenarios/acceptability")
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    x = ds[WEIGHT_VALUE].values
    styles = option_styles(ds[OPTION].values)
    every = max(1, x.size // 10)
    for k, opt in enumerate(ds[OPTION].values):
        st = styles[str(opt)]
        ax.plot(x, ds["prob_best"].sel({OPTION: opt}).values, color=st["color"], ls=st["ls"],
                marker=st["marker"], ms=5, markevery=(k * every // ds.sizes[OPTION], every),
                label=str(opt))
    ax.set_xlabel(f"weight of {ds.attrs['weight']} ({ds.attrs['weight_units']})")
    ax.set_ylabel("probability best (1)")
    ax.set_ylim(0, 1)
    ax.set_title("Acceptability curve")
    ax.legend()
    return fig


def plot_simplex(obj: xr.DataTree | xr.Dataset) -> Figure:
    """Best option at each point of the three-weight simplex (ternary scatter)."""
    ds = _group(obj, "/scenarios/simplex")
    names = ds.attrs["weights"].split(",")
    lam = np.column_stack([ds[f"lambda_{n}"].values for n in names])
    x = lam[:, 1] + 0.5 * lam[:, 2]
    y = lam[:, 2] * np.sqrt(3) / 2
    fig = Figure(figsize=(7, 6), layout="constrained")
    ax = fig.subplots()
    best = ds["best"].values
    styles = option_styles(ds[OPTION].values)
    for opt in ds[OPTION].values:
        m = best == opt
        if m.any():
            st = styles[str(opt)]
            ax.scatter(x[m], y[m], s=40, color=st["color"], marker=st["marker"],
                       label=f"{opt} best")
    ax.plot([0, 1, 0.5, 0], [0, 0, np.sqrt(3) / 2, 0], color="k", lw=1)
    for (px, py), n in zip([(0, 0), (1, 0), (0.5, np.sqrt(3) / 2)], names, strict=True):
        ax.annotate(f"all weight on\n{n}", (px, py), ha="center", va="top" if py == 0 else "bottom")
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title("Best option over the value-weight simplex (centre = prior means)")
    ax.legend(loc="upper right")
    return fig


def save_all_plots(tree: xr.DataTree, directory: str | Path) -> list[Path]:
    """Write every plot whose group is in ``tree`` as PNG; return the paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    plots: dict[str, tuple[str, Callable[[xr.DataTree], Figure]]] = {
        "evppi": ("/voi", plot_evppi), "tornado": ("/sensitivity/tornado", plot_tornado),
        "sobol": ("/sensitivity/sobol", plot_sobol),
        "acceptability": ("/scenarios/acceptability", plot_acceptability),
        "simplex": ("/scenarios/simplex", plot_simplex)}
    written = []
    for name, (path, func) in plots.items():
        if path in tree.groups:
            fig = func(tree)
            target = out / f"{name}.png"
            save_figure(fig, target, dpi=100)  # atomic; a full disk: one line
            written.append(target)
    return written
