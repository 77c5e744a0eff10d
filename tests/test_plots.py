"""Every plot function on a result set loaded from netCDF returns a labelled Figure."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib.figure import Figure

from kursk_da import plots
from kursk_da.io import load_result_set, save_result_set
from kursk_da.plots._calibration import sampled_parameters

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
    assert "OSINT maps" in labels  # the claims (tests/test_claims_shown.py counts them)
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


def test_value_distribution_trims_without_piling_draws_on_the_edges(loaded):
    import numpy as np

    trim = 0.01
    fig = plots.plot_value_distribution(loaded, trim=trim)
    ax = fig.axes[0]
    v = loaded["decision"]["value"].transpose("draw", "option")
    lo, hi = np.quantile(v.values, [trim, 1 - trim])
    # each violin spans only the draws inside the range (none moved onto its ends)
    order = [t.get_text() for t in ax.get_yticklabels()]
    for body, option in zip(ax.collections, order, strict=False):
        x = body.get_paths()[0].vertices[:, 0]
        inside = v.sel(option=option).values
        inside = inside[(inside >= lo) & (inside <= hi)]
        assert x.min() >= inside.min() - 1e-9 and x.max() <= inside.max() + 1e-9
    # the share beyond each end is printed, computed from all draws
    texts = {t.get_text() for t in ax.texts}
    for option in order:
        x = v.sel(option=option).values
        below = np.mean(x < lo)
        if below >= 0.001:
            assert f"◀ {below:.1%} beyond" in texts
    labels = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"median (all draws)", "expected value ± 2 MCSE", "zero"} <= labels
    assert any(lab.startswith("CVaR") for lab in labels)
    assert any(lab.startswith("draws of the option inside the range") for lab in labels)
    assert f"{trim:.1%} to {1 - trim:.1%} quantiles" in ax.get_title()


def test_retention_options_differ_by_line_style_and_marker(loaded):
    fig = plots.plot_retention(loaded)
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_label() in
             {str(o) for o in loaded["decision"]["option"].values}]
    assert len(lines) == loaded["decision"].sizes["option"]
    styles = {(ln.get_linestyle(), ln.get_marker()) for ln in lines}
    assert len(styles) == len(lines)  # overlapping curves stay distinguishable
    assert len({ln.get_linestyle() for ln in lines}) >= min(4, len(lines))
    labels = {t.get_text() for t in fig.axes[0].get_legend().get_texts()}
    assert {ln.get_label() for ln in lines} <= labels
