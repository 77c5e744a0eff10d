"""NumPy core of the decision summary (no xarray here).

All functions take ``values``: an array of shape ``(n_draws, n_options)`` whose
entry ``[i, j]`` is the value (higher is better, in :data:`kursk_da.dims.VALUE_UNITS`)
of option ``j`` under Monte Carlo draw ``i``.  Draws are assumed independent
(prior Monte Carlo); for MCMC draws use the effective sample size instead of
``n_draws`` when reading the standard errors.

Definitions (``v`` = values, ``n`` = draws, ``E`` = mean over draws):

* expected value ``EV_j = E[v_ij]``, Monte Carlo standard error ``sd_j / sqrt(n)``;
* probability best ``P_j = E[1{j = argmax_k v_ik}]`` (ties go to the first option);
* regret ``r_ij = max_k v_ik - v_ij`` and expected regret ``E[r_ij]``;
* ``CVaR_alpha,j`` = mean of the worst ``alpha`` fraction of ``v_.j`` (lower tail,
  the Rockafellar-Uryasev estimator with a fractional weight on the boundary draw);
* ``EVPI = E[max_k v_ik] - max_k E[v_ik]``, with standard error
  ``sd(max_k v_ik - v_ij*) / sqrt(n)`` where ``j*`` is the option of highest EV.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "as_values_array",
    "expected_value",
    "prob_best",
    "regret",
    "cvar",
    "evpi_core",
    "evpi_se_core",
]


def as_values_array(values: ArrayLike, name: str = "values") -> np.ndarray:
    """Validate a draws x options array of values.

    Parameters
    ----------
    values : array_like, shape (n_draws, n_options)
        Value of each option under each draw.
    name : str
        Name used in error messages.

    Returns
    -------
    numpy.ndarray of float64

    Raises
    ------
    ValueError
        If the array is not two-dimensional, has fewer than one draw or option,
        or holds non-finite numbers.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (draws x options), got shape {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(
            f"{name}: expected at least one draw and one option, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise ValueError(f"{name}: expected finite numbers, found {bad} NaN or infinite entries")
    return arr


def expected_value(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected value of each option and its Monte Carlo standard error.

    Returns
    -------
    mean, mcse : numpy.ndarray, shape (n_options,)
    """
    n = values.shape[0]
    mean = values.mean(axis=0)
    sd = values.std(axis=0, ddof=1) if n > 1 else np.full(values.shape[1], np.nan)
    return mean, sd / np.sqrt(n)


def prob_best(values: np.ndarray) -> np.ndarray:
    """Probability that each option has the highest value, shape (n_options,)."""
    best = np.argmax(values, axis=1)
    prob: np.ndarray = np.bincount(best, minlength=values.shape[1]) / values.shape[0]
    return prob


def regret(values: np.ndarray) -> np.ndarray:
    """Regret of each option under each draw, ``max_k v_ik - v_ij`` (>= 0)."""
    out: np.ndarray = values.max(axis=1, keepdims=True) - values
    return out


def cvar(values: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Conditional value at risk: mean of the worst ``alpha`` fraction of outcomes.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_draws, n_options)
    alpha : float
        Tail probability in (0, 1].

    Returns
    -------
    numpy.ndarray, shape (n_options,)
        ``CVaR_alpha`` of each option, in the units of ``values`` (lower is worse).
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha: expected a probability in (0, 1], got {alpha}")
    n = values.shape[0]
    srt = np.sort(values, axis=0)
    k = alpha * n  # number of draws in the tail, possibly fractional
    whole = int(np.floor(k))
    frac = k - whole
    total = srt[:whole].sum(axis=0)
    if frac > 0 and whole < n:
        total = total + frac * srt[whole]
    out: np.ndarray = total / k
    return out


def evpi_core(values: np.ndarray) -> float:
    """Expected value of perfect information, ``E[max_k v] - max_k E[v]`` (>= 0)."""
    return float(values.max(axis=1).mean() - values.mean(axis=0).max())


def evpi_se_core(values: np.ndarray) -> float:
    """Monte Carlo standard error of :func:`evpi_core` (independent draws)."""
    n = values.shape[0]
    if n < 2:
        return float("nan")
    jstar = int(np.argmax(values.mean(axis=0)))
    loss = values.max(axis=1) - values[:, jstar]
    return float(loss.std(ddof=1) / np.sqrt(n))
