"""VOI groups in the result set, the voi / sensitivity sub-commands, and the plots."""

from __future__ import annotations

import warnings

import matplotlib
import pytest
import xarray as xr

from kursk_da.cli import main
from kursk_da.io import load_result_set, save_result_set
from kursk_da.io._resultset import spec_from_tree
from kursk_da.io._voi_groups import add_voi_groups
from kursk_da.plots import (
    plot_acceptability,
    plot_evppi,
    plot_simplex,
    plot_sobol,
    plot_tornado,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def full_result(small_tree, tmp_path_factory):
    d = tmp_path_factory.mktemp("voi")
    src = save_result_set(small_tree, d / "r.nc")
    assert main(["voi", str(src), "--out", str(d / "v.nc"), "--evsi", "strike_attrition",
                 "--gp-max-draws", "1000", "--top", "3"]) == 0
    assert main(["sensitivity", str(d / "v.nc"), "--out", str(d / "s.nc"), "--tornado-draws",
                 "60", "--sobol-n", "16", "--draws", "300", "--top", "3",
                 "--plots", str(d / "plots")]) == 0
    return d


def test_result_set_has_the_groups_and_readers_accept_it(full_result):
    import arviz as az

    path = full_result / "s.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with xr.open_datatree(path) as tree:
            groups = set(tree.groups)
        idata = az.from_netcdf(path)
    assert {"/voi", "/sensitivity/tornado", "/sensitivity/sobol", "/scenarios/summary",
            "/scenarios/acceptability", "/scenarios/simplex", "/scenarios/risk"} <= groups
    assert "prior" in idata.groups()
    tree = load_result_set(path)
    assert "evsi" in tree["voi"].dataset
    assert {p.name for p in (full_result / "plots").iterdir()} == {
        "evppi.png", "tornado.png", "sobol.png", "acceptability.png", "simplex.png"}


def test_plots_work_on_a_loaded_result_set(full_result):
    tree = load_result_set(full_result / "s.nc")
    for func in (plot_evppi, plot_tornado, plot_sobol, plot_acceptability, plot_simplex):
        fig = func(tree)
        ax = fig.axes[0]
        assert ax.get_title() or fig.get_suptitle()
        if func is not plot_simplex:
            assert ax.get_xlabel()


def test_spec_round_trips_through_the_result_set(small_tree, spec_2025):
    spec = spec_from_tree(small_tree)
    assert spec.option_names == spec_2025.option_names
    assert spec.input_names == spec_2025.input_names
    assert set(spec.scenarios) == set(spec_2025.scenarios)


def test_add_voi_groups_keeps_the_rest(small_tree):
    tree = add_voi_groups(small_tree, sensitivity={"tornado": xr.Dataset({"a": 1.0})})
    assert tree.attrs == small_tree.attrs
    xr.testing.assert_identical(tree["decision"].to_dataset(), small_tree["decision"].to_dataset())
    with pytest.raises(ValueError, match="identifier"):
        add_voi_groups(small_tree, scenarios={"a b": xr.Dataset()})


def test_bad_source_exits_2(tmp_path, capsys):
    assert main(["voi", str(tmp_path / "missing.nc")]) == 2
    assert "not found" in capsys.readouterr().err


def test_table_frames_of_the_groups(full_result):
    import numpy as np

    from kursk_da.cli._voi import format_voi
    from kursk_da.sensitivity._groups import main_effects_frame, scenarios_frame, tornado_frame
    from kursk_da.voi._groups import evppi_frame, group_evppi_frame

    tree = load_result_set(full_result / "s.nc")
    voi = tree["voi"].to_dataset()
    p, g = evppi_frame(voi), group_evppi_frame(voi)
    assert list(p.index) == [str(n) for n in voi["parameter"].values]  # stored ranked
    assert np.all(np.diff(g.iloc[:, 0].to_numpy()) <= 0)
    text = format_voi(voi, limit=3)
    for name in p.index[:3]:
        assert f"\n{name:<28}{p.loc[name].iloc[0]:>12,.2f}" in text
    tor = tornado_frame(tree["sensitivity/tornado"].to_dataset())
    assert tor.columns[:3].tolist() == ["difference at 5% (dkm2)", "difference at 95% (dkm2)",
                                        "swing (dkm2)"]
    assert np.all(np.diff(tor["swing (dkm2)"].to_numpy()) <= 0)
    me = main_effects_frame(tree["sensitivity/main_effects"].to_dataset())
    assert np.all(np.diff(me["S1"].to_numpy()) <= 0) and list(me.columns) == ["S1", "SE"]
    sc = scenarios_frame(tree["scenarios/summary"].to_dataset())
    assert sc.columns[-1] == "best" and sc.index.name == "scenario"
