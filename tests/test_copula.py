"""Tests of kursk_da.spec.copula: correlation matrices and Gaussian copula sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from kursk_da.errors import SpecError
from kursk_da.spec import copula
from kursk_da.spec.copula import correlation_matrix, sample, spearman_to_pearson
from kursk_da.spec.distributions import parse_distribution

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
