"""Figures and tables of the Bayesian calibration: trace, rank, diagnostics, PPC, contraction.

They read the ArviZ groups of a calibrated result set (``/posterior``,
``/sample_stats``, ``/posterior_predictive``, ``/observed_data``, ``/prior``,
``/diagnostics``; see ``docs/calibration.md``). The sampled campaign parameters are the
``/posterior`` variables over (chain, draw) only; the stacked ``theta`` and the
predicted observations ``mu`` are left out of the trace and rank plots. The predictive
check reads the variable over dim ``observation`` of ``/posterior_predictive`` (``y``)
and its observed values in ``/observed_data``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from kursk_da.dims import CHAIN, DRAW, OBSERVATION, PARAMETER
from kursk_da.plots._common import (
    claims,
    flat_draws,
    group,
    has_group,
    new_figure,
    spec_dict,
)

if TYPE_CHECKING:
    import arviz as az

__all__ = [
    "CALIBRATION_GROUPS",
    "is_calibrated",
    "sampled_parameters",
    "plot_trace",
    "plot_rank",
    "diagnostics_table",
    "plot_ppc",
    "PPC_TRIM",
    "plot_prior_posterior",
]

CALIBRATION_GROUPS = ("posterior", "sample_stats", "posterior_predictive", "observed_data")
"""The ArviZ groups a calibrated result set has besides ``prior``."""

_ARVIZ_GROUPS = ("posterior", "sample_stats", "posterior_predictive", "observed_data", "prior",
                 "prior_predictive")


def is_calibrated(tree: xr.DataTree) -> bool:
    """Whether the result set has a posterior (``/posterior`` with variables)."""
    return has_group(tree, "/posterior")


def sampled_parameters(tree: xr.DataTree | xr.Dataset, limit: int | None = None) -> list[str]:
    """Names of the sampled parameters.

    The ``parameter`` coordinate of the posterior (the parameters stacked in ``theta``)
    when there is one, else every posterior variable with one value per chain and draw;
    the samplers' unit-scale latent variables (``*_unit``) are left out.
    """
    ds = group(tree, "/posterior")
    scalar = [str(v) for v, da in ds.data_vars.items()
              if set(da.dims) == {CHAIN, DRAW} and not str(v).endswith("_unit")]
    if PARAMETER in ds.coords:
        names = [str(p) for p in ds[PARAMETER].values if str(p) in scalar]
    else:
        names = scalar
    return names[:limit] if limit else names


@contextmanager
def _quiet_arviz() -> Iterator[None]:
    """Silence the matplotlib deprecations raised inside ArviZ's plotting backend."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"arviz\..*")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"arviz\..*")
        yield


def _units(tree: xr.DataTree, name: str) -> str:
    """Units of a parameter: ``/prior`` or ``/posterior`` attributes, else the spec's."""
    units = None
    for g in ("/prior", "/posterior"):
        if has_group(tree, g) and name in tree[g].data_vars and tree[g][name].attrs.get("units"):
            units = tree[g][name].attrs["units"]
            break
    if units is None:
        units = spec_dict(tree).get("parameters", {}).get(name, {}).get("units", "1")
    return str(units).replace("km2", "km²")


def _idata(tree: xr.DataTree) -> az.InferenceData:
    """An ArviZ InferenceData view of the ArviZ groups of a result set."""
    import arviz as az

    groups = {g: tree[g].to_dataset() for g in _ARVIZ_GROUPS if has_group(tree, g)}
    return az.InferenceData(attrs=None, warn_on_custom_groups=False, **groups)


def plot_trace(tree: xr.DataTree, var_names: Sequence[str] | None = None,
               limit: int = 12, max_draws: int = 200) -> Figure:
    """ArviZ trace plot (density per chain, left; draws over iterations, right).

    Parameters
    ----------
    tree : DataTree
        A calibrated result set.
    var_names : sequence of str, optional
        Parameters (default: the first ``limit`` sampled parameters).
    limit : int
        Most parameters shown by default.
    max_draws : int
        Chains longer than this are thinned (every k-th draw) for display, which keeps
        the figure light; the title says so.

    Returns
    -------
    matplotlib.figure.Figure
        Divergent transitions, if any, are marked on the x axes.
    """
    import arviz as az

    names = list(var_names) if var_names else sampled_parameters(tree, limit)
    fig = new_figure(11, 1.7 * len(names) + 0.8)
    axes = fig.subplots(len(names), 2, squeeze=False)
    post = group(tree, "/posterior")
    step = max(1, int(np.ceil(post.sizes[DRAW] / max_draws)))
    idata = _idata(tree)
    if step > 1:
        # a new InferenceData (not None) since inplace=False
        thin: dict[str, Any] = {DRAW: slice(None, None, step)}
        idata = cast("az.InferenceData", idata.isel(**thin))
    with _quiet_arviz():
        az.plot_trace(idata, var_names=names, axes=axes, compact=True, show=False)
    for row, name in zip(axes, names, strict=True):
        units = _units(tree, name)
        row[0].set_xlabel(f"{name} ({units})", fontsize=8)
        row[0].set_ylabel("density", fontsize=8)
        row[1].set_xlabel("draw (iteration)", fontsize=8)
        row[1].set_ylabel(f"{name} ({units})", fontsize=8)
    thinned = f", every {step}th draw shown" if step > 1 else ""
    fig.suptitle(f"Trace of the posterior ({post.sizes[CHAIN]} chains x "
                 f"{post.sizes[DRAW]} draws{thinned})")
    return fig


