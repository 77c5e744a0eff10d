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
    ``option``: ``expected_value``, ``expected_value_mcse``, ``prob_best``,
    ``expected_regret``, ``cvar``; scalars ``evpi``, ``evpi_mcse``.
``/trajectories``
    Over (option, date), from all draws: ``retention_probability`` (P[area held >=
    threshold]) and ``area_held_mean``. Over (option, draw, date), for the first
    ``decision.trajectories`` draws only (``draw`` coordinates say which):
    ``area_held``, ``ukrainian_forces``, ``russian_forces``, ``ua_casualties``,
    ``ru_casualties`` (cumulative since 6 Aug 2024), ``donbas_area_lost``,
    ``ru_arrivals``. Dates are calendar dates (``date``), day 0 = 2024-08-06.

Posterior analysis (``analysis = "posterior"``, :mod:`kursk_da.calibration`)
    Root attrs add ``converged`` (``"yes"``/``"no"``), ``calibration_sampler``,
    ``calibration_draws``, ``calibration_tune``, ``calibration_chains``,
    ``calibration_compile_seconds``, ``calibration_sampling_seconds``,
    ``calibration_cutoff``, ``draws_per_posterior_draw``. ``/prior`` holds prior draws
    of every input (one chain) plus ``theta`` (sampled parameters) and ``mu`` (their
    predicted observations); the ArviZ groups ``/posterior`` (``theta`` over
    ``parameter``, ``mu`` over ``observation``, one variable per sampled parameter),
    ``/posterior_predictive`` (``y``; ``y_withheld`` with a cutoff), ``/observed_data``,
    ``/constant_data`` (measurement, process and total scales) and ``/sample_stats``
    (``chain``, ``draw``) are added, with ``/diagnostics`` (R-hat, ESS, MCSE,
    contraction over ``parameter``; divergences, tree-depth saturation, E-BFMI over
    ``chain``; posterior predictive check over ``observation``; prior sensitivity and
    forecast scores in attrs). ``/decision`` gains ``inputs`` (draw, parameter), the
    engine input matrix.

Writes are atomic: the file is written under a temporary name in the target
directory and renamed into place, so an error or a kill never leaves a
half-written result file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from kursk_da.dims import ATTRIBUTE, CHAIN, DATE, DRAW, OPTION, VALUE_UNITS
from kursk_da.dynamics.catalogue import ATTRIBUTE_NAMES, TRAJECTORIES
from kursk_da.errors import ResultFileError
from kursk_da.spec.schema import Spec, spec_from_dict

if TYPE_CHECKING:
    from kursk_da.engine.run import EngineOutput

__all__ = [
    "RESULT_SCHEMA",
    "REQUIRED",
    "build_result_set",
    "save_result_set",
    "load_result_set",
    "validate_result_set",
    "spec_from_tree",
]

RESULT_SCHEMA = "1"

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


def _version() -> str:
    from kursk_da import __version__

    return __version__


def _prior_group(spec: Spec, inputs: np.ndarray) -> xr.Dataset:
    draws = np.arange(inputs.shape[0])
    data = {}
    for j, (name, par) in enumerate(spec.inputs.items()):
        data[name] = xr.DataArray(
            inputs[None, :, j], dims=(CHAIN, DRAW), coords={CHAIN: [0], DRAW: draws},
            attrs={"units": par.units, "source": par.source, "group": par.group,
                   "distribution": par.dist.describe()},
        )
    return xr.Dataset(data, attrs={"description": "Monte Carlo draws of the uncertain inputs"})


def _trajectory_group(spec: Spec, out: EngineOutput) -> xr.Dataset:
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
    tcoords = {OPTION: options, DRAW: np.arange(tr.shape[0]), DATE: dates}
    for name, (k, long_name, units) in _TRAJ_VARS.items():
        ds[name] = xr.DataArray(np.moveaxis(tr[..., k], 0, 1), dims=(OPTION, DRAW, DATE),
                                coords=tcoords, attrs={"long_name": long_name, "units": units})
    ds.attrs["description"] = (
        f"daily trajectories of the first {tr.shape[0]} draws (state at the end of each day); "
        "retention_probability and area_held_mean use all draws"
    )
    return ds


