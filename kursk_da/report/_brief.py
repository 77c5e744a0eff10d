"""The decision brief: the report's first section, generated from the result set's numbers.

:func:`brief_numbers` computes what the brief states from the per-draw values of
``/decision`` (nothing is simulated): the recommended option (highest expected value) and
the runner-up, the probability that the recommended option is best and that it beats the
runner-up, the mean and 90% interval of their value difference, and which options are
clearly worse. :func:`brief_section` writes it as text, adding what drives the choice
(``/voi``), what would change it (``/sensitivity/tornado``, ``/scenarios``), the state
of the calibration (``/diagnostics``) and what the model leaves out. Every number is
rounded to what its Monte Carlo error supports (:mod:`kursk_da.report._numbers`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from kursk_da.decision import _metrics as metrics
from kursk_da.dims import DRAW, GROUP, OPTION, ORIGIN, PARAMETER, VALUE_UNITS
from kursk_da.dynamics.catalogue import ATTRIBUTES
from kursk_da.io import observations_frame
from kursk_da.plots._common import has_group, spec_dict
from kursk_da.report._breakdown import UNIT_TEXT, design, input_label, input_units
from kursk_da.report._document import Bullets, Lead, Section, Table, Text, Warning_
from kursk_da.report._numbers import format_estimate, format_fixed, format_with_error
from kursk_da.spec._scenarios import BASE_SCENARIO

__all__ = ["TOSS_UP", "CLEAR_LEAD", "INTERVAL", "BriefNumbers", "brief_numbers", "design",
           "brief_section"]

TOSS_UP = 0.6
"""Below this probability of beating the runner-up (among the draws where the two differ)
the choice is called close to a toss-up (analyst judgement)."""

CLEAR_LEAD = 0.8
"""From this probability of beating the runner-up on, the lead is called clear (analyst
judgement); in between, moderate."""

VALUE_WEIGHTS_GROUP = "value_weights"
"""The input group of the value weights (spec ``[value.weights]``)."""

INTERVAL = (0.05, 0.95)
"""Quantiles of the 90% interval of a value difference."""


@dataclass(frozen=True)
class BriefNumbers:
    """The numbers of the brief (values in dkm2, probabilities in 1).

    Attributes
    ----------
    order : tuple of str
        Options by expected value, best first.
    recommended, runner_up : str
        The option of highest expected value, and the best of the options that differ
        from it in at least one stored draw.
    expected_value, expected_value_mcse, prob_best, prob_best_mcse : dict
        Per option, from ``/decision``.
    p_beats : dict
        Per option: the probability that the recommended option has the higher value
        (``mean(v_rec > v_option)`` over the draws).
    p_beats_mcse : dict
        Its Monte Carlo standard error under the sampling design (:func:`design`).
    p_ties, p_loses : dict
        Per option: ``mean(v_rec == v_option)`` (the same value in a draw: e.g. a rule
        whose trigger fires at once takes the other option's actions) and
        ``mean(v_rec < v_option)``.
    difference, difference_mcse : dict
        Per option: mean of ``v_rec - v_option`` and its MCSE.
    difference_interval : dict
        Per option: the 5% and 95% quantiles of ``v_rec - v_option``.
    evpi, evpi_mcse : float
    clearly_worse : tuple of str
        Options whose expected value is below the recommended one by more than the EVPI
        and by more than two MCSE of the difference.
    same_as_recommended : tuple of str
        Options with the recommended option's value in every stored draw (the same
        actions); the runner-up is the best option not among them.
    """

    order: tuple[str, ...]
    recommended: str
    runner_up: str
    expected_value: dict[str, float]
    expected_value_mcse: dict[str, float]
    prob_best: dict[str, float]
    prob_best_mcse: dict[str, float]
    p_beats: dict[str, float]
    p_beats_mcse: dict[str, float]
    p_ties: dict[str, float]
    p_loses: dict[str, float]
    difference: dict[str, float]
    difference_mcse: dict[str, float]
    difference_interval: dict[str, tuple[float, float]]
    evpi: float
    evpi_mcse: float
    clearly_worse: tuple[str, ...]
    same_as_recommended: tuple[str, ...] = ()


def brief_numbers(tree: xr.DataTree) -> BriefNumbers:
    """Compute the numbers of the brief from ``/decision`` of a result set.

    Parameters
    ----------
    tree : xarray.DataTree
        A result set with at least two options.

    Returns
    -------
    BriefNumbers
    """
    dec = tree["decision"].dataset
    value = dec["value"].transpose(DRAW, OPTION)
    v = np.asarray(value.values, dtype=float)
    options = [str(o) for o in value[OPTION].values]
    if len(options) < 2:
        raise ValueError("options: the brief compares at least two options")
    ev = {o: float(dec["expected_value"].sel({OPTION: o})) for o in options}
    order = tuple(sorted(options, key=lambda o: -ev[o]))  # stable: ties keep stored order
    rec = order[0]
    j = options.index(rec)
    # options with the recommended option's value in every stored draw take its actions
    # (e.g. a rule whose trigger fires at once): the runner-up is the best other option
    rep = metrics.same_value_as(v)
    copies = tuple(o for o in order[1:] if rep[options.index(o)] == rep[j])
    run = next((o for o in order[1:] if o not in copies), order[1])
    chains, per_draw = design(tree, v.shape[0])
    wins = (v[:, [j]] > v).astype(float)  # (n, J): recommended strictly better
    ties = (v[:, [j]] == v).astype(float)  # the same value (identical actions in the draw)
    diff = v[:, [j]] - v
    p_mcse = np.atleast_1d(metrics.mean_mcse(wins, chains, per_draw))
    d_mcse = np.atleast_1d(metrics.mean_mcse(diff, chains, per_draw))
    lo, hi = np.quantile(diff, INTERVAL, axis=0)
    evpi = float(dec["evpi"])
    worse = tuple(o for o in order[1:]
                  if (ev[rec] - ev[o]) > max(evpi, 2.0 * float(d_mcse[options.index(o)])))

    def per(da: str) -> dict[str, float]:
        return ({o: float(dec[da].sel({OPTION: o})) for o in options} if da in dec
                else {o: float("nan") for o in options})

    return BriefNumbers(
        order=order, recommended=rec, runner_up=run, expected_value=ev,
        expected_value_mcse=per("expected_value_mcse"), prob_best=per("prob_best"),
        prob_best_mcse=per("prob_best_mcse"),
        p_beats={o: float(wins[:, i].mean()) for i, o in enumerate(options)},
        p_beats_mcse={o: float(p_mcse[i]) for i, o in enumerate(options)},
        p_ties={o: float(ties[:, i].mean()) for i, o in enumerate(options)},
        p_loses={o: float(1.0 - wins[:, i].mean() - ties[:, i].mean())
                 for i, o in enumerate(options)},
        difference={o: float(diff[:, i].mean()) for i, o in enumerate(options)},
        difference_mcse={o: float(d_mcse[i]) for i, o in enumerate(options)},
        difference_interval={o: (float(lo[i]), float(hi[i])) for i, o in enumerate(options)},
        evpi=evpi, evpi_mcse=float(dec["evpi_mcse"]) if "evpi_mcse" in dec else float("nan"),
        clearly_worse=worse, same_as_recommended=copies,
    )


def _interval(b: BriefNumbers, o: str, units: str) -> str:
    lo, hi = b.difference_interval[o]
    d = b.difference_mcse[o]
    return f"{format_estimate(lo, d)} to {format_estimate(hi, d)} {units}"


def headline(b: BriefNumbers, units: str = VALUE_UNITS) -> str:
    """The first paragraph of the report: the recommendation, how sure, the runner-up."""
    rec, run = b.recommended, b.runner_up
    p, tie = b.p_beats[run], b.p_ties[run]
    # the strength of the lead among the draws where the two options differ
    p_differ = p / (1.0 - tie) if tie < 1.0 else 0.5
    strength = ("close to a toss-up" if p_differ < TOSS_UP else
                "a moderate lead" if p_differ < CLEAR_LEAD else "a clear lead")
    if tie > 0.0:
        strength = (f"they give the same outcome with probability {tie:.3g} and it loses "
                    f"with probability {b.p_loses[run]:.3g}; where they differ, "
                    f"{strength}")
    return (f"Recommended: {rec} (highest expected value, "
            f"{format_with_error(b.expected_value[rec], b.expected_value_mcse[rec])} {units}; "
            f"{UNIT_TEXT}). "
            f"It is the best option with probability "
            f"{format_estimate(b.prob_best[rec], b.prob_best_mcse[rec])} (P(best)) and beats "
            f"the runner-up, {run}, with probability "
            f"{format_estimate(p, b.p_beats_mcse[run])}: {strength}. Value difference {rec} - "
            f"{run}: mean {format_with_error(b.difference[run], b.difference_mcse[run])} "
            f"{units}, 90% interval {_interval(b, run, units)}.{_copies_text(b)}")


def _copies_text(b: BriefNumbers) -> str:
    if not b.same_as_recommended:
        return ""
    names = ", ".join(b.same_as_recommended)
    verb = "has" if len(b.same_as_recommended) == 1 else "have"
    return (f" {names} {verb} the value of {b.recommended} in every draw: the same actions "
            f"in this analysis (for a state-triggered rule, its trigger fires at once).")


def _worse_text(b: BriefNumbers, units: str) -> str:
    rec = b.recommended
    if not b.clearly_worse:
        return (f"No option is clearly worse than {rec}: none is expected to lose more than "
                f"the EVPI ({format_with_error(b.evpi, b.evpi_mcse)} {units}) against it.")
    parts = [f"{o} (expected {format_with_error(-b.difference[o], b.difference_mcse[o])} "
             f"{units} against {rec}; better than {rec} with probability "
             f"{format_estimate(b.p_loses[o], b.p_beats_mcse[o])})"
             for o in b.clearly_worse]
    return (f"Clearly worse: {'; '.join(parts)}. Each loses more in expectation than perfect "
            f"information about every input would be worth (EVPI "
            f"{format_with_error(b.evpi, b.evpi_mcse)} {units}).")


def _drivers(tree: xr.DataTree, b: BriefNumbers, units: str) -> list[str]:
    out: list[str] = []
    if has_group(tree, "/voi"):
        voi = tree["voi"].to_dataset()
        evpi = float(voi["evpi"]) if "evpi" in voi else b.evpi
        groups: list[str] = []
        if "group_evppi" in voi:
            g = voi["group_evppi"].sortby(voi["group_evppi"], ascending=False)
            gse = voi["group_evppi_se"] if "group_evppi_se" in voi else g * np.nan
            groups = [str(x) for x in g[GROUP].values]

            def at(da: xr.DataArray, k: str) -> float:
                return float(da.sel({GROUP: k}))

            items = [f"{k} {format_with_error(at(g, k), at(gse, k))} {units} "
                     f"({at(g, k) / evpi:.0%} of the EVPI)" for k in groups[:3]]
            out.append("Input groups worth most to learn (EVPPI): " + "; ".join(items) + ".")
        ev = voi["evppi"].sortby(voi["evppi"], ascending=False)
        se = voi["evppi_se"] if "evppi_se" in voi else ev * np.nan
        names = [str(x) for x in ev[PARAMETER].values[:3]]
        out.append("Single inputs worth most (EVPPI): " + "; ".join(
            f"{input_label(n)} "
            f"{format_with_error(float(ev.sel({PARAMETER: n})), float(se.sel({PARAMETER: n})))}"
            f" {units}" for n in names) + ".")
        weights = [n for n in names if n.startswith("weight_")]
        if VALUE_WEIGHTS_GROUP in groups:
            vw = float(voi["group_evppi"].sel({GROUP: VALUE_WEIGHTS_GROUP}))
            out.append(f"The value weights (value judgements, not facts about the campaign) "
                       f"carry {vw / evpi:.0%} of the EVPI"
                       + (f"; {', '.join(input_label(w) for w in weights)} among the top "
                          "inputs" if weights else "")
                       + ": set them yourself in the weight explorer below.")
    else:
        out.append("Not computed for this result set: kursk-da voi RESULTS.nc --out OUT.nc "
                   "adds the EVPPI of every input and group. The value weights can be set in "
                   "the weight explorer below.")
    return out


def _changes(tree: xr.DataTree, b: BriefNumbers) -> list[str]:
    out: list[str] = []
    if has_group(tree, "/sensitivity/tornado"):
        t = tree["sensitivity/tornado"].to_dataset()
        order = np.argsort(-t["swing"].values, kind="stable")
        dist = t.attrs.get("distribution", "prior")
        for i in order:
            thr = float(t["threshold"].values[i])
            below, above = str(t["best_below"].values[i]), str(t["best_above"].values[i])
            if not np.isfinite(thr) or below == above:
                continue
            name = str(t[PARAMETER].values[i])
            sweep = t["sweep_value"].transpose(PARAMETER, ...).values[i]
            dec = _dec(sweep)
            unit = input_units(tree, name)
            unit = f" {unit}" if unit and unit != "1" else ""
            out.append(f"{input_label(name)} (5-95% {dist} range {format_fixed(sweep[0], dec)} "
                       f"to {format_fixed(sweep[-1], dec)}{unit}): below "
                       f"{format_fixed(thr, dec)}{unit} the best option is {below}, "
                       f"above it {above}.")
            if len(out) == 4:
                break
        if not out:
            out.append("No single input moved over its 5-95% range changes the best option "
                       "(tornado).")
    else:
        out.append("Thresholds not computed: kursk-da sensitivity RESULTS.nc --out OUT.nc "
                   "adds the tornado with the input values where the best option changes.")
    if has_group(tree, "/scenarios/summary"):
        s = tree["scenarios/summary"].to_dataset()
        for k in [str(x) for x in s["best"][s["best"].dims[0]].values]:
            best = str(s["best"].sel({s["best"].dims[0]: k}).values)
            if best != b.recommended and k != BASE_SCENARIO:
                desc = str(s["description"].sel({s["best"].dims[0]: k}).values) \
                    if "description" in s else ""
                short = desc.split(". ")[0].rstrip(".")
                out.append(f"Scenario {k} ({short}): the best option becomes {best} (prior "
                           "analysis of the scenario).")
    if has_group(tree, "/scenarios/simplex"):
        share = tree["scenarios/simplex"].to_dataset()["region_share"]
        if b.recommended in [str(o) for o in share[OPTION].values]:
            out.append(f"Over the simplex of three value weights, {b.recommended} is best at "
                       f"{float(share.sel({OPTION: b.recommended})):.0%} of the points.")
    return out


def _dec(sweep: np.ndarray) -> int:
    """Decimals of a threshold and its sweep: steps of about 1% of the swept 5-95% range.

    The tornado stores no Monte Carlo error of a threshold; its root is found to a
    relative tolerance of the range, and the expected values it compares carry their own
    Monte Carlo error, so digits finer than about 1% of the range are noise (analyst
    judgement)."""
    vals = np.asarray(sweep, dtype=float)
    vals = vals[np.isfinite(vals)]
    width = float(vals.max() - vals.min()) if vals.size else 0.0
    if width <= 0:
        return 0
    return max(0, -int(np.floor(np.log10(0.01 * width))))


def _calibration(tree: xr.DataTree) -> tuple[list[str], list[str]]:
    """(warnings, lines) on the calibration."""
    a = tree.attrs
    if a.get("analysis", "prior") != "posterior":
        return [], ["Not calibrated: a prior analysis (the inputs are drawn from their "
                    "priors, not conditioned on the observations). Read it as the consequence "
                    "of the stated assumptions, not as a forecast.",
                    _hindcast_line(tree, xr.Dataset())]
    warn: list[str] = []
    lines: list[str] = []
    diag = tree["diagnostics"].to_dataset() if has_group(tree, "/diagnostics") else xr.Dataset()
    failing = str(diag.attrs.get("failing", "")).strip()
    if a.get("converged") == "no":
        warn.append("WARNING: the calibration did NOT converge (root attribute converged = "
                    f"'no'{'; failing: ' + failing if failing else ''}). The decisions in this "
                    "report are flagged and must not be relied on until the sampler passes.")
    else:
        lines.append("Calibrated on the observations; the sampler passed every convergence "
                     "check (R-hat, ESS, divergences, E-BFMI).")
    if "divergences" in diag:
        lines.append(f"Divergent transitions: {int(diag['divergences'])}.")
    if "ppc_covered" in diag:
        cov = np.asarray(diag["ppc_covered"].values, dtype=float)
        lines.append(f"Posterior predictive check: {int(cov.sum())} of {cov.size} observations "
                     "inside their 90% predictive interval.")
    if "loo_pareto_k" in diag:
        k = diag["loo_pareto_k"].to_series()
        high = k[k > PARETO_K].sort_values(ascending=False)
        lines.append(
            f"PSIS-LOO: {len(high)} of {len(k)} observations have Pareto k > {PARETO_K}"
            + (": " + ", ".join(f"{n} ({v:.2f})" for n, v in high.items())
               + ". Their leave-one-out terms are unreliable: each is influential or badly "
               "fitted, and the posterior leans on it." if len(high) else "."))
    lines.append(_hindcast_line(tree, diag))
    verdict = diag.attrs.get("ranking_depends_on_prior")
    if verdict:
        lines.append(f"Does the option ranking depend on the priors (power-scaling)? {verdict}.")
    return warn, lines


PARETO_K = 0.7
"""Pareto k above which a PSIS-LOO term is unreliable (Vehtari et al. 2017; the package's
``calibration._variants.PARETO_K_THRESHOLD``)."""


def _hindcast_line(tree: xr.DataTree, diag: xr.Dataset) -> str:
    """The brief's line on forecast skill: the ``/hindcast`` group (kursk-da hindcast) or the
    withheld observations of a calibration with a cutoff, whichever the file holds."""
    if has_group(tree, "/hindcast"):
        h = tree["hindcast"].to_dataset()
        n = int(h["n_forecast"].sum()) if "n_forecast" in h else 0
        cov = float(np.nanmean(h["coverage_90"].values)) if "coverage_90" in h else np.nan
        skill = (float(np.nanmedian(h["skill_persistence"].values))
                 if "skill_persistence" in h else np.nan)
        return (f"Hindcast skill (rolling origins, section Hindcast below): {h.sizes[ORIGIN]} "
                f"origins, {n} forecasts of later claims, mean 90% interval coverage "
                f"{cov:.0%}" + (f", median CRPS skill against persistence {skill:+.2f}"
                                if np.isfinite(skill) else "") + ".")
    if "forecast_coverage_90" in diag.attrs:
        return (f"Hindcast skill (observations withheld from the calibration): 90% "
                f"interval coverage {float(diag.attrs['forecast_coverage_90']):.0%}, mean "
                f"CRPS {float(diag.attrs.get('forecast_mean_crps', np.nan)):.3g}.")
    return ("Hindcast skill: not in this result set (kursk-da hindcast RESULTS.nc forecasts "
            "the later claims from earlier origins; kursk-da analyze --cutoff DATE withholds "
            "the later observations and scores their forecasts).")


def _caveat(tree: xr.DataTree) -> str:
    spec = spec_dict(tree)
    obs = observations_frame(tree)
    n_obs, n_withheld = int(obs["used"].sum()), int((~obs["used"]).sum())
    horizon = tree.attrs.get("horizon_days", spec.get("decision", {}).get("horizon_days", "?"))
    attrs = ", ".join(q.label for q in ATTRIBUTES)
    withheld = (f" ({n_withheld} later ones withheld and forecast)" if n_withheld else "")
    calibrated = (f"The calibration rests on {n_obs} reported figures{withheld}, listed in "
                  "the table of observations below. "
                  if tree.attrs.get("analysis") == "posterior" else "")
    return (f"What the model leaves out: it is a deliberately simple aggregate of one front. "
            f"An option is worth only what it does to these {len(ATTRIBUTES)} attributes: "
            f"{attrs}. Anything else counts as zero: escalation, the course of negotiations "
            f"beyond the area held at the horizon, other fronts than the Donbas ground lost, "
            f"and everything after the {horizon}-day horizon. Within a run only the daily "
            f"front shocks are random. {calibrated}The numbers are the consequences of stated "
            "assumptions, not forecasts.")


def brief_section(tree: xr.DataTree) -> Section:
    """The decision brief (first section of the report)."""
    units = str(tree.attrs.get("value_units", VALUE_UNITS))
    sec = Section("Decision brief", "brief")
    b = brief_numbers(tree)
    warn, cal = _calibration(tree)
    sec.blocks += [Warning_(w) for w in warn]
    sec.blocks.append(Lead(headline(b, units)))
    sec.blocks.append(Text(_worse_text(b, units)))
    try:
        from kursk_da.report._breakdown import breakdown_display, negative_text

        table = breakdown_display(tree, list(b.order))
        sec.blocks.append(Text(negative_text(tree)))
        sec.blocks.append(Table(table, "What each option's expected value is made of: "
                                       "value weight x attribute, mean over the draws "
                                       f"({units}; rounded to the Monte Carlo error)"))
    except (KeyError, ValueError) as exc:  # an old file without attributes or weights
        sec.blocks.append(Text(f"Breakdown of the values by attribute unavailable: {exc}."))
    sec.blocks.append(Bullets(tuple(_drivers(tree, b, units)), "What drives the choice"))
    sec.blocks.append(Bullets(tuple(_changes(tree, b)), "What would change it"))
    sec.blocks.append(Bullets(tuple(cal), "Calibration"))
    sec.blocks.append(Text(_caveat(tree)))
    sec.blocks.append(Text(
        f"Numbers are rounded to the first significant digit of their Monte Carlo standard "
        f"error (shown after ±). Values in {units}: Donbas-equivalent km², losing one km² of "
        "Donbas ground is -1, higher is better. Run metadata is in the appendix."))
    return sec
