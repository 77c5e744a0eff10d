"""First-order sensitivity indices from a sample, valid for dependent inputs.

The first-order index of input ``x_i`` for an output ``Y`` is the share of the
output's variance explained by ``x_i`` alone (the correlation ratio)::

    S1_i = Var(E[Y | x_i]) / Var(Y) .

For independent inputs it is the first-order Sobol' index.  For dependent inputs
(a posterior) it stays well defined: it is the share of variance that learning
``x_i`` would remove, including what ``x_i`` carries of its correlated partners.
Total indices have no such sample-only estimator, which is why
:func:`kursk_da.sensitivity.campaign.campaign_sobol` samples the prior instead.

``E[Y | x_i]`` is estimated by the one-dimensional P-spline GAM of
:func:`kursk_da.evppi` (GCV smoothing) on the given draws, no model re-runs.  The
variance of the fitted values overstates ``Var(E[Y | x_i])`` by the fit's own
noise, about ``edf sigma^2 / n`` (``edf`` effective degrees of freedom, ``sigma``
residual SD); that term is subtracted and the index clipped at 0.  The standard
error is the spread of the index over posterior samples of the fit.

* :func:`main_effects` -- NumPy core: one output, every input.
* :func:`campaign_main_effects` -- each option's value and the leader - runner-up
  difference of a campaign run (prior or posterior draws), as a Dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from kursk_da.dims import OUTPUT, PARAMETER
from kursk_da.voi._inputs import VOIInputError, check_rng
from kursk_da.voi.evppi import _gam_fits

if TYPE_CHECKING:
    from kursk_da.voi.campaign import CampaignDraws

__all__ = ["main_effects", "campaign_main_effects"]

DIFFERENCE_OUTPUT = "difference"


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
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
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
                            f"got shape {np.shape(target)}")
    generator = check_rng(rng)
    p, n = x.shape[1], y.shape[0]
    s1, se = np.zeros(p), np.full(p, np.nan if n_se_draws == 0 else 0.0)
    with threadpool_limits(limits=1, user_api="blas"):
        for i in range(p):
            sd = x[:, i].std()
            if not sd > 0:
                continue
            z = ((x[:, i] - x[:, i].mean()) / sd)[:, None]
            fit = _gam_fits(z, tgt[:, [i]], None)[0]
            noise = fit.info.get("edf", 0.0) * fit.info.get("sigma", 0.0) ** 2 / n
            s1[i] = max(float(fit.fitted.var()) - noise, 0.0) / var_y
            if n_se_draws > 0:
                draws = fit.draw(n_se_draws, generator)
                se[i] = float(np.std(np.maximum(draws.var(axis=0) - noise, 0.0) / var_y,
                                     ddof=1))
    return s1, se


def campaign_main_effects(draws: CampaignDraws, *, parameters: Sequence[str] | None = None,
                          rng: Any = None, n_se_draws: int = 100,
                          distribution: str = "prior") -> xr.Dataset:
    """First-order indices of each option's value and of the top-two difference.

    Parameters
    ----------
    draws : CampaignDraws
        A run's draws (:func:`kursk_da.voi.campaign.draws_from_tree` or
        :func:`~kursk_da.voi.campaign.draws_from_spec`); with attributes, each
        regression uses the values with the other independent weights at their means
        (same conditional mean, less noise).
    parameters : sequence of str, optional
        Inputs to index (default: every uncertain input).
    rng : numpy.random.Generator, int or None
    n_se_draws : int
    distribution : str
        Recorded in the attributes: ``"prior"`` or ``"posterior"`` draws.

    Returns
    -------
    xarray.Dataset
        ``S1`` and ``S1_se`` over (``output``, ``parameter``): outputs are the
        options and ``difference`` (leader - runner-up by expected value on these
        draws); ``output_variance`` over ``output`` (dkm2^2).  Attributes
        ``leader``, ``runner_up``, ``distribution``, ``n_draws``.
    """
    names = list(draws.uncertain) if parameters is None else list(parameters)
    unknown = [p for p in names if p not in draws.names]
    if unknown:
        raise VOIInputError(f"parameters: unknown input(s) {unknown}; "
                            f"available: {list(draws.names)}")
    generator = check_rng(rng)
    order = np.argsort(draws.values.mean(axis=0))[::-1]
    lead, runner = int(order[0]), int(order[1])
    outputs = [*draws.options, DIFFERENCE_OUTPUT]
    col = [draws.names.index(p) for p in names]
    x = draws.inputs[:, col]
    # per input, the values to regress on it (other independent weights at their means)
    reduced = [draws.task_values((p,)) for p in names]
    s1 = np.zeros((len(outputs), len(names)))
    se = np.zeros_like(s1)
    variance = np.zeros(len(outputs))
    for o, out in enumerate(outputs):
        if out == DIFFERENCE_OUTPUT:
            y = draws.values[:, lead] - draws.values[:, runner]
            target = np.column_stack([r[:, lead] - r[:, runner] for r in reduced])
        else:
            y = draws.values[:, o]
            target = np.column_stack([r[:, o] for r in reduced])
        variance[o] = y.var()
        s1[o], se[o] = main_effects(y, x, rng=generator, n_se_draws=n_se_draws, target=target)
    ds = xr.Dataset(
        {"S1": ((OUTPUT, PARAMETER), s1,
                {"long_name": "first-order index Var(E[Y | input]) / Var(Y)", "units": "1"}),
         "S1_se": ((OUTPUT, PARAMETER), se, {"long_name": "standard error of S1", "units": "1"}),
         "output_variance": ((OUTPUT,), variance, {"long_name": "variance of the output",
                                                   "units": "dkm2^2"})},
        coords={OUTPUT: outputs, PARAMETER: names},
    )
    ds.attrs.update({
        "description": "first-order sensitivity indices (correlation ratios) from the draws, "
                       "by P-spline regression; valid for dependent inputs",
        "leader": draws.options[lead], "runner_up": draws.options[runner],
        "distribution": distribution, "n_draws": int(draws.values.shape[0]),
        "options": ",".join(draws.options),
    })
    return ds
