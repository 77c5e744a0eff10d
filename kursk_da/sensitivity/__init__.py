"""Global sensitivity analysis for any model given as a function of its inputs.

* :func:`sobol` -- Sobol' first-order and total indices (Saltelli 2010 / Jansen
  estimators, scrambled Sobol' sampling, bootstrap bounds), as an xarray Dataset
  over the ``parameter`` dimension.
"""

from __future__ import annotations

from kursk_da.sensitivity.sobol import sobol

__all__ = ["sobol"]
