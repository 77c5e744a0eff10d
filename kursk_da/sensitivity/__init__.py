"""Sensitivity and robustness analysis of the campaign model (wrappers over spec and engine).

* :func:`tornado` -- one-way sensitivity (partial expected values) and thresholds;
* :func:`campaign_sobol` -- Sobol' indices of each option's value by re-running the engine;
* :func:`campaign_main_effects` -- first-order indices from a run's draws;
* :func:`scenario_comparison`, :func:`acceptability_curve`, :func:`simplex_regions`,
  :func:`risk_attitude` -- robustness to scenarios, weights and risk attitude;
* :func:`compare_variants` -- competing model structures calibrated, compared by PSIS-LOO
  and stacked (imports PyMC when called).

The general-purpose estimators on plain arrays (:func:`kursk_da.stats._sobol`,
:func:`kursk_da.stats._main_effects`) live in :mod:`kursk_da.stats`.
"""

from __future__ import annotations

from kursk_da.sensitivity._campaign import campaign_sobol
from kursk_da.sensitivity._main_effects import campaign_main_effects
from kursk_da.sensitivity._robustness import (
    acceptability_curve,
    risk_attitude,
    scenario_comparison,
    simplex_regions,
)
from kursk_da.sensitivity._tornado import tornado
from kursk_da.sensitivity._twoway import two_way
from kursk_da.sensitivity._variants import compare_variants

__all__ = [
    "tornado",
    "campaign_sobol",
    "campaign_main_effects",
    "scenario_comparison",
    "acceptability_curve",
    "simplex_regions",
    "risk_attitude",
    "two_way",
    "compare_variants",
]
