"""Proper scores and interval coverage for predictions of withheld observations.

The continuous ranked probability score of a predictive distribution ``F`` at the
outcome ``y`` is ``CRPS(F, y) = E|X - y| - 1/2 E|X - X'|`` with ``X, X'`` independent
draws from ``F`` (Gneiting and Raftery 2007); lower is better, it is in the units of
``y`` and reduces to the absolute error for a point forecast. For an ensemble of ``n``
draws the expectation is over the empirical distribution, computed exactly in
``O(n log n)`` from the sorted draws: ``E|X - X'| = 2 / n^2 * sum_i (2 i - n - 1) x_(i)``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["crps_ensemble", "crps_normal", "interval_covers"]


def crps_ensemble(draws: np.ndarray, y: float | np.ndarray) -> np.ndarray:
    """CRPS of an ensemble forecast.

    Parameters
    ----------
    draws : array (..., n)
        Predictive draws, the last axis is the ensemble.
    y : float or array (...)
        Outcomes, broadcast against ``draws[..., 0]``.

    Returns
    -------
    numpy.ndarray (...)
        In the units of ``y``.
    """
    x = np.sort(np.asarray(draws, dtype=float), axis=-1)
    n = x.shape[-1]
    if n == 0:
        raise ValueError("crps_ensemble needs at least one draw")
    y = np.asarray(y, dtype=float)
    term1 = np.mean(np.abs(x - y[..., None]), axis=-1)
    i = np.arange(1, n + 1)
    term2 = np.sum((2 * i - n - 1) * x, axis=-1) / n**2  # = 1/2 E|X - X'|
    crps: np.ndarray = term1 - term2
    return crps


def crps_normal(mu: float | np.ndarray, sigma: float | np.ndarray,
                y: float | np.ndarray) -> np.ndarray:
    """Closed-form CRPS of a normal forecast ``N(mu, sigma^2)`` at ``y``.

    ``sigma * (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi))`` with ``z = (y - mu) / sigma``.
    """
    mu, sigma, y = (np.asarray(a, dtype=float) for a in (mu, sigma, y))
    z = (y - mu) / sigma
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)
    crps: np.ndarray = sigma * (z * (2.0 * special.ndtr(z) - 1.0) + 2.0 * pdf
                                - 1.0 / math.sqrt(math.pi))
    return crps


def interval_covers(draws: np.ndarray, y: float | np.ndarray, level: float = 0.9
                    ) -> np.ndarray:
    """Whether ``y`` lies in the central ``level`` interval of the draws (last axis)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=-1)
    y = np.asarray(y, dtype=float)
    covers: np.ndarray = (lo <= y) & (y <= hi)
    return covers
