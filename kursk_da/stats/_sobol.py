"""Variance-based global sensitivity analysis: Sobol' first-order and total indices.

For a model ``Y = f(X_1, ..., X_d)`` with independent inputs, the first-order
index ``S_i = V[E(Y | X_i)] / V(Y)`` is the share of output variance explained by
``X_i`` alone and the total index ``ST_i = E[V(Y | X_~i)] / V(Y)`` the share
involving ``X_i`` in any way (``ST_i >= S_i``; ``ST_i - S_i`` measures
interactions).

Design (Saltelli et al. 2010, *Comput Phys Commun* 181:259-270): two independent
``N x d`` sample matrices ``A`` and ``B`` (the two halves of one ``N x 2d``
scrambled Sobol' or plain Monte Carlo sample, mapped through each input's
``ppf``) and, for each ``i``, ``AB_i`` = ``A`` with column ``i`` taken from ``B``:
``N (d + 2)`` model runs.  Estimators::

    V     = var(f(A) ++ f(B))                              (pooled, ddof=1)
    S_i   = mean( f(B) * (f(AB_i) - f(A)) ) / V            (Saltelli 2010, Table 2 (b))
    ST_i  = mean( (f(A) - f(AB_i))**2 ) / (2 V)            (Jansen 1999; Table 2 (f))

Confidence bounds are bootstrap percentile intervals: rows of ``A``, ``B`` and
all ``AB_i`` are resampled together and the indices recomputed.  For scrambled
Sobol' points the bootstrap treats rows as independent, which overstates the
error a little (conservative bounds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr
from scipy.stats import qmc

from kursk_da.dims import PARAMETER
from kursk_da.errors import VOIInputError
from kursk_da.stats._inputs import check_rng
from kursk_da.validation import check_int

__all__ = ["sobol", "sobol_indices_core", "SAMPLERS"]

SAMPLERS = ("sobol", "random")
"""Base-sample generators: scrambled Sobol' quasi-Monte Carlo or plain Monte Carlo."""


