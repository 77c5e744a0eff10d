"""Sampling the inputs of a spec conditionally on some of them (Gaussian copula).

The spec's inputs are drawn through a Gaussian copula
(:mod:`kursk_da.spec.copula`): normal scores ``z ~ N(0, C)`` with ``C`` the
copula's Pearson matrix, then ``x_j = F_j^{-1}(Phi(z_j))``.  Fixing a set ``F``
of inputs at values ``x_F`` fixes their scores ``a = Phi^{-1}(F(x_F))``; the
other scores then follow ``N(C_RF C_FF^-1 a, C_RR - C_RF C_FF^-1 C_FR)``.

A draw from that conditional is obtained from an unconditional draw ``z`` by
the update (Matheron's rule)::

    z_R <- z_R + B (a - z_F),    z_F <- a,    B = C_RF C_FF^-1 ,

because ``z_R - B z_F`` is independent of ``z_F``.  Applying the update to one
fixed set of unconditional draws for several values of ``a`` gives common
random numbers across those values (used by the tornado sweep and the nested
Monte Carlo EVPPI).  Inputs that are uncorrelated with ``F`` are left unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy import linalg, special

from kursk_da.spec.copula import spearman_to_pearson
from kursk_da.spec.sampling import correlation_of

if TYPE_CHECKING:
    from kursk_da.spec.schema import Spec

__all__ = [
    "copula_correlation",
    "normal_scores",
    "inputs_from_scores",
    "scores_of_values",
    "condition_scores",
    "correlated_with",
]

_U_EPS = 1e-15  # keeps Phi^-1 finite at the ends of a bounded support


def copula_correlation(spec: Spec) -> np.ndarray:
    """Pearson correlation matrix of the copula's normal scores, ``(p, p)``.

    The identity when the spec states no correlations.
    """
    rank = correlation_of(spec)
    p = len(spec.input_names)
    if rank is None:
        return np.eye(p)
    return np.asarray(spearman_to_pearson(rank), dtype=float)


def normal_scores(spec: Spec, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of the copula's correlated normal scores, shape ``(n, p)``."""
    corr = copula_correlation(spec)
    e = rng.standard_normal((n, corr.shape[0]))
    if np.array_equal(corr, np.eye(corr.shape[0])):
        return e
    return e @ np.linalg.cholesky(corr).T


def inputs_from_scores(spec: Spec, z: np.ndarray) -> np.ndarray:
    """Input matrix (columns ``spec.input_names``, each in its own units) from scores."""
    out = np.empty_like(z, dtype=float)
    for j, par in enumerate(spec.inputs.values()):
        out[:, j] = par.dist.from_normal_scores(z[:, j])
    return out


def scores_of_values(spec: Spec, name: str, values: np.ndarray) -> np.ndarray:
    """Normal scores ``Phi^-1(F(x))`` of values of input ``name`` (0 for a fixed input)."""
    dist = spec.inputs[name].dist
    x = np.asarray(values, dtype=float)
    if dist.is_fixed:
        return np.zeros_like(x)
    if dist.kind == "lognormal":
        return np.log(x / dist.params["median"]) / dist.params["sigma"]
    if dist.kind == "normal":
        return (x - dist.params["mean"]) / dist.params["sd"]
    u = np.clip(dist.cdf(x), _U_EPS, 1.0 - _U_EPS)
    return special.ndtri(u)


def correlated_with(corr: np.ndarray, focal: Sequence[int]) -> np.ndarray:
    """Boolean mask of the inputs correlated with any focal input (focal excluded)."""
    mask = np.any(corr[:, list(focal)] != 0.0, axis=1)
    mask[list(focal)] = False
    return mask


def condition_scores(z: np.ndarray, corr: np.ndarray, focal: Sequence[int],
                     focal_scores: np.ndarray) -> np.ndarray:
    """Update unconditional scores ``z`` to draws given the focal scores.

    Parameters
    ----------
    z : numpy.ndarray, shape (n, p)
        Unconditional draws of the normal scores (correlation ``corr``).
    corr : numpy.ndarray, shape (p, p)
        Pearson correlation of the scores.
    focal : sequence of int
        Columns that are conditioned on.
    focal_scores : numpy.ndarray, shape (n, k) or (k,)
        Their scores (broadcast over rows).

    Returns
    -------
    numpy.ndarray, shape (n, p)
        A new array: focal columns set to ``focal_scores``, the others updated by
        Matheron's rule (exact draws from the conditional normal).
    """
    focal = list(focal)
    a = np.broadcast_to(np.asarray(focal_scores, dtype=float), (z.shape[0], len(focal)))
    out = z.copy()
    rest = np.setdiff1d(np.arange(z.shape[1]), focal)
    c_rf = corr[np.ix_(rest, focal)]
    if np.any(c_rf != 0.0):
        b = linalg.solve(corr[np.ix_(focal, focal)], c_rf.T, assume_a="pos").T  # (r, k)
        out[:, rest] += (a - z[:, focal]) @ b.T
    out[:, focal] = a
    return out
