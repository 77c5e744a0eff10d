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

Normal scores and conditioning
------------------------------
This is the one module of the copula: the Pearson matrix of a spec's inputs
(:func:`pearson_correlation`), the normal scores ``z = Phi^-1(F(x))`` of input
values and their inverse (:func:`normal_scores`, :func:`from_normal_scores`),
and conditioning.  Given the scores ``z_S`` of a set ``S`` of inputs, the
scores of a set ``O`` follow::

    z_O | z_S ~ N(B z_S, R_OO - B R_SO),    B = R_OS R_SS^-1

(:func:`conditional_normal`; ``B`` by a Cholesky solve with ``R_SS``, which is
positive definite).  Two ways of drawing from it share that ``B``:

* :func:`sample_conditional_scores` / :func:`sample_conditional`: fresh
  standard normals ``e`` (exactly ``rng.standard_normal((n, |O|))``),
  ``z_O = B z_S + L e`` with ``L`` the Cholesky factor of the conditional
  covariance (plus ``1e-12 I``, which keeps the factorisation defined when
  rounding leaves it marginally indefinite).  Used by the posterior
  propagation of a calibration.
* :func:`condition_scores` (Matheron's rule): an unconditional draw
  ``z ~ N(0, R)`` is moved to ``z_O + B (z_S* - z_S)``, ``z_S <- z_S*``,
  because ``z_O - B z_S`` is independent of ``z_S``.  Applying it to one
  fixed set of unconditional draws for several values ``z_S*`` gives common
  random numbers across them (tornado sweeps, nested Monte Carlo EVPPI).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy import linalg, special

from kursk_da.errors import SpecError
from kursk_da.spec._distributions import Distribution

if TYPE_CHECKING:
    from kursk_da.spec._schema import Spec

__all__ = [
    "correlation_matrix",
    "sample",
    "spearman_to_pearson",
    "rank_correlation",
    "pearson_correlation",
    "normal_scores",
    "from_normal_scores",
    "draw_scores",
    "conditional_normal",
    "sample_conditional_scores",
    "sample_conditional",
    "condition_scores",
]

#: Smallest eigenvalue accepted for a correlation matrix.
_MIN_EIGENVALUE = 1e-10

#: Target number of matrix elements handled per chunk in :func:`sample`.
_CHUNK_ELEMENTS = 1 << 20

#: Probabilities are clipped to ``[_U_EPS, 1 - _U_EPS]`` before ``Phi^-1`` (finite scores
#: at the ends of a bounded support).
_U_EPS = 1e-15

#: Added to the diagonal of a conditional covariance before its Cholesky factorisation.
_COV_JITTER = 1e-12


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
    for label, m in (("rank", matrix), ("normal-copula", np.asarray(spearman_to_pearson(matrix)))):
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


# --------------------------------------------------------------------------- a spec's copula


def rank_correlation(spec: Spec) -> np.ndarray | None:
    """Spearman rank-correlation matrix of the spec's inputs, or None when all are independent.

    Rows and columns in the order of ``spec.input_names``.

    Raises
    ------
    SpecError
        If the stated correlations are inconsistent (not positive definite), with
        path ``correlations``.
    """
    if not spec.correlations:
        return None
    pairs = [(c.a, c.b, c.rank_corr) for c in spec.correlations]
    return correlation_matrix(spec.input_names, pairs, "correlations")


def pearson_correlation(spec: Spec, names: Sequence[str] | None = None) -> np.ndarray:
    """Pearson correlation of the copula's latent normals (the normal scores).

    The one place where a spec's rank correlations become the copula's Pearson
    matrix (:func:`spearman_to_pearson` of :func:`rank_correlation`, whose
    positive-definiteness check applies).

    Parameters
    ----------
    spec : Spec
    names : sequence of str, optional
        Inputs wanted, in this order (default: all of ``spec.input_names``).

    Returns
    -------
    numpy.ndarray, shape (k, k)
        Dimensionless; the identity when the spec states no correlations.
    """
    all_names = list(spec.input_names)
    idx = list(range(len(all_names))) if names is None else [all_names.index(n) for n in names]
    rank = rank_correlation(spec)
    if rank is None:
        return np.eye(len(idx))
    return np.asarray(spearman_to_pearson(rank[np.ix_(idx, idx)]), dtype=np.float64)


def _names_and_columns(spec: Spec, names: str | Sequence[str] | None,
                       a: np.ndarray) -> tuple[list[str], np.ndarray, bool]:
    single = isinstance(names, str)
    names = [names] if isinstance(names, str) else list(
        spec.input_names if names is None else names)
    arr = np.asarray(a, dtype=np.float64)
    cols = arr[:, None] if single else arr
    if cols.ndim != 2 or cols.shape[1] != len(names):
        raise ValueError(f"expected an array of shape (n, {len(names)}) for inputs {names}, "
                         f"got shape {arr.shape}")
    return names, cols, single


def _score(dist: Distribution, x: np.ndarray) -> np.ndarray:
    """``Phi^-1(F(x))`` of one distribution; closed forms for normal and lognormal."""
    p = dist.params
    if dist.is_fixed:
        return np.zeros_like(x)
    if dist.kind == "lognormal":
        return np.log(x / p["median"]) / p["sigma"]
    if dist.kind == "normal":
        return (x - p["mean"]) / p["sd"]
    z: np.ndarray = special.ndtri(np.clip(dist.cdf(x), _U_EPS, 1.0 - _U_EPS))
    return z


def normal_scores(spec: Spec, x: np.ndarray, names: str | Sequence[str] | None = None
                  ) -> np.ndarray:
    """Normal scores ``z = Phi^-1(F(x))`` of input values (the copula's latent normals).

    Parameters
    ----------
    spec : Spec
    x : numpy.ndarray, shape (n, k), or (n,) when `names` is one name
        Values of the inputs ``names``, each in its own units.
    names : str or sequence of str, optional
        The inputs of the columns of `x` (default: all of ``spec.input_names``).

    Returns
    -------
    numpy.ndarray, same shape as `x`
        Dimensionless scores.  Exact closed forms for ``normal``
        (``(x - mean) / sd``) and ``lognormal`` (``log(x / median) / sigma``);
        otherwise ``ndtri`` of the cdf clipped to ``[1e-15, 1 - 1e-15]``; 0 for a
        fixed input.
    """
    names, cols, single = _names_and_columns(spec, names, x)
    z = np.empty_like(cols)
    for j, name in enumerate(names):
        z[:, j] = _score(spec.inputs[name].dist, cols[:, j])
    return z[:, 0] if single else z


def from_normal_scores(spec: Spec, z: np.ndarray, names: str | Sequence[str] | None = None
                       ) -> np.ndarray:
    """Input values ``x = F^-1(Phi(z))`` from normal scores (inverse of :func:`normal_scores`).

    Parameters
    ----------
    spec : Spec
    z : numpy.ndarray, shape (n, k), or (n,) when `names` is one name
        Dimensionless scores of the inputs ``names``.
    names : str or sequence of str, optional
        The inputs of the columns of `z` (default: all of ``spec.input_names``).

    Returns
    -------
    numpy.ndarray, same shape as `z`
        Each column in its input's units
        (:meth:`~kursk_da.spec._distributions.Distribution.from_normal_scores`).
    """
    names, cols, single = _names_and_columns(spec, names, z)
    x = np.empty_like(cols)
    for j, name in enumerate(names):
        x[:, j] = spec.inputs[name].dist.from_normal_scores(cols[:, j])
    return x[:, 0] if single else x


def draw_scores(spec: Spec, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unconditional draws of the normal scores of all inputs, shape ``(n, p)``.

    Draws exactly ``rng.standard_normal((n, p))`` and multiplies by the transposed
    Cholesky factor of :func:`pearson_correlation` (nothing when it is the identity).
    ``from_normal_scores(spec, draw_scores(spec, n, rng))`` is a prior sample.
    """
    corr = pearson_correlation(spec)
    e = rng.standard_normal((n, corr.shape[0]))
    if np.array_equal(corr, np.eye(corr.shape[0])):
        return e
    return e @ np.linalg.cholesky(corr).T


# --------------------------------------------------------------------------- conditioning


def conditional_normal(corr: np.ndarray, target: Sequence[int] | np.ndarray,
                       given: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Law of the latent normals ``z_O`` (``O`` = `target`) given ``z_S`` (``S`` = `given`).

    Parameters
    ----------
    corr : numpy.ndarray, shape (p, p)
        Pearson correlation ``R`` of the latent normals (positive definite).
    target, given : sequence of int
        Column indices of ``O`` and ``S``.

    Returns
    -------
    b : numpy.ndarray, shape (len(target), len(given))
        Regression matrix ``B = R_OS R_SS^-1`` (Cholesky solve): the conditional
        mean is ``z_S @ b.T``.  Exactly zero when ``R_OS`` is zero.
    cov : numpy.ndarray, shape (len(target), len(target))
        Conditional covariance ``R_OO - B R_SO``.
    """
    target, given = list(target), list(given)
    c_os = corr[np.ix_(target, given)]
    c_oo = corr[np.ix_(target, target)]
    if not np.any(c_os != 0.0):
        return np.zeros((len(target), len(given))), c_oo
    b = linalg.solve(corr[np.ix_(given, given)], c_os.T, assume_a="pos").T
    return b, c_oo - b @ c_os.T


def sample_conditional_scores(corr: np.ndarray, target: Sequence[int], given: Sequence[int],
                              z_given: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draws of ``z_O`` given ``z_S`` (one draw per row of `z_given`).

    Parameters
    ----------
    corr : numpy.ndarray, shape (p, p)
        Pearson correlation of the latent normals.
    target, given : sequence of int
        Column indices of ``O`` and ``S``.
    z_given : numpy.ndarray, shape (n, len(given))
        Scores of ``S``, one row per draw.
    rng : numpy.random.Generator
        Draws exactly ``rng.standard_normal((n, len(target)))``.

    Returns
    -------
    numpy.ndarray, shape (n, len(target))
        ``z_S B' + e L'`` with ``L`` the Cholesky factor of the conditional
        covariance plus ``1e-12 I`` (see :func:`conditional_normal`).
    """
    target = list(target)
    z_given = np.asarray(z_given, dtype=np.float64)
    e = rng.standard_normal((z_given.shape[0], len(target)))
    b, cov = conditional_normal(corr, target, given)
    chol = np.linalg.cholesky(cov + _COV_JITTER * np.eye(len(target)))
    mean = z_given @ b.T if np.any(b != 0.0) else 0.0
    return mean + e @ chol.T


def sample_conditional(spec: Spec, given: Sequence[str], x_given: np.ndarray,
                       target: Sequence[str], rng: np.random.Generator) -> np.ndarray:
    """Draws of the inputs `target` from their prior conditional on ``x_given`` (copula).

    Parameters
    ----------
    spec : Spec
    given : sequence of str
        Conditioning inputs ``S``.
    x_given : numpy.ndarray, shape (n, len(given))
        Their values (own units), one row per draw.
    target : sequence of str
        Inputs ``O`` to draw (disjoint from `given`).
    rng : numpy.random.Generator
        Consumed by :func:`sample_conditional_scores` (exactly
        ``rng.standard_normal((n, len(target)))``).

    Returns
    -------
    numpy.ndarray, shape (n, len(target))
        In each input's units.  Without a copula link between ``O`` and ``S`` an
        independent draw of ``O`` from its (joint) prior.
    """
    names = list(spec.input_names)
    s_idx = [names.index(s) for s in given]
    o_idx = [names.index(o) for o in target]
    corr = pearson_correlation(spec)
    x_given = np.asarray(x_given, dtype=np.float64)
    linked = np.any(corr[np.ix_(o_idx, s_idx)] != 0.0)
    z_s = (normal_scores(spec, x_given, list(given)) if linked
           else np.zeros((x_given.shape[0], len(s_idx))))
    z_o = sample_conditional_scores(corr, o_idx, s_idx, z_s, rng)
    return from_normal_scores(spec, z_o, list(target))


def condition_scores(z: np.ndarray, corr: np.ndarray, focal: Sequence[int],
                     focal_scores: np.ndarray) -> np.ndarray:
    """Move unconditional score draws to draws given the focal scores (Matheron's rule).

    Parameters
    ----------
    z : numpy.ndarray, shape (n, p)
        Unconditional draws of the normal scores (correlation `corr`), e.g. from
        :func:`draw_scores`.
    corr : numpy.ndarray, shape (p, p)
        Pearson correlation of the scores.
    focal : sequence of int
        Columns conditioned on.
    focal_scores : numpy.ndarray, shape (n, k) or (k,)
        Their scores (broadcast over rows).

    Returns
    -------
    numpy.ndarray, shape (n, p)
        A new array: focal columns set to `focal_scores`, the others moved by
        ``(focal_scores - z_focal) @ B.T`` (:func:`conditional_normal`), exact draws
        from the conditional normal.  Columns uncorrelated with the focal ones are
        unchanged.
    """
    focal = list(focal)
    a = np.broadcast_to(np.asarray(focal_scores, dtype=np.float64), (z.shape[0], len(focal)))
    out = z.copy()
    rest = np.setdiff1d(np.arange(z.shape[1]), focal)
    b, _ = conditional_normal(corr, rest, focal)
    if np.any(b != 0.0):
        out[:, rest] += (a - z[:, focal]) @ b.T
    out[:, focal] = a
    return out
