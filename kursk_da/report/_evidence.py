"""The report section on the evidence base: claimant biases and competing model structures.

Self-contained: it reads only ``/diagnostics/obs_model_*`` (or ``/posterior/obs_theta``)
and ``/variants`` of the result set (docs/resultset.md) and draws with
:mod:`kursk_da.plots._evidence`; a missing group is named with the command that adds it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from kursk_da.dims import DECISION_MODEL, OBSERVATION, OPTION, VALUE_UNITS, VARIANT
from kursk_da.plots._common import has_group
from kursk_da.plots._evidence import claimant_bias_frame, plot_claimant_biases, plot_variants
from kursk_da.report._document import Bullets, Image, Section, Table, Text, Warning_, figure_png
from kursk_da.report._numbers import format_estimate, format_with_error
from kursk_da.sensitivity._variants import variants_frame

__all__ = ["evidence_section", "variants_loo_display", "variants_decision_display"]


def _image(name: str, make: Callable[[], Figure], caption: str) -> Image | Warning_:
    try:
        fig = make()
    except Exception as exc:  # noqa: BLE001 - one bad figure must not lose the report
        return Warning_(f"Figure '{name}' could not be drawn from this result set: {exc}")
    return Image(name, figure_png(fig), caption)


def _biases(tree: xr.DataTree, sec: Section) -> None:
    try:
        frame = claimant_bias_frame(tree)
    except KeyError:
        frame = pd.DataFrame()
    if frame.empty:
        sec.blocks.append(Text("Claimant biases: this result set has none (they are estimated "
                               "when the spec's observations are claims from a CSV file, "
                               "e.g. models/kursk_2025_evidence.toml)."))
        return
    from kursk_da.calibration._bias import bias_sentences  # imports PyMC

    sec.blocks.append(Text(
        "Each claimant family's claims are modelled as the model's value times a "
        "multiplicative bias per kind of claim (own control of ground, enemy strength, enemy "
        "losses), partially pooled, plus measurement error (docs/observations.md). Posterior "
        "median and 90% interval of each bias:"))
    sec.blocks.append(Bullets(tuple(bias_sentences(frame))))
    table = frame.rename(columns={"median": "median", "lower_90": "5%", "upper_90": "95%"})
    sec.blocks.append(Table(table.round(3), "Claimant biases (claim / model value; 1 = "
                                            "unbiased)"))
    sec.blocks.append(_image(
        "claimant_biases", lambda: plot_claimant_biases(tree),
        "Read: where each family's claims sit against the model's value. A dot right of the "
        "dashed line (1 = unbiased) means the family over-states the quantity, left "
        "under-states it; the bar is the 90% posterior interval. An interval that crosses "
        "1 is no evidence of bias."))


def variants_loo_display(ds: xr.Dataset) -> pd.DataFrame:
    """The LOO table of ``/variants`` as the report prints it (best variant first)."""
    frame = variants_frame(ds)
    out = pd.DataFrame(index=frame.index)
    out["elpd_loo ± se (nats)"] = [f"{x:.1f} ± {s:.1f}"
                                   for x, s in zip(frame["elpd_loo"], frame["se"], strict=True)]
    out["p_loo"] = frame["p_loo"].round(1)
    out["elpd_diff ± dse (nats)"] = [f"{x:.1f} ± {s:.1f}" for x, s in
                                     zip(frame["elpd_diff"], frame["dse"], strict=True)]
    out["stacking weight"] = frame["weight"].round(3)
    out["max Pareto k"] = frame["max_pareto_k"].round(2)
    out["k > 0.7"] = frame["n_k_above_0_7"].astype(int)
    out["converged"] = ["yes" if c else "no" for c in frame["converged"]]
    return out


def variants_decision_display(ds: xr.Dataset) -> pd.DataFrame:
    """The decision under each variant and the stacked mixture, as the report prints it.

    Rows: the options, then ``recommended`` and ``differs from base``; columns: the models
    (each variant, then ``stacked``); cells ``EV ± MCSE (P(best))``, rounded to the MCSE.
    """
    cols = {}
    for m in ds[DECISION_MODEL].values:
        r = ds.sel({DECISION_MODEL: m})
        col = {}
        for o in ds[OPTION].values:
            c = r.sel({OPTION: o})
            ev = format_with_error(float(c["expected_value"]), float(c["expected_value_mcse"]))
            pb = format_estimate(float(c["prob_best"]), max(float(c["prob_best_mcse"]), 1e-3))
            col[str(o)] = f"{ev} ({pb})"
        col["recommended"] = str(r["recommended_option"].item())
        col["differs from base"] = "yes" if int(r["differs_from_base"]) else "no"
        cols[str(m)] = col
    return pd.DataFrame(cols).rename_axis("option")


def _differing(ds: xr.Dataset) -> str:
    """``"; own_strength_law (weight 0.00) recommends hold"`` for the variants that differ."""
    parts = []
    for m, d, rec in zip(ds[DECISION_MODEL].values, ds["differs_from_base"].values,
                         ds["recommended_option"].values, strict=True):
        if int(d) and str(m) in set(str(v) for v in ds[VARIANT].values):
            w = float(ds["weight"].sel({VARIANT: m}))
            parts.append(f"{m} (stacking weight {w:.2f}) recommends {rec}")
    return "; " + "; ".join(parts) if parts else ""


def _high_k(ds: xr.Dataset) -> str:
    """`` By variant: obs (k), ...`` from ``/variants/pareto_k`` (empty when not stored)."""
    if "pareto_k" not in ds:
        return ""
    obs = [str(o) for o in ds[OBSERVATION].values]
    parts = []
    for v, k in zip(ds[VARIANT].values, ds["pareto_k"].transpose(VARIANT, OBSERVATION).values,
                    strict=True):
        high = [f"{obs[i]} ({k[i]:.2f})" for i in np.argsort(-k) if k[i] > 0.7]
        if high:
            parts.append(f"{v}: {', '.join(high)}")
    return (" Observations with k > 0.7, by variant: " + "; ".join(parts) + ".") if parts \
        else ""


def _variants(tree: xr.DataTree, sec: Section) -> None:
    if not has_group(tree, "/variants"):
        sec.blocks.append(Text("Competing model structures: run `kursk-da variants PATH` on a "
                               "calibrated result set whose spec has [variants]."))
        return
    ds = tree["variants"].to_dataset()
    a = ds.attrs
    change = a.get("recommendation_changes") == "yes"
    sec.blocks.append(Text(
        f"The spec's competing model structures, each calibrated on the same "
        f"{ds.sizes[OBSERVATION]} observations ({a.get('chains')} chains x "
        f"{a.get('mcmc_draws')} draws, one seed stream per variant), compared by PSIS-LOO "
        f"and combined by stacking weights (az.compare, method='stacking'). The base "
        f"variant is the spec as written ({a.get('base_variant')}). The recommendation "
        f"{'changes' if change else 'does not change'} across the variants: the base "
        f"recommends {a.get('base_recommendation')}, the stacked mixture "
        f"{a.get('stacked_recommendation')}{_differing(ds)}."))
    if not bool(ds["converged"].all()):
        bad = ", ".join(str(v) for v, c in zip(ds[VARIANT].values, ds["converged"].values,
                                               strict=True) if not c)
        sec.blocks.append(Warning_(f"The calibration of {bad} did not pass its diagnostics "
                                   "gate (R-hat, ESS): its LOO and decision figures are "
                                   "provisional."))
    if int(ds["n_k_above_0_7"].sum()):
        sec.blocks.append(Warning_(
            "Some PSIS-LOO terms have Pareto k > 0.7: their leave-one-out estimate is "
            "unreliable (an influential observation); the elpd of those variants is "
            "uncertain beyond its standard error." + _high_k(ds)))
    desc = pd.DataFrame({"what it assumes": ds["description"].values,
                         "overrides": ds["overrides"].values,
                         "why an analyst would argue for it": ds["source"].values},
                        index=pd.Index([str(v) for v in ds[VARIANT].values], name="variant"))
    sec.blocks.append(Table(desc, "The variants (spec: [variants.NAME])"))
    sec.blocks.append(Table(variants_loo_display(ds),
                            "PSIS-LOO comparison (best first; elpd_diff from the best; "
                            "weights sum to 1)"))
    sec.blocks.append(Table(variants_decision_display(ds),
                            f"Expected value ± MCSE ({VALUE_UNITS}) and, in brackets, P(best) "
                            "of each option under each variant and under the stacked mixture "
                            "(exact weighted mixture; rounded to the MCSE)"))
    sec.blocks.append(_image(
        "variants", lambda: plot_variants(tree),
        "Read: left, how much weight the data give each structure (stacking of the "
        "leave-one-out predictive densities); right, the expected value of each option under "
        "each structure and under their mixture (bottom row), ± 2 MCSE, with the option it "
        "recommends. If the best option is the same in every row, the choice does not hinge "
        "on the structure."))


def evidence_section(tree: xr.DataTree) -> Section:
    """The section "Evidence: claimant biases and competing model structures"."""
    sec = Section("Evidence: claimant biases and competing model structures", "evidence")
    _biases(tree, sec)
    _variants(tree, sec)
    return sec
