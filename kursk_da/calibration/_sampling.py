"""Sampling the calibration model (nutpie or PyMC's NUTS) into an InferenceData.

Seeds: every random stream is a child of ``numpy.random.SeedSequence(seed)`` keyed by
purpose (:mod:`kursk_da.calibration._streams`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import arviz as az
import numpy as np
import pymc as pm
import pytensor
import xarray as xr

from kursk_da._defaults import CALIBRATE_OPTIONS
from kursk_da.calibration._bias import (
    claim_loglik,
    claim_model,
    claim_predictive,
    obs_model_prior_draws,
)
from kursk_da.calibration._checks import log_prior_density
from kursk_da.calibration._likelihood import loglik_numpy, measurement_scales, predictive_draws
from kursk_da.calibration._model import CalibrationSetup, build_model, calibration_setup
from kursk_da.calibration._propagate import posterior_input_matrix
from kursk_da.calibration._skeleton import observation_map, skeleton_numpy
from kursk_da.calibration._streams import PREDICTIVE, PRIOR, PRIOR_PREDICTIVE, SAMPLER, stream
from kursk_da.dims import (
    CHAIN,
    CLAIM_BIAS,
    CLAIM_KIND,
    DRAW,
    OBS_PARAMETER,
    OBSERVATION,
    PARAMETER,
    WITHHELD,
)
from kursk_da.errors import SamplingIncomplete, SpecError
from kursk_da.spec._sampling import sample_inputs
from kursk_da.spec._schema import as_spec
from kursk_da.validation import (
    check_bool,
    check_choice,
    check_int,
    check_jobs,
    check_probability,
)

if TYPE_CHECKING:
    from kursk_da.spec._schema import Spec

__all__ = [
    "CALIBRATE_OPTIONS",
    "SAMPLERS",
    "DEFAULT_DRAWS",
    "DEFAULT_TUNE",
    "CompiledCalibration",
    "compile_calibration",
    "calibrate",
    "from_posterior",
]

SAMPLERS = ("nutpie", "pymc")

_CACHE_SIZE = 4
_COMPILED: dict[tuple[Any, ...], CompiledCalibration] = {}
"""Compiled models of this process by (spec hash, cutoff, sampler): compiling takes
~20 s and does not depend on the seed, so repeated runs (tests, CLI calls in one
process) reuse it. The cache holds no random state."""

_EXACT_MATH: dict[str, Any] = {"numba__fastmath": False}
"""PyTensor flags under which nutpie's model is compiled. PyTensor compiles its numba code
with the fast-math flags ``reassoc, arcp, contract, afn, nsz`` by default; with them the
log density's gradient of a model compiled fresh (empty PyTensor cache) and of the same
model loaded from PyTensor's numba cache differed in the last bits (hashes of the
gradient at 20 points differ, the log density agrees to 16 digits), NUTS amplified the
difference and the same seed gave other posterior draws on the first run of a machine
than on every later one (issue 22: 2 chains x 60 draws of the essay spec, first draw
10522.0 cold and 12362.6 warm). Without fast math, IEEE arithmetic leaves LLVM no freedom,
and cold and warm compiles give the same draws bit for bit (docs/calibration.md,
"Reproducibility"). The package's own kernels keep their flags (no re-association; tested
cold against warm in tests/test_reproducible_compile.py)."""

DEFAULT_TARGET_ACCEPT = 0.8
DEFAULT_DRAWS = 1000
"""Posterior draws per chain by default (4 chains: 4,000 draws). On the 52 claims the
slowest parameters (``lanchester_exponent``, ``advance_speed``) give a bulk ESS of about
0.13-0.25 per draw, so 4,000 draws keep the ESS >= 400 of the gate with a margin (runs
with 4 x 800 and 4 x 700 failed it; docs/observations.md)."""
DEFAULT_TUNE = 800
"""Tuning (warm-up) steps per chain by default (nutpie's own default is 300; 1,000 before
the tree-depth cap, :data:`NUTPIE_DEFAULTS`)."""
NUTPIE_DEFAULTS: dict[str, Any] = {"low_rank_modified_mass_matrix": True, "maxdepth": 8}
"""nutpie options used unless overridden: the low-rank mass matrix adapts to the
posterior correlations that the area observations induce (e.g. between advance
speed, surprise and front sensitivity), halving the leapfrog steps per draw. The tree
depth is capped at 8 (255 leapfrog steps) instead of nutpie's 10: on the 52 claims the
first ~250 tuning iterations, before the mass matrix has adapted, took 300-600 steps each
and cost most of the run; with the cap they take ~200, a one-chain run of 700 + 300 went
from 47 to 32 s, and no posterior draw reached the cap (draws need ~50 steps; the
diagnostics report the share that would: ``tree-depth saturation``)."""


@dataclass
class CompiledCalibration:
    """A calibration model ready to sample (reusable across seeds).

    Attributes
    ----------
    spec : Spec
    setup : CalibrationSetup
    model : pymc.Model
    sampler : str
    compiled : object
        nutpie's compiled model (``None`` for PyMC, which compiles in ``pm.sample``).
    compile_seconds : float
        Wall time spent compiling.
    """

    spec: Spec
    setup: CalibrationSetup
    model: pm.Model
    sampler: str
    compiled: Any
    compile_seconds: float

    def with_values(self, values: np.ndarray, *, censoring: np.ndarray | None = None,
                    low: np.ndarray | None = None, high: np.ndarray | None = None
                    ) -> CompiledCalibration:
        """The same compiled model conditioned on other observed values (no recompile).

        Parameters
        ----------
        values : array (m,)
            New values of the used observations (units of each); scales and offsets
            are model constants and stay.
        censoring, low, high : arrays (m,), optional
            For claims (CSV observations): new censoring events (0 point, 1 at least,
            2 up to, 3 range) and their bounds (units of each), e.g. from
            :func:`kursk_da.calibration._bias.simulated_censoring`; all three or none.

        Returns
        -------
        CompiledCalibration
        """
        m = len(self.setup.used)
        values = np.asarray(values, dtype=float)
        if values.shape != (m,):
            raise ValueError(f"expected {m} values, got shape {values.shape}")
        extra = {"claim_censoring": censoring, "claim_low": low, "claim_high": high}
        given = {k: v for k, v in extra.items() if v is not None}
        if given and (len(given) < 3 or self.setup.claims is None):
            raise ValueError("censoring, low and high go together, and only with claims")
        data = {"y_observed": values}
        for k, v in given.items():
            arr = np.asarray(v, dtype=float)
            if arr.shape != (m,):
                raise ValueError(f"expected {m} values of {k}, got shape {arr.shape}")
            data[k] = arr
        used = tuple(dataclasses.replace(o, value=float(v))
                     for o, v in zip(self.setup.used, values, strict=True))
        setup = dataclasses.replace(self.setup, used=used)
        if self.sampler == "nutpie":
            compiled = self.compiled.with_data(**data)
            return dataclasses.replace(self, setup=setup, compiled=compiled)
        model = self.model.copy()
        pm.set_data(data, model=model)
        return dataclasses.replace(self, setup=setup, model=model)


def compile_calibration(spec: Spec | str | Path, *, cutoff: dt.date | None = None,
                        sampler: str = "nutpie") -> CompiledCalibration:
    """Build and compile the calibration model of ``spec``.

    Parameters
    ----------
    spec : Spec or path
    cutoff : datetime.date, optional
    sampler : {"nutpie", "pymc"}

    Compiled models are cached in the process by (spec hash, cutoff, sampler).

    Raises
    ------
    SpecError
        Unknown sampler, no observations, bad cutoff.
    """
    spec = as_spec(spec)
    if sampler not in SAMPLERS:
        raise SpecError("sampler", f"expected one of {', '.join(SAMPLERS)}, got {sampler!r}")
    key = (spec.sha256, cutoff, sampler)
    if key in _COMPILED:
        return _COMPILED[key]
    t0 = time.perf_counter()
    setup = calibration_setup(spec, cutoff=cutoff)
    model = build_model(spec, setup=setup)
    compiled = None
    if sampler == "nutpie":
        try:
            import nutpie
        except ImportError:  # pragma: no cover - nutpie is a dependency
            raise SpecError("sampler", "nutpie is not installed; install it "
                                       "(pip install nutpie) or use sampler 'pymc'") from None

        # no fast-math in PyTensor's numba code: same seed, same bits (see _EXACT_MATH)
        with pytensor.config.change_flags(**_EXACT_MATH):
            compiled = nutpie.compile_pymc_model(model, backend="numba")
    else:
        model.logp_dlogp_function(ravel_inputs=True)  # compile once; pm.sample reuses the cache
    cc = CompiledCalibration(spec, setup, model, sampler, compiled, time.perf_counter() - t0)
    if len(_COMPILED) >= _CACHE_SIZE:
        _COMPILED.pop(next(iter(_COMPILED)))
    _COMPILED[key] = cc
    return cc


def _normalise_stats(ss: xr.Dataset) -> xr.Dataset:
    """Common names for the sampler statistics of nutpie and PyMC."""
    ss = ss.copy()
    if "maxdepth_reached" in ss and "reached_max_treedepth" not in ss:
        ss["reached_max_treedepth"] = ss["maxdepth_reached"]
    if "depth" in ss and "tree_depth" not in ss:
        ss["tree_depth"] = ss["depth"]
    for name in list(ss.data_vars):
        if ss[name].dtype == np.uint64:
            ss[name] = ss[name].astype(np.int64)
    return ss.drop_vars([v for v in ("tuning",) if v in ss])


PROGRESS_RATE_MS = 500
"""Refresh interval of nutpie's progress bar (ms)."""


