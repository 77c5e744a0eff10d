"""Build the report's :class:`~kursk_da.report._document.Document` from a result set.

The report only shows what the file holds: it runs no simulation, calibration or VOI
itself. Sections whose groups are absent say which command adds them. It opens with the
decision brief (:mod:`kursk_da.report._brief`) and the weight explorer
(:mod:`kursk_da.report._explorer`); the run's metadata is the appendix at the end. Each
figure has a caption saying what to read from it; tables carry their units in the
headers, yes/no for flags, and numbers rounded to their Monte Carlo error where it is
stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from kursk_da import plots
from kursk_da.dims import (
    ATTRIBUTE,
    DATE,
    OBSERVATION,
    OPTION,
    PARAMETER,
    PRIOR_POWER,
    VALUE_UNITS,
)
from kursk_da.io import observations_frame
from kursk_da.io._resultset import spec_from_tree
from kursk_da.io._table import options_frame
from kursk_da.plots._calibration import is_calibrated
from kursk_da.plots._common import has_group, spec_dict
from kursk_da.report._breakdown import input_label, input_units
from kursk_da.report._brief import brief_section
from kursk_da.report._document import Document, Image, Section, Table, Text, Warning_, figure_png
from kursk_da.report._evidence import evidence_section
from kursk_da.report._explorer import EXPLORER_DRAWS, explorer_block
from kursk_da.report._hindcast import hindcast_section
from kursk_da.report._numbers import format_estimate, format_with_error
from kursk_da.report._policy import policy_section
from kursk_da.sensitivity._groups import main_effects_frame, scenarios_frame, tornado_frame
from kursk_da.voi._groups import evppi_frame, group_evppi_frame

__all__ = ["SECTIONS", "build_document", "assumptions_frame", "distribution_text",
           "options_display", "observations_display", "diagnostics_display", "yes_no"]

_Figures = tuple[tuple[str, Callable[[xr.DataTree], Figure], str], ...]
"""Figures of a section: (name, plot function of the result set, caption)."""


def _clean(text: Any) -> str:
    return " ".join(str(text).split())


def _image(name: str, make: Callable[[], Figure], caption: str) -> Image | Warning_:
    """Render one figure; a failing figure becomes a visible note, not a broken report."""
    try:
        fig = make()
    except Exception as exc:  # noqa: BLE001 - one bad figure must not lose the report
        return Warning_(f"Figure '{name}' could not be drawn from this result set: {exc}")
    return Image(name, figure_png(fig), caption)


def distribution_text(raw: dict[str, Any]) -> str:
    """A spec distribution table written as ``dist(key=value, ...)``."""
    dist = str(raw.get("dist", "?"))
    if dist == "fixed":
        return f"fixed {raw.get('value')}"
    args = ", ".join(f"{k}={v}" for k, v in sorted(raw.items())
                     if k not in {"dist", "units", "source", "group", "description"})
    return f"{dist}({args})"


def assumptions_frame(tree: xr.DataTree) -> pd.DataFrame:
    """Every parameter and value weight of the stored spec: distribution, units, source.

    The ``distribution`` column is the parsed form (elicited intervals resolved) of the
    spec rebuilt from ``spec_json``, else the form stored with the prior draws, else the
    spec's own entry; ``group`` likewise.
    """
    spec = spec_dict(tree)
    prior = tree["prior"].to_dataset() if has_group(tree, "/prior") else xr.Dataset()
    parsed: dict[str, Any] = {}
    try:
        parsed = dict(spec_from_tree(tree).inputs)
    except Exception:  # noqa: BLE001 - an old or foreign spec: fall back to the raw entries
        parsed = {}
    rows = []
    entries = [("parameter", k, v) for k, v in spec.get("parameters", {}).items()]
    entries += [("value weight", f"weight_{k}", v)
                for k, v in spec.get("value", {}).get("weights", {}).items()]
    for kind, name, raw in entries:
        attrs = dict(prior[name].attrs) if name in prior else {}
        if name in parsed:
            attrs.setdefault("group", parsed[name].group)
            attrs.setdefault("distribution", parsed[name].dist.describe())
        rows.append({
            "input": name,
            "kind": kind,
            "group": attrs.get("group", raw.get("group", "")),
            "distribution": _clean(attrs.get("distribution", distribution_text(raw))),
            "spec entry": distribution_text(raw),
            "units": raw.get("units", attrs.get("units", "")),
            "source": _clean(raw.get("source", "")),
        })
    return pd.DataFrame(rows).set_index("input") if rows else pd.DataFrame()


def yes_no(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``frame`` with the 0/1 (or boolean) flags of ``columns`` written as yes/no."""
    out = frame.copy()
    for c in columns:
        if c in out:
            out[c] = ["" if pd.isna(x) else ("yes" if bool(x) else "no") for x in out[c]]
    return out


