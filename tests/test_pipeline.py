"""The one orchestrator and the one result-set builder/reader (issue 9).

* ``kd.analyze`` calibrates when the spec has observations and gives the same result
  set as ``kursk-da analyze`` with the same arguments; ``prior_only=True`` the prior one.
* Prior and posterior result sets carry the same ``/prior`` attributes, and every
  variable of every group has ``units``.
* The spec round-trips through ``spec_json`` without repairs; older schema versions
  are read, unknown ones refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from _essay import write_essay_spec
from _mc import sidak_z

import kursk_da as kd
from kursk_da.cli import main
from kursk_da.dims import ATTRIBUTE
from kursk_da.errors import ResultFileError
from kursk_da.io._resultset import RESULT_SCHEMA, spec_from_tree, spec_to_json

MODELS = Path(__file__).resolve().parents[1] / "models"
SPEC = MODELS / "kursk_2025.toml"
SHORT = {"mcmc_draws": 40, "tune": 40, "chains": 2}
"""A short calibration: enough to exercise the pipeline, not to converge."""
PROVENANCE = {"created", "calibration_compile_seconds", "calibration_sampling_seconds",
              "spec_path", "compile_seconds", "sampling_seconds", "created_at"}
"""Attributes that record when and how fast a run went, not what it computed."""


@pytest.fixture(scope="module")
def essay_path(tmp_path_factory) -> Path:
    """The default spec on the essay's three figures (tests/_essay.py): the pipeline's
    calibration path at a fraction of the compile time of the 52 claims."""
    return write_essay_spec(tmp_path_factory.mktemp("essay"))


@pytest.fixture(scope="module")
def posterior_tree(essay_path) -> xr.DataTree:
    tree = kd.analyze(str(essay_path), draws=400, seed=2, **SHORT)
    return tree


@pytest.fixture(scope="module")
def prior_tree() -> xr.DataTree:
    return kd.analyze(SPEC, draws=300, seed=2, prior_only=True)


def _groups(tree: xr.DataTree) -> dict[str, xr.Dataset]:
    return {path: node.to_dataset() for path, node in tree.subtree_with_keys}


def test_analyze_calibrates_a_spec_with_observations(posterior_tree, prior_tree):
    assert posterior_tree.attrs["analysis"] == "posterior"
    assert {"posterior", "sample_stats", "diagnostics"} <= set(posterior_tree.children)
    assert "inputs" in posterior_tree["decision"].dataset
    assert prior_tree.attrs["analysis"] == "prior"
    assert "posterior" not in prior_tree.children


def test_library_and_cli_give_the_same_result_set(posterior_tree, essay_path, tmp_path):
    out = tmp_path / "cli.nc"
    status = main(["analyze", str(essay_path), "--draws", "400", "--seed", "2", "--out", str(out),
                   "--mcmc-draws", "40", "--tune", "40", "--chains", "2", "--no-progress",
                   "--allow-unconverged"])
    assert status == 0
    cli = kd.load_result_set(out)
    lib = _groups(posterior_tree)
    got = _groups(cli)
    assert set(got) == set(lib)
    for path, ds in lib.items():
        if path == ".":
            continue
        a, b = got[path].copy(), ds.load().copy()
        for d in (a, b):
            d.attrs = {k: v for k, v in d.attrs.items() if k not in PROVENANCE}
        xr.testing.assert_identical(a, b)
    keep = {k: v for k, v in posterior_tree.attrs.items() if k not in PROVENANCE}
    assert {k: cli.attrs[k] for k in keep} == keep


def test_prior_attributes_are_the_same_in_every_analysis(posterior_tree, prior_tree):
    spec = kd.load_spec(SPEC)
    for name in spec.input_names:
        a, b = prior_tree["prior"][name].attrs, posterior_tree["prior"][name].attrs
        assert {"units", "source", "group", "distribution"} <= set(a), name
        assert {k: a[k] for k in ("units", "source", "group", "distribution")} == \
            {k: b[k] for k in ("units", "source", "group", "distribution")}, name


@pytest.mark.parametrize("which", ["prior", "posterior"])
def test_every_variable_of_every_group_has_units(which, posterior_tree, prior_tree):
    tree = posterior_tree if which == "posterior" else prior_tree
    missing = [f"{path}/{name}" for path, ds in _groups(tree).items()
               for name in ds.data_vars if not ds[name].attrs.get("units")]
    assert missing == []


def test_attribute_units_are_a_coordinate(prior_tree):
    spec = kd.load_spec(SPEC)
    att = prior_tree["decision"]["attributes"]
    units = att[f"{ATTRIBUTE}_units"]
    assert units.dims == (ATTRIBUTE,)
    for a, u in zip(att[ATTRIBUTE].values, units.values, strict=True):
        assert u == spec.weights[str(a)].units.split("/", 1)[1]


def test_spec_round_trips_without_repairs(prior_tree):
    spec = kd.load_spec(SPEC)
    back = spec_from_tree(prior_tree)
    assert back.raw == spec.raw
    assert list(back.raw["options"]) == list(spec.raw["options"])  # order kept as written
    assert list(back.raw["parameters"]) == list(spec.raw["parameters"])
    assert back.sha256 == spec.sha256 == prior_tree.attrs["spec_sha256"]
    # the stored text is the spec's own order, not sorted keys
    assert list(json.loads(prior_tree.attrs["spec_json"])) == list(spec.raw)


def test_saved_and_loaded_spec_is_identical(prior_tree, tmp_path):
    path = kd.save_result_set(prior_tree, tmp_path / "p.nc")
    assert spec_from_tree(kd.load_result_set(path)).raw == kd.load_spec(SPEC).raw


def test_schema_version_1_files_are_still_read(prior_tree):
    spec = kd.load_spec(SPEC)
    old = prior_tree.copy()
    old.attrs = {**prior_tree.attrs, "result_schema": "1",
                 "spec_json": json.dumps(spec.raw, sort_keys=True, default=str)}
    kd.validate_result_set(old)
    assert spec_from_tree(old).raw == spec.raw


@pytest.mark.parametrize("version", ["99", "0", "5.1"])
def test_unknown_schema_versions_are_refused(prior_tree, version):
    bad = prior_tree.copy()
    bad.attrs = {**prior_tree.attrs, "result_schema": version}
    with pytest.raises(ResultFileError, match=f"result_schema '{version}'.*supported: 1, 2, 3, 4"):
        kd.validate_result_set(bad)


def test_corrupt_spec_json_is_a_result_file_error(prior_tree):
    bad = prior_tree.copy()
    bad.attrs = {**prior_tree.attrs, "spec_json": "{not json"}
    with pytest.raises(ResultFileError, match="spec_json is not valid JSON"):
        spec_from_tree(bad)


def test_spec_json_tags_dates():
    spec = kd.load_spec(SPEC)
    text = spec_to_json(spec)
    assert '{"$date": "2025-01-05"}' in text
    assert RESULT_SCHEMA == "4"


def test_functions_that_take_a_spec_accept_a_path():
    spec = kd.load_spec(SPEC)
    a = kd.run_engine(spec, 40, 3)
    b = kd.run_engine(str(SPEC), 40, 3)
    np.testing.assert_array_equal(a.values, b.values)
    with pytest.raises(kd.SpecError, match="spec: expected a Spec or the path"):
        kd.run_engine(3.0, 40, 3)  # type: ignore[arg-type]


def test_saved_posterior_set_works_with_the_arviz_toolbox(posterior_tree, essay_path,
                                                          tmp_path):
    import warnings

    import arviz as az
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = kd.save_result_set(posterior_tree, tmp_path / "post.nc")
    idata = az.from_netcdf(path)
    for g in ("log_likelihood", "log_prior", "prior_predictive"):
        assert g in idata.groups(), g
    spec = kd.load_spec(essay_path)
    n_obs = len(spec.observations)
    assert idata.log_likelihood["y"].shape == (2, 40, n_obs)
    # the log prior's parts add up to the joint prior density of the sampled inputs
    from kursk_da.calibration._checks import log_prior_density

    names = [str(p) for p in idata.posterior.data_vars]  # the parameters only (schema 4)
    assert names and set(names) <= set(spec.input_names)
    theta = np.stack([idata.posterior[n].transpose("chain", "draw").values for n in names], -1)
    joint = log_prior_density(spec, names, theta.reshape(-1, len(names)))
    parts = sum(idata.log_prior[v].values for v in idata.log_prior.data_vars)
    np.testing.assert_allclose(parts.ravel(), joint, rtol=1e-10, atol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a 80-draw run warns about Pareto k; it must run
        loo = az.loo(idata, pointwise=True)
        sens = az.psens(idata, component="prior")
    assert np.isfinite(loo.elpd_loo)
    assert set(sens.data_vars) >= set(names)
    axes = az.plot_ppc(idata, group="prior", num_pp_samples=20)
    assert np.size(axes) >= 1
    plt.close("all")


def test_posterior_mcse_uses_the_chains_per_posterior_draw_means(posterior_tree):
    """Issue 10, item 1: ArviZ MCSE of the per-posterior-draw means, not sd / sqrt(rows)."""
    import arviz as az

    dec = posterior_tree["decision"].dataset
    n_chain, n_draw = SHORT["chains"], SHORT["mcmc_draws"]
    per_draw = int(posterior_tree.attrs["draws_per_posterior_draw"])
    v = dec["value"].values
    g = v.reshape(n_chain, n_draw, per_draw, -1).mean(axis=2)
    expected = [float(np.ravel(az.mcse(g[..., j], method="mean"))[0]) for j in range(v.shape[1])]
    np.testing.assert_allclose(dec["expected_value_mcse"].values, expected, rtol=1e-12)
    assert "chains" in dec.attrs["mcse_design"]
    for name in ("value_difference", "prob_best", "expected_regret", "cvar", "evpi"):
        se = dec[f"{name}_mcse"].values
        assert np.all(np.isfinite(se)) and np.all(se >= 0), name


def test_posterior_trajectories_are_spread_over_every_chain(posterior_tree):
    """Issue 10, item 2: a thinned sample of the posterior, one replicate per draw."""
    tr = posterior_tree["trajectories"].dataset
    dec = posterior_tree["decision"].dataset
    n_chain, n_draw = SHORT["chains"], SHORT["mcmc_draws"]
    per_draw = int(posterior_tree.attrs["draws_per_posterior_draw"])
    chain, draw = tr["posterior_chain"].values, tr["posterior_draw"].values
    assert set(chain) == set(range(n_chain))
    assert np.bincount(chain).min() == np.bincount(chain).max()  # every chain equally
    rows = tr["draw"].values
    np.testing.assert_array_equal(rows, (chain * n_draw + draw) * per_draw)
    # the stored trajectory of a row is that row of /decision
    np.testing.assert_array_equal(tr["area_held"].isel(date=-1).values,
                                  dec["attributes"].sel(draw=rows, attribute="kursk_area_final")
                                  .transpose("option", "draw").values)
    # their mean area by date matches the all-draw mean within Monte Carlo error
    gap, se, bound = stored_mean_gap(posterior_tree)
    assert bool((np.abs(gap) <= bound).all()), float(np.max(np.abs(gap) / np.maximum(se, 1e-300)))


def stored_mean_gap(tree: xr.DataTree) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gap between the mean area of the stored trajectories and the all-draw mean, its
    standard error and the tolerance, over (option, date) (issue 22, item 1).

    Derivation. Row ``(p, r)`` of the engine is replicate ``r < R`` of posterior draw ``p``
    (``N`` of them, chain-major); its area is ``x_pr = m(theta_p) + e_pr`` with front shocks
    ``e_pr`` independent across rows, of variance ``v(theta_p)``. The stored rows are
    ``r = 0`` of every posterior draw (``N <= decision.trajectories``), so the gap is
    ``mean_p (x_p0 - xbar_p)``: the posterior draws ``theta_p`` are common to both means
    and their autocorrelation cancels (no ESS enters); given them, the ``N`` terms are
    independent with mean 0 and variance ``(1 - 1/R) v(theta_p)``. Hence
    ``Var(gap) = (1 - 1/R) / N^2 sum_p v(theta_p)``, estimated without bias by the sample
    variances of the ``R`` replicates of each draw; their daily trajectories come from
    re-running the engine on the stored input matrix (``/decision/inputs``, same seed:
    the same numbers, checked on the stored rows). Tolerance: :func:`_mc.sidak_z` over
    the 5 options x 333 dates. Where every replicate of every draw agrees (the foothold
    lost everywhere: ``v = 0``) the gap is exactly 0, up to the rounding of the means.
    """
    from kursk_da.engine._run import run_engine
    from kursk_da.io._resultset import _TRAJ_VARS

    tr = tree["trajectories"].dataset
    dec = tree["decision"].dataset
    per_draw = int(tree.attrs["draws_per_posterior_draw"])
    inputs = dec["inputs"].transpose("draw", ...).values
    n_rows = inputs.shape[0]
    out = run_engine(spec_from_tree(tree), n_rows, int(tree.attrs["seed"]), inputs=inputs,
                     trajectory_rows=np.arange(n_rows))
    area = np.moveaxis(out.trajectories[..., _TRAJ_VARS["area_held"][0]], 0, 1)  # opt, row, t
    stored = tr["area_held"].transpose("option", "draw", "date").values
    np.testing.assert_array_equal(area[:, tr["draw"].values], stored)  # the same numbers
    rep = area.reshape(area.shape[0], -1, per_draw, area.shape[-1])  # option, p, r, date
    n_post = rep.shape[1]
    assert stored.shape[1] == n_post  # one stored row per posterior draw
    gap = stored.mean(axis=1) - tr["area_held_mean"].transpose("option", "date").values
    var_p = rep.var(axis=2, ddof=1)  # (option, p, date)
    se = np.sqrt((1 - 1 / per_draw) * var_p.sum(axis=1)) / n_post
    rounding = 1e-9 * (1.0 + np.abs(area).max())
    return gap, se, sidak_z(gap.size) * se + rounding