def plot_rank(tree: xr.DataTree, var_names: Sequence[str] | None = None,
              limit: int = 12, ncols: int = 4) -> Figure:
    """ArviZ rank plot: histograms of each chain's ranks, uniform when chains mix."""
    import arviz as az

    names = list(var_names) if var_names else sampled_parameters(tree, limit)
    nrows = int(np.ceil(len(names) / ncols))
    fig = new_figure(3.0 * ncols, 2.3 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    with _quiet_arviz():
        az.plot_rank(_idata(tree), var_names=names, ax=axes[: len(names)], show=False)
    for ax in axes[: len(names)]:
        ax.set_xlabel("rank (all chains pooled)", fontsize=8)
        ax.set_ylabel("chain", fontsize=8)
        ax.title.set_fontsize(8)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle("Rank plots of the posterior (uniform bars = well-mixed chains)")
    return fig


def diagnostics_table(tree: xr.DataTree) -> pd.DataFrame:
    """The convergence diagnostics per parameter (R-hat, ESS, MCSE, ...).

    Read from ``/diagnostics`` when the result set has it (its variables over ``parameter``
    become columns; scalar variables and attributes are left to the caller), otherwise
    computed by :func:`arviz.summary` (``kind="diagnostics"``) on the sampled parameters.

    Returns
    -------
    pandas.DataFrame
        One row per parameter.
    """
    if has_group(tree, "/diagnostics"):
        ds = group(tree, "/diagnostics")
        cols = {str(k): v.to_series() for k, v in ds.data_vars.items() if v.dims == (PARAMETER,)}
        if cols:
            return pd.DataFrame(cols).rename_axis(PARAMETER)
    import arviz as az

    with _quiet_arviz():
        summary = az.summary(_idata(tree), var_names=sampled_parameters(tree), kind="diagnostics")
    return cast(pd.DataFrame, summary)  # a DataFrame in the default fmt="wide"


def _observation_samples(tree: xr.DataTree) -> tuple[xr.DataArray, xr.DataArray | None]:
    pp = group(tree, "/posterior_predictive")
    name = next((str(v) for v, da in pp.data_vars.items() if OBSERVATION in da.dims),
                str(next(iter(pp.data_vars))))
    obs = None
    if has_group(tree, "/observed_data") and name in tree["observed_data"].data_vars:
        obs = group(tree, "/observed_data")[name]
    return pp[name], obs


PPC_TRIM = 0.005
"""Tail probability left out of each end of the predictive histograms of :func:`plot_ppc`."""


def plot_ppc(tree: xr.DataTree, ncols: int = 3) -> Figure:
    """Posterior predictive check of every observation.

    Each panel is the posterior predictive distribution of one observation (histogram
    of ``/posterior_predictive``; the prior predictive too when stored) with the observed
    value and its stated interval or bound (shaded; :func:`kursk_da.io.observations_frame`),
    on an x axis in the quantity's units. The histograms cover the central 99% of the
    posterior predictive draws (:data:`PPC_TRIM` in each tail); draws beyond are left out,
    not piled onto the edge bins, and their share is in the suptitle.
    """
    pred, obs = _observation_samples(tree)
    labels = ([str(o) for o in pred[OBSERVATION].values] if OBSERVATION in pred.dims
              else [str(pred.name)])
    prior_pred = None
    if has_group(tree, "/prior_predictive") and pred.name in tree["prior_predictive"].data_vars:
        prior_pred = tree["prior_predictive"][str(pred.name)]
    frame = claims(tree)
    nrows = int(np.ceil(len(labels) / ncols))
    fig = new_figure(3.8 * ncols, 2.9 * nrows + 0.7)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, label in zip(axes, labels, strict=False):
        sel = {OBSERVATION: label} if OBSERVATION in pred.dims else {}
        x = np.asarray(pred.sel(sel).values).ravel()
        lo, hi = np.nanquantile(x, [PPC_TRIM, 1 - PPC_TRIM])
        if prior_pred is not None:
            xp = np.asarray(prior_pred.sel(sel).values).ravel()
            ax.hist(xp, bins=40, range=(lo, hi), density=True, color="0.6", alpha=0.5,
                    label="prior predictive")
        ax.hist(x, bins=40, range=(lo, hi), density=True, color="tab:blue", alpha=0.7,
                label="posterior predictive")
        o = cast(pd.Series, frame.loc[label]) if label in frame.index else None
        value = float(obs.sel(sel)) if obs is not None else (
            float(o["value"]) if o is not None else np.nan)
        ax.axvline(value, color="k", lw=2, label="observed")
        if o is not None:
            _draw_bound(ax, o, lo, hi)
        q = np.nanquantile(x, [0.05, 0.95])
        inside = "inside" if q[0] <= value <= q[1] else "OUTSIDE"
        units = str(o["units"]).replace("km2", "km²") if o is not None and o["units"] else ""
        ax.set_title(f"{label}\n(observed {inside} the 90% predictive interval)", fontsize=8)
        ax.set_xlabel(f"{o['quantity'] if o is not None else label} "
                      f"({units or 'units of the observation'})", fontsize=8)
        ax.set_ylabel("density", fontsize=8)
        ax.set_yticks([])
    for ax in axes[len(labels):]:
        ax.set_visible(False)
    handles: dict[str, Artist] = {}
    for ax in axes[: len(labels)]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center",
               ncols=4, fontsize=8)
    fig.suptitle("Posterior predictive check of each observation (histograms over the central "
                 f"{1 - 2 * PPC_TRIM:.0%} of the posterior predictive draws; the rest is left "
                 "out)", fontsize=10)
    return fig


