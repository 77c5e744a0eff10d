"""Rolling-origin hindcast (issue 11 item 5): cutoff, baselines, scores, group, CLI, dask.

The fast tests score synthetic forecasts (no sampling); the CLI round trip replaces the
per-origin calibration by a synthetic forecaster. The real calibrations (nutpie,
chains=2, draws=100, tune=100; each origin compiles its own model, ~100 s on the shared
2-core machine) are marked slow.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import scoringrules as sr
import xarray as xr
from _mc import ALPHA, sidak_z
from scipy import stats

from kursk_da.calibration import _hindcast as hc
from kursk_da.calibration._model import calibration_setup
from kursk_da.calibration._scoring import crps_ensemble, crps_normal
from kursk_da.cli import main
from kursk_da.dims import FORECAST, ORIGIN, QUANTITY
from kursk_da.errors import SpecError
from kursk_da.io import load_result_set, save_result_set
from kursk_da.io._hindcast import add_hindcast, hindcast_dataset
from kursk_da.spec._observations import Observation
from kursk_da.spec._schema import load_spec

SPEC = Path(__file__).resolve().parents[1] / "models" / "kursk_2025_evidence.toml"
D = dt.date
ORIGIN_DAY = D(2024, 9, 1)


def _obs(name: str, date: dt.date, value: float, quantity: str = "area_held",
         reported: dt.date | None = None, low: float | None = None,
         high: float | None = None) -> Observation:
    return Observation(name=name, date=date, quantity=quantity, value=value,
                       likelihood="claim", scale=0.1, source="test", claimant="test",
                       family="osint_maps", kind="control", reported_on=reported, low=low,
                       high=high)


@pytest.fixture(scope="module")
def spec():  # type: ignore[no-untyped-def]
    return load_spec(SPEC)


# ------------------------------------------------------------------ cutoff and origins
def test_cutoff_withholds_rows_reported_after_the_origin(spec) -> None:  # type: ignore[no-untyped-def]
    # AFP's 482 km2 of 30 December was reported on 31 December: at origin 30 December it is
    # forecast, not used; so is the retrospective peak of 21 August (reported 31 December)
    setup = calibration_setup(spec, cutoff=D(2024, 12, 30))
    used = {o.name for o in setup.used}
    withheld = {o.name for o in setup.withheld}
    assert "r10_area_held" in withheld and "r10_area_held" not in used
    assert "r03_area_held" in withheld and "r03_area_held" not in used
    assert all(o.date <= D(2024, 12, 30) and o.known_on <= D(2024, 12, 30) for o in setup.used)
    assert all(not (o.date <= D(2024, 12, 30) and o.known_on <= D(2024, 12, 30))
               for o in setup.withheld)
    assert len(used) + len(withheld) == len(spec.observations)


def test_check_origins(spec) -> None:  # type: ignore[no-untyped-def]
    assert hc.check_origins(spec, [D(2024, 11, 1), D(2024, 9, 1)]) == (D(2024, 9, 1),
                                                                       D(2024, 11, 1))
    for bad, field in (([D(2025, 1, 5)], "origins[0]"), ([D(2025, 2, 1)], "origins[0]"),
                       ([D(2024, 8, 1)], "origins[0]"), ([D(2024, 8, 7)], "origins[0]"),
                       ([D(2024, 9, 1), D(2024, 9, 1)], "origins"), ([], "origins"),
                       (["2024-09-01"], "origins[0]")):
        with pytest.raises(SpecError, match=rf"^{field.replace('[', '.').replace(']', '.')}"):
            hc.check_origins(spec, bad)


def test_origin_seed_is_positional() -> None:
    assert hc.origin_seed(3, 0) == hc.origin_seed(3, 0)
    assert len({hc.origin_seed(3, k) for k in range(4)} | {hc.origin_seed(4, 0)}) == 5
    ss = np.random.SeedSequence(3, spawn_key=(hc.HINDCAST_STREAM, 2))
    assert hc.origin_seed(3, 2) == int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


# ------------------------------------------------------------------ baselines
def test_baselines_against_hand_computed_values() -> None:
    known = (
        _obs("a", D(2024, 9, 1), 1000.0),
        _obs("b", D(2024, 9, 11), 900.0),
        _obs("c", D(2024, 9, 11), 700.0),            # same date: averaged with b -> 800
        _obs("d", D(2024, 9, 5), 5000.0, "ru_arrivals"),  # another quantity
        _obs("e", D(2024, 9, 20), 100.0, low=100.0),      # a bound: not a value
    )
    # last value 800 (11 Sep); trend through (1 Sep, 1000) and (11 Sep, 800): -20 km2/day
    pers, trend = hc.baseline_values(known, "area_held", D(2024, 10, 1))
    assert pers == 800.0
    assert trend == pytest.approx(800.0 - 20.0 * 20)
    # one date only: persistence, no trend
    pers, trend = hc.baseline_values(known, "ru_arrivals", D(2024, 10, 1))
    assert pers == 5000.0 and np.isnan(trend)
    # no value of the quantity: both NaN
    assert all(np.isnan(hc.baseline_values(known, "russian_forces", D(2024, 10, 1))))


# ------------------------------------------------------------------ CRPS
def test_crps_against_scoringrules_and_closed_form() -> None:
    rng = np.random.default_rng(1)
    draws = rng.normal(3.0, 2.0, size=(5, 400))
    y = np.array([-1.0, 0.5, 3.0, 4.2, 9.0])
    ours = crps_ensemble(draws, y)
    ref = sr.crps_ensemble(y, draws, estimator="nrg")  # the exact empirical CRPS
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    # against the closed form of the normal: MC error of an ensemble of 200000
    big = rng.normal(3.0, 2.0, size=200_000)
    for yi in y:
        assert float(crps_ensemble(big, yi)) == pytest.approx(float(crps_normal(3.0, 2.0, yi)),
                                                             abs=0.01)
    np.testing.assert_allclose(crps_normal(3.0, 2.0, y), sr.crps_normal(y, 3.0, 2.0),
                               rtol=1e-10)


def test_point_forecast_crps_is_the_absolute_error() -> None:
    assert float(crps_ensemble(np.array([5.0]), 8.5)) == 3.5


# ------------------------------------------------------------------ scores
def _forecast(forecast: tuple[Observation, ...], draws: np.ndarray,
              used: tuple[Observation, ...] = (), origin: dt.date = ORIGIN_DAY
              ) -> hc.OriginForecast:
    return hc.OriginForecast(origin, 0, used, forecast, draws, 0, 1.0)


def test_pit_and_coverage_of_a_calibrated_forecast_are_uniform_and_nominal() -> None:
    rng = np.random.default_rng(7)
    m, n = 2000, 400
    mu = rng.uniform(500.0, 1500.0, m)
    obs = tuple(_obs(f"o{i}", D(2024, 10, 1), float(mu[i] + 50.0 * rng.standard_normal()))
                for i in range(m))
    draws = mu[:, None] + 50.0 * rng.standard_normal((m, n))
    table = hc.score_forecasts(_forecast(obs, draws))
    # PIT uniform: Kolmogorov-Smirnov at ALPHA, and the 10 decile counts within their
    # binomial SE times the Sidak quantile of 10 comparisons (tests/_mc.py)
    assert stats.kstest(table["pit"], "uniform").pvalue > ALPHA
    counts = np.histogram(table["pit"], bins=10, range=(0, 1))[0]
    assert np.all(np.abs(counts - m / 10) < sidak_z(10) * np.sqrt(m * 0.1 * 0.9))
    # coverage of the central intervals: nominal within the binomial SE times the Sidak
    # quantile of the 2 levels, plus the bias of intervals between quantiles of an
    # ensemble of n draws (an outcome exchangeable with them falls between two given
    # order statistics with probability (gap in ranks) / (n + 1): the interpolated
    # quantiles move the nominal level by at most 2 / (n + 1))
    for level, col in ((0.5, "covered_50"), (0.9, "covered_90")):
        se = np.sqrt(level * (1 - level) / m)
        assert abs(table[col].mean() - level) < sidak_z(2) * se + 2 / (n + 1)
    # invariants: PIT in [0, 1]; 90% covers whenever 50% does; CRPS >= 0
    assert table["pit"].between(0, 1).all()
    assert (table["covered_90"] >= table["covered_50"]).all()
    assert (table["crps"] >= 0).all()
    # and the mean CRPS is that of a normal forecast N(mu, 50^2) of an outcome drawn from
    # it: E CRPS = sigma / sqrt(pi) (integrating the closed form over z ~ N(0, 1))
    assert table["crps"].mean() == pytest.approx(50 / np.sqrt(np.pi), rel=0.05)


def test_pit_of_a_biased_forecast_is_not_uniform() -> None:
    rng = np.random.default_rng(8)
    m = 500
    obs = tuple(_obs(f"o{i}", D(2024, 10, 1), float(1000 + 50 * rng.standard_normal()))
                for i in range(m))
    draws = 1100 + 50 * rng.standard_normal((m, 200))  # forecasts 2 sd too high
    table = hc.score_forecasts(_forecast(obs, draws))
    assert table["pit"].mean() < 0.2
    assert stats.kstest(table["pit"], "uniform").pvalue < 1e-6


def test_censored_rows_count_in_coverage_only() -> None:
    draws = np.tile(np.linspace(0.0, 100.0, 1001), (4, 1))  # 90%: [5, 95]; 50%: [25, 75]
    obs = (_obs("at_least_in", D(2024, 10, 1), 90.0, low=90.0),    # hi 95 >= 90
           _obs("at_least_out", D(2024, 10, 1), 97.0, low=97.0),   # hi 95 < 97
           _obs("up_to_in", D(2024, 10, 1), 10.0, high=10.0),      # lo 5 <= 10; 50%: 25 > 10
           _obs("range_in", D(2024, 10, 1), 110.0, low=96.0, high=120.0))  # no overlap
    t = hc.score_forecasts(_forecast(obs, draws)).set_index("observation")
    assert t["covered_90"].tolist() == [True, False, True, False]
    assert t["covered_50"].tolist() == [False, False, False, False]
    for col in ("crps", "pit", "crps_persistence", "crps_trend", "crps_relative"):
        assert t[col].isna().all()
    assert t["censoring"].tolist() == ["lower", "lower", "upper", "interval"]


def test_scores_skill_and_aggregates_against_hand_values() -> None:
    used = (_obs("k1", D(2024, 8, 20), 1200.0), _obs("k2", D(2024, 8, 30), 1000.0))
    # persistence 1000; trend -20/day -> 1000 - 20 * days after 30 Aug
    f1 = _obs("f1", D(2024, 9, 9), 850.0)      # persistence error 150, trend 800 -> 50
    f2 = _obs("f2", D(2024, 9, 19), 700.0)     # persistence 300, trend 600 -> 100
    f3 = _obs("f3", D(2024, 8, 25), 1100.0, reported=D(2024, 9, 5))  # nowcast, lead -7
    f4 = _obs("f4", D(2024, 9, 9), 20000.0, "ru_arrivals")   # no baseline of the quantity
    rng = np.random.default_rng(0)
    draws = np.stack([o.value + 10.0 * rng.standard_normal(300) for o in (f1, f2, f3, f4)])
    t = hc.score_forecasts(_forecast((f1, f2, f3, f4), draws, used))
    t = t.set_index("observation")
    assert t.loc["f1", "persistence"] == 1000.0 and t.loc["f1", "trend"] == pytest.approx(800)
    assert t.loc["f2", "crps_persistence"] == 300.0
    assert t.loc["f2", "crps_trend"] == pytest.approx(100.0)
    assert t.loc["f3", "lead_days"] == -7
    assert t.loc["f3", "trend"] == pytest.approx(1100.0)   # 1000 - 20 * (-5)
    assert np.isnan(t.loc["f4", "persistence"]) and np.isnan(t.loc["f4", "crps_persistence"])
    np.testing.assert_allclose(t["crps"], crps_ensemble(draws, [850, 700, 1100, 20000]))
    by_origin, by_q = hc.aggregate(t.reset_index())
    area = by_q.loc[(D(2024, 9, 1), "area_held")]
    rows = t.loc[["f1", "f2", "f3"]]
    assert area["crps"] == pytest.approx(rows["crps"].mean())
    assert area["skill_persistence"] == pytest.approx(
        1 - rows["crps"].mean() / rows["crps_persistence"].mean())
    assert area["n_persistence"] == 3 and area["n_trend"] == 3
    assert np.isnan(by_q.loc[(D(2024, 9, 1), "ru_arrivals"), "skill_persistence"])
    o = by_origin.loc[D(2024, 9, 1)]
    assert o["n_forecast"] == 4 and o["n_point"] == 4 and o["n_persistence"] == 3
    assert o["skill_trend"] == pytest.approx(
        1 - rows["crps_relative"].mean() / rows["crps_trend_relative"].mean())


# ------------------------------------------------------------------ the group and the CLI
def _fake_forecast_origin(spec, k, origin, seed, draws, tune, chains, sampler="nutpie",  # type: ignore[no-untyped-def]
                          sampler_options=None):
    """A cheap stand-in for the calibration: the withheld rows of the real cutoff, drawn
    around their values with a 20 % lognormal error (seeded by the origin's seed)."""
    from kursk_da.spec._observations import select_observations

    used, withheld = select_observations(spec.observations, origin)
    rng = np.random.default_rng(hc.origin_seed(seed, k))
    vals = np.array([o.value for o in withheld])
    y = vals[:, None] * np.exp(0.2 * rng.standard_normal((len(withheld), draws * chains)))
    return hc.OriginForecast(origin, k, used, withheld, y, 0, 1.001, 0.0)


@pytest.fixture
def fake_calibration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hc, "forecast_origin", _fake_forecast_origin)


