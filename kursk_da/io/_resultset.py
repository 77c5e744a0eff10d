"""The result set: an xarray DataTree with ArviZ-compatible groups, saved as netCDF.

Schema (a public contract; see README "Result-set schema")
------------------------------------------------------------
``/`` (root attrs)
    ``kursk_da_version``, ``spec_name``, ``spec_sha256``, ``spec_path``, ``spec_json``
    (the spec contents), ``seed``, ``draws``, ``chunk_size``, ``created`` (UTC ISO 8601),
    ``decision_date``, ``horizon_days``, ``retention_threshold_km2``, ``cvar_alpha``,
    ``value_units`` (``dkm2``), ``analysis`` (``"prior"`` or ``"posterior"``),
    ``result_schema`` (version of this schema).
``/prior``
    One variable per uncertain input (dims ``chain``, ``draw``; ``chain`` has length 1),
    units in attrs: the Monte Carlo draws in the ArviZ layout.
``/decision``
    ``value`` (draw, option) and ``attributes`` (draw, option, attribute); over
    ``option``: ``expected_value``, ``value_difference``, ``prob_best``,
    ``expected_regret``, ``cvar``, each with its ``*_mcse``; scalars ``evpi``,
    ``evpi_mcse``. The MCSEs respect the sampling design (independent draws, or the
    chains of a posterior analysis; attribute ``mcse_design``).
``/trajectories``
    Over (option, date), from all draws: ``retention_probability`` (P[area held >=
    threshold]) and ``area_held_mean``. Over (option, draw, date), for
    ``decision.trajectories`` draws only (the ``draw`` coordinate is the row of
    ``/decision`` of each stored trajectory): ``area_held``, ``ukrainian_forces``,
    ``russian_forces``, ``ua_casualties``, ``ru_casualties`` (cumulative since 6 Aug
    2024), ``donbas_area_lost``, ``ru_arrivals``. A prior analysis stores the first
    draws; a posterior one a subset thinned evenly over chain x draw (one replicate row
    each), with the coordinates ``posterior_chain`` and ``posterior_draw`` (over
    ``draw``) saying which posterior draw each one is. Dates are calendar dates
    (``date``), day 0 = 2024-08-06.

Posterior analysis (``analysis = "posterior"``, :mod:`kursk_da.calibration`)
    Root attrs add ``converged`` (``"yes"``/``"no"``), ``calibration_sampler``,
    ``calibration_draws``, ``calibration_tune``, ``calibration_chains``,
    ``calibration_compile_seconds``, ``calibration_sampling_seconds``,
    ``calibration_cutoff``, ``draws_per_posterior_draw``. ``/prior`` holds prior draws
    of every input (one chain; the same attributes as in a prior analysis) plus
    ``theta`` (sampled parameters) and ``mu`` (their predicted observations); the
    ArviZ groups ``/posterior`` (the parameters only), ``/posterior_predictive``,
    ``/observed_data``, ``/constant_data``, ``/sample_stats``,
    ``/unconstrained_posterior`` and the group ``/posterior_deterministic`` (``mu``)
    are added, with ``/diagnostics``;
    ``/decision`` gains ``inputs`` (draw, parameter), the engine input matrix.

Every variable of every group has a ``units`` attribute; variables over labels of
mixed units (``parameter``, ``observation``, ``attribute``) say so and the labels'
units are the coordinates ``parameter_units``, ``observation_units``,
``attribute_units``. :func:`build_result_set` is the one builder (prior and
posterior), :func:`load_result_set` and :func:`spec_from_tree` the one reader.

Writes are atomic: the file is written under a temporary name in the target
directory and renamed into place, so an error or a kill never leaves a
half-written result file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from kursk_da.dims import (
    ATTRIBUTE,
    CHAIN,
    DATE,
    DRAW,
    OBSERVATION,
    OPTION,
    PARAMETER,
    PRIOR_POWER,
    VALUE_UNITS,
    WITHHELD,
)
from kursk_da.dynamics.catalogue import ATTRIBUTE_NAMES, TRAJECTORIES
from kursk_da.errors import ResultFileError, SpecError
from kursk_da.io._atomic import (
    ensure_space,
    guard_h5netcdf_close,
    make_temp_file,
    remove_stale,
    storage_errors,
)
from kursk_da.io._voi_groups import trigger_dataset
from kursk_da.spec._schema import Spec, spec_from_dict
from kursk_da.validation import check_output_file, check_seed, fail

if TYPE_CHECKING:
    import pandas as pd

    from kursk_da.calibration._result import Calibration
    from kursk_da.engine._run import EngineOutput

__all__ = [
    "RESULT_SCHEMA",
    "REQUIRED",
    "build_result_set",
    "posterior_groups",
    "POSTERIOR_DETERMINISTIC",
    "UNCONSTRAINED_POSTERIOR",
    "draw_datasets",
    "dataset_encoding",
    "replace_target",
    "save_result_set",
    "load_result_set",
    "validate_result_set",
    "as_result_set",
    "to_inference_data",
    "spec_from_tree",
    "stored_spec_dict",
    "spec_to_json",
    "SUPPORTED_SCHEMAS",
    "POSTERIOR_CHAIN",
    "POSTERIOR_DRAW",
    "check_result_target",
    "is_zarr_path",
    "ZARR_SUFFIX",
    "DRAW_CHUNK",
    "NETCDF_COMPRESSION",
    "LAZY_ELEMENTS",
    "with_stored_draws",
]

guard_h5netcdf_close()  # a full disk: an error naming the path, not a segmentation fault

RESULT_SCHEMA = "4"
"""Version of the result-set schema written now. 2: per-attribute units as the
coordinate ``attribute_units``, ``units`` on every variable of every group, the spec
JSON in its own key order with tagged dates. 3: the random streams keyed to fixed
blocks of draws (root attribute ``block_size``; the numbers no longer depend on
``chunk_size``), per-draw data possibly of a subsample (``draws_stored``), Zarr stores
and compressed netCDF. 4: ``/posterior`` holds the parameters only (the stacked ``theta``
is gone; ``mu`` and ``claim_log_bias`` are in ``/posterior_deterministic``, the sampler's
latent variables in ``/unconstrained_posterior``), every dimension is named, and
``/observed_data/y`` has its units per observation (coordinate ``observation_units``)
instead of one string. Files of versions 1-3 are read as they are."""
SUPPORTED_SCHEMAS = ("1", "2", "3", "4")
"""Schema versions this version of kursk_da reads."""

REQUIRED: dict[str, tuple[str, ...]] = {
    "decision": ("value", "expected_value", "expected_value_mcse", "prob_best",
                 "expected_regret", "cvar", "evpi"),
    "trajectories": ("retention_probability", "area_held", "ukrainian_forces",
                     "russian_forces", "ua_casualties", "ru_casualties"),
}
"""Groups and variables every result set has."""

_ROOT_ATTRS = ("kursk_da_version", "spec_sha256", "seed", "created", "result_schema")

_TRAJ_VARS = {  # name in the result set -> (index in TRAJECTORY_NAMES, long name, units)
    q.name: (k, q.long_name, q.units) for k, q in enumerate(TRAJECTORIES)
}


def _block_size() -> int:
    from kursk_da.engine._run import BLOCK_SIZE

    return BLOCK_SIZE


def _version() -> str:
    try:
        return version("kursk_da")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _input_attrs(spec: Spec, name: str) -> dict[str, str]:
    """The attributes of an uncertain input's variable in ``/prior`` (every analysis)."""
    par = spec.inputs[name]
    return {"units": par.units, "source": par.source, "group": par.group,
            "distribution": par.dist.describe()}


