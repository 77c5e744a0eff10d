"""Value of waiting: closed-form toy, the bounds, the campaign curve, the CLI and the plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from kursk_da.errors import ArgumentError
from kursk_da.spec import load_spec
from kursk_da.stats import evpi_core
from kursk_da.voi._waiting import shifted_option, value_of_waiting, value_of_waiting_core

MODELS = Path(__file__).resolve().parents[1] / "models"
SPEC = load_spec(MODELS / "kursk_2025.toml")


def test_toy_value_of_waiting_has_its_closed_form():
    """theta ~ N(0, 1); options worth 0 and theta. Waiting k days gives k reports of theta
    with sd s0 each (one datum of sd s0 / sqrt(k)) and costs c per day, so
    VoW(k) = phi(0) / sqrt(1 + s0^2 / k) - c k, and VoW <= EVPI = phi(0)."""
    rng = np.random.default_rng(1)
    n, s0, c = 40_000, 2.0, 0.004
    theta = rng.standard_normal(n)
    vals = np.column_stack([np.zeros(n), theta])
    ks = np.array([1, 2, 4, 8, 12, 16, 24, 36])
    obs = [theta + s0 / np.sqrt(k) * rng.standard_normal(n) for k in ks]
    core = value_of_waiting_core(vals, [vals] * ks.size, obs, cost=list(c * ks), rng=rng)
    exact = stats.norm.pdf(0) / np.sqrt(1 + s0**2 / ks) - c * ks
    np.testing.assert_allclose(core["value_of_waiting"], exact, atol=0.012)
    # the chosen waiting time is (nearly) the best: within MC error of the exact optimum
    assert exact.max() - exact[int(np.argmax(core["value_of_waiting"]))] < 0.01
    assert np.all(core["value_of_waiting"] <= evpi_core(vals) + 2 * core["value_of_waiting_se"])
    assert np.all(core["value_of_waiting"] <= core["perfect_information_bound"] + 1e-12)
    # no cost: the value of waiting increases with the number of reports
    free = value_of_waiting_core(vals, [vals] * ks.size, obs, rng=rng)["value_of_waiting"]
    assert np.all(np.diff(free) > -0.01)


def test_shifted_option_keeps_the_plan_k_days_late():
    raw = SPEC.raw["options"]["renewed_offensive"]
    late = shifted_option(raw, 10, SPEC.decision_day, SPEC.horizon_days)
    assert late["phases"][0]["posture"] == "defend"
    assert [p["after_days"] for p in late["phases"]] == [0, 10, 40]
    trig = shifted_option(SPEC.raw["options"]["hold_until_untenable"], 7, SPEC.decision_day,
                          SPEC.horizon_days)
    assert trig["phases"][-1]["trigger"]["earliest_days"] == 7
    assert shifted_option(raw, 0, SPEC.decision_day, SPEC.horizon_days)["phases"][0][
        "posture"] == "attack"


@pytest.fixture(scope="module")
def waiting():
    return value_of_waiting(SPEC, days=(0, 10, 30, 60), draws=1500, seed=2)


def test_campaign_waiting_curve_and_bounds(waiting):
    ds = waiting
    vow, se = ds["value_of_waiting"].values, ds["value_of_waiting_se"].values
    assert np.all(np.isfinite(vow)) and np.all(se > 0)
    # value of waiting <= value of waiting with perfect information (<= EVPI at k = 0)
    assert np.all(vow <= ds["perfect_information_bound"].values + 1e-9)
    assert float(ds["perfect_information_bound"][0]) == pytest.approx(float(ds["evpi"]))
    assert float(ds["value_of_waiting"][0]) <= float(ds["evpi"]) + 1e-9
    # k = 0 observes and decides now: no delay, so EVSI >= 0 and no delay cost
    assert float(ds["delay_cost"][0]) == pytest.approx(0.0, abs=1e-9)
    assert float(ds["information_value"][0]) >= 0
    assert ds.attrs["waiting_pays"] in ("yes", "no")
    from _schema_docs import documented

    assert set(ds.data_vars) <= documented("/waiting")
    assert all("units" in ds[v].attrs for v in ds.data_vars)


def test_waiting_plot(waiting):
    from kursk_da.plots import plot_waiting

    fig = plot_waiting(waiting)
    assert fig.axes[0].get_xlabel().startswith("days waited")


def test_bad_waiting_arguments():
    with pytest.raises(ArgumentError, match="observe.morale"):
        value_of_waiting(SPEC, draws=20, observe={"morale": 0.1})
    with pytest.raises(ArgumentError, match=r"days\[0\]"):
        value_of_waiting(SPEC, days=(999,), draws=20)
    with pytest.raises(ArgumentError, match="observe.area_held"):
        value_of_waiting(SPEC, draws=20, observe={"area_held": -0.1})


def test_cli_waiting(tmp_path, capsys):
    from kursk_da.cli import main

    out = tmp_path / "w.nc"
    status = main(["waiting", str(MODELS / "kursk_2025.toml"), "--days", "0,20", "--draws",
                   "300", "--seed", "1", "--observe", "area_held=0.1", "--out", str(out)])
    text = capsys.readouterr().out
    assert status == 0, text
    assert "value of waiting" in text
    assert "waiting" in xr.open_datatree(out).children
    status = main(["waiting", str(MODELS / "kursk_2025.toml"), "--observe", "morale=1"])
    assert status == 2
