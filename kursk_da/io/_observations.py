"""The one reader of a result set's observations (claims) for plots, report and notebooks.

:func:`observations_frame` lists every observation the calibration conditioned on (and,
with a cutoff, the withheld ones it forecast), one row each, from the result set's
``/observed_data`` group: its ``y`` (and ``y_withheld``) values and their per-observation
coordinates (date, quantity, claimant family, ...). What the group does not hold (the
stated interval or bound, its level, units, source) comes from the stored spec's
observations (parsed by the spec's own parser, as :func:`kursk_da.io.spec_from_tree` does,
without fitting the priors), matched by name. A result set without
``/observed_data`` (a prior analysis) lists the spec's observations, all marked unused.

Everything that shows observations (fan charts, ``ppc.png``, the report's table, the
brief's count, the notebooks) reads them here, so the spec's two forms (inline
``[[observations]]`` and ``[observations] file = ...``) behave the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from kursk_da.dims import OBSERVATION, WITHHELD
from kursk_da.errors import ResultFileError

__all__ = ["OBSERVATION_COLUMNS", "observations_frame"]

OBSERVATION_COLUMNS = ("date", "quantity", "units", "value", "low", "high", "censoring",
                       "level", "claimant", "family", "reported_on", "source", "used")
"""Columns of :func:`observations_frame` (index: the observation's name)."""

_OBSERVED = "/observed_data"


def _spec_observations(tree: xr.DataTree) -> dict[str, Any]:
    """The stored spec's observations by name (parsed as the spec does; {} when none).

    Only the ``observations`` entry of the stored spec is parsed (not the whole spec, whose
    elicited priors take seconds to fit), with the spec's own parser.
    """
    import datetime as dt

    from kursk_da.errors import SpecError
    from kursk_da.io._resultset import stored_spec_dict
    from kursk_da.spec._observations import parse_observations

    if not tree.attrs.get("spec_json"):
        return {}
    try:
        raw = stored_spec_dict(tree)
        date = raw.get("decision", {}).get("date")
        if not isinstance(date, dt.date):
            date = dt.date.fromisoformat(str(date)[:10])
        return {o.name: o for o in parse_observations(raw.get("observations"), date)}
    except (ResultFileError, SpecError, TypeError, ValueError, AttributeError):
        return {}


def _bounds(o: Any, value: float) -> tuple[float, float, str, float]:
    """(low, high, censoring, level) of a spec observation (nan where none)."""
    nan = float("nan")
    if o is None:
        return nan, nan, "none", nan
    if o.low is not None or o.high is not None:  # a claim: bound(s) as stated
        low = float(o.low) if o.low is not None else nan
        high = float(o.high) if o.high is not None else nan
        return low, high, o.censoring, nan
    if o.interval is not None:
        return float(o.interval[0]), float(o.interval[1]), "interval", float(o.level or 0.9)
    if o.likelihood == "normal" and o.scale > 0:  # value -/+ 1.645 sd: a 90% interval
        return value - 1.645 * o.scale, value + 1.645 * o.scale, "interval", 0.9
    return nan, nan, "none", nan


def _coord(da: xr.DataArray, dim: str, name: str, i: int) -> Any:
    key = f"{dim}_{name}"
    return da[key].values[i] if key in da.coords else None


def _rows(da: xr.DataArray, dim: str, spec_obs: dict[str, Any], used: bool
          ) -> list[dict[str, Any]]:
    out = []
    for i, name in enumerate(str(x) for x in da[dim].values):
        o = spec_obs.get(name)
        value = float(da.values[i])
        low, high, censoring, level = _bounds(o, value)
        date = _coord(da, dim, "date", i)
        quantity = _coord(da, dim, "quantity", i)
        family = _coord(da, dim, "claimant_family", i)
        claimant = _coord(da, dim, "claimant", i)
        source = _coord(da, dim, "source", i)
        reported = _coord(da, dim, "reported_on", i)
        out.append({
            OBSERVATION: name,
            "date": np.datetime64(str(date if date is not None
                                      else (o.date if o is not None else "NaT"))[:10]),
            "quantity": str(quantity if quantity is not None
                            else (o.quantity if o is not None else "")),
            "units": o.units if o is not None else "",
            "value": value, "low": low, "high": high, "censoring": censoring, "level": level,
            "claimant": str(claimant if claimant is not None
                            else (o.claimant if o is not None else "")),
            "family": str(family if family is not None else (o.family if o is not None
                                                              else "")),
            "reported_on": np.datetime64(str(reported)[:10]) if reported is not None else (
                np.datetime64(o.known_on.isoformat()) if o is not None else
                np.datetime64("NaT")),
            "source": " ".join(str(source if source is not None
                                   else (o.source if o is not None else "")).split()),
            "used": used,
        })
    return out


def observations_frame(tree: xr.DataTree) -> pd.DataFrame:
    """Every observation of a result set, one row each (the one reader of observations).

    Parameters
    ----------
    tree : xarray.DataTree
        A result set (in memory or from :func:`kursk_da.io.load_result_set`).

    Returns
    -------
    pandas.DataFrame
        Index ``observation`` (the name); columns :data:`OBSERVATION_COLUMNS`: ``date``
        (datetime64[D], the day the figure describes), ``quantity`` (catalogue observable),
        ``units``, ``value`` (in ``units``), ``low``/``high`` (the stated interval, or the
        bound of an "at least" (``low``) or "up to" (``high``) claim, in ``units``; NaN where
        none; an inline ``sd`` gives value -/+ 1.645 sd), ``censoring`` (``"none"``,
        ``"lower"``, ``"upper"`` or ``"interval"``), ``level`` (probability of a stated
        interval, 1; NaN for claims), ``claimant``, ``family`` (claimant family; empty for
        inline observations), ``reported_on`` (datetime64[D]), ``source``, ``used`` (bool:
        in the calibration's ``y``; False for ``y_withheld`` and in a prior analysis).
        Rows in the order of ``/observed_data`` (``y`` then ``y_withheld``), else of the
        spec. Empty (with these columns) when the result set has no observations.
    """
    spec_obs = _spec_observations(tree)
    rows: list[dict[str, Any]] = []
    if _OBSERVED in tree.groups:
        ds = tree[_OBSERVED].to_dataset()
        for var, dim, used in (("y", OBSERVATION, True), ("y_withheld", WITHHELD, False)):
            if var in ds and ds[var].dims == (dim,):
                rows += _rows(ds[var], dim, spec_obs, used)
    if not rows and spec_obs:
        names = list(spec_obs)
        fake = xr.DataArray([spec_obs[n].value for n in names], dims=(OBSERVATION,),
                            coords={OBSERVATION: names})
        rows = _rows(fake, OBSERVATION, spec_obs, False)
    if not rows:
        return pd.DataFrame(columns=list(OBSERVATION_COLUMNS),
                            index=pd.Index([], name=OBSERVATION))
    return pd.DataFrame(rows).set_index(OBSERVATION)[list(OBSERVATION_COLUMNS)]
