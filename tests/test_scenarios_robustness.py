"""Scenario parsing and errors; scenarios side by side; trade-off curves; risk attitude."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from kursk_da.dims import OPTION, SCENARIO
from kursk_da.engine._run import run_engine
from kursk_da.errors import SpecError
from kursk_da.sensitivity._robustness import (
    acceptability_curve,
    risk_attitude,
    scenario_comparison,
    simplex_regions,
)
from kursk_da.spec._schema import apply_scenario, spec_from_dict


def test_shipped_scenarios_parse_and_apply(spec_2025):
    assert {"no_nk", "aid_halved", "fast_ru_reinforcement"} <= set(spec_2025.scenarios)
    no_nk = apply_scenario(spec_2025, "no_nk")
    assert no_nk.inputs["nk_troops"].dist.is_fixed
    assert no_nk.inputs["nk_troops"].dist.params["value"] == 0.0
    assert no_nk.inputs["nk_troops"].units == "troops"
    aid = apply_scenario(spec_2025, "aid_halved")
    assert aid.inputs["weight_strike_effort"].dist.mean() < \
        spec_2025.inputs["weight_strike_effort"].dist.mean()
    assert "scenario aid_halved" in aid.inputs["ua_force_rate"].source
    assert apply_scenario(spec_2025, "base") is spec_2025
    assert not no_nk.scenarios


def _with(spec, scenarios):
    raw = copy.deepcopy(dict(spec.raw))
    raw["scenarios"] = scenarios
    return raw


@pytest.mark.parametrize(("scenarios", "path"), [
    ({"no_nk": {"description": "x", "parameters": {"nk_troopz": 0}}},
     "scenarios.no_nk.parameters.nk_troopz"),
    ({"no_nk": {"description": "x", "parameters": {"nk_troops": "none"}}},
     "scenarios.no_nk.parameters.nk_troops"),
    ({"no_nk": {"description": "x", "parameters": {"nk_troops": {"dist": "nope"}}}},
     "scenarios.no_nk.parameters.nk_troops"),
    ({"no_nk": {"parameters": {"nk_troops": 0}}}, "scenarios.no_nk.description"),
    ({"no_nk": {"description": "x"}}, "scenarios.no_nk.parameters"),
    ({"no_nk": {"description": "x", "parameters": {"nk_troops": 0}, "extra": 1}},
     "scenarios.no_nk.extra"),
    ({"base": {"description": "x", "parameters": {"nk_troops": 0}}}, "scenarios.base"),
    ({"no_nk": 3}, "scenarios.no_nk"),
    ([1, 2], "scenarios"),
])
def test_scenario_errors_name_the_field(spec_2025, scenarios, path):
    with pytest.raises(SpecError) as err:
        spec_from_dict(_with(spec_2025, scenarios))
    assert err.value.path.startswith(path), err.value


def test_unknown_scenario_is_an_error(spec_2025):
    with pytest.raises(SpecError, match="no such scenario"):
        apply_scenario(spec_2025, "nope")


def test_scenario_comparison_side_by_side(spec_2025):
    ds = scenario_comparison(spec_2025, draws=600, seed=2, scenarios=["no_nk"])
    assert list(ds[SCENARIO].values) == ["base", "no_nk"]
    np.testing.assert_allclose(ds["prob_best"].sum(OPTION).values, 1.0)
    base = run_engine(spec_2025, 600, 2).values.mean(axis=0)
    np.testing.assert_allclose(ds["expected_value"].sel({SCENARIO: "base"}).values, base)


@pytest.fixture(scope="module")
def small_run(spec_2025):
    return run_engine(spec_2025, 2000, 5)


def test_acceptability_curve_reproduces_values(spec_2025, small_run):
    ac = acceptability_curve(spec_2025, small_run.inputs, small_run.attributes,
                             weight="ua_casualties", grid=[-0.05, 0.0])
    np.testing.assert_allclose(ac["prob_best"].sum(OPTION).values, 1.0)
    # fixing the weight at w is the same as re-weighting the attributes by hand
    k = spec_2025.input_names.index("weight_ua_casualties")
    x = small_run.inputs.copy()
    x[:, k] = -0.05
    from kursk_da.engine._run import values_from_attributes

    v = values_from_attributes(spec_2025, x, small_run.attributes)
    np.testing.assert_allclose(ac["expected_value"].isel(weight_value=0).values,
                               v.mean(axis=0), rtol=1e-12)


def test_simplex_centre_is_the_prior_mean_trade_off(spec_2025, small_run):
    sx = simplex_regions(spec_2025, small_run.inputs, small_run.attributes, resolution=3)
    assert sx.sizes["simplex_point"] == 10
    assert float(sx["region_share"].sum()) == pytest.approx(1.0)
    centre = int(np.argmin(np.abs(sx["lambda_ua_casualties"].values - 1 / 3)
                           + np.abs(sx["lambda_kursk_area_final"].values - 1 / 3)))
    from kursk_da.engine._kernel import ATTRIBUTE_NAMES

    w = np.array([spec_2025.weights[a].dist.mean() for a in ATTRIBUTE_NAMES])
    x = small_run.inputs.copy()
    for a in ("ua_casualties", "kursk_area_final", "foothold_retained"):
        x[:, spec_2025.input_names.index("weight_" + a)] = w[ATTRIBUTE_NAMES.index(a)]
    from kursk_da.engine._run import values_from_attributes

    ev = values_from_attributes(spec_2025, x, small_run.attributes).mean(axis=0)
    np.testing.assert_allclose(sx["expected_value"].isel(simplex_point=centre).values, ev,
                               rtol=1e-10)


def test_risk_attitude_closed_form():
    rng = np.random.default_rng(0)
    mu, sd, r = np.array([0.0, 10.0]), np.array([1.0, 60.0]), 0.01
    v = mu + sd * rng.standard_normal((400_000, 2))
    ra = risk_attitude(v, ["safe", "risky"], risk_aversion=r)
    # normal values: CE = mu - r sd^2 / 2
    np.testing.assert_allclose(ra["certainty_equivalent"].values, mu - r * sd**2 / 2, atol=0.3)
    assert ra.attrs["best_risk_neutral"] == "risky"
    assert ra.attrs["best_risk_averse"] == "safe"
