"""Issue 11: observations as data (CSV), the observation models and the claimant bias."""

from __future__ import annotations

import csv
import datetime as dt
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from _essay import write_essay_spec
from scipy import stats

import kursk_da as kd
from kursk_da.dynamics.catalogue import OBSERVABLES
from kursk_da.dynamics.reference import simulate_plan
from kursk_da.errors import SpecError
from kursk_da.spec._observations import (
    CSV_COLUMNS,
    Observation,
    claimant_family,
    select_observations,
    thin_daily,
)
from kursk_da.spec._plans import date_of
from kursk_da.spec._sampling import sample_inputs
from kursk_da.spec._schema import spec_from_dict

ROOT = Path(__file__).resolve().parents[1]
EVIDENCE = ROOT / "models" / "kursk_2025.toml"  # the default spec calibrates on the claims
EVIDENCE_COPY = ROOT / "models" / "kursk_2025_evidence.toml"
DATA = ROOT / "models" / "data" / "kursk_public_figures_2024.csv"


@pytest.fixture(scope="module")
def evidence():
    return kd.load_spec(EVIDENCE)


def _rows(path: Path = DATA) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _spec_with_rows(tmp_path: Path, rows: list[dict[str, str]]) -> kd.Spec:
    """The evidence spec with its observations file replaced by ``rows``."""
    d = tmp_path / "spec"
    (d / "data").mkdir(parents=True)
    shutil.copy(EVIDENCE, d / "s.toml")
    shutil.copy(ROOT / "models/data/isw_kursk_russian_advances_daily.csv", d / "data")
    with (d / "data" / "kursk_public_figures_2024.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS))
        w.writeheader()
        w.writerows(rows)
    return kd.load_spec(d / "s.toml")


GOOD = {"date": "2024-10-14", "quantity": "area_held", "value": "660", "low": "", "high": "",
        "claimant": "OSINT (DeepState)", "reported_on": "2024-10-14", "source": "test",
        "note": ""}


# ------------------------------------------------------------------------------ the loader
def test_evidence_spec_loads_the_data_set(evidence):
    obs = evidence.observations
    assert len(obs) >= 40
    assert len({o.quantity for o in obs}) >= 5
    assert {o.family for o in obs} == {"ua_officials", "ru_officials", "osint_maps",
                                       "third_party"}
    assert all(o.date < evidence.decision_date and o.known_on < evidence.decision_date
               for o in obs)
    assert all(o.date <= dt.date(2025, 1, 4) and o.known_on <= dt.date(2025, 1, 4) for o in obs)
    assert all(o.likelihood == "claim" and o.claimant and o.source for o in obs)
    # the AFP figure of 30 December is there, as a point claim of the OSINT family
    afp = [o for o in obs if o.quantity == "area_held" and o.date == dt.date(2024, 12, 30)]
    assert len(afp) == 1 and afp[0].value == 482 and afp[0].family == "osint_maps"
    assert afp[0].reported_on == dt.date(2024, 12, 31) and afp[0].censoring == "none"


def test_the_default_spec_is_the_evidence_spec(evidence):
    """Issue 11, item 4: models/kursk_2025.toml calibrates on the 52 claims (the same as the
    four-option copy kursk_2025_evidence.toml) and keeps its five options and scenarios."""
    copy = kd.load_spec(EVIDENCE_COPY)
    assert evidence.observations == copy.observations and len(evidence.observations) == 52
    assert list(evidence.options) == ["withdraw", "hold", "renewed_offensive", "strike_only",
                                      "hold_until_untenable"]
    assert list(copy.options) == list(evidence.options)[:4]
    assert set(evidence.scenarios) == {"no_nk", "aid_halved", "fast_ru_reinforcement"}
    assert evidence.input_names == copy.input_names


def test_bounds_and_intervals(evidence):
    by = {(o.quantity, o.date, o.value): o for o in evidence.observations}
    at_least = by[("ru_losses_undefined", dt.date(2025, 1, 1), 38000.0)]
    assert at_least.censoring == "lower" and at_least.low == 38000 and at_least.high is None
    up_to = by[("ua_losses_undefined", dt.date(2024, 8, 10), 1120.0)]
    assert up_to.censoring == "upper" and up_to.high == 1120
    ranged = by[("russian_forces", dt.date(2024, 9, 14), 37500.0)]
    assert ranged.censoring == "interval" and (ranged.low, ranged.high) == (30000, 45000)
    # DeepState's firm control and grey zone are two claims, not an interval
    grey = by[("area_held_incl_grey", dt.date(2024, 11, 22), 760.0)]
    firm = by[("area_held", dt.date(2024, 11, 22), 560.0)]
    assert grey.censoring == firm.censoring == "none"


def test_measurement_error_from_the_spec(evidence):
    by_q = {o.quantity: o for o in evidence.observations}
    assert by_q["area_held"].scale == pytest.approx(0.10)
    assert by_q["russian_forces"].scale == pytest.approx(0.20)
    assert by_q["ru_casualties"].scale == pytest.approx(0.25)
    assert by_q["ua_losses_undefined"].scale == pytest.approx(math.hypot(0.25, 0.30))
    assert by_q["area_retaken_isw_layer"].scale == pytest.approx(0.10)


def test_daily_series_is_thinned(evidence):
    isw = [o for o in evidence.observations if o.quantity == "area_retaken_isw_layer"]
    days = [(o.date - dt.date(2024, 9, 11)).days for o in isw]
    # the first reading of each 14-day block from the layer start
    assert [d // 14 for d in days] == list(range(len(days)))
    assert isw[0].date == dt.date(2024, 9, 11) and isw[0].value == pytest.approx(47.55)
    assert len(isw) == 9


def test_thin_daily_keeps_a_prefix_under_a_cutoff():
    obs = [Observation(f"o{k}", dt.date(2024, 9, 1) + dt.timedelta(days=k), "area_held", 1.0,
                       "claim", 0.1, "t") for k in range(0, 60, 3)]
    full = thin_daily(obs, 10)
    assert [(o.date - obs[0].date).days for o in full] == [0, 12, 21, 30, 42, 51]
    cut = thin_daily([o for o in obs if o.date <= dt.date(2024, 10, 5)], 10)
    assert cut == full[:len(cut)]


def test_cutoff_cuts_on_both_dates(evidence):
    cutoff = dt.date(2024, 12, 30)
    used, held = select_observations(evidence.observations, cutoff)
    assert all(o.date <= cutoff and o.known_on <= cutoff for o in used)
    # the AFP area of 30 December was reported on the 31st: withheld
    assert any(o.date <= cutoff < o.known_on for o in held)
    names = {o.name for o in held}
    afp = next(o for o in evidence.observations
               if o.quantity == "area_held" and o.date == cutoff)
    assert afp.name in names and len(used) + len(held) == len(evidence.observations)
    # the retrospective AFP peak of 21 August (reported 31 December) is withheld too
    assert any(o.date == dt.date(2024, 8, 21) for o in held)


@pytest.mark.parametrize(("change", "field"), [
    ({"reported_on": "2025-01-05"}, "reported_on"),
    ({"date": "2025-01-05", "reported_on": "2025-01-05"}, "date"),
    ({"reported_on": "2024-10-01"}, "reported_on"),       # reported before the date it describes
    ({"value": "many"}, "value"),
    ({"value": ""}, "value"),
    ({"value": "-5"}, "value"),
    ({"low": "700"}, "value"),                             # value below its own lower bound
    ({"low": "700", "high": "600", "value": "650"}, "high"),
    ({"quantity": "area_hold"}, "quantity"),
    ({"claimant": "Kremlin bloggers"}, "claimant"),
    ({"date": "14 Oct 2024"}, "date"),
    ({"source": ""}, "source"),
])
def test_bad_rows_name_the_row_and_field(tmp_path, change, field):
    rows = [dict(GOOD), {**GOOD, **change}]
    with pytest.raises(SpecError) as exc:
        _spec_with_rows(tmp_path, rows)
    assert exc.value.path == f"observations.file[1].{field}"


def test_missing_file_and_column(tmp_path):
    d = tmp_path / "s"
    d.mkdir()
    shutil.copy(EVIDENCE, d / "s.toml")
    with pytest.raises(SpecError) as exc:
        kd.load_spec(d / "s.toml")
    assert exc.value.path == "observations.file"
    (d / "data").mkdir()
    (d / "data" / "kursk_public_figures_2024.csv").write_text("date,quantity,value\n")
    with pytest.raises(SpecError, match="missing column 'low'"):
        kd.load_spec(d / "s.toml")


def test_rows_are_embedded_and_round_trip(evidence):
    obs_tbl = evidence.raw["observations"]
    assert len(obs_tbl["rows"]) == len(_rows()) and len(obs_tbl["daily_rows"]) == 1
    again = spec_from_dict(evidence.raw)                 # no file needed any more
    assert again.observations == evidence.observations
    assert again.sha256 == evidence.sha256


def test_inline_observations_keep_working(tmp_path):
    """The essay's three inline observations (the default until issue 11, tests/_essay.py)."""
    spec_2025 = kd.load_spec(write_essay_spec(tmp_path))
    assert [o.likelihood for o in spec_2025.observations] == ["lognormal"] * 3
    assert all(o.claimant == "" and o.known_on == o.date for o in spec_2025.observations)


def test_claimant_families():
    assert claimant_family("UA (Syrskyi)") == "ua_officials"
    assert claimant_family("RU (MoD)") == "ru_officials"
    assert claimant_family("OSINT (DeepState)") == "osint_maps"
    assert claimant_family("KR (NIS, via Yonhap)") == "third_party"
    assert claimant_family("other third party (Wall Street Journal)") == "third_party"
    with pytest.raises(SpecError):
        claimant_family("UAV spotters")


def test_observed_data_coordinates(evidence):
    from kursk_da.calibration._sampling import _obs_coords
    from kursk_da.dims import OBSERVATION

    c = _obs_coords(evidence.observations, OBSERVATION)
    for key in ("date", "quantity", "reported_on", "claimant", "source"):
        assert f"{OBSERVATION}_{key}" in c
    assert len(c[f"{OBSERVATION}_claimant"][1]) == len(evidence.observations)


# ------------------------------------------------------------------------------ observables
def _every_reading(spec):
    """One observation of every observable on a few days of the history."""
    out = []
    for t in (0, 20, 40, 60, 100, 140):
        for q in OBSERVABLES:
            out.append(Observation(f"{q.name}_{t}", date_of(t), q.name, 1.0, "normal", 1.0, "t"))
    return tuple(out)


def test_observables_by_hand_on_the_reference_trajectories(evidence):
    from kursk_da.calibration._skeleton import observation_map, skeleton_numba, skeleton_numpy

    obs = _every_reading(evidence)
    omap = observation_map(evidence, obs)
    theta = sample_inputs(evidence, 6, np.random.default_rng(3))
    traj = simulate_plan(theta, omap.const, omap.ref, np.zeros((6, omap.n_days)))
    names = evidence.input_names
    col = {n: names.index(n) for n in ("ru_garrison", "nk_troops", "nk_arrival_day",
                                       "arrival_ramp_days")}
    st = {"U": 0, "R": 1, "A": 2, "CU": 4, "CR": 5, "ARR": 6}
    since = (dt.date(2024, 9, 11) - dt.date(2024, 8, 6)).days
    want = np.empty((6, len(obs)))
    for i, ob in enumerate(obs):
        t = ob.day
        nk = theta[:, col["nk_troops"]] * np.clip(
            (t - theta[:, col["nk_arrival_day"]]) / theta[:, col["arrival_ramp_days"]], 0, 1)
        q = ob.quantity
        a = traj[:, :, st["A"]]
        want[:, i] = {
            "area_held": a[:, t], "area_held_incl_grey": a[:, t],
            "area_retaken_from_peak": a[:, :t + 1].max(axis=1) - a[:, t],
            "area_retaken_isw_layer": a[:, since] - a[:, t],
            "russian_forces": traj[:, t, st["R"]],
            "ru_buildup": traj[:, t, st["R"]] - theta[:, col["ru_garrison"]],
            "russian_forces_excl_nk": traj[:, t, st["R"]] - nk,
            "ru_arrivals": traj[:, t, st["ARR"]], "ukrainian_forces": traj[:, t, st["U"]],
            "nk_troops_in_kursk": nk, "nk_troops_planned": theta[:, col["nk_troops"]],
            "ua_casualties": traj[:, t, st["CU"]], "ua_losses_undefined": traj[:, t, st["CU"]],
            "ru_casualties": traj[:, t, st["CR"]], "ru_losses_undefined": traj[:, t, st["CR"]],
        }[q]
    np.testing.assert_allclose(skeleton_numpy(theta, omap), want, rtol=1e-10, atol=1e-8)
    cols = np.arange(len(names))[:31]
    for k in range(2):
        mu, jac = skeleton_numba(theta[k, cols], theta[k], cols, omap)
        np.testing.assert_allclose(mu, want[k], rtol=1e-8, atol=1e-8)
        # complex-step Jacobian against central differences for the area parameters
        j = names.index("retreat_speed")
        h = 1e-4 * theta[k, j]
        up, dn = theta[k].copy(), theta[k].copy()
        up[j] += h
        dn[j] -= h
        fd = (skeleton_numpy(up[None], omap)[0] - skeleton_numpy(dn[None], omap)[0]) / (2 * h)
        np.testing.assert_allclose(jac[:, j], fd, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------ likelihood
def test_t4_logcdf_against_scipy():
    from kursk_da.calibration._bias import t4_logcdf

    z = np.array([-300.0, -40.0, -3.0, -0.5, 0.0, 0.5, 3.0, 40.0])
    np.testing.assert_allclose(t4_logcdf(z, np), stats.t(4).logcdf(z), rtol=1e-10, atol=1e-14)


def _cm(censoring, low, high):
    from kursk_da.calibration._bias import ClaimModel

    m = len(censoring)
    return ClaimModel(combos=(("ua_officials", "control"),), combo_index=np.zeros(m, int),
                      kinds=("control",), kind_index=np.zeros(1, int), grey=np.zeros(m),
                      isw=np.zeros(m), censoring=np.asarray(censoring), low=np.asarray(low),
                      high=np.asarray(high))


def test_claim_likelihood_by_hand():
    """Point, at least, up to and interval claims against scipy's t(4), by hand."""
    import pytensor.tensor as pt

    from kursk_da.calibration._bias import claim_loglik

    y = np.array([1000.0, 38000.0, 1120.0, 37500.0])
    low = np.array([1000.0, 38000.0, 1120.0, 30000.0])
    high = np.array([1000.0, 38000.0, 1120.0, 45000.0])
    cm = _cm([0, 1, 2, 3], low, high)
    mu = np.array([800.0, 30000.0, 2000.0, 40000.0])
    log_b = np.log(np.array([1.2, 1.1, 0.9, 1.0]))
    s = np.array([0.1, 0.2, 0.25, 0.2])
    c = 0.05 * y
    got = claim_loglik(y, mu, log_b, 0.0, 0.0, s, c, cm, np)
    loc = np.log(np.exp(log_b) * mu + c)
    t = stats.t(4)
    want = [
        t.logpdf((np.log(y[0] + c[0]) - loc[0]) / s[0]) - np.log(s[0]) - np.log(y[0] + c[0]),
        t.logsf((np.log(low[1] + c[1]) - loc[1]) / s[1]),
        t.logcdf((np.log(high[2] + c[2]) - loc[2]) / s[2]),
        np.log(t.cdf((np.log(high[3] + c[3]) - loc[3]) / s[3])
               - t.cdf((np.log(low[3] + c[3]) - loc[3]) / s[3])),
    ]
    np.testing.assert_allclose(got, want, rtol=1e-9)
    sym = claim_loglik(pt.as_tensor(y), pt.as_tensor(mu), pt.as_tensor(log_b), 0.0, 0.0, s, c,
                       cm, pt).eval()
    np.testing.assert_allclose(sym, want, rtol=1e-9)


def test_grey_factor_and_layer_start_enter_the_location():
    from kursk_da.calibration._bias import ClaimModel, claim_loglik

    cm = ClaimModel(combos=(("osint_maps", "control"),), combo_index=np.zeros(2, int),
                    kinds=("control",), kind_index=np.zeros(1, int), grey=np.array([1.0, 0.0]),
                    isw=np.array([0.0, 1.0]), censoring=np.zeros(2, int),
                    low=np.array([760.0, 300.0]), high=np.array([760.0, 300.0]))
    y, mu, c, s = np.array([760.0, 300.0]), np.array([560.0, 250.0]), np.array([38.0, 15.0]), 0.1
    got = claim_loglik(y, mu, np.zeros(2), math.log(1.35), 50.0, s, c, cm, np)
    loc = np.log(np.array([1.35 * 560.0, 250.0 + 50.0]) + c)
    want = stats.t(4).logpdf((np.log(y + c) - loc) / s) - np.log(s) - np.log(y + c)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_bias_is_recovered_from_simulated_claims():
    """A known bias of 1.6 (log 0.47) recovered from 30 simulated claims by a grid posterior
    over the log bias (flat prior). Half of the claims are censored at a fixed threshold
    ``L = 1.6 mu``: reported as "at least L" when the claim exceeds it, else "up to L"."""
    from kursk_da.calibration._bias import claim_loglik, claim_predictive

    rng = np.random.default_rng(11)
    m = 30
    mu = rng.uniform(5000, 40000, m)
    s = np.full(m, 0.15)
    true = math.log(1.6)
    cm0 = _cm(np.zeros(m, int), np.zeros(m), np.zeros(m))
    y = claim_predictive(mu, np.full(m, true), 0.0, 0.0, s, 0.05 * mu, cm0, rng)
    thr = 1.6 * mu
    cens = np.where(np.arange(m) % 2 == 0, np.where(y >= thr, 1, 2), 0)
    bound = np.where(cens > 0, thr, y)
    y = np.where(cens > 0, thr, y)                        # a bound reports its threshold
    cm = _cm(cens, bound, bound)
    c = 0.05 * y
    grid = np.linspace(-0.5, 1.5, 2001)
    ll = np.array([claim_loglik(y, mu, np.full(m, g), 0.0, 0.0, s, c, cm, np).sum()
                   for g in grid])
    post = np.exp(ll - ll.max())
    post /= post.sum()
    mean = float((grid * post).sum())
    sd = float(np.sqrt(((grid - mean) ** 2 * post).sum()))
    assert abs(mean - true) < 3 * sd and sd < 0.06
    lo, hi = np.interp([0.05, 0.95], np.cumsum(post), grid)
    assert lo < true < hi


def test_bias_sentence():
    import pandas as pd

    from kursk_da.calibration._bias import bias_sentences

    t = pd.DataFrame({"median": [1.9, 1.0], "lower_90": [1.2, 0.8], "upper_90": [3.1, 1.2]},
                     index=["bias[ru_officials:losses]", "bias_spread"])
    assert bias_sentences(t) == ["the Russian MoD/commanders: loss claims are 1.90 [1.20, "
                                 "3.10] times the model's value (posterior median, 90% "
                                 "interval)"]


def test_the_claim_model_builds(evidence):
    from kursk_da.calibration import build_model, calibration_setup
    from kursk_da.dims import OBS_PARAMETER

    setup = calibration_setup(evidence, process_draws=200)
    cm = setup.claims
    assert cm is not None and len(cm.combos) == 7
    model = build_model(evidence, setup=setup)
    assert model.coords[OBS_PARAMETER] == cm.names
    lp = model.compile_logp()(model.initial_point())
    assert np.isfinite(lp)


def test_cli_refuses_a_row_reported_after_the_decision(tmp_path, capsys):
    from kursk_da.cli import main

    d = tmp_path / "spec"
    (d / "data").mkdir(parents=True)
    shutil.copy(EVIDENCE, d / "s.toml")
    shutil.copy(ROOT / "models/data/isw_kursk_russian_advances_daily.csv", d / "data")
    rows = _rows()
    rows[5] = {**rows[5], "reported_on": "2025-01-06"}
    with (d / "data" / "kursk_public_figures_2024.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "out.nc"
    status = main(["analyze", str(d / "s.toml"), "--out", str(out), "--no-progress"])
    assert status == 2 and not out.exists()
    assert "observations.file[5].reported_on" in capsys.readouterr().err


@pytest.mark.slow
def test_evidence_spec_calibrates():
    """Issue 11, item 4: the evidence spec passes the gate, the PPC covers 80-98% of the
    observations, and the 90% PPI of the area held on 30 Dec 2024 contains AFP's 482 km2
    and is at most 500 km2 wide (several minutes on the 2-core machine)."""
    from kursk_da.calibration import run_calibration

    spec = kd.load_spec(EVIDENCE)
    cal = run_calibration(spec, seed=1)
    assert cal.diagnostics.divergences == 0
    assert cal.converged, cal.diagnostics.failing
    assert 0.80 <= cal.ppc["covered"].mean() <= 0.98
    afp = next(o.name for o in spec.observations
               if o.quantity == "area_held" and o.date == dt.date(2024, 12, 30))
    lo, hi = cal.ppc.loc[afp, ["lower_90", "upper_90"]]
    assert lo <= 482 <= hi and hi - lo <= 500
    assert cal.diagnostics.obs_model is not None
    assert cal.diagnostics.obs_model["ok"].all()


@pytest.mark.slow
def test_result_set_carries_the_claims(tmp_path):
    """/observed_data has the claim coordinates, /diagnostics the biases with intervals, and
    the stored spec restores the 52 observations without the CSV files (~7 min when loaded)."""
    from kursk_da.dims import OBS_PARAMETER, OBSERVATION
    from kursk_da.io import spec_from_tree

    spec = kd.load_spec(EVIDENCE)
    tree = kd.analyze(spec, draws=400, seed=2, mcmc_draws=50, tune=50, chains=2)
    path = kd.save_result_set(tree, tmp_path / "ev.nc")
    back = kd.load_result_set(path)
    od = back["observed_data"].to_dataset()
    for key in ("date", "quantity", "reported_on", "claimant", "source"):
        assert f"{OBSERVATION}_{key}" in od.coords
    diag = back["diagnostics"].to_dataset()
    assert len(diag[OBS_PARAMETER]) == 13
    assert (diag["obs_model_lower_90"] <= diag["obs_model_upper_90"]).all()
    assert spec_from_tree(back).observations == spec.observations
    # issue 22, item 6: az.summary of the file lists the parameters only (the 23 campaign
    # parameters and the 13 of the observation model; 132 rows with theta, mu and the latent
    # variables before schema 4), every dimension named
    import re

    import arviz as az

    idata = az.from_netcdf(path)
    summary = az.summary(idata)
    campaign = [str(v) for v in back["posterior"].data_vars if v != "obs_theta"]
    assert list(summary.index) == campaign + [f"obs_theta[{p}]" for p in diag[OBS_PARAMETER].values]
    assert not any(re.search(r"_dim_\d+$", str(d)) for g in idata.groups() for d in idata[g].dims)
