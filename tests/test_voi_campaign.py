"""EVPPI on the campaign model: ranking, bounds, fast GAM = generic GAM, nested-MC agreement."""

from __future__ import annotations

import numpy as np
import pytest

from kursk_da.dims import DRAW, GROUP, PARAMETER
from kursk_da.engine._kernel import ATTRIBUTE_NAMES
from kursk_da.engine._run import run_engine
from kursk_da.errors import VOIInputError
from kursk_da.spec.copula import (
    condition_scores,
    draw_scores,
    from_normal_scores,
    normal_scores,
    pearson_correlation,
)
from kursk_da.stats import evpi_core, evppi_from_arrays, evppi_gam_fast
from kursk_da.voi._campaign import (
    campaign_evppi,
    campaign_evppi_from_tree,
    campaign_evppi_nested,
)


@pytest.fixture(scope="module")
def run_20k(spec_2025):
    return run_engine(spec_2025, 20_000, 11)


@pytest.fixture(scope="module")
def evppi_ds(spec_2025, run_20k):
    return campaign_evppi(spec_2025, run_20k.inputs, run_20k.values,
                          attributes=run_20k.attributes, rng=3, n_se_draws=50, gp_max_draws=6000)


def test_every_uncertain_input_and_group_is_ranked(spec_2025, evppi_ds):
    uncertain = {n for n, p in spec_2025.inputs.items() if not p.dist.is_fixed}
    assert set(evppi_ds[PARAMETER].values) == uncertain
    assert "ru_commit_reference" in evppi_ds.attrs["skipped_fixed"]
    for named in ("russian_reinforcement", "casualty_rates", "territory_response",
                  "value_weights"):
        assert named in evppi_ds[GROUP].values
    assert np.all(np.diff(evppi_ds["evppi"].values) <= 0)
    assert np.all(np.diff(evppi_ds["group_evppi"].values) <= 0)
    methods = dict(zip(evppi_ds[GROUP].values, evppi_ds["group_method"].values, strict=True))
    sizes = dict(zip(evppi_ds[GROUP].values, evppi_ds["group_size"].values, strict=True))
    for g, m in methods.items():
        expected = "linear" if g == "value_weights" else ("gp" if sizes[g] > 4 else "gam")
        assert m == expected, g
    singles = dict(zip(evppi_ds[PARAMETER].values, evppi_ds["parameter_group"].values,
                       strict=True))
    assert all(g == "value_weights" for p, g in singles.items() if p.startswith("weight_"))
    # total SE combines the fit and Monte Carlo terms
    np.testing.assert_allclose(evppi_ds["group_evppi_se"] ** 2, evppi_ds["group_evppi_fit_se"] ** 2
                               + evppi_ds["group_evppi_mc_se"] ** 2)


def test_evppi_between_zero_and_evpi(evppi_ds):
    evpi = float(evppi_ds["evpi"])
    tol = 1e-9 * evpi
    for var in ("evppi", "group_evppi"):
        vals = evppi_ds[var].values
        assert np.all(vals >= -tol), var
        assert np.all(vals <= evpi + 3 * float(evppi_ds["evpi_se"])), var


def test_value_weights_group_matches_exact_linear_evppi(spec_2025, run_20k, evppi_ds):
    """Value is linear in the weights, which are independent of the campaign inputs, so
    E[v_j | weights] = sum_k w_k E[a_jk]: the group EVPPI has a closed form given the draws.

    The least-squares estimate differs from it only through the estimated coefficients
    (sample covariance of weights and attributes), an error its SE describes."""
    cols = [spec_2025.input_names.index("weight_" + a) for a in ATTRIBUTE_NAMES]
    exact = evpi_core(run_20k.inputs[:, cols] @ run_20k.attributes.mean(axis=0).T)
    grp = evppi_ds.sel({GROUP: "value_weights"})
    assert abs(float(grp["group_evppi"]) - exact) <= 3 * float(grp["group_evppi_fit_se"])
    # one weight alone: E[v_j | w_k] = w_k E[a_jk] + sum_{l != k} E[w_l] E[a_jl]
    k = cols.index(spec_2025.input_names.index("weight_ru_casualties"))
    w_mean = run_20k.inputs[:, cols].mean(axis=0)
    a_mean = run_20k.attributes.mean(axis=0)  # (option, attribute)
    cond = (a_mean @ w_mean)[None, :] + np.outer(run_20k.inputs[:, cols[k]] - w_mean[k],
                                                 a_mean[:, k])
    one = evppi_ds.sel({PARAMETER: "weight_ru_casualties"})
    assert abs(float(one["evppi"]) - evpi_core(cond)) <= 3 * float(one["evppi_fit_se"])


