"""Figures of the evidence base: the posterior claimant biases and the competing model
structures (issue 11).

Each function takes a result set (or the group's Dataset) and returns a new
:class:`matplotlib.figure.Figure` (object-oriented API; nothing shown or saved).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from kursk_da.dims import (
    CHAIN,
    DECISION_MODEL,
    DRAW,
    OBS_PARAMETER,
    OPTION,
    VALUE_UNITS,
    VARIANT,
)
from kursk_da.plots._common import group, has_group, new_figure, option_colors

__all__ = ["claimant_bias_frame", "plot_claimant_biases", "plot_variants"]

_FAMILY_LABELS = {"ua_officials": "Ukrainian officials", "ru_officials": "Russian MoD",
                  "osint_maps": "OSINT maps", "third_party": "third-party govts"}
_KIND_LABELS = {"control": "area (own control)", "strength": "troop counts (enemy strength)",
                "losses": "losses (enemy losses)"}


def claimant_bias_frame(obj: xr.DataTree | xr.Dataset) -> pd.DataFrame:
    """Posterior median and 90% interval of every claimant bias of a result set.

    Reads ``/diagnostics/obs_model_median``, ``obs_model_lower_90`` and
    ``obs_model_upper_90`` (over ``observation_model_parameter``), or, when absent, the
    quantiles of ``/posterior/obs_theta``. ``obj`` may also be either Dataset.

    Returns
    -------
    pandas.DataFrame
        Index the parameter label (``bias[<family>:<kind>]``); columns ``family``,
        ``kind``, ``median``, ``lower_90``, ``upper_90`` (claim / model value, 1 =
        unbiased). Empty when the result set has no claimant biases.

    Raises
    ------
    KeyError
        Neither group holds the observation-model parameters.
    """
    if isinstance(obj, xr.DataTree) and has_group(obj, "/diagnostics") and \
            "obs_model_median" in obj["diagnostics"].data_vars:
        src = group(obj, "/diagnostics")
    elif isinstance(obj, xr.DataTree) and has_group(obj, "/posterior") and \
            "obs_theta" in obj["posterior"].data_vars:
        src = group(obj, "/posterior")
    elif isinstance(obj, xr.Dataset):
        src = obj
    else:
        raise KeyError("result set has no claimant biases (/diagnostics/obs_model_* or "
                       "/posterior/obs_theta): calibrate a spec whose observations come from "
                       "a CSV file of claims")
    if "obs_model_median" in src:
        names = [str(n) for n in src[OBS_PARAMETER].values]
        med = src["obs_model_median"].values
        lo, hi = src["obs_model_lower_90"].values, src["obs_model_upper_90"].values
    elif "obs_theta" in src:
        th = src["obs_theta"].stack(__s=(CHAIN, DRAW)).transpose(OBS_PARAMETER, "__s")
        names = [str(n) for n in th[OBS_PARAMETER].values]
        q = np.quantile(th.values, [0.5, 0.05, 0.95], axis=1)
        med, lo, hi = q
    else:
        raise KeyError("no obs_model_median or obs_theta variable")
    rows = []
    for n, m, a, b in zip(names, med, lo, hi, strict=True):
        if not n.startswith("bias[") or ":" not in n:
            continue
        fam, kind = n[5:-1].split(":", 1)
        rows.append({"parameter": n, "family": fam, "kind": kind, "median": float(m),
                     "lower_90": float(a), "upper_90": float(b)})
    cols = ["family", "kind", "median", "lower_90", "upper_90"]
    if not rows:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame(rows).set_index("parameter")[cols]


def plot_claimant_biases(obj: xr.DataTree | xr.Dataset) -> Figure:
    """Posterior claimant biases: median and 90% interval per family and kind of claim.

    One row per claimant family within each kind of claim (own control, enemy strength,
    enemy losses), on a log axis of claim / model value with 1 (unbiased) marked; above 1
    the family over-states the quantity.
    """
    frame = claimant_bias_frame(obj)
    if frame.empty:
        raise KeyError("result set has no claimant biases")
    kinds = [k for k in _KIND_LABELS if k in set(frame["kind"])]
    kinds += sorted(set(frame["kind"]) - set(kinds))
    frame = frame.assign(_k=[kinds.index(k) for k in frame["kind"]]).sort_values(
        ["_k", "family"])
    fig = new_figure(7.5, 0.45 * len(frame) + 1.6)
    ax = fig.subplots()
    y = np.arange(len(frame))[::-1]
    colors = {k: c for k, c in zip(kinds, ("tab:blue", "tab:red", "tab:green", "tab:purple"),
                                   strict=False)}
    for yi, (_, r) in zip(y, frame.iterrows(), strict=True):
        c = colors.get(r["kind"], "tab:gray")
        ax.plot([r["lower_90"], r["upper_90"]], [yi, yi], color=c, lw=2.5, alpha=0.7)
        ax.plot([r["median"]], [yi], "o", color=c, ms=6)
    unbiased = ax.axvline(1.0, color="black", lw=1, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(y, [f"{_FAMILY_LABELS.get(f, f)}: {_KIND_LABELS.get(k, k).split(' (')[0]}"
                      for f, k in zip(frame["family"], frame["kind"], strict=True)])
    lo = min(float(frame["lower_90"].min()), 0.8)
    hi = max(float(frame["upper_90"].max()), 1.25)
    ax.set_xlim(lo / 1.15, hi * 1.15)
    ticks = [t for t in (0.25, 0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0, 10.0)
             if lo / 1.15 <= t <= hi * 1.15]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("claim / model value (posterior median and 90% interval; log scale)")
    handles = [ax.plot([], [], color=colors[k], lw=2.5)[0] for k in kinds]
    ax.legend([*handles, unbiased], [*(_KIND_LABELS.get(k, k) for k in kinds), "1 = unbiased"],
              loc="best", fontsize=8)
    ax.set_title("Claimant biases (claim / model value)")
    ax.grid(axis="x", which="both", alpha=0.3)
    return fig


def plot_variants(obj: xr.DataTree | xr.Dataset) -> Figure:
    """Competing model structures (``/variants``): stacking weights, and the expected
    value of each option (± 2 MCSE) under each variant and the stacked mixture."""
    ds = group(obj, "/variants")
    models = [str(m) for m in ds[DECISION_MODEL].values]
    options = [str(o) for o in ds[OPTION].values]
    fig = new_figure(10, 0.5 * len(models) + 2.6)
    ax_w, ax_ev = fig.subplots(1, 2, width_ratios=(1, 2.6))
    names = models[:-1]
    w = ds["weight"].sel({VARIANT: names}).values
    y = np.arange(len(models))[::-1]
    ax_w.barh(y[:-1], w, color="tab:gray")
    ax_w.set_yticks(y, models)
    ax_w.set_xlim(0, 1)
    ax_w.set_xlabel("stacking weight")
    for yi, wi in zip(y[:-1], w, strict=True):
        ax_w.text(0.5 if wi > 0.6 else wi + 0.03, yi, f"{wi:.2f}", va="center", fontsize=8,
                  color="white" if wi > 0.6 else "black")
    colors = option_colors(options)
    ev = ds["expected_value"].values
    se = ds["expected_value_mcse"].values
    off = np.linspace(-0.25, 0.25, len(options)) if len(options) > 1 else np.zeros(1)
    for j, o in enumerate(options):
        ax_ev.errorbar(ev[:, j], y + off[j], xerr=2 * se[:, j], fmt="o", color=colors[o],
                       label=o, ms=5, capsize=2)
    ax_ev.set_yticks(y, [f"{m} -> {ds['recommended_option'].values[i]}"
                         for i, m in enumerate(models)])
    ax_ev.axhline(y[-1] + 0.5, color="black", lw=0.8)
    ax_ev.set_xlabel(f"expected value ({VALUE_UNITS}), ± 2 MCSE")
    ax_ev.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                 ncol=min(len(options), 3), frameon=False)
    ax_ev.grid(axis="x", alpha=0.3)
    fig.suptitle("Competing model structures: PSIS-LOO stacking weights and the decision "
                 "under each")
    return fig
