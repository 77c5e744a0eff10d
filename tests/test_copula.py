"""Tests of kursk_da.spec.copula: correlation matrices and Gaussian copula sampling."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from kursk_da.errors import SpecError
from kursk_da.spec import copula
from kursk_da.spec._distributions import parse_distribution
from kursk_da.spec.copula import correlation_matrix, sample, spearman_to_pearson

NAMES = ["garrison", "advance", "losses", "morale"]
TABLES = [
    {"dist": "lognormal", "interval": [40_000, 60_000]},
    {"dist": "pert", "min": 5.0, "mode": 20.0, "max": 60.0},
    {"dist": "gamma", "mean": 120.0, "sd": 60.0},
    {"dist": "truncnormal", "mean": 0.5, "sd": 0.3, "lower": 0.0, "upper": 1.0},
]
DISTS = [parse_distribution(t, f"parameters.{n}") for t, n in zip(TABLES, NAMES, strict=True)]
PAIRS = [("garrison", "advance", -0.6), ("losses", "garrison", 0.4), ("morale", "advance", 0.3)]


def test_spearman_to_pearson():
    assert spearman_to_pearson(0.0) == 0.0
    assert spearman_to_pearson(1.0) == 1.0 and spearman_to_pearson(-1.0) == -1.0
    assert spearman_to_pearson(0.5) == pytest.approx(2 * math.sin(math.pi / 12))
    rho = np.linspace(-0.99, 0.99, 11)
    # inverse relation for the bivariate normal: rho_s = 6/pi * arcsin(r/2)
    np.testing.assert_allclose(6 / np.pi * np.arcsin(spearman_to_pearson(rho) / 2), rho, atol=1e-15)


def test_correlation_matrix_builds_symmetric_matrix():
    r = correlation_matrix(NAMES, PAIRS, "correlations")
    expected = np.eye(4)
    expected[0, 1] = expected[1, 0] = -0.6
    expected[0, 2] = expected[2, 0] = 0.4
    expected[1, 3] = expected[3, 1] = 0.3
    np.testing.assert_array_equal(r, expected)
    np.testing.assert_array_equal(correlation_matrix(NAMES, [], "correlations"), np.eye(4))


@pytest.mark.parametrize(
    ("pairs", "path", "match"),
    [
        ([("garrison", "advance", 0.2), ("garrison", "nobody", 0.1)], "correlations[1]", "unknown"),
        ([("losses", "losses", 0.5)], "correlations[0]", "itself"),
        (
            [("garrison", "advance", 0.2), ("advance", "garrison", 0.3)],
            "correlations[1]",
            "duplicate",
        ),
        (
            [("garrison", "advance", 0.2), ("garrison", "advance", 0.2)],
            "correlations[1]",
            "duplicate",
        ),
        ([("garrison", "advance", 1.0)], "correlations[0]", "-1 < rho < 1"),
        ([("garrison", "advance", -1.5)], "correlations[0]", "-1 < rho < 1"),
        ([("garrison", "advance", math.nan)], "correlations[0]", "finite number"),
        ([("garrison", "advance", True)], "correlations[0]", "finite number"),
        ([("garrison", "advance", "0.5")], "correlations[0]", "finite number"),
        ([("garrison", "advance")], "correlations[0]", "expected"),
        (["garrison"], "correlations[0]", "expected"),
        ([(3, "advance", 0.5)], "correlations[0]", "unknown"),
        (
            [
                ("garrison", "advance", 0.9),
                ("advance", "losses", 0.9),
                ("garrison", "losses", -0.9),
            ],
            "correlations",
            "not positive definite.*weaken",
        ),
    ],
)
def test_correlation_matrix_errors(pairs, path, match):
    with pytest.raises(SpecError, match=match) as err:
        correlation_matrix(NAMES, pairs, "correlations")
    assert err.value.path == path


def test_sample_shape_fixed_columns_and_determinism():
    dists = [*DISTS, parse_distribution(7.5, "parameters.fixed")]
    r = np.eye(5)
    r[:4, :4] = correlation_matrix(NAMES, PAIRS, "correlations")
    a = sample(dists, 1000, np.random.default_rng(3), r)
    b = sample(dists, 1000, np.random.default_rng(3), r)
    assert a.shape == (1000, 5) and a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:, 4], 7.5)
    assert not np.array_equal(a, sample(dists, 1000, np.random.default_rng(4), r))
    assert sample(dists, 0, np.random.default_rng(3)).shape == (0, 5)
    assert sample([], 10, np.random.default_rng(3)).shape == (10, 0)


def test_identity_correlation_equals_none_and_stream_is_documented():
    rng_a, rng_b, rng_c = (np.random.default_rng(11) for _ in range(3))
    a = sample(DISTS, 500, rng_a)
    b = sample(DISTS, 500, rng_b, np.eye(4))
    np.testing.assert_array_equal(a, b)
    # stream: exactly rng.standard_normal((n, p)), column j mapped by dist j
    z = rng_c.standard_normal((500, 4))
    for j, d in enumerate(DISTS):
        np.testing.assert_array_equal(a[:, j], d.from_normal_scores(z[:, j]))
    # all three generators are left in the same state
    assert rng_a.random() == rng_b.random() == rng_c.random()


def test_chunking_does_not_change_results(monkeypatch):
    r = correlation_matrix(NAMES, PAIRS, "correlations")
    whole = sample(DISTS, 1001, np.random.default_rng(8), r)
    monkeypatch.setattr(copula, "_CHUNK_ELEMENTS", 37)
    chunked = sample(DISTS, 1001, np.random.default_rng(8), r)
    np.testing.assert_allclose(chunked, whole, rtol=1e-14, atol=0)


def test_rank_correlation_and_marginals_are_reproduced():
    n = 200_000
    r = correlation_matrix(NAMES, PAIRS, "correlations")
    x = sample(DISTS, n, np.random.default_rng(2024), r)
    rho_hat = stats.spearmanr(x).statistic
    # SE of the Spearman coefficient is about (1 - rho^2) / sqrt(n) <= 1/sqrt(n); allow 5 SE
    np.testing.assert_allclose(rho_hat, r, atol=5.0 / math.sqrt(n))
    probs = np.array([0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
    for j, d in enumerate(DISTS):
        # empirical cdf at the true quantiles; binomial SE sqrt(p(1-p)/n) <= 0.0011
        emp = np.mean(x[:, j][:, None] <= d.ppf(probs)[None, :], axis=0)
        np.testing.assert_allclose(emp, probs, atol=5.0 * 0.5 / math.sqrt(n))
        assert stats.kstest(x[:20_000, j], d.cdf).pvalue > 1e-3
        lo, hi = d.support
        assert np.all((x[:, j] > lo) & (x[:, j] < hi))


def test_non_positive_definite_refused_by_sample():
    bad = np.array([[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]])
    with pytest.raises(SpecError, match="not positive definite"):
        sample(DISTS[:3], 10, np.random.default_rng(0), bad)


@pytest.mark.parametrize(
    "matrix",
    [
        np.eye(3),
        np.full((4, 4), 0.5),
        np.array([[1, 0.2, 0, 0], [0.3, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]),
    ],
)
def test_sample_rejects_malformed_matrix(matrix):
    with pytest.raises(ValueError, match="rank_corr"):
        sample(DISTS, 10, np.random.default_rng(0), matrix)


def test_sample_argument_checks():
    with pytest.raises(TypeError):
        sample(DISTS, 10, np.random.RandomState(0))  # noqa: NPY002 - testing the refusal
    with pytest.raises(TypeError):
        sample([{"dist": "normal"}], 10, np.random.default_rng(0))  # type: ignore[list-item]
    with pytest.raises(ValueError, match="non-negative integer"):
        sample(DISTS, -1, np.random.default_rng(0))


def test_sampling_does_not_touch_global_numpy_state():
    state = np.random.get_state()  # noqa: NPY002 - checking it is untouched
    sample(DISTS, 100, np.random.default_rng(0), correlation_matrix(NAMES, PAIRS, "c"))
    after = np.random.get_state()  # noqa: NPY002
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-0.95, 0.95), min_size=3, max_size=3), st.integers(0, 2**32 - 1))
def test_property_valid_matrices_sample_within_support(rhos, seed):
    names = ["a", "b", "c"]
    pairs = list(zip(["a", "a", "b"], ["b", "c", "c"], rhos, strict=True))
    try:
        r = correlation_matrix(names, pairs, "correlations")
    except SpecError as err:
        assert err.path == "correlations"
        assert np.linalg.eigvalsh(spearman_to_pearson(_matrix(rhos)))[0] < 1e-6 or (
            np.linalg.eigvalsh(_matrix(rhos))[0] < 1e-6
        )
        return
    x = sample(DISTS[1:], 300, np.random.default_rng(seed), r)
    for j, d in enumerate(DISTS[1:]):
        lo, hi = d.support
        assert np.all((x[:, j] >= lo) & (x[:, j] <= hi))


def _matrix(rhos):
    m = np.eye(3)
    m[0, 1] = m[1, 0] = rhos[0]
    m[0, 2] = m[2, 0] = rhos[1]
    m[1, 2] = m[2, 1] = rhos[2]
    return m


# --------------------------------------------------------------------------- a spec's copula:
# Pearson matrix, normal scores, conditioning (kursk_da.spec.copula)

R12, R13, R23 = 0.5, 0.3, -0.2
R3 = np.array([[1.0, R12, R13], [R12, 1.0, R23], [R13, R23, 1.0]])


class _Spec:
    """Duck-typed stand-in for Spec: the attributes the copula functions read."""

    def __init__(self, dists, names, pairs=()):
        self.input_names = tuple(names)
        self.inputs = {n: SimpleNamespace(dist=d) for n, d in zip(names, dists, strict=True)}
        self.correlations = tuple(SimpleNamespace(a=a, b=b, rank_corr=r) for a, b, r in pairs)


SCORE_DISTS = [
    parse_distribution({"dist": "normal", "mean": 3.0, "sd": 2.0}, "parameters.n"),
    parse_distribution({"dist": "lognormal", "median": 50.0, "sigma": 0.4}, "parameters.ln"),
    *DISTS,
    parse_distribution(7.5, "parameters.fixed"),
]
SCORE_NAMES = ["n", "ln", *NAMES, "fixed"]
SPEC = _Spec(SCORE_DISTS, SCORE_NAMES, PAIRS)


def test_pearson_correlation_of_a_spec():
    r = copula.pearson_correlation(SPEC)
    expected = np.eye(7)
    for a, b, rho in PAIRS:
        i, j = SCORE_NAMES.index(a), SCORE_NAMES.index(b)
        expected[i, j] = expected[j, i] = 2 * math.sin(math.pi * rho / 6)
    np.testing.assert_allclose(r, expected, rtol=1e-15, atol=0)
    sub = ["morale", "n", "advance"]
    idx = [SCORE_NAMES.index(n) for n in sub]
    np.testing.assert_array_equal(copula.pearson_correlation(SPEC, sub), r[np.ix_(idx, idx)])
    np.testing.assert_array_equal(copula.pearson_correlation(_Spec(DISTS, NAMES)), np.eye(4))
    assert copula.rank_correlation(_Spec(DISTS, NAMES)) is None


def test_spec_pearson_matrix_is_the_one_the_2025_spec_states(spec_2025):
    r = copula.pearson_correlation(spec_2025)
    names = list(spec_2025.input_names)
    expected = np.eye(len(names))
    for c in spec_2025.correlations:
        i, j = names.index(c.a), names.index(c.b)
        expected[i, j] = expected[j, i] = 2 * math.sin(math.pi * c.rank_corr / 6)
    np.testing.assert_allclose(r, expected, rtol=1e-15, atol=0)


def test_normal_scores_closed_forms_match_scipy():
    x = np.array([[-1.0, 10.0], [3.0, 50.0], [6.5, 130.0]])
    z = copula.normal_scores(SPEC, x, ["n", "ln"])
    # independent reference: Phi^-1 of scipy's cdf
    ref = np.column_stack([stats.norm.ppf(stats.norm.cdf(x[:, 0], 3.0, 2.0)),
                           stats.norm.ppf(stats.lognorm.cdf(x[:, 1], 0.4, scale=50.0))])
    np.testing.assert_allclose(z, ref, rtol=1e-12, atol=1e-12)
    # the closed forms are exact where the cdf round trip is not: far in the tails
    assert copula.normal_scores(SPEC, np.array([3.0 - 2.0 * 12.0]), "n")[0] == -12.0
    assert copula.normal_scores(SPEC, np.array([50.0 * math.exp(0.4 * 10.0)]), "ln")[0] == (
        pytest.approx(10.0, rel=1e-15))
    assert copula.normal_scores(SPEC, np.array([7.5, 99.0]), "fixed").tolist() == [0.0, 0.0]


def test_normal_scores_generic_kinds_match_scipy_ppf_of_cdf():
    probs = np.array([0.001, 0.05, 0.3, 0.5, 0.8, 0.999])
    x = np.column_stack([d.ppf(probs) for d in DISTS])
    np.testing.assert_allclose(copula.normal_scores(SPEC, x, NAMES),
                               np.repeat(stats.norm.ppf(probs)[:, None], 4, axis=1),
                               rtol=1e-8, atol=1e-8)


def test_normal_scores_invert_the_quantile_map():
    z = np.linspace(-6.0, 6.0, 241)
    zz = np.repeat(z[:, None], len(SCORE_NAMES), axis=1)
    x = copula.from_normal_scores(SPEC, zz)
    for j, d in enumerate(SCORE_DISTS):
        if d.is_fixed:
            np.testing.assert_array_equal(x[:, j], 7.5)
        else:  # independent reference: the marginal's own quantile function
            np.testing.assert_allclose(x[:, j], d.ppf(stats.norm.cdf(z)), rtol=1e-8, atol=1e-12)
    back = copula.normal_scores(SPEC, x)
    np.testing.assert_allclose(back[:, :-1], zz[:, :-1], rtol=0, atol=1e-6)
    np.testing.assert_allclose(back[:, :2], zz[:, :2], rtol=1e-14, atol=1e-14)
    one = copula.from_normal_scores(SPEC, z, "ln")
    assert one.shape == z.shape
    np.testing.assert_allclose(one, 50.0 * np.exp(0.4 * z), rtol=1e-15)
    with pytest.raises(ValueError, match="shape"):
        copula.normal_scores(SPEC, x[:, :3], ["n", "ln"])


def test_conditional_normal_matches_the_textbook_formulas():
    # one variable given two: regression on (z2, z3) and the partial variance
    b, cov = copula.conditional_normal(R3, [0], [1, 2])
    d = 1.0 - R23**2
    np.testing.assert_allclose(b, [[(R12 - R13 * R23) / d, (R13 - R12 * R23) / d]], rtol=1e-14)
    var = 1.0 - (R12**2 + R13**2 - 2 * R12 * R13 * R23) / d
    np.testing.assert_allclose(cov, [[var]], rtol=1e-14)
    # two variables given one: mean (r12, r13) z1, covariance R_OO - r r'
    b, cov = copula.conditional_normal(R3, [1, 2], [0])
    np.testing.assert_allclose(b, [[R12], [R13]], rtol=1e-15)
    np.testing.assert_allclose(cov, [[1 - R12**2, R23 - R12 * R13], [R23 - R12 * R13, 1 - R13**2]],
                               rtol=1e-14)
    # uncorrelated with the given set: zero regression, unconditional covariance
    r = np.eye(3)
    r[1, 2] = r[2, 1] = 0.4
    b, cov = copula.conditional_normal(r, [1, 2], [0])
    assert np.all(b == 0.0) and b.shape == (2, 1)
    np.testing.assert_array_equal(cov, r[1:, 1:])


def _partial_spearman(a):
    """Rank correlation of (z2, z3) given z1 = a: the bivariate normal with the partial
    correlation (textbook), rho_s = 6/pi arcsin(rho_p / 2); independent of ``a``."""
    rho_p = (R23 - R12 * R13) / math.sqrt((1 - R12**2) * (1 - R13**2))
    return 6 / math.pi * math.asin(rho_p / 2)


@pytest.mark.parametrize("method", ["fresh", "matheron"])
def test_conditional_draws_reproduce_conditional_mean_cov_and_rank_correlation(method):
    n, a = 200_000, 1.3
    rng = np.random.default_rng(17)
    if method == "fresh":
        z_o = copula.sample_conditional_scores(R3, [1, 2], [0], np.full((n, 1), a), rng)
    else:
        z = rng.standard_normal((n, 3)) @ np.linalg.cholesky(R3).T
        zc = copula.condition_scores(z, R3, [0], np.array([a]))
        assert np.all(zc[:, 0] == a)
        z_o = zc[:, 1:]
    mean = np.array([R12, R13]) * a  # textbook conditional mean
    sd = np.sqrt([1 - R12**2, 1 - R13**2])
    # standard error of a mean: sd / sqrt(n); allow 5 SE
    assert np.all(np.abs(z_o.mean(axis=0) - mean) <= 5 * sd / math.sqrt(n))
    # sample covariance entry (i, j) has SE sqrt((s_ii s_jj + s_ij^2) / n)
    cov = np.array([[1 - R12**2, R23 - R12 * R13], [R23 - R12 * R13, 1 - R13**2]])
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(np.cov(z_o, rowvar=False) - cov) <= 5 * se)
    # Spearman coefficient: SE <= 1/sqrt(n)
    rho_s = stats.spearmanr(z_o[:, 0], z_o[:, 1]).statistic
    assert rho_s == pytest.approx(_partial_spearman(a), abs=5 / math.sqrt(n))


def test_sample_conditional_mean_on_the_input_scale_lognormal():
    """x_ln | x_n: ln is lognormal, so E[x | z_n = a] = median exp(sigma B a + sigma^2 v / 2)."""
    r_s = 0.6
    spec = _Spec(SCORE_DISTS[:2], ["n", "ln"], [("n", "ln", r_s)])
    r = 2 * math.sin(math.pi * r_s / 6)
    n, a = 200_000, -0.8
    x_given = np.full((n, 1), 3.0 + 2.0 * a)  # score a of the normal input
    rng = np.random.default_rng(5)
    x = copula.sample_conditional(spec, ["n"], x_given, ["ln"], rng)[:, 0]
    want = 50.0 * math.exp(0.4 * r * a + 0.4**2 * (1 - r**2) / 2)
    assert x.mean() == pytest.approx(want, abs=5 * x.std() / math.sqrt(n))
    # the stream: exactly rng.standard_normal((n, 1)) was drawn
    assert rng.random() == _after(5, (n, 1))


def _after(seed, shape):
    g = np.random.default_rng(seed)
    g.standard_normal(shape)
    return g.random()


def test_sample_conditional_without_a_link_is_the_prior():
    """Unlinked target: the conditioning values do not matter; an independent prior draw."""
    rng_a, rng_b = np.random.default_rng(9), np.random.default_rng(9)
    given = np.linspace(-3.0, 9.0, 500)[:, None]
    x = copula.sample_conditional(SPEC, ["n"], given, ["ln", "losses"], rng_a)
    y = copula.sample_conditional(SPEC, ["n"], given[::-1], ["ln", "losses"], rng_b)
    np.testing.assert_array_equal(x, y)


def test_posterior_propagation_draws_the_copula_conditional(spec_2025):
    """posterior_input_matrix draws the other inputs from the copula's conditional: with
    ru_loss_attack given at its 95 % quantile, ua_loss_defend (rank corr 0.3, Pearson r)
    has the lognormal conditional mean median exp(sigma r a + sigma^2 (1 - r^2) / 2)."""
    from kursk_da.calibration._propagate import posterior_input_matrix

    d_s = spec_2025.inputs["ru_loss_attack"].dist
    d_o = spec_2025.inputs["ua_loss_defend"].dist
    q = float(d_s.ppf(np.array([0.95]))[0])
    n = 100_000
    x = posterior_input_matrix(spec_2025, np.full((n, 1), q), ["ru_loss_attack"], seed=3)
    col = x[:, spec_2025.input_names.index("ua_loss_defend")]
    r, a, s = 2 * math.sin(math.pi * 0.3 / 6), stats.norm.ppf(0.95), d_o.params["sigma"]
    want = d_o.params["median"] * math.exp(s * r * a + s**2 * (1 - r**2) / 2)
    assert col.mean() == pytest.approx(want, abs=5 * col.std() / math.sqrt(n))


def _corr_from(vectors):
    v = np.asarray(vectors, dtype=float)
    c = v @ v.T + 0.2 * np.eye(v.shape[0])
    d = np.sqrt(np.diag(c))
    c = c / np.outer(d, d)
    np.fill_diagonal(c, 1.0)
    return c


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 4).flatmap(lambda p: st.lists(
    st.lists(st.floats(-1.0, 1.0), min_size=p, max_size=p), min_size=p, max_size=p)),
    st.integers(0, 2**32 - 1))
def test_property_conditioning_on_nothing_is_the_unconditional_law(vectors, seed):
    corr = _corr_from(vectors)
    p = corr.shape[0]
    b, cov = copula.conditional_normal(corr, range(p), [])
    assert b.shape == (p, 0)
    np.testing.assert_array_equal(cov, corr)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((50, p))
    np.testing.assert_array_equal(copula.condition_scores(z, corr, [], np.zeros(0)), z)
    n = 20_000
    draws = copula.sample_conditional_scores(corr, range(p), [], np.zeros((n, 0)), rng)
    # unit variances and correlation corr: SE of a sample covariance sqrt((1 + r^2) / n)
    se = np.sqrt((1.0 + corr**2) / n)
    assert np.all(np.abs(np.cov(draws, rowvar=False) - corr) <= 5 * se + 1e-12)
    assert np.all(np.abs(draws.mean(axis=0)) <= 5 / math.sqrt(n))


def test_sample_conditional_on_nothing_has_the_spec_rank_correlations():
    n = 100_000
    x = copula.sample_conditional(SPEC, [], np.zeros((n, 0)), NAMES, np.random.default_rng(4))
    rank = correlation_matrix(NAMES, PAIRS, "correlations")
    np.testing.assert_allclose(stats.spearmanr(x).statistic, rank, atol=5 / math.sqrt(n))
