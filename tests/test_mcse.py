"""Monte Carlo standard errors that respect the sampling design (issue 10, item 1).

* Independent draws: every MCSE is ``sd / sqrt(n)`` of its influence values, and the
  existing ``expected_value_mcse`` / ``evpi_mcse`` are unchanged bit for bit.
* Autocorrelated chains with replicate rows (synthetic AR(1) posterior): the reported
  MCSE of every metric matches the spread of the metric over independent replicate
  data sets, and the expected value's matches the closed-form variance of the mean;
  the naive ``sd / sqrt(n_rows)`` does not.
* A prior analysis of the default spec: the MCSEs match the spread over seeds.

Tolerances: the spread over ``R`` replicates is a sample standard deviation, whose
relative standard error is ``1 / sqrt(2 (R - 1))``; the test allows 4 of those plus the
(smaller) noise of the averaged reported MCSE.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import kursk_da as kd
from kursk_da.decision import _metrics as metrics
from kursk_da.decision._summary import decision_summary
from kursk_da.dynamics.catalogue import TRAJECTORIES
from kursk_da.engine._run import run_engine

SPEC = Path(__file__).resolve().parents[1] / "models" / "kursk_2025.toml"
METRICS = ("expected_value", "value_difference", "prob_best", "expected_regret", "cvar",
           "evpi")
OPTIONS = ["a", "b", "c"]


def _rel_tol(n_rep: int) -> float:
    return 4.0 / np.sqrt(2 * (n_rep - 1)) + 0.05


def test_independent_draws_give_the_old_formulas_bit_for_bit():
    v = np.random.default_rng(3).normal(size=(500, 3)) * [1.0, 2.0, 3.0]
    se = metrics.mcse_all(v, 0.1)
    _, ev_se = metrics.expected_value(v)
    np.testing.assert_array_equal(se["expected_value"], ev_se)
    assert float(se["evpi"]) == metrics.evpi_se_core(v)
    ds = decision_summary(v, OPTIONS, 0.1)
    np.testing.assert_array_equal(ds["expected_value_mcse"], ev_se)
    assert float(ds["evpi_mcse"]) == metrics.evpi_se_core(v)
    p = ds["prob_best"].values
    np.testing.assert_allclose(ds["prob_best_mcse"], np.sqrt(p * (1 - p) * 500 / 499 / 500))
    for name in ("value_difference", "prob_best", "expected_regret", "cvar"):
        assert ds[f"{name}_mcse"].attrs["units"] == ("1" if name == "prob_best" else "dkm2")
    assert ds.attrs["mcse_design"].startswith("independent")


def test_design_arguments_are_checked():
    v = np.zeros((12, 3))
    with pytest.raises(ValueError, match="chains, per_draw"):
        decision_summary(v, OPTIONS, chains=(2, 3), per_draw=3)
    with pytest.raises(ValueError, match="per_draw"):
        decision_summary(v, OPTIONS, per_draw=2)
    ds = decision_summary(v, OPTIONS, chains=(2, 3), per_draw=2)  # constant: MCSE 0
    assert float(ds["evpi_mcse"]) == 0.0 and np.all(ds["prob_best_mcse"].values == 0)


PHI, N_CHAIN, N_DRAW, PER_DRAW = 0.8, 4, 500, 3
A, B, C = np.array([0.0, 0.5, -0.3]), np.array([1.0, 0.5, 1.5]), np.array([1.0, 1.0, 0.5])


def _ar1_values(rng: np.random.Generator) -> np.ndarray:
    """Rows chain-major, PER_DRAW replicate rows per draw; option j = A + B x + C e."""
    x = np.empty((N_CHAIN, N_DRAW))
    x[:, 0] = rng.normal(size=N_CHAIN)  # stationary start (unit marginal variance)
    innov = rng.normal(scale=np.sqrt(1 - PHI**2), size=(N_CHAIN, N_DRAW))
    for t in range(1, N_DRAW):
        x[:, t] = PHI * x[:, t - 1] + innov[:, t]
    e = rng.normal(size=(N_CHAIN, N_DRAW, PER_DRAW, 3))
    v = A + B * x[:, :, None, None] + C * e
    return v.reshape(-1, 3)


def _estimates(ds) -> dict[str, np.ndarray]:
    return {m: np.atleast_1d(ds[m].values) for m in METRICS}


def test_ar1_chains_mcse_matches_replicate_spread_and_closed_form():
    rng = np.random.default_rng(20240806)
    n_rep = 150
    est: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    rep: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    naive = []
    for _ in range(n_rep):
        v = _ar1_values(rng)
        ds = decision_summary(v, OPTIONS, 0.1, chains=(N_CHAIN, N_DRAW), per_draw=PER_DRAW)
        for m in METRICS:
            est[m].append(_estimates(ds)[m])
            rep[m].append(np.atleast_1d(ds[f"{m}_mcse"].values))
        naive.append(v.std(axis=0, ddof=1) / np.sqrt(v.shape[0]))
    assert len({int(np.argmax(e)) for e in est["expected_value"]}) == 1  # a clear leader
    tol = _rel_tol(n_rep)
    for m in METRICS:
        spread = np.std(est[m], axis=0, ddof=1)
        reported = np.sqrt(np.mean(np.square(rep[m]), axis=0))
        keep = spread > 0
        np.testing.assert_allclose(reported[keep], spread[keep], rtol=tol, err_msg=m)
    # closed form: Var(mean) = [B^2 (1 + phi) / (1 - phi) + C^2 / per_draw] / (chains draws)
    exact = np.sqrt((B**2 * (1 + PHI) / (1 - PHI) + C**2 / PER_DRAW) / (N_CHAIN * N_DRAW))
    reported = np.sqrt(np.mean(np.square(rep["expected_value"]), axis=0))
    np.testing.assert_allclose(reported, exact, rtol=0.1)
    np.testing.assert_allclose(np.std(est["expected_value"], axis=0, ddof=1), exact, rtol=tol)
    # the naive sd / sqrt(rows) is far too small: the test can tell them apart
    assert np.all(np.mean(naive, axis=0) < (1 - tol) * exact)


@pytest.fixture(scope="module")
def prior_runs():
    spec = kd.load_spec(SPEC)
    runs = []
    for seed in range(80):
        out = run_engine(spec, 2000, 1000 + seed)
        runs.append(decision_summary(out.values, spec.option_names, spec.cvar_alpha))
    return runs


def test_prior_analysis_mcse_matches_spread_over_seeds(prior_runs):
    n_rep = len(prior_runs)
    tol = _rel_tol(n_rep)
    # the leader must be the same in every run for value_difference and the EVPI's j*
    leaders = {int(np.argmax(ds["expected_value"].values)) for ds in prior_runs}
    assert len(leaders) == 1
    for m in METRICS:
        est = np.array([np.atleast_1d(ds[m].values) for ds in prior_runs])
        se = np.array([np.atleast_1d(ds[f"{m}_mcse"].values) for ds in prior_runs])
        spread = est.std(axis=0, ddof=1)
        reported = np.sqrt(np.mean(se**2, axis=0))
        keep = spread > 0
        if m == "prob_best":
            p = est.mean(axis=0)
            keep &= (p > 0.02) & (p < 0.98)
        assert keep.any(), m
        np.testing.assert_allclose(reported[keep], spread[keep], rtol=tol, err_msg=m)


def test_engine_records_chosen_trajectory_rows_and_changes_nothing_else():
    """Issue 10, item 2: ``trajectory_rows`` records the chosen rows' trajectories."""
    spec = kd.load_spec(SPEC)
    a = run_engine(spec, 1500, 5, chunk_size=500)
    rows = np.array([1499, 0, 7, 600, 1001])  # any order, one row alone in its chunk
    b = run_engine(spec, 1500, 5, chunk_size=500, trajectory_rows=rows)
    for name in ("inputs", "attributes", "values", "retained_count", "area_sum"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.trajectory_rows is None
    np.testing.assert_array_equal(b.trajectory_rows, rows)
    np.testing.assert_array_equal(b.trajectories[[1, 2]], a.trajectories[[0, 7]])
    # the final area of every stored trajectory is that row's kursk_area_final attribute
    k_area = [q.name for q in TRAJECTORIES].index("area_held")
    np.testing.assert_array_equal(b.trajectories[:, :, -1, k_area], b.attributes[rows, :, 1])
    for bad in (np.array([0, 0]), np.array([1500]), np.array([0.5])):
        with pytest.raises(ValueError, match="trajectory_rows"):
            run_engine(spec, 1500, 5, chunk_size=500, trajectory_rows=bad)
