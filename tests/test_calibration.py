"""Bayesian calibration: equivalence with the engine, priors, gate, CLI, cutoff, recovery."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pytest
import xarray as xr
from scipy import stats

pm = pytest.importorskip("pymc")

from _essay import write_essay_spec  # noqa: E402
from _mc import mcse_mean, sidak_z  # noqa: E402

from kursk_da.calibration import (  # noqa: E402
    calibrate,
    compile_calibration,
    contraction,
    crps_ensemble,
    crps_normal,
    diagnose,
    forecast_table,
    ppc_table,
)
from kursk_da.calibration._checks import log_prior_density  # noqa: E402
from kursk_da.calibration._model import (  # noqa: E402
    UNIFORM_SCORE_SUFFIX,
    build_model,
    calibration_setup,
)
from kursk_da.calibration._priors import copula_members, pymc_prior  # noqa: E402
from kursk_da.calibration._skeleton import (  # noqa: E402
    QUANTITY_STATE,
    observation_map,
    skeleton_numba,
    skeleton_numpy,
    skeleton_pytensor,
)
from kursk_da.cli import EXIT_UNCONVERGED, main  # noqa: E402
from kursk_da.engine._kernel import TRAJECTORY_NAMES  # noqa: E402
from kursk_da.engine._run import run_engine  # noqa: E402
from kursk_da.errors import SpecError  # noqa: E402
from kursk_da.spec._distributions import parse_distribution  # noqa: E402
from kursk_da.spec._observations import Observation  # noqa: E402
from kursk_da.spec._plans import date_of  # noqa: E402
from kursk_da.spec._sampling import sample_inputs  # noqa: E402
from kursk_da.spec._schema import load_spec  # noqa: E402
from kursk_da.spec.copula import normal_scores  # noqa: E402

MODELS = __import__("pathlib").Path(__file__).resolve().parents[1] / "models"


@pytest.fixture(scope="session")
def essay_path(tmp_path_factory):
    """``models/kursk_2025.toml`` with the essay's three inline observations (tests/_essay.py)."""
    return write_essay_spec(tmp_path_factory.mktemp("essay"))


@pytest.fixture(scope="session")
def spec_2025(essay_path):
    """Overrides conftest's default spec: the machinery tested here (inline observations,
    skeleton, gate, CLI, cutoff, recovery) on the small three-observation model; the
    default's 52 claims are tested in tests/test_evidence.py."""
    return load_spec(essay_path)


@pytest.fixture(scope="session")
def compiled_2025(spec_2025):
    """The nutpie-compiled calibration model of the 2025 spec (compiled once)."""
    return compile_calibration(spec_2025)


@pytest.fixture(scope="session")
def short_idata(spec_2025, compiled_2025):
    """A deliberately too-short run: 2 chains x 60 draws."""
    return calibrate(spec_2025, seed=3, draws=60, tune=60, chains=2, compiled=compiled_2025)


def _every_day_observations(spec):
    """One observation of every quantity on every day of the history."""
    out = []
    for t in range(spec.decision_day):
        for q in QUANTITY_STATE:
            out.append(Observation(f"{q}_{t}", date_of(t), q, 1.0, "normal", 1.0, "test"))
    return tuple(out)


def test_skeleton_equals_engine_and_reference_over_the_history(spec_2025):
    """The calibration's skeleton (compiled Op, NumPy) = the engine with no front shocks."""
    spec = spec_2025.with_parameter("front_noise_sd", 0.0)
    obs = _every_day_observations(spec)
    omap = observation_map(spec, obs)
    theta = sample_inputs(spec, 12, np.random.default_rng(5))
    out = run_engine(spec, 12, seed=9, inputs=theta)
    d = spec.decision_day
    tr = out.trajectories[:, 0, :d, :]  # history: identical under every option
    names = {"U": "U", "A": "A", "R": "R", "ARR": "ARR", "CU": "CU", "CR": "CR"}
    expected = np.empty((12, len(obs)))
    for i, ob in enumerate(obs):
        state, minus_garrison = QUANTITY_STATE[ob.quantity]
        val = tr[:, ob.day, TRAJECTORY_NAMES.index(names[state])]
        expected[:, i] = val - (theta[:, spec.input_names.index("ru_garrison")]
                                if minus_garrison else 0.0)
    ref = skeleton_numpy(theta, omap)
    np.testing.assert_allclose(ref, expected, rtol=1e-8, atol=1e-8)
    cols = np.arange(len(spec.input_names))[:31]
    for i in range(3):
        mu, _ = skeleton_numba(theta[i, cols], theta[i], cols, omap)
        np.testing.assert_allclose(mu, expected[i], rtol=1e-8, atol=1e-8)