def test_hindcast_dataset_units_dims_and_round_trip(spec, fake_calibration, tmp_path) -> None:  # type: ignore[no-untyped-def]
    res = hc.run_hindcast(spec, seed=1, draws=50, tune=0, chains=2)
    ds = hindcast_dataset(res)
    assert ds.sizes[ORIGIN] == 4
    assert set(ds["forecast_origin"].values.astype("datetime64[D]").astype(str)) == {
        "2024-09-01", "2024-10-01", "2024-11-01", "2024-12-01"}
    n_withheld = [len(hc.select_observations(spec.observations, o)[1])
                  for o in hc.DEFAULT_ORIGINS]
    assert ds.sizes[FORECAST] == sum(n_withheld)
    assert ds["n_forecast"].values.tolist() == n_withheld
    assert ds["n_used"].values.tolist() == [len(spec.observations) - n for n in n_withheld]
    for name, var in ds.data_vars.items():
        assert var.attrs.get("units"), name
        assert var.attrs.get("long_name"), name
    assert ds["crps_by_quantity"].dims == (ORIGIN, QUANTITY)
    for key in ("draws", "tune", "chains", "seed", "origins", "sampler", "spec_sha256"):
        assert key in ds.attrs
    assert ds.attrs["origins"] == "2024-09-01,2024-10-01,2024-11-01,2024-12-01"
    assert ((ds["coverage_90"] >= 0) & (ds["coverage_90"] <= 1)).all()
    # a forecast dated before its origin but reported after it (AFP's peak of 21 August)
    late = ds.where(ds["forecast_observation"] == "r03_area_held", drop=True)
    assert late.sizes[FORECAST] == 4 and (late["lead_days"] < 0).all()
    # stored in a result set and read back
    from kursk_da.analysis import analyze

    tree = add_hindcast(analyze(spec, 200, 0, prior_only=True), ds)
    path = save_result_set(tree, tmp_path / "r.nc")
    back = load_result_set(path)["hindcast"].to_dataset()
    xr.testing.assert_identical(back, ds)


