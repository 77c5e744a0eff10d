"""The ``/sensitivity`` and ``/scenarios`` groups of a result set, and their tables.

:func:`sensitivity_groups` computes what ``kursk-da sensitivity`` stores: the tornado
with thresholds, Sobol' indices, first-order indices from the draws, the scenarios side
by side, the acceptability curve, the weight simplex and the risk attitude. The
``*_frame`` functions are their tables as data frames, printed by the CLI and shown in
the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import pandas as pd
import xarray as xr

from kursk_da.dims import ATTRIBUTE, DRAW, OPTION, OUTPUT, PARAMETER, SCENARIO, VALUE_UNITS
from kursk_da.errors import VOIInputError
from kursk_da.sensitivity._campaign import DIFFERENCE_OUTPUT, campaign_sobol
from kursk_da.sensitivity._main_effects import campaign_main_effects
from kursk_da.sensitivity._robustness import (
    acceptability_curve,
    risk_attitude,
    scenario_comparison,
    simplex_regions,
)
from kursk_da.sensitivity._tornado import tornado
from kursk_da.validation import check_bool, check_int, check_real, check_seed

if TYPE_CHECKING:
    from distributed import Client

    from kursk_da.io._draws import CampaignDraws
    from kursk_da.spec._schema import Spec

__all__ = [
    "SensitivityGroups",
    "is_posterior",
    "check_sensitivity_arguments",
    "sensitivity_groups",
    "tornado_frame",
    "sobol_frame",
    "main_effects_frame",
    "scenarios_frame",
]


@dataclass(frozen=True)
class SensitivityGroups:
    """What :func:`sensitivity_groups` computed.

    Attributes
    ----------
    sensitivity : dict of str to Dataset
        ``tornado``, ``sobol`` (when computed) and ``main_effects``: the sub-groups of
        ``/sensitivity``.
    scenarios : dict of str to Dataset
        ``summary`` (when the spec has scenarios), ``acceptability``, ``simplex`` and
        ``risk``: the sub-groups of ``/scenarios`` (empty without scenarios).
    posterior : bool
        The tornado and the first-order indices used the posterior draws.
    """

    sensitivity: dict[str, xr.Dataset] = field(default_factory=dict)
    scenarios: dict[str, xr.Dataset] = field(default_factory=dict)
    posterior: bool = False


def is_posterior(tree: xr.DataTree) -> bool:
    """A posterior result set that stores the propagated input matrix (``/decision/inputs``)."""
    return (tree.attrs.get("analysis") == "posterior" and "posterior" in tree.children
            and "inputs" in tree["decision"].dataset)


def check_sensitivity_arguments(*, seed: int = 0, tornado_draws: int = 1000,
                                sobol_n: int = 256, scenario_draws: int = 20_000,
                                risk_aversion: float = 1e-3) -> None:
    """Refuse a bad argument of :func:`sensitivity_groups` before any computing (issue 23).

    The same bounds as the functions it calls (:func:`~kursk_da.sensitivity.tornado`,
    :func:`~kursk_da.sensitivity.campaign_sobol`, the scenarios and the risk attitude),
    which otherwise meet them one after the other, minutes into the run.

    Raises
    ------
    VOIInputError
        Naming the argument.
    """
    check_seed(seed, error=VOIInputError)
    check_int(tornado_draws, "tornado_draws", minimum=10, error=VOIInputError)
    check_int(sobol_n, "sobol_n", minimum=8, error=VOIInputError)
    check_int(scenario_draws, "scenario_draws", minimum=1, error=VOIInputError)
    check_real(risk_aversion, "risk_aversion", minimum=0.0, strict=True, error=VOIInputError)


def sensitivity_groups(spec: Spec, tree: xr.DataTree, draws: CampaignDraws, *, seed: int = 0,
                       tornado_draws: int = 1000, sobol_n: int = 256,
                       scenario_draws: int = 20_000, risk_aversion: float = 1e-3,
                       with_tornado: bool = True, with_sobol: bool = True,
                       with_scenarios: bool = True, client: Client | None = None
                       ) -> SensitivityGroups:
    """The sensitivity and robustness groups of a result set.

    Under a posterior result set (:func:`is_posterior`) the tornado sweeps under the
    posterior and the first-order indices use the posterior draws; Sobol' indices and
    scenarios re-sample the spec's prior (Sobol' indices need independent inputs;
    scenarios are not re-calibrated).

    Parameters
    ----------
    spec : Spec
        The result set's spec (:func:`kursk_da.io.spec_from_tree`).
    tree : xarray.DataTree
        The result set.
    draws : CampaignDraws
        Its draws (:func:`kursk_da.voi._campaign.draws_from_tree`), matching ``spec``.
    seed : int
        Root seed of every re-run and estimator.
    tornado_draws : int
        Draws behind each one-way expected value.
    sobol_n : int
        Sobol' base sample (a power of 2).
    scenario_draws : int
        Draws of each scenario's analysis.
    risk_aversion : float
        Exponential-utility risk aversion (1/dkm2).
    with_tornado, with_sobol, with_scenarios : bool
        Compute the tornado, the Sobol' indices, the scenario and robustness groups.
    client : distributed.Client, optional
        Run the engine blocks of the Sobol' design and of the scenarios on this dask
        cluster (the numbers do not change). The tornado stays in-process: its engine
        runs are small (``tornado_draws``) and sequential (threshold root finding), so
        on a cluster they would be dominated by round trips.

    Returns
    -------
    SensitivityGroups
    """
    check_sensitivity_arguments(seed=seed, tornado_draws=tornado_draws, sobol_n=sobol_n,
                                scenario_draws=scenario_draws, risk_aversion=risk_aversion)
    with_tornado = check_bool(with_tornado, "with_tornado", error=VOIInputError)
    with_sobol = check_bool(with_sobol, "with_sobol", error=VOIInputError)
    with_scenarios = check_bool(with_scenarios, "with_scenarios", error=VOIInputError)
    posterior = is_posterior(tree)
    sens: dict[str, xr.Dataset] = {}
    scen: dict[str, xr.Dataset] = {}
    if with_tornado:
        calibrated = ([str(v) for v in tree["posterior"].data_vars if v in spec.input_names]
                      if posterior else [])
        sens["tornado"] = tornado(spec, n_draws=tornado_draws, seed=seed,
                                  base_inputs=draws.inputs if posterior else None,
                                  calibrated=calibrated)
    if with_sobol:
        sens["sobol"] = campaign_sobol(spec, n=sobol_n, seed=seed, client=client)
    sens["main_effects"] = campaign_main_effects(
        draws, rng=seed, distribution="posterior" if posterior else "prior")
    if with_scenarios:
        attrs = tree["decision"]["attributes"].transpose(DRAW, OPTION, ATTRIBUTE).values
        if spec.scenarios:
            scen["summary"] = scenario_comparison(spec, draws=scenario_draws, seed=seed,
                                                    client=client)
        scen["acceptability"] = acceptability_curve(spec, draws.inputs, attrs)
        scen["simplex"] = simplex_regions(spec, draws.inputs, attrs)
        scen["risk"] = risk_attitude(draws.values, draws.options, alpha=spec.cvar_alpha,
                                     risk_aversion=risk_aversion)
    return SensitivityGroups(sens, scen, posterior)


def tornado_frame(ds: xr.Dataset) -> pd.DataFrame:
    """The tornado table: each input's swing and threshold, largest swing first.

    Parameters
    ----------
    ds : xarray.Dataset
        A ``/sensitivity/tornado`` group (:func:`kursk_da.sensitivity._tornado.tornado`).

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``difference at p% (U)`` at the low and high end of
        the sweep (EV(leader) - EV(runner-up)), ``swing (U)`` (U: dkm2), ``threshold``
        (input value where the best option changes, in the input's own units; NaN if it
        does not change), ``best below`` and ``best above``. Not rounded.
    """
    units = str(ds.attrs.get("units", VALUE_UNITS))
    diff = ds["difference"].transpose(PARAMETER, ...)
    lo, hi = (f"{float(p):.0%}" for p in ds["sweep_probability"].values[[0, -1]])
    frame = pd.DataFrame({
        f"difference at {lo} ({units})": diff.values[:, 0],
        f"difference at {hi} ({units})": diff.values[:, -1],
        f"swing ({units})": ds["swing"].values,
        "threshold": ds["threshold"].values,
        "best below": ds["best_below"].values.astype(str),
        "best above": ds["best_above"].values.astype(str),
    }, index=pd.Index(ds[PARAMETER].values.astype(str), name=PARAMETER))
    return frame.sort_values(f"swing ({units})", ascending=False, kind="stable")


def _indices(ds: xr.Dataset, key: str, columns: dict[str, str]) -> pd.DataFrame:
    d = ds.sel({OUTPUT: DIFFERENCE_OUTPUT}).sortby(key, ascending=False)
    return pd.DataFrame({label: d[var].values for label, var in columns.items()},
                        index=pd.Index(d[PARAMETER].values.astype(str), name=PARAMETER))


def sobol_frame(ds: xr.Dataset) -> pd.DataFrame:
    """Sobol' indices of the leader - runner-up difference, largest total index first.

    Parameters
    ----------
    ds : xarray.Dataset
        A ``/sensitivity/sobol`` group (:func:`kursk_da.sensitivity._campaign.campaign_sobol`).

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``S1`` and ``ST`` (shares of variance, 1).
    """
    return _indices(ds, "ST", {"S1": "S1", "ST": "ST"})


def main_effects_frame(ds: xr.Dataset) -> pd.DataFrame:
    """First-order indices of the leader - runner-up difference, largest first.

    Parameters
    ----------
    ds : xarray.Dataset
        A ``/sensitivity/main_effects`` group
        (:func:`kursk_da.sensitivity._main_effects.campaign_main_effects`).

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``S1`` and ``SE`` (share of variance, 1).
    """
    return _indices(ds, "S1", {"S1": "S1", "SE": "S1_se"})


def scenarios_frame(ds: xr.Dataset) -> pd.DataFrame:
    """Expected value per scenario and option, and the best option per scenario.

    Parameters
    ----------
    ds : xarray.Dataset
        A ``/scenarios/summary`` group
        (:func:`kursk_da.sensitivity._robustness.scenario_comparison`).

    Returns
    -------
    pandas.DataFrame
        Index ``scenario``; one column per option (expected value, in the group's
        ``units``, dkm2; columns named ``option``) and ``best``. Not rounded.
    """
    frame = cast(pd.DataFrame, ds["expected_value"].transpose(SCENARIO, OPTION).to_pandas())
    frame["best"] = ds["best"].to_series()
    frame.index.name = SCENARIO
    return frame
