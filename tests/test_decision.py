"""Decision metrics against hand-worked and closed-form values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from kursk_da.decision import _metrics as metrics
from kursk_da.decision._summary import decision_summary

HAND = np.array([[1.0, 3.0], [4.0, 2.0], [2.0, 2.0]])


def test_hand_worked_case():
    ds = decision_summary(HAND, ["a", "b"], cvar_alpha=0.5)
    np.testing.assert_allclose(ds["expected_value"], [7 / 3, 7 / 3])
    # row 0 -> b, row 1 -> a, row 2 tie -> first option (a)
    np.testing.assert_allclose(ds["prob_best"], [2 / 3, 1 / 3])
    # regrets: a = [2, 0, 0], b = [0, 2, 0]
    np.testing.assert_allclose(ds["expected_regret"], [2 / 3, 2 / 3])
    # EVPI = E[max] - max E = 3 - 7/3
    assert float(ds["evpi"]) == pytest.approx(2 / 3)
    # CVaR 50% of a: worst 1.5 draws of sorted [1, 2, 4] = (1 + 0.5 * 2) / 1.5
    assert float(ds["cvar"].sel(option="a")) == pytest.approx(4 / 3)
    np.testing.assert_allclose(ds["expected_value_mcse"], HAND.std(0, ddof=1) / np.sqrt(3))


def test_regret_identity():
    """Expected regret of the option with the highest EV equals the EVPI."""
    rng = np.random.default_rng(0)
    v = rng.normal(size=(5000, 3)) + [0.0, 0.1, -0.2]
    ds = decision_summary(v, ["x", "y", "z"])
    best = int(np.argmax(ds["expected_value"].values))
    assert float(ds["expected_regret"][best]) == pytest.approx(float(ds["evpi"]), rel=1e-12)


@pytest.mark.parametrize("mu,sigma", [(0.0, 1.0), (0.5, 2.0), (-1.0, 1.5)])
def test_evpi_normal_closed_form(mu, sigma):
    """Two options, v1 = 0 and v2 ~ N(mu, sigma^2): EVPI = E[max(0, X)] - max(0, mu)."""
    rng = np.random.default_rng(42)
    n = 200_000
    v = np.column_stack([np.zeros(n), rng.normal(mu, sigma, n)])
    truth = mu * stats.norm.cdf(mu / sigma) + sigma * stats.norm.pdf(mu / sigma) - max(0.0, mu)
    ds = decision_summary(v, ["zero", "normal"])
    assert abs(float(ds["evpi"]) - truth) < 4 * float(ds["evpi_mcse"]) + 1e-12


def test_cvar_normal_closed_form():
    """CVaR_alpha of N(0, 1) lower tail is -phi(z_alpha) / alpha."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((400_000, 1))
    alpha = 0.05
    truth = -stats.norm.pdf(stats.norm.ppf(alpha)) / alpha
    # tail-mean SE ~ sd(tail) / sqrt(alpha n), sd(tail) < 1
    assert metrics.cvar(x, alpha)[0] == pytest.approx(truth, abs=4 / np.sqrt(alpha * 400_000))


@pytest.mark.parametrize("bad,match", [
    (np.ones(3), "2-D"),
    (np.array([[1.0, np.nan]]), "finite"),
    (np.empty((0, 2)), "at least one"),
])
def test_values_validation(bad, match):
    with pytest.raises(ValueError, match=match):
        metrics.as_values_array(bad)


def test_runner_up_skips_an_option_of_the_same_value_in_every_draw():
    """A rule whose trigger fires at once copies another option: the sensitivity analyses
    compare the leader with the best option that differs from it, not with its copy."""
    rng = np.random.default_rng(4)
    v = rng.normal(size=(500, 4)) + [0.0, 2.0, 1.0, 0.0]
    v[:, 3] = v[:, 1]  # option 3 copies the leader
    assert metrics.leader_and_runner_up(v) == (1, 2)
    v[:, 0] = v[:, 2] - 0.5
    assert metrics.leader_and_runner_up(v) == (1, 2)
    same = np.repeat(v[:, :1], 3, axis=1)  # every option the same: the second by mean
    assert metrics.leader_and_runner_up(same) == (0, 1)
    assert metrics.leader_and_runner_up(v[:, [2, 1]]) == (1, 0)
    with pytest.raises(ValueError, match="at least two options"):
        metrics.leader_and_runner_up(v[:, :1])
