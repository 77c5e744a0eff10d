"""Spec distributions as PyMC priors, with the spec's Gaussian copula.

Mapping of :class:`kursk_da.spec._distributions.Distribution` kinds:

==============  ==========================================================
``normal``      ``pm.Normal(mean, sd)``
``lognormal``   ``pm.LogNormal(log(median), sigma)`` (sampled on the log scale)
``gamma``       ``pm.Gamma(alpha=shape, beta=1/scale)``
``beta``        ``lower + (upper - lower) * pm.Beta(a, b)`` (``<name>_unit``)
``uniform``     ``pm.Uniform(lower, upper)``
``truncnormal`` ``pm.TruncatedNormal(mean, sd, lower, upper)``
``pert``        ``min + (max - min) * pm.Beta(alpha, beta)`` (``<name>_unit``)
``triangular``  ``pm.Triangular(min, mode, max)``
``fixed``       a constant (not a random variable)
==============  ==========================================================

Rank correlations between sampled parameters enter as a ``pm.Potential`` with the
log density of the Gaussian copula, ``-1/2 z' (P^-1 - I) z - 1/2 log det P``, where
``z_i = Phi^-1(F_i(x_i))`` are the normal scores and ``P`` the Pearson correlation of
the normal scores (``2 sin(pi rho_s / 6)``), exactly as the Monte Carlo sampler draws
them. The joint prior of the sampled parameters is then the spec's prior.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from kursk_da.spec._distributions import Distribution
from kursk_da.spec.copula import pearson_correlation

if TYPE_CHECKING:
    from kursk_da.spec._schema import Spec

__all__ = ["pymc_prior", "copula_potential", "copula_pearson"]


def pymc_prior(name: str, dist: Distribution, dims: Any = None) -> Any:
    """Create the PyMC random variable (or constant) of one spec input.

    Parameters
    ----------
    name : str
        Variable name (the input's name).
    dist : Distribution
        The spec distribution (units of the input).
    dims : optional
        Passed to PyMC.

    Returns
    -------
    pytensor variable
        A random variable, a deterministic (scaled beta, PERT) or a constant (fixed).
    """
    p = dist.params
    kind = dist.kind
    if kind == "fixed":
        return pt.constant(p["value"], dtype="float64")
    if kind == "normal":
        return pm.Normal(name, mu=p["mean"], sigma=p["sd"], dims=dims)
    if kind == "lognormal":
        return pm.LogNormal(name, mu=math.log(p["median"]), sigma=p["sigma"], dims=dims)
    if kind == "gamma":
        return pm.Gamma(name, alpha=p["shape"], beta=1.0 / p["scale"], dims=dims)
    if kind == "uniform":
        return pm.Uniform(name, lower=p["lower"], upper=p["upper"], dims=dims)
    if kind == "truncnormal":
        lo = p["lower"] if math.isfinite(p["lower"]) else None
        hi = p["upper"] if math.isfinite(p["upper"]) else None
        return pm.TruncatedNormal(name, mu=p["mean"], sigma=p["sd"], lower=lo, upper=hi,
                                  dims=dims)
    if kind == "triangular":
        return pm.Triangular(name, lower=p["min"], c=p["mode"], upper=p["max"], dims=dims)
    if kind in ("beta", "pert"):
        if kind == "beta":
            a, b, lo, hi = p["a"], p["b"], p["lower"], p["upper"]
        else:
            lo, hi, lamb = p["min"], p["max"], p["lamb"]
            a = 1.0 + lamb * (p["mode"] - lo) / (hi - lo)
            b = 1.0 + lamb * (hi - p["mode"]) / (hi - lo)
        unit = pm.Beta(f"{name}_unit", alpha=a, beta=b, dims=dims)
        return pm.Deterministic(name, lo + (hi - lo) * unit, dims=dims)
    raise ValueError(f"no PyMC mapping for distribution kind {kind!r}")


def _as_dist(dist: Distribution) -> Any:
    """Unnamed PyMC distribution object of ``dist`` (for ``pm.logcdf``)."""
    p = dist.params
    if dist.kind == "gamma":
        return pm.Gamma.dist(alpha=p["shape"], beta=1.0 / p["scale"])
    if dist.kind == "truncnormal":
        return pm.TruncatedNormal.dist(mu=p["mean"], sigma=p["sd"], lower=p["lower"],
                                       upper=p["upper"])
    if dist.kind == "triangular":
        return pm.Triangular.dist(lower=p["min"], c=p["mode"], upper=p["max"])
    if dist.kind in ("beta", "pert"):
        if dist.kind == "beta":
            a, b, lo, hi = p["a"], p["b"], p["lower"], p["upper"]
        else:
            lo, hi, lamb = p["min"], p["max"], p["lamb"]
            a = 1.0 + lamb * (p["mode"] - lo) / (hi - lo)
            b = 1.0 + lamb * (hi - p["mode"]) / (hi - lo)
        return _ScaledBeta(a, b, lo, hi)
    raise ValueError(f"no PyMC mapping for distribution kind {dist.kind!r}")


class _ScaledBeta:
    """Marker for the scaled beta (handled in :func:`copula_potential`)."""

    def __init__(self, a: float, b: float, lo: float, hi: float) -> None:
        self.a, self.b, self.lo, self.hi = a, b, lo, hi


def copula_pearson(spec: Spec, names: Sequence[str]) -> np.ndarray | None:
    """Pearson correlation of the normal scores of ``names`` (a sub-block).

    The block of :func:`kursk_da.spec.copula.pearson_correlation`; None when it is
    the identity (no correlation among ``names``) or ``names`` is empty.
    """
    if not names:
        return None
    block = pearson_correlation(spec, names)
    if np.allclose(block, np.eye(len(names))):
        return None
    return block


def copula_potential(
    rvs: dict[str, Any], dists: dict[str, Distribution], pearson: np.ndarray
) -> Any:
    """Add the Gaussian-copula log density of ``rvs`` to the model as a Potential.

    Parameters
    ----------
    rvs : dict name -> variable
        Sampled variables, in the order of ``pearson``'s rows.
    dists : dict name -> Distribution
    pearson : array (k, k)
        Correlation of the normal scores.

    Returns
    -------
    pytensor variable
        The potential.
    """
    names = list(rvs)
    z = pt.stack([_score(rvs[n], dists[n]) for n in names])
    prec = np.linalg.inv(pearson) - np.eye(len(names))
    _, logdet = np.linalg.slogdet(pearson)
    return pm.Potential("prior_copula", -0.5 * pt.dot(z, pt.dot(prec, z)) - 0.5 * logdet)


def _score(rv: Any, dist: Distribution) -> Any:
    """Normal score of a sampled variable (closed form or through its cdf)."""
    p = dist.params
    if dist.kind == "normal":
        return (rv - p["mean"]) / p["sd"]
    if dist.kind == "lognormal":
        return (pt.log(rv) - math.log(p["median"])) / p["sigma"]
    if dist.kind == "uniform":
        u = (rv - p["lower"]) / (p["upper"] - p["lower"])
    else:
        d = _as_dist(dist)
        if isinstance(d, _ScaledBeta):
            x = (rv - d.lo) / (d.hi - d.lo)
            u = pt.exp(pm.logcdf(pm.Beta.dist(alpha=d.a, beta=d.b), x))
        else:
            u = pt.exp(pm.logcdf(d, rv))
    u = pt.clip(u, 1e-15, 1.0 - 1e-15)
    return -math.sqrt(2.0) * pt.erfcinv(2.0 * u)
