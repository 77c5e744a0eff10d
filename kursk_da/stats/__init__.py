"""General-purpose statistics for any model given as plain draws (no campaign model here).

A NumPy core with a thin labelled layer, in the spirit of arviz-stats: every function
accepts NumPy arrays and, where labels matter, pandas DataFrames or xarray objects
(draws x options for ``values``, draws x parameters for ``inputs``; dims from
:mod:`kursk_da.dims`).  Depends only on numpy, scipy, scikit-learn, pandas, xarray and
:mod:`kursk_da.errors`, :mod:`kursk_da.dims`, :mod:`kursk_da.validation`.

Value of information (results as :class:`VOIResult`, in the units of ``values``):

* :func:`evpi` -- expected value of perfect information (NumPy core :func:`evpi_core`,
  :func:`evpi_se_core`);
* :func:`evppi` -- expected value of partial perfect information of a set of inputs by
  nonparametric regression (spline GAM, Gaussian process or linear); NumPy core
  :func:`evppi_from_arrays`, and :func:`evppi_gam_fast` (the same GAM from sufficient
  statistics, faster);
* :func:`evppi_nested` -- two-level Monte Carlo EVPPI for models that can be re-run;
* :func:`evsi_lognormal` -- expected value of sample information of lognormal
  measurements of one input (regression EVSI).

Global sensitivity:

* :func:`sobol` -- Sobol' first-order and total indices of a function of independent
  inputs (NumPy core :func:`sobol_indices_core`);
* :func:`main_effects` -- first-order indices ``Var(E[Y | x_i]) / Var(Y)`` from a sample
  by regression (no re-runs; valid for dependent inputs).

Errors for bad input are :class:`kursk_da.errors.VOIInputError` (and
:class:`kursk_da.errors.UnknownParameterError` for unknown parameter names).
"""

from __future__ import annotations

from kursk_da.stats._evpi import VOIResult, evpi, evpi_core, evpi_se_core
from kursk_da.stats._evppi import evppi, evppi_from_arrays, evppi_nested
from kursk_da.stats._evsi import evsi_lognormal, simulate_lognormal_datum
from kursk_da.stats._gam import GAM_MAX_PARAMETERS
from kursk_da.stats._gam_fast import evppi_gam_fast
from kursk_da.stats._inputs import as_values_array
from kursk_da.stats._main_effects import main_effects
from kursk_da.stats._sobol import SAMPLERS, sobol, sobol_indices_core

__all__ = [
    "VOIResult",
    "evpi",
    "evpi_core",
    "evpi_se_core",
    "evppi",
    "evppi_nested",
    "evppi_from_arrays",
    "evppi_gam_fast",
    "GAM_MAX_PARAMETERS",
    "evsi_lognormal",
    "simulate_lognormal_datum",
    "sobol",
    "sobol_indices_core",
    "SAMPLERS",
    "main_effects",
    "as_values_array",
]
