"""NumPy core of the decision summary (no xarray here).

All functions take ``values``: an array of shape ``(n_draws, n_options)`` whose
entry ``[i, j]`` is the value (higher is better, in :data:`kursk_da.dims.VALUE_UNITS`)
of option ``j`` under Monte Carlo draw ``i``.  The standard errors of
:func:`expected_value` and :func:`evpi_se_core` assume independent draws (prior Monte
Carlo); :func:`mcse_all` gives those of every metric under the sampling design (below).

Definitions (``v`` = values, ``n`` = draws, ``E`` = mean over draws):

* expected value ``EV_j = E[v_ij]``, Monte Carlo standard error ``sd_j / sqrt(n)``;
* probability best ``P_j = E[1{j = argmax_k v_ik}]`` (ties go to the first option);
* regret ``r_ij = max_k v_ik - v_ij`` and expected regret ``E[r_ij]``;
* ``CVaR_alpha,j`` = mean of the worst ``alpha`` fraction of ``v_.j`` (lower tail,
  the Rockafellar-Uryasev estimator with a fractional weight on the boundary draw);
* ``EVPI = E[max_k v_ik] - max_k E[v_ik]``, with standard error
  ``sd(max_k v_ik - v_ij*) / sqrt(n)`` where ``j*`` is the option of highest EV.

Monte Carlo standard errors and the sampling design
---------------------------------------------------
Every reported quantity is (to first order) the mean of a per-draw quantity ``f_i``
(its *influence values*, :func:`influence_values`): ``v_ij`` for the expected value,
``v_ij - v_ij*`` for the difference to the option of highest EV, ``1{j best}`` for the
probability best, ``r_ij`` for the expected regret, ``max_k v_ik - v_ij*`` for the EVPI
(``j*`` held fixed) and, for CVaR, ``q_j + min(v_ij - q_j, 0) / alpha`` with ``q_j`` the
``alpha`` quantile (the influence function of the Rockafellar-Uryasev estimator; the
derivative in ``q`` vanishes at the quantile, so plugging in the estimate is first-order
exact). :func:`mean_mcse` is the standard error of the mean of ``f``:

* independent draws (``chains=None``, prior Monte Carlo): ``sd(f, ddof=1) / sqrt(n)``;
* a posterior analysis (``chains=(n_chain, n_draw)``, rows chain-major, ``per_draw``
  consecutive replicate rows per posterior draw): ``f`` is averaged over the replicates of
  each posterior draw and the MCSE of the mean of these ``(n_chain, n_draw)`` means is
  ArviZ's ``az.mcse(..., method="mean")`` (the ESS of the chains). The replicates of a draw
  are independent given the draw, so this counts their noise once and the chains'
  autocorrelation in full.

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
    "mean_mcse",
    "influence_values",
    "mcse_all",
    "MCSE_QUANTITIES",
]

MCSE_QUANTITIES = ("expected_value", "value_difference", "prob_best", "expected_regret",
                   "cvar", "evpi")
"""The quantities of :func:`influence_values` (and :func:`mcse_all`), in order."""


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


def _arviz_mcse_mean(g: np.ndarray) -> float:
    """ArviZ MCSE of the mean of a (chain, draw) array; 0 for a constant array."""
    if np.ptp(g) == 0:
        return 0.0
    import arviz as az  # slow to import: only posterior analyses need it

    return float(np.asarray(az.mcse(g, method="mean")).ravel()[0])


def mean_mcse(
    f: np.ndarray, chains: tuple[int, int] | None = None, per_draw: int = 1
) -> np.ndarray:
    """Monte Carlo standard error of the mean of per-row quantities.

    Parameters
    ----------
    f : numpy.ndarray, shape (n_rows,) or (n_rows, k)
        Per-row quantity (any unit); the mean is taken over rows.
    chains : (n_chain, n_draw), optional
        The rows are MCMC draws, chain-major, ``per_draw`` consecutive rows per
        posterior draw (``n_rows = n_chain * n_draw * per_draw``). None: independent rows.
    per_draw : int
        Replicate rows per posterior draw (only with ``chains``).

    Returns
    -------
    numpy.ndarray, shape (k,) (a 0-d array for 1-d ``f``)
        In the units of ``f``; NaN for fewer than two rows (independent case).
    """
    f = np.asarray(f, dtype=float)
    flat = f.reshape(f.shape[0], -1)
    n = flat.shape[0]
    if chains is None:
        if n < 2:
            out = np.full(flat.shape[1], np.nan)
        else:
            out = flat.std(axis=0, ddof=1) / np.sqrt(n)
    else:
        n_chain, n_draw = (int(c) for c in chains)
        if n_chain * n_draw * per_draw != n:
            raise ValueError(f"chains, per_draw: {n_chain} x {n_draw} x {per_draw} rows "
                             f"expected, got {n}")
        g = flat.reshape(n_chain, n_draw, per_draw, -1).mean(axis=2)
        out = np.array([_arviz_mcse_mean(g[..., j]) for j in range(g.shape[-1])])
    return out.reshape(f.shape[1:])


def influence_values(values: np.ndarray, alpha: float = 0.05) -> dict[str, np.ndarray]:
    """Per-draw quantities whose means are the reported metrics (module docstring).

    Parameters
    ----------
    values : numpy.ndarray, shape (n_draws, n_options)
    alpha : float
        CVaR tail probability in (0, 1].

    Returns
    -------
    dict
        Keys :data:`MCSE_QUANTITIES`; arrays of shape (n_draws, n_options), except
        ``evpi`` (n_draws,). In the units of ``values`` (``prob_best``: 1).
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha: expected a probability in (0, 1], got {alpha}")
    n, k = values.shape
    jstar = int(np.argmax(values.mean(axis=0)))
    vmax = values.max(axis=1)
    best = np.zeros((n, k))
    best[np.arange(n), np.argmax(values, axis=1)] = 1.0
    q = np.quantile(values, alpha, axis=0)
    return {
        "expected_value": values,
        "value_difference": values - values[:, [jstar]],
        "prob_best": best,
        "expected_regret": vmax[:, None] - values,
        "cvar": q + np.minimum(values - q, 0.0) / alpha,
        "evpi": vmax - values[:, jstar],
    }


def mcse_all(
    values: np.ndarray,
    alpha: float = 0.05,
    chains: tuple[int, int] | None = None,
    per_draw: int = 1,
) -> dict[str, np.ndarray]:
    """MCSE of every metric of :data:`MCSE_QUANTITIES` under the sampling design.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_draws, n_options)
    alpha : float
        CVaR tail probability.
    chains, per_draw
        The sampling design, as in :func:`mean_mcse`.

    Returns
    -------
    dict
        Keys :data:`MCSE_QUANTITIES`; arrays of shape (n_options,) (``evpi``: 0-d), in
        the units of the metric. Independent rows give exactly ``sd / sqrt(n)``, the
        standard errors of :func:`expected_value` and :func:`evpi_se_core`.
    """
    return {name: mean_mcse(f, chains, per_draw)
            for name, f in influence_values(values, alpha).items()}
