"""The PyMC calibration model of a spec.

:func:`build_model` returns a ``pm.Model`` with coords ``parameter`` (the sampled
campaign parameters) and ``observation`` (the observations used), so research code
can extend it, condition it (``pm.observe``) or intervene on it (``pm.do``). Its
variables:

``<name>`` (one per sampled parameter)
    Prior from the spec distribution (:mod:`kursk_da.calibration._priors`). The
    parameters with rank correlations are deterministics ``F^-1(Phi(z))`` of the latent
    ``prior_copula_z ~ MvNormal(0, P)`` (a generative Gaussian copula: prior
    predictive sampling keeps the correlations). An uncorrelated *uniform* prior is
    sampled through its normal score: ``<name>_score ~ N(0, 1)`` and ``<name> = lower +
    (upper - lower) Phi(score)`` (the same uniform prior). NUTS then moves on a Gaussian
    rather than a logistic scale: ``lanchester_exponent`` piles against its upper bound 1
    (the claims want the square law), and on the default logit scale that is an
    exponential tail that mixed slowly (the lowest ESS of the campaign parameters). The
    others are PyMC distributions.
``theta`` (parameter)
    The sampled parameters stacked (input of the skeleton).
``mu`` (observation)
    The observed quantities on the deterministic skeleton (front shocks 0), computed
    by :class:`kursk_da.calibration._skeleton.SkeletonOp` (default) or by
    ``pytensor.scan`` over the same ``step`` (``skeleton="pytensor"``).
``y`` (observation), observed
    The likelihood of :mod:`kursk_da.calibration._likelihood`; the observed values are
    the data container ``y_observed`` (``pm.set_data`` swaps them, e.g. for
    simulation-based calibration).

Which parameters are sampled: every non-fixed input whose value changes at least one
predicted observation (:func:`informed_inputs`: each input is re-drawn in turn on 64
prior draws and the skeleton predictions compared exactly). The others -- value
weights, option levers, strike and Donbas parameters, the front-noise scale -- cannot
be informed by these observations; they keep their prior (conditional on the sampled
ones through the copula) in the propagation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from kursk_da.calibration._bias import (
    BIAS_SPREAD_PRIOR,
    GREY_ZONE_PRIOR,
    ISW_LAYER_START_PRIOR,
    KIND_PRIOR_MEAN,
    KIND_PRIOR_SD,
    ClaimModel,
    claim_loglik,
    claim_model,
    claim_predictive,
)
from kursk_da.calibration._likelihood import (
    loglik_pytensor,
    offsets,
    predictive_draws,
    process_scales,
    total_scales,
)
from kursk_da.calibration._priors import (
    copula_latent,
    copula_members,
    copula_pearson,
    marginal_quantile,
    pymc_prior,
)
from kursk_da.calibration._skeleton import (
    ObservationMap,
    SkeletonOp,
    observation_map,
    skeleton_numpy,
    skeleton_pytensor,
)
from kursk_da.dims import CLAIM_BIAS, CLAIM_KIND, OBS_PARAMETER, OBSERVATION, PARAMETER
from kursk_da.errors import SpecError
from kursk_da.spec._observations import Observation, select_observations
from kursk_da.spec._plans import EPOCH
from kursk_da.spec._sampling import sample_inputs
from kursk_da.spec._schema import as_spec

if TYPE_CHECKING:
    from kursk_da.spec._schema import Spec

__all__ = ["CalibrationSetup", "calibration_setup", "build_model", "informed_inputs",
           "check_cutoff"]

_SKELETONS = ("op", "pytensor")
UNIFORM_SCORE_SUFFIX = "_score"
"""Suffix of the latent normal score of a uniform prior (``<name>_score ~ N(0, 1)``)."""


@dataclass(frozen=True)
class CalibrationSetup:
    """Everything :func:`build_model` needs, computed once.

    Attributes
    ----------
    used, withheld : tuple of Observation
        Observations in the likelihood / held out by the cutoff.
    sampled : tuple of str
        Inputs sampled by MCMC (the ``parameter`` coordinate).
    cols : int array
        Their columns in the input matrix.
    base : array (n_inputs,)
        Prior medians of all inputs (values of the non-sampled ones in the skeleton;
        they do not change the predictions by construction).
    omap, omap_all : ObservationMap
        Of ``used`` and of ``used + withheld``.
    tau, scale : arrays (m,)
        Process scale and total scale of the used observations.
    tau_withheld, scale_withheld : arrays
        The same for the withheld observations.
    pearson : array or None
        Copula correlation of the sampled inputs.
    cutoff : datetime.date or None
    offset, offset_withheld : arrays
        Offsets ``c`` of the lognormal family (model constants fixed by the spec's
        reported values, see :mod:`kursk_da.calibration._likelihood`).
    """

    used: tuple[Observation, ...]
    withheld: tuple[Observation, ...]
    sampled: tuple[str, ...]
    cols: np.ndarray
    base: np.ndarray
    omap: ObservationMap
    omap_all: ObservationMap
    tau: np.ndarray
    scale: np.ndarray
    tau_withheld: np.ndarray
    scale_withheld: np.ndarray
    pearson: np.ndarray | None
    cutoff: dt.date | None
    offset: np.ndarray
    offset_withheld: np.ndarray

    @property
    def claims(self) -> ClaimModel | None:
        """The claim model of ``used`` (CSV observations with claimant bias), else None."""
        if not self.used or self.used[0].likelihood != "claim":
            return None
        return claim_model(self.used)

    @property
    def values(self) -> np.ndarray:
        """Observed values of ``used``."""
        return np.array([o.value for o in self.used], dtype=float)

    @property
    def is_log(self) -> np.ndarray:
        """True where ``used`` has a lognormal likelihood."""
        return np.array([o.likelihood == "lognormal" for o in self.used], dtype=bool)

    @property
    def is_log_withheld(self) -> np.ndarray:
        """True where ``withheld`` has a lognormal likelihood."""
        return np.array([o.likelihood == "lognormal" for o in self.withheld], dtype=bool)


def check_cutoff(spec: Spec, cutoff: dt.date | None) -> None:
    """Validate a calibration cutoff date.

    Raises
    ------
    SpecError
        Path ``cutoff``: not a date, before 2024-08-06 or after the decision date.
    """
    if cutoff is None:
        return
    if isinstance(cutoff, dt.datetime) or not isinstance(cutoff, dt.date):
        raise SpecError("cutoff", f"expected a date like 2024-10-01, got {cutoff!r}")
    if cutoff < EPOCH or cutoff > spec.decision_date:
        raise SpecError("cutoff", f"expected a date between {EPOCH} and the decision date "
                                  f"{spec.decision_date}, got {cutoff}")


def informed_inputs(spec: Spec, omap: ObservationMap, *, n: int = 64, seed: int = 0
                    ) -> tuple[str, ...]:
    """Inputs whose value changes at least one skeleton prediction.

    Each non-fixed input is replaced in turn by an independent prior draw on ``n``
    prior draws; it is informed if any prediction changes (exact comparison: an input
    that does not enter the history gives bit-identical predictions).

    Returns
    -------
    tuple of str
        In input order.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    theta = sample_inputs(spec, n, rng)
    other = sample_inputs(spec, n, rng)
    names = spec.input_names
    cand = [j for j, nm in enumerate(names) if not spec.inputs[nm].dist.is_fixed]
    rows = [theta]
    for j in cand:
        t = theta.copy()
        t[:, j] = other[:, j]
        rows.append(t)
    pred = skeleton_numpy(np.concatenate(rows), omap).reshape(len(rows), n, -1)
    changed = [np.any(pred[k + 1] != pred[0]) for k in range(len(cand))]
    return tuple(names[j] for j, c in zip(cand, changed, strict=True) if c)


