"""Result set: schema, netCDF round trip, atomic writes, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from kursk_da.analysis import analyze
from kursk_da.errors import ResultFileError
from kursk_da.io import load_result_set, options_table, save_result_set
from kursk_da.io._resultset import REQUIRED


def test_schema(small_tree, spec_2025):
    assert set(small_tree.children) >= {"prior", "decision", "trajectories"}
    dec = small_tree["decision"].dataset
    assert dec["value"].dims == ("draw", "option")
    assert list(dec["option"].values) == list(spec_2025.option_names)
    tr = small_tree["trajectories"].dataset
    assert tr["area_held"].dims == ("option", "draw", "date")
    assert tr["area_held"].attrs["units"] == "km2"
    assert tr["retention_probability"].dims == ("option", "date")
    assert tr.sizes["date"] == spec_2025.n_days
    assert str(tr["date"].values[0])[:10] == "2024-08-06"
    for group, names in REQUIRED.items():
        for name in names:
            assert name in small_tree[group].dataset
    for key in ("kursk_da_version", "spec_sha256", "seed", "created"):
        assert key in small_tree.attrs
    assert small_tree.attrs["spec_sha256"] == spec_2025.sha256
    prior = small_tree["prior"].dataset
    assert prior["ru_garrison"].dims == ("chain", "draw")
    assert prior["ru_garrison"].attrs["units"] == "troops"


def test_retention_probability_matches_stored_trajectories(spec_2025):
    """With every draw stored, P(retained) is the mean of the stored indicator."""
    spec = spec_2025.with_parameter("ru_garrison", {"dist": "lognormal", "median": 6000,
                                                    "sigma": 0.3, "units": "troops"})
    tree = analyze(spec, draws=150, seed=2, prior_only=True)
    tr = tree["trajectories"].dataset
    expected = (tr["area_held"] >= spec.retention_threshold).mean("draw")
    np.testing.assert_allclose(tr["retention_probability"], expected)


def test_round_trip_identical(small_tree, tmp_path):
    path = save_result_set(small_tree, tmp_path / "sub" / "r.nc")
    back = load_result_set(path)
    xr.testing.assert_identical(small_tree, back)
    assert "EVPI" in options_table(back)
    with xr.open_datatree(path) as opened:
        assert "decision" in opened.children


def test_arviz_reads_result_set(small_tree, tmp_path):
    import arviz as az

    path = save_result_set(small_tree, tmp_path / "r.nc")
    idata = az.from_netcdf(path)
    assert "prior" in idata.groups()
    assert idata.prior["ru_garrison"].sizes["chain"] == 1


def test_atomic_write_leaves_nothing_on_error(small_tree, tmp_path, monkeypatch):
    def boom(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(xr.DataTree, "to_netcdf", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        save_result_set(small_tree, tmp_path / "r.nc")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_old_file_on_error(small_tree, tmp_path, monkeypatch):
    target = save_result_set(small_tree, tmp_path / "r.nc")
    before = target.read_bytes()

    def boom(self, path, *args, **kwargs):
        with open(path, "wb") as fh:  # a partial write, then failure
            fh.write(b"partial")
        raise RuntimeError("killed")

    monkeypatch.setattr(xr.DataTree, "to_netcdf", boom)
    with pytest.raises(RuntimeError):
        save_result_set(small_tree, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.nc"]


@pytest.mark.parametrize("content", [b"", b"not a netcdf file", b"\x89HDF\r\n\x1a\n garbage"])
def test_corrupt_file_refused(tmp_path, content):
    bad = tmp_path / "bad.nc"
    bad.write_bytes(content)
    with pytest.raises(ResultFileError, match="bad.nc"):
        load_result_set(bad)


def test_netcdf_without_schema_refused(tmp_path):
    path = tmp_path / "other.nc"
    xr.Dataset({"x": ("t", [1.0, 2.0])}).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(ResultFileError, match="missing root attribute"):
        load_result_set(path)


def test_same_seed_identical_results(spec_2025):
    a = analyze(spec_2025, draws=1200, seed=3, chunk_size=500, prior_only=True)
    b = analyze(spec_2025, draws=1200, seed=3, chunk_size=500, n_jobs=1, prior_only=True)
    for group in ("prior", "decision", "trajectories"):
        xr.testing.assert_identical(a[group].dataset, b[group].dataset)
    c = analyze(spec_2025, draws=1200, seed=4, chunk_size=500, prior_only=True)
    assert not np.array_equal(a["decision"]["value"].values, c["decision"]["value"].values)


def test_chunks_keyed_to_position(spec_2025):
    """The first chunk's draws do not depend on how many chunks follow."""
    a = analyze(spec_2025, draws=500, seed=9, chunk_size=500, prior_only=True)
    b = analyze(spec_2025, draws=1500, seed=9, chunk_size=500, prior_only=True)
    np.testing.assert_array_equal(a["decision"]["value"].values,
                                  b["decision"]["value"].values[:500])