def test_pytensor_scan_path_equals_reference(spec_2025):
    """``step`` with ops = pytensor.tensor inside pytensor.scan, over the whole history."""
    import pytensor
    import pytensor.tensor as pt

    spec = spec_2025
    obs = _every_day_observations(spec)
    omap = observation_map(spec, obs)
    p = pt.vector("p", shape=(len(spec.input_names),), dtype="float64")
    fn = pytensor.function([p], skeleton_pytensor(p, omap), mode="NUMBA")
    theta = sample_inputs(spec, 3, np.random.default_rng(6))
    ref = skeleton_numpy(theta, omap)
    for i in range(3):
        np.testing.assert_allclose(fn(theta[i]), ref[i], rtol=1e-8, atol=1e-8)


def test_complex_step_jacobian_matches_finite_differences(spec_2025):
    setup = calibration_setup(spec_2025)
    theta = sample_inputs(spec_2025, 1, np.random.default_rng(2))[0]
    x = theta[setup.cols]
    mu, jac = skeleton_numba(x, theta, setup.cols, setup.omap)
    for j in range(len(x)):
        h = 1e-6 * abs(x[j])
        up, dn = x.copy(), x.copy()
        up[j] += h
        dn[j] -= h
        fd = (skeleton_numba(up, theta, setup.cols, setup.omap)[0]
              - skeleton_numba(dn, theta, setup.cols, setup.omap)[0]) / (2 * h)
        np.testing.assert_allclose(jac[:, j], fd, rtol=1e-4, atol=1e-6 * np.abs(mu).max() / x[j])


def test_sampled_parameters_are_those_the_observations_inform(spec_2025):
    setup = calibration_setup(spec_2025)
    s = set(setup.sampled)
    assert {"ru_reinforcement_ceiling", "retreat_speed", "advance_speed", "ru_garrison"} <= s
    # strikes (none in the history), Donbas, noise scale, value weights, option levers: not
    for name in ("strike_attrition", "donbas_cost_per_1000", "front_noise_sd",
                 "renewed_added_forces", "weight_ua_casualties", "ru_commit_reference"):
        assert name not in s


@pytest.mark.parametrize("table", [
    {"dist": "normal", "mean": 2.0, "sd": 0.5},
    {"dist": "lognormal", "median": 3.0, "sigma": 0.4},
    {"dist": "gamma", "shape": 3.0, "scale": 2.0},
    {"dist": "beta", "a": 2.0, "b": 5.0, "lower": 1.0, "upper": 3.0},
    {"dist": "uniform", "lower": 0.3, "upper": 1.0},
    {"dist": "truncnormal", "mean": 1.0, "sd": 2.0, "lower": 0.0},
    {"dist": "pert", "min": 1.0, "mode": 2.0, "max": 5.0},
    {"dist": "triangular", "min": 1.0, "mode": 2.0, "max": 5.0},
])
def test_pymc_priors_have_the_spec_density(table):
    dist = parse_distribution(table, "p")
    x = np.asarray(dist.ppf(np.array([0.2, 0.5, 0.9])))
    with pm.Model() as model:
        rv = pymc_prior("p", dist)
    if table["dist"] in ("beta", "pert"):  # lo + (hi - lo) * Beta
        lo, hi = dist.support
        got = pm.logp(model["p_unit"], (x - lo) / (hi - lo)).eval() - math.log(hi - lo)
    else:
        got = pm.logp(rv, x).eval()
    np.testing.assert_allclose(got, dist.logpdf(x), rtol=1e-6, atol=1e-9)
    with pm.Model():
        assert float(pymc_prior("f", parse_distribution({"dist": "fixed", "value": 4.0}, "f"))
                     .eval()) == 4.0


