"""Every plot function on a result set loaded from netCDF returns a labelled Figure."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib.figure import Figure

from kursk_da import plots
from kursk_da.io import load_result_set, save_result_set
from kursk_da.plots._calibration import sampled_parameters
from kursk_da.plots._common import observations

matplotlib.use("Agg")

PRIOR_PLOTS = (plots.plot_area_held, plots.plot_forces, plots.plot_casualties,
               plots.plot_retention, plots.plot_value_distribution,
               plots.plot_decision_metrics, plots.plot_prior_predictive,
               plots.plot_prior_inputs)
CALIBRATION_PLOTS = (plots.plot_trace, plots.plot_rank, plots.plot_ppc,
                     plots.plot_prior_posterior)


@pytest.fixture(scope="module")
def loaded(small_tree, tmp_path_factory):
    path = save_result_set(small_tree, tmp_path_factory.mktemp("plots") / "r.nc")
    return load_result_set(path)


@pytest.fixture(scope="module")
def loaded_calibrated(small_tree, tmp_path_factory):
    from _calibrated import calibrated_tree

    path = tmp_path_factory.mktemp("cal") / "c.nc"
    save_result_set(calibrated_tree(small_tree), path)
    return load_result_set(path)


def _assert_labelled(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    assert fig.get_suptitle().strip() or any(ax.get_title().strip() for ax in fig.axes)
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert visible, "no visible axes"
    for ax in visible:
        assert ax.get_xlabel().strip(), f"axes {ax.get_title()!r} has no x label"
        assert ax.get_ylabel().strip(), f"axes {ax.get_title()!r} has no y label"


@pytest.mark.parametrize("func", PRIOR_PLOTS, ids=lambda f: f.__name__)
def test_plot_on_a_loaded_file(loaded, func):
    _assert_labelled(func(loaded))


@pytest.mark.parametrize("func", CALIBRATION_PLOTS, ids=lambda f: f.__name__)
def test_calibration_plot_on_a_loaded_file(loaded_calibrated, func):
    _assert_labelled(func(loaded_calibrated))


def test_area_held_shows_mean_decision_date_and_observations(loaded):
    fig = plots.plot_area_held(loaded)
    labels = {t.get_text() for t in fig.legends[0].get_texts()}
    assert "mean over all draws" in labels and "median" in labels
    assert any(lab.startswith("decision 2025-01-05") for lab in labels)
    if observations(loaded):
        assert "observed (interval)" in labels
    # one panel per option, each titled with the option's name
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == [str(o) for o in loaded["decision"]["option"].values]


def test_forces_has_a_buildup_row_aligned_with_the_garrison(loaded):
    import numpy as np

    from kursk_da.plots._trajectories import trajectory

    b = trajectory(loaded, "ru_buildup")
    g = loaded["prior"]["ru_garrison"].values[0, b["draw"].values]
    r = loaded["trajectories"]["russian_forces"].values
    np.testing.assert_allclose(b.values, r - g[None, :, None])
    assert len(plots.plot_forces(loaded).axes) == 3 * loaded["decision"].sizes["option"]


def test_prior_predictive_has_the_essay_figures(loaded):
    fig = plots.plot_prior_predictive(loaded)
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert any("1,250" in t for t in texts) and any("50,000" in t for t in texts)
    assert any("half" in t for t in texts)


def test_diagnostics_table_reads_the_group(loaded_calibrated):
    table = plots.diagnostics_table(loaded_calibrated)
    assert list(table.index) == ["ru_reinforcement_ceiling", "ru_reinforcement_rate",
                                 "advance_speed"]
    assert {"r_hat", "ess_bulk"} <= set(table.columns)


def test_trace_shows_the_sampled_parameters_only(loaded_calibrated):
    from _calibrated import PARAMS

    assert sampled_parameters(loaded_calibrated) == list(PARAMS)
    assert len(plots.plot_trace(loaded_calibrated).axes) == 2 * len(PARAMS)


def test_calibration_plots_need_a_posterior(loaded):
    with pytest.raises(KeyError, match="posterior"):
        plots.plot_trace(loaded)