def calibration_setup(spec: Spec | str | Path, *, cutoff: dt.date | None = None,
                      process_draws: int = 1000, process_seed: int = 0) -> CalibrationSetup:
    """Compute the :class:`CalibrationSetup` of a spec.

    Parameters
    ----------
    spec : Spec or path
    cutoff : datetime.date, optional
        Use only observations dated on or before ``cutoff``.
    process_draws, process_seed : int
        Prior draws and seed of the process-scale estimate (model constants).

    Raises
    ------
    SpecError
        ``observations`` if no observation is left to calibrate on; ``cutoff`` if the
        cutoff is invalid.
    """
    spec = as_spec(spec)
    check_cutoff(spec, cutoff)
    used, withheld = select_observations(spec.observations, cutoff)
    if not used:
        where = f"on or before the cutoff {cutoff}" if cutoff else "in the spec"
        raise SpecError("observations", f"no observations {where}; nothing to calibrate on "
                                        "(use the prior analysis)")
    omap = observation_map(spec, used)
    omap_all = observation_map(spec, used + withheld)
    sampled = informed_inputs(spec, omap)
    names = spec.input_names
    cols = np.array([names.index(n) for n in sampled], dtype=np.int64)
    base = np.array([spec.inputs[n].dist.median() for n in names])
    tau = process_scales(spec, used, omap, n=process_draws, seed=process_seed)
    tau_w = (process_scales(spec, withheld, observation_map(spec, withheld),
                            n=process_draws, seed=process_seed) if withheld else np.zeros(0))
    return CalibrationSetup(
        used=used, withheld=withheld, sampled=sampled, cols=cols, base=base, omap=omap,
        omap_all=omap_all, tau=tau, scale=total_scales(used, tau), tau_withheld=tau_w,
        scale_withheld=total_scales(withheld, tau_w),
        pearson=copula_pearson(spec, sampled), cutoff=cutoff,
        offset=offsets(used), offset_withheld=offsets(withheld),
    )