def test_correlated_weight_falls_back_to_a_smoother(spec_2025, run_20k):
    """A weight correlated with a campaign input is no longer exactly linear: GAM, not OLS."""
    from kursk_da.io import draws_from_spec

    draws = draws_from_spec(spec_2025, run_20k.inputs, run_20k.values)
    assert draws.is_linear(("weight_ru_casualties",))
    assert not draws.is_linear(("weight_ru_casualties", "ru_loss_attack"))
    corr = draws.correlation.copy()
    i, j = (draws.names.index(n) for n in ("weight_ru_casualties", "ru_loss_attack"))
    corr[i, j] = corr[j, i] = 0.3
    from dataclasses import replace

    assert not replace(draws, correlation=corr).is_linear(("weight_ru_casualties",))
    assert not replace(draws, correlation=None).is_linear(("weight_ru_casualties",))


def test_fast_gam_is_the_generic_gam(run_20k, spec_2025):
    rng = np.random.default_rng(0)
    j = spec_2025.input_names.index("weight_ru_casualties")
    fast = evppi_gam_fast(run_20k.values, run_20k.inputs[:, [j]], rng=rng, n_se_draws=200)
    val, se, _, _ = evppi_from_arrays(run_20k.values, run_20k.inputs[:, [j]], rng=rng,
                                      n_se_draws=200)
    assert fast.value == pytest.approx(val, rel=1e-6)
    assert fast.se == pytest.approx(se, rel=0.35)
    k = [spec_2025.input_names.index(n) for n in ("weight_ru_casualties",
                                                  "weight_strike_effort")]
    fast2 = evppi_gam_fast(run_20k.values, run_20k.inputs[:, k], rng=rng, n_se_draws=0)
    val2, _, _, _ = evppi_from_arrays(run_20k.values, run_20k.inputs[:, k], rng=rng,
                                      n_se_draws=0)
    assert fast2.value == pytest.approx(val2, rel=0.02)


def test_results_do_not_depend_on_threads(spec_2025, run_20k):
    a = campaign_evppi(spec_2025, run_20k.inputs[:5000], run_20k.values[:5000], rng=4,
                       groups=False, n_se_draws=20, parameters=["weight_ru_casualties",
                                                                "ru_loss_attack"])
    b = campaign_evppi(spec_2025, run_20k.inputs[:5000], run_20k.values[:5000], rng=4,
                       groups=False, n_se_draws=20, n_jobs=2,
                       parameters=["weight_ru_casualties", "ru_loss_attack"])
    assert a.identical(b)


def test_from_tree_reads_prior_draws(small_tree):
    ds = campaign_evppi_from_tree(small_tree, rng=1, n_se_draws=0, groups=False)
    assert "ru_garrison" in ds[PARAMETER].values
    assert float(ds["evpi"]) == pytest.approx(float(small_tree["decision"]["evpi"]))


def test_bad_arguments_name_the_argument(spec_2025, run_20k):
    with pytest.raises(VOIInputError, match="inputs"):
        campaign_evppi(spec_2025, run_20k.inputs[:, :3], run_20k.values)
    with pytest.raises(VOIInputError, match="parameters"):
        campaign_evppi(spec_2025, run_20k.inputs, run_20k.values, parameters=["nope"])
    with pytest.raises(VOIInputError, match="focal"):
        campaign_evppi_nested(spec_2025, "ru_commit_reference", n_outer=4, n_inner=4, seed=0)


def test_conditioning_on_a_correlated_input_shifts_its_partner(spec_2025):
    """ru_reinforcement_ceiling and ru_reinforcement_rate have rank correlation 0.3."""
    rng = np.random.default_rng(2)
    corr = pearson_correlation(spec_2025)
    names = spec_2025.input_names
    i, j = names.index("ru_reinforcement_ceiling"), names.index("ru_reinforcement_rate")
    z = draw_scores(spec_2025, 40_000, rng)
    high = normal_scores(spec_2025, np.array([60_000.0]), names[i])
    zc = condition_scores(z, corr, [i], high)
    x = from_normal_scores(spec_2025, zc)
    assert np.all(x[:, i] == pytest.approx(60_000.0))
    r = corr[i, j]
    assert zc[:, j].mean() == pytest.approx(r * high[0], abs=0.03)
    assert zc[:, j].std() == pytest.approx(np.sqrt(1 - r**2), abs=0.02)
    k = names.index("nk_troops")  # uncorrelated: untouched
    np.testing.assert_array_equal(zc[:, k], z[:, k])


@pytest.mark.parametrize("focal", ["weight_ru_casualties", "weight_ua_casualties",
                                   "ru_loss_attack"])
def test_regression_evppi_agrees_with_nested_monte_carlo(spec_2025, evppi_ds, focal):
    nested = campaign_evppi_nested(spec_2025, focal, n_outer=100, n_inner=400, seed=21)
    reg = evppi_ds.sel({PARAMETER: focal})
    se = np.hypot(float(reg["evppi_se"]), nested.se)
    gap = abs(float(reg["evppi"]) - nested.value)
    assert gap <= 3.0 * se + nested.diagnostics["inner_bias_bound"], (float(reg["evppi"]),
                                                                       nested, se)


