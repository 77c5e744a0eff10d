"""The ``/voi`` group of a result set: computed from its draws, and its tables.

:func:`voi_group` computes what ``kursk-da voi`` stores as ``/voi`` (the ranked EVPPI
of every input and group, optionally the EVSI of a noisy measurement);
:func:`evppi_frame` and :func:`group_evppi_frame` are the EVPPI rankings as data
frames, printed by the CLI and shown in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pandas as pd
import xarray as xr

from kursk_da.dims import DRAW, GROUP, PARAMETER, VALUE_UNITS
from kursk_da.io._draws import draws_from_tree
from kursk_da.stats import evsi_lognormal
from kursk_da.validation import check_int, check_real, fail
from kursk_da.voi._campaign import campaign_evppi_from_tree

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["voi_group", "evppi_frame", "group_evppi_frame", "check_evsi_arguments"]


def check_evsi_arguments(names: Sequence[str], evsi: str | None, error: float = 0.2,
                         n_obs: int = 1) -> None:
    """Refuse a bad EVSI request before any computing (issue 23).

    Parameters
    ----------
    names : sequence of str
        The inputs that may be measured (the spec's ``input_names``).
    evsi : str, optional
        The measured input (None: no EVSI, nothing checked).
    error : float
        Relative (lognormal) error of one measurement: sd of its log (1), >= 0.
    n_obs : int
        Measurements averaged, >= 1.

    Raises
    ------
    ArgumentError
        Naming ``evsi``, ``error`` or ``n_obs``.
    """
    if evsi is None:
        return
    if not isinstance(evsi, str) or evsi not in names:
        fail("evsi", f"unknown input {evsi!r}; expected one of {', '.join(names)}")
    check_real(error, "error", minimum=0.0)
    check_int(n_obs, "n_obs", minimum=1)


def voi_group(tree: xr.DataTree, *, seed: int = 0, gp_max_draws: int = 20_000,
              n_jobs: int = 1, evsi: str | None = None, error: float = 0.2,
              n_obs: int = 1, progress: Callable[[int, int], object] | None = None,
              client: Client | None = None) -> xr.Dataset:
    """The ``/voi`` Dataset of a result set.

    Parameters
    ----------
    tree : xarray.DataTree
        A result set (prior or posterior; see
        :func:`kursk_da.voi._campaign.draws_from_tree`).
    seed : int
        Seed of the EVPPI standard errors and of the EVSI's simulated data.
    gp_max_draws : int
        Draws used by the Gaussian-process smoother (groups of more than 4 inputs).
    n_jobs : int
        Threads over inputs (the results do not depend on it).
    evsi : str, optional
        Also the EVSI of ``n_obs`` measurements of this input.
    error : float
        Relative (lognormal) error of one measurement: sd of its log (1).
    n_obs : int
        Measurements averaged.
    progress : callable, optional
        Called with (tasks done, tasks) after each EVPPI task (one input or group).
    client : distributed.Client, optional
        Run the EVPPI tasks on this dask cluster (the same numbers).

    Returns
    -------
    xarray.Dataset
        :func:`kursk_da.voi._campaign.campaign_evppi` of the draws (dkm2); with
        ``evsi``, also the scalars ``evsi`` and ``evsi_se`` (dkm2; attributes
        ``parameter``, ``error``, ``n_obs``).
    """
    if evsi is not None:  # before the EVPPI tasks, which take minutes
        check_evsi_arguments(draws_from_tree(tree).names, evsi, error, n_obs)
    ds = campaign_evppi_from_tree(tree, rng=seed, gp_max_draws=gp_max_draws, n_jobs=n_jobs,
                                  progress=progress, client=client)
    if evsi:
        d = draws_from_tree(tree)
        inputs = xr.Dataset({n: (DRAW, d.inputs[:, i]) for i, n in enumerate(d.names)})
        res = evsi_lognormal(d.values, inputs, evsi, error=error, n_obs=n_obs, rng=seed)
        ds["evsi"] = xr.DataArray(res.value, attrs={
            "long_name": f"EVSI of {n_obs} measurement(s) of {evsi} with "
                         f"{error:g} lognormal error", "units": VALUE_UNITS,
            "parameter": evsi, "error": error, "n_obs": n_obs})
        ds["evsi_se"] = xr.DataArray(res.se, attrs={"units": VALUE_UNITS})
    return ds


def _units(voi: xr.Dataset) -> str:
    return str(voi.attrs.get("units", VALUE_UNITS))


def evppi_frame(voi: xr.Dataset) -> pd.DataFrame:
    """EVPPI of every input, highest first.

    Parameters
    ----------
    voi : xarray.Dataset
        A ``/voi`` group (:func:`voi_group`).

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``EVPPI (U)``, ``SE (U)`` (U: the value units,
        dkm2) and, when stored, ``group``. Not rounded; ties keep the stored order.
    """
    units = _units(voi)
    frame = pd.DataFrame({f"EVPPI ({units})": voi["evppi"].to_series(),
                          f"SE ({units})": voi["evppi_se"].to_series()})
    if "parameter_group" in voi:
        frame[GROUP] = voi["parameter_group"].to_series()
    frame.index.name = PARAMETER
    return frame.sort_values(frame.columns[0], ascending=False, kind="stable")


def group_evppi_frame(voi: xr.Dataset) -> pd.DataFrame:
    """EVPPI of every input group, highest first.

    Parameters
    ----------
    voi : xarray.Dataset
        A ``/voi`` group (:func:`voi_group`).

    Returns
    -------
    pandas.DataFrame
        Index ``group``; columns ``EVPPI (U)``, ``SE (U)`` (U: the value units, dkm2)
        and, when stored, ``smoother`` (the regression method) and ``inputs`` (the
        number of inputs in the group). Not rounded; ties keep the stored order.
    """
    units = _units(voi)
    frame = pd.DataFrame({f"EVPPI ({units})": voi["group_evppi"].to_series(),
                          f"SE ({units})": voi["group_evppi_se"].to_series()})
    if "group_method" in voi:
        frame["smoother"] = voi["group_method"].to_series()
    if "group_size" in voi:
        frame["inputs"] = voi["group_size"].to_series()
    frame.index.name = GROUP
    return frame.sort_values(frame.columns[0], ascending=False, kind="stable")
