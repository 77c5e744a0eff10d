"""Issue 22, items 6-7: the result set as ArviZ reads it, and a posterior given back.

Item 6: ``az.summary`` of the file lists the parameters only, every dimension is named
(from ``kursk_da/dims.py``), ``az.plot_ppc`` per quantity plots figures of one unit, old
files stay readable, Zarr stores reach ArviZ. Item 7: ``kd.analyze(spec, posterior=...)``
propagates a posterior obtained elsewhere (the calibration's own: the same numbers; nutpie
on ``kd.build_model`` after ``pm.observe``, with more draws), ``spec.with_observation``,
and the ``kd`` functions that take a result set take its path too.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
import xarray as xr

import kursk_da as kd
import kursk_da.dims as dims
from kursk_da.errors import ArgumentError, SpecError
from kursk_da.io import identical_options, options_frame, spec_from_tree, to_inference_data
from tests._essay import write_essay_spec

SHORT = {"mcmc_draws": 40, "tune": 60, "chains": 2}
DRAWS, SEED = 400, 2
VOCABULARY = {getattr(dims, n) for n in dims.__all__ if isinstance(getattr(dims, n), str)}


@pytest.fixture(scope="module")
def essay(tmp_path_factory):
    return kd.load_spec(write_essay_spec(tmp_path_factory.mktemp("essay")))


@pytest.fixture(scope="module")
def analysis(essay):
    return kd.run_analysis(essay, DRAWS, SEED, **SHORT)


@pytest.fixture(scope="module")
def saved(analysis, tmp_path_factory):
    return kd.save_result_set(analysis.tree, tmp_path_factory.mktemp("r") / "post.nc")


def _all_dims(idata) -> set[str]:
    return {str(d) for g in idata.groups() for d in idata[g].dims}


def test_summary_of_the_file_lists_the_parameters_only(saved, analysis):
    import arviz as az

    idata = az.from_netcdf(saved)
    summary = az.summary(idata)
    sampled = analysis.calibration.sampled
    assert list(summary.index) == sampled  # no theta[...], no mu[...], no *_unit
    assert np.isfinite(summary["r_hat"].to_numpy(dtype=float)).all()
    assert "mu" in idata["posterior_deterministic"]
    unnamed = [d for d in _all_dims(idata) if re.search(r"_dim_\d+$", d)]
    assert unnamed == []
    # every dimension of the ArviZ groups is one of the package's named dimensions
    arviz_groups = ("posterior", "posterior_predictive", "observed_data", "constant_data",
                    "log_likelihood", "log_prior", "prior_predictive", "prior",
                    "posterior_deterministic", "unconstrained_posterior")
    used = {str(d) for g in arviz_groups if g in idata.groups() for d in idata[g].dims}
    assert used <= VOCABULARY, used - VOCABULARY


def test_observed_data_has_units_per_observation(saved, essay):
    import arviz as az

    idata = az.from_netcdf(saved)
    obs = idata.observed_data
    by_name = {o.name: o for o in essay.observations}
    names = [str(n) for n in obs["observation"].values]
    assert [str(u) for u in obs["observation_units"].values] == [by_name[n].units
                                                                 for n in names]
    assert [str(q) for q in obs["observation_quantity"].values] == [by_name[n].quantity
                                                                    for n in names]
    assert obs["y"].attrs["units"] == "per observation (coordinate observation_units)"
    for g in ("posterior_predictive", "prior_predictive", "log_likelihood",
              "posterior_deterministic"):
        for c in ("observation_units", "observation_quantity"):
            np.testing.assert_array_equal(idata[g][c].values, obs[c].values, err_msg=g)


def test_plot_ppc_per_quantity_on_the_file(saved):
    """Each quantity's panel holds figures of one unit and its observed values."""
    import arviz as az
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idata = az.from_netcdf(saved)
    obs = idata.observed_data
    quantities = sorted({str(q) for q in obs["observation_quantity"].values})
    assert len({str(u) for u in obs["observation_units"].values}) >= 2  # mixed units
    for q in quantities:
        mask = obs["observation_quantity"].values == q
        names = obs["observation"].values[mask]
        assert len({str(u) for u in obs["observation_units"].values[mask]}) == 1
        # the empirical CDFs: a quantity with a single figure has no kernel density
        axes = az.plot_ppc(idata, coords={"observation": list(names)}, num_pp_samples=10,
                           random_seed=0, kind="cumulative" if len(names) == 1 else "kde")
        ax = np.ravel(axes)[0]
        lo, hi = ax.get_xlim()
        assert lo <= float(obs["y"].values[mask].min()) and float(obs["y"].values[mask].max()) <= hi
        plt.close("all")


