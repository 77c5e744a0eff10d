"""One-way sensitivity (tornado) and threshold analysis on the campaign model.

Convention (stated once, used everywhere).  The one-way value of input ``i`` at
``q`` is the *partial expected value* ``E[v_j | x_i = q]``: input ``i`` is fixed
at ``q`` and every other input keeps its prior (or given) uncertainty,
conditional on ``x_i = q`` through the Gaussian copula
(:func:`kursk_da.spec.copula.condition_scores`).  It is estimated by re-running the engine on
one fixed set of ``n_draws`` draws of the other inputs with input ``i`` set to
each sweep value, with the same front shocks (common random numbers), so the
curves are smooth in ``q`` and differences between sweep points carry no
simulation noise.  This is the decision-relevant version of the textbook "others
at their base values" tornado for a nonlinear model (which would report the value
of one median scenario, not an expected value); it is also the curve whose
maximum over options, averaged over ``x_i``, gives the EVPPI of ``x_i``.

**Posterior.**  Given ``base_inputs`` (the propagated posterior input matrix of a
calibrated analysis, :func:`kursk_da.io._draws.draws_from_tree`), the other
inputs keep their *posterior* uncertainty instead: the base draws are a subsample
of those rows, the sweep covers the input's posterior quantiles, and fixing input
``i`` moves the others through a linear regression of their prior normal scores
(``Phi^-1(F_prior(x))``) on input ``i``'s, a Gaussian-copula approximation of the
posterior.  For a calibrated input (``calibrated``) the slopes of the other
calibrated inputs come from the posterior draws' score covariance, and the
uncalibrated ones follow through the spec's copula; an uncalibrated input moves
only uncalibrated ones through the spec's copula (exact when the copula does not
link it to a calibrated input, as in the shipped specs).  Inputs with zero slope
keep their draws unchanged.

Each input is swept over its central ``level`` interval (default 90 %:
5 %-95 % quantiles) at ``n_points`` equally spaced probabilities.  The tornado
bars are the values at the two ends.  **Threshold**: where the best option (the
highest partial expected value) changes between two sweep points, the crossing
of the two options is refined by Brent's method on the same CRN estimate; the
threshold reported is the crossing closest to the input's median.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import optimize

from kursk_da.decision._metrics import leader_and_runner_up
from kursk_da.dims import OPTION, PARAMETER, SWEEP, VALUE_UNITS
from kursk_da.errors import VOIInputError
from kursk_da.spec._schema import as_spec
from kursk_da.spec.copula import (
    condition_scores,
    conditional_normal,
    draw_scores,
    from_normal_scores,
    normal_scores,
    pearson_correlation,
)
from kursk_da.validation import check_bool, check_int, check_jobs, check_seed

if TYPE_CHECKING:
    from kursk_da.spec._schema import Spec

__all__ = ["tornado", "partial_expected_values"]


class _Sweeper:
    """CRN estimates of E[v | x_i = q] for one spec and one set of base draws."""

    def __init__(self, spec: Spec, n_draws: int, seed: int, n_jobs: int | None) -> None:
        root = np.random.SeedSequence(seed)
        s_inputs, s_engine = root.spawn(2)
        self.spec = spec
        self.corr = pearson_correlation(spec)
        self.z = draw_scores(spec, n_draws, np.random.default_rng(s_inputs))
        self.engine_seed = int(s_engine.generate_state(1, dtype=np.uint32)[0])
        self.n_jobs = n_jobs
        self.base = self._run(from_normal_scores(spec, self.z))

    def _run(self, theta: np.ndarray) -> np.ndarray:
        from kursk_da.engine._run import run_engine

        # one chunk per call: every call gives row r the same front shocks (CRN)
        out = run_engine(self.spec, theta.shape[0], self.engine_seed, inputs=theta,
                         chunk_size=theta.shape[0], n_jobs=self.n_jobs)
        return out.values

    def values_at(self, name: str, q: float) -> np.ndarray:
        """Values (n_draws, n_options) with input ``name`` fixed at ``q``."""
        i = self.spec.input_names.index(name)
        a = normal_scores(self.spec, np.array([q]), name)
        theta = from_normal_scores(self.spec, condition_scores(self.z, self.corr, [i], a))
        theta[:, i] = q  # exact value (the score round trip is not bit-exact)
        return self._run(theta)

    def ev_at(self, name: str, q: float) -> np.ndarray:
        """Partial expected value of each option, shape (n_options,)."""
        ev: np.ndarray = self.values_at(name, q).mean(axis=0)
        return ev


class _PosteriorConditioner:
    """Base draws from a posterior input matrix, moved when one input is fixed.

    See the module docstring: a linear regression of the prior normal scores of the
    other inputs on the fixed input's score (posterior covariance among the
    calibrated inputs, the spec's copula elsewhere).
    """

    def __init__(self, spec: Spec, base_inputs: np.ndarray, calibrated: Sequence[str],
                 rows: np.ndarray) -> None:
        self.spec = spec
        names = spec.input_names
        full_z = normal_scores(spec, base_inputs)
        self.theta: np.ndarray = base_inputs[rows]
        self.z: np.ndarray = full_z[rows]
        self.corr = pearson_correlation(spec)
        self.cal = np.isin(names, list(calibrated))
        s_idx = np.nonzero(self.cal)[0]
        self.cov_s = (np.atleast_2d(np.cov(full_z[:, s_idx], rowvar=False)) if s_idx.size
                      else np.zeros((0, 0)))

    def slopes(self, i: int) -> np.ndarray:
        """Change of every input's score per unit change of input ``i``'s score."""
        b = np.zeros(self.z.shape[1])
        s_idx, o_idx = np.nonzero(self.cal)[0], np.nonzero(~self.cal)[0]
        if self.cal[i]:
            k = int(np.searchsorted(s_idx, i))
            var = self.cov_s[k, k]
            b[s_idx] = self.cov_s[:, k] / var if var > 0 else 0.0
            # uncalibrated inputs follow through the spec's copula: E[z_O | z_S] = B z_S
            b_os, _ = conditional_normal(self.corr, o_idx, s_idx)
            if np.any(b_os != 0.0):
                b[o_idx] = b_os @ b[s_idx]
        else:
            b_oi, _ = conditional_normal(self.corr, o_idx, [i])
            b[o_idx] = b_oi[:, 0]
        b[i] = 1.0
        return b

    def inputs_at(self, name: str, q: float) -> np.ndarray:
        """The base draws with input ``name`` fixed at ``q`` and the others moved."""
        i = self.spec.input_names.index(name)
        a = float(normal_scores(self.spec, np.array([q]), name)[0])
        b = self.slopes(i)
        moved = np.nonzero(b != 0.0)[0]
        z = self.z[:, moved] + np.outer(a - self.z[:, i], b[moved])
        theta = self.theta.copy()
        theta[:, moved] = from_normal_scores(self.spec, z,
                                             [self.spec.input_names[j] for j in moved])
        theta[:, i] = q
        return theta


class _PosteriorSweeper(_Sweeper):
    """CRN estimates of E[v | x_i = q] under the posterior (see the module docstring)."""

    def __init__(self, spec: Spec, n_draws: int, seed: int, n_jobs: int | None,
                 base_inputs: np.ndarray, calibrated: Sequence[str]) -> None:
        s_inputs, s_engine = np.random.SeedSequence(seed).spawn(2)
        n = base_inputs.shape[0]
        rows = (np.sort(np.random.default_rng(s_inputs).choice(n, n_draws, replace=False))
                if n_draws < n else np.arange(n))
        self.spec = spec
        self.conditioner = _PosteriorConditioner(spec, base_inputs, calibrated, rows)
        self.engine_seed = int(s_engine.generate_state(1, dtype=np.uint32)[0])
        self.n_jobs = n_jobs
        self.base = self._run(self.conditioner.theta)

    def values_at(self, name: str, q: float) -> np.ndarray:
        return self._run(self.conditioner.inputs_at(name, q))


def partial_expected_values(spec: Spec, name: str, grid: Sequence[float], *, n_draws: int = 1000,
                            seed: int = 0, n_jobs: int | None = None) -> np.ndarray:
    """``E[v_j | x_name = q]`` for each ``q`` of ``grid``, shape (len(grid), n_options), dkm2.

    Same estimator (CRN, conditional copula) as :func:`tornado`; with the same
    ``n_draws`` and ``seed`` it reproduces the tornado's sweep values.
    """
    sweeper = _Sweeper(spec, n_draws, seed, n_jobs)
    return np.array([sweeper.ev_at(name, float(q)) for q in grid])


def _check_args(spec: Spec, parameters: Sequence[str] | None, n_draws: Any, n_points: Any,
                level: Any) -> list[str]:
    check_int(n_draws, "n_draws", minimum=10, error=VOIInputError)
    check_int(n_points, "n_points", minimum=2, error=VOIInputError)
    if not isinstance(level, float | int) or not 0.0 < float(level) < 1.0:
        raise VOIInputError(f"level: expected a probability in (0, 1), got {level!r}")
    uncertain = [n for n, p in spec.inputs.items() if not p.dist.is_fixed]
    if parameters is None:
        return uncertain
    bad = [p for p in parameters if p not in spec.input_names]
    if bad:
        raise VOIInputError(f"parameters: unknown input(s) {bad}; available: "
                            f"{list(spec.input_names)}")
    return [p for p in parameters if p in uncertain]


def _check_base(spec: Spec, base: Any, calibrated: Sequence[str]) -> np.ndarray:
    x = np.asarray(base, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(spec.input_names) or x.shape[0] < 10:
        raise VOIInputError(f"base_inputs: expected shape (n >= 10, {len(spec.input_names)}) "
                            f"with columns spec.input_names, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise VOIInputError("base_inputs: expected finite numbers, found NaN or inf")
    bad = [c for c in calibrated if c not in spec.input_names]
    if bad:
        raise VOIInputError(f"calibrated: unknown input(s) {bad}")
    return x


def _thresholds(sweeper: _Sweeper, name: str, grid: np.ndarray, ev: np.ndarray,
                median: float, xtol_rel: float) -> tuple[float, str, str, int]:
    """Crossing of the best option nearest the median: (value, best below, best above, count)."""
    best = np.argmax(ev, axis=1)
    found: list[tuple[float, int, int]] = []
    for k in np.nonzero(best[1:] != best[:-1])[0]:
        a, b = int(best[k]), int(best[k + 1])

        def gap(q: float, a: int = a, b: int = b) -> float:
            e = sweeper.ev_at(name, q)
            return float(e[a] - e[b])

        lo, hi = float(grid[k]), float(grid[k + 1])
        g_lo, g_hi = ev[k, a] - ev[k, b], ev[k + 1, a] - ev[k + 1, b]
        if g_lo * g_hi > 0:  # a third option took over in between: report the bracket middle
            root = 0.5 * (lo + hi)
        else:
            root = optimize.brentq(gap, lo, hi, xtol=xtol_rel * max(abs(hi - lo), 1e-300))
        found.append((root, a, b))
    if not found:
        return float("nan"), "", "", 0
    root, a, b = min(found, key=lambda t: abs(t[0] - median))
    opts = sweeper.spec.option_names
    return root, opts[a], opts[b], len(found)


def tornado(spec: Spec, *, parameters: Sequence[str] | None = None, n_draws: int = 1000,
            seed: int = 0, level: float = 0.9, n_points: int = 5, thresholds: bool = True,
            xtol_rel: float = 1e-4, n_jobs: int | None = None,
            base_inputs: np.ndarray | None = None,
            calibrated: Sequence[str] = ()) -> xr.Dataset:
    """One-way sensitivity of each option's expected value and of the top-two difference.

    Parameters
    ----------
    spec : Spec
    parameters : sequence of str, optional
        Inputs to sweep (default: every uncertain input; fixed ones are skipped).
    n_draws : int
        Draws of the other inputs behind each partial expected value (the
        estimator's Monte Carlo error shrinks as ``1/sqrt(n_draws)``; the CRN
        differences along a sweep are much more precise).
    seed : int
        Root seed of the base draws and front shocks.
    level : float
        Probability content of the swept central interval (0.9: 5 %-95 %).
    n_points : int
        Sweep points (equally spaced in probability, ends included).
    thresholds : bool
        Also locate the thresholds (extra engine runs for the root finding).
    xtol_rel : float
        Root tolerance, relative to the bracketing sweep interval.
    n_jobs : int, optional
        Engine threads.
    base_inputs : numpy.ndarray, shape (n, n_inputs), optional
        Posterior input matrix (columns ``spec.input_names``): sweep under the
        posterior instead of the prior (module docstring).  ``n_draws`` of its rows
        (all if fewer) are the base draws.
    calibrated : sequence of str
        With ``base_inputs``: the inputs the calibration sampled.

    Returns
    -------
    xarray.Dataset
        ``sweep_value`` (parameter, sweep; the input's values, own units),
        ``sweep_probability`` (sweep), ``expected_value`` (parameter, sweep, option; dkm2),
        ``difference`` (parameter, sweep; EV of ``leader`` minus EV of
        ``runner_up``, the two best options at the base, dkm2), ``low``/``high``
        (parameter, option: EV at the two ends), ``swing`` (parameter: ``|difference
        at high - at low|``, the tornado ranking, highest first), ``base_expected_value``
        (option), ``threshold`` (parameter: input value where the best option
        changes, NaN if none in the interval), ``best_below``/``best_above``
        (parameter: the best option on each side), ``n_thresholds``.

    Raises
    ------
    VOIInputError
        Unknown ``parameters`` or bad sizes.
    """
    spec = as_spec(spec)
    names = _check_args(spec, parameters, n_draws, n_points, level)
    seed = check_seed(seed, error=VOIInputError)
    thresholds = check_bool(thresholds, "thresholds", error=VOIInputError)
    n_jobs = check_jobs(n_jobs, error=VOIInputError)
    if base_inputs is None:
        sweeper: _Sweeper = _Sweeper(spec, n_draws, seed, n_jobs)
    else:
        base_inputs = _check_base(spec, base_inputs, calibrated)
        sweeper = _PosteriorSweeper(spec, n_draws, seed, n_jobs, base_inputs, calibrated)
        col = {m: j for j, m in enumerate(spec.input_names)}
        names = [m for m in names if np.ptp(base_inputs[:, col[m]]) > 0]
    base_ev = sweeper.base.mean(axis=0)
    leader, runner = leader_and_runner_up(sweeper.base)
    probs = np.linspace((1 - level) / 2, (1 + level) / 2, n_points)
    n_opt = len(spec.option_names)
    grid = np.empty((len(names), n_points))
    ev = np.empty((len(names), n_points, n_opt))
    thr = np.full(len(names), np.nan)
    below, above = [""] * len(names), [""] * len(names)
    count = np.zeros(len(names), dtype=np.int64)
    for k, name in enumerate(names):
        dist = spec.inputs[name].dist
        if base_inputs is None:
            grid[k], median = dist.ppf(probs), dist.median()
        else:
            column = base_inputs[:, spec.input_names.index(name)]
            grid[k], median = np.quantile(column, probs), float(np.median(column))
        ev[k] = [sweeper.ev_at(name, float(q)) for q in grid[k]]
        if thresholds:
            thr[k], below[k], above[k], count[k] = _thresholds(
                sweeper, name, grid[k], ev[k], median, xtol_rel)
    which = "prior" if base_inputs is None else "posterior"
    diff = ev[:, :, leader] - ev[:, :, runner]
    swing = np.abs(diff[:, -1] - diff[:, 0])
    rank = np.argsort(-swing, kind="stable")
    val = {"units": VALUE_UNITS}
    ds = xr.Dataset(
        {
            "sweep_value": ((PARAMETER, SWEEP), grid[rank], {"long_name": "swept input value",
                                                             "units": "input's own"}),
            "sweep_probability": ((SWEEP,), probs, {"long_name": f"{which} probability level",
                                                    "units": "1"}),
            "expected_value": ((PARAMETER, SWEEP, OPTION), ev[rank],
                               {"long_name": "E[value | input = sweep value]", **val}),
            "difference": ((PARAMETER, SWEEP), diff[rank],
                           {"long_name": "EV(leader) - EV(runner_up)", **val}),
            "low": ((PARAMETER, OPTION), ev[rank, 0], {"long_name": "EV at the low end", **val}),
            "high": ((PARAMETER, OPTION), ev[rank, -1],
                     {"long_name": "EV at the high end", **val}),
            "swing": ((PARAMETER,), swing[rank],
                      {"long_name": "|change of EV(leader) - EV(runner_up)| over the interval",
                       **val}),
            "base_expected_value": ((OPTION,), base_ev, {"long_name": "EV on the base draws",
                                                         **val}),
            "threshold": ((PARAMETER,), thr[rank],
                          {"long_name": "input value at which the best option changes",
                           "units": "input's own"}),
            "best_below": ((PARAMETER,), np.array(below, dtype=str)[rank],
                           {"long_name": "best option just below the threshold"}),
            "best_above": ((PARAMETER,), np.array(above, dtype=str)[rank],
                           {"long_name": "best option just above the threshold"}),
            "n_thresholds": ((PARAMETER,), count[rank],
                             {"long_name": "changes of the best option in the interval",
                              "units": "1"}),
        },
        coords={PARAMETER: [names[r] for r in rank], OPTION: list(spec.option_names)},
    )
    ds.attrs.update({
        "description": "one-way sensitivity: E[value | input] with the other inputs uncertain "
                       "(conditional copula), common random numbers, engine re-run",
        "distribution": which,
        "leader": spec.option_names[leader], "runner_up": spec.option_names[runner],
        "n_draws": n_draws, "seed": seed, "level": float(level), "units": VALUE_UNITS,
    })
    return ds
