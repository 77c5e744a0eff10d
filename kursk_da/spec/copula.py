"""Gaussian copula sampling of correlated uncertain parameters.

Dependence between parameters is stated as Spearman *rank* correlations
(which do not depend on the marginal distributions or their units).  Samples
are drawn with a Gaussian (normal) copula:

1. ``z ~ N(0, R)`` where ``R`` is the copula's Pearson correlation matrix;
2. ``u_j = Phi(z_j)`` (standard normal cdf, :func:`scipy.special.ndtr`);
3. ``x_j = F_j^{-1}(u_j)`` with the marginal quantile function ``F_j^{-1}``.

For a bivariate normal with Pearson correlation ``r`` the Spearman rank
correlation is ``rho_s = (6/pi) * arcsin(r/2)``, so the requested rank
correlations are converted with ``r = 2 * sin(pi * rho_s / 6)``
(:func:`spearman_to_pearson`).  Because ranks are invariant under the monotone
maps of steps 2-3, the sampled parameters then have exactly the requested
rank correlations (up to sampling error), whatever their marginals.

Random stream (reproducibility)
-------------------------------
:func:`sample` draws ``z`` as standard normals in row-major order exactly as
``rng.standard_normal((n, p))`` would (in row chunks; numpy's Generator gives
identical numbers whether drawn in one call or in consecutive row blocks),
one column per distribution *including* fixed ones, and then multiplies by
the transposed Cholesky factor of ``R``.  Nothing else is drawn.  Hence the
result depends only on the generator state, ``n``, the distributions and
``R``; an identity ``rank_corr`` gives bit-identical output to
``rank_corr=None``; and the generator is left in the same state either way.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np

from kursk_da.errors import SpecError
from kursk_da.spec.distributions import Distribution

__all__ = ["correlation_matrix", "sample", "spearman_to_pearson"]

#: Smallest eigenvalue accepted for a correlation matrix.
_MIN_EIGENVALUE = 1e-10

#: Target number of matrix elements handled per chunk in :func:`sample`.
_CHUNK_ELEMENTS = 1 << 20


def spearman_to_pearson(rho_s: float | np.ndarray) -> float | np.ndarray:
    """Convert Spearman rank correlation to the normal copula's Pearson correlation.

    Parameters
    ----------
    rho_s : float or array_like
        Spearman rank correlation(s) in ``[-1, 1]``.

    Returns
    -------
    float or numpy.ndarray
        ``2 * sin(pi * rho_s / 6)``; exactly 1 where ``rho_s`` is 1 (so a
        correlation matrix keeps a unit diagonal).  A float for scalar input.
    """
    rho = np.asarray(rho_s, dtype=np.float64)
    r = 2.0 * np.sin(np.pi * rho / 6.0)
    r = np.where(np.abs(rho) == 1.0, rho, r)
    return float(r) if r.ndim == 0 else r


def correlation_matrix(
    names: Sequence[str],
    pairs: Iterable[tuple[str, str, float]],
    path: str,
) -> np.ndarray:
    """Build the Spearman rank-correlation matrix from pairwise statements.

    Parameters
    ----------
    names : sequence of str
        Parameter names, in the column order of the matrix.
    pairs : iterable of (str, str, float)
        ``(name_a, name_b, rho)`` statements; unlisted pairs are uncorrelated.
    path : str
        Path of the correlation list in the spec (e.g. ``"correlations"``);
        pair ``i`` is reported as ``f"{path}[{i}]"``.

    Returns
    -------
    numpy.ndarray
        Symmetric ``(p, p)`` matrix with unit diagonal.

    Raises
    ------
    SpecError
        For a malformed pair, an unknown name, a self-correlation, a repeated
        pair, ``|rho| >= 1``, or a set of correlations that is not positive
        definite (path `path`).
    """
    names = list(names)
    index = {name: i for i, name in enumerate(names)}
    if len(index) != len(names):
        raise ValueError("names must be unique")
    matrix = np.eye(len(names))
    seen: dict[frozenset[str], int] = {}
    for k, pair in enumerate(pairs):
        where = f"{path}[{k}]"
        a, b, rho = _parse_pair(pair, where, index)
        key = frozenset((a, b))
        if key in seen:
            raise SpecError(
                where,
                f"duplicate correlation between '{a}' and '{b}' "
                f"(already given at {path}[{seen[key]}])",
            )
        seen[key] = k
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = rho
    _check_positive_definite(matrix, names, path)
    return matrix


def _parse_pair(pair: object, where: str, index: dict[str, int]) -> tuple[str, str, float]:
    if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 3:
        raise SpecError(where, f"expected [name_a, name_b, rho], found {pair!r}")
    a, b, rho = pair
    for name in (a, b):
        if not isinstance(name, str) or name not in index:
            known = ", ".join(sorted(index)) or "(none)"
            raise SpecError(where, f"unknown parameter {name!r}; known parameters: {known}")
    if a == b:
        raise SpecError(where, f"a parameter cannot be correlated with itself ('{a}')")
    if isinstance(rho, bool) or not isinstance(rho, numbers.Real) or not math.isfinite(rho):
        raise SpecError(where, f"expected a finite number as rank correlation, found {rho!r}")
    if not -1.0 < float(rho) < 1.0:
        raise SpecError(where, f"rank correlation must satisfy -1 < rho < 1, found {rho!r}")
    return a, b, float(rho)


def _check_positive_definite(matrix: np.ndarray, names: Sequence[str], path: str) -> None:
    """Both the Spearman matrix and its Pearson conversion must be positive definite."""
    for label, m in (("rank", matrix), ("normal-copula", spearman_to_pearson(matrix))):
        if m.size == 0:
            continue
        values, vectors = np.linalg.eigh(m)
        if values[0] <= _MIN_EIGENVALUE:
            weights = np.abs(vectors[:, 0])
            involved = [names[i] for i in np.argsort(weights)[::-1] if weights[i] > 0.2]
            raise SpecError(
                path,
                f"the {label} correlation matrix is not positive definite (smallest eigenvalue "
                f"{values[0]:.3g}): the stated correlations are mutually inconsistent; weaken "
                f"some of them, e.g. among {', '.join(involved[:6])}",
            )


def sample(
    dists: Sequence[Distribution],
    n: int,
    rng: np.random.Generator,
    rank_corr: np.ndarray | None = None,
) -> np.ndarray:
    """Draw ``n`` joint samples of the parameters with a Gaussian copula.

    Parameters
    ----------
    dists : sequence of Distribution
        Marginal distribution of each column (in the quantities' own units).
    n : int
        Number of samples (rows), ``>= 0``.
    rng : numpy.random.Generator
        The only source of randomness; see the module docstring for exactly
        what is drawn.
    rank_corr : numpy.ndarray, optional
        ``(p, p)`` Spearman rank-correlation matrix, as returned by
        :func:`correlation_matrix`; ``None`` means independent columns.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``(n, p)``; fixed distributions give constant
        columns.

    Notes
    -----
    Column ``j`` is ``dists[j].from_normal_scores(z[:, j])``, i.e.
    ``ppf_j(ndtr(z[:, j]))`` (evaluated via closed forms or a verified
    interpolant for speed, see :meth:`Distribution.from_normal_scores`).
    Work proceeds in row chunks of about 2**20 elements, so memory beyond the
    output is small.
    """
    dists = list(dists)
    if not all(isinstance(d, Distribution) for d in dists):
        raise TypeError("dists must be a sequence of Distribution objects")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    n, p = int(n), len(dists)
    factor = _copula_factor(rank_corr, p)
    out = np.empty((n, p))
    rows = max(1, _CHUNK_ELEMENTS // max(p, 1))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        z = rng.standard_normal((stop - start, p))
        if factor is None:
            zt = np.ascontiguousarray(z.T)
        else:
            # zt = factor @ z.T; einsum avoids multithreaded BLAS, which is
            # slower than one core for these thin products on a loaded machine
            zt = np.einsum("jk,ik->ji", factor, z)
        for j, dist in enumerate(dists):
            out[start:stop, j] = dist.from_normal_scores(zt[j])
    return out


def _copula_factor(rank_corr: np.ndarray | None, p: int) -> np.ndarray | None:
    """Lower Cholesky factor of the copula's Pearson matrix; None for identity."""
    if rank_corr is None:
        return None
    r = np.asarray(rank_corr, dtype=np.float64)
    if r.shape != (p, p):
        raise ValueError(f"rank_corr must have shape ({p}, {p}), got {r.shape}")
    if not (np.all(np.isfinite(r)) and np.array_equal(r, r.T) and np.all(np.diag(r) == 1.0)):
        raise ValueError("rank_corr must be finite and symmetric with a unit diagonal")
    if np.array_equal(r, np.eye(p)):
        return None
    try:
        return np.linalg.cholesky(spearman_to_pearson(r))
    except np.linalg.LinAlgError:
        raise SpecError(
            "correlations",
            "the correlation matrix is not positive definite; weaken some correlations",
        ) from None