def test_files_of_schema_3_are_still_read(analysis, tmp_path):
    """The layout of schema 3 (theta, mu and *_unit in /posterior) loads and plots."""
    from kursk_da.plots import plot_prior_posterior, plot_trace

    tree = analysis.tree.copy()
    post = analysis.calibration.idata["posterior"]
    tree["posterior"] = xr.DataTree(post)
    del tree["posterior_deterministic"]
    tree.attrs["result_schema"] = "3"
    path = kd.save_result_set(tree, tmp_path / "v3.nc")
    back = kd.load_result_set(path)
    assert back.attrs["result_schema"] == "3"
    assert "theta" in back["posterior"].dataset
    for plot in (plot_trace, plot_prior_posterior):
        fig = plot(back)
        assert fig.axes
    # and the posterior of an old file can be propagated again
    again = kd.analyze(spec_from_tree(back), DRAWS, SEED, posterior=back)
    xr.testing.assert_identical(again["decision"].dataset.drop_attrs(),
                                analysis.tree["decision"].dataset.drop_attrs())


def test_zarr_store_reaches_arviz(analysis, saved, tmp_path):
    import arviz as az

    store = kd.save_result_set(saved, tmp_path / "post.zarr")  # a path: a copy
    idata = to_inference_data(store)
    ref = az.from_netcdf(saved)
    assert set(ref.groups()) <= set(idata.groups())
    got, want = az.summary(idata), az.summary(ref)  # Zarr lists the variables by name
    assert sorted(got.index) == sorted(want.index)
    np.testing.assert_array_equal(got.loc[want.index, "mean"].values, want["mean"].values)


# ---------------------------------------------------------------- item 7: round trip
def test_the_calibrations_own_posterior_gives_the_same_result_set(analysis, essay):
    again = kd.run_analysis(essay, DRAWS, SEED, posterior=analysis.calibration.idata)
    for group in ("decision", "trajectories", "posterior", "posterior_predictive",
                  "log_likelihood", "prior"):
        xr.testing.assert_identical(again.tree[group].dataset.drop_attrs(),
                                    analysis.tree[group].dataset.drop_attrs())
    assert again.tree.attrs["calibration_sampler"].startswith("given")
    assert again.calibration.diagnostics.table.equals(analysis.calibration.diagnostics.table)


def test_a_posterior_from_the_pymc_model_after_observe_propagates(essay, analysis):
    """``pm.observe`` on the model of ``kd.build_model`` (a new reported figure), more draws
    with nutpie, then through every option; the propagated inputs are those draws."""
    import nutpie
    import pymc as pm

    model = kd.build_model(essay)
    first = essay.observations[0]
    with model:  # one more claim: the first observation's quantity read again, 20% error
        pm.LogNormal("recount", mu=pm.math.log(model["mu"][0]), sigma=0.2)
    conditioned = pm.observe(model, {"recount": first.value * 1.1})
    compiled = nutpie.compile_pymc_model(conditioned, backend="numba")
    idata = nutpie.sample(compiled, draws=60, tune=60, chains=2, seed=5, progress_bar=False)
    res = kd.run_analysis(essay, DRAWS, SEED, posterior=idata)
    tree, cal = res.tree, res.calibration
    assert tree.attrs["analysis"] == "posterior"
    assert tree.attrs["calibration_draws"] == 60
    sampled = cal.sampled
    for name in sampled:
        np.testing.assert_array_equal(tree["posterior"][name].values,
                                      idata.posterior[name].transpose("chain", "draw").values)
    per_draw = int(tree.attrs["draws_per_posterior_draw"])
    inputs = tree["decision"]["inputs"].sel(parameter=sampled).values
    draws = np.stack([idata.posterior[n].values.ravel() for n in sampled], axis=-1)
    np.testing.assert_array_equal(inputs, np.repeat(draws, per_draw, axis=0))
    # the new claim moves the posterior: not the calibration's own draws
    assert tree["decision"]["expected_value"].sizes["option"] == len(essay.options)
    assert not np.array_equal(tree["posterior"][sampled[0]].values,
                              analysis.tree["posterior"][sampled[0]].values)


