"""First-order indices from a sample (correlation ratios), against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from kursk_da.errors import VOIInputError
from kursk_da.sensitivity import campaign_main_effects
from kursk_da.stats import main_effects


def _close(s1, se, truth, k=4.0, floor=0.01):
    assert np.all(np.abs(s1 - truth) <= k * se + floor), (s1, se, truth)


def test_linear_independent_inputs_match_their_variance_shares():
    """y = 2 x1 + x2 + 0 x3 + noise(sd 1): S1 = 4/6, 1/6, 0."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20_000, 3))
    y = 2 * x[:, 0] + x[:, 1] + rng.standard_normal(20_000)
    s1, se = main_effects(y, x, rng=1, n_se_draws=200)
    _close(s1, se, np.array([4 / 6, 1 / 6, 0.0]))


def test_nonlinear_main_effect():
    """y = x1^2 + x2 with standard normals: Var(x1^2) = 2, so S1 = 2/3 and 1/3."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((20_000, 2))
    y = x[:, 0] ** 2 + x[:, 1]
    s1, se = main_effects(y, x, rng=2, n_se_draws=200)
    _close(s1, se, np.array([2 / 3, 1 / 3]))


@pytest.mark.parametrize("rho", [0.0, 0.5, -0.6])
def test_dependent_inputs_carry_their_partners(rho):
    """y = x1 + x2 with corr rho: E[y | x1] = (1 + rho) x1, so S1 = (1 + rho) / 2 for both
    (a Sobol' estimator that assumes independence would say 1/2)."""
    rng = np.random.default_rng(3)
    cov = [[1.0, rho], [rho, 1.0]]
    x = rng.multivariate_normal([0.0, 0.0], cov, size=20_000)
    y = x.sum(axis=1)
    s1, se = main_effects(y, x, rng=4, n_se_draws=200)
    _close(s1, se, np.full(2, (1 + rho) / 2))


def test_a_less_noisy_target_gives_the_same_index():
    """y = w a with w independent of (a, x): E[y | x] = E[w] E[a | x], so regressing
    E[w] a instead of y gives the same index with less noise."""
    rng = np.random.default_rng(5)
    n = 20_000
    x = rng.standard_normal((n, 1))
    a = 3 + x[:, 0] + 0.5 * rng.standard_normal(n)
    w = rng.uniform(0.5, 1.5, n)
    y = w * a
    plain, se_p = main_effects(y, x, rng=6, n_se_draws=200)
    reduced, se_r = main_effects(y, x, rng=6, n_se_draws=200, target=a * w.mean())
    # closed form: Var(E[y|x]) = E[w]^2 Var(x) = 1; Var(y) = E[w^2] E[a^2] - (E[w] E[a])^2
    var_y = (1 + 1 / 12) * (9 + 1 + 0.25) - 9
    _close(reduced, se_r, np.array([1 / var_y]))
    _close(plain, se_p, np.array([1 / var_y]))
    assert se_r[0] < se_p[0]


def test_bad_input_is_named():
    with pytest.raises(VOIInputError, match="y, x: expected shapes"):
        main_effects(np.zeros(30), np.zeros((31, 2)))
    with pytest.raises(VOIInputError, match="target: expected finite numbers of shape"):
        main_effects(np.arange(30.0), np.zeros((30, 2)), target=np.zeros((30, 3)))
    with pytest.raises(VOIInputError, match="y: the output is constant"):
        main_effects(np.ones(30), np.random.default_rng(0).standard_normal((30, 2)))


def test_campaign_main_effects_layout(spec_2025):
    from kursk_da.engine._run import run_engine
    from kursk_da.io import draws_from_spec

    out = run_engine(spec_2025, 4000, 2)
    draws = draws_from_spec(spec_2025, out.inputs, out.values, out.attributes)
    ds = campaign_main_effects(draws, rng=1, n_se_draws=20)
    assert list(ds["output"].values) == [*spec_2025.option_names, "difference"]
    assert set(ds["parameter"].values) == set(draws.uncertain)
    assert np.all((ds["S1"] >= 0) & (ds["S1"] <= 1.05))
    # the value weights dominate the difference of the two best options (EVPPI ranking)
    top = ds["S1"].sel(output="difference").to_series().idxmax()
    assert top == "weight_ru_casualties"
    from _schema_docs import documented

    assert set(ds.data_vars) <= documented("/sensitivity/main_effects")
