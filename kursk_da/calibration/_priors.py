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

Rank correlations between sampled parameters are generative: the correlated
parameters are ``x_i = F_i^-1(Phi(z_i))`` of a latent ``prior_copula_z ~ MvNormal(0, P)``
(:func:`copula_latent`), ``P`` the Pearson correlation of the normal scores
(``2 sin(pi rho_s / 6)``), exactly as the Monte Carlo sampler draws them. The joint
prior of the sampled parameters is then the spec's prior (marginals times the
Gaussian copula), and ``pm.sample_prior_predictive`` reproduces the rank
correlations. Uncorrelated parameters keep their PyMC distribution (table above).
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

__all__ = ["pymc_prior", "copula_pearson", "copula_members", "copula_latent",
           "marginal_quantile"]


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


def copula_members(pearson: np.ndarray | None) -> np.ndarray:
    """Positions of the rows of ``pearson`` correlated with at least one other row.

    Returns
    -------
    int array
        Empty when ``pearson`` is None or the identity.
    """
    if pearson is None:
        return np.zeros(0, dtype=np.int64)
    off = np.abs(pearson - np.eye(len(pearson))) > 0.0
    return np.flatnonzero(off.any(axis=1)).astype(np.int64)


def copula_latent(names: Sequence[str], dists: dict[str, Distribution],
                  pearson: np.ndarray) -> dict[str, Any]:
    """Correlated inputs as a latent multivariate normal mapped through their marginals.

    ``prior_copula_z ~ MvNormal(0, P)`` (``P`` the Pearson correlation of the normal
    scores) and ``x_i = F_i^-1(Phi(z_i))`` (a deterministic named after the input, in
    its units). The induced density of ``x`` is the spec's: the marginals times the
    Gaussian copula; unlike a ``Potential`` it is generative, so prior predictive
    sampling keeps the rank correlations.

    Parameters
    ----------
    names : sequence of str
        The correlated inputs, in the order of ``pearson``'s rows.
    dists : dict name -> Distribution
    pearson : array (k, k)
        Correlation of the normal scores (positive definite).

    Returns
    -------
    dict name -> pytensor variable
    """
    chol = np.linalg.cholesky(pearson)
    z = pm.MvNormal("prior_copula_z", mu=np.zeros(len(names)), chol=chol)
    return {n: pm.Deterministic(n, marginal_quantile(dists[n], z[i]))
            for i, n in enumerate(names)}


def _phi(z: Any) -> Any:
    """Standard normal cdf."""
    return 0.5 * pt.erfc(-z / math.sqrt(2.0))


def _pert_ab(p: dict[str, float]) -> tuple[float, float]:
    lo, hi, lamb = p["min"], p["max"], p["lamb"]
    return 1.0 + lamb * (p["mode"] - lo) / (hi - lo), 1.0 + lamb * (hi - p["mode"]) / (hi - lo)


def marginal_quantile(dist: Distribution, z: Any) -> Any:
    """``F^-1(Phi(z))``: the value of ``dist`` whose normal score is ``z`` (pytensor).

    Closed form for normal, lognormal, uniform, truncated normal and triangular; the
    regularised incomplete gamma / beta inverses for gamma, beta and PERT.
    """
    p = dist.params
    kind = dist.kind
    if kind == "normal":
        return p["mean"] + p["sd"] * z
    if kind == "lognormal":
        return pt.exp(math.log(p["median"]) + p["sigma"] * z)
    u = pt.clip(_phi(z), 1e-300, 1.0 - 1e-16)
    if kind == "uniform":
        return p["lower"] + (p["upper"] - p["lower"]) * u
    if kind == "truncnormal":
        a = 0.5 * math.erfc(-(p["lower"] - p["mean"]) / p["sd"] / math.sqrt(2.0))
        b = 0.5 * math.erfc(-(p["upper"] - p["mean"]) / p["sd"] / math.sqrt(2.0))
        v = pt.clip(a + (b - a) * u, 1e-300, 1.0 - 1e-16)
        return p["mean"] + p["sd"] * (-math.sqrt(2.0)) * pt.erfcinv(2.0 * v)
    if kind == "triangular":
        lo, c, hi = p["min"], p["mode"], p["max"]
        fc = (c - lo) / (hi - lo)
        left = lo + pt.sqrt(u * (hi - lo) * (c - lo))
        right = hi - pt.sqrt((1.0 - u) * (hi - lo) * (hi - c))
        return pt.switch(u < fc, left, right)
    if kind == "gamma":
        return p["scale"] * pt.gammaincinv(p["shape"], u)
    if kind in ("beta", "pert"):
        if kind == "beta":
            a_, b_, lo, hi = p["a"], p["b"], p["lower"], p["upper"]
        else:
            (a_, b_), lo, hi = _pert_ab(p), p["min"], p["max"]
        return lo + (hi - lo) * pt.betaincinv(a_, b_, u)
    raise ValueError(f"no PyMC mapping for distribution kind {kind!r}")