def _prior_group(spec: Spec, inputs: np.ndarray, draws: np.ndarray | None = None
                 ) -> xr.Dataset:
    draws = np.arange(inputs.shape[0]) if draws is None else draws
    # variables given as (dims, data, attrs) and the coordinates once: one index of
    # ``draw`` for the group (not one per input, each copied twice by pandas)
    data = {name: ((CHAIN, DRAW), inputs[None, :, j], _input_attrs(spec, name))
            for j, name in enumerate(spec.input_names)}
    return xr.Dataset(data, coords={CHAIN: [0], DRAW: draws},
                      attrs={"description": "Monte Carlo draws of the uncertain inputs"})


def _obs_units(spec: Spec, names: Any) -> list[str]:
    by_name = {o.name: o.units for o in spec.observations}
    return [by_name.get(str(n), "") for n in names]


def _label_units(ds: xr.Dataset, spec: Spec) -> xr.Dataset:
    """Per-label units as coordinates (``parameter_units``, ``observation_units``,
    ``withheld_units``) wherever a group has those dimensions."""
    ds = ds.copy()
    if PARAMETER in ds.dims and PARAMETER in ds.coords:
        ds = ds.assign_coords({f"{PARAMETER}_units": (PARAMETER, [
            spec.inputs[str(p)].units if str(p) in spec.inputs else ""
            for p in ds[PARAMETER].values])})
    for dim in (OBSERVATION, WITHHELD):
        if dim in ds.dims and dim in ds.coords:
            ds = ds.assign_coords({f"{dim}_units": (dim, _obs_units(spec, ds[dim].values))})
    return ds


_SAMPLE_STAT_UNITS = {"step_size": "1 (unconstrained scale)", "lp": "log density (nats)",
                      "energy": "log density (nats)", "energy_error": "log density (nats)"}


def _units_for(name: str, da: xr.DataArray, spec: Spec) -> str:
    """Units of a variable of an ArviZ group (sampled inputs, mu, y, theta, ...)."""
    if name in spec.inputs:
        return spec.inputs[name].units
    if name.endswith("_unit"):
        return "1 (standard normal latent)"
    if PARAMETER in da.dims:
        return f"per {PARAMETER} (coordinate {PARAMETER}_units)"
    for dim in (OBSERVATION, WITHHELD):
        if dim in da.dims:
            return f"per {dim} (coordinate {dim}_units)"
    return _SAMPLE_STAT_UNITS.get(name, "1")


def _with_units(ds: xr.Dataset, spec: Spec) -> xr.Dataset:
    """``ds`` with per-label unit coordinates and a ``units`` attribute on every variable."""
    ds = _label_units(ds, spec)
    for name in ds.data_vars:
        if "units" not in ds[name].attrs:
            ds[name].attrs["units"] = _units_for(str(name), ds[name], spec)
    return ds


POSTERIOR_CHAIN = f"posterior_{CHAIN}"
"""Coordinate over ``draw`` of ``/trajectories`` (posterior analyses): the chain of each
stored trajectory."""
POSTERIOR_DRAW = f"posterior_{DRAW}"
"""Coordinate over ``draw`` of ``/trajectories`` (posterior analyses): the posterior draw
(within its chain) of each stored trajectory."""


def _trajectory_group(spec: Spec, out: EngineOutput,
                      calibration: Calibration | None = None) -> xr.Dataset:
    options = list(spec.option_names)
    dates = spec.dates
    n = out.n_draws
    coords = {OPTION: options, DATE: dates}
    ds = xr.Dataset(
        {
            "retention_probability": xr.DataArray(
                out.retained_count / n, dims=(OPTION, DATE), coords=coords,
                attrs={"long_name": f"P(area held >= {spec.retention_threshold:g} km2)",
                       "units": "1", "threshold_km2": spec.retention_threshold}),
            "area_held_mean": xr.DataArray(
                out.area_sum / n, dims=(OPTION, DATE), coords=coords,
                attrs={"long_name": "mean area held over all draws", "units": "km2"}),
        }
    )
    tr = out.trajectories  # (n_traj, n_opt, n_days, n_vars)
    rows = np.arange(tr.shape[0]) if out.trajectory_rows is None else out.trajectory_rows
    tcoords: dict[str, Any] = {OPTION: options, DRAW: rows, DATE: dates}
    which = f"the first {tr.shape[0]} draws"
    if calibration is not None and out.trajectory_rows is not None:
        post = calibration.idata["posterior"]
        n_draw, per_draw = int(post.sizes[DRAW]), int(calibration.per_draw)
        p = rows // per_draw  # posterior draw, chain-major
        tcoords[POSTERIOR_CHAIN] = (DRAW, p // n_draw, {
            "long_name": "chain of the posterior draw of the trajectory", "units": "1"})
        tcoords[POSTERIOR_DRAW] = (DRAW, p % n_draw, {
            "long_name": "posterior draw (within its chain) of the trajectory", "units": "1"})
        which = (f"{tr.shape[0]} draws thinned evenly over the {int(post.sizes[CHAIN])} "
                 f"chains x {n_draw} posterior draws, one replicate row each (coordinates "
                 f"{POSTERIOR_CHAIN}, {POSTERIOR_DRAW}; {DRAW} is the row of /decision)")
    for name, (k, long_name, units) in _TRAJ_VARS.items():
        ds[name] = xr.DataArray(np.moveaxis(tr[..., k], 0, 1), dims=(OPTION, DRAW, DATE),
                                coords=tcoords, attrs={"long_name": long_name, "units": units})
    ds.attrs["description"] = (
        f"daily trajectories of {which} (state at the end of each day); "
        "retention_probability and area_held_mean use all draws"
    )
    return ds


