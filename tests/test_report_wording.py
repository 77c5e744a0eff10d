"""Issue 22, item 4: the report says what the file holds, no section contradicts another,
the value's unit and zero point come where the unit is first used, and each option's
expected value is broken down by attribute on the first screens."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import xarray as xr

from kursk_da.report import build_document
from kursk_da.report._render import render_markdown

matplotlib.use("Agg")

# (group, words that say the group is absent): each must appear exactly when the group does not
ABSENT = {
    "/hindcast": ("Hindcast skill: not in this result set", "No hindcast in this result set"),
    "/voi": ("Not computed for this result set: kursk-da voi", "No /voi group in this result set"),
    "/posterior": ("Not calibrated: a prior analysis", "This result set has no posterior"),
    "/variants": ("Competing model structures: run",),
}


@pytest.fixture(scope="module")
def hindcast_group(spec_2025):
    """A /hindcast group from the real scoring code, with a cheap stand-in calibration."""
    import test_hindcast as th

    from kursk_da.calibration import _hindcast as hc
    from kursk_da.io._hindcast import hindcast_dataset

    mp = pytest.MonkeyPatch()
    mp.setattr(hc, "forecast_origin", th._fake_forecast_origin)
    try:
        return hindcast_dataset(hc.run_hindcast(spec_2025, seed=1, draws=40, tune=0,
                                                chains=2))
    finally:
        mp.undo()


def _variants_group(tree: xr.DataTree) -> xr.Dataset:
    obs = [str(o) for o in tree["observed_data"]["observation"].values][:3]
    opts = [str(o) for o in tree["decision"]["option"].values]
    names = ["base", "alt"]
    models = [*names, "stacked"]
    z = np.zeros((3, len(opts)))
    return xr.Dataset(
        {"rank": ("variant", [0, 1]), "elpd_loo": ("variant", [-10.0, -12.0]),
         "se": ("variant", [1.0, 1.0]), "p_loo": ("variant", [2.0, 2.0]),
         "elpd_diff": ("variant", [0.0, 2.0]), "dse": ("variant", [0.0, 1.0]),
         "weight": ("variant", [0.7, 0.3]), "max_pareto_k": ("variant", [0.4, 0.9]),
         "n_k_above_0_7": ("variant", [0, 1]), "reff": ("variant", [1.0, 1.0]),
         "converged": ("variant", [1, 1]), "is_base": ("variant", [1, 0]),
         "description": ("variant", ["as written", "other"]),
         "source": ("variant", ["spec", "judgement"]),
         "overrides": ("variant", ["(none)", "x = 1"]),
         "pareto_k": (("variant", "observation"), [[0.1, 0.2, 0.4], [0.1, 0.95, 0.3]]),
         "expected_value": (("decision_model", "option"), z),
         "expected_value_mcse": (("decision_model", "option"), z + 1),
         "prob_best": (("decision_model", "option"), z + 1 / len(opts)),
         "prob_best_mcse": (("decision_model", "option"), z + 0.01),
         "recommended_option": ("decision_model", [opts[0]] * 3),
         "differs_from_base": ("decision_model", [0, 0, 0])},
        coords={"variant": names, "observation": obs, "decision_model": models,
                "option": opts},
        attrs={"base_variant": "base", "recommendation_changes": "no",
               "base_recommendation": opts[0], "stacked_recommendation": opts[0],
               "chains": 2, "mcmc_draws": 10})


@pytest.fixture(scope="module")
def trees(small_tree, hindcast_group):
    from _calibrated import calibrated_tree

    from kursk_da.io._hindcast import add_hindcast

    cal = calibrated_tree(small_tree, converged=True)
    voi = xr.Dataset({"evppi": ("parameter", [5.0]), "evppi_se": ("parameter", [1.0]),
                      "group_evppi": ("group", [6.0]), "group_evppi_se": ("group", [1.0]),
                      "evpi": 8.0}, coords={"parameter": ["nk_troops"], "group": ["rates"]},
                     attrs={"units": "dkm2"})
    out = {"prior": small_tree, "calibrated": cal}
    with_all = add_hindcast(cal, hindcast_group)
    with_all["voi"] = xr.DataTree(voi)
    with_all["variants"] = xr.DataTree(_variants_group(cal))
    out["calibrated+hindcast+voi+variants"] = with_all
    out["prior+hindcast"] = add_hindcast(small_tree, hindcast_group)
    return out


@pytest.mark.parametrize("name", ["prior", "calibrated", "calibrated+hindcast+voi+variants",
                                  "prior+hindcast"])
def test_each_optional_group_is_named_absent_exactly_when_it_is(trees, name):
    tree = trees[name]
    sections = ["brief", "calibration", "hindcast", "evidence", "voi"]
    text = render_markdown(build_document(tree, sections))
    for group, phrases in ABSENT.items():
        present = group in tree.groups and len(tree[group].data_vars) > 0
        for phrase in phrases:
            assert (phrase in text) != present, (name, group, phrase)
    if "/hindcast" in tree.groups:  # the brief summarises it and points to the section
        assert "Hindcast skill (rolling origins, section Hindcast below)" in text
        cov = float(np.nanmean(tree["hindcast"]["coverage_90"].values))
        assert f"mean 90% interval coverage {cov:.0%}" in text
    if "/variants" in tree.groups:  # Pareto k > 0.7 named, by variant
        assert "alt: " in text and "(0.95)" in text


def test_unit_and_zero_point_are_explained_where_the_unit_is_first_used(trees):
    text = render_markdown(build_document(trees["prior"]))
    first = text.index("dkm2")
    assert "Donbas-equivalent km²" in text[first:first + 200]
    assert "0 is an option that changes nothing in the decision window" in \
        text[first:first + 500]


def test_breakdown_sums_to_the_expected_value_and_comes_first(trees):
    from kursk_da.dims import VALUE_UNITS
    from kursk_da.report._breakdown import value_breakdown

    tree = trees["prior"]
    mean, se = value_breakdown(tree)
    ev = tree["decision"]["expected_value"].to_series().reindex(mean.index)
    # value = sum_k w_k a_k per draw, so the contributions add up to the expected value
    np.testing.assert_allclose(mean.sum(axis=1).to_numpy(), ev.to_numpy(), rtol=1e-9,
                               atol=1e-9)
    assert (se.to_numpy() > 0).any()
    doc = build_document(tree, ["brief"])
    tables = [b for b in doc.sections[0].blocks if type(b).__name__ == "Table"]
    assert tables and "made of" in tables[0].caption
    frame = tables[0].frame
    assert list(frame.index) == sorted(ev.index, key=lambda o: -ev[o])
    assert f"expected value ({VALUE_UNITS})" in frame.columns
    text = render_markdown(doc)
    assert ("Every option is below zero" in text) == bool((ev < 0).all())
