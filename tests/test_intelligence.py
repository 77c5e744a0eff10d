"""EVSI of intelligence on model outputs: two methods against the normal-normal closed form,
monotone in the number of reports, tending to the EVPPI; the campaign curve, ENBS, CLI, plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from kursk_da.errors import ArgumentError
from kursk_da.voi._evsi_outputs import evsi_curve_core, evsi_intelligence

MODELS = Path(__file__).resolve().parents[1] / "models"


def _closed_form(mu: float, sd0: float, sigma: float, n: np.ndarray) -> np.ndarray:
    """EVSI of n normal reports (sd sigma) of theta ~ N(mu, sd0^2), values [0, theta]."""
    s = np.sqrt(sd0**4 / (sd0**2 + sigma**2 / n))
    return s * stats.norm.pdf(mu / s) + mu * stats.norm.cdf(mu / s) - max(mu, 0.0)


def test_two_methods_match_the_normal_normal_closed_form():
    rng = np.random.default_rng(5)
    n_draws, mu, sd0, sigma = 40_000, 0.3, 1.0, 1.5
    theta = mu + sd0 * rng.standard_normal(n_draws)
    values = np.column_stack([np.zeros(n_draws), theta])
    ns = np.array([1, 2, 4, 8, 16, 64, 1000])
    core = evsi_curve_core(values, theta, sigma, ns, rng=rng)
    exact = _closed_form(mu, sd0, sigma, ns)
    np.testing.assert_allclose(core["evsi_moment_matching"], exact, atol=0.006)
    np.testing.assert_allclose(core["evsi_regression"], exact, atol=0.012)
    # increasing in the number of reports, tending to the EVPPI of theta
    assert np.all(np.diff(core["evsi_regression"]) > -0.004)
    assert np.all(np.diff(core["evsi_moment_matching"]) >= -1e-12)
    evppi_exact = _closed_form(mu, sd0, 0.0, np.array([1]))[0]
    assert float(core["evppi"]) == pytest.approx(evppi_exact, abs=0.01)
    assert abs(core["evsi_regression"][-1] - float(core["evppi"])) < 0.01
    assert np.all(core["evsi_regression"] <= float(core["evppi"]) + 3 * core["evsi_regression_se"])


@pytest.fixture(scope="module")
def intel():
    return evsi_intelligence(MODELS / "kursk_2025.toml", "ru_force", reports=(1, 4, 16, 64),
                             draws=1500, seed=3)


def test_campaign_intelligence_curve(intel):
    ds = intel
    assert "ru_force on 2025-02-01 under hold" in ds.attrs["question"]
    assert np.all(np.isfinite(ds["evsi_regression"]))
    np.testing.assert_allclose(ds["enbs"].values, ds["evsi_regression"].values
                               - float(ds["cost_per_report"]) * ds["reports"].values)
    assert float(ds["evppi"]) <= float(ds["evpi"]) + 1e-9
    # moment matching is monotone and bounded by the EVPPI's fit
    mm = ds["evsi_moment_matching"].values
    assert np.all(np.diff(mm) >= -1e-12) and mm[-1] <= float(ds["evppi"]) + 1e-9
    assert int(ds["optimal_reports"]) in (0, *ds["reports"].values.tolist())
    from _schema_docs import documented

    assert set(ds.data_vars) <= documented("/intelligence")
    assert all("units" in ds[v].attrs for v in ds.data_vars)


def test_several_inputs_and_bad_arguments():
    ds = evsi_intelligence(MODELS / "kursk_2025.toml", inputs_measured=["nk_troops",
                           "ru_reinforcement_ceiling"], reports=(1, 10), draws=500, seed=1)
    assert ds.attrs["measured"] == "nk_troops,ru_reinforcement_ceiling"
    assert np.all(np.isnan(ds["evsi_moment_matching"]))
    with pytest.raises(ArgumentError, match="quantity"):
        evsi_intelligence(MODELS / "kursk_2025.toml", "morale", draws=50)
    with pytest.raises(ArgumentError, match="inputs_measured.nope"):
        evsi_intelligence(MODELS / "kursk_2025.toml", inputs_measured=["nope"], draws=50)
    with pytest.raises(ArgumentError, match=r"reports\[0\]"):
        evsi_intelligence(MODELS / "kursk_2025.toml", reports=(0,), draws=50)


def test_plot_and_cli(intel, tmp_path, capsys):
    from kursk_da.cli import main
    from kursk_da.plots import plot_intelligence

    fig = plot_intelligence(intel)
    assert "reports" in fig.axes[0].get_xlabel()
    out = tmp_path / "i.nc"
    status = main(["intelligence", str(MODELS / "kursk_2025.toml"), "--quantity", "ru_force",
                   "--date", "2025-02-01", "--reports", "1,5", "--draws", "300", "--out",
                   str(out)])
    text = capsys.readouterr().out
    assert status == 0, text
    assert "ENBS" in text
    assert "intelligence" in xr.open_datatree(out).children


def test_given_inputs_set_the_number_of_draws():
    # a result set's input matrix (e.g. 4,000 posterior rows) with a different ``draws``:
    # the engine runs every given row, and the measured state is read for every one of them
    from kursk_da.engine import run_engine

    inputs = run_engine(MODELS / "kursk_2025.toml", 90, 3).inputs
    ds = evsi_intelligence(MODELS / "kursk_2025.toml", draws=40, seed=1, inputs=inputs,
                           reports=[1, 4])
    direct = evsi_intelligence(MODELS / "kursk_2025.toml", draws=90, seed=1, inputs=inputs,
                               reports=[1, 4])
    xr.testing.assert_identical(ds, direct)  # ``draws`` is ignored when inputs are given