def _random(mu: Any, scale: Any, is_log: Any, offset: Any,
            rng: np.random.Generator | None = None, size: Any = None) -> np.ndarray:
    """Random draws of ``y`` (for PyMC's predictive sampling)."""
    if rng is None:  # PyMC always passes the generator of the predictive sampling
        raise ValueError("_random needs a numpy.random.Generator, got rng=None")
    mu = np.broadcast_to(mu, size) if size is not None else np.asarray(mu)
    return predictive_draws(mu, np.asarray(scale), np.asarray(is_log) > 0.5,
                            np.asarray(offset), rng)


def _claim_block(setup: CalibrationSetup, cm: ClaimModel, mu: Any, y_data: Any) -> None:
    """The claimant-bias likelihood (:mod:`kursk_da.calibration._bias`), in the model context."""
    if any(o.likelihood != "claim" for o in setup.used):
        raise SpecError("observations", "claims (CSV rows) and inline observations cannot be "
                                        "mixed in one calibration")
    mk = np.array([KIND_PRIOR_MEAN[k] for k in cm.kinds])
    kind_mean = pm.Normal("bias_kind_log_mean", mu=mk, sigma=KIND_PRIOR_SD, dims=CLAIM_KIND)
    spread = pm.LogNormal("bias_spread", mu=BIAS_SPREAD_PRIOR[0], sigma=BIAS_SPREAD_PRIOR[1])
    z = pm.Normal("bias_z", 0.0, 1.0, dims=CLAIM_BIAS)
    log_b = pm.Deterministic("claim_log_bias", kind_mean[cm.kind_index] + spread * z,
                             dims=CLAIM_BIAS)
    log_g = pm.Normal("grey_zone_log_factor", mu=GREY_ZONE_PRIOR[0], sigma=GREY_ZONE_PRIOR[1])
    start = pm.LogNormal("isw_layer_start_km2", mu=ISW_LAYER_START_PRIOR[0],
                         sigma=ISW_LAYER_START_PRIOR[1])
    pm.Deterministic("obs_theta", pt.concatenate([
        pt.exp(log_b), pt.exp(kind_mean), pt.stack([spread, pt.exp(log_g), start])]),
        dims=OBS_PARAMETER)
    scale, offset = setup.scale, setup.offset
    # the censoring events and their bounds are data like the values (simulation-based
    # calibration swaps all three: _bias.simulated_censoring)
    cens = pm.Data("claim_censoring", cm.censoring.astype(float), dims=OBSERVATION)
    low = pm.Data("claim_low", cm.low, dims=OBSERVATION)
    high = pm.Data("claim_high", cm.high, dims=OBSERVATION)

    def logp(value: Any, mu_: Any, lb: Any, lg: Any, st: Any, c: Any, lo: Any, hi: Any
             ) -> Any:
        cmt = dataclasses.replace(cm, censoring=c, low=lo, high=hi)
        return claim_loglik(value, mu_, lb, lg, st, scale, offset, cmt, pt)

    def random(mu_: Any, lb: Any, lg: Any, st: Any, c: Any, lo: Any, hi: Any,
               rng: np.random.Generator | None = None, size: Any = None) -> np.ndarray:
        if rng is None:
            raise ValueError("random needs a numpy.random.Generator")
        return claim_predictive(np.asarray(mu_), np.asarray(lb), np.asarray(lg),
                                np.asarray(st), scale, offset, cm, rng)

    pm.CustomDist("y", mu, log_b[cm.combo_index], log_g, start, cens, low, high, logp=logp,
                  random=random, observed=y_data, dims=OBSERVATION)