def test_cli_round_trip(fake_calibration, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "hc.nc"
    rc = main(["hindcast", str(SPEC), "--origins", "2024-10-01,2024-12-01", "--mcmc-draws",
               "20", "--tune", "0", "--draws", "100", "--out", str(out), "--by-quantity"])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "rolling-origin hindcast" in text and "2024-10-01" in text and "2024-12-01" in text
    assert "skill vs persistence" in text and "area_held" in text
    ds = load_result_set(out)["hindcast"].to_dataset()
    assert ds.sizes[ORIGIN] == 2
    assert all(v.attrs.get("units") for v in ds.data_vars.values())
    # a result set as source: updated in place with the default origins
    rc = main(["hindcast", str(out), "--mcmc-draws", "20", "--tune", "0", "--format", "json"])
    assert rc == 0
    assert '"table": "hindcast"' in capsys.readouterr().out
    assert load_result_set(out)["hindcast"].sizes[ORIGIN] == 4


def test_cli_exits_3_when_an_origin_fails_the_gate(monkeypatch, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Issue 22: as analyze, a hindcast whose calibrations fail the gate exits 3 (the
    scores are still printed and written, flagged per origin)."""
    import dataclasses

    def failing_at_december(*args, **kwargs):  # type: ignore[no-untyped-def]
        fc = _fake_forecast_origin(*args, **kwargs)
        bad = ("advance_speed", "divergences") if fc.origin == D(2024, 12, 1) else ()
        return dataclasses.replace(fc, failing=bad)

    monkeypatch.setattr(hc, "forecast_origin", failing_at_december)
    out = tmp_path / "hc.nc"
    argv = ["hindcast", str(SPEC), "--origins", "2024-10-01,2024-12-01", "--mcmc-draws", "20",
            "--tune", "0", "--draws", "100", "--out", str(out)]
    assert main(argv) == 3
    captured = capsys.readouterr()
    assert "2024-12-01 (advance_speed, divergences)" in captured.err
    assert "FAIL the convergence gate: 2024-12-01" in captured.out
    ds = load_result_set(out)["hindcast"].to_dataset()
    assert ds["converged"].values.tolist() == [1, 0]
    out.unlink()
    assert main([*argv, "--allow-unconverged"]) == 0


@pytest.mark.parametrize("origins", ["2025-02-01", "2025-01-05", "2024-13-01", "soon",
                                     "2024-08-01", "2024-09-01,2024-09-01"])
def test_cli_bad_origin_exits_2_and_writes_nothing(origins, fake_calibration, tmp_path,  # type: ignore[no-untyped-def]
                                                   capsys) -> None:
    out = tmp_path / "hc.nc"
    with pytest.raises(SystemExit) as exc:  # argparse refuses what is not a date
        rc = main(["hindcast", str(SPEC), "--origins", origins, "--out", str(out)])
        raise SystemExit(rc)
    assert exc.value.code == 2
    assert "origins" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ real calibrations
@pytest.mark.slow
def test_real_hindcast_forecasts_what_the_cutoff_withholds(spec) -> None:  # type: ignore[no-untyped-def]
    res = hc.run_hindcast(spec, [D(2024, 9, 1)], seed=2, draws=100, tune=100, chains=2)
    f = res.forecasts
    setup = calibration_setup(spec, cutoff=D(2024, 9, 1))
    assert set(f["observation"]) == {o.name for o in setup.withheld}
    assert "r03_area_held" in set(f["observation"])  # dated 21 Aug, reported 31 Dec
    assert res.diagnostics.loc[D(2024, 9, 1), "n_used"] == len(setup.used)
    assert (f["crps"].dropna() >= 0).all() and f["pit"].dropna().between(0, 1).all()


@pytest.mark.slow
def test_dask_cluster_gives_the_same_hindcast(spec) -> None:  # type: ignore[no-untyped-def]
    from kursk_da.engine._dask import client_for

    origins = [D(2024, 9, 1), D(2024, 10, 1)]
    kw = {"seed": 5, "draws": 100, "tune": 100, "chains": 2}
    local = hindcast_dataset(hc.run_hindcast(spec, origins, **kw))  # type: ignore[arg-type]
    with client_for(2) as client:
        dist = hindcast_dataset(hc.run_hindcast(spec, origins, client=client, **kw))  # type: ignore[arg-type]
    xr.testing.assert_identical(local, dist)


def test_plots_and_report_section(spec, fake_calibration) -> None:  # type: ignore[no-untyped-def]
    from matplotlib.figure import Figure

    from kursk_da import plots
    from kursk_da.report._document import Image, Table
    from kursk_da.report._hindcast import hindcast_section

    ds = hindcast_dataset(hc.run_hindcast(spec, seed=3, draws=40, tune=0, chains=2))
    for fn in (plots.plot_hindcast_skill, plots.plot_hindcast_pit,
               plots.plot_hindcast_forecasts):
        assert isinstance(fn(ds), Figure)
    tree = xr.DataTree.from_dict({"/": xr.Dataset(), "/hindcast": ds})
    sec = hindcast_section(tree)
    images = [b for b in sec.blocks if isinstance(b, Image)]
    assert [i.name for i in images] == ["hindcast_skill", "hindcast_pit", "hindcast_forecasts"]
    assert all(i.caption.startswith("Read:") for i in images)
    assert sum(isinstance(b, Table) for b in sec.blocks) == 2
    # without the group: one line naming the command
    empty = hindcast_section(xr.DataTree.from_dict({"/": xr.Dataset()}))
    assert "kursk-da hindcast" in empty.blocks[0].text  # type: ignore[union-attr]