def _run_sampler(cc: CompiledCalibration, seed: int, draws: int, tune: int, chains: int,
                 cores: int, target_accept: float, options: dict[str, Any],
                 progress_bar: bool = False) -> az.InferenceData:
    if cc.sampler == "nutpie":
        import nutpie

        s = int(stream(seed, SAMPLER).generate_state(1, np.uint64)[0] >> np.uint64(1))
        idata: az.InferenceData = nutpie.sample(
            cc.compiled, draws=draws, tune=tune, chains=chains, cores=cores, seed=s,
            progress_bar=progress_bar, progress_rate=PROGRESS_RATE_MS, save_warmup=False,
            target_accept=target_accept, **{**NUTPIE_DEFAULTS, **options})
        if progress_bar and sys.stderr.isatty():  # nutpie leaves its cursor on the table
            sys.stderr.write("\n")
        return _complete(idata, draws, chains)
    s = int(stream(seed, SAMPLER).generate_state(1, np.uint32)[0])
    with cc.model:
        idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=cores,
                          random_seed=s, progressbar=progress_bar,
                          target_accept=target_accept,
                          compute_convergence_checks=False, return_inferencedata=True,
                          **options)
    return _complete(idata, draws, chains)


def _complete(idata: az.InferenceData, draws: int, chains: int) -> az.InferenceData:
    """``idata`` if its posterior has ``chains`` x ``draws`` draws.

    Raises
    ------
    SamplingIncomplete
        When the sampler stopped early (an interrupt: nutpie and PyMC then return the
        draws they have).
    """
    post = idata["posterior"] if "posterior" in idata.groups() else None
    got = (0, 0) if post is None or not post.data_vars else (
        int(post.sizes.get(CHAIN, 0)), int(post.sizes.get(DRAW, 0)))
    if got != (int(chains), int(draws)):
        raise SamplingIncomplete(
            f"the sampler returned {got[0]} chains x {got[1]} draws, {chains} x {draws} "
            "were asked for: it stopped early (interrupted?); nothing was calibrated")
    return idata


