"""What each option's expected value is made of, and the labels of the inputs.

The value of an option in a draw is ``v = sum_k w_k a_k`` (value weight times attribute,
docs/model.md "Value model"), so its expected value is the sum over the attributes of
``E[w_k a_k]``: :func:`value_breakdown` computes these contributions from
``/decision/attributes`` and each draw's weights (the draws of the result set,
:func:`kursk_da.io.draws_from_tree`), each with its Monte Carlo standard error under the
sampling design of ``/decision``. :func:`input_label` names an input as the catalogue does
(with its units), for the report's text and tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from kursk_da.decision import _metrics as metrics
from kursk_da.dims import ATTRIBUTE, DRAW, OPTION, VALUE_UNITS
from kursk_da.dynamics.catalogue import ATTRIBUTES, PARAMETERS
from kursk_da.plots._common import spec_dict

__all__ = ["UNIT_TEXT", "design", "value_breakdown", "breakdown_display", "negative_text",
           "input_label", "input_units"]

UNIT_TEXT = (f"{VALUE_UNITS} = Donbas-equivalent km²: losing one km² of Donbas ground counts "
             "-1 and every other outcome is converted at its value weight; 0 is an option "
             "that changes nothing in the decision window (no Kursk ground held, no extra "
             "Donbas ground lost, no casualties, no strikes); higher is better")
"""The value unit and its zero point, as the report states them where first used."""

_ATTR = {q.name: q for q in ATTRIBUTES}
_PARAM = {q.name: q for q in PARAMETERS}
_WEIGHT = "weight_"



def design(tree: xr.DataTree, n_rows: int) -> tuple[tuple[int, int] | None, int]:
    """The sampling design of ``/decision``: ``(chains, per_draw)`` for :func:`mean_mcse`.

    A posterior analysis whose root attributes ``calibration_chains``,
    ``calibration_draws`` and ``draws_per_posterior_draw`` account for the ``n_rows``
    rows gives ``((chains, draws), per_draw)``; anything else independent rows
    ``(None, 1)``.
    """
    a = tree.attrs
    if a.get("analysis") != "posterior":
        return None, 1
    try:
        chains, draws = int(a["calibration_chains"]), int(a["calibration_draws"])
        per_draw = int(a.get("draws_per_posterior_draw", 1))
    except (KeyError, TypeError, ValueError):
        return None, 1
    if chains * draws * per_draw != n_rows or chains < 1 or draws < 4:
        return None, 1
    return (chains, draws), per_draw


def input_label(name: str) -> str:
    """The catalogue's label of an input (``weight of <attribute>`` for a value weight)."""
    if name in _PARAM:
        return _PARAM[name].label
    if name.startswith(_WEIGHT) and name[len(_WEIGHT):] in _ATTR:
        return f"weight of {_ATTR[name[len(_WEIGHT):]].label}"
    return name


def input_units(tree: xr.DataTree, name: str) -> str:
    """Units of an input: the stored spec's entry, else the catalogue's ('' if unknown)."""
    spec = spec_dict(tree)
    raw: dict[str, Any] = {**spec.get("parameters", {}),
                           **{f"{_WEIGHT}{k}": v for k, v in
                              spec.get("value", {}).get("weights", {}).items()}}
    entry = raw.get(name)
    if isinstance(entry, dict) and entry.get("units"):
        return str(entry["units"])
    if name in _PARAM:
        return _PARAM[name].units
    return ""


