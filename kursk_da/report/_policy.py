"""The report section on reactive strategies: state-triggered options, the best withdrawal
rule and the value of flexibility, the value of waiting, the value of intelligence on
model outputs and the two-way map (issue 13).

Self-contained: it reads only the groups ``/triggers``, ``/policy/*``, ``/waiting``,
``/intelligence`` and ``/twoway`` of the result set (docs/resultset.md) and draws with
:mod:`kursk_da.plots._policy`; a missing group is named with the command that adds it.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from kursk_da.dims import OPTION, QUANTILE, REPORTS, SEARCHED, VALUE_UNITS, WAIT_DAYS
from kursk_da.plots._policy import (
    plot_intelligence,
    plot_policy_surface,
    plot_trigger_days,
    plot_twoway,
    plot_waiting,
)
from kursk_da.report._document import Image, Section, Table, Text, Warning_, figure_png

__all__ = ["policy_section"]


def _has(tree: xr.DataTree, path: str) -> bool:
    try:
        tree[path.lstrip("/")]
    except KeyError:
        return False
    return True


def _ds(tree: xr.DataTree, path: str) -> xr.Dataset:
    return tree[path.lstrip("/")].to_dataset()


def _image(name: str, make: Callable[[], Figure], caption: str) -> Image | Warning_:
    try:
        fig = make()
    except Exception as exc:  # noqa: BLE001 - one bad figure must not lose the report
        return Warning_(f"Figure '{name}' could not be drawn from this result set: {exc}")
    return Image(name, figure_png(fig), caption)


def _triggers(tree: xr.DataTree, sec: Section) -> None:
    if not _has(tree, "/triggers"):
        sec.blocks.append(Text("No option has a state-triggered phase."))
        return
    ds = _ds(tree, "/triggers")
    rows = []
    for name in ds[OPTION].values:
        r = ds.sel({OPTION: name})
        q = r["trigger_day_quantile"]
        rows.append({"option": str(name),
                     "P(fires)": round(float(r["fired_probability"]), 3),
                     "mean day": round(float(r["trigger_day_mean"]), 1),
                     "median day": round(float(q.sel({QUANTILE: 0.5})), 1),
                     "5-95% days": f"{float(q.sel({QUANTILE: 0.05})):.0f}-"
                                   f"{float(q.sel({QUANTILE: 0.95})):.0f}"})
    sec.blocks.append(Table(pd.DataFrame(rows).set_index("option"),
                            "State-triggered options: how often and when (days after the "
                            "decision date) the triggered phase starts"))
    sec.blocks.append(_image("trigger_days", lambda: plot_trigger_days(ds),
                             "Fraction of draws whose triggered phase has started, by date."))


def _policy(tree: xr.DataTree, sec: Section) -> None:
    if not _has(tree, "/policy/choice"):
        sec.blocks.append(Text("Best withdrawal rule: run `kursk-da optimize SRC --option NAME "
                               "--search PARAM=LO:HI:STEP --out PATH`."))
        return
    ch = _ds(tree, "/policy/choice")
    best = ", ".join(f"{n} = {float(v):g}" for n, v in
                     zip(ch[SEARCHED].values, ch["best_threshold"].values, strict=True))
    u = VALUE_UNITS
    sec.blocks.append(Text(
        f"Best rule for {ch.attrs['option']}: {best}. Re-estimated on "
        f"{ch.attrs['eval_draws']} fresh draws (independent seed stream, no optimiser's "
        f"curse): EV {float(ch['policy_expected_value']):,.1f} ± "
        f"{float(ch['policy_expected_value_mcse']):.1f} {u}, against "
        f"{ch.attrs['best_fixed_option']} (best fixed option). Value of flexibility "
        f"{float(ch['value_of_flexibility']):,.1f} ± {float(ch['value_of_flexibility_mcse']):.1f}"
        f" {u}; the trigger fires in {100 * float(ch['fired_probability']):.0f}% of draws."))
    fixed = pd.DataFrame({"EV (fresh draws)": ch["fixed_expected_value"].values.round(1),
                          "MCSE": ch["fixed_expected_value_mcse"].values.round(1)},
                         index=pd.Index([str(o) for o in ch[OPTION].values], name="option"))
    sec.blocks.append(Table(fixed, f"Fixed options on the same fresh draws ({u})"))
    sec.blocks.append(_image("policy_surface", lambda: plot_policy_surface(
        _ds(tree, "/policy/search").assign_attrs(best_grid_point=ch.attrs["best_grid_point"])),
        "EV of the policy over the searched thresholds (search draws)."))


def _waiting(tree: xr.DataTree, sec: Section) -> None:
    if not _has(tree, "/waiting"):
        sec.blocks.append(Text("Value of waiting: run `kursk-da waiting SRC --out PATH`."))
        return
    ds = _ds(tree, "/waiting")
    frame = pd.DataFrame({
        "value of waiting": ds["value_of_waiting"].values.round(1),
        "SE": ds["value_of_waiting_se"].values.round(1),
        "information": ds["information_value"].values.round(1),
        "delay cost": ds["delay_cost"].values.round(1),
        "perfect-information bound": ds["perfect_information_bound"].values.round(1),
    }, index=pd.Index(ds[WAIT_DAYS].values, name="days waited"))
    verdict = (f"waiting pays: best to wait {ds.attrs['best_wait_days']} days"
               if ds.attrs.get("waiting_pays") == "yes" else
               "waiting does not pay: no waiting time beats deciding now by 2 SE")
    sec.blocks.append(Text(f"Hold k days, observe {ds.attrs['observed']}, then take the best "
                           f"option for what was observed: {verdict}."))
    sec.blocks.append(Table(frame, f"Value of waiting ({VALUE_UNITS})"))
    sec.blocks.append(_image("waiting", lambda: plot_waiting(ds),
                             "Value of waiting k days against deciding now."))


def _intelligence(tree: xr.DataTree, sec: Section) -> None:
    if not _has(tree, "/intelligence"):
        sec.blocks.append(Text("Value of intelligence: run `kursk-da intelligence SRC --out "
                               "PATH`."))
        return
    ds = _ds(tree, "/intelligence")
    frame = pd.DataFrame({
        "EVSI (regression)": ds["evsi_regression"].values.round(2),
        "SE": ds["evsi_regression_se"].values.round(2),
        "EVSI (moment matching)": ds["evsi_moment_matching"].values.round(2),
        "ENBS": ds["enbs"].values.round(2),
    }, index=pd.Index(ds[REPORTS].values, name="reports"))
    n = int(ds["optimal_reports"])
    sec.blocks.append(Text(
        f"{ds.attrs['question']}: EVPPI of the measured quantity {float(ds['evppi']):,.2f} "
        f"{VALUE_UNITS}; at {float(ds['cost_per_report']):g} {VALUE_UNITS} per report "
        + (f"the optimal number of reports is {n}." if n else "no number of reports pays.")))
    sec.blocks.append(Table(frame, f"EVSI and ENBS ({VALUE_UNITS})"))
    sec.blocks.append(_image("intelligence", lambda: plot_intelligence(ds),
                             "EVSI by two methods and ENBS against the number of reports."))


def _twoway(tree: xr.DataTree, sec: Section) -> None:
    if not _has(tree, "/twoway"):
        sec.blocks.append(Text("Two-way map: run `kursk-da twoway SRC --out PATH`."))
        return
    ds = _ds(tree, "/twoway")
    sec.blocks.append(Text(f"Best option over {ds.attrs['x']} and {ds.attrs['y']} "
                           f"({ds.attrs['leaders']}; {ds.attrs['draws']} draws, common random "
                           f"numbers, MCSE of the difference up to "
                           f"{float(ds['leader_difference_mcse'].max()):.1f} {VALUE_UNITS})."))
    sec.blocks.append(_image("twoway", lambda: plot_twoway(ds),
                             "Best option over two inputs; red: the threshold curve."))


def policy_section(tree: xr.DataTree) -> Section:
    """The section "Reactive strategies" of the report of a result set."""
    sec = Section("Reactive strategies: triggers, waiting, intelligence", "policy")
    for part in (_triggers, _policy, _waiting, _intelligence, _twoway):
        part(tree, sec)
    return sec
