"""Named scenarios of a spec: overrides of input distributions, reported side by side.

TOML form::

    [scenarios.no_nk]
    description = "No North Korean troops"
    parameters = { nk_troops = 0 }

    [scenarios.aid_halved]
    description = "Western aid cut by half"
    parameters = { ua_force_rate = { dist = "lognormal", interval = [0.017, 0.07] },
                   weight_strike_effort = -1.0 }

``parameters`` maps input names (campaign parameters, option levers, or value
weights as ``weight_<attribute>``) to a number (the input becomes fixed at that
value) or a distribution table (:mod:`kursk_da.spec._distributions`).  Units,
source and group are kept from the spec's entry unless the table gives them;
the source becomes ``"scenario <name>: <description>"`` otherwise.  Every error
names its field, e.g. ``scenarios.no_nk.parameters.nk_troopz``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kursk_da.errors import SpecError
from kursk_da.spec._distributions import parse_distribution

__all__ = ["Scenario", "parse_scenarios", "scenario_raw", "check_overrides", "BASE_SCENARIO"]

BASE_SCENARIO = "base"
"""Name under which the spec as written is reported next to its scenarios."""

_WEIGHT_PREFIX = "weight_"
_KEYS = {"description", "parameters"}
_META = ("units", "source", "group", "description", "label")


@dataclass(frozen=True)
class Scenario:
    """A named set of input overrides.

    Attributes
    ----------
    name : str
    description : str
    overrides : Mapping[str, Any]
        Input name -> number or distribution table, as written in the spec.
    """

    name: str
    description: str
    overrides: Mapping[str, Any]


def _override_raw(raw: dict[str, Any], name: str, value: Any, scen: Scenario) -> None:
    """Write one override into a copy of the spec's raw tables."""
    if name.startswith(_WEIGHT_PREFIX) and name[len(_WEIGHT_PREFIX):] in raw["value"]["weights"]:
        table = raw["value"]["weights"]
        key = name[len(_WEIGHT_PREFIX):]
    else:
        table, key = raw["parameters"], name
    old = dict(table.get(key, {}))
    new = dict(value) if isinstance(value, Mapping) else {"dist": "fixed", "value": value}
    for meta in _META:
        if meta in old and meta not in new and meta != "source":
            new[meta] = old[meta]
    new.setdefault("source", f"scenario {scen.name}: {scen.description}")
    table[key] = new


def _parse_one(name: str, tbl: Any, inputs: tuple[str, ...]) -> Scenario:
    path = f"scenarios.{name}"
    if not isinstance(tbl, Mapping):
        raise SpecError(path, f"expected a table with description and parameters, got {tbl!r}")
    bad = sorted(set(tbl) - _KEYS)
    if bad:
        raise SpecError(f"{path}.{bad[0]}", "unknown field; expected description, parameters")
    desc = tbl.get("description")
    if not isinstance(desc, str) or not desc.strip():
        raise SpecError(f"{path}.description", f"expected a non-empty string, got {desc!r}")
    params = tbl.get("parameters")
    if not isinstance(params, Mapping) or not params:
        raise SpecError(f"{path}.parameters",
                        "expected a non-empty table of input overrides, e.g. { nk_troops = 0 }")
    check_overrides(params, f"{path}.parameters", inputs)
    return Scenario(name=name, description=desc, overrides=dict(params))


def check_overrides(params: Mapping[str, Any], path: str, inputs: tuple[str, ...]) -> None:
    """Validate a table of input overrides (of a scenario or a model variant).

    Each key must be one of ``inputs`` and each value a number (a fixed value) or a
    distribution table.

    Raises
    ------
    SpecError
        Path ``<path>.<input>``: unknown input, not a number or table, bad distribution.
    """
    for key, val in params.items():
        ppath = f"{path}.{key}"
        if key not in inputs:
            raise SpecError(ppath, f"unknown input; expected one of {', '.join(inputs)}")
        if isinstance(val, bool) or not isinstance(val, int | float | Mapping):
            raise SpecError(ppath, f"expected a number or a distribution table, got {val!r}")
        parse_distribution(val if isinstance(val, Mapping) else
                           {"dist": "fixed", "value": val}, ppath)


def parse_scenarios(raw: Any, input_names: tuple[str, ...]) -> dict[str, Scenario]:
    """Parse the ``[scenarios]`` section (each one is validated as a whole spec by
    :func:`kursk_da.spec._schema.spec_from_dict`, which applies it once).

    Parameters
    ----------
    raw : mapping
        The ``scenarios`` table of the TOML file.
    input_names : tuple of str
        The spec's uncertain inputs (``Spec.input_names``).

    Returns
    -------
    dict of str to Scenario

    Raises
    ------
    SpecError
        Path ``scenarios.<name>...``: not a table, unknown field, missing
        description or parameters, unknown input, bad distribution.
    """
    if not isinstance(raw, Mapping):
        raise SpecError("scenarios", f"expected a table of scenarios, got {type(raw).__name__}")
    out = {}
    for name, tbl in raw.items():
        if name == BASE_SCENARIO:
            raise SpecError(f"scenarios.{name}",
                            f"the name {BASE_SCENARIO!r} is reserved for the spec as written")
        out[name] = _parse_one(name, tbl, input_names)
    return out


def scenario_raw(raw: Mapping[str, Any], scen: Scenario) -> dict[str, Any]:
    """A copy of a spec's raw tables with ``scen``'s overrides written in (and no
    ``[scenarios]`` of its own): the input of ``spec_from_dict`` for the scenario."""
    out = copy.deepcopy(dict(raw))
    out.pop("scenarios", None)
    for key, val in scen.overrides.items():
        _override_raw(out, key, val, scen)
    return out
