"""Bayesian calibration of the campaign parameters with PyMC/nutpie and ArviZ diagnostics.

Pipeline (``docs/calibration.md``): the spec's ``[[observations]]``
(:mod:`kursk_da.spec.observations`) -> :func:`build_model` (a ``pm.Model`` whose
skeleton is the engine's own ``step``) -> :func:`calibrate` (NUTS, an
``arviz.InferenceData``) -> :func:`diagnose` (R-hat, ESS, MCSE, divergences, tree depth,
E-BFMI; pass/fail gate) -> checks of fit (:mod:`kursk_da.calibration.checks`) ->
:func:`analyze_posterior` (posterior draws through every option; result set).

Importing this package imports PyMC; ``import kursk_da`` does not.
"""

from kursk_da.calibration.checks import (
    contraction,
    forecast_table,
    ppc_table,
    prior_sensitivity,
)
from kursk_da.calibration.diagnostics import THRESHOLDS, Diagnostics, diagnose, diagnostics_table
from kursk_da.calibration.model import CalibrationSetup, build_model, calibration_setup
from kursk_da.calibration.propagate import (
    PosteriorAnalysis,
    analyze_posterior,
    posterior_input_matrix,
)
from kursk_da.calibration.sampling import CompiledCalibration, calibrate, compile_calibration
from kursk_da.calibration.scoring import crps_ensemble, crps_normal, interval_covers
from kursk_da.calibration.text import calibration_text

__all__ = [
    "build_model",
    "calibration_setup",
    "CalibrationSetup",
    "calibrate",
    "compile_calibration",
    "CompiledCalibration",
    "diagnose",
    "diagnostics_table",
    "Diagnostics",
    "THRESHOLDS",
    "ppc_table",
    "contraction",
    "prior_sensitivity",
    "forecast_table",
    "analyze_posterior",
    "posterior_input_matrix",
    "PosteriorAnalysis",
    "crps_ensemble",
    "crps_normal",
    "interval_covers",
    "calibration_text",
]
