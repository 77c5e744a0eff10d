"""Plots of the value-of-information and sensitivity results (matplotlib).

Each function takes a result set (or the group's Dataset) and returns a
:class:`matplotlib.figure.Figure`; nothing is shown or saved implicitly.
"""

from __future__ import annotations

from kursk_da.plots.voi import (
    plot_acceptability,
    plot_evppi,
    plot_simplex,
    plot_sobol,
    plot_tornado,
    save_all_plots,
)

__all__ = ["plot_evppi", "plot_tornado", "plot_sobol", "plot_acceptability", "plot_simplex",
           "save_all_plots"]