def _obs_coords(observations: tuple[Any, ...], dim: str) -> dict[str, Any]:
    out = {
        dim: [o.name for o in observations],
        f"{dim}_date": (dim, np.array([o.date for o in observations], dtype="datetime64[ns]")),
        f"{dim}_quantity": (dim, [o.quantity for o in observations]),
        f"{dim}_units": (dim, [o.units for o in observations]),
    }
    if observations and observations[0].likelihood == "claim":  # observations as data
        out[f"{dim}_reported_on"] = (dim, np.array([o.known_on for o in observations],
                                                   dtype="datetime64[ns]"))
        out[f"{dim}_claimant"] = (dim, [o.claimant for o in observations])
        out[f"{dim}_claimant_family"] = (dim, [o.family for o in observations])
        out[f"{dim}_source"] = (dim, [o.source for o in observations])
    return out


_PER_OBSERVATION = f"per {OBSERVATION} (coordinate {OBSERVATION}_units)"
_PER_WITHHELD = f"per {WITHHELD} (coordinate {WITHHELD}_units)"

_CLAIM_VARS = ("obs_theta", "claim_log_bias", "bias_kind_log_mean", "bias_spread", "bias_z",
               "grey_zone_log_factor", "isw_layer_start_km2")


def _claim_params(post: xr.Dataset, cm: Any, observations: tuple[Any, ...],
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-observation log bias (chain, draw, m), log grey factor and layer start (..., 1).

    A withheld observation whose family and kind have no bias among the used ones gets
    a new family's bias from the hierarchy (kind mean plus spread times a normal draw).
    """
    from kursk_da.calibration._bias import KIND_PRIOR_MEAN, KIND_PRIOR_SD

    lb = post["claim_log_bias"].to_numpy()
    km = post["bias_kind_log_mean"].to_numpy()
    sp = post["bias_spread"].to_numpy()[..., None]
    cols = []
    for o in observations:
        if (o.family, o.kind) in cm.combos:
            cols.append(lb[..., cm.combos.index((o.family, o.kind))])
            continue
        mean = (km[..., cm.kinds.index(o.kind)] if o.kind in cm.kinds else
                KIND_PRIOR_MEAN[o.kind] + KIND_PRIOR_SD * rng.standard_normal(km.shape[:-1]))
        cols.append(mean + sp[..., 0] * rng.standard_normal(mean.shape))
    log_bias = np.stack(cols, axis=-1)
    log_g = post["grey_zone_log_factor"].to_numpy()[..., None]
    start = post["isw_layer_start_km2"].to_numpy()[..., None]
    return log_bias, log_g, start



def calibrate(
    spec: Spec | str | Path,
    *,
    seed: int,
    draws: int = DEFAULT_DRAWS,
    tune: int = DEFAULT_TUNE,
    chains: int = 4,
    sampler: str = "nutpie",
    cutoff: dt.date | None = None,
    cores: int | None = None,
    target_accept: float = DEFAULT_TARGET_ACCEPT,
    compiled: CompiledCalibration | None = None,
    sampler_options: dict[str, Any] | None = None,
    progress_bar: bool = False,
) -> az.InferenceData:
    """Calibrate the campaign parameters of ``spec`` on its observations with NUTS.

    Parameters
    ----------
    spec : Spec or path
        A spec with ``[[observations]]``.
    seed : int
        Root seed (see module docstring).
    draws, tune, chains : int
        Posterior draws per chain (default :data:`DEFAULT_DRAWS`), tuning steps per chain
        (:data:`DEFAULT_TUNE`), chains.
    sampler : {"nutpie", "pymc"}
        nutpie (Rust NUTS on a numba-compiled model, default) or PyMC's own NUTS.
    cutoff : datetime.date, optional
        Calibrate on observations dated on or before ``cutoff``; the later ones are
        predicted (``posterior_predictive.y_withheld``).
    cores : int, optional
        Parallel chains; default ``min(chains, cpu count)``.
    target_accept : float
        NUTS target acceptance probability.
    compiled : CompiledCalibration, optional
        Reuse a compiled model (its spec, cutoff and sampler win).
    sampler_options : dict, optional
        Further keywords of ``nutpie.sample`` or ``pm.sample``.
    progress_bar : bool
        Show the sampler's own progress bar (nutpie: draws, divergences and step size of
        each chain, elapsed and remaining time, on stderr when it is a terminal; PyMC:
        its bar). Display only: the draws are the same.

    Returns
    -------
    arviz.InferenceData
        Groups ``posterior`` (one variable per sampled parameter, ``theta`` over
        ``parameter``, ``mu`` over ``observation``), ``sample_stats``, ``prior`` (prior
        draws of every input, one chain, plus ``theta`` and ``mu``),
        ``posterior_predictive`` (``y``; ``y_withheld`` with a cutoff),
        ``observed_data`` (``y``; ``y_withheld``), ``constant_data`` (measurement,
        process and total scales). Attributes: ``sampler``, ``seed``,
        ``compile_seconds``, ``sampling_seconds``, ``draws``, ``tune``, ``chains``,
        ``cutoff``, ``target_accept``.
    """
    spec = as_spec(spec)
    for name, val, lo in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1),
                          ("seed", seed, 0)):
        check_int(val, name, minimum=lo, error=SpecError)
    check_choice(sampler, "sampler", SAMPLERS, error=SpecError)
    cores = check_jobs(cores, "cores", error=SpecError)
    check_probability(target_accept, "target_accept", strict=True, error=SpecError)
    progress_bar = check_bool(progress_bar, "progress_bar", error=SpecError)
    if sampler_options is not None and not isinstance(sampler_options, dict):
        raise SpecError("sampler_options", f"expected a dict or None, got {sampler_options!r}")
    cc = compiled or compile_calibration(spec, cutoff=cutoff, sampler=sampler)
    spec, setup = cc.spec, cc.setup
    cores = cores or min(chains, os.cpu_count() or 1)
    t0 = time.perf_counter()
    raw = _run_sampler(cc, seed, draws, tune, chains, cores, target_accept,
                       dict(sampler_options or {}), progress_bar=progress_bar)
    sampling_seconds = time.perf_counter() - t0
    attrs = {
        "sampler": cc.sampler, "seed": int(seed), "draws": int(draws), "tune": int(tune),
        "chains": int(chains), "target_accept": float(target_accept),
        "compile_seconds": float(cc.compile_seconds),
        "sampling_seconds": float(sampling_seconds),
        "cutoff": setup.cutoff.isoformat() if setup.cutoff else "",
    }
    return _assemble(spec, setup, raw["posterior"], _normalise_stats(raw["sample_stats"]),
                     seed, attrs)


def _posterior_parts(posterior: Any) -> tuple[xr.Dataset, xr.Dataset, dict[str, Any]]:
    """The posterior draws, sampler statistics and attributes of an InferenceData, a
    result set (DataTree) or a Dataset of posterior draws."""
    if isinstance(posterior, az.InferenceData):
        post = posterior["posterior"] if "posterior" in posterior.groups() else None
        ss = (posterior["sample_stats"] if "sample_stats" in posterior.groups()
              else xr.Dataset())
    elif isinstance(posterior, xr.DataTree):
        post = None
        if "posterior" in posterior.children:  # a result set: its posterior groups merged
            post = xr.merge([posterior[g].to_dataset() for g in (
                "posterior", "posterior_deterministic", "unconstrained_posterior")
                if g in posterior.children], compat="override", join="exact")
        ss = (posterior["sample_stats"].to_dataset() if "sample_stats" in posterior.children
              else xr.Dataset())
    elif isinstance(posterior, xr.Dataset):
        post, ss = posterior, xr.Dataset()
    else:
        raise SpecError("posterior", "expected an arviz.InferenceData, an xarray.Dataset of "
                                     f"posterior draws or a result set, got "
                                     f"{type(posterior).__name__}")
    if post is None:
        raise SpecError("posterior", "expected posterior draws: the InferenceData or result "
                                     "set has no posterior group")
    for d in (CHAIN, DRAW):
        if d not in post.dims:
            raise SpecError("posterior", f"expected posterior draws over ({CHAIN}, {DRAW}), "
                                         f"got dims {tuple(str(k) for k in post.dims)}")
    return post, ss, dict(post.attrs)


def from_posterior(spec: Spec | str | Path, posterior: Any, *, seed: int,
                   cutoff: dt.date | None = None) -> az.InferenceData:
    """The InferenceData of :func:`calibrate` for posterior draws obtained elsewhere.

    No sampling: ``posterior`` holds draws of the parameters the spec's calibration
    samples, e.g. from ``pm.sample`` or nutpie on :func:`build_model` after
    ``pm.observe``/``pm.do`` or with more draws, or the posterior of another result
    set. The other groups are computed as :func:`calibrate` computes them: prior
    draws, predicted observations ``mu`` (taken from ``posterior`` when it has them
    over the spec's observations, else the skeleton's), posterior and prior predictive,
    log likelihood and log prior, with the streams of ``seed``. The calibration's own
    posterior given back gives the same InferenceData as :func:`calibrate` (but the
    attributes of the sampler).

    Parameters
    ----------
    spec : Spec or path
        A spec with observations (they define the observation model).
    posterior : arviz.InferenceData, xarray.Dataset or xarray.DataTree
        Draws over (``chain``, ``draw``) with one variable per parameter the calibration
        samples (:func:`kursk_da.calibration.calibration_setup`, ``sampled``) and, for
        observations from a CSV file, the observation model's variables
        (``claim_log_bias``, ``bias_kind_log_mean``, ``bias_spread``, ``bias_z``,
        ``grey_zone_log_factor``, ``isw_layer_start_km2``, ``obs_theta``); other
        variables are ignored. With an InferenceData its ``sample_stats`` feed the
        diagnostics (without them E-BFMI cannot be checked and the gate fails).
    seed : int
        Root seed of the prior and predictive draws.
    cutoff : datetime.date, optional

    Returns
    -------
    arviz.InferenceData

    Raises
    ------
    SpecError
        ``posterior``: not draws over (chain, draw), or missing parameters (named).
    """
    spec = as_spec(spec)
    check_int(seed, "seed", minimum=0, error=SpecError)
    setup = calibration_setup(spec, cutoff=cutoff)
    post, ss, attrs = _posterior_parts(posterior)
    need = [*setup.sampled, *(_CLAIM_VARS if setup.claims is not None else ())]
    missing = [n for n in need if n not in post.data_vars]
    if missing:
        raise SpecError("posterior", f"missing the parameter(s) {', '.join(missing)} that the "
                                     f"calibration of spec {spec.name!r} samples (a parameter "
                                     "fixed by pm.do: fix it in the spec too, "
                                     "spec.with_parameter(name, value))")
    post = post.transpose(CHAIN, DRAW, ...)
    theta = np.stack([post[n].to_numpy() for n in setup.sampled], axis=-1)
    names = [o.name for o in setup.used]
    mu_ok = ("mu" in post.data_vars and OBSERVATION in post["mu"].dims
             and [str(v) for v in post[OBSERVATION].values] == names)
    if mu_ok:
        mu = post["mu"].transpose(CHAIN, DRAW, OBSERVATION).to_numpy()
    else:
        full = np.tile(setup.base, (theta.shape[0] * theta.shape[1], 1))
        full[:, setup.cols] = theta.reshape(-1, theta.shape[-1])
        mu = skeleton_numpy(full, setup.omap).reshape(theta.shape[0], theta.shape[1], -1)
    keep = [v for v in post.data_vars if str(v) in need or str(v).endswith("_unit")]
    raw = post[keep].assign(theta=((CHAIN, DRAW, PARAMETER), theta),
                     mu=((CHAIN, DRAW, OBSERVATION), mu))
    n_chain, n_draw = int(raw.sizes[CHAIN]), int(raw.sizes[DRAW])
    library = str(attrs.get("inference_library", "")).strip()
    info = {
        "sampler": f"given ({library})" if library else "given",
        "seed": int(seed), "draws": n_draw, "tune": int(attrs.get("tuning_steps", 0) or 0),
        "chains": n_chain, "target_accept": float("nan"), "compile_seconds": 0.0,
        "sampling_seconds": float(attrs.get("sampling_time", 0.0) or 0.0),
        "cutoff": setup.cutoff.isoformat() if setup.cutoff else "",
    }
    return _assemble(spec, setup, raw, _normalise_stats(ss), seed, info)


def _assemble(spec: Spec, setup: CalibrationSetup, raw_posterior: xr.Dataset,
              sample_stats: xr.Dataset, seed: int, attrs: dict[str, Any]
              ) -> az.InferenceData:
    """The InferenceData of :func:`calibrate` from the sampler's posterior draws."""
    keep = [*setup.sampled, "theta", "mu"]
    keep += [str(v) for v in raw_posterior.data_vars if str(v).endswith("_unit")]
    cm = setup.claims
    if cm is not None:
        keep += list(_CLAIM_VARS)
    posterior = raw_posterior[keep]
    n_chain, n_draw = posterior.sizes[CHAIN], posterior.sizes[DRAW]
    obs_c = _obs_coords(setup.used, OBSERVATION)
    posterior = posterior.assign_coords({PARAMETER: list(setup.sampled), **obs_c})
    if cm is not None:
        posterior = posterior.assign_coords({
            OBS_PARAMETER: list(cm.names), CLAIM_KIND: list(cm.kinds),
            CLAIM_BIAS: [f"{f}:{k}" for f, k in cm.combos]})
        for v in _CLAIM_VARS:
            posterior[v].attrs.setdefault("units", "km2" if v == "isw_layer_start_km2" else "1")
        posterior["obs_theta"].attrs.update(
            long_name="observation-model parameters: claimant biases (claim / model value), "
                      "their kind means, the spread of the families, the grey-zone factor, "
                      "the ISW layer's area at its start", units="per parameter (1; km2 "
                      "for isw_layer_start_km2)")

    # prior draws of every input (spec prior, copula), one chain
    rng_prior = np.random.default_rng(stream(seed, PRIOR))
    n_prior = n_chain * n_draw
    theta_prior = sample_inputs(spec, n_prior, rng_prior)
    pc = {CHAIN: [0], DRAW: np.arange(n_prior)}
    prior = xr.Dataset(
        {n: xr.DataArray(theta_prior[None, :, j], dims=(CHAIN, DRAW), coords=pc,
                         attrs={"units": spec.inputs[n].units})
         for j, n in enumerate(spec.input_names)})
    prior["theta"] = xr.DataArray(theta_prior[None][:, :, setup.cols],
                                  dims=(CHAIN, DRAW, PARAMETER),
                                  coords={**pc, PARAMETER: list(setup.sampled)})
    prior["mu"] = xr.DataArray(skeleton_numpy(theta_prior, setup.omap)[None],
                               dims=(CHAIN, DRAW, OBSERVATION), coords={**pc, **obs_c})

    # posterior predictive
    rng_pp = np.random.default_rng(stream(seed, PREDICTIVE))
    mu = posterior["mu"].to_numpy()
    if cm is not None:
        lb, lg, st = _claim_params(posterior, cm, setup.used, rng_pp)
        y_rep = claim_predictive(mu, lb, lg, st, setup.scale, setup.offset, cm, rng_pp)
    else:
        y_rep = predictive_draws(mu, setup.scale, setup.is_log, setup.offset, rng_pp)
    pp = xr.Dataset({"y": xr.DataArray(y_rep, dims=(CHAIN, DRAW, OBSERVATION),
                                       coords={CHAIN: posterior[CHAIN], DRAW: posterior[DRAW],
                                               **obs_c})})
    observed = xr.Dataset({"y": xr.DataArray(setup.values, dims=(OBSERVATION,), coords=obs_c,
                                             attrs={"units": _PER_OBSERVATION})})
    extra: dict[str, Any] = _standard_groups(spec, setup, posterior, prior, obs_c, seed)
    const = xr.Dataset({
        "measurement_scale": xr.DataArray(measurement_scales(setup.used), dims=(OBSERVATION,),
                                          coords=obs_c),
        "process_scale": xr.DataArray(setup.tau, dims=(OBSERVATION,), coords=obs_c),
        "total_scale": xr.DataArray(setup.scale, dims=(OBSERVATION,), coords=obs_c),
        "lognormal": xr.DataArray(setup.is_log.astype(np.int8), dims=(OBSERVATION,),
                                  coords=obs_c),
        "offset": xr.DataArray(setup.offset, dims=(OBSERVATION,), coords=obs_c),
    })
    if cm is not None:
        const["censoring"] = xr.DataArray(cm.censoring.astype(np.int8), dims=(OBSERVATION,),
                                          coords=obs_c, attrs={
            "long_name": "0 point claim, 1 at least (low), 2 up to (high), 3 interval",
            "units": "1"})
        const["low"] = xr.DataArray(cm.low, dims=(OBSERVATION,), coords=obs_c,
                                    attrs={"long_name": "lower bound (the value if none)"})
        const["high"] = xr.DataArray(cm.high, dims=(OBSERVATION,), coords=obs_c,
                                     attrs={"long_name": "upper bound (the value if none)"})
    if setup.withheld:
        wc = _obs_coords(setup.withheld, WITHHELD)
        full = posterior_input_matrix(spec, posterior, setup.sampled, seed=seed)
        mu_w = skeleton_numpy(full, observation_map(spec, setup.withheld))
        if cm is not None:
            cm_w = claim_model(setup.withheld)
            lb, lg, st = _claim_params(posterior, cm, setup.withheld, rng_pp)
            y_w = claim_predictive(mu_w.reshape(n_chain, n_draw, -1), lb, lg, st,
                                   setup.scale_withheld, setup.offset_withheld, cm_w, rng_pp)
        else:
            y_w = predictive_draws(mu_w, setup.scale_withheld, setup.is_log_withheld,
                                   setup.offset_withheld, rng_pp)
        pp["y_withheld"] = xr.DataArray(y_w.reshape(n_chain, n_draw, -1),
                                        dims=(CHAIN, DRAW, WITHHELD),
                                        coords={CHAIN: posterior[CHAIN],
                                                DRAW: posterior[DRAW], **wc})
        observed["y_withheld"] = xr.DataArray([o.value for o in setup.withheld],
                                              dims=(WITHHELD,), coords=wc,
                                              attrs={"units": _PER_WITHHELD})

    idata = az.InferenceData(
        posterior=posterior, sample_stats=sample_stats, prior=prior,
        posterior_predictive=pp, observed_data=observed, constant_data=const, **extra,
    )
    for g in idata.groups():
        idata[g].attrs.update({k: v for k, v in attrs.items()})
    idata.attrs = dict(attrs)
    return idata


