"""The generative Gaussian copula of the PyMC calibration model (issue 10, item 4)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

pm = pytest.importorskip("pymc")

from kursk_da.calibration._model import build_model, calibration_setup  # noqa: E402
from kursk_da.calibration._priors import copula_latent, marginal_quantile  # noqa: E402
from kursk_da.spec._distributions import parse_distribution  # noqa: E402
from kursk_da.spec.copula import pearson_correlation  # noqa: E402

TABLES = [
    {"dist": "normal", "mean": 2.0, "sd": 0.5},
    {"dist": "lognormal", "median": 3.0, "sigma": 0.4},
    {"dist": "gamma", "shape": 3.0, "scale": 2.0},
    {"dist": "beta", "a": 2.0, "b": 5.0, "lower": 1.0, "upper": 3.0},
    {"dist": "uniform", "lower": 0.3, "upper": 1.0},
    {"dist": "truncnormal", "mean": 1.0, "sd": 2.0, "lower": 0.0},
    {"dist": "truncnormal", "mean": 1.0, "sd": 2.0, "lower": -1.0, "upper": 4.0},
    {"dist": "pert", "min": 1.0, "mode": 2.0, "max": 5.0},
    {"dist": "triangular", "min": 1.0, "mode": 2.0, "max": 5.0},
]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t["dist"])
def test_marginal_quantile_is_the_spec_quantile_of_the_normal_score(table):
    """x = F^-1(Phi(z)) in PyTensor equals the spec's ppf: the map z -> x is exact."""
    dist = parse_distribution(table, "p")
    z = np.linspace(-4.0, 4.0, 33)
    got = marginal_quantile(dist, pm.math.constant(z)).eval()
    np.testing.assert_allclose(got, dist.ppf(stats.norm.cdf(z)), rtol=1e-8, atol=1e-10)


def test_latent_copula_draws_have_the_marginals_and_the_rank_correlation():
    """A small synthetic copula of mixed marginals: marginals (KS) and Spearman rho."""
    dists = {f"p{i}": parse_distribution(t, f"p{i}") for i, t in enumerate(TABLES[2:6])}
    names = list(dists)
    rho_s = 0.5
    pearson = np.full((4, 4), 2.0 * np.sin(np.pi * rho_s / 6.0))
    np.fill_diagonal(pearson, 1.0)
    with pm.Model() as model:
        copula_latent(names, dists, pearson)
    n = 4000
    draws = pm.draw([model[nm] for nm in names], draws=n, random_seed=11)
    for nm, x in zip(names, draws, strict=True):
        assert stats.kstest(x, lambda v, d=dists[nm]: np.interp(
            v, d.ppf(np.linspace(1e-6, 1 - 1e-6, 20001)), np.linspace(1e-6, 1 - 1e-6, 20001))
        ).pvalue > 1e-3
    se = (1.0 - rho_s**2) / np.sqrt(n)
    r = stats.spearmanr(np.column_stack(draws)).statistic
    off = r[~np.eye(4, dtype=bool)]
    assert np.all(np.abs(off - rho_s) < 4.5 * se), off


def test_prior_predictive_reproduces_the_spec_rank_correlations(spec_2025):
    """pm.sample_prior_predictive of build_model keeps every stated Spearman correlation."""
    setup = calibration_setup(spec_2025)
    model = build_model(spec_2025, setup=setup)
    assert "prior_copula_z" in {v.name for v in model.free_RVs}
    assert not model.potentials
    n = 4000
    prior = pm.sample_prior_predictive(draws=n, model=model, random_seed=5).prior
    theta = prior["theta"].stack(s=("chain", "draw")).transpose("s", ...).to_numpy()
    sampled = list(setup.sampled)
    stated = [((c.a, c.b), c.rank_corr) for c in spec_2025.correlations]
    checked = 0
    for (a, b), rho in stated:
        if a not in sampled or b not in sampled:
            continue
        r = stats.spearmanr(theta[:, sampled.index(a)], theta[:, sampled.index(b)]).statistic
        se = (1.0 - rho**2) / np.sqrt(n)
        assert abs(r - rho) < 4.0 * se, (a, b, r, rho)
        checked += 1
    assert checked == len(stated)
    # uncorrelated pairs stay uncorrelated; marginals are the spec's
    pear = pearson_correlation(spec_2025, sampled)
    r_all = stats.spearmanr(theta).statistic
    free = np.abs(pear) < 1e-12
    assert np.all(np.abs(r_all[free]) < 4.0 / np.sqrt(n))
    for j, nm in enumerate(sampled):
        q = spec_2025.inputs[nm].dist.ppf(np.array([0.1, 0.5, 0.9]))
        frac = (theta[:, j][:, None] <= q).mean(axis=0)
        np.testing.assert_allclose(frac, [0.1, 0.5, 0.9], atol=4.0 * 0.5 / np.sqrt(n))
