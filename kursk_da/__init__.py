"""kursk_da: Monte Carlo and Bayesian decision analysis of Ukraine's Kursk offensives.

Data flow: spec (:mod:`kursk_da.spec`) -> dynamics (:mod:`kursk_da.dynamics`) ->
engine (:mod:`kursk_da.engine`) -> decision (:mod:`kursk_da.decision`) -> value of
information / sensitivity (:mod:`kursk_da.voi`, :mod:`kursk_da.sensitivity`) -> io
(:mod:`kursk_da.io`) and the CLI (:mod:`kursk_da.cli`).  The general-purpose statistics on
plain arrays (EVPI, EVPPI, EVSI, Sobol' indices, main effects) are :mod:`kursk_da.stats`.

Quick start::

    import kursk_da as kd
    spec = kd.load_spec("models/kursk_2025.toml")
    tree = kd.analyze(spec, draws=20_000, seed=1)
    print(kd.options_table(tree))
    kd.save_result_set(tree, "results/kursk_2025.nc")

``kd.analyze`` calibrates when the spec has observations (``prior_only=True`` skips
it). Calibration alone (imports PyMC on first use): ``kd.build_model(spec)``,
``kd.calibrate(...)``, ``kd.diagnose(...)``, ``kd.run_calibration(...)``; see
:mod:`kursk_da.calibration`.
"""

from importlib.metadata import PackageNotFoundError, version

from kursk_da.analysis import Analysis, analyze, run_analysis
from kursk_da.decision.summary import decision_summary
from kursk_da.engine.run import run_engine
from kursk_da.errors import KurskDAError, ResultFileError, SpecError
from kursk_da.io import load_result_set, options_table, save_result_set, validate_result_set
from kursk_da.sensitivity import (
    acceptability_curve,
    campaign_sobol,
    risk_attitude,
    scenario_comparison,
    simplex_regions,
    tornado,
)
from kursk_da.spec import Spec, load_spec, sample_inputs, spec_from_dict
from kursk_da.stats import VOIResult, evpi, evppi, evppi_nested, evsi_lognormal, main_effects, sobol
from kursk_da.voi import campaign_evppi, campaign_evppi_nested

_CALIBRATION = ("build_model", "calibrate", "diagnose", "run_calibration", "Calibration")
"""Calibration entry points, imported on first use (they import PyMC, which is slow)."""


def __getattr__(name: str) -> object:
    """Lazy access to :data:`_CALIBRATION` (``kd.build_model`` imports PyMC then)."""
    if name in _CALIBRATION:
        from kursk_da import calibration

        return getattr(calibration, name)
    raise AttributeError(f"module 'kursk_da' has no attribute {name!r}")


try:
    __version__ = version("kursk_da")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "analyze",
    "run_analysis",
    "Analysis",
    "decision_summary",
    "run_engine",
    "KurskDAError",
    "ResultFileError",
    "SpecError",
    "load_result_set",
    "options_table",
    "save_result_set",
    "validate_result_set",
    "Spec",
    "load_spec",
    "sample_inputs",
    "spec_from_dict",
    "sobol",
    "main_effects",
    "VOIResult",
    "evpi",
    "evppi",
    "evppi_nested",
    "campaign_evppi",
    "campaign_evppi_nested",
    "evsi_lognormal",
    "tornado",
    "campaign_sobol",
    "scenario_comparison",
    "acceptability_curve",
    "simplex_regions",
    "risk_attitude",
    "build_model",
    "calibrate",
    "diagnose",
    "run_calibration",
    "Calibration",
]
