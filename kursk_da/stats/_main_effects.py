"""First-order sensitivity indices from a sample, valid for dependent inputs.

The first-order index of input ``x_i`` for an output ``Y`` is the share of the
output's variance explained by ``x_i`` alone (the correlation ratio)::

    S1_i = Var(E[Y | x_i]) / Var(Y) .

For independent inputs it is the first-order Sobol' index.  For dependent inputs
(a posterior) it stays well defined: it is the share of variance that learning
``x_i`` would remove, including what ``x_i`` carries of its correlated partners.
Total indices have no such sample-only estimator (:func:`kursk_da.stats._sobol` needs
re-runs of the model on a designed sample instead).

``E[Y | x_i]`` is estimated by the one-dimensional P-spline GAM of
:func:`kursk_da.stats._evppi` (GCV smoothing) on the given draws, no model re-runs.  The
variance of the fitted values overstates ``Var(E[Y | x_i])`` by the fit's own
noise, about ``edf sigma^2 / n`` (``edf`` effective degrees of freedom, ``sigma``
residual SD); that term is subtracted and the index clipped at 0.  The standard
error is the spread of the index over posterior samples of the fit.

:func:`main_effects` is the NumPy core (one output, every input); the campaign wrapper
(each option's value and the leader - runner-up difference of a run) is
:func:`kursk_da.sensitivity._main_effects.campaign_main_effects`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from kursk_da.errors import VOIInputError
from kursk_da.stats._gam import gam_fits
from kursk_da.stats._inputs import check_rng
from kursk_da.validation import as_float_array

__all__ = ["main_effects"]


def main_effects(y: np.ndarray, x: np.ndarray, *, rng: Any = None, n_se_draws: int = 100,
                 target: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """First-order indices ``Var(E[y | x_i]) / Var(y)`` of every column of ``x``.

    Parameters
    ----------
    y : numpy.ndarray, shape (n,)
        The output, any units.
    x : numpy.ndarray, shape (n, p)
        The inputs; a constant column gets index 0.
    rng : numpy.random.Generator, int or None
        Source of randomness for the standard errors.
    n_se_draws : int
        Posterior samples of each fit for the standard error (0: SE is NaN).
    target : numpy.ndarray, shape (n,) or (n, p), optional
        What to regress on ``x_i`` instead of ``y``: any variable with the same
        conditional mean ``E[. | x_i]`` but less noise (e.g. the value with
        independent weights at their means).  ``Var(y)`` stays the denominator.

    Returns
    -------
    s1, se : numpy.ndarray, shape (p,)
        The indices (dimensionless, in [0, 1] up to estimation error) and their SEs.

    Raises
    ------
    VOIInputError
        Shapes that do not match, non-finite values, a constant ``y`` or fewer than
        20 draws.
    """
    y = as_float_array(y, "y", VOIInputError)
    x = as_float_array(x, "x", VOIInputError)
    if y.ndim != 1 or x.ndim != 2 or x.shape[0] != y.shape[0]:
        raise VOIInputError(f"y, x: expected shapes (n,) and (n, p), got {y.shape} and {x.shape}")
    if y.shape[0] < 20:
        raise VOIInputError(f"y: expected at least 20 draws, got {y.shape[0]}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(x))):
        raise VOIInputError("y, x: expected finite numbers, found NaN or inf")
    var_y = float(y.var())
    if not var_y > 0:
        raise VOIInputError("y: the output is constant; its indices are undefined")
    tgt = y if target is None else np.asarray(target, dtype=float)
    if tgt.shape == y.shape:
        tgt = np.repeat(tgt[:, None], x.shape[1], axis=1)
    if tgt.shape != x.shape or not np.all(np.isfinite(tgt)):
        raise VOIInputError(f"target: expected finite numbers of shape {y.shape} or {x.shape}, "
                            f"got shape {() if target is None else np.shape(target)}")
    generator = check_rng(rng)
    p, n = x.shape[1], y.shape[0]
    s1, se = np.zeros(p), np.full(p, np.nan if n_se_draws == 0 else 0.0)
    with threadpool_limits(limits=1, user_api="blas"):
        for i in range(p):
            sd = x[:, i].std()
            if not sd > 0:
                continue
            z = ((x[:, i] - x[:, i].mean()) / sd)[:, None]
            fit = gam_fits(z, tgt[:, [i]], None)[0]
            noise = fit.info.get("edf", 0.0) * fit.info.get("sigma", 0.0) ** 2 / n
            s1[i] = max(float(fit.fitted.var()) - noise, 0.0) / var_y
            if n_se_draws > 0:
                draws = fit.draw(n_se_draws, generator)
                se[i] = float(np.std(np.maximum(draws.var(axis=0) - noise, 0.0) / var_y,
                                     ddof=1))
    return s1, se
