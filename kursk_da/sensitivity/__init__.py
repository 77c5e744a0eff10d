"""Global sensitivity analysis for any model given as a function of its inputs.

* :func:`sobol` -- Sobol' first-order and total indices (Saltelli 2010 / Jansen
  estimators, scrambled Sobol' sampling, bootstrap bounds), as an xarray Dataset
  over the ``parameter`` dimension.
* :func:`main_effects` -- first-order indices ``Var(E[Y | x_i]) / Var(Y)`` from a
  sample by regression (no re-runs; valid for dependent inputs).
"""

from __future__ import annotations

from kursk_da.sensitivity.main_effects import main_effects
from kursk_da.sensitivity.sobol import sobol

__all__ = ["sobol", "main_effects"]
