"""Tornado, threshold analysis and Sobol' indices on the campaign model."""

from __future__ import annotations

import numpy as np
import pytest

from kursk_da.dims import OPTION, OUTPUT, PARAMETER
from kursk_da.sensitivity.campaign import DIFFERENCE_OUTPUT, campaign_sobol
from kursk_da.sensitivity.tornado import partial_expected_values, tornado
from kursk_da.voi import VOIInputError

SWEPT = ["weight_strike_effort", "strike_attrition", "ru_garrison"]


@pytest.fixture(scope="module")
def torn(spec_2025):
    return tornado(spec_2025, parameters=SWEPT, n_draws=300, seed=3)


def test_tornado_layout_and_ranking(torn, spec_2025):
    assert set(torn[PARAMETER].values) == set(SWEPT)
    assert np.all(np.diff(torn["swing"].values) <= 0)
    assert list(torn[OPTION].values) == list(spec_2025.option_names)
    lead, run = torn.attrs["leader"], torn.attrs["runner_up"]
    np.testing.assert_allclose(
        torn["difference"].values,
        (torn["expected_value"].sel({OPTION: lead}) - torn["expected_value"].sel({OPTION: run}))
        .values)
    # sweep values are the 5 % .. 95 % quantiles
    for p in SWEPT:
        lo, hi = spec_2025.inputs[p].dist.interval(0.9)
        v = torn["sweep_value"].sel({PARAMETER: p}).values
        assert v[0] == pytest.approx(lo) and v[-1] == pytest.approx(hi)


def test_threshold_matches_brute_force_root(torn, spec_2025):
    name = "weight_strike_effort"
    row = torn.sel({PARAMETER: name})
    assert int(row["n_thresholds"]) >= 1
    thr = float(row["threshold"])
    a, b = str(row["best_below"].item()), str(row["best_above"].item())
    ia, ib = spec_2025.option_names.index(a), spec_2025.option_names.index(b)
    sweep = row["sweep_value"].values
    k = int(np.searchsorted(np.sort(sweep), thr))
    lo, hi = np.sort(sweep)[k - 1], np.sort(sweep)[k]
    grid = np.linspace(lo, hi, 41)
    ev = partial_expected_values(spec_2025, name, grid, n_draws=300, seed=3)
    gap = ev[:, ia] - ev[:, ib]
    sign = np.nonzero(np.sign(gap[1:]) != np.sign(gap[:-1]))[0]
    assert sign.size == 1
    j = int(sign[0])
    brute = grid[j] - gap[j] * (grid[j + 1] - grid[j]) / (gap[j + 1] - gap[j])
    assert thr == pytest.approx(brute, abs=(hi - lo) / 400)


def test_tornado_rejects_unknown_input(spec_2025):
    with pytest.raises(VOIInputError, match="parameters"):
        tornado(spec_2025, parameters=["nk_troopz"], n_draws=20)


def test_campaign_sobol_indices_are_sensible(spec_2025):
    params = ["weight_ru_casualties", "strike_attrition", "weight_strike_effort",
              "donbas_cost_per_1000", "nk_troops"]
    ds = campaign_sobol(spec_2025, n=128, seed=2, parameters=params, n_bootstrap=100)
    assert list(ds[OUTPUT].values) == [*spec_2025.option_names, DIFFERENCE_OUTPUT]
    s1, st = ds["S1"].values, ds["ST"].values
    # S1 <= ST up to sampling error: the bootstrap intervals must be consistent with it
    assert np.all(ds["S1_conf_low"].values <= ds["ST_conf_high"].values + 0.01)
    assert np.all(st >= -1e-12) and np.all(st <= 1.2)
    assert np.all(s1.sum(axis=1) <= 1.1)
    diff = ds.sel({OUTPUT: DIFFERENCE_OUTPUT})
    # the strike-related inputs drive strike_only - withdraw; North Korean numbers do not
    assert float(diff["ST"].sel({PARAMETER: "weight_ru_casualties"})) > 0.1
    assert float(diff["ST"].sel({PARAMETER: "nk_troops"})) < 0.05
