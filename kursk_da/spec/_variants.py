"""Competing model structures of a spec: named variants of the campaign dynamics.

TOML form::

    [variants.helmbold]
    description = "Helmbold's generalised Lanchester law, exponent free (the spec itself)"
    source = "analyst judgement: ..."
    parameters = {}

    [variants.square_law]
    description = "Lanchester's square law: aimed fire"
    source = "analyst judgement: ..."
    parameters = { lanchester_exponent = 1.0 }

A variant is a named set of overrides of the spec's inputs, like a scenario
(:mod:`kursk_da.spec._scenarios`), but it is a *structure* to be calibrated on the same
observations and compared with the others (PSIS-LOO, stacking;
:func:`kursk_da.sensitivity.compare_variants`), not a what-if of the prior analysis.
``parameters`` maps input names to a number (the input becomes fixed at that value) or
a distribution table (:mod:`kursk_da.spec._distributions`); units and group are kept
from the spec's entry unless the table gives them, the source becomes
``"variant <name>: <source>"``. ``source`` is required: an essay quote or
``"analyst judgement: ..."`` saying why an analyst would argue for the structure.

The **base variant** is the spec as written: the variant whose ``parameters`` is empty
(or absent), at most one. When no variant is the base, the spec as written is added in
front under the name :data:`BASE_VARIANT`. Every variant is validated as a whole spec by
:func:`kursk_da.spec._schema.spec_from_dict` (errors name the field, e.g.
``variants.square_law.parameters.lanchester_exponent``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kursk_da.errors import SpecError
from kursk_da.spec._scenarios import check_overrides

__all__ = ["Variant", "parse_variants", "variant_raw", "BASE_VARIANT"]

BASE_VARIANT = "base"
"""Name of the spec as written when none of its variants is the base (no overrides)."""

_WEIGHT_PREFIX = "weight_"
_KEYS = {"description", "source", "parameters"}
_META = ("units", "group", "description", "label")


@dataclass(frozen=True)
class Variant:
    """A named model structure: overrides of the spec's inputs.

    Attributes
    ----------
    name : str
    description : str
        What the structure assumes.
    source : str
        Why an analyst would argue for it (essay quote or analyst judgement).
    overrides : Mapping[str, Any]
        Input name -> number or distribution table, as written in the spec; empty for
        the base variant.
    """

    name: str
    description: str
    source: str
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_base(self) -> bool:
        """True for the spec as written (no overrides)."""
        return not self.overrides


def _text(tbl: Mapping[str, Any], key: str, path: str) -> str:
    val = tbl.get(key)
    if not isinstance(val, str) or not val.strip():
        raise SpecError(f"{path}.{key}", f"expected a non-empty string, got {val!r}")
    return val


def _parse_one(name: str, tbl: Any, inputs: tuple[str, ...]) -> Variant:
    path = f"variants.{name}"
    if not isinstance(name, str) or not name.isidentifier():
        raise SpecError(path, "expected a variant name made of letters, digits and _")
    if not isinstance(tbl, Mapping):
        raise SpecError(path, f"expected a table with description, source and parameters, "
                              f"got {tbl!r}")
    bad = sorted(set(tbl) - _KEYS, key=str)
    if bad:
        raise SpecError(f"{path}.{bad[0]}",
                        "unknown field; expected description, source, parameters")
    desc = _text(tbl, "description", path)
    source = _text(tbl, "source", path)
    params = tbl.get("parameters", {})
    if not isinstance(params, Mapping):
        raise SpecError(f"{path}.parameters",
                        "expected a table of input overrides, e.g. { lanchester_exponent = 1.0 }"
                        f", got {params!r}")
    check_overrides(params, f"{path}.parameters", inputs)
    return Variant(name=name, description=desc, source=source, overrides=dict(params))


def parse_variants(raw: Any, input_names: tuple[str, ...]) -> dict[str, Variant]:
    """Parse the ``[variants]`` section (each variant is then validated as a whole spec by
    :func:`kursk_da.spec._schema.spec_from_dict`).

    Parameters
    ----------
    raw : mapping
        The ``variants`` table of the TOML file.
    input_names : tuple of str
        The spec's uncertain inputs (``Spec.input_names``).

    Returns
    -------
    dict of str to Variant
        In spec order, with the base variant (:data:`BASE_VARIANT`, the spec as written)
        in front when no variant of the spec has empty ``parameters``.

    Raises
    ------
    SpecError
        Path ``variants.<name>...``: not a table, unknown field, missing description or
        source, unknown input, bad distribution, two base variants, the reserved name
        used for a variant with overrides.
    """
    if not isinstance(raw, Mapping) or not raw:
        raise SpecError("variants", "expected a non-empty table of variants "
                                    "([variants.NAME])")
    out: dict[str, Variant] = {}
    for name, tbl in raw.items():
        out[name] = _parse_one(name, tbl, input_names)
        if name == BASE_VARIANT and not out[name].is_base:
            raise SpecError(f"variants.{name}", f"the name {BASE_VARIANT!r} is reserved for "
                                                "the spec as written (no overrides)")
    bases = [v.name for v in out.values() if v.is_base]
    if len(bases) > 1:
        raise SpecError(f"variants.{bases[1]}.parameters",
                        f"two variants without overrides ({bases[0]}, {bases[1]}); expected "
                        "at most one base variant (the spec as written)")
    if not bases:
        base = Variant(BASE_VARIANT, "the spec as written", "the spec's own sources")
        out = {BASE_VARIANT: base, **out}
    return out


def variant_raw(raw: Mapping[str, Any], variant: Variant) -> dict[str, Any]:
    """A copy of a spec's raw tables with ``variant``'s overrides written in, without
    ``[variants]`` and ``[scenarios]``: the input of ``spec_from_dict`` for the variant."""
    out = copy.deepcopy(dict(raw))
    out.pop("variants", None)
    out.pop("scenarios", None)
    for name, value in variant.overrides.items():
        weights = out.get("value", {}).get("weights", {})
        if name.startswith(_WEIGHT_PREFIX) and name[len(_WEIGHT_PREFIX):] in weights:
            table, key = weights, name[len(_WEIGHT_PREFIX):]
        else:
            table, key = out["parameters"], name
        old = dict(table.get(key, {}))
        new = (copy.deepcopy(dict(value)) if isinstance(value, Mapping)
               else {"dist": "fixed", "value": value})
        for meta in _META:
            if meta in old and meta not in new:
                new[meta] = old[meta]
        new.setdefault("source", f"variant {variant.name}: {variant.source}")
        table[key] = new
    return out
