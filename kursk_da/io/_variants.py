"""The ``/variants`` group of a result set: competing model structures.

Built by :func:`kursk_da.sensitivity.compare_variants` (schema in ``docs/resultset.md``)
and added to a result set by :func:`add_variants_group`, which replaces an existing
``/variants`` and keeps every other group.
"""

from __future__ import annotations

import xarray as xr

from kursk_da.dims import DECISION_MODEL, VARIANT

__all__ = ["add_variants_group", "VARIANTS_GROUP"]

VARIANTS_GROUP = "variants"
"""Name of the group (``/variants``)."""


def add_variants_group(tree: xr.DataTree, variants: xr.Dataset) -> xr.DataTree:
    """Return a copy of ``tree`` with ``/variants`` set to ``variants``.

    Parameters
    ----------
    tree : xarray.DataTree
        A result set.
    variants : xarray.Dataset
        The comparison (:func:`kursk_da.sensitivity.compare_variants`): it must have the
        dims ``variant`` and ``decision_model``.

    Returns
    -------
    xarray.DataTree
        A new tree; the other groups are kept.

    Raises
    ------
    ValueError
        ``variants`` is not a variants comparison.
    """
    missing = [d for d in (VARIANT, DECISION_MODEL) if d not in variants.dims]
    if missing:
        raise ValueError(f"variants: expected a Dataset with the dims {VARIANT!r} and "
                         f"{DECISION_MODEL!r}, missing {missing}")
    nodes = {node.path: node.to_dataset(inherit=False) for node in tree.subtree}
    nodes = {k: v for k, v in nodes.items() if not k.startswith(f"/{VARIANTS_GROUP}/")}
    nodes[f"/{VARIANTS_GROUP}"] = variants
    return xr.DataTree.from_dict(nodes)
