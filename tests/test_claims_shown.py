"""Issue 22, item 3: one reader of the observations, and every figure that should show the
claims shows them (counted on the matplotlib artists against the data file itself)."""

from __future__ import annotations

import csv
import re

import matplotlib
import numpy as np
import pytest
from matplotlib import markers
from matplotlib.collections import LineCollection

from kursk_da import plots
from kursk_da.io import load_result_set, observations_frame, save_result_set
from kursk_da.plots._common import CLAIM_GID

matplotlib.use("Agg")

from conftest import MODELS  # noqa: E402

CSV = MODELS / "data" / "kursk_public_figures_2024.csv"


def _csv_rows(*quantities: str) -> list[dict[str, str]]:
    """Rows of the shipped claims file of these quantities (read with csv, not the package)."""
    with CSV.open(newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["quantity"] in quantities]


@pytest.fixture(scope="module")
def loaded(small_tree, tmp_path_factory):
    path = save_result_set(small_tree, tmp_path_factory.mktemp("claims") / "r.nc")
    return load_result_set(path)


@pytest.fixture(scope="module")
def calibrated(small_tree, tmp_path_factory):
    from _calibrated import calibrated_tree

    path = tmp_path_factory.mktemp("claims_cal") / "c.nc"
    save_result_set(calibrated_tree(small_tree), path)
    return load_result_set(path)


def _claim_lines(ax):
    return [ln for ln in ax.get_lines() if str(ln.get_gid() or "").startswith(CLAIM_GID)]


def test_reader_lists_the_file_form_of_the_default_spec(loaded):
    """The default spec reads its claims from a CSV file ([observations] file = ...): the
    reader lists each claim of the file with its value, bound and claimant family."""
    frame = observations_frame(loaded)
    rows = _csv_rows("area_held", "russian_forces", "ua_losses_undefined")
    assert len(rows) == 9 + 7 + 7  # the file as shipped (docs/observations.md)
    for r in rows:
        hit = frame[(frame["quantity"] == r["quantity"])
                    & (frame["date"] == np.datetime64(r["date"]))
                    & (frame["value"] == float(r["value"]))]
        assert len(hit) >= 1, r
        kind = ("interval" if r["low"] and r["high"] else "lower" if r["low"] else
                "upper" if r["high"] else "none")
        assert kind in set(hit["censoring"]), r
        assert set(hit["family"]) <= {"ua_officials", "ru_officials", "osint_maps",
                                      "third_party"}
    assert set(frame["units"]) <= {"km2", "troops"}
    assert not frame["used"].any()  # a prior analysis: nothing conditioned on


def test_reader_follows_observed_data(calibrated):
    frame = observations_frame(calibrated)
    names = [str(x) for x in calibrated["observed_data"]["observation"].values]
    assert list(frame.index) == names and frame["used"].all()
    np.testing.assert_array_equal(frame["value"].to_numpy(),
                                  calibrated["observed_data"]["y"].values)


@pytest.mark.parametrize(("func", "row_quantities"), [
    (plots.plot_area_held, [("area_held", "area_held_incl_grey")]),
    (plots.plot_casualties, [("ua_casualties", "ua_losses_undefined"),
                             ("ru_casualties", "ru_losses_undefined")]),
    (plots.plot_forces, [("ukrainian_forces",), ("russian_forces",), ("ru_buildup",)]),
], ids=["area_held", "casualties", "forces"])
def test_every_fan_chart_shows_the_claims_of_its_quantity(loaded, func, row_quantities):
    fig = func(loaded)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    n_options = loaded["decision"].sizes["option"]
    per_row = len(axes) // len(row_quantities)
    assert per_row == n_options
    for k, ax in enumerate(axes):
        quantities = row_quantities[k // per_row] if len(row_quantities) > 1 else \
            row_quantities[0]
        expected = _csv_rows(*quantities)
        lines = _claim_lines(ax)
        assert len(lines) == len(expected), (ax.get_title(), quantities)
        shown = sorted(float(ln.get_ydata()[0]) for ln in lines)
        assert shown == sorted(float(r["value"]) for r in expected)
    if any(_csv_rows(*q) for q in row_quantities):
        labels = {t.get_text() for t in fig.legends[0].get_texts()}
        assert labels & {"Ukrainian officials", "Russian officials", "OSINT maps",
                         "third parties"}


def test_bounds_are_drawn_as_arrows_and_intervals_as_bars(loaded):
    fig = plots.plot_forces(loaded)
    ax = fig.axes[0]  # Ukrainian forces, first option: one "at least", one "up to"
    rows = _csv_rows("ukrainian_forces")
    assert {("low" if r["low"] else "") + ("high" if r["high"] else "") for r in rows} == \
        {"low", "high"}
    up, down = markers.CARETUPBASE, markers.CARETDOWNBASE  # errorbar's lolims / uplims
    carets = [ln for ln in ax.get_lines() if ln.get_marker() in (up, down)]
    claims = {float(ln.get_ydata()[0]) for ln in _claim_lines(ax)}
    # one caret per bound, above an "at least" claim and below an "up to" claim
    assert sorted(ln.get_marker() for ln in carets) == sorted((up, down))
    for ln in carets:
        y = float(ln.get_ydata()[0])
        base = min(claims, key=lambda c: abs(c - y))
        assert (y > base) if ln.get_marker() == up else (y < base)
    ax_rf = fig.axes[loaded["decision"].sizes["option"]]  # Russian forces: one interval
    interval = [r for r in _csv_rows("russian_forces") if r["low"] and r["high"]]
    assert len(interval) == 1
    segs = [c for c in ax_rf.collections if isinstance(c, LineCollection)]
    spans = {round(float(s[1][1] - s[0][1])) for c in segs for s in c.get_segments()}
    assert round(float(interval[0]["high"]) - float(interval[0]["low"])) in spans


def test_ppc_has_units_and_the_stated_bounds(calibrated):
    fig = plots.plot_ppc(calibrated)
    frame = observations_frame(calibrated)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == len(frame)
    bounded = 0
    for ax, (name, r) in zip(axes, frame.iterrows(), strict=True):
        assert name in ax.get_title()
        assert ax.get_xlabel().endswith("(km²)" if r["units"] == "km2" else "(troops)")
        spans = [p for p in ax.patches if p.get_gid() == f"bound:{name}"]
        assert len(spans) == (r["censoring"] != "none"), name
        bounded += len(spans)
    assert bounded == sum(1 for r in _csv_rows(*set(frame["quantity"]))
                          if r["low"] or r["high"])


def test_brief_counts_the_figures_of_observed_data(calibrated):
    from kursk_da.report._brief import brief_section

    text = " ".join(getattr(b, "text", "") for b in brief_section(calibrated).blocks)
    m = re.search(r"rests on (\d+) reported figures", text)
    assert m is not None
    assert int(m.group(1)) == calibrated["observed_data"]["y"].size == 52


def test_report_lists_every_observation(calibrated):
    from kursk_da.report._sections import observations_display

    table = observations_display(calibrated)
    assert len(table) == calibrated["observed_data"]["y"].size
    assert set(table["used"]) == {"yes"}
    assert table["value"].str.endswith(("km2", "troops")).all()