def _attributes(spec: Spec, out: EngineOutput, draws: np.ndarray) -> xr.DataArray:
    names = list(ATTRIBUTE_NAMES)
    return xr.DataArray(
        out.attributes, dims=(DRAW, OPTION, ATTRIBUTE),
        coords={DRAW: draws, OPTION: list(spec.option_names), ATTRIBUTE: names,
                f"{ATTRIBUTE}_units": (ATTRIBUTE, [spec.weights[a].units.split("/", 1)[1]
                                                   for a in names])},
        attrs={"long_name": "value-model attributes over the decision window",
               "units": f"per {ATTRIBUTE} (coordinate {ATTRIBUTE}_units)"},
    )


def prior_sensitivity_dataset(table: pd.DataFrame) -> xr.Dataset:
    """The power-scaling check of the option ranking as variables over ``prior_power``.

    ``prior_sensitivity_ev`` (``prior_power``, ``option``; dkm2): expected value of each
    option under the prior raised to each power (importance-weighted posterior; power
    1 is the posterior itself); ``prior_sensitivity_best`` and
    ``prior_sensitivity_ranking`` (strings); ``prior_sensitivity_pareto_k`` (PSIS
    Pareto k of the weights), ``prior_sensitivity_reliable`` (k <= 0.7) and
    ``prior_sensitivity_ranking_changed`` (0/1).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`kursk_da.calibration.prior_sensitivity`.
    """
    powers = table["power"].to_numpy(dtype=float)
    ev_cols = [c for c in table.columns if str(c).startswith("ev_")]
    options = [str(c).removeprefix("ev_") for c in ev_cols]
    coords = {PRIOR_POWER: powers}
    flag = {"units": "1 (0/1)"}
    return xr.Dataset({
        "prior_sensitivity_ev": xr.DataArray(
            table[ev_cols].to_numpy(dtype=float), dims=(PRIOR_POWER, OPTION),
            coords={**coords, OPTION: options},
            attrs={"long_name": "expected value under the power-scaled prior",
                   "units": VALUE_UNITS}),
        "prior_sensitivity_best": xr.DataArray(
            table["best"].astype(str).to_numpy(), dims=(PRIOR_POWER,), coords=coords),
        "prior_sensitivity_ranking": xr.DataArray(
            table["ranking"].astype(str).to_numpy(), dims=(PRIOR_POWER,), coords=coords),
        "prior_sensitivity_pareto_k": xr.DataArray(
            table["pareto_k"].to_numpy(dtype=float), dims=(PRIOR_POWER,), coords=coords,
            attrs={"long_name": "PSIS Pareto k of the importance weights", "units": "1"}),
        "prior_sensitivity_reliable": xr.DataArray(
            table["reliable"].to_numpy().astype(np.int8), dims=(PRIOR_POWER,),
            coords=coords, attrs=flag),
        "prior_sensitivity_ranking_changed": xr.DataArray(
            table["ranking_changed"].to_numpy().astype(np.int8), dims=(PRIOR_POWER,),
            coords=coords, attrs=flag),
    })


def _diagnostics_group(cal: Calibration) -> xr.Dataset:
    """``/diagnostics``: the gate, contraction, the posterior predictive check, checks."""
    dgroup = cal.diagnostics.to_dataset()
    dgroup["contraction"] = xr.DataArray(
        cal.contraction.to_numpy(), dims=(PARAMETER,),
        attrs={"long_name": "1 - var_post / var_prior on the unconstrained (log/logit) scale",
               "units": "1"})
    ppc = cal.ppc
    for col in ("observed", "predictive_mean", "lower_90", "upper_90", "covered"):
        vals = ppc[col].to_numpy()
        dgroup[f"ppc_{col}"] = xr.DataArray(
            vals.astype(np.int8) if col == "covered" else vals, dims=(OBSERVATION,),
            coords={OBSERVATION: list(ppc.index)})
    loo = cal.loo
    if loo is not None:
        from kursk_da.calibration._variants import PARETO_K_THRESHOLD

        dgroup["loo_pareto_k"] = xr.DataArray(
            loo["pareto_k"].reindex(list(ppc.index)).to_numpy(), dims=(OBSERVATION,),
            coords={OBSERVATION: list(ppc.index)},
            attrs={"long_name": "Pareto k of the PSIS-LOO term of the observation (az.loo); "
                                f"above {PARETO_K_THRESHOLD} the term is unreliable (an "
                                "influential or badly fitted claim)", "units": "1"})
        high = cal.high_pareto_k
        dgroup.attrs["loo_pareto_k_above_0_7"] = ", ".join(high)
        dgroup.attrs["loo_n_pareto_k_above_0_7"] = len(high)
    if cal.sensitivity is not None:
        dgroup = dgroup.merge(prior_sensitivity_dataset(cal.sensitivity))
        dgroup.attrs["ranking_depends_on_prior"] = cal.ranking_depends_on_prior
    if cal.psens is not None:
        for col in cal.psens.columns:
            dgroup[str(col)] = xr.DataArray(
                cal.psens[col].reindex(list(dgroup[PARAMETER].values)).to_numpy(),
                dims=(PARAMETER,),
                attrs={"long_name": f"az.psens of the posterior under power-scaling of the "
                                    f"{str(col).removeprefix('psens_')}", "units": "1"})
    fc = cal.forecast
    if fc is not None:
        dgroup.attrs["forecast"] = fc.to_json(orient="index")
        dgroup.attrs["forecast_coverage_90"] = float(fc["covered"].mean())
        dgroup.attrs["forecast_mean_crps"] = float(fc["crps"].mean())
    return dgroup


