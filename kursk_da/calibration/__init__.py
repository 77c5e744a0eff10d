"""Bayesian calibration of the campaign parameters with PyMC/nutpie and ArviZ diagnostics.

Pipeline (``docs/calibration.md``): the spec's ``[[observations]]``
(:mod:`kursk_da.spec._observations`) -> :func:`build_model` (a ``pm.Model`` whose
skeleton is the engine's own ``step``) -> :func:`calibrate` (NUTS, an
``arviz.InferenceData``) -> :func:`diagnose` (R-hat, ESS, MCSE, divergences, tree depth,
E-BFMI; pass/fail gate) -> checks of fit (:mod:`kursk_da.calibration._checks`) ->
:func:`run_calibration` (all of it, as a plain :class:`Calibration` object) ->
:func:`posterior_input_matrix` (the engine inputs of the posterior). The orchestrator
:func:`kursk_da.analysis.analyze` runs the engine on them and :mod:`kursk_da.io` builds
the result set; nothing here builds one.

Importing this package imports PyMC; ``import kursk_da`` does not.
"""

from kursk_da.calibration._checks import (
    contraction,
    forecast_table,
    ppc_table,
    prior_sensitivity,
)
from kursk_da.calibration._diagnostics import THRESHOLDS, Diagnostics, diagnose, diagnostics_table
from kursk_da.calibration._hindcast import DEFAULT_ORIGINS, HindcastResult, run_hindcast
from kursk_da.calibration._model import CalibrationSetup, build_model, calibration_setup
from kursk_da.calibration._propagate import posterior_input_matrix
from kursk_da.calibration._result import Calibration, calibration_from_posterior, run_calibration
from kursk_da.calibration._sampling import (
    CALIBRATE_OPTIONS,
    CompiledCalibration,
    calibrate,
    compile_calibration,
    from_posterior,
)
from kursk_da.calibration._scoring import crps_ensemble, crps_normal, interval_covers

__all__ = [
    "CALIBRATE_OPTIONS",
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
    "run_calibration",
    "calibration_from_posterior",
    "from_posterior",
    "Calibration",
    "posterior_input_matrix",
    "crps_ensemble",
    "crps_normal",
    "interval_covers",
    "run_hindcast",
    "HindcastResult",
    "DEFAULT_ORIGINS",
]
