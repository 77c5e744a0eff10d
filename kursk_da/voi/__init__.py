"""Value of information for any decision model given as plain draws.

* :func:`evpi` -- expected value of perfect information;
* :func:`evppi` -- expected value of partial perfect information of a set of
  inputs, by nonparametric regression (spline GAM or Gaussian process);
* :func:`evppi_nested` -- two-level Monte Carlo EVPPI for models that can be re-run.

All accept NumPy arrays, pandas DataFrames or xarray objects (draws x options,
draws x parameters) and return a :class:`VOIResult`.
"""

from __future__ import annotations

from kursk_da.voi._inputs import UnknownParameterError, VOIInputError
from kursk_da.voi.evpi import VOIResult, evpi
from kursk_da.voi.evppi import evppi, evppi_nested

__all__ = [
    "VOIResult",
    "evpi",
    "evppi",
    "evppi_nested",
    "VOIInputError",
    "UnknownParameterError",
]
