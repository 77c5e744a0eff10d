"""Pieces shared by the regression smoothers of :mod:`kursk_da.stats` (private module).

* :class:`Fit` -- fitted values of one regression and a Gaussian approximation of their
  posterior (returned by the spline, Gaussian-process and linear smoothers of
  :mod:`kursk_da.stats._evppi`);
* the tensor-product cubic P-spline smoother with GCV smoothing
  (:func:`gam_fits`; its pieces :func:`margin_basis_size`, :func:`tensor_spline_design`,
  :func:`gcv_lambda`, :func:`pspline_fits`), used by :func:`kursk_da.stats._evppi`,
  :func:`kursk_da.stats.evppi_gam_fast` and :func:`kursk_da.stats._main_effects`.

See :mod:`kursk_da.stats._evppi` for the method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize
from sklearn.preprocessing import SplineTransformer

__all__ = [
    "GAM_MAX_PARAMETERS",
    "MARGIN_BASIS_MIN",
    "Fit",
    "margin_basis_size",
    "tensor_spline_design",
    "gcv_lambda",
    "pspline_fits",
    "gam_fits",
]

GAM_MAX_PARAMETERS = 4
"""Largest number of focal parameters handled by the tensor-product spline smoother."""

MARGIN_BASIS_MIN = 4  # cubic B-splines with only the two boundary knots
_MARGIN_BASIS_MAX = {1: 16, 2: 8, 3: 5, 4: 4}


@dataclass(frozen=True)
class Fit:
    """Fitted values of one regression and a Gaussian approximation of their posterior.

    Posterior samples of the fitted values are ``fitted + factor @ eps`` with
    ``eps ~ N(0, I)`` of length ``factor.shape[1]``.
    """

    fitted: np.ndarray  # (n,)
    factor: np.ndarray  # (n, r)
    info: dict[str, float]

    def draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """Posterior samples of the fitted values, shape ``(n, size)``."""
        eps = rng.standard_normal((self.factor.shape[1], size))
        return self.fitted[:, None] + self.factor @ eps


def margin_basis_size(n: int, d: int, requested: int | None) -> int:
    if requested is not None:
        return requested
    cap = int(np.floor((n / 4.0) ** (1.0 / d)))
    return max(MARGIN_BASIS_MIN, min(_MARGIN_BASIS_MAX[d], cap))


def _margin_knots(z: np.ndarray, n_knots: int) -> np.ndarray:
    """Quantile knots, or uniform knots when quantiles tie (discrete inputs)."""
    knots: np.ndarray = np.quantile(z, np.linspace(0.0, 1.0, n_knots))
    if np.all(np.diff(knots) > 1e-12 * (z.max() - z.min())):
        return knots
    return np.linspace(z.min(), z.max(), n_knots)


def _spline_basis(z: np.ndarray, k: int) -> np.ndarray:
    """Cubic B-spline basis with ``k`` functions for one standardised input, shape (n, k)."""
    knots = _margin_knots(z, k - 2)[:, None]
    trans = SplineTransformer(degree=3, knots=knots, extrapolation="constant", include_bias=True)
    basis: np.ndarray = trans.fit_transform(z[:, None])
    return basis


def _difference_penalty(k: int, order: int = 2) -> np.ndarray:
    dmat = np.diff(np.eye(k), n=order, axis=0)
    return dmat.T @ dmat


def tensor_spline_design(z: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Tensor-product cubic B-spline design matrix and its P-spline penalty.

    Parameters
    ----------
    z : numpy.ndarray, shape (n, d)
        Standardised inputs.
    k : int
        Number of basis functions per input (>= 4).

    Returns
    -------
    design : numpy.ndarray, shape (n, k**d)
        Row-wise Kronecker product of the marginal bases (first input varies slowest).
    penalty : numpy.ndarray, shape (k**d, k**d)
        ``sum_m I x .. x D'D x .. x I``, second-order differences along each margin.
    """
    n, d = z.shape
    design = np.ones((n, 1))
    for m in range(d):
        basis = _spline_basis(z[:, m], k)
        design = (design[:, :, None] * basis[:, None, :]).reshape(n, -1)
    pen_m = _difference_penalty(k)
    penalty = np.zeros((k**d, k**d))
    for m in range(d):
        term = np.ones((1, 1))
        for other in range(d):
            term = np.kron(term, pen_m if other == m else np.eye(k))
        penalty += term
    return design, penalty


