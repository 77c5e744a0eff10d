"""Scenarios side by side, value trade-offs, and risk attitude.

* :func:`scenario_comparison` -- the decision summary of the spec and of each of
  its named scenarios (:mod:`kursk_da.spec._scenarios`), side by side;
* :func:`acceptability_curve` -- the probability that each option is best (and
  its expected value) as one value weight ranges over a grid, the analogue of a
  cost-effectiveness acceptability curve;
* :func:`simplex_regions` -- the best option at each point of a simplex of three
  value weights (which trade-offs favour which option);
* :func:`risk_attitude` -- CVaR and expected exponential utility with its
  certainty equivalent for a stated risk aversion.

The trade-off functions re-weight the engine's attributes
(``value = sum_k w_k a_k``, :mod:`kursk_da.engine._run`), so they need no new
simulation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import special

from kursk_da.decision import _metrics as metrics
from kursk_da.dims import OPTION, SCENARIO, SIMPLEX_POINT, VALUE_UNITS, WEIGHT_VALUE
from kursk_da.dynamics.catalogue import ATTRIBUTE_NAMES
from kursk_da.errors import VOIInputError
from kursk_da.spec._scenarios import BASE_SCENARIO
from kursk_da.spec._schema import apply_scenario
from kursk_da.validation import check_int, check_jobs, check_seed

if TYPE_CHECKING:
    from distributed import Client

    from kursk_da.spec._schema import Spec

__all__ = [
    "scenario_comparison",
    "acceptability_curve",
    "simplex_regions",
    "risk_attitude",
    "DEFAULT_RISK_AVERSION",
    "DEFAULT_SIMPLEX_WEIGHTS",
]

DEFAULT_RISK_AVERSION = 1.0 / 1000.0
"""Risk aversion ``r`` of the exponential utility, 1/dkm2 (analyst judgement): a risk
tolerance of 1,000 dkm2, so a 50:50 gamble of +-1,000 dkm2 is worth about -380 dkm2."""

DEFAULT_SIMPLEX_WEIGHTS = ("ua_casualties", "kursk_area_final", "foothold_retained")
"""The three value weights of the default robustness simplex: own losses, negotiating
leverage and the morale/support value of a foothold."""


def _val(long_name: str) -> dict[str, str]:
    return {"long_name": long_name, "units": VALUE_UNITS}


def scenario_comparison(spec: Spec, *, draws: int = 20_000, seed: int = 0,
                        scenarios: Sequence[str] | None = None,
                        n_jobs: int | None = None, client: Client | None = None
                        ) -> xr.Dataset:
    """Decision summary of the base spec and each scenario, side by side.

    Every scenario runs with the same seed (common random numbers where its
    distributions equal the base ones). With a dask ``client`` each scenario's engine
    blocks run on the cluster (the numbers do not change).

    Returns
    -------
    xarray.Dataset
        Over (scenario, option): ``expected_value``, ``expected_value_mcse``,
        ``prob_best``, ``expected_regret``, ``cvar`` (dkm2 or 1); over scenario:
        ``best`` (option of highest expected value), ``evpi``, ``description``.
    """
    from kursk_da.engine._run import run_engine

    draws = check_int(draws, "draws", minimum=1, error=VOIInputError)
    seed = check_seed(seed, error=VOIInputError)
    n_jobs = check_jobs(n_jobs, error=VOIInputError)
    names = [BASE_SCENARIO, *(spec.scenarios if scenarios is None else scenarios)]
    unknown = [n for n in names[1:] if n not in spec.scenarios]
    if unknown:
        raise VOIInputError(f"scenarios: unknown scenario(s) {unknown}; expected names from "
                            f"{list(spec.scenarios)}")
    rows = []
    for name in names:
        s = apply_scenario(spec, name)
        v = run_engine(s, draws, seed, n_jobs=n_jobs, client=client).values
        ev, mcse = metrics.expected_value(v)
        rows.append((ev, mcse, metrics.prob_best(v), metrics.regret(v).mean(axis=0),
                     metrics.cvar(v, spec.cvar_alpha), metrics.evpi_core(v)))
    opts = list(spec.option_names)

    def stack(k: int) -> np.ndarray:
        return np.array([r[k] for r in rows])

    desc = ["the spec as written"] + [spec.scenarios[n].description for n in names[1:]]
    ds = xr.Dataset(
        {
            "expected_value": ((SCENARIO, OPTION), stack(0), _val("expected value")),
            "expected_value_mcse": ((SCENARIO, OPTION), stack(1),
                                    _val("Monte Carlo SE of expected_value")),
            "prob_best": ((SCENARIO, OPTION), stack(2),
                          {"long_name": "probability that the option is best", "units": "1"}),
            "expected_regret": ((SCENARIO, OPTION), stack(3), _val("expected regret")),
            "cvar": ((SCENARIO, OPTION), stack(4), _val(f"CVaR {spec.cvar_alpha:g}")),
            "evpi": ((SCENARIO,), stack(5), _val("EVPI")),
            "best": ((SCENARIO,), np.array([opts[int(np.argmax(r[0]))] for r in rows], dtype=str),
                     {"long_name": "option of highest expected value"}),
            "description": ((SCENARIO,), np.array(desc, dtype=str), {}),
        },
        coords={SCENARIO: names, OPTION: opts},
    )
    ds.attrs.update({"description": "decision summary per scenario (same seed: common random "
                                    "numbers)", "distribution": "prior", "draws": draws,
                     "seed": seed,
                     "cvar_alpha": spec.cvar_alpha, "units": VALUE_UNITS})
    return ds


def _weight_columns(spec: Spec) -> list[int]:
    return [spec.input_names.index("weight_" + a) for a in ATTRIBUTE_NAMES]


def _check_attrs(spec: Spec, inputs: np.ndarray, attributes: np.ndarray) -> None:
    n_opt = len(spec.option_names)
    if inputs.ndim != 2 or inputs.shape[1] != len(spec.input_names):
        raise VOIInputError(f"inputs: expected shape (n_draws, {len(spec.input_names)}), "
                            f"got {inputs.shape}")
    if attributes.shape != (inputs.shape[0], n_opt, len(ATTRIBUTE_NAMES)):
        raise VOIInputError(f"attributes: expected shape ({inputs.shape[0]}, {n_opt}, "
                            f"{len(ATTRIBUTE_NAMES)}), got {attributes.shape}")


def acceptability_curve(spec: Spec, inputs: np.ndarray, attributes: np.ndarray, *,
                        weight: str = "ua_casualties",
                        grid: Sequence[float] | None = None) -> xr.Dataset:
    """Probability that each option is best as one value weight varies.

    Parameters
    ----------
    spec : Spec
    inputs : numpy.ndarray, shape (n_draws, n_inputs)
        Input draws (columns ``spec.input_names``); the other weights keep their draws.
    attributes : numpy.ndarray, shape (n_draws, n_options, n_attributes)
        ``EngineOutput.attributes`` (or ``/decision/attributes``).
    weight : str
        Attribute whose weight is swept (e.g. ``"ua_casualties"``).
    grid : sequence of float, optional
        Weight values (dkm2 per attribute unit); default 41 points from 0 to the
        prior's 99 % quantile in magnitude (with the weight's sign).

    Returns
    -------
    xarray.Dataset
        ``prob_best`` and ``expected_value`` over (weight_value, option); ``best``
        (weight_value).
    """
    _check_attrs(spec, inputs, attributes)
    if weight not in ATTRIBUTE_NAMES:
        raise VOIInputError(f"weight: expected one of {list(ATTRIBUTE_NAMES)}, got {weight!r}")
    k = ATTRIBUTE_NAMES.index(weight)
    dist = spec.weights[weight].dist
    if grid is None:
        lo, hi = dist.ppf(np.array([0.01, 0.99]))
        edge = hi if abs(hi) >= abs(lo) else lo
        g = np.linspace(0.0, edge, 41)
    else:
        g = np.asarray(grid, dtype=float)
    w = inputs[:, _weight_columns(spec)]
    base = np.einsum("noa,na->no", attributes, w) - attributes[:, :, k] * w[:, [k]]
    vals = base[None] + g[:, None, None] * attributes[None, :, :, k]  # (G, n, J)
    pb = np.stack([metrics.prob_best(v) for v in vals])
    ev = vals.mean(axis=1)
    opts = list(spec.option_names)
    units = spec.weights[weight].units
    return xr.Dataset(
        {"prob_best": ((WEIGHT_VALUE, OPTION), pb, {"long_name": "probability best",
                                                     "units": "1"}),
         "expected_value": ((WEIGHT_VALUE, OPTION), ev, _val("expected value")),
         "best": ((WEIGHT_VALUE,), np.array([opts[int(i)] for i in ev.argmax(axis=1)],
                                            dtype=str), {"long_name": "highest expected value"})},
        coords={WEIGHT_VALUE: xr.DataArray(g, dims=WEIGHT_VALUE,
                                           attrs={"units": units, "weight": weight}),
                OPTION: opts},
        attrs={"description": f"acceptability curve over the weight of {weight}",
               "weight": weight, "weight_units": units},
    )


def simplex_regions(spec: Spec, inputs: np.ndarray, attributes: np.ndarray, *,
                    weights: Sequence[str] = DEFAULT_SIMPLEX_WEIGHTS,
                    resolution: int = 20) -> xr.Dataset:
    """Best option over a simplex of three value weights.

    At simplex point ``lambda`` (``lambda_k >= 0``, ``sum = 1``) the weight of
    attribute ``k`` is ``3 lambda_k m_k`` with ``m_k`` its prior mean: the centre
    of the simplex is the prior-mean trade-off and a corner puts three times the
    prior-mean weight on one attribute and none on the other two.  The other
    weights keep their draws.

    Returns
    -------
    xarray.Dataset
        Over simplex_point: ``lambda`` coordinates ``lambda_<attribute>``, ``best``
        (option of highest expected value); ``expected_value`` (simplex_point, option);
        ``region_share`` (option: fraction of grid points where it is best).
    """
    _check_attrs(spec, inputs, attributes)
    weights = list(weights)
    bad = [w for w in weights if w not in ATTRIBUTE_NAMES]
    if len(weights) != 3 or bad or len(set(weights)) != 3:
        raise VOIInputError(f"weights: expected three distinct attributes of "
                            f"{list(ATTRIBUTE_NAMES)}, got {weights}")
    resolution = check_int(resolution, "resolution", minimum=1, error=VOIInputError)
    ks = [ATTRIBUTE_NAMES.index(w) for w in weights]
    means = np.array([spec.weights[w].dist.mean() for w in weights])
    w = inputs[:, _weight_columns(spec)]
    rest = np.einsum("noa,na->no", attributes, w) - np.einsum(
        "noa,na->no", attributes[:, :, ks], w[:, ks])
    ev_rest = rest.mean(axis=0)  # (J,)
    abar = attributes[:, :, ks].mean(axis=0)  # (J, 3)
    pts = [(i, j, resolution - i - j) for i in range(resolution + 1)
           for j in range(resolution + 1 - i)]
    lam = np.array(pts, dtype=float) / resolution  # (P, 3)
    ev = ev_rest[None, :] + (3.0 * lam * means[None, :]) @ abar.T  # (P, J)
    opts = list(spec.option_names)
    best = ev.argmax(axis=1)
    coords = {SIMPLEX_POINT: np.arange(lam.shape[0]), OPTION: opts}
    for c, name in enumerate(weights):
        coords[f"lambda_{name}"] = (SIMPLEX_POINT, lam[:, c])
    return xr.Dataset(
        {"expected_value": ((SIMPLEX_POINT, OPTION), ev, _val("expected value")),
         "best": ((SIMPLEX_POINT,), np.array([opts[int(b)] for b in best], dtype=str),
                  {"long_name": "option of highest expected value"}),
         "region_share": ((OPTION,), np.bincount(best, minlength=len(opts)) / len(best),
                          {"long_name": "share of simplex points where the option is best",
                           "units": "1"})},
        coords=coords,
        attrs={"description": "best option over the simplex of three value weights; weight k "
                              "= 3 lambda_k x prior mean", "weights": ",".join(weights),
               "prior_means": ",".join(f"{m:.6g}" for m in means)},
    )


def risk_attitude(values: Any, options: Sequence[str], *, alpha: float = 0.05,
                  risk_aversion: float = DEFAULT_RISK_AVERSION) -> xr.Dataset:
    """CVaR and exponential utility of each option.

    Utility ``u(v) = (1 - exp(-r v)) / r`` with risk aversion ``r`` (1/dkm2);
    certainty equivalent ``CE = -log(E[exp(-r v)]) / r`` (dkm2, computed with
    log-sum-exp).  ``r -> 0`` gives the expected value.

    Returns
    -------
    xarray.Dataset
        Over option: ``expected_value``, ``cvar``, ``expected_utility``,
        ``certainty_equivalent``; attributes ``risk_aversion``, ``alpha``,
        ``best_risk_neutral``, ``best_risk_averse``.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[1] != len(options):
        raise VOIInputError(f"values: expected shape (n_draws, {len(options)}), got {v.shape}")
    if not (isinstance(risk_aversion, float | int) and risk_aversion > 0):
        raise VOIInputError(f"risk_aversion: expected a positive number (1/dkm2), "
                            f"got {risk_aversion!r}")
    r = float(risk_aversion)
    log_m = special.logsumexp(-r * v, axis=0) - np.log(v.shape[0])
    ce = -log_m / r
    eu = (1.0 - np.exp(log_m)) / r
    ev = v.mean(axis=0)
    opts = list(options)
    return xr.Dataset(
        {"expected_value": ((OPTION,), ev, _val("expected value")),
         "cvar": ((OPTION,), metrics.cvar(v, alpha), _val(f"CVaR {alpha:g}")),
         "expected_utility": ((OPTION,), eu, _val("expected exponential utility")),
         "certainty_equivalent": ((OPTION,), ce, _val("certainty equivalent"))},
        coords={OPTION: opts},
        attrs={"risk_aversion": r, "risk_aversion_units": f"1/{VALUE_UNITS}",
               "alpha": float(alpha), "best_risk_neutral": opts[int(np.argmax(ev))],
               "best_risk_averse": opts[int(np.argmax(ce))],
               "utility": "u(v) = (1 - exp(-r v)) / r"},
    )