def test_model_prior_with_copula_is_the_spec_prior(spec_2025, compiled_2025):
    """Joint prior density of the PyMC model = spec marginals x Gaussian copula."""
    model, setup = compiled_2025.model, compiled_2025.setup
    x = sample_inputs(spec_2025, 2, np.random.default_rng(4))[:, setup.cols]
    f = model.compile_fn(model.logp(vars=[*model.free_RVs, *model.potentials], jacobian=False),
                         inputs=model.value_vars, on_unused_input="ignore")
    corr = [setup.sampled[i] for i in copula_members(setup.pearson)]
    assert corr, "the 2025 spec has correlated sampled parameters"
    assert any(rv.name.endswith(UNIFORM_SCORE_SUFFIX) for rv in model.free_RVs)
    for row in x:
        point = {}
        # latent copula: z_i = Phi^-1(F_i(x_i)); log p(x) = log p(z) + sum log |dz_i/dx_i|
        xc = row[[setup.sampled.index(n) for n in corr]]
        z = normal_scores(spec_2025, xc[None], corr)[0]
        point["prior_copula_z"] = z
        dz = sum(float(spec_2025.inputs[n].dist.logpdf(np.array([v]))[0])
                 - stats.norm.logpdf(zi) for n, v, zi in zip(corr, xc, z, strict=True))
        for rv in model.free_RVs:
            if rv.name == "prior_copula_z":
                continue
            if rv.name.endswith(UNIFORM_SCORE_SUFFIX):  # a uniform through its normal score
                name = rv.name[:-len(UNIFORM_SCORE_SUFFIX)]
                val = row[setup.sampled.index(name)]
                zs = float(normal_scores(spec_2025, np.array([[val]]), [name])[0, 0])
                point[model.rvs_to_values[rv].name] = zs
                dz += (float(spec_2025.inputs[name].dist.logpdf(np.array([val]))[0])
                       - stats.norm.logpdf(zs))
                continue
            name = rv.name[:-5] if rv.name.endswith("_unit") else rv.name
            val = row[setup.sampled.index(name)]
            if rv.name.endswith("_unit"):
                lo, hi = spec_2025.inputs[name].dist.support
                val = (val - lo) / (hi - lo)
            tr = model.rvs_to_transforms.get(rv)
            vv = model.rvs_to_values[rv]
            point[vv.name] = tr.forward(val, *rv.owner.inputs).eval() if tr else val
        got = f(point) + dz
        dists = [spec_2025.inputs[n].dist for n in setup.sampled]
        jac = sum(math.log(d.support[1] - d.support[0]) for d in dists
                  if d.kind in ("beta", "pert"))
        want = log_prior_density(spec_2025, setup.sampled, row[None])[0]
        assert got - jac == pytest.approx(want, rel=1e-7, abs=1e-7)


def test_model_coords_and_interventions(spec_2025, compiled_2025):
    model = compiled_2025.model
    assert list(model.coords["observation"]) == [o.name for o in spec_2025.observations]
    assert list(model.coords["parameter"]) == list(compiled_2025.setup.sampled)
    assert {"theta", "mu", "y", "y_observed"} <= set(model.named_vars)
    fixed = pm.do(model, {"ru_garrison": 6000.0})
    assert "ru_garrison" not in {v.name for v in fixed.free_RVs}
    # research code can rebuild and extend it; build_model gives a fresh model
    again = build_model(spec_2025, setup=compiled_2025.setup)
    assert again is not model and len(again.free_RVs) == len(model.free_RVs)


