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
    "QUANTILE",
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
QUANTILE = "quantile"
"""Probability level of a quantile."""

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