def _appendix(tree: xr.DataTree) -> Section:
    a = tree.attrs
    sec = Section("Appendix: run metadata", "run")
    sec.blocks.append(Text("The root attributes of the result set: what was run, with which "
                           "spec (its SHA-256), seed, chunking and timings."))
    keys: tuple[str, ...] = (
        "spec_name", "spec_path", "spec_sha256", "analysis", "converged", "draws", "seed",
        "chunk_size", "decision_date", "horizon_days", "retention_threshold_km2",
        "cvar_alpha", "value_units", "kursk_da_version", "result_schema", "created")
    keys += tuple(sorted(k for k in a if isinstance(k, str)
                         and (k.startswith("calibration_") or k.startswith("draws_"))))
    meta = pd.DataFrame({"value": [str(a[k]) for k in keys if k in a]},
                        index=pd.Index([k for k in keys if k in a], name=ATTRIBUTE))
    sec.blocks.append(Table(meta, "Root attributes of the result set"))
    return sec


def options_display(tree: xr.DataTree) -> pd.DataFrame:
    """The options table as the report prints it: numbers rounded to their MCSE.

    The rows and columns of :func:`kursk_da.io.options_frame` (best expected value
    first), with the expected value as ``x ± MCSE`` and P(best), expected regret and
    CVaR rounded to their own MCSE (``/decision`` ``*_mcse``) where stored.
    """
    frame = options_frame(tree)
    dec = tree["decision"].dataset
    cols = list(frame.columns)
    units = tree.attrs.get("value_units", "dkm2")

    def mcse(var: str) -> pd.Series:
        if f"{var}_mcse" in dec:
            return dec[f"{var}_mcse"].to_series().reindex(frame.index)
        return pd.Series(np.nan, index=frame.index)

    out = pd.DataFrame(index=frame.index)
    out[f"expected value ± MCSE ({units})"] = [
        format_with_error(x, e) for x, e in zip(frame[cols[0]], frame[cols[1]], strict=True)]
    for col, var in ((cols[2], "prob_best"), (cols[3], "expected_regret"), (cols[4], "cvar")):
        out[col] = [format_estimate(x, e) for x, e in zip(frame[col], mcse(var), strict=True)]
    return out