def sobol_indices_core(f_a: np.ndarray, f_b: np.ndarray,
                       f_ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First-order and total Sobol' indices from the model runs (NumPy core).

    Parameters
    ----------
    f_a, f_b : numpy.ndarray, shape (..., N)
        Outputs on the base matrices ``A`` and ``B``; leading axes (e.g.
        bootstrap replicates) broadcast.
    f_ab : numpy.ndarray, shape (d, ..., N)
        Outputs on ``AB_i``, one row block per input.

    Returns
    -------
    s1, st : numpy.ndarray, shape (d, ...)
        First-order (Saltelli 2010) and total-order (Jansen) indices,
        dimensionless fractions of the output variance.  NaN if the output
        variance is zero.
    """
    pooled = np.concatenate([f_a, f_b], axis=-1)
    var = pooled.var(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = np.mean(f_b * (f_ab - f_a), axis=-1) / var
        st = 0.5 * np.mean((f_a - f_ab) ** 2, axis=-1) / var
    return s1, st


def _check_distributions(distributions: Any) -> tuple[list[str], list[Any]]:
    if not isinstance(distributions, Mapping) or len(distributions) == 0:
        raise VOIInputError("distributions: expected a non-empty mapping of parameter name -> "
                            f"frozen scipy.stats distribution, got {type(distributions).__name__}"
                            + (" (empty)" if isinstance(distributions, Mapping) else ""))
    names, dists = [], []
    for key, dist in distributions.items():
        if not isinstance(key, str):
            raise VOIInputError(f"distributions: expected string parameter names, got {key!r}")
        if not callable(getattr(dist, "ppf", None)) or not hasattr(dist, "dist"):
            raise VOIInputError(f"distributions[{key!r}]: expected a frozen scipy.stats "
                                f"distribution (e.g. scipy.stats.norm(0, 1)), "
                                f"got {type(dist).__name__}")
        names.append(key)
        dists.append(dist)
    return names, dists


def _check_int(x: Any, name: str, minimum: int) -> int:
    return check_int(x, name, minimum=minimum, error=VOIInputError)


def _base_sample(n: int, d: int, sampler: str, rng: np.random.Generator) -> np.ndarray:
    """``n x 2d`` uniform sample in the open unit cube."""
    if sampler == "sobol":
        u = qmc.Sobol(d=2 * d, scramble=True, rng=rng).random(n)
    else:
        u = rng.random((n, 2 * d))
    tiny = np.finfo(float).eps
    return np.clip(u, tiny, 1.0 - tiny)  # keep ppf finite for unbounded distributions


def _to_inputs(u: np.ndarray, dists: list[Any], names: list[str]) -> np.ndarray:
    x = np.empty_like(u)
    for i, dist in enumerate(dists):
        x[:, i] = dist.ppf(u[:, i])
    if not np.all(np.isfinite(x)):
        bad = [names[i] for i in range(len(names)) if not np.all(np.isfinite(x[:, i]))]
        raise VOIInputError(f"distributions: ppf returned non-finite values for {bad}")
    return x


def _evaluate(func: Callable[[np.ndarray], Any], x: np.ndarray) -> np.ndarray:
    try:
        out = np.asarray(func(x), dtype=float)
    except (TypeError, ValueError) as exc:
        raise VOIInputError(f"func: calling func on an array of shape {x.shape} failed "
                            f"({exc})") from exc
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.shape != (x.shape[0],):
        raise VOIInputError(f"func: expected an output of shape ({x.shape[0]},) for an input of "
                            f"shape {x.shape} (one value per row), got shape {out.shape}")
    if not np.all(np.isfinite(out)):
        raise VOIInputError(f"func: returned {int(np.sum(~np.isfinite(out)))} NaN or infinite "
                            "values")
    return out


def _bootstrap(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray, n_bootstrap: int,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap replicates of (S1, ST), each of shape (d, n_bootstrap)."""
    n = f_a.shape[0]
    idx = rng.integers(0, n, size=(n_bootstrap, n))
    s1 = np.empty((f_ab.shape[0], n_bootstrap))
    st = np.empty_like(s1)
    for i in range(f_ab.shape[0]):  # one input at a time keeps memory at n_bootstrap x N
        s1[i], st[i] = (v[0] for v in sobol_indices_core(f_a[idx], f_b[idx], f_ab[i][idx][None]))
    return s1, st


def sobol(func: Callable[[np.ndarray], Any], distributions: Mapping[str, Any], n: int,
          rng: Any = None, *, n_bootstrap: int = 1000, conf_level: float = 0.95,
          sampler: str = "sobol") -> xr.Dataset:
    """Sobol' first-order and total sensitivity indices with bootstrap bounds.

    Parameters
    ----------
    func : callable
        ``func(x) -> y``: ``x`` of shape ``(m, d)`` holds one input vector per
        row, columns in the order of ``distributions``; ``y`` of shape ``(m,)``
        is the scalar output (any unit).  It is called ``d + 2`` times with
        ``m = n``.
    distributions : mapping of str to frozen scipy.stats distribution
        Independent marginal distribution of each input, e.g.
        ``{"x1": scipy.stats.uniform(-np.pi, 2 * np.pi)}``.
    n : int
        Base sample size ``N`` (rows of ``A`` and ``B``); the model is run
        ``n * (d + 2)`` times.  With ``sampler="sobol"`` use a power of 2
        (scipy warns otherwise).
    rng : numpy.random.Generator, int or None
        Source of randomness for the scrambling (or MC sample) and the
        bootstrap; seeds and ``None`` go through ``np.random.default_rng``.
    n_bootstrap : int
        Bootstrap replicates for the confidence bounds (0 gives NaN bounds).
    conf_level : float
        Coverage of the percentile bounds, in (0, 1).
    sampler : {"sobol", "random"}
        Scrambled Sobol' points or plain Monte Carlo for the ``N x 2d`` base sample.

    Returns
    -------
    xarray.Dataset
        Variables ``S1``, ``ST`` (point estimates; dimensionless shares of
        output variance), ``S1_conf_low``, ``S1_conf_high``, ``ST_conf_low``,
        ``ST_conf_high`` over dim ``PARAMETER`` (coords = the names of
        ``distributions``).  Attributes: ``n``, ``n_evaluations``,
        ``estimator``, ``sampler``, ``conf_level``, ``n_bootstrap``,
        ``output_variance``.

    Raises
    ------
    VOIInputError
        Bad ``n``, ``n_bootstrap``, ``conf_level``, ``sampler`` or
        ``distributions``; ``func`` output of the wrong shape or non-finite.

    Notes
    -----
    Estimates can fall slightly outside [0, 1] (and ``S1 > ST``) by sampling
    error; they are not clipped.
    """
    names, dists = _check_distributions(distributions)
    n = _check_int(n, "n", 2)
    n_bootstrap = _check_int(n_bootstrap, "n_bootstrap", 0)
    if not (isinstance(conf_level, float | int) and 0.0 < float(conf_level) < 1.0):
        raise VOIInputError(f"conf_level: expected a probability in (0, 1), got {conf_level!r}")
    if sampler not in SAMPLERS:
        raise VOIInputError(f"sampler: expected one of {list(SAMPLERS)}, got {sampler!r}")
    if not callable(func):
        raise VOIInputError(f"func: expected a callable, got {type(func).__name__}")
    generator = check_rng(rng)
    d = len(names)
    x = _to_inputs(_base_sample(n, d, sampler, generator), dists * 2, names * 2)
    a, b = x[:, :d], x[:, d:]
    f_a, f_b = _evaluate(func, a), _evaluate(func, b)
    f_ab = np.empty((d, n))
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        f_ab[i] = _evaluate(func, ab)
    s1, st = sobol_indices_core(f_a, f_b, f_ab)
    alpha = 1.0 - float(conf_level)
    if n_bootstrap > 0:
        b1, bt = _bootstrap(f_a, f_b, f_ab, n_bootstrap, generator)
        lo1, hi1 = np.quantile(b1, [alpha / 2, 1 - alpha / 2], axis=1)
        lot, hit = np.quantile(bt, [alpha / 2, 1 - alpha / 2], axis=1)
    else:
        lo1 = hi1 = lot = hit = np.full(d, np.nan)
    coords = {PARAMETER: names}
    data = {key: ((PARAMETER,), val) for key, val in {
        "S1": s1, "ST": st, "S1_conf_low": lo1, "S1_conf_high": hi1,
        "ST_conf_low": lot, "ST_conf_high": hit}.items()}
    attrs = {
        "n": n,
        "n_evaluations": n * (d + 2),
        "estimator": "first order: Saltelli et al. (2010); total: Jansen (1999); "
                     "bootstrap percentile bounds",
        "sampler": "scrambled Sobol'" if sampler == "sobol" else "Monte Carlo",
        "conf_level": float(conf_level),
        "n_bootstrap": n_bootstrap,
        "output_variance": float(np.concatenate([f_a, f_b]).var(ddof=1)),
        "units": "1",
    }
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    for key in ("S1", "ST"):
        ds[key].attrs["long_name"] = ("first-order" if key == "S1" else "total") + " Sobol' index"
    return ds