_DIAGNOSTIC_UNITS = {"ess_bulk": "draws", "ess_tail": "draws", "divergences": "transitions",
                     "e_bfmi": "1", "tree_depth_saturation": "1", "ppc_covered": "1 (yes = 1)"}


def _diagnostic_units(ds: xr.Dataset, spec: Spec) -> xr.Dataset:
    ds = _label_units(ds, spec)
    for name in ds.data_vars:
        n = str(name)
        if "units" in ds[n].attrs:
            continue
        if n in _DIAGNOSTIC_UNITS:
            ds[n].attrs["units"] = _DIAGNOSTIC_UNITS[n]
        elif n.startswith("mcse") or n.startswith("mean") or n.startswith("sd"):
            ds[n].attrs["units"] = f"per {PARAMETER} (coordinate {PARAMETER}_units)"
        elif n.startswith("ppc_"):
            ds[n].attrs["units"] = f"per {OBSERVATION} (coordinate {OBSERVATION}_units)"
        else:
            ds[n].attrs["units"] = "1"
    return ds


POSTERIOR_DETERMINISTIC = "posterior_deterministic"
"""Group of the deterministic functions of the posterior draws (schema 4): the predicted
observations ``mu`` and the claimant log biases ``claim_log_bias``."""
UNCONSTRAINED_POSTERIOR = "unconstrained_posterior"
"""ArviZ group of the sampler's own coordinates (schema 4): the latent variables the
parameters are functions of (``*_unit``, ``bias_z``, ``bias_kind_log_mean``,
``grey_zone_log_factor``)."""
_DETERMINISTIC = ("mu", "claim_log_bias")
_STACKED = ("theta",)  # the parameters stacked over ``parameter``: in /posterior already


def posterior_groups(posterior: xr.Dataset, spec: Spec) -> dict[str, xr.Dataset]:
    """The posterior draws of a calibration split into the groups of a result set.

    ``posterior`` (the parameters only, so that ``az.summary`` of the file lists them
    and nothing else): one variable per sampled input of ``spec`` and, for claims, the
    observation-model parameters ``obs_theta``. ``posterior_deterministic``: the
    deterministics of the observation model (``mu``, ``claim_log_bias``).
    ``unconstrained_posterior``: every other sampled variable (the sampler's latent
    coordinates). The stacked ``theta`` is left out (``/posterior`` holds each of its
    columns). Groups without variables are left out; the coordinates are kept.

    Parameters
    ----------
    posterior : xarray.Dataset
        ``Calibration.idata["posterior"]`` (:func:`kursk_da.calibration.calibrate`).
    spec : Spec

    Returns
    -------
    dict of group name -> xarray.Dataset
    """
    names = [str(v) for v in posterior.data_vars]
    params = [v for v in names if v in spec.inputs or v == "obs_theta"]
    det = [v for v in names if v in _DETERMINISTIC]
    rest = [v for v in names if v not in params and v not in det and v not in _STACKED]
    out: dict[str, xr.Dataset] = {}
    for group, keep in (("posterior", params), (POSTERIOR_DETERMINISTIC, det),
                        (UNCONSTRAINED_POSTERIOR, rest)):
        if keep or group == "posterior":
            out[group] = posterior[keep]  # with the coordinates of its variables' dims
    return out


def _calibration_attrs(cal: Calibration) -> dict[str, Any]:
    a = cal.attrs
    return {
        "converged": "yes" if cal.converged else "no",
        "calibration_sampler": a["sampler"],
        "calibration_draws": int(a["draws"]),
        "calibration_tune": int(a["tune"]),
        "calibration_chains": int(a["chains"]),
        "calibration_compile_seconds": float(a["compile_seconds"]),
        "calibration_sampling_seconds": float(a["sampling_seconds"]),
        "calibration_cutoff": a["cutoff"],
        "draws_per_posterior_draw": int(cal.per_draw),
    }


def _value_array(spec: Spec, values: np.ndarray, draws: np.ndarray) -> xr.DataArray:
    """``/decision/value`` of the stored draws (as :func:`decision_summary` builds it)."""
    return xr.DataArray(values, dims=(DRAW, OPTION),
                        coords={DRAW: np.asarray(draws), OPTION: list(spec.option_names)},
                        attrs={"long_name": "value of the option under the draw",
                               "units": VALUE_UNITS})


def _decision_inputs(spec: Spec, inputs: np.ndarray, draws: np.ndarray) -> xr.DataArray:
    return xr.DataArray(
        inputs, dims=(DRAW, PARAMETER),
        coords={DRAW: draws, PARAMETER: list(spec.input_names)},
        attrs={"description": "engine input matrix: posterior draws of the calibrated "
                              "parameters, conditional prior draws of the other inputs",
               "units": f"per {PARAMETER} (coordinate {PARAMETER}_units)"})


def draw_datasets(spec: Spec, out: EngineOutput, draws: np.ndarray, *, posterior: bool
                  ) -> dict[str, xr.Dataset]:
    """The per-draw variables of the stored draws ``draws`` of ``out``, by group.

    ``/prior`` (a prior analysis: the inputs), ``/decision`` (``value``, ``attributes``
    and, for a posterior analysis, ``inputs``) and ``/triggers`` (``trigger_day``, when
    an option has a trigger), with their coordinates and without group attributes:
    the variables :func:`build_result_set` adds over ``draw``. ``out`` may hold a slice
    of the stored draws (the streaming writer, :class:`kursk_da.io.ResultSetWriter`).
    """
    draws = np.asarray(draws)
    dec = xr.Dataset({"value": _value_array(spec, out.values, draws),
                      "attributes": _attributes(spec, out, draws)})
    groups: dict[str, xr.Dataset] = {}
    if posterior:
        dec["inputs"] = _decision_inputs(spec, out.inputs, draws)
    else:
        groups["/prior"] = _prior_group(spec, out.inputs, draws).drop_attrs(deep=False)
    groups["/decision"] = _label_units(dec, spec)
    if out.trigger_day is not None:
        trig = trigger_dataset(spec, out.trigger_day, draws)
        if trig is not None:
            groups["/triggers"] = trig[["trigger_day"]].drop_attrs(deep=False)
    return groups