def _options(tree: xr.DataTree) -> Section:
    dec = tree["decision"].to_dataset()
    units = tree.attrs.get("value_units", "dkm2")
    sec = Section("Options compared", "options")
    sec.blocks.append(Text(
        f"Values in {units} (Donbas-equivalent km²: losing one km² of Donbas ground is -1; "
        "higher is better). MCSE: Monte Carlo standard error of the expected value. "
        "EVPI of the whole decision (what perfect information about every input would be "
        f"worth): {format_with_error(float(dec['evpi']), float(dec['evpi_mcse']))} {units}."))
    sec.blocks.append(Table(options_display(tree),
                            "Decision summary per option (best expected value first; numbers "
                            "rounded to their Monte Carlo error)"))
    figs: _Figures = (
        ("value_distribution", plots.plot_value_distribution,
         "Read: how widely each option's value spreads over the draws, and how far apart the "
         "options are. Further right is better; the diamond is the expected value, the bar the "
         "median, the triangle the CVaR (mean of the worst outcomes). The axis shows the "
         "central range stated in the title; the share of draws beyond it is printed at the "
         "edges (no draw is moved onto the edge)."),
        ("decision_metrics", plots.plot_decision_metrics,
         "Read: the options side by side on four criteria. A long bar is good for the expected "
         "value, the probability of being best and the CVaR, bad for the expected regret."),
        ("area_held", plots.plot_area_held,
         "Read: how much of Kursk oblast each option keeps over time. Bands: 5-95% and "
         "25-75% of the stored trajectories; line: median; dotted: mean over all draws; "
         "dashed: the decision date; markers: the claims of the quantity, one colour and "
         "shape per claimant family (bars: intervals; arrows: 'at least' up, 'up to' down; "
         "hollow: a related measure such as the area including the grey zone)."),
        ("retention", plots.plot_retention,
         "Read: the chance of still holding at least the threshold area on each date. "
         "Options whose curves overlap (withdraw and strike_only both leave) are told apart by "
         "line style and marker."),
        ("forces", plots.plot_forces,
         "Read: the troops each side keeps in Kursk under each option (bands as above)."),
        ("casualties", plots.plot_casualties,
         "Read: cumulative casualties of both sides since 6 August 2024 under each option; "
         "the gap between the rows is the exchange the option buys."),
    )
    sec.blocks += [_image(n, partial(f, tree), c) for n, f, c in figs]
    return sec


def _model(tree: xr.DataTree) -> Section:
    sec = Section("The model against the essay", "model")
    kind = "posterior" if tree.attrs.get("analysis") == "posterior" else "prior"
    sec.blocks.append(Text(
        f"The {kind} predictive distribution of the first offensive against the essay's "
        "figures: about 1,250 km² taken within days of 6 August 2024, about half retaken by "
        "October 2024, about 50,000 Russian reinforcements including about 12,000 North Korean "
        "soldiers."))
    sec.blocks.append(_image("prior_predictive", lambda: plots.plot_prior_predictive(tree),
                             f"Read: whether the model ({kind} predictive) reproduces what "
                             "happened. Each essay figure (marked) should fall inside the bulk "
                             "of its histogram; one in a far tail means the model disagrees "
                             "with it."))
    if has_group(tree, "/prior"):
        sec.blocks.append(_image("prior_inputs", lambda: plots.plot_prior_inputs(tree),
                                 "Read: the range each uncertain input takes in the Monte Carlo "
                                 "draws (units on the x axes): the stated assumptions."))
    return sec