def build_model(spec: Spec | str | Path, *, cutoff: dt.date | None = None,
                setup: CalibrationSetup | None = None, skeleton: str = "op") -> pm.Model:
    """Build the PyMC calibration model of a spec (see the module docstring).

    Parameters
    ----------
    spec : Spec or path
        A spec with ``[[observations]]``.
    cutoff : datetime.date, optional
        Calibrate on observations dated on or before ``cutoff`` only.
    setup : CalibrationSetup, optional
        Precomputed by :func:`calibration_setup` (``cutoff`` is then ignored).
    skeleton : {"op", "pytensor"}
        Compiled Op with complex-step gradient (fast, default) or ``pytensor.scan``.

    Returns
    -------
    pymc.Model

    Examples
    --------
    >>> import kursk_da as kd
    >>> from kursk_da.calibration import build_model
    >>> model = build_model(kd.load_spec("models/kursk_2025.toml"))   # doctest: +SKIP
    >>> model.coords["observation"]                                   # doctest: +SKIP
    """
    spec = as_spec(spec)
    if skeleton not in _SKELETONS:
        raise SpecError("skeleton", f"expected one of {_SKELETONS}, got {skeleton!r}")
    setup = setup or calibration_setup(spec, cutoff=cutoff)
    coords = {PARAMETER: list(setup.sampled), OBSERVATION: [o.name for o in setup.used]}
    if setup.claims is not None:
        coords[OBS_PARAMETER] = list(setup.claims.names)
        coords[CLAIM_KIND] = list(setup.claims.kinds)
        coords[CLAIM_BIAS] = [f"{f}:{k}" for f, k in setup.claims.combos]
    with pm.Model(coords=coords) as model:
        members = copula_members(setup.pearson)
        rvs: dict[str, Any] = {}
        if len(members) and setup.pearson is not None:
            corr = [setup.sampled[i] for i in members]
            rvs.update(copula_latent(corr, {n: spec.inputs[n].dist for n in corr},
                                     setup.pearson[np.ix_(members, members)]))
        for n in setup.sampled:
            if n in rvs:
                continue
            dist = spec.inputs[n].dist
            if dist.kind == "uniform":  # sampled through its normal score (see docstring)
                score = pm.Normal(f"{n}{UNIFORM_SCORE_SUFFIX}", 0.0, 1.0)
                rvs[n] = pm.Deterministic(n, marginal_quantile(dist, score))
            else:
                rvs[n] = pymc_prior(n, dist)
        x = pm.Deterministic("theta", pt.stack([rvs[n] for n in setup.sampled]),
                             dims=PARAMETER)
        if skeleton == "op":
            # two outputs: PyTensor types Op.__call__ as Variable | list[Variable]
            mu, _ = cast(list[Any], SkeletonOp(setup.base, setup.cols, setup.omap)(x))
        else:
            full = [pt.constant(v) for v in setup.base]
            for n, j in zip(setup.sampled, setup.cols, strict=True):
                full[int(j)] = rvs[n]
            mu = skeleton_pytensor(pt.stack(full), setup.omap)
        mu = pm.Deterministic("mu", mu, dims=OBSERVATION)
        y_data = pm.Data("y_observed", setup.values, dims=OBSERVATION)
        cm = setup.claims
        if cm is not None:
            _claim_block(setup, cm, mu, y_data)
            return model
        pm.CustomDist("y", mu, setup.scale, setup.is_log.astype(float), setup.offset,
                      logp=loglik_pytensor, random=_random, observed=y_data,
                      dims=OBSERVATION)
    return model
