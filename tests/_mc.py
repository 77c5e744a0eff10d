"""Tolerances of statistical assertions, derived from their Monte Carlo error (issue 22).

Every assertion of the suite that compares a Monte Carlo or MCMC estimate with a value
states its tolerance with these helpers, so that its derivation can be read at the call:

* the standard error is that of the estimate's sampling design: ``sd / sqrt(n)`` for
  independent draws, ArviZ's MCSE (effective sample size, autocorrelation of the chains)
  for MCMC draws on ``(chain, draw)`` arrays;
* the multiplier is the two-sided normal quantile at the family-wise false-failure
  probability :data:`ALPHA` shared by the ``m`` comparisons of the assertion (Sidak):
  an assertion that checks 5 options x 333 dates at once uses ``m = 1665``.

``tools/false_failure_rate.py`` runs the MCMC-dependent assertions over 20 seeds and
reports how often each fails (docs/testing.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

__all__ = ["ALPHA", "sidak_z", "sidak_t", "mcse_mean", "ess_mean"]

ALPHA = 1e-4
"""Family-wise false-failure probability of one statistical assertion (analyst judgement:
with ~10 MCMC-dependent assertions, a run of the suite fails falsely about once in 1,000
runs, and the 20-seed report of ``tools/false_failure_rate.py`` expects 0.02 failures)."""


def sidak_z(m: int = 1, alpha: float = ALPHA) -> float:
    """Two-sided standard normal quantile for ``m`` simultaneous comparisons.

    ``P(max_i |Z_i| > z) <= alpha`` for ``m`` standard normal ``Z_i`` (Sidak: exact for
    independent ones, conservative for positively dependent ones).
    """
    per = 1.0 - (1.0 - alpha) ** (1.0 / max(int(m), 1))
    return float(stats.norm.isf(per / 2.0))


def sidak_t(dof: float, m: int = 1, alpha: float = ALPHA) -> float:
    """As :func:`sidak_z` for Student-t statistics with ``dof`` degrees of freedom (a
    standard error estimated from ``dof + 1`` independent values)."""
    per = 1.0 - (1.0 - alpha) ** (1.0 / max(int(m), 1))
    return float(stats.t.isf(per / 2.0, dof))


def mcse_mean(x: Any) -> np.ndarray:
    """ArviZ's Monte Carlo standard error of the mean of MCMC draws.

    Parameters
    ----------
    x : array (chain, draw, ...)
        Draws of one or more quantities (trailing dims are separate quantities).

    Returns
    -------
    numpy.ndarray, shape ``x.shape[2:]``
        ``sd / sqrt(ESS_bulk-of-the-mean)`` (autocorrelation within and between chains).
    """
    import arviz as az

    a = np.asarray(x, dtype=float)
    flat = a.reshape(a.shape[0], a.shape[1], -1)
    out = np.array([float(np.ravel(az.mcse(flat[..., j], method="mean"))[0])
                    for j in range(flat.shape[-1])])
    return out.reshape(a.shape[2:])


def ess_mean(x: Any) -> np.ndarray:
    """ArviZ's effective sample size of the mean (``method="mean"``) of MCMC draws
    ``x`` (chain, draw, ...), per trailing quantity."""
    import arviz as az

    a = np.asarray(x, dtype=float)
    flat = a.reshape(a.shape[0], a.shape[1], -1)
    out = np.array([float(np.ravel(az.ess(flat[..., j], method="mean"))[0])
                    for j in range(flat.shape[-1])])
    return out.reshape(a.shape[2:])