def _json_frame(text: str) -> pd.DataFrame | None:
    """A table stored as JSON text in an attribute (records or index orient)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return pd.DataFrame(data)
    if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        return pd.DataFrame.from_dict(data, orient="index")
    return None


def _prior_sensitivity_frame(ds: xr.Dataset) -> pd.DataFrame | None:
    """The ``prior_sensitivity_*`` variables of ``/diagnostics`` as one row per power."""
    names = [str(k) for k, v in ds.data_vars.items() if PRIOR_POWER in v.dims]
    if not names:
        return None
    cols: dict[str, Any] = {}
    for k in names:
        v = ds[k]
        short = k.removeprefix("prior_sensitivity_")
        if v.dims == (PRIOR_POWER,):
            cols[short] = v.to_numpy()
        elif v.ndim == 2 and v.dims[0] == PRIOR_POWER:
            for j, lab in enumerate(v[v.dims[1]].values):
                cols[f"{short} {lab}"] = v.to_numpy()[:, j]
    frame = pd.DataFrame(cols, index=pd.Index(ds[PRIOR_POWER].to_numpy(), name=PRIOR_POWER))
    frame = yes_no(frame.round(4), ["reliable", "ranking_changed"])
    return frame.rename(columns={c: f"EV {c.removeprefix('ev ')} ({VALUE_UNITS})"
                                 for c in frame.columns if c.startswith("ev ")}
                        | {"pareto_k": "Pareto k (1)"})


def _diagnostic_tables(tree: xr.DataTree) -> list[Table]:
    """Sampler-level diagnostics, the predictive check and JSON tables of ``/diagnostics``."""
    if not has_group(tree, "/diagnostics"):
        return []
    ds = tree["diagnostics"].to_dataset()
    rows: dict[str, str] = {}
    per_obs: dict[str, pd.Series] = {}
    tables: list[Table] = []
    sens = _prior_sensitivity_frame(ds)
    if sens is not None:
        tables.append(Table(sens, "Prior sensitivity of the option ranking (power-scaling "
                                  "of the prior; az.psens per parameter is in the "
                                  "diagnostics table)"))
    for k, v in ds.data_vars.items():
        if PRIOR_POWER in v.dims:
            continue
        if v.ndim == 0:
            rows[str(k)] = _clean(v.values.item())
        elif v.dims == (OBSERVATION,):
            per_obs[str(k).removeprefix("ppc_")] = v.to_series()
        elif v.ndim == 1 and v.dims != (PARAMETER,):
            rows[f"{k} (per {v.dims[0]})"] = ", ".join(f"{x:.3g}" for x in v.values.ravel())
    for k, v in ds.attrs.items():
        text = str(v)
        if k == "description":
            continue
        if text[:1] in "[{":
            frame = _json_frame(text)
            if frame is not None:
                frame = yes_no(frame.round(4), ["reliable", "ranking_changed", "covered"])
                tables.append(Table(frame, k.replace("_", " ").capitalize()))
                continue
        rows[str(k)] = text
    out = []
    if rows:
        out.append(Table(pd.DataFrame({"value": list(rows.values())},
                                      index=pd.Index(list(rows.keys()), name="diagnostic")),
                         "Sampler diagnostics and thresholds"))
    if per_obs:
        out.append(Table(yes_no(pd.DataFrame(per_obs).rename_axis(OBSERVATION).round(3),
                                ["covered"]),
                         "Posterior predictive check per observation (90% interval; covered: "
                         "the observed value is inside it)"))
    return out + tables


def diagnostics_display(tree: xr.DataTree) -> pd.DataFrame:
    """The per-parameter convergence table as the report prints it.

    One row per calibrated input, named by its catalogue label with its units; the
    posterior mean with its MCSE and the sd rounded to theirs; ESS as whole draws, R-hat
    to three decimals, the gate as yes/no; contraction and ``az.psens`` to two decimals.
    """
    raw = plots.diagnostics_table(tree)
    out = pd.DataFrame(index=raw.index)
    out.insert(0, "input", [input_label(str(n)) for n in raw.index])
    out["units"] = [input_units(tree, str(n)) for n in raw.index]
    if {"mean", "mcse_mean"} <= set(raw.columns):
        out["posterior mean ± MCSE"] = [format_with_error(m, e) for m, e in
                                        zip(raw["mean"], raw["mcse_mean"], strict=True)]
    if {"sd", "mcse_sd"} <= set(raw.columns):
        out["posterior sd"] = [format_estimate(m, e) for m, e in
                               zip(raw["sd"], raw["mcse_sd"], strict=True)]
    for col, head in (("ess_bulk", "ESS bulk (draws)"), ("ess_tail", "ESS tail (draws)")):
        if col in raw:
            out[head] = [f"{x:,.0f}" if np.isfinite(x) else "" for x in raw[col]]
    if "r_hat" in raw:
        out["R-hat (1)"] = [f"{x:.3f}" if np.isfinite(x) else "" for x in raw["r_hat"]]
    if "ok" in raw:
        out["ok"] = ["yes" if bool(x) else "no" for x in raw["ok"]]
    for col, head in (("contraction", "contraction (1)"), ("psens_prior", "psens prior (1)"),
                      ("psens_likelihood", "psens likelihood (1)")):
        if col in raw:
            out[head] = [f"{x:.2f}" if np.isfinite(x) else "" for x in raw[col]]
    return out


def _calibration(tree: xr.DataTree) -> Section:
    sec = Section("Calibration", "calibration")
    if not is_calibrated(tree):
        sec.blocks.append(Text(
            "This result set has no posterior (prior analysis): there is nothing to diagnose. "
            "A spec with [[observations]] analysed without --prior-only adds the groups "
            "posterior, sample_stats, posterior_predictive, observed_data and diagnostics."))
        return sec
    if tree.attrs.get("converged") == "no":
        sec.blocks.append(Warning_("Unconverged: see the rows of the table below that fail "
                                   "R-hat <= 1.01, ESS >= 400 or show divergences."))
    try:
        diag = diagnostics_display(tree)
        sec.blocks.append(Table(diag,
                                "Convergence diagnostics per parameter (ok: passes R-hat <= "
                                "1.01 and ESS >= 400)"))
    except Exception as exc:  # noqa: BLE001
        sec.blocks.append(Warning_(f"Diagnostics table unavailable: {exc}"))
    sec.blocks += _diagnostic_tables(tree)
    figs: _Figures = (("trace", plots.plot_trace,
                       "Read: each chain (colour) should wander over the same range with no "
                       "trend; the densities on the left should agree."),
                      ("rank", plots.plot_rank,
                       "Read: flat bars mean the chains mix; a slope or a bump means they do "
                       "not explore the same region."),
                      ("ppc", plots.plot_ppc,
                       "Read: the observed value (line) should sit inside the posterior "
                       "predictive histogram, not in a tail."),
                      ("prior_posterior", plots.plot_prior_posterior,
                       "Read: how much the observations taught about each parameter: a "
                       "posterior much narrower than its prior (high contraction) was learned "
                       "from the data; one that matches its prior was not."))
    if has_group(tree, "/posterior_predictive"):
        sec.blocks += [_image(n, partial(f, tree), c) for n, f, c in figs]
    else:
        sec.blocks += [_image(n, partial(f, tree), c) for n, f, c in figs if n != "ppc"]
    return sec


def _voi(tree: xr.DataTree) -> Section:
    sec = Section("Value of information and sensitivity", "voi")
    if not has_group(tree, "/voi"):
        sec.blocks.append(Text("No /voi group in this result set: `kursk-da voi RESULTS.nc "
                               "--out OUT.nc` adds the EVPPI ranking, `kursk-da sensitivity` "
                               "the tornado, Sobol' indices and scenarios."))
    else:
        voi = tree["voi"].to_dataset()
        units = voi.attrs.get("units", tree.attrs.get("value_units", "dkm2"))
        sec.blocks.append(Text(
            f"EVPI {float(voi['evpi']):,.1f} {units}. The EVPPI of an input is what perfect "
            "knowledge of it alone would be worth to the decision (regression method, "
            "standard errors in brackets)."))
        sec.blocks.append(Table(_evppi_display(evppi_frame(voi).head(15), units),
                                f"EVPPI of the top inputs ({units})"))
        sec.blocks.append(Table(_evppi_display(group_evppi_frame(voi), units),
                                f"EVPPI of the input groups ({units})"))
        sec.blocks.append(_image("evppi", lambda: plots.plot_evppi(tree),
                                 "Read: which uncertainties are worth resolving before "
                                 "deciding. A longer bar (± 2 SE) means knowing that input or "
                                 "group exactly would change the decision more often and by "
                                 "more."))
    def dist(path: str) -> str:
        return str(tree[path].attrs.get("distribution", "prior")) if has_group(tree, path) else ""

    extra: tuple[tuple[str, str, Callable[[xr.DataTree], Figure], str], ...] = (
             ("/sensitivity/tornado", "tornado", plots.plot_tornado,
              "Read: which inputs could flip the choice between the two best options. Each bar "
              "is the value difference (leader - runner-up) as one input moves over its 5-95% "
              f"{dist('/sensitivity/tornado')} interval, the others keeping their "
              f"{dist('/sensitivity/tornado')} uncertainty; a bar crossing zero marks an input "
              "with a threshold."),
             ("/sensitivity/sobol", "sobol", plots.plot_sobol,
              "Read: the share of the variance of the value difference due to each input "
              "alone (S1) and with its interactions (ST), under the spec's prior (the "
              "estimator needs independent inputs)."),
             ("/scenarios/acceptability", "acceptability", plots.plot_acceptability,
              "Read: how the probability that each option is best changes with the weight put "
              "on Ukrainian casualties."),
             ("/scenarios/simplex", "simplex", plots.plot_simplex,
              "Read: which option is best for each mix of three value weights; a large region "
              "means the choice holds over many value judgements."))
    for path, name, func, caption in extra:
        if has_group(tree, path):
            sec.blocks.append(_image(name, partial(func, tree), caption))
    if has_group(tree, "/sensitivity/tornado"):
        frame = tornado_frame(tree["sensitivity/tornado"].to_dataset()).head(15)
        frame = frame.rename(columns={"threshold": "threshold (input's units)"}).round(3)
        frame["threshold (input's units)"] = [
            "" if not np.isfinite(x) else f"{x:.3g}"
            for x in tornado_frame(tree["sensitivity/tornado"].to_dataset()).head(15)["threshold"]]
        frame.insert(len(frame.columns) - 2, "input's units", _input_units(tree, list(frame.index)))
        frame.insert(0, "input", [input_label(str(n)) for n in frame.index])
        sec.blocks.append(Table(frame, "Tornado swing and threshold (input value "
                                                "where the best option changes; empty: it "
                                                "does not change over the interval)"))
    if has_group(tree, "/sensitivity/main_effects"):
        me = tree["sensitivity/main_effects"].to_dataset()
        sec.blocks.append(Table(main_effects_frame(me).head(15).round(3).rename(
            columns={"S1": "S1 (share, 1)", "SE": "SE (1)"}), (
            f"First-order indices of {me.attrs.get('leader')} - {me.attrs.get('runner_up')}: "
            "share of its variance explained by each input alone, from the "
            f"{me.attrs.get('distribution', 'prior')} draws (valid for dependent inputs)")))
    if has_group(tree, "/scenarios/summary"):
        s = tree["scenarios/summary"].to_dataset()
        sec.blocks.append(Table(scenarios_frame(s).round(1),
                                "Expected value per scenario and option "
                                f"({s.attrs.get('units', 'dkm2')}), "
                                f"{s.attrs.get('distribution', 'prior')} analyses of "
                                "the spec with each scenario's overrides"))
    return sec


def _assumptions(tree: xr.DataTree) -> Section:
    sec = Section("Assumptions and their sources", "assumptions")
    spec = spec_dict(tree)
    if not spec:
        sec.blocks.append(Warning_("The result set carries no spec (root attribute spec_json)."))
        return sec
    meta = spec.get("meta", {})
    if meta.get("description"):
        sec.blocks.append(Text(_clean(meta["description"])))
    sec.blocks.append(Table(assumptions_frame(tree),
                            "Every input: distribution (parsed), spec entry, units, source"))
    corr = spec.get("correlations", [])
    if corr:
        frame = pd.DataFrame([{"inputs": " & ".join(c.get("params", [])),
                               "rank correlation": c.get("rank_corr"),
                               "source": _clean(c.get("source", ""))} for c in corr])
        sec.blocks.append(Table(frame.set_index("inputs"),
                                "Rank correlations (Gaussian copula)"))
    obs = observations_display(tree)
    if len(obs):
        used = int((obs["used"] == "yes").sum())
        sec.blocks.append(Table(obs, f"Observations: the {len(obs)} claims of the result set "
                                     f"({used} used by the calibration; value and bound in "
                                     "the quantity's units)"))
    options = spec.get("options", {})
    if options:
        frame = pd.DataFrame([{OPTION: k, "description": _clean(v.get("description", "")),
                               "phases": json.dumps(v.get("phases", []), default=str)}
                              for k, v in options.items()]).set_index(OPTION)
        sec.blocks.append(Table(frame, "Options as defined in the spec"))
    return sec


def _bound_text(r: pd.Series) -> str:
    kind = str(r["censoring"])
    if kind == "interval":
        level = f" ({float(r['level']):.0%})" if np.isfinite(r["level"]) else ""
        return f"[{r['low']:,.4g}, {r['high']:,.4g}]{level}"
    return {"lower": "at least", "upper": "up to"}.get(kind, "")


def observations_display(tree: xr.DataTree) -> pd.DataFrame:
    """The observations table of the report (:func:`kursk_da.io.observations_frame`).

    One row per claim in date order: date, quantity, value with its units, the stated
    interval or bound ("at least", "up to"), claimant and family, whether the calibration
    used it, source.
    """
    frame = observations_frame(tree)
    if frame.empty:
        return pd.DataFrame()
    frame = frame.sort_values("date", kind="stable")
    return pd.DataFrame({
        DATE: [str(d)[:10] for d in frame["date"]],
        "quantity": frame["quantity"],
        "value": [f"{v:,.6g} {u}".strip() for v, u in zip(frame["value"], frame["units"],
                                                          strict=True)],
        "interval or bound": [_bound_text(r) for _, r in frame.iterrows()],
        "claimant": frame["claimant"],
        "family": frame["family"],
        "used": ["yes" if u else "no" for u in frame["used"]],
        "source": [_clean(x) for x in frame["source"]],
    }, index=frame.index)


def _input_units(tree: xr.DataTree, names: Sequence[Any]) -> list[str]:
    """Units of each named input (spec parameter or value weight), empty when unknown."""
    spec = spec_dict(tree)
    raw = {**spec.get("parameters", {}),
           **{f"weight_{k}": v for k, v in spec.get("value", {}).get("weights", {}).items()}}
    return [str(raw.get(str(n), {}).get("units", "")) if isinstance(raw.get(str(n)), dict)
            else "" for n in names]


def _explorer(tree: xr.DataTree) -> Section:
    sec = Section("Set your own value weights", "explorer")
    try:
        sec.blocks.append(explorer_block(tree))
    except Exception as exc:  # noqa: BLE001 - an old file without attributes keeps its report
        sec.blocks.append(Warning_(f"The weight explorer needs /decision/attributes and the "
                                   f"stored spec: {exc}"))
        return sec
    sec.blocks.append(Text(
        f"The explorer works on a fixed subsample of at most {EXPLORER_DRAWS:,} draws (chosen "
        "with the run's seed), so the report stays small and opens offline; all computation "
        "runs in the page."))
    return sec


def _evppi_display(frame: pd.DataFrame, units: str) -> pd.DataFrame:
    """An EVPPI frame with the estimate and its SE in one column, rounded to the SE."""
    ev, se = frame.columns[0], frame.columns[1]
    out = pd.DataFrame({f"EVPPI ± SE ({units})": [format_with_error(x, e) for x, e in
                                                   zip(frame[ev], frame[se], strict=True)]},
                       index=frame.index)
    for c in frame.columns[2:]:
        out[c] = frame[c]
    return out


SECTIONS: dict[str, Callable[[xr.DataTree], Section]] = {
    "brief": brief_section,
    "explorer": _explorer,
    "options": _options,
    "model": _model,
    "calibration": _calibration,
    "hindcast": hindcast_section,
    "evidence": evidence_section,
    "voi": _voi,
    "policy": policy_section,
    "assumptions": _assumptions,
    "run": _appendix,
}
"""The report's sections in order: name -> builder."""


def build_document(tree: xr.DataTree, sections: Sequence[str] | None = None) -> Document:
    """Assemble the report of a result set.

    Parameters
    ----------
    tree : xarray.DataTree
        A result set (from memory or :func:`kursk_da.load_result_set`).
    sections : sequence of str, optional
        Names of :data:`SECTIONS` to include (default: all, in order).

    Returns
    -------
    Document
    """
    a = tree.attrs
    title = spec_dict(tree).get("meta", {}).get("title") or f"Kursk decision analysis: " \
        f"{a.get('spec_name', '')}"
    subtitle = (f"{a.get('spec_name', '')}, {a.get('analysis', 'prior')} analysis, "
                f"{a.get('draws', '?')} draws, seed {a.get('seed', '?')}, created "
                f"{a.get('created', '?')}, kursk_da {a.get('kursk_da_version', '?')}")
    names = list(SECTIONS) if sections is None else list(sections)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise KeyError(f"unknown report sections {unknown}; expected some of {list(SECTIONS)}")
    doc = Document(_clean(title), subtitle)
    doc.sections = [SECTIONS[n](tree) for n in names]
    return doc