def build_result_set(
    spec: Spec,
    out: EngineOutput,
    decision: xr.Dataset,
    *,
    calibration: Calibration | None = None,
    per_draw: bool = True,
) -> xr.DataTree:
    """Assemble the result set of an analysis: the one builder, prior and posterior.

    Parameters
    ----------
    spec : Spec
    out : EngineOutput
        The engine run (for a posterior analysis, on the propagated posterior inputs).
    decision : xarray.Dataset
        From :func:`kursk_da.decision._summary.decision_summary`.
    calibration : Calibration, optional
        The calibration behind a posterior analysis (its ranking check included); with
        it the tree is marked ``analysis = "posterior"`` and gains the ArviZ groups,
        ``/diagnostics`` and ``/decision/inputs``.
    per_draw : bool
        False: leave out the per-draw variables of :func:`draw_datasets` (the streaming
        writer has written them already); ``decision`` may then lack ``value``, and
        ``out.trigger_day`` still gives the trigger summaries of the stored draws.

    Returns
    -------
    xarray.DataTree
        Schema in ``docs/resultset.md``; every variable of every group has ``units``.
    """
    dec = decision.copy()
    if per_draw:
        draws = dec[DRAW].values
        dec["attributes"] = _attributes(spec, out, draws)
    else:
        dec = dec.drop_vars([k for k in dec.variables if DRAW in dec[k].dims])
        draws = np.arange(0 if out.trigger_day is None else out.trigger_day.shape[0])
    analysis = "prior" if calibration is None else "posterior"
    root = xr.Dataset(attrs={
        "kursk_da_version": _version(),
        "result_schema": RESULT_SCHEMA,
        "spec_name": spec.name,
        "spec_sha256": spec.sha256,
        "spec_path": spec.path or "",
        "spec_json": spec_to_json(spec),
        "seed": int(out.seed),
        "draws": int(out.n_draws),
        "chunk_size": int(out.chunk_size),
        "block_size": int(_block_size()),
        "draws_stored": int(out.n_stored if per_draw
                            else decision.attrs.get("draws_stored", out.n_stored)),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "decision_date": spec.decision_date.isoformat(),
        "horizon_days": int(spec.horizon_days),
        "retention_threshold_km2": float(spec.retention_threshold),
        "cvar_alpha": float(spec.cvar_alpha),
        "value_units": VALUE_UNITS,
        "analysis": analysis,
    })
    groups: dict[str, xr.Dataset] = {"/": root}
    if calibration is None:
        groups["/prior"] = (_prior_group(spec, out.inputs, draws) if per_draw else
                            xr.Dataset(attrs=_prior_group(spec, out.inputs[:0]).attrs))
    else:
        root.attrs.update(_calibration_attrs(calibration))
        if per_draw:
            dec["inputs"] = _decision_inputs(spec, out.inputs, draws)
        idata = calibration.idata
        prior = idata["prior"].copy()
        for name in spec.input_names:
            if name in prior:
                prior[name].attrs.update(_input_attrs(spec, name))
        groups["/prior"] = _with_units(prior, spec)
        for g, ds in posterior_groups(idata["posterior"], spec).items():
            groups[f"/{g}"] = _with_units(ds, spec)
        for g in ("posterior_predictive", "observed_data", "constant_data",
                  "sample_stats", "log_likelihood", "log_prior", "prior_predictive"):
            if g in idata.groups():
                groups[f"/{g}"] = _with_units(idata[g], spec)
        groups["/diagnostics"] = _diagnostic_units(_diagnostics_group(calibration), spec)
    groups["/decision"] = _label_units(dec, spec)
    groups["/trajectories"] = _trajectory_group(spec, out, calibration)
    triggers = None if out.trigger_day is None else trigger_dataset(spec, out.trigger_day, draws)
    if triggers is not None:  # options with state-triggered phases (issue 13)
        groups["/triggers"] = triggers if per_draw else triggers.drop_vars(["trigger_day", DRAW])
    order = ["/", "/prior", "/decision", "/trajectories"]
    return xr.DataTree.from_dict({k: groups[k] for k in order + [g for g in groups
                                                                  if g not in order]})


ZARR_SUFFIX = ".zarr"
"""A target whose name ends in this is written as a Zarr store (a directory)."""
DRAW_CHUNK = 65_536
"""Rows per chunk along ``draw`` of the stored arrays (netCDF and Zarr)."""
NETCDF_COMPRESSION = {"compression": "gzip", "compression_opts": 4, "shuffle": True}
"""Compression of the numeric variables of a netCDF result set that are not over ``draw``
(HDF5 gzip level 4 with the shuffle filter). The variables over ``draw`` (the per-draw data,
the stored trajectories) are written uncompressed: gzip cost 4.5 s of a 2x10^5-draw run
(about 20 MB/s on the 2-core machine) for a file about 40% smaller, and the filters that
are fast (lzf, Blosc) are not readable by the netCDF-C library, hence not by every reader
of netCDF (``benchmarks/bench_analyze.py`` prints the size and write time of each; Zarr's
default zstd is fast: a large run is best written as a Zarr store)."""
LAZY_ELEMENTS = 10_000_000
"""Variables of more elements than this stay on disk (dask) when a result set is loaded."""


def is_zarr_path(path: str | Path) -> bool:
    """True when ``path`` names a Zarr store (suffix ``.zarr``, in any case: ``x.ZARR``)."""
    return Path(path).suffix.lower() == ZARR_SUFFIX


def _is_zarr_store(p: Path) -> bool:
    return (p / "zarr.json").is_file() or (p / ".zgroup").is_file()


def check_result_target(path: Any, name: str = "path") -> Path:
    """Check a result-set target before any computing.

    A ``.zarr`` target must be absent or an existing Zarr store (replaced atomically) in
    a writable directory; any other target a writable regular file
    (:func:`kursk_da.validation.check_output_file`).

    Raises
    ------
    ArgumentError
        Naming ``name``.
    """
    from kursk_da.errors import ArgumentError
    from kursk_da.validation import fail

    if not isinstance(path, str | os.PathLike) or not str(path):
        fail(name, f"expected a path, got {path!r}", ArgumentError)
    p = Path(path)
    if not is_zarr_path(p):
        return check_output_file(p, name)
    if p.exists() or p.is_symlink():
        if not p.is_dir() or p.is_symlink():
            fail(name, f"{str(p)!r} exists and is not a directory; expected a Zarr store",
                 ArgumentError)
        if any(p.iterdir()) and not _is_zarr_store(p):
            fail(name, f"{str(p)!r} is a directory that is not a Zarr store; refusing to "
                       "replace it", ArgumentError)
    parent = p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        fail(name, f"cannot write in {str(parent)!r}", ArgumentError)
    return p