def value_breakdown(tree: xr.DataTree) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Contribution of each attribute to each option's expected value, and its MCSE.

    Parameters
    ----------
    tree : xarray.DataTree
        A result set with ``/decision/attributes`` and per-draw inputs (``/decision/inputs``
        or ``/prior``/``/posterior``), or fixed weights in its stored spec.

    Returns
    -------
    (mean, mcse) : pair of pandas.DataFrame
        Index ``option`` (the options in stored order), columns the attributes;
        ``mean[o, k] = mean over draws of w_k a_k`` (dkm2), the row sums being the
        expected values; ``mcse`` its Monte Carlo standard error (dkm2).

    Raises
    ------
    KeyError
        No ``/decision/attributes``, or a weight neither drawn nor fixed in the spec.
    """
    from kursk_da.io import draws_from_tree, spec_from_tree

    dec = tree["decision"].dataset
    if "attributes" not in dec:
        raise KeyError("the result set has no /decision/attributes")
    a = dec["attributes"].transpose(DRAW, OPTION, ATTRIBUTE)
    names = [str(x) for x in a[ATTRIBUTE].values]
    options = [str(o) for o in a[OPTION].values]
    values = np.asarray(a.values, dtype=float)  # (n, J, K)
    draws = draws_from_tree(tree)
    spec = spec_from_tree(tree)
    n = values.shape[0]
    if draws.inputs.shape[0] != n:
        raise KeyError(f"the result set's input draws ({draws.inputs.shape[0]}) do not match "
                       f"/decision ({n} draws)")
    w = np.empty((n, len(names)))
    for k, attr in enumerate(names):
        key = _WEIGHT + attr
        if key in draws.names:
            w[:, k] = draws.inputs[:, draws.names.index(key)]
        elif key in spec.inputs:
            w[:, k] = float(spec.inputs[key].dist.mean())  # a fixed weight
        else:
            raise KeyError(f"no value weight {key!r} in the result set")
    contrib = values * w[:, None, :]  # (n, J, K)
    chains, per_draw = design(tree, n)
    mean = contrib.mean(axis=0)
    se = np.asarray(metrics.mean_mcse(contrib.reshape(n, -1), chains, per_draw)).reshape(
        mean.shape)
    idx = pd.Index(options, name=OPTION)
    return (pd.DataFrame(mean, index=idx, columns=names),
            pd.DataFrame(se, index=idx, columns=names))


def breakdown_display(tree: xr.DataTree, order: list[str] | None = None) -> pd.DataFrame:
    """:func:`value_breakdown` as the report prints it: one row per option (``order``), one
    column per attribute labelled with its units, numbers rounded to their MCSE, and the
    total (the expected value)."""
    from kursk_da.report._numbers import format_estimate, format_with_error

    mean, se = value_breakdown(tree)
    order = order or list(mean.index)
    dec = tree["decision"].dataset
    out = pd.DataFrame(index=pd.Index(order, name=OPTION))
    for k in mean.columns:
        q = _ATTR.get(str(k))
        head = f"{q.label if q else k} ({VALUE_UNITS})"
        m, e = mean[k].to_dict(), se[k].to_dict()
        out[head] = [format_estimate(float(m[o]), float(e[o])) for o in order]
    ev = dec["expected_value"].to_series()
    ev_se = (dec["expected_value_mcse"].to_series() if "expected_value_mcse" in dec
             else ev * np.nan)
    out[f"expected value ({VALUE_UNITS})"] = [format_with_error(float(ev[o]), float(ev_se[o]))
                                              for o in order]
    return out


def negative_text(tree: xr.DataTree) -> str:
    """Why the options' values have their sign: the attributes that weigh most, from the
    breakdown (e.g. why every option is negative)."""
    mean, _ = value_breakdown(tree)
    total = mean.sum(axis=1)
    avg = mean.mean(axis=0)  # each attribute's contribution, averaged over the options

    def name(k: Any) -> str:
        q = _ATTR.get(str(k))
        return q.label if q else str(k)

    costs = [f"{name(k)} ({v:,.0f} {VALUE_UNITS})" for k, v in avg.sort_values().items()
             if v < 0][:2]
    gains = [f"{name(k)} ({v:+,.0f})" for k, v in avg.sort_values(ascending=False).items()
             if v > 0][:2]
    if (total < 0).all():
        head = "Every option is below zero"
    elif (total > 0).all():
        head = "Every option is above zero"
    else:
        head = "Some options are below zero, some above"
    return (f"{head}: the value counts only what happens in the decision window. Averaged "
            f"over the options, the largest costs are {' and '.join(costs) or 'none'}, the "
            f"largest gains {' and '.join(gains) or 'none'}. The options are compared by "
            "their differences, which the zero point does not change. The table shows what "
            "each expected value is made of (weight x attribute, averaged over the draws; "
            "the columns sum to the expected value).")
