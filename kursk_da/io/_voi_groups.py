"""Value-of-information and sensitivity groups of the result set.

Layout (added to a result set by :func:`add_voi_groups`; every group optional):

``/voi``
    :func:`kursk_da.voi._campaign.campaign_evppi`: EVPPI over ``parameter`` and
    ``group`` (ranked), ``evpi``.
``/sensitivity/tornado``, ``/sensitivity/sobol``, ``/sensitivity/main_effects``
    :func:`kursk_da.sensitivity._tornado.tornado`,
    :func:`kursk_da.sensitivity._campaign.campaign_sobol` and
    :func:`kursk_da.sensitivity._main_effects.campaign_main_effects`.
``/triggers``
    :func:`trigger_dataset`: the day each option's state-triggered phase started, per
    draw, and its distribution (written by the analysis when an option has a trigger).
``/policy/*``, ``/waiting``, ``/intelligence``, ``/twoway``
    Policy optimisation, value of waiting, EVSI of intelligence on model outputs and
    two-way sensitivity (:mod:`kursk_da.decision._policy`, :mod:`kursk_da.voi._waiting`,
    :mod:`kursk_da.voi._evsi_outputs`, :mod:`kursk_da.sensitivity._twoway`).
``/scenarios/summary``, ``/scenarios/acceptability``, ``/scenarios/simplex``, ``/scenarios/risk``
    :mod:`kursk_da.sensitivity._robustness`.

Sub-groups are nested DataTree nodes because their ``parameter`` coordinates
differ (ranked vs spec order).  ``xarray.open_datatree`` and ArviZ read the file.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from kursk_da.dims import DATE, DRAW, OPTION, QUANTILE
from kursk_da.spec._schema import Spec

__all__ = ["add_voi_groups", "VOI_GROUPS", "trigger_dataset", "TRIGGER_QUANTILES"]

VOI_GROUPS = ("voi", "sensitivity", "scenarios", "policy", "waiting", "intelligence", "twoway")
"""Top-level groups written by :func:`add_voi_groups`."""


def add_voi_groups(tree: xr.DataTree, *, voi: xr.Dataset | None = None,
                   sensitivity: Mapping[str, xr.Dataset] | None = None,
                   scenarios: Mapping[str, xr.Dataset] | None = None,
                   policy: Mapping[str, xr.Dataset] | None = None,
                   waiting: xr.Dataset | None = None,
                   intelligence: xr.Dataset | None = None,
                   twoway: xr.Dataset | None = None) -> xr.DataTree:
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
    policy : mapping of str to Dataset, optional
        ``{"search": ..., "choice": ...}`` of :func:`kursk_da.decision.optimize_policy`,
        stored as ``/policy/<key>``.
    waiting, intelligence, twoway : xarray.Dataset, optional
        Stored as ``/waiting``, ``/intelligence`` and ``/twoway``.

    Returns
    -------
    xarray.DataTree
        A new tree; sub-groups not given are kept from ``tree``.
    """
    nodes = {node.path: node.to_dataset(inherit=False) for node in tree.subtree}
    if voi is not None:
        nodes["/voi"] = voi
    for name, ds in (("waiting", waiting), ("intelligence", intelligence), ("twoway", twoway)):
        if ds is not None:
            nodes[f"/{name}"] = ds
    for top, parts in (("sensitivity", sensitivity), ("scenarios", scenarios),
                       ("policy", policy)):
        if parts:
            nodes.setdefault(f"/{top}", xr.Dataset())
            for key, ds in parts.items():
                if not isinstance(key, str) or not key.isidentifier():
                    raise ValueError(f"{top}: expected identifier keys, got {key!r}")
                nodes[f"/{top}/{key}"] = ds
    return xr.DataTree.from_dict(nodes)


TRIGGER_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Probability levels of the stored quantiles of the trigger day."""


def trigger_dataset(spec: Spec, trigger_day: np.ndarray, draws: np.ndarray) -> xr.Dataset | None:
    """The ``/triggers`` group: when each triggered option's triggered phase started.

    Parameters
    ----------
    spec : Spec
    trigger_day : numpy.ndarray, shape (n_draws, n_options)
        Day of the decision window (0 = the decision date) on which the triggered phase
        started, NaN if it never did (:attr:`kursk_da.engine.EngineOutput.trigger_day`).
    draws : numpy.ndarray
        The ``draw`` coordinate of ``/decision``.

    Returns
    -------
    xarray.Dataset or None
        None when no option has a trigger. Variables over the triggered options only:
        ``trigger_day`` (``draw``, ``option``; days after the decision date, NaN never),
        ``fired_probability`` (``option``), ``trigger_day_mean`` and
        ``trigger_day_quantile`` (``option``, ``quantile``; among the draws where it
        fired, NaN if none), ``fired_by_date`` (``option``, ``date``: fraction of draws
        whose triggered phase has started by each date of the decision window).
    """
    names = [o for o, op in spec.options.items() if any(ph.trigger for ph in op.phases)]
    if not names:
        return None
    cols = [spec.option_names.index(o) for o in names]
    td = np.asarray(trigger_day, dtype=float)[:, cols]
    fired = ~np.isnan(td)
    prob = fired.mean(axis=0)
    mean = np.full(len(names), np.nan)
    quant = np.full((len(names), len(TRIGGER_QUANTILES)), np.nan)
    for k in range(len(names)):
        if fired[:, k].any():
            mean[k] = td[fired[:, k], k].mean()
            quant[k] = np.quantile(td[fired[:, k], k], TRIGGER_QUANTILES)
    days = np.arange(spec.horizon_days)
    # the fraction of draws with td <= day (NaN never counts), without an
    # (n_draws x n_days) temporary: counts from the sorted days, divided by n
    by_day = np.stack([np.searchsorted(np.sort(td[:, k]), days, side="right") / td.shape[0]
                       for k in range(len(names))])
    dates = spec.dates[spec.decision_day:]
    when = f"days after the decision date {spec.decision_date.isoformat()}"
    return xr.Dataset(
        {
            "trigger_day": ((DRAW, OPTION), td, {
                "long_name": "day on which the triggered phase started (NaN: never)",
                "units": "day", "description": when}),
            "fired_probability": ((OPTION,), prob, {
                "long_name": "probability that the triggered phase starts within the horizon",
                "units": "1"}),
            "trigger_day_mean": ((OPTION,), mean, {
                "long_name": "mean trigger day among the draws where it fired", "units": "day",
                "description": when}),
            "trigger_day_quantile": ((OPTION, QUANTILE), quant, {
                "long_name": "quantiles of the trigger day among the draws where it fired",
                "units": "day", "description": when}),
            "fired_by_date": ((OPTION, DATE), by_day, {
                "long_name": "fraction of draws whose triggered phase has started by the date",
                "units": "1"}),
        },
        coords={DRAW: draws, OPTION: names, QUANTILE: list(TRIGGER_QUANTILES), DATE: dates},
        attrs={"description": "state-triggered phases (spec: options.<name>.phases[].trigger); "
                              "common random numbers across options"},
    )