def dataset_encoding(ds: xr.Dataset, zarr: bool) -> dict[str, dict[str, Any]]:
    """Variable encodings of one group: chunks along ``draw`` of at most
    :data:`DRAW_CHUNK` rows, and compression (netCDF, :data:`NETCDF_COMPRESSION`, for the
    variables not over ``draw``; Zarr: its default codec)."""
    group: dict[str, dict[str, Any]] = {}
    for name, var in ds.data_vars.items():
        if var.ndim == 0 or var.dtype.kind not in "fiub":
            continue
        chunks = tuple(min(n, DRAW_CHUNK) if d == DRAW else n
                       for d, n in zip(var.dims, var.shape, strict=True))
        if 0 in chunks:
            continue
        if zarr:
            group[str(name)] = {"chunks": chunks}
        elif DRAW in var.dims:
            group[str(name)] = {"chunksizes": chunks}
        else:
            group[str(name)] = {"chunksizes": chunks, **NETCDF_COMPRESSION}
    return group


def _encoding(tree: xr.DataTree, zarr: bool) -> dict[str, dict[str, dict[str, Any]]]:
    """Per-group variable encodings (:func:`dataset_encoding`)."""
    enc: dict[str, dict[str, dict[str, Any]]] = {}
    for node in tree.subtree:
        group = dataset_encoding(node.dataset, zarr)
        if group:
            enc[node.path] = group
    return enc


def save_result_set(tree: xr.DataTree | str | os.PathLike[str], path: str | Path) -> Path:
    """Write a result set atomically: compressed chunked netCDF, or a Zarr store.

    A target ending in ``.zarr`` is written as a Zarr store (a directory; the same
    groups and schema, chunked along ``draw`` by :data:`DRAW_CHUNK`); any other as
    netCDF-4 (HDF5, ``h5netcdf``) with the numeric variables chunked the same way and
    compressed (:data:`NETCDF_COMPRESSION`). Either is written as
    ``.<name>.kursk-da-tmp-<pid>-<random>`` beside the target and renamed into place, so
    the target is either the previous result set or the complete new one (a replaced
    store is parked as ``.<name>.kursk-da-old-...`` until the new one is in place); the
    temporary file or directory is removed on an error or an interrupt (SIGINT, SIGTERM
    in the CLI), and stale ones of dead processes are removed first. (An analysis run
    with ``out=`` writes its per-draw data while it runs instead, the same way:
    :class:`kursk_da.io.ResultSetWriter`.)

    Parameters
    ----------
    tree : xarray.DataTree, str or path
        The result set, or the path of one (read with :func:`load_result_set`: a copy,
        e.g. netCDF to Zarr).
    path : str or Path
        Target; its directory is created if missing. Checked before anything is written
        (:func:`check_result_target`).

    Returns
    -------
    Path
        The written file or store.

    Raises
    ------
    ArgumentError
        If ``path`` cannot be written, or the root attribute ``seed`` is not an integer
        from 0 to ``2**63 - 1`` (stored as a signed 64-bit integer).
    """
    target = check_result_target(path, "path")
    tree = as_result_set(tree, "tree")
    if "seed" in tree.attrs:
        check_seed(tree.attrs["seed"], "seed")
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    ensure_space(target, sum(node.to_dataset(inherit=False).nbytes for node in tree.subtree))
    if is_zarr_path(target):
        return _save_zarr(tree, target)
    tmp = make_temp_file(target)
    try:
        with storage_errors(target):
            tree.to_netcdf(tmp, engine="h5netcdf", encoding=_encoding(tree, zarr=False))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with storage_errors(target):
        return replace_target(tmp, target)


def replace_target(tmp: Path, target: Path) -> Path:
    """Move a complete temporary file or Zarr store ``tmp`` into place as ``target``.

    A file is synced and renamed over the target (``os.replace``). A store replaces an
    existing one through a parked ``.<name>.kursk-da-old-...`` directory (removed once
    the new store is in place; put back if the rename fails). On an error ``tmp`` is
    removed.
    """
    import shutil

    from kursk_da.io._atomic import temp_name

    if not tmp.is_dir():
        try:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return target
    old: Path | None = None
    try:
        if target.exists():
            old = temp_name(target, "old")
            os.rename(target, old)
        try:
            os.rename(tmp, target)
        except BaseException:
            if old is not None:
                os.rename(old, target)
                old = None
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def _save_zarr(tree: xr.DataTree, target: Path) -> Path:
    import shutil

    from kursk_da.io._atomic import make_temp_dir

    tmp = make_temp_dir(target)
    try:
        with storage_errors(target):
            tree.to_zarr(tmp, mode="w", encoding=_encoding(tree, zarr=True),
                         consolidated=True, zarr_format=2)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with storage_errors(target):
        return replace_target(tmp, target)


def as_result_set(obj: xr.DataTree | str | os.PathLike[str], name: str = "tree"
                  ) -> xr.DataTree:
    """A result set given as a DataTree or as the path of its file or store.

    Parameters
    ----------
    obj : xarray.DataTree, str or path
        A path is read with :func:`load_result_set`.
    name : str
        The argument's name, for the error.

    Returns
    -------
    xarray.DataTree

    Raises
    ------
    ArgumentError
        ``obj`` is neither (names ``name``).
    ResultFileError
        The path cannot be read as a result set.
    """
    if isinstance(obj, xr.DataTree):
        return obj
    if isinstance(obj, str | os.PathLike):
        return load_result_set(obj)
    from kursk_da.errors import ArgumentError
    from kursk_da.validation import fail

    fail(name, f"expected a result set (xarray.DataTree) or the path of one, got "
               f"{type(obj).__name__}", ArgumentError)
    raise AssertionError  # pragma: no cover - fail raises