@pytest.mark.slow
@pytest.mark.parametrize("focal", ["ru_loss_attack", "strike_attrition", "weight_ru_casualties"])
def test_regression_vs_nested_at_scale(spec_2025, focal):
    """10^5 draws for the regression, 200 x 1000 nested runs; ru_loss_attack is correlated
    with ua_loss_defend, so its inner draws are conditional."""
    out = run_engine(spec_2025, 100_000, 29)
    reg = campaign_evppi(spec_2025, out.inputs, out.values, attributes=out.attributes,
                         parameters=[focal], groups=False,
                         rng=5, n_se_draws=200).sel({PARAMETER: focal})
    nested = campaign_evppi_nested(spec_2025, focal, n_outer=200, n_inner=1000, seed=31)
    se = np.hypot(float(reg["evppi_se"]), nested.se)
    gap = abs(float(reg["evppi"]) - nested.value)
    assert gap <= 3.0 * se + nested.diagnostics["inner_bias_bound"], (float(reg["evppi"]), nested)


def test_draws_from_a_posterior_layout_use_decision_inputs(small_tree):
    """Posterior result sets keep the propagated matrix in /decision/inputs; /posterior
    holds only the calibrated parameters, so VOI must read the former (same draws, groups)."""
    import xarray as xr

    from kursk_da.io import draws_from_tree

    prior = draws_from_tree(small_tree)
    tree = small_tree.copy()
    matrix = xr.DataArray(prior.inputs, dims=(DRAW, PARAMETER),
                          coords={DRAW: tree["decision"][DRAW].values,
                                  PARAMETER: list(prior.names)})
    tree["decision"] = tree["decision"].to_dataset().assign(inputs=matrix)
    tree["posterior"] = xr.Dataset({"ru_garrison": small_tree["prior"]["ru_garrison"]})
    tree.attrs["analysis"] = "posterior"
    post = draws_from_tree(tree)
    assert post.names == prior.names
    assert post.groups == prior.groups
    np.testing.assert_array_equal(post.inputs, prior.inputs)
    np.testing.assert_array_equal(post.values, prior.values)


def test_weights_at_their_means_keep_the_evppi_and_cut_the_noise(spec_2025, run_20k):
    """Conditioning on the independent weights (Rao-Blackwellisation) changes the regression
    target's noise, not its conditional mean: same EVPPI within the SEs, smaller SE."""
    focal = ["ru_loss_attack", "strike_attrition"]
    plain = campaign_evppi(spec_2025, run_20k.inputs, run_20k.values, parameters=focal,
                           groups=False, rng=2, n_se_draws=100)
    rb = campaign_evppi(spec_2025, run_20k.inputs, run_20k.values, parameters=focal,
                        attributes=run_20k.attributes, groups=False, rng=2, n_se_draws=100)
    for p in focal:
        a, b = plain.sel({PARAMETER: p}), rb.sel({PARAMETER: p})
        assert abs(float(a["evppi"]) - float(b["evppi"])) <= 3 * float(
            np.hypot(a["evppi_se"], b["evppi_se"])), p
        assert float(b["evppi_fit_se"]) < 0.8 * float(a["evppi_fit_se"]), p


def test_attributes_must_reproduce_the_values(spec_2025, run_20k):
    attrs = run_20k.attributes.copy()
    with pytest.raises(VOIInputError, match="attributes: expected shape"):
        campaign_evppi(spec_2025, run_20k.inputs, run_20k.values, attributes=attrs[:, :, :3])
    attrs[5, 1, 2] += 10.0
    with pytest.raises(VOIInputError, match="attributes: the weighted sum"):
        campaign_evppi(spec_2025, run_20k.inputs, run_20k.values, attributes=attrs)


def test_from_tree_uses_the_stored_attributes(small_tree):
    from kursk_da.io import draws_from_tree

    draws = draws_from_tree(small_tree)
    assert draws.attributes is not None
    assert all(n is None or n.startswith("weight_") for n in draws.weight_inputs)
    # for a campaign input every independent weight is replaced by its mean
    v = draws.task_values(("ru_loss_attack",))
    assert v.shape == draws.values.shape and not np.allclose(v, draws.values)
    # the focal weight keeps its draws: its own contribution is unchanged
    w = draws.task_values(("weight_ru_casualties",))
    k = draws.weight_inputs.index("weight_ru_casualties")
    expected = draws.values - np.einsum(
        "noa,na->no", draws.attributes, draws.weights - draws.weights.mean(axis=0)) \
        + np.einsum("no,n->no", draws.attributes[:, :, k],
                    draws.weights[:, k] - draws.weights[:, k].mean())
    np.testing.assert_allclose(w, expected, rtol=1e-9, atol=1e-9)



def test_voi_group_is_documented(evppi_ds):
    """The result-set schema is a public contract: every /voi variable is in the docs."""
    from _schema_docs import documented

    assert set(evppi_ds.data_vars) <= documented("/voi")