def test_written_file_has_the_usual_mode(small_tree, tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        path = save_result_set(small_tree, tmp_path / "r.nc")
    finally:
        os.umask(umask)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_options_with_the_same_value_in_every_draw_keep_stored_order_and_are_named(small_tree):
    """Ties (e.g. a rule whose trigger fires at once) rank in stored option order, and the
    table says which option copies which; P(best) gives ties to the first option too."""
    from kursk_da.io import identical_options, options_frame

    tree = small_tree.copy()
    dec = tree["decision"].dataset.copy()
    names = [str(o) for o in dec["option"].values]
    first, last = names[0], names[-1]
    value = dec["value"].copy()
    value.loc[{"option": last}] = value.sel(option=first).values
    ev = dec["expected_value"].copy()
    ev.loc[{"option": last}] = float(ev.sel(option=first))
    # the tied pair ranks above every other option, whatever the sort's algorithm
    ev.loc[{"option": last}] = ev.loc[{"option": first}] = float(ev.max()) + 1.0
    tree["decision"] = xr.DataTree(dec.assign(value=value, expected_value=ev))
    order = list(options_frame(tree).index)
    assert order[:2] == [first, last]
    assert identical_options(tree) == [(first, last)]
    text = options_table(tree)
    assert f"{last} has the value of {first} in every draw" in text
    assert identical_options(small_tree) == []
    assert "in every draw" not in options_table(small_tree)


# ------------------------------------------------------- schema 4: the ArviZ groups (issue 22)
@pytest.fixture(scope="module")
def given_posterior_tree(tmp_path_factory):
    """A posterior result set of made-up draws (prior draws of the sampled inputs, two
    chains): the groups a calibration writes, without sampling."""
    import kursk_da as kd
    from kursk_da.calibration import calibration_setup
    from kursk_da.spec import sample_inputs
    from tests._essay import write_essay_spec

    spec = kd.load_spec(write_essay_spec(tmp_path_factory.mktemp("essay")))
    setup = calibration_setup(spec)
    x = sample_inputs(spec, 100, np.random.default_rng(0))[:, setup.cols].reshape(2, 50, -1)
    post = xr.Dataset({n: (("chain", "draw"), x[..., j]) for j, n in enumerate(setup.sampled)})
    return kd.analyze(spec, draws=200, seed=1, posterior=post), setup


def test_calibration_groups_follow_the_documented_schema(given_posterior_tree):
    from kursk_da.io._resultset import RESULT_SCHEMA
    from tests._schema_docs import documented

    tree, setup = given_posterior_tree
    assert tree.attrs["result_schema"] == RESULT_SCHEMA == "4"
    assert list(tree["posterior"].data_vars) == list(setup.sampled)  # the parameters only
    for group in ("posterior_deterministic", "observed_data", "posterior_predictive",
                  "constant_data"):
        assert set(tree[group].data_vars) <= documented(f"/{group}"), group
    assert set(tree["posterior_deterministic"].data_vars) == {"mu"}
    obs = tree["observed_data"].dataset
    assert obs["y"].attrs["units"] == "per observation (coordinate observation_units)"
    assert [str(u) for u in obs["observation_units"].values] == [o.units for o in setup.used]


def test_every_dimension_is_a_named_one_of_dims(given_posterior_tree):
    import kursk_da.dims as dims

    vocabulary = {getattr(dims, n) for n in dims.__all__ if isinstance(getattr(dims, n), str)}
    tree, _ = given_posterior_tree
    found = {str(d) for node in tree.subtree for d in node.dataset.dims}
    assert found <= vocabulary, found - vocabulary