def test_a_posterior_without_a_parameter_is_refused_by_name(analysis, essay):
    post = analysis.calibration.idata["posterior"]
    name = analysis.calibration.sampled[1]
    with pytest.raises(SpecError, match=f"posterior: missing the parameter.*{name}"):
        kd.analyze(essay, DRAWS, SEED, posterior=post.drop_vars([name, "theta"]))
    with pytest.raises(SpecError, match="posterior: expected"):
        kd.analyze(essay, DRAWS, SEED, posterior=np.zeros((2, 3)))
    with pytest.raises(SpecError, match="posterior"):
        kd.analyze(essay, DRAWS, SEED, posterior=post, prior_only=True)


def test_functions_that_take_a_result_set_take_its_path(saved, analysis, tmp_path):
    kd.validate_result_set(saved)
    kd.validate_result_set(str(saved))
    assert kd.options_table(saved) == kd.options_table(analysis.tree)
    assert options_frame(saved).equals(options_frame(analysis.tree))
    assert identical_options(saved) == []
    copy = kd.save_result_set(str(saved), tmp_path / "copy.nc")
    xr.testing.assert_identical(kd.load_result_set(copy), kd.load_result_set(saved))
    with pytest.raises(kd.ResultFileError, match="missing.nc"):
        kd.validate_result_set(tmp_path / "missing.nc")
    with pytest.raises(ArgumentError, match="tree: expected a result set"):
        kd.options_table(3)  # type: ignore[arg-type]


# ---------------------------------------------------------------- spec.with_observation
def test_with_observation_adds_an_inline_observation(essay):
    table = {"name": "area_nov", "date": dt.date(2024, 11, 20), "quantity": "area_held",
             "value": 700.0, "interval": [500.0, 900.0], "level": 0.9,
             "source": "analyst judgement (test)"}
    more = essay.with_observation(table)
    assert len(more.observations) == len(essay.observations) + 1
    assert any(o.name == "area_nov" and o.value == 700.0 for o in more.observations)
    assert len(essay.observations) == len(essay.with_observation(table).observations) - 1
    k = len(essay.raw["observations"])
    with pytest.raises(SpecError, match=rf"observations\[{k}\]\.value"):
        essay.with_observation({**table, "value": 1000.0})  # outside its interval
    with pytest.raises(SpecError, match=rf"observations\[{k}\]\.name"):
        essay.with_observation({**table, "name": essay.observations[0].name})


def test_with_observation_adds_a_claim_row():
    spec = kd.load_spec("models/kursk_2025.toml")
    row = {"date": dt.date(2024, 12, 1), "quantity": "area_held", "value": 800,
           "claimant": "OSINT DeepState", "reported_on": dt.date(2024, 12, 2),
           "source": "analyst judgement (test)"}
    more = spec.with_observation(row)
    assert len(more.observations) == len(spec.observations) + 1
    new = [o for o in more.observations if o.source == "analyst judgement (test)"]
    assert len(new) == 1 and new[0].family == "osint_maps" and new[0].value == 800.0
    n = len(spec.raw["observations"]["rows"])
    with pytest.raises(SpecError, match=rf"observations\.file\[{n}\]\.reported_on"):
        spec.with_observation({**row, "reported_on": dt.date(2024, 11, 1)})
    with pytest.raises(SpecError, match="observation.sd: unknown column"):
        spec.with_observation({**row, "sd": 3.0})