def to_inference_data(tree: xr.DataTree | str | os.PathLike[str]) -> Any:
    """The groups of a result set as an ``arviz.InferenceData`` (netCDF or Zarr).

    ``az.from_netcdf(path)`` reads a netCDF result set as well; ArviZ's own Zarr reader
    (``az.from_zarr``) refuses the Zarr >= 3 that kursk_da writes with, so this goes
    through xarray (``InferenceData.from_datatree``) and reads both.

    Parameters
    ----------
    tree : xarray.DataTree, str or path
        A result set, or the path of its netCDF file or Zarr store.

    Returns
    -------
    arviz.InferenceData
        Every group of the result set (ArviZ's and kursk_da's), the root attributes.
    """
    import arviz as az

    return az.InferenceData.from_datatree(as_result_set(tree))


def validate_result_set(tree: xr.DataTree | str | os.PathLike[str],
                        source: str = "result set") -> None:
    """Check that a result set follows the result-set schema.

    Parameters
    ----------
    tree : xarray.DataTree, str or path
        A result set, or the path of its file or store (read with
        :func:`load_result_set`, which validates it).
    source : str
        What the error messages call the result set.

    Raises
    ------
    ResultFileError
        Naming the missing group, variable or attribute.
    """
    if not isinstance(tree, xr.DataTree):
        as_result_set(tree)  # load_result_set validates, naming the path
        return
    for key in _ROOT_ATTRS:
        if key not in tree.attrs:
            raise ResultFileError(f"{source}: missing root attribute {key!r}; not a kursk_da "
                                  "result set")
    found = str(tree.attrs["result_schema"])
    if found.split(".")[0] not in SUPPORTED_SCHEMAS:
        raise ResultFileError(f"{source}: result_schema {found!r} is not supported by this "
                              f"version of kursk_da (supported: {', '.join(SUPPORTED_SCHEMAS)})")
    if "spec_json" in tree.attrs:  # a corrupt stored spec is a corrupt file, for every command
        try:
            stored_spec_dict(tree)
        except ResultFileError as exc:
            raise ResultFileError(f"{source}: {str(exc).removeprefix('result set: ')}") from None
    for group, names in REQUIRED.items():
        if group not in tree.children:
            raise ResultFileError(f"{source}: missing group /{group}")
        ds = tree[group].dataset
        for name in names:
            if name not in ds:
                raise ResultFileError(f"{source}: missing variable /{group}/{name}")


def _dask_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("dask") is not None


def load_result_set(path: str | os.PathLike[str]) -> xr.DataTree:
    """Read a result set written by :func:`save_result_set` (netCDF file or Zarr store).

    With dask installed the result set is opened lazily
    (``xr.open_datatree(path, chunks={})``): variables of up to :data:`LAZY_ELEMENTS`
    elements are read into memory, larger ones (the per-draw data of big runs) stay
    dask arrays backed by the file, read on use. A result set without such variables
    is read whole and the file closed, as without dask.

    Raises
    ------
    ResultFileError
        If the file is missing, unreadable (corrupt, not netCDF or Zarr) or not a
        result set.
    """
    if not isinstance(path, str | os.PathLike) or not str(path):
        fail("path", f"expected the path of a result set, got {path!r}")
    p = Path(path)
    zarr = p.is_dir() and _is_zarr_store(p)
    if not p.is_file() and not zarr:
        raise ResultFileError(f"{p}: result file not found")
    kind = "Zarr" if zarr else "netCDF"
    engine = "zarr" if zarr else "h5netcdf"
    if zarr:
        check_zarr_chunks(p)
    try:
        if not _dask_available():
            with xr.open_datatree(p, engine=engine) as tree:
                loaded = tree.load()
        else:
            tree = xr.open_datatree(p, engine=engine, chunks={})
            big = False
            for node in tree.subtree:
                for var in node.dataset.variables.values():
                    if var.size <= LAZY_ELEMENTS:
                        var.load()
                    else:
                        big = True
            if big:
                loaded = tree
            else:
                loaded = tree.load()
                tree.close()
    except (OSError, ValueError, KeyError) as exc:
        raise ResultFileError(f"{p}: cannot read as a {kind} result set ({exc})") from None
    validate_result_set(loaded, str(p))
    check_finite(loaded, str(p))
    return loaded


FINITE_GROUPS = ("decision", "prior", "trajectories")
"""Groups whose numbers are never NaN in a result set kursk_da wrote: a NaN there (a
damaged or forged file, a missing Zarr chunk read as its fill value) is refused."""


def check_finite(tree: xr.DataTree, source: str = "result set") -> None:
    """Refuse NaN in the float variables of :data:`FINITE_GROUPS` held in memory.

    Variables left lazy by :func:`load_result_set` (more than :data:`LAZY_ELEMENTS`
    elements) are not read here (that would read the whole file); their Zarr chunks are
    checked by :func:`check_zarr_chunks`.

    Raises
    ------
    ResultFileError
        Naming the variable and the number of NaN values.
    """
    for group in FINITE_GROUPS:
        if group not in tree.children:
            continue
        for name, var in tree[group].dataset.data_vars.items():
            if var.dtype.kind != "f" or not isinstance(var.data, np.ndarray):
                continue
            bad = int(np.isnan(var.values).sum())
            if bad:
                raise ResultFileError(f"{source}: /{group}/{name} holds {bad} NaN value(s); "
                                      "the file is damaged (a result set has none there)")


