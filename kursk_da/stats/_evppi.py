"""Expected value of partial perfect information (EVPPI).

Regression estimator (Strong, Oakley & Brennan 2014, *Med Decis Making*
34:311-326).  With ``v_ij`` the value of option ``j`` under draw ``i`` and
``theta_i`` the focal parameters of that draw, the first option is taken as the
baseline and each incremental value ``d_ij = v_ij - v_i0`` (``j = 1..J-1``) is
regressed on ``theta``.  The fitted values ``g_ij ~ E[d_j | theta_i]`` (with
``g_i0 = 0``) give::

    EVPPI = mean_i max_j g_ij - max_j mean_i g_ij .

Smoothers (``method``):

``"gam"`` (1 to 4 parameters; the ``"auto"`` choice there)
    Each standardised parameter gets a cubic B-spline basis on quantile knots
    (:class:`sklearn.preprocessing.SplineTransformer`); for 2-4 parameters the
    basis is the full tensor product of the marginal bases.  Coefficients are
    fitted by penalised least squares with a second-order difference
    (P-spline) penalty on every margin, ``min ||d - X b||^2 + lam b' P b``;
    ``lam`` minimises the generalised cross-validation score, computed for all
    ``lam`` at once from one eigendecomposition (Demmler-Reinsch form).  The
    penalty leaves functions linear in each margin unpenalised.
``"gp"`` (the ``"auto"`` choice for more than 4 parameters)
    Gaussian process regression with a constant x ARD squared-exponential
    kernel plus white noise, on standardised inputs.  The hyperparameters are
    fitted by maximum marginal likelihood
    (:class:`sklearn.gaussian_process.GaussianProcessRegressor`) on a random
    subsample of at most ``gp_max_train`` draws (cost grows as its cube); the
    same subsample then serves as inducing points of a subset-of-regressors
    (Nystrom) approximation through which *every* draw is used for the fit
    (cost linear in the number of draws).  Guard: when the fitted noise variance
    is below a quarter of the fit's out-of-sample residual variance (on up to
    1,000 draws outside the subsample; the smaller of the GP's and a linear
    fit's), the marginal likelihood has found its "white signal" mode (length
    scales so short that the signal interpolates the noise, which biases the
    EVPPI upwards); the fit is then redone with the noise variance fixed at that
    residual variance (``option<j>_noise_refitted`` in the diagnostics).  This
    makes weak signals conservative: group EVPPIs below about 1 % of the EVPI
    are not distinguishable from zero.
``"linear"`` (any number of parameters; never the ``"auto"`` choice)
    Ordinary least squares on the parameters with an intercept.  It is the
    *exact* form of ``E[d_j | theta]``, not an approximation, when each option's
    value is linear in the focal parameters and these are independent of every
    other input: then ``E[sum_k theta_k a_jk | theta] = sum_k theta_k E[a_jk]``.
    Value weights of a weighted-sum value model (independent of the model's
    other inputs) are the case in point.  (Jalal et al. 2013, "Linear regression
    metamodeling as a tool to summarize and present simulation model results",
    *Med Decis Making*, use the same metamodel as an approximation.)  Its posterior
    for ``se`` uses the heteroscedasticity-consistent (HC1) covariance of the
    coefficients, since the residual spread usually depends on ``theta``.

Standard error (``se``): as in Strong et al. (2014), ``n_se_draws`` samples of
the fitted values are drawn from the approximate posterior of the regression --
for ``"gam"`` ``b ~ N(b_hat, sigma^2 (X'X + lam P)^-1)`` (flat prior on the
unpenalised part, ``sigma^2`` = residual variance, ``lam`` fixed); for ``"gp"``
the weights of the Nystrom basis from their Gaussian posterior (hyperparameters
fixed) -- and ``se`` is the standard deviation of the
EVPPI over those samples.  It measures the uncertainty of the regression fit
only: not the bias of the smoother, not the uncertainty in ``lam`` or the GP
hyperparameters, and not the Monte Carlo error of averaging over a finite
sample of ``theta`` (that last term, given the fit, is reported separately as
``diagnostics["mc_se_given_fit"]``).  Regressions for different options are
sampled independently.

Nested Monte Carlo (:func:`evppi_nested`) is the reference estimator for models
that can be re-run.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from threadpoolctl import threadpool_limits

from kursk_da.errors import VOIInputError
from kursk_da.stats._evpi import VOIResult, evpi_core, evpi_se_core
from kursk_da.stats._gam import GAM_MAX_PARAMETERS, MARGIN_BASIS_MIN, Fit, gam_fits
from kursk_da.stats._inputs import check_rng, coerce_inputs, coerce_values, select_parameters
from kursk_da.validation import check_int

__all__ = ["evppi", "evppi_nested", "evppi_from_arrays"]

_METHODS = ("auto", "gam", "gp", "linear")
_MIN_DRAWS = 20
_SE_CHUNK = 128  # posterior samples processed at once (memory ~ n_draws x chunk)


# --------------------------------------------------------------------------------------
# Posterior-sampled fits (:class:`kursk_da.stats._gam.Fit`): each smoother returns one
# per incremental value.
# --------------------------------------------------------------------------------------


def _evppi_of_fitted(fitted: np.ndarray) -> float:
    """EVPPI from fitted incremental values ``(n, J-1)`` (baseline 0 implicit)."""
    best = np.maximum(fitted.max(axis=1), 0.0)
    return float(best.mean() - max(fitted.mean(axis=0).max(), 0.0))


def _mc_se_given_fit(fitted: np.ndarray) -> float:
    """Monte Carlo standard error of the outer average, treating the fit as exact."""
    full = np.column_stack([np.zeros(fitted.shape[0]), fitted])
    return evpi_se_core(full)


def _posterior_evppi_samples(fits: list[Fit], n_samples: int,
                             rng: np.random.Generator) -> np.ndarray:
    """EVPPI recomputed on ``n_samples`` joint posterior samples of the fitted values."""
    out = np.empty(n_samples)
    n = fits[0].fitted.shape[0]
    for start in range(0, n_samples, _SE_CHUNK):
        size = min(_SE_CHUNK, n_samples - start)
        best = np.zeros((n, size))
        best_mean = np.zeros(size)
        for fit in fits:
            draws = fit.draw(size, rng)
            np.maximum(best, draws, out=best)
            np.maximum(best_mean, draws.mean(axis=0), out=best_mean)
        out[start:start + size] = best.mean(axis=0) - best_mean
    return out


# --------------------------------------------------------------------------------------
# Gaussian process smoother
# --------------------------------------------------------------------------------------


def _gp_kernel(d: int, noise: float | None = None) -> Any:
    white = (WhiteKernel(0.1, (1e-9, 1e2)) if noise is None
             else WhiteKernel(noise, noise_level_bounds="fixed"))
    return ConstantKernel(1.0, (1e-4, 1e4)) * RBF(np.ones(d), (1e-2, 1e5)) + white


_GP_OVERFIT_RATIO = 0.25
"""A GP fit whose noise variance is below this fraction of its out-of-sample residual
variance is refitted with the noise fixed (see :func:`_gp_fit_one`)."""
_GP_HELD_OUT = 1000


def _held_out_noise(z: np.ndarray, yc: np.ndarray, train: np.ndarray, gpr: Any,
                    rng: np.random.Generator) -> float | None:
    """Out-of-sample residual variance of the GP and of a linear fit (the smaller), or None.

    Computed on up to :data:`_GP_HELD_OUT` draws outside ``train``; None when fewer
    than 50 such draws exist.
    """
    rest = np.setdiff1d(np.arange(z.shape[0]), train)
    if rest.size < 50:
        return None
    held = rng.choice(rest, size=min(rest.size, _GP_HELD_OUT), replace=False)
    resid_gp = float(np.mean((yc[held] - gpr.predict(z[held])) ** 2))
    design = np.column_stack([np.ones(train.size), z[train]])
    coef = linalg.lstsq(design, yc[train])[0]
    resid_lin = float(np.mean((yc[held] - coef[0] - z[held] @ coef[1:]) ** 2))
    return min(resid_gp, resid_lin)


def _gp_fit_one(z: np.ndarray, y: np.ndarray, train: np.ndarray, restarts: int,
                rng: np.random.Generator) -> Fit:
    """GP regression of ``y`` on ``z``: hyperparameters on ``train``, fit on all draws.

    The hyperparameters are fitted by sklearn (exact GP, marginal likelihood) on
    the subsample ``train``.  The regression itself uses every draw through the
    Nystrom feature map of the subsample ("subset of regressors"):
    ``f(z) = phi(z) u`` with ``phi(z) = k(z, Z_m) Q diag(kappa)^-1/2`` from the
    eigendecomposition ``K_mm = Q diag(kappa) Q'`` and ``u ~ N(0, I)``, i.e.
    Bayesian linear regression in a well-conditioned basis.
    """
    n, d = z.shape
    ym, ys = float(y.mean()), float(y.std())
    if ys == 0.0:
        return Fit(np.full(n, ym), np.zeros((n, 1)), {"constant": 1.0})
    yc = (y - ym) / ys
    gpr = GaussianProcessRegressor(_gp_kernel(d), alpha=1e-10, normalize_y=False,
                                   n_restarts_optimizer=restarts,
                                   random_state=int(rng.integers(2**31 - 1)))
    # The marginal-likelihood optimiser makes many small (<= gp_max_train square) BLAS
    # calls: multithreaded BLAS only adds overhead there, and on a loaded machine
    # oversubscription slows it down tenfold, so it runs single-threaded.
    refitted = 0.0
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        # Irrelevant inputs push their length scale to the upper bound: expected.
        warnings.simplefilter("ignore", ConvergenceWarning)
        gpr.fit(z[train], yc[train])
        # Guard against the marginal likelihood's "white signal" mode: length scales so
        # short that the signal interpolates the training noise (noise -> 0).  Such a
        # fit claims far less noise than it leaves out of sample; refit it with the noise
        # fixed at the out-of-sample residual variance.
        held = _held_out_noise(z, yc, train, gpr, rng)
        if held is not None and float(gpr.kernel_.k2.noise_level) < _GP_OVERFIT_RATIO * held:
            gpr = GaussianProcessRegressor(_gp_kernel(d, held), alpha=1e-10,
                                           normalize_y=False, n_restarts_optimizer=restarts,
                                           random_state=int(rng.integers(2**31 - 1)))
            gpr.fit(z[train], yc[train])
            refitted = 1.0
    signal, noise = gpr.kernel_.k1, float(gpr.kernel_.k2.noise_level) + 1e-10
    k_mm = signal(z[train])
    # driver "evd": OpenBLAS 0.3.30's syevr (scipy's default) fails with "Internal Error"
    # on some of these matrices when BLAS runs single-threaded
    kappa, q = linalg.eigh(k_mm, driver="evd")
    keep = kappa > 1e-10 * kappa.max()
    phi = signal(z, z[train]) @ (q[:, keep] / np.sqrt(kappa[keep]))  # (n, r)
    prec = np.eye(phi.shape[1]) + phi.T @ phi / noise
    chol = linalg.cholesky(prec, lower=True)
    u_mean = linalg.cho_solve((chol, True), phi.T @ yc / noise)
    fitted = ym + ys * (phi @ u_mean)
    # Cov(f) = phi prec^-1 phi' = (phi L^-T)(phi L^-T)'
    factor = ys * linalg.solve_triangular(chol, phi.T, lower=True).T
    lengths = np.atleast_1d(gpr.kernel_.k1.k2.length_scale)
    info = {"noise_sd": float(ys * np.sqrt(noise)),
            "signal_sd": float(ys * np.sqrt(gpr.kernel_.k1.k1.constant_value)),
            "n_train": float(train.size), "rank": float(phi.shape[1]),
            "noise_refitted": refitted}
    info.update({f"length_scale_{i}": float(s) for i, s in enumerate(lengths)})
    return Fit(fitted, factor, info)


def _gp_fits(z: np.ndarray, y: np.ndarray, max_train: int, restarts: int,
             rng: np.random.Generator) -> list[Fit]:
    n = z.shape[0]
    train = np.sort(rng.choice(n, size=min(n, max_train), replace=False))
    return [_gp_fit_one(z, y[:, j], train, restarts, rng) for j in range(y.shape[1])]


# --------------------------------------------------------------------------------------
# Linear smoother (exact for inputs that enter the values linearly and independently)
# --------------------------------------------------------------------------------------


def _linear_fits(z: np.ndarray, y: np.ndarray) -> list[Fit]:
    """OLS of each column of ``y`` on ``[1, z]`` with HC1 coefficient posteriors."""
    n, d = z.shape
    design = np.column_stack([np.ones(n), z])
    q, r = linalg.qr(design, mode="economic")
    r_inv = linalg.solve_triangular(r, np.eye(d + 1))
    bread = r_inv @ r_inv.T  # (X'X)^-1
    fits = []
    for j in range(y.shape[1]):
        coef = r_inv @ (q.T @ y[:, j])
        fitted = design @ coef
        resid = y[:, j] - fitted
        meat = (design * (resid**2)[:, None]).T @ design
        cov = bread @ meat @ bread * (n / max(n - d - 1, 1))
        evals, evecs = linalg.eigh(cov, driver="evd")
        root = evecs * np.sqrt(np.clip(evals, 0.0, None))
        total = float(np.sum((y[:, j] - y[:, j].mean()) ** 2))
        r2 = 1.0 - float(resid @ resid) / total if total > 0 else 1.0
        fits.append(Fit(fitted, design @ root, {"r_squared": r2}))
    return fits


# --------------------------------------------------------------------------------------
# NumPy core and public wrappers
# --------------------------------------------------------------------------------------


def _standardise(x: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    sd = x.std(axis=0)
    const = [lab for lab, s in zip(labels, sd, strict=True) if not s > 0]
    if const:
        raise VOIInputError(f"inputs: parameter(s) {const} are constant across draws; "
                            "a constant parameter has no EVPPI (it is 0), drop it")
    z: np.ndarray = (x - x.mean(axis=0)) / sd
    return z


def _resolve_method(method: str, d: int) -> str:
    if method not in _METHODS:
        raise VOIInputError(f"method: expected one of {list(_METHODS)}, got {method!r}")
    if method == "auto":
        return "gam" if d <= GAM_MAX_PARAMETERS else "gp"
    if method == "gam" and d > GAM_MAX_PARAMETERS:
        raise VOIInputError(f"method: 'gam' handles 1 to {GAM_MAX_PARAMETERS} parameters jointly, "
                            f"got {d}; use method='gp' (or 'auto')")
    return method


def _check_positive_int(x: Any, name: str, minimum: int) -> int:
    return check_int(x, name, minimum=minimum, error=VOIInputError)


def evppi_from_arrays(values: np.ndarray, focal: np.ndarray, *, method: str = "auto",
                      rng: np.random.Generator, n_se_draws: int = 500,
                      gp_max_train: int = 500, gp_restarts: int = 0,
                      basis_per_parameter: int | None = None,
                      labels: tuple[str, ...] | None = None
                      ) -> tuple[float, float, str, dict[str, Any]]:
    """NumPy core of :func:`evppi` (validated ``float64`` arrays, no labels needed).

    Parameters
    ----------
    values : numpy.ndarray, shape (n, J)
        Finite values of the ``J >= 2`` options; column 0 is the baseline.
    focal : numpy.ndarray, shape (n, d)
        Finite, non-constant focal parameters.
    method, rng, n_se_draws, gp_max_train, gp_restarts, basis_per_parameter
        As in :func:`evppi` (``rng`` already a Generator).
    labels : tuple of str, optional
        Parameter labels used in error messages.

    Returns
    -------
    value, se : float
        EVPPI and its regression standard error (NaN when ``n_se_draws == 0``).
    method : str
        The smoother used (``"gam"``, ``"gp"`` or ``"linear"``).
    diagnostics : dict
    """
    n, d = focal.shape
    labels = labels if labels is not None else tuple(str(i) for i in range(d))
    method = _resolve_method(method, d)
    if n < _MIN_DRAWS:
        raise VOIInputError(f"values: expected at least {_MIN_DRAWS} draws for a regression "
                            f"estimate of EVPPI, got {n}")
    z = _standardise(focal, labels)
    incr = values[:, 1:] - values[:, :1]
    if method == "gam":
        fits = gam_fits(z, incr, basis_per_parameter)
    elif method == "linear":
        fits = _linear_fits(z, incr)
    else:
        fits = _gp_fits(z, incr, gp_max_train, gp_restarts, rng)
    fitted = np.column_stack([f.fitted for f in fits])
    value = _evppi_of_fitted(fitted)
    if n_se_draws > 0:
        se = float(np.std(_posterior_evppi_samples(fits, n_se_draws, rng), ddof=1))
    else:
        se = float("nan")
    diagnostics: dict[str, Any] = {
        "se_covers": "posterior uncertainty of the regression fit only (Strong et al. 2014); "
                     "see mc_se_given_fit for the Monte Carlo error of the outer average",
        "mc_se_given_fit": _mc_se_given_fit(fitted),
        "n_se_draws": n_se_draws,
        "baseline_option_position": 0,
    }
    for j, f in enumerate(fits, start=1):
        diagnostics.update({f"option{j}_{key}": val for key, val in f.info.items()})
    return value, se, method, diagnostics


def evppi(values: Any, inputs: Any, parameters: Any = None, *, method: str = "auto",
          rng: Any = None, n_se_draws: int = 500, gp_max_train: int = 500,
          gp_restarts: int = 0, basis_per_parameter: int | None = None) -> VOIResult:
    """Expected value of partial perfect information of some inputs, jointly.

    The expected gain from learning ``parameters`` exactly before choosing,
    ``E_theta[max_j E(v_j | theta)] - max_j E[v_j]``, estimated from a
    probabilistic sensitivity analysis sample by nonparametric regression
    (Strong, Oakley & Brennan 2014); see the module docstring for the smoothers.

    Parameters
    ----------
    values : numpy.ndarray, pandas.DataFrame or xarray.DataArray
        Value (higher is better; any unit, e.g. :data:`kursk_da.dims.VALUE_UNITS`)
        of each option under each draw, shape ``(n_draws, n_options)``, at least
        two options.  A DataArray needs dims ``DRAW`` and ``OPTION``.
    inputs : numpy.ndarray, pandas.DataFrame, xarray.Dataset or xarray.DataArray
        The sampled uncertain inputs of the same draws, shape
        ``(n_draws, n_parameters)``: DataFrame columns, Dataset variables (dim
        ``DRAW``) or a DataArray with dims ``DRAW`` and ``PARAMETER``.
    parameters : str, int or list of str / int, optional
        The parameters valued jointly (default: all columns of ``inputs``).
        Integer positions are accepted for plain arrays only.
    method : {"auto", "gam", "gp", "linear"}
        Smoother; ``"auto"`` uses ``"gam"`` for up to 4 parameters, else ``"gp"``.
        ``"linear"`` (least squares) is exact when the values are linear in the
        parameters and these are independent of the other inputs (e.g. value
        weights); otherwise it understates the EVPPI.
    rng : numpy.random.Generator, int or None
        Source of randomness (GP subsample, posterior samples for ``se``);
        ``np.random.default_rng(rng)`` is used for seeds and ``None``.
    n_se_draws : int
        Posterior samples of the regression used for ``se`` (0 skips it; ``se`` is NaN).
    gp_max_train : int
        Size of the random subsample on which the GP hyperparameters are fitted
        and which provides the inducing points (cost grows as its cube; all
        draws still enter the fit).
    gp_restarts : int
        Extra random restarts of the GP marginal-likelihood optimiser.
    basis_per_parameter : int, optional
        B-spline basis functions per parameter for ``"gam"`` (>= 4); default
        16, 8, 5, 4 for 1, 2, 3, 4 parameters, reduced for small samples.

    Returns
    -------
    VOIResult
        ``value`` (units of ``values``, >= 0), ``se`` (regression-fit uncertainty
        only, see module docstring), ``method`` (``"gam"``, ``"gp"`` or ``"linear"``),
        ``parameters`` (their labels) and ``diagnostics`` (smoothing parameter,
        effective degrees of freedom, ``mc_se_given_fit``, ...).

    Raises
    ------
    VOIInputError
        Bad shapes, NaN/inf, row counts that differ, fewer than two options,
        constant parameters, an unknown ``method`` or bad tuning arguments.
    UnknownParameterError
        A name in ``parameters`` is not an input (the message lists the available ones).
    """
    vals = coerce_values(values, name="values")
    inp = coerce_inputs(inputs, vals.data.shape[0], name="inputs")
    positions, labels = select_parameters(parameters, inp, name="parameters")
    n_se_draws = _check_positive_int(n_se_draws, "n_se_draws", 0)
    gp_max_train = _check_positive_int(gp_max_train, "gp_max_train", _MIN_DRAWS)
    gp_restarts = _check_positive_int(gp_restarts, "gp_restarts", 0)
    if basis_per_parameter is not None:
        basis_per_parameter = _check_positive_int(basis_per_parameter, "basis_per_parameter",
                                                  MARGIN_BASIS_MIN)
    generator = check_rng(rng)
    value, se, used, diag = evppi_from_arrays(
        vals.data, inp.data[:, positions], method=method, rng=generator, n_se_draws=n_se_draws,
        gp_max_train=gp_max_train, gp_restarts=gp_restarts,
        basis_per_parameter=basis_per_parameter, labels=labels)
    return VOIResult(value=value, se=se, method=used, parameters=labels,
                     n_draws=vals.data.shape[0], options=vals.labels, diagnostics=diag)


def _call_checked(func: Callable[..., Any], args: tuple[Any, ...], name: str, shape0: int,
                  ncols: int | None = None) -> np.ndarray:
    out = np.asarray(func(*args), dtype=float)
    if out.ndim == 1 and ncols is None:
        out = out[:, None] if out.shape[0] == shape0 else out
    if out.ndim != 2 or out.shape[0] != shape0 or (ncols is not None and out.shape[1] != ncols):
        want = f"({shape0}, {ncols if ncols is not None else 'k'})"
        raise VOIInputError(f"{name}: expected an array of shape {want}, got shape {out.shape}")
    if not np.all(np.isfinite(out)):
        raise VOIInputError(f"{name}: returned NaN or infinite values")
    return out


def evppi_nested(model: Callable[[np.ndarray, np.ndarray], Any],
                 sample_focal: Callable[[int, np.random.Generator], Any],
                 sample_rest: Callable[[int, np.random.Generator, np.ndarray], Any],
                 n_outer: int, n_inner: int, rng: Any = None, *,
                 parameters: tuple[str, ...] | list[str] = ()) -> VOIResult:
    """EVPPI by two-level (nested) Monte Carlo, for models that can be re-run.

    For each of ``n_outer`` draws ``theta_o`` of the focal parameters,
    ``n_inner`` draws of the remaining inputs are sampled given ``theta_o`` and
    the model is run to estimate the conditional expected values
    ``m_oj = E[v_j | theta_o]``.  Then::

        EVPPI = mean_o max_j m_oj - max_j mean_o m_oj ,

    with standard error ``sd_o(max_j m_oj - m_oj*) / sqrt(n_outer)`` (``j*`` the
    option with the highest overall mean), which covers the outer sampling error
    and, through ``m_oj``, the inner noise.

    The estimator is biased upwards for small ``n_inner``: the maximum of noisy
    inner means overestimates the maximum of the true conditional means, by an
    amount of order ``1 / n_inner`` (larger when options are close).  Increase
    ``n_inner`` until the estimate stops falling.

    Parameters
    ----------
    model : callable
        ``model(focal, rest) -> values`` with ``focal`` of shape ``(n, k)``,
        ``rest`` of shape ``(n, m)`` and ``values`` of shape ``(n, n_options)``
        (value of each option, higher is better).
    sample_focal : callable
        ``sample_focal(n, rng) -> array (n, k)``: draws of the focal parameters
        from their prior.
    sample_rest : callable
        ``sample_rest(n, rng, focal_row) -> array (n, m)``: draws of the other
        inputs given one focal draw ``focal_row`` of shape ``(k,)`` (ignore it
        for independent inputs).
    n_outer, n_inner : int
        Numbers of outer (focal) and inner (conditional) draws, each >= 2.
    rng : numpy.random.Generator, int or None
        Passed to the samplers; seeds and ``None`` go through ``np.random.default_rng``.
    parameters : sequence of str, optional
        Labels of the focal parameters, stored on the result.

    Returns
    -------
    VOIResult
        ``method="nested-mc"``, ``n_draws=n_outer``; ``diagnostics`` holds
        ``n_inner`` and the inner-mean matrix shape.

    Raises
    ------
    VOIInputError
        Bad ``n_outer``/``n_inner``/``rng`` or a callable returning the wrong shape
        or non-finite values.
    """
    n_outer = _check_positive_int(n_outer, "n_outer", 2)
    n_inner = _check_positive_int(n_inner, "n_inner", 2)
    generator = check_rng(rng)
    focal = _call_checked(sample_focal, (n_outer, generator), "sample_focal", n_outer)
    means = None
    for o in range(n_outer):
        rest = _call_checked(sample_rest, (n_inner, generator, focal[o]), "sample_rest", n_inner)
        reps = np.repeat(focal[o][None, :], n_inner, axis=0)
        ncols = None if means is None else means.shape[1]
        vals = _call_checked(model, (reps, rest), "model", n_inner, ncols)
        if means is None:
            if vals.shape[1] < 2:
                raise VOIInputError(f"model: expected values for at least 2 options, "
                                    f"got {vals.shape[1]}")
            means = np.empty((n_outer, vals.shape[1]))
        means[o] = vals.mean(axis=0)
    if means is None:  # unreachable: n_outer >= 2
        raise VOIInputError("n_outer: expected at least one outer draw")
    return VOIResult(value=evpi_core(means), se=evpi_se_core(means), method="nested-mc",
                     parameters=tuple(parameters), n_draws=n_outer,
                     options=tuple(str(j) for j in range(means.shape[1])),
                     diagnostics={"n_inner": n_inner,
                                  "se_covers": "outer Monte Carlo error (inner noise included "
                                               "through the inner means); not the upward bias "
                                               "from a finite n_inner"})