_LOG_DENSITY = "log density (nats)"


def _standard_groups(spec: Spec, setup: CalibrationSetup, posterior: xr.Dataset,
                     prior: xr.Dataset, obs_c: dict[str, Any], seed: int
                     ) -> dict[str, xr.Dataset]:
    """The ArviZ groups ``log_likelihood``, ``log_prior`` and ``prior_predictive``.

    ``log_likelihood.y``: pointwise log likelihood of each used observation at each
    posterior draw (for ``az.loo``/``az.waic``). ``log_prior``: log prior density of
    each sampled parameter's marginal at each posterior draw, plus ``copula`` (the
    Gaussian-copula term), so that their sum is the joint log prior (for
    ``az.psens``). ``prior_predictive.y``: the observations drawn from the prior
    predictive (prior draws of ``mu`` plus the measurement and process error; stream
    ``PRIOR_PREDICTIVE``).
    """
    sampled = list(setup.sampled)
    mu = posterior["mu"].to_numpy()
    cm = setup.claims
    if cm is not None:
        lb, lg, st = _claim_params(posterior, cm, setup.used, np.random.default_rng(0))
        ll = claim_loglik(setup.values, mu, lb, lg, st, setup.scale, setup.offset, cm, np)
    else:
        ll = loglik_numpy(setup.values, mu, setup.scale, setup.is_log, setup.offset)
    pc = {CHAIN: posterior[CHAIN], DRAW: posterior[DRAW]}
    log_lik = xr.Dataset({"y": xr.DataArray(ll, dims=(CHAIN, DRAW, OBSERVATION),
                                            coords={**pc, **obs_c},
                                            attrs={"units": _LOG_DENSITY})})
    theta = posterior["theta"].transpose(CHAIN, DRAW, PARAMETER).to_numpy()
    flat = theta.reshape(-1, theta.shape[-1])
    marginals = {n: spec.inputs[n].dist.logpdf(flat[:, j]) for j, n in enumerate(sampled)}
    joint = log_prior_density(spec, sampled, flat)
    lp = {n: xr.DataArray(v.reshape(theta.shape[:2]), dims=(CHAIN, DRAW), coords=pc,
                          attrs={"units": _LOG_DENSITY}) for n, v in marginals.items()}
    lp["copula"] = xr.DataArray((joint - sum(marginals.values())).reshape(theta.shape[:2]),
                                dims=(CHAIN, DRAW), coords=pc,
                                attrs={"units": _LOG_DENSITY,
                                       "long_name": "Gaussian-copula term of the joint prior"})
    rng = np.random.default_rng(stream(seed, PRIOR_PREDICTIVE))
    if cm is not None:
        mu_p = prior["mu"].to_numpy()
        d = obs_model_prior_draws(cm, mu_p.shape[1], rng)
        y_prior = claim_predictive(mu_p, d["log_bias"][None][..., cm.combo_index],
                                   d["log_g"][None], d["start"][None], setup.scale,
                                   setup.offset, cm, rng)
    else:
        y_prior = predictive_draws(prior["mu"].to_numpy(), setup.scale, setup.is_log,
                                   setup.offset, rng)
    prior_pp = xr.Dataset({"y": xr.DataArray(y_prior, dims=(CHAIN, DRAW, OBSERVATION),
                                             coords={CHAIN: prior[CHAIN], DRAW: prior[DRAW],
                                                     **obs_c})})
    return {"log_likelihood": log_lik, "log_prior": xr.Dataset(lp),
            "prior_predictive": prior_pp}

