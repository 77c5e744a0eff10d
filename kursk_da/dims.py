"""The one vocabulary of named dimensions, variables and units.

Every xarray object produced by kursk_da uses these dimension names; nothing
else in the package spells them as string literals.
"""

from __future__ import annotations

__all__ = [
    "CHAIN",
    "DRAW",
    "OPTION",
    "DATE",
    "PARAMETER",
    "ATTRIBUTE",
    "OBSERVATION",
    "OBS_PARAMETER",
    "CLAIM_KIND",
    "CLAIM_BIAS",
    "WITHHELD",
    "QUANTILE",
    "GROUP",
    "SCENARIO",
    "OUTPUT",
    "SWEEP",
    "WEIGHT_VALUE",
    "SIMPLEX_POINT",
    "PRIOR_POWER",
    "GRID_POINT",
    "SEARCHED",
    "WAIT_DAYS",
    "REPORTS",
    "X_VALUE",
    "Y_VALUE",
    "ORIGIN",
    "FORECAST",
    "QUANTITY",
    "VARIANT",
    "DECISION_MODEL",
    "UNITS",
    "VALUE_UNITS",
]

CHAIN = "chain"
"""MCMC chain index (posterior groups)."""
DRAW = "draw"
"""Monte Carlo draw (prior) or MCMC draw within a chain (posterior)."""
OPTION = "option"
"""Strategic option, labelled by its name in the spec."""
DATE = "date"
"""Calendar date (numpy datetime64[ns]); day 0 is 2024-08-06."""
PARAMETER = "parameter"
"""Uncertain input, labelled by its name in the spec."""
ATTRIBUTE = "attribute"
"""Value-model attribute (area held, casualties, ...)."""
OBSERVATION = "observation"
"""Calibration observation, labelled by its name in the spec."""
OBS_PARAMETER = "observation_model_parameter"
"""Parameter of the observation model (claimant biases, grey-zone factor, ...; issue 11)."""
CLAIM_KIND = "claim_kind"
"""Kind of a claim in the claimant-bias model (``area``, ``casualties``, ...): the kind
means ``bias_kind_log_mean`` (``/unconstrained_posterior``)."""
CLAIM_BIAS = "claim_bias"
"""A (claimant family, kind) pair with a bias of its own, labelled ``family:kind``
(``bias_z``, ``claim_log_bias``)."""
WITHHELD = "withheld"
"""Observation withheld from the calibration by a cutoff (forecast and scored)."""
QUANTILE = "quantile"
"""Probability level of a quantile."""
GROUP = "group"
"""Named group of uncertain inputs (``Parameter.group``), e.g. ``russian_reinforcement``."""
SCENARIO = "scenario"
"""Named scenario of the spec (``[scenarios.<name>]``); ``base`` is the spec as written."""
OUTPUT = "output"
"""Model output analysed for sensitivity: an option's value or a value difference."""
SWEEP = "sweep"
"""Point of a one-way sweep of an input over its interval (tornado, threshold analysis)."""
WEIGHT_VALUE = "weight_value"
"""Grid value of one value weight (acceptability curve), in that weight's units."""
SIMPLEX_POINT = "simplex_point"
"""Grid point of a value-weight simplex (robustness region)."""
PRIOR_POWER = "prior_power"
"""Exponent of the prior in the power-scaling prior-sensitivity check (1 = the prior)."""

GRID_POINT = "grid_point"
"""Point of a policy-search grid of trigger thresholds (``/policy/search``)."""
SEARCHED = "searched"
"""Field varied by a policy search (a trigger quantity's threshold or a day)."""
WAIT_DAYS = "wait_days"
"""Days waited before deciding (value of waiting, ``/waiting``)."""
REPORTS = "reports"
"""Number of independent intelligence reports (``/intelligence``)."""
X_VALUE = "x_value"
"""Grid value of the first input of a two-way sensitivity map (``/twoway``)."""
Y_VALUE = "y_value"
"""Grid value of the second input of a two-way sensitivity map (``/twoway``)."""

ORIGIN = "origin"
"""Forecast origin of a rolling-origin hindcast (``/hindcast``): the calibration uses the
observations dated and reported on or before it."""
FORECAST = "forecast"
"""One scored forecast of a hindcast: an (origin, later observation) pair (``/hindcast``)."""
QUANTITY = "quantity"
"""Observable quantity of the catalogue, e.g. ``area_held`` (``/hindcast`` aggregates)."""
VARIANT = "variant"
"""Competing model structures of a spec (``[variants]``), in ``/variants``."""
DECISION_MODEL = "decision_model"
"""The models a decision table of ``/variants`` is computed under: each variant, then
``stacked`` (their mixture by stacking weights)."""

VALUE_UNITS = "dkm2"
"""Unit of value: Donbas-equivalent square kilometres (1 km2 of Donbas ground = 1)."""

UNITS: dict[str, str] = {
    "area": "km2",
    "forces": "troops",
    "casualties": "troops",
    "value": VALUE_UNITS,
    "probability": "1",
    "rate": "1/day",
}
"""Units of the physical quantities, written to the ``units`` attribute."""