def build_result_set(
    spec: Spec,
    out: EngineOutput,
    decision: xr.Dataset,
    *,
    analysis: str = "prior",
    groups: Mapping[str, xr.Dataset] | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> xr.DataTree:
    """Assemble the DataTree of an analysis (see the module docstring for the schema).

    Parameters
    ----------
    spec : Spec
    out : EngineOutput
    decision : xarray.Dataset
        From :func:`kursk_da.decision.summary.decision_summary`.
    analysis : str
        ``"prior"`` or ``"posterior"``.
    groups : mapping of str to Dataset, optional
        Further groups (e.g. the ArviZ groups of a calibration); a ``prior`` entry
        replaces the prior group built from ``out.inputs``.
    attrs : mapping, optional
        Further root attributes (e.g. ``converged``).

    Returns
    -------
    xarray.DataTree
    """
    dec = decision.copy()
    dec["attributes"] = xr.DataArray(
        out.attributes, dims=(DRAW, OPTION, ATTRIBUTE),
        coords={DRAW: dec[DRAW].values, OPTION: list(spec.option_names),
                ATTRIBUTE: list(ATTRIBUTE_NAMES)},
        attrs={"long_name": "value-model attributes over the decision window",
               "units": json.dumps({a: spec.weights[a].units.split("/", 1)[1]
                                    for a in ATTRIBUTE_NAMES})},
    )
    root = xr.Dataset(attrs={
        "kursk_da_version": _version(),
        "result_schema": RESULT_SCHEMA,
        "spec_name": spec.name,
        "spec_sha256": spec.sha256,
        "spec_path": spec.path or "",
        "spec_json": json.dumps(spec.raw, sort_keys=True, default=str),
        "seed": int(out.seed),
        "draws": int(out.n_draws),
        "chunk_size": int(out.chunk_size),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "decision_date": spec.decision_date.isoformat(),
        "horizon_days": int(spec.horizon_days),
        "retention_threshold_km2": float(spec.retention_threshold),
        "cvar_alpha": float(spec.cvar_alpha),
        "value_units": VALUE_UNITS,
        "analysis": analysis,
    })
    root.attrs.update(dict(attrs or {}))
    tree = {
        "/": root,
        "/prior": _prior_group(spec, out.inputs),
        "/decision": dec,
        "/trajectories": _trajectory_group(spec, out),
    }
    tree.update({f"/{name}": ds for name, ds in (groups or {}).items()})
    return xr.DataTree.from_dict(tree)


def save_result_set(tree: xr.DataTree, path: str | Path) -> Path:
    """Write a result set to netCDF atomically.

    Parameters
    ----------
    tree : xarray.DataTree
    path : str or Path
        Target file; its directory is created if missing.

    Returns
    -------
    Path
        The written file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        tree.to_netcdf(tmp, engine="h5netcdf")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def validate_result_set(tree: xr.DataTree, source: str = "result set") -> None:
    """Check that a DataTree follows the result-set schema.

    Raises
    ------
    ResultFileError
        Naming the missing group, variable or attribute.
    """
    for key in _ROOT_ATTRS:
        if key not in tree.attrs:
            raise ResultFileError(f"{source}: missing root attribute {key!r}; not a kursk_da "
                                  "result set")
    for group, names in REQUIRED.items():
        if group not in tree.children:
            raise ResultFileError(f"{source}: missing group /{group}")
        ds = tree[group].dataset
        for name in names:
            if name not in ds:
                raise ResultFileError(f"{source}: missing variable /{group}/{name}")


def load_result_set(path: str | Path) -> xr.DataTree:
    """Read a result set written by :func:`save_result_set` into memory.

    Raises
    ------
    ResultFileError
        If the file is missing, unreadable (corrupt, not netCDF) or not a result set.
    """
    p = Path(path)
    if not p.is_file():
        raise ResultFileError(f"{p}: result file not found")
    try:
        with xr.open_datatree(p, engine="h5netcdf") as tree:
            loaded = tree.load()
    except (OSError, ValueError, KeyError) as exc:
        raise ResultFileError(f"{p}: cannot read as a netCDF result set ({exc})") from None
    validate_result_set(loaded, str(p))
    return loaded


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _dates(obj: Any, key: str = "") -> Any:
    if isinstance(obj, dict):
        return {k: _dates(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_dates(v, key) for v in obj]
    if key in ("date", "start") and isinstance(obj, str) and _DATE.match(obj):
        return dt.date.fromisoformat(obj)
    return obj


def spec_from_tree(tree: xr.DataTree) -> Spec:
    """The spec stored in a result set's ``spec_json`` attribute (dates restored)."""
    text = tree.attrs.get("spec_json")
    if not text:
        raise ResultFileError("result set: no spec_json attribute; cannot rebuild the spec")
    raw = _dates(json.loads(text))  # spec_json has sorted keys: restore the run's orders
    if "decision" in tree.children and OPTION in tree["decision"].coords:
        order = [str(o) for o in tree["decision"][OPTION].values]
        raw["options"] = {o: raw["options"][o] for o in order if o in raw["options"]}
    if "decision" in tree.children and "inputs" in tree["decision"].dataset:
        # the propagated input matrix gives the run's column order
        order = [str(p) for p in tree["decision"]["inputs"]["parameter"].values]
        params = raw.get("parameters", {})
        raw["parameters"] = {**{p: params[p] for p in order if p in params}, **params}
    elif "prior" in tree.children:
        prior = [str(v) for v in tree["prior"].data_vars]
        params = raw.get("parameters", {})
        raw["parameters"] = {**{p: params[p] for p in prior if p in params}, **params}
    return spec_from_dict(raw, path=tree.attrs.get("spec_path") or None)
