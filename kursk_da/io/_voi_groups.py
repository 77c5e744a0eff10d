"""Value-of-information and sensitivity groups of the result set.

Layout (added to a result set by :func:`add_voi_groups`; every group optional):

``/voi``
    :func:`kursk_da.voi._campaign.campaign_evppi`: EVPPI over ``parameter`` and
    ``group`` (ranked), ``evpi``.
``/sensitivity/tornado``, ``/sensitivity/sobol``, ``/sensitivity/main_effects``
    :func:`kursk_da.sensitivity._tornado.tornado`,
    :func:`kursk_da.sensitivity._campaign.campaign_sobol` and
    :func:`kursk_da.sensitivity._main_effects.campaign_main_effects`.
``/scenarios/summary``, ``/scenarios/acceptability``, ``/scenarios/simplex``, ``/scenarios/risk``
    :mod:`kursk_da.sensitivity._robustness`.

Sub-groups are nested DataTree nodes because their ``parameter`` coordinates
differ (ranked vs spec order).  ``xarray.open_datatree`` and ArviZ read the file.
"""

from __future__ import annotations

from collections.abc import Mapping

import xarray as xr

__all__ = ["add_voi_groups", "VOI_GROUPS"]

VOI_GROUPS = ("voi", "sensitivity", "scenarios")
"""Top-level groups written by :func:`add_voi_groups`."""


def add_voi_groups(tree: xr.DataTree, *, voi: xr.Dataset | None = None,
                   sensitivity: Mapping[str, xr.Dataset] | None = None,
                   scenarios: Mapping[str, xr.Dataset] | None = None) -> xr.DataTree:
    """Return a copy of ``tree`` with the given VOI / sensitivity / scenario results.

    Parameters
    ----------
    tree : xarray.DataTree
        A result set (:func:`kursk_da.analyze`).
    voi : xarray.Dataset, optional
        Stored as ``/voi`` (replacing an existing one).
    sensitivity : mapping of str to Dataset, optional
        E.g. ``{"tornado": ..., "sobol": ...}``, stored as ``/sensitivity/<key>``.
    scenarios : mapping of str to Dataset, optional
        E.g. ``{"summary": ..., "acceptability": ..., "simplex": ..., "risk": ...}``,
        stored as ``/scenarios/<key>``.

    Returns
    -------
    xarray.DataTree
        A new tree; sub-groups not given are kept from ``tree``.
    """
    nodes = {node.path: node.to_dataset(inherit=False) for node in tree.subtree}
    if voi is not None:
        nodes["/voi"] = voi
    for top, parts in (("sensitivity", sensitivity), ("scenarios", scenarios)):
        if parts:
            nodes.setdefault(f"/{top}", xr.Dataset())
            for key, ds in parts.items():
                if not isinstance(key, str) or not key.isidentifier():
                    raise ValueError(f"{top}: expected identifier keys, got {key!r}")
                nodes[f"/{top}/{key}"] = ds
    return xr.DataTree.from_dict(nodes)