def test_idata_groups_and_short_run_fails_the_gate(short_idata):
    for g in ("prior", "posterior", "posterior_predictive", "observed_data", "sample_stats"):
        assert g in short_idata.groups()
    assert short_idata.posterior["theta"].dims == ("chain", "draw", "parameter")
    assert short_idata.prior["theta"].dims == ("chain", "draw", "parameter")
    diag = diagnose(short_idata)
    assert not diag.passed
    assert set(diag.failing) & set(short_idata.posterior["parameter"].values.tolist())
    assert set(diag.table.columns) >= {"r_hat", "ess_bulk", "ess_tail", "mcse_mean", "ok"}
    ds = diag.to_dataset()
    assert ds.attrs["converged"] == "no" and ds["e_bfmi"].dims == ("chain",)
    assert len(ppc_table(short_idata)) == 3
    c = contraction(short_idata)
    assert c.index.tolist() == short_idata.posterior["parameter"].values.tolist()


def test_loo_pareto_k_is_arviz_pointwise_loo(short_idata):
    """Issue 22: the Pareto k of every observation's PSIS-LOO term, as az.loo computes it."""
    import arviz as az

    from kursk_da.calibration._checks import loo_pointwise

    table = loo_pointwise(short_idata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = az.loo(short_idata, pointwise=True)
    np.testing.assert_allclose(table["pareto_k"].to_numpy(), np.asarray(ref.pareto_k),
                               rtol=1e-9)
    np.testing.assert_allclose(table["elpd_loo"].sum(), ref.elpd_loo, rtol=1e-9)
    assert list(table.index) == list(short_idata.observed_data["observation"].values)


def test_same_seed_same_draws(spec_2025, compiled_2025, short_idata):
    again = calibrate(spec_2025, seed=3, draws=60, tune=60, chains=2, compiled=compiled_2025)
    np.testing.assert_array_equal(again.posterior["theta"].values,
                                  short_idata.posterior["theta"].values)
    np.testing.assert_array_equal(again.posterior_predictive["y"].values,
                                  short_idata.posterior_predictive["y"].values)


def test_same_draws_on_one_thread_and_after_other_runs(spec_2025, compiled_2025, short_idata):
    """Issue 22, item 2: the chains on one thread (``cores=1``) instead of one each, after
    a run of another seed in the same process, give the same draws bit for bit."""
    calibrate(spec_2025, seed=4, draws=20, tune=20, chains=2, compiled=compiled_2025)
    one = calibrate(spec_2025, seed=3, draws=60, tune=60, chains=2, cores=1,
                    compiled=compiled_2025)
    np.testing.assert_array_equal(one.posterior["theta"].values,
                                  short_idata.posterior["theta"].values)


def test_cli_unconverged_exits_3_and_marks_the_file(tmp_path, capsys, compiled_2025,
                                                   essay_path):
    import arviz as az

    def args(path):
        return ["analyze", str(essay_path), "--seed", "2", "--out", str(path),
                "--draws", "400", "--mcmc-draws", "40", "--tune", "40", "--chains", "2",
                "--no-progress"]

    out = tmp_path / "u.nc"
    assert main(args(out)) == EXIT_UNCONVERGED == 3
    cap = capsys.readouterr()
    assert "did not converge (failing:" in cap.err
    assert "converged: NO" in cap.out and "WARNING" in cap.out
    assert "PSIS-LOO: " in cap.out and "have Pareto k > 0.7" in cap.out
    tree = xr.open_datatree(out)
    k = tree["diagnostics"]["loo_pareto_k"]
    assert k.dims == ("observation",) and k.attrs["units"] == "1"
    assert int(tree["diagnostics"].attrs["loo_n_pareto_k_above_0_7"]) == int((k > 0.7).sum())
    assert tree.attrs["analysis"] == "posterior" and tree.attrs["converged"] == "no"
    for g in ("prior", "posterior", "posterior_predictive", "observed_data", "sample_stats",
              "diagnostics", "decision", "trajectories"):
        assert g in tree.children, g
    # schema 4: the parameters in /posterior, the predicted observations apart
    assert "theta" not in tree["posterior"] and "mu" not in tree["posterior"]
    assert tree["posterior_deterministic"]["mu"].dims == ("chain", "draw", "observation")
    tree.close()
    idata = az.from_netcdf(out)
    assert idata.sample_stats["diverging"].dims == ("chain", "draw")
    # the engine ran every posterior draw through every option
    assert idata["decision"]["value"].shape[0] == 2 * 40 * 5
    # --allow-unconverged: status 0, flagged in the table and the file
    out2 = tmp_path / "a.nc"
    assert main([*args(out2), "--allow-unconverged"]) == 0
    assert "WARNING" in capsys.readouterr().out
    with xr.open_datatree(out2) as t2:
        assert t2.attrs["converged"] == "no"


def test_cli_prior_only_keeps_the_prior_analysis(tmp_path, capsys):
    out = tmp_path / "p.nc"
    assert main(["analyze", str(MODELS / "kursk_2025.toml"), "--prior-only", "--draws", "300",
                 "--seed", "1", "--out", str(out), "--no-progress"]) == 0
    assert "calibration" not in capsys.readouterr().out
    with xr.open_datatree(out) as t:
        assert t.attrs["analysis"] == "prior" and "posterior" not in t.children


def test_cutoff_withholds_later_observations_and_scores_them(essay_path, tmp_path, capsys):
    cutoff = dt.date(2024, 9, 30)
    out = tmp_path / "c.nc"
    status = main(["analyze", str(essay_path), "--seed", "1", "--out", str(out),
                   "--draws", "200", "--mcmc-draws", "50", "--tune", "50", "--chains", "2",
                   "--cutoff", cutoff.isoformat(), "--allow-unconverged", "--no-progress"])
    assert status == 0
    text = capsys.readouterr().out
    assert "withheld observations" in text and "CRPS" in text
    with xr.open_datatree(out) as t:
        assert list(t["observed_data"]["observation"].values) == ["area_captured_aug"]
        assert list(t["observed_data"]["withheld"].values) == ["area_held_oct", "ru_buildup_dec"]
        assert t["posterior_predictive"]["y_withheld"].dims == ("chain", "draw", "withheld")
        assert 0.0 <= t["diagnostics"].attrs["forecast_coverage_90"] <= 1.0
        assert t.attrs["calibration_cutoff"] == "2024-09-30"
    # the forecast table from the saved calibration
    import arviz as az

    fc = forecast_table(az.from_netcdf(out))
    assert list(fc.index) == ["area_held_oct", "ru_buildup_dec"] and (fc["crps"] > 0).all()


@pytest.mark.parametrize(("cutoff", "path"), [(dt.date(2024, 8, 10), "observations"),
                                              (dt.date(2025, 2, 1), "cutoff")])
def test_bad_cutoff(spec_2025, cutoff, path):
    with pytest.raises(SpecError) as exc:
        calibration_setup(spec_2025, cutoff=cutoff)
    assert exc.value.path == path


def test_cli_bad_cutoff_exits_2(tmp_path, capsys):
    out = tmp_path / "x.nc"
    assert main(["analyze", str(MODELS / "kursk_2024.toml"), "--cutoff", "2024-09-01",
                 "--out", str(out), "--no-progress"]) == 2
    assert "cutoff" in capsys.readouterr().err and not out.exists()
    with pytest.raises(SystemExit):
        main(["analyze", str(MODELS / "kursk_2025.toml"), "--cutoff", "Sept", "--out", str(out)])


def test_crps_of_an_ensemble_matches_the_normal_closed_form():
    rng = np.random.default_rng(0)
    mu, sigma = 3.0, 2.0
    draws = mu + sigma * rng.standard_normal(200_000)
    for y in (-1.0, 3.0, 4.5, 9.0):
        assert crps_ensemble(draws, y) == pytest.approx(float(crps_normal(mu, sigma, y)),
                                                        rel=5e-3)
    # exact small cases: one draw is the absolute error; two draws by hand
    assert crps_ensemble(np.array([2.0]), 5.0) == pytest.approx(3.0)
    assert crps_ensemble(np.array([0.0, 2.0]), 1.0) == pytest.approx(1.0 - 0.5 * 1.0)
    # vectorised over outcomes
    got = crps_ensemble(np.tile(draws[:1000], (3, 1)), np.array([0.0, 3.0, 6.0]))
    assert got.shape == (3,)
    # the closed form at the mean: sigma (sqrt(2/pi) - 1/sqrt(pi))
    assert float(crps_normal(0.0, 1.0, 0.0)) == pytest.approx(
        math.sqrt(2 / math.pi) - 1 / math.sqrt(math.pi))


def test_parameter_recovery(spec_2025, compiled_2025):
    """Synthetic observations from known parameters: the truth is inside the 90% intervals."""
    idata, truth, values = recovery_run(spec_2025, compiled_2025, seed=11)
    lo_ok, hi_ok, names = recovery_checks(idata, truth, values)
    assert (lo_ok & hi_ok).all(), [n for n, a, b in zip(names, lo_ok, hi_ok, strict=True)
                                    if not (a and b)]
    np.testing.assert_array_equal(idata.observed_data["y"].values, values)


def recovery_run(spec, compiled, seed: int, draws: int = 250, tune: int = 250):
    """The calibration of :func:`test_parameter_recovery`: observations computed from the
    inputs at their prior quantiles 0.35 / 0.65 (alternately), without noise."""
    setup = compiled.setup
    u = np.where(np.arange(len(spec.input_names)) % 2 == 0, 0.35, 0.65)
    truth = np.array([spec.inputs[n].dist.ppf(np.array([q]))[0]
                      for n, q in zip(spec.input_names, u, strict=True)])
    values = skeleton_numpy(truth[None], setup.omap)[0]
    cc = compiled.with_values(values)
    idata = calibrate(spec, seed=seed, draws=draws, tune=tune, chains=2, compiled=cc)
    return idata, truth[setup.cols], values


def recovery_checks(idata, truth, values):
    """Is each true parameter and each observation inside the central 90% posterior
    interval, within Monte Carlo error? (issue 22, item 1)

    The claim is about the exact posterior: its CDF at the truth, ``u = P(theta <= t)``,
    lies in [0.05, 0.95]. The estimate ``u_hat`` (share of the draws below the truth) has
    the MCSE of a mean of MCMC draws of an indicator (ArviZ, ESS of the chains); the test
    allows :func:`_mc.sidak_z` of them over the ``2 (k + m)`` one-sided comparisons.

    Returns
    -------
    lo_ok, hi_ok : bool arrays (k + m,)
    names : list of str
    """
    post = idata.posterior
    th = post["theta"].transpose("chain", "draw", "parameter").values
    mu = post["mu"].transpose("chain", "draw", "observation").values
    x = np.concatenate([th, mu], axis=-1)
    t = np.concatenate([truth, values])
    below = (x <= t).astype(float)  # (chain, draw, k + m)
    u = below.mean(axis=(0, 1))
    se = np.nan_to_num(mcse_mean(below))
    z = sidak_z(2 * t.size)
    names = [*post["parameter"].values.tolist(), *post["observation"].values.tolist()]
    return u + z * se >= 0.05, u - z * se <= 0.95, names


def test_ranking_verdict_uses_only_reliable_weights():
    import pandas as pd

    from kursk_da.calibration._checks import ranking_verdict

    base = {"power": 1.0, "pareto_k": 0.0, "reliable": True, "ranking_changed": False}

    def table(*rows):
        return pd.DataFrame([base, *rows])

    ok = {"power": 0.8, "pareto_k": 0.3, "reliable": True, "ranking_changed": False}
    bad_changed = {"power": 0.5, "pareto_k": 0.9, "reliable": False, "ranking_changed": True}
    good_changed = {**ok, "ranking_changed": True}
    assert ranking_verdict(table(ok, bad_changed)) == "no"
    assert ranking_verdict(table(good_changed)) == "yes"
    assert ranking_verdict(table(bad_changed)) == "inconclusive"


def test_lane_parallel_complex_step_equals_one_complex_run_per_input(spec_2025):
    """The vectorised Jacobian (first-order complex functions, lanes in groups) against
    the plain complex step: one run per input with NumPy's complex arithmetic; the values
    (real parts of the first lane) against a real run."""
    from kursk_da.calibration._skeleton import _H, _LANES, _run

    setup = calibration_setup(spec_2025)
    om = setup.omap
    assert len(setup.cols) > _LANES  # more than one group, the last one partial
    theta = sample_inputs(spec_2025, 4, np.random.default_rng(11))
    for row in theta:
        mu, jac = skeleton_numba(row[setup.cols], row, setup.cols, om)
        real = np.empty(len(om.days))
        _run(row.copy(), om.const, om.ref, om.days, om.states, om.garrison, real, om.modes,
             om.ref_days, om.params)
        np.testing.assert_allclose(mu, real, rtol=1e-12, atol=1e-12 * np.abs(real).max())
        for j, c in enumerate(setup.cols):
            pc = row.astype(np.complex128)
            pc[c] += 1j * _H
            out = np.empty(len(om.days), dtype=np.complex128)
            _run(pc, om.const, om.ref, om.days, om.states, om.garrison, out, om.modes,
                 om.ref_days, om.params)
            want = out.imag / _H
            np.testing.assert_allclose(jac[:, j], want, rtol=1e-12,
                                       atol=1e-12 * np.abs(want).max())


def test_sampler_defaults_are_the_same_everywhere():
    """The CLI, kd.analyze and compare_variants spell the calibration defaults as literals
    (so that loading them does not import PyMC); they must equal the library's."""
    import argparse
    import inspect

    import kursk_da as kd
    from kursk_da.calibration._sampling import DEFAULT_DRAWS, DEFAULT_TUNE
    from kursk_da.cli import build_parser
    from kursk_da.sensitivity import compare_variants

    for fn in (kd.analyze, compare_variants):
        sig = inspect.signature(fn)
        assert sig.parameters["tune"].default == DEFAULT_TUNE
        assert sig.parameters["mcmc_draws"].default == DEFAULT_DRAWS
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for cmd in ("analyze", "variants"):
        ns = sub.choices[cmd].parse_args(["x.toml", "--out", "x.nc"])
        assert (ns.tune, ns.mcmc_draws) == (DEFAULT_TUNE, DEFAULT_DRAWS), cmd


def test_prior_sensitivity_ties_options_of_the_same_value_in_every_draw(spec_2025, short_idata):
    """Two options with the same value in every draw tie exactly under every prior power
    (``a = b`` in the ranking), so no reweighting reports a change of the ranking; the
    weighted expected values are the independent ``w @ values`` of each column."""
    from kursk_da.calibration._checks import _ranking, prior_sensitivity
    from kursk_da.decision._metrics import same_value_as as _same_as

    n_post = short_idata.posterior.sizes["chain"] * short_idata.posterior.sizes["draw"]
    rng = np.random.default_rng(3)
    names = list(spec_2025.option_names)
    # options 10 apart, noise N(0, 1): any reweighting is a convex combination of draws, so
    # a weighted difference of two options lies within 10 -+ max|noise_i - noise_j| (< 10
    # here): the ranking cannot change whatever weights a machine's posterior draws give
    # (with spacing 1 a low-ESS power-scaling did reorder them)
    values = rng.normal(0.0, 1.0, (n_post, len(names))) + 10.0 * np.arange(len(names))[::-1]
    noise = values - 10.0 * np.arange(len(names))[::-1]
    assert np.abs(noise[:, :, None] - noise[:, None, :]).max() < 10.0  # the premise
    values[:, -1] = values[:, 0]  # the last option copies the first in every draw
    table = prior_sensitivity(spec_2025, short_idata, values)
    assert not table["ranking_changed"].any()
    assert all(f"{names[0]} = {names[-1]}" in r for r in table["ranking"])
    assert (table["best"] == names[0]).all()
    assert list(_same_as(values)) == [*range(len(names) - 1), 0]
    ev = np.array([3.0, 1.0, 2.0, 1.0])
    assert _ranking(ev, list("abcd"), np.array([0, 1, 2, 1])) == "a > c > b = d"
    assert _ranking(ev, list("abcd"), np.arange(4)) == "a > c > b > d"
