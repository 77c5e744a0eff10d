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

from importlib import import_module
from typing import TYPE_CHECKING

from kursk_da.errors import KurskDAError, ResultFileError, SpecError

if TYPE_CHECKING:  # the lazy names, for the type checker
    __version__: str
    from kursk_da.analysis import Analysis, analyze, run_analysis
    from kursk_da.calibration import (
        Calibration,
        build_model,
        calibrate,
        diagnose,
        run_calibration,
    )
    from kursk_da.decision._summary import decision_summary
    from kursk_da.engine._run import run_engine
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
    from kursk_da.stats import (
        VOIResult,
        evpi,
        evppi,
        evppi_nested,
        evsi_lognormal,
        main_effects,
        sobol,
    )
    from kursk_da.voi import campaign_evppi, campaign_evppi_nested

_LAZY: dict[str, str] = {
    "Spec": "kursk_da.spec",
    "load_spec": "kursk_da.spec",
    "sample_inputs": "kursk_da.spec",
    "spec_from_dict": "kursk_da.spec",
    "analyze": "kursk_da.analysis",
    "run_analysis": "kursk_da.analysis",
    "Analysis": "kursk_da.analysis",
    "decision_summary": "kursk_da.decision._summary",
    "run_engine": "kursk_da.engine._run",
    "load_result_set": "kursk_da.io",
    "options_table": "kursk_da.io",
    "save_result_set": "kursk_da.io",
    "validate_result_set": "kursk_da.io",
    "to_inference_data": "kursk_da.io",
    "acceptability_curve": "kursk_da.sensitivity",
    "campaign_sobol": "kursk_da.sensitivity",
    "risk_attitude": "kursk_da.sensitivity",
    "scenario_comparison": "kursk_da.sensitivity",
    "simplex_regions": "kursk_da.sensitivity",
    "tornado": "kursk_da.sensitivity",
    "VOIResult": "kursk_da.stats",
    "evpi": "kursk_da.stats",
    "evppi": "kursk_da.stats",
    "evppi_nested": "kursk_da.stats",
    "evsi_lognormal": "kursk_da.stats",
    "main_effects": "kursk_da.stats",
    "sobol": "kursk_da.stats",
    "campaign_evppi": "kursk_da.voi",
    "campaign_evppi_nested": "kursk_da.voi",
    "build_model": "kursk_da.calibration",
    "calibrate": "kursk_da.calibration",
    "diagnose": "kursk_da.calibration",
    "run_calibration": "kursk_da.calibration",
    "Calibration": "kursk_da.calibration",
}
"""Public names imported on first use: name -> module. Only the errors are imported
eagerly: the spec needs SciPy, the engine numba, the calibration PyMC, so that ``import
kursk_da`` (and ``kursk-da --help``, issue 27) stays fast and loading a spec compiles
nothing."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kursk_da")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def __getattr__(name: str) -> object:
    """Lazy access to the names of :data:`_LAZY` (imports their module on first use) and
    to ``__version__`` (read from the installed metadata on first use)."""
    if name == "__version__":
        globals()[name] = value = _version()
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kursk_da' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Module attributes including the lazily imported public names."""
    return sorted(set(globals()) | set(_LAZY) | {"__version__"})



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
    "to_inference_data",
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