def _draw_bound(ax: Any, o: pd.Series, lo: float, hi: float) -> None:
    """Shade a claim's stated interval, or the half-line of its "at least"/"up to" bound."""
    kind = str(o["censoring"])
    gid = f"bound:{o.name}"
    if kind == "interval" and np.isfinite(o["low"]) and np.isfinite(o["high"]):
        level = float(o["level"])
        text = f"stated {level:.0%} interval" if np.isfinite(level) else "claimed interval"
        ax.axvspan(float(o["low"]), float(o["high"]), color="k", alpha=0.12, label=text,
                   gid=gid)
    elif kind == "lower":
        ax.axvspan(float(o["low"]), max(hi, float(o["low"])), color="tab:green", alpha=0.12,
                   label="claim: at least (bound)", gid=gid)
        ax.annotate("", xy=(0.98, 0.9), xytext=(0.75, 0.9), xycoords="axes fraction",
                    arrowprops={"arrowstyle": "->", "color": "tab:green"})
    elif kind == "upper":
        ax.axvspan(min(lo, float(o["high"])), float(o["high"]), color="tab:red", alpha=0.12,
                   label="claim: up to (bound)", gid=gid)
        ax.annotate("", xy=(0.02, 0.9), xytext=(0.25, 0.9), xycoords="axes fraction",
                    arrowprops={"arrowstyle": "->", "color": "tab:red"})


def plot_prior_posterior(tree: xr.DataTree, var_names: Sequence[str] | None = None,
                         limit: int = 16, ncols: int = 4) -> Figure:
    """Prior against posterior density of each sampled parameter, with the contraction.

    The contraction is ``1 - var(posterior) / var(prior)`` (0: nothing learnt, 1: the
    observations pin the parameter down).
    """
    names = list(var_names) if var_names else sampled_parameters(tree, limit)
    post = group(tree, "/posterior")
    prior = group(tree, "/prior") if has_group(tree, "/prior") else None
    nrows = int(np.ceil(len(names) / ncols))
    fig = new_figure(3.0 * ncols, 2.4 * nrows + 0.7)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        xq = flat_draws(post, name).ravel()
        xs = [xq]
        if prior is not None and name in prior:
            xp = flat_draws(prior, name).ravel()
            xs.append(xp)
        lo, hi = np.nanquantile(np.concatenate(xs), [0.005, 0.995])
        bins = np.linspace(lo, hi, 41) if hi > lo else 20
        title = name
        if len(xs) == 2:
            ax.hist(xs[1], bins=bins, density=True, color="0.6", alpha=0.6, label="prior")
            vp = np.nanvar(xs[1])
            if vp > 0:
                title += f"\ncontraction {1 - np.nanvar(xq) / vp:.2f}"
        ax.hist(xq, bins=bins, density=True, color="tab:blue", alpha=0.6, label="posterior")
        ax.set_title(title, fontsize=8)
        ax.set_xlabel(_units(tree, name), fontsize=8)
        ax.set_ylabel("density", fontsize=8)
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    handles: dict[str, Artist] = {}
    for ax in axes[: len(names)]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center",
               ncols=2, fontsize=8)
    fig.suptitle("Prior against posterior of the calibrated parameters")
    return fig