def _zarr_chunk_names(meta: dict[str, Any]) -> list[str]:
    shape, chunks = meta["shape"], meta["chunks"]
    if any(n == 0 for n in shape):
        return []
    sep = meta.get("dimension_separator") or "."
    counts = [-(-n // c) for n, c in zip(shape, chunks, strict=True)]
    if not counts:
        return ["0"]
    return [sep.join(str(i) for i in idx) for idx in np.ndindex(*counts)]


def check_zarr_chunks(store: Path) -> None:
    """Refuse a Zarr result store (format 2) with a chunk file missing.

    Zarr reads a missing chunk as the array's fill value (NaN), silently; this checks,
    from the metadata and a listing of each array's folder (no data is read), that
    every chunk of the float arrays of :data:`FINITE_GROUPS` whose fill value is NaN is
    there. (Other arrays may legitimately omit a chunk that holds only the fill value.)

    Raises
    ------
    ResultFileError
        Naming the array and a missing chunk.
    """
    for group in FINITE_GROUPS:
        gdir = store / group
        if not gdir.is_dir():
            continue
        for entry in sorted(gdir.iterdir()):
            try:
                meta = json.loads((entry / ".zarray").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # not an array of format 2
            if not isinstance(meta, dict) or meta.get("fill_value") != "NaN":
                continue
            try:
                names = _zarr_chunk_names(meta)
            except (KeyError, TypeError, ValueError):
                raise ResultFileError(f"{store}: /{group}/{entry.name}: unreadable Zarr "
                                      "metadata (.zarray)") from None
            for name in names:
                if not (entry / name).is_file():
                    raise ResultFileError(
                        f"{store}: /{group}/{entry.name}: chunk {name!r} is missing (it would "
                        "read as NaN); the store is damaged or incomplete")


def with_stored_draws(tree: xr.DataTree, path: str | Path) -> xr.DataTree:
    """``tree`` with the per-draw variables of the result set written to ``path``.

    ``tree`` is the result set an analysis built in memory without its per-draw variables
    (:func:`build_result_set` with ``per_draw=False``) and ``path`` the file or store the
    streaming writer (:class:`kursk_da.io.ResultSetWriter`) wrote from both. The variables
    over ``draw`` of the groups ``/prior``, ``/decision`` and ``/triggers`` are taken from
    ``path`` opened lazily (dask arrays read on use, when dask is installed; read whole
    otherwise), everything else from ``tree``: nothing written is read back to return it.

    Raises
    ------
    ResultFileError
        If ``path`` cannot be opened.
    """
    p = Path(path)
    zarr = p.is_dir() and _is_zarr_store(p)
    engine = "zarr" if zarr else "h5netcdf"
    lazy = _dask_available()
    try:
        opened = xr.open_datatree(p, engine=engine, chunks={} if lazy else None)
    except (OSError, ValueError, KeyError) as exc:
        raise ResultFileError(f"{p}: cannot read the written result set ({exc})") from None
    groups = {node.path: node.to_dataset(inherit=False) for node in tree.subtree}
    for path_ in ("/prior", "/decision", "/triggers"):
        if path_ not in groups or path_.strip("/") not in opened.children:
            continue
        disk = opened.children[path_.strip("/")].to_dataset(inherit=False)
        new = {k: disk[k] for k in disk.data_vars if DRAW in disk[k].dims}
        if not lazy:
            new = {k: v.load() for k, v in new.items()}
        if new:
            groups[path_] = groups[path_].assign(new)
    if not lazy:
        opened.close()
    out = xr.DataTree.from_dict(groups)
    out.attrs = dict(tree.attrs)
    return out


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _dates(obj: Any, key: str = "") -> Any:
    if key in ("rows", "daily_rows"):
        return obj  # the rows of an observations file: strings, as read from the CSV
    if isinstance(obj, dict):
        return {k: _dates(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_dates(v, key) for v in obj]
    if key in ("date", "start") and isinstance(obj, str) and _DATE.match(obj):
        return dt.date.fromisoformat(obj)
    return obj


def _legacy_spec_dict(tree: xr.DataTree, text: str) -> dict[str, Any]:
    """The spec of a schema-1 file: sorted keys and dates as plain strings, repaired."""
    raw: dict[str, Any] = _dates(json.loads(text))  # sorted keys: restore the run's orders
    dec = tree.children.get("decision")
    if dec is not None and OPTION in dec.coords:
        order = [str(o) for o in dec.coords[OPTION].values]
        raw["options"] = {o: raw["options"][o] for o in order if o in raw["options"]}
    if dec is not None and "inputs" in dec.dataset:
        # the propagated input matrix gives the run's column order
        order = [str(p) for p in dec.dataset["inputs"][PARAMETER].values]
        params = raw.get("parameters", {})
        raw["parameters"] = {**{p: params[p] for p in order if p in params}, **params}
    elif "prior" in tree.children:
        prior = [str(v) for v in tree["prior"].data_vars]
        params = raw.get("parameters", {})
        raw["parameters"] = {**{p: params[p] for p in prior if p in params}, **params}
    return raw


_DATE_TAG = "$date"


def _encode(obj: Any) -> Any:
    if isinstance(obj, dt.datetime):
        raise TypeError(f"a spec holds dates, not date-times: {obj!r}")
    if isinstance(obj, dt.date):
        return {_DATE_TAG: obj.isoformat()}
    raise TypeError(f"cannot store {type(obj).__name__} in spec_json: {obj!r}")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _DATE_TAG in obj:
        return dt.date.fromisoformat(obj[_DATE_TAG])
    return obj


def spec_to_json(spec: Spec) -> str:
    """The spec as JSON for the root attribute ``spec_json``.

    Tables keep their order (the order of options and parameters is the order of the
    arrays); TOML dates become ``{"$date": "YYYY-MM-DD"}``. :func:`spec_from_tree`
    reads it back without repairs; the hash (``spec_sha256``) uses a canonical form.
    """
    return json.dumps(spec.raw, default=_encode)


def stored_spec_dict(tree: xr.DataTree | xr.Dataset) -> dict[str, Any]:
    """The spec stored in the root attribute ``spec_json`` as nested dicts (dates as
    :class:`datetime.date`), not validated; any schema version.

    Raises
    ------
    ResultFileError
        No ``spec_json``, or one that is not valid JSON.
    """
    text = tree.attrs.get("spec_json")
    if not text:
        raise ResultFileError("result set: no spec_json attribute; cannot rebuild the spec")
    try:
        if str(tree.attrs.get("result_schema", "1")) == "1":
            if not isinstance(tree, xr.DataTree):
                raise ResultFileError("result set: a schema-1 spec needs the whole tree")
            return _legacy_spec_dict(tree, text)
        raw = json.loads(text, object_hook=_decode)
    except (ValueError, TypeError) as exc:
        raise ResultFileError(f"result set: spec_json is not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise ResultFileError("result set: spec_json is not a JSON object")
    return raw


def spec_from_tree(tree: xr.DataTree) -> Spec:
    """The spec stored in a result set's root attribute ``spec_json``, validated.

    Raises
    ------
    ResultFileError
        No ``spec_json``, or one that is not valid JSON or not a valid spec.
    """
    raw = stored_spec_dict(tree)
    try:
        return spec_from_dict(raw, path=tree.attrs.get("spec_path") or None)
    except SpecError as exc:
        raise ResultFileError(f"result set: the stored spec is invalid ({exc})") from None
