"""Plots of a result set: trajectories, decision, priors, calibration (ArviZ), VOI (matplotlib).

Each function takes a result set (or the group's Dataset) and returns a
:class:`matplotlib.figure.Figure`; nothing is shown or saved implicitly.
"""

from __future__ import annotations

from kursk_da.plots._calibration import (
    diagnostics_table,
    plot_ppc,
    plot_prior_posterior,
    plot_rank,
    plot_trace,
)
from kursk_da.plots._decision import plot_decision_metrics, plot_value_distribution
from kursk_da.plots._priors import ESSAY_FIGURES, plot_prior_inputs, plot_prior_predictive
from kursk_da.plots._trajectories import (
    plot_area_held,
    plot_casualties,
    plot_fan,
    plot_forces,
    plot_retention,
    trajectory,
)
from kursk_da.plots._voi import (
    plot_acceptability,
    plot_evppi,
    plot_simplex,
    plot_sobol,
    plot_tornado,
    save_all_plots,
)

__all__ = ["plot_evppi", "plot_tornado", "plot_sobol", "plot_acceptability", "plot_simplex",
           "save_all_plots"]
__all__ += ["plot_fan", "plot_area_held", "plot_forces", "plot_casualties", "plot_retention",
            "plot_value_distribution", "plot_decision_metrics", "plot_prior_predictive",
            "plot_prior_inputs", "plot_trace", "plot_rank", "diagnostics_table", "plot_ppc",
            "plot_prior_posterior", "trajectory", "ESSAY_FIGURES"]
from kursk_da.plots import _policy  # noqa: E402 - policy figures (issue 13)
from kursk_da.plots._policy import *  # noqa: E402, F403

__all__ += _policy.__all__
from kursk_da.plots import _hindcast  # noqa: E402 - hindcast figures (issue 11)
from kursk_da.plots._hindcast import *  # noqa: E402, F403

__all__ += _hindcast.__all__
from kursk_da.plots import _evidence  # noqa: E402 - claimant biases and variants (issue 11)
from kursk_da.plots._evidence import *  # noqa: E402, F403

__all__ += _evidence.__all__
