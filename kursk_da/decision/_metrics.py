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

The EVPI core (:func:`evpi_core`, :func:`evpi_se_core`) and the array check
(:func:`as_values_array`) are general-purpose statistics defined in
:mod:`kursk_da.stats` and used here.
"""

from __future__ import annotations

import numpy as np

from kursk_da.stats import as_values_array, evpi_core, evpi_se_core

__all__ = [
    "as_values_array",
    "expected_value",
    "prob_best",
    "regret",
    "cvar",
    "evpi_core",
    "evpi_se_core",
]


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
