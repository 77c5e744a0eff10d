"""Tornado, threshold analysis and Sobol' indices on the campaign model."""

from __future__ import annotations

import numpy as np
import pytest

from kursk_da.dims import OPTION, OUTPUT, PARAMETER
from kursk_da.errors import VOIInputError
from kursk_da.sensitivity._campaign import DIFFERENCE_OUTPUT, campaign_sobol
from kursk_da.sensitivity._tornado import partial_expected_values, tornado

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


def test_posterior_tornado_on_prior_draws_reproduces_the_prior_tornado(spec_2025):
    """Given the prior's own draws as the 'posterior', with two correlated inputs marked
    calibrated, the posterior sweep estimates the same partial expected values."""
    from kursk_da.engine._run import run_engine

    swept = ["ua_loss_defend", "weight_strike_effort"]
    base = run_engine(spec_2025, 20_000, 5).inputs
    prior = tornado(spec_2025, parameters=swept, n_draws=2000, seed=3, thresholds=False)
    post = tornado(spec_2025, parameters=swept, n_draws=2000, seed=3, thresholds=False,
                   base_inputs=base, calibrated=["ua_loss_defend", "ru_loss_attack"])
    assert post.attrs["distribution"] == "posterior" and prior.attrs["distribution"] == "prior"
    for p in swept:
        a = prior["expected_value"].sel({PARAMETER: p}).values
        b = post["expected_value"].sel({PARAMETER: p}).values
        # independent base samples of 2000 draws: MC error of each EV ~ sd / sqrt(2000)
        sd = run_engine(spec_2025, 2000, 9).values.std(axis=0)
        assert np.all(np.abs(a - b) <= 4 * np.sqrt(2) * sd / np.sqrt(2000)), p
        # the sweep covers the empirical 5 % .. 95 % quantiles of the given draws
        col = base[:, spec_2025.input_names.index(p)]
        np.testing.assert_allclose(post["sweep_value"].sel({PARAMETER: p}).values[[0, -1]],
                                   np.quantile(col, [0.05, 0.95]))


def test_posterior_sweep_moves_calibrated_partners_by_their_regression(spec_2025):
    """Scores of two calibrated inputs with correlation 0.8 in the given draws: fixing one
    at score a moves the other's mean score to 0.8 a (linear-Gaussian conditional)."""
    from kursk_da.sensitivity._tornado import _PosteriorConditioner
    from kursk_da.spec.copula import draw_scores, from_normal_scores, normal_scores

    rng = np.random.default_rng(0)
    z = draw_scores(spec_2025, 4000, rng)
    names = spec_2025.input_names
    i, j = (names.index(n) for n in ("ru_garrison", "nk_troops"))
    z[:, j] = 0.8 * z[:, i] + 0.6 * rng.standard_normal(4000)
    base = from_normal_scores(spec_2025, z)
    sw = _PosteriorConditioner(spec_2025, base, ["ru_garrison", "nk_troops"], np.arange(4000))
    b = sw.slopes(i)
    assert b[j] == pytest.approx(0.8, abs=0.03) and b[i] == 1.0
    assert np.count_nonzero(b) == 2  # nothing else moves (no copula links in the spec)
    q = float(spec_2025.inputs["ru_garrison"].dist.ppf(0.9))
    moved = sw.inputs_at("ru_garrison", q)
    zj = normal_scores(spec_2025, moved[:, j], "nk_troops")
    a = float(normal_scores(spec_2025, np.array([q]), "ru_garrison")[0])
    assert zj.mean() == pytest.approx(b[j] * a, abs=4 * 0.6 / np.sqrt(4000) + 0.02)
    untouched = [k for k in range(len(names)) if k not in (i, j)]
    np.testing.assert_array_equal(moved[:, untouched], base[:, untouched])


def test_sensitivity_groups_are_documented(torn, spec_2025):
    from _schema_docs import documented

    assert set(torn.data_vars) <= documented("/sensitivity/tornado")
    sob = campaign_sobol(spec_2025, n=8, seed=1, parameters=["strike_attrition",
                                                              "weight_strike_effort"])
    assert set(sob.data_vars) <= documented("/sensitivity/sobol")