def gcv_lambda(s2: np.ndarray, z2: np.ndarray, rss_resid: float, n: int,
                n_null: int) -> tuple[float, float, float]:
    """Smoothing parameter minimising GCV in Demmler-Reinsch form.

    ``s2`` are the eigenvalues of the penalised block, ``z2`` the squared
    projections of the response on their eigenvectors, ``rss_resid`` the part of
    the residual sum of squares outside every basis direction.

    Returns
    -------
    lam, rss, edf : float
    """

    def score(log_lam: float) -> tuple[float, float, float]:
        w = s2 / (s2 + np.exp(log_lam))
        rss = rss_resid + float(np.sum(z2 * (1.0 - w) ** 2))
        edf = n_null + float(w.sum())
        if n - edf < 1.0:
            return np.inf, rss, edf
        return n * rss / (n - edf) ** 2, rss, edf

    lo = np.log(s2.min()) - 3 * np.log(10.0)
    hi = np.log(s2.max()) + 3 * np.log(10.0)
    grid = np.linspace(lo, hi, 161)
    scores = np.array([score(g)[0] for g in grid])
    i = int(np.argmin(scores))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    if b > a:
        res = optimize.minimize_scalar(lambda g: score(g)[0], bounds=(a, b), method="bounded")
        best = float(res.x) if res.fun <= scores[i] else float(grid[i])
    else:
        best = float(grid[i])
    _, rss, edf = score(best)
    return float(np.exp(best)), rss, edf


def _orthonormal_range(mat: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    u, s, _ = linalg.svd(mat, full_matrices=False)
    basis: np.ndarray = u[:, s > rtol * s.max()] if s.size and s.max() > 0 else u[:, :0]
    return basis


def pspline_fits(design: np.ndarray, penalty: np.ndarray, y: np.ndarray) -> list[Fit]:
    """Penalised least squares with GCV for each column of ``y``, with posterior factors.

    The penalty is split into its null space (unpenalised, projected out exactly)
    and a penalised block rescaled to an identity (ridge) penalty.
    """
    n = design.shape[0]
    e, v = linalg.eigh(penalty, driver="evd")
    null = e <= 1e-9 * e.max()
    q0 = _orthonormal_range(design @ v[:, null])
    zpen = design @ (v[:, ~null] / np.sqrt(e[~null]))
    mpen = zpen - q0 @ (q0.T @ zpen)
    s2, w_vec = linalg.eigh(mpen.T @ mpen, driver="evd")
    keep = s2 > 1e-10 * s2.max()
    s2, w_vec = s2[keep], w_vec[:, keep]
    u = (mpen @ w_vec) / np.sqrt(s2)
    fits = []
    for j in range(y.shape[1]):
        yj = y[:, j]
        null_fit = q0 @ (q0.T @ yj)
        resid = yj - null_fit
        zj = u.T @ resid
        rss_resid = max(float(resid @ resid - zj @ zj), 0.0)
        lam, rss, edf = gcv_lambda(s2, zj**2, rss_resid, n, q0.shape[1])
        w = s2 / (s2 + lam)
        sigma = np.sqrt(rss / (n - edf))
        fitted = null_fit + u @ (w * zj)
        factor = sigma * np.column_stack([u * np.sqrt(w), q0])
        fits.append(Fit(fitted, factor, {"lambda": lam, "edf": edf, "sigma": float(sigma),
                                         "n_basis": design.shape[1]}))
    return fits


def gam_fits(z: np.ndarray, y: np.ndarray, basis_per_parameter: int | None) -> list[Fit]:
    n, d = z.shape
    k = margin_basis_size(n, d, basis_per_parameter)
    design, penalty = tensor_spline_design(z, k)
    return pspline_fits(design, penalty, y)
