"""A run's draws as plain arrays, for the campaign value of information and sensitivity.

:class:`CampaignDraws` bundles the inputs (draws x inputs, with names and groups), the
option values (draws x options, dkm2) and what is known of their structure (the value
weights, the copula correlation, the attributes whose weighted sum is the value).  It is
built from a run (:func:`draws_from_spec`) or from a saved result set
(:func:`draws_from_tree`) and consumed by :mod:`kursk_da.voi._campaign` and
:mod:`kursk_da.sensitivity._main_effects`, which do not import each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from kursk_da.dims import ATTRIBUTE, CHAIN, DRAW, OPTION, PARAMETER, VALUE_UNITS
from kursk_da.dynamics.catalogue import ATTRIBUTE_NAMES
from kursk_da.errors import KurskDAError, VOIInputError
from kursk_da.io._resultset import spec_from_tree
from kursk_da.spec._schema import WEIGHT_PREFIX, Spec
from kursk_da.spec.copula import pearson_correlation

__all__ = ["GROUP_ORDER", "CampaignDraws", "draws_from_spec", "draws_from_tree"]

GROUP_ORDER: tuple[str, ...] = (
    "russian_reinforcement", "casualty_rates", "territory_response", "value_weights",
    "surprise", "strikes", "donbas_diversion", "ukrainian_forces", "option_levers",
)
"""The named input groups of the campaign specs (others in a spec are kept too)."""


@dataclass(frozen=True)
class CampaignDraws:
    """Draws of a run: the inputs, their names and groups, and the option values.

    Attributes
    ----------
    inputs : numpy.ndarray, shape (n_draws, n_inputs)
        Each input in its own units.
    names : tuple of str
        Input names (columns of ``inputs``).
    groups : tuple of str
        Group of each input.
    values : numpy.ndarray, shape (n_draws, n_options)
        Value of each option, dkm2.
    options : tuple of str
        Option names (columns of ``values``).
    linear : frozenset of str
        Inputs that enter ``values`` linearly (the value weights).
    correlation : numpy.ndarray, shape (n_inputs, n_inputs), optional
        Copula correlation of the inputs (None: unknown, no input is treated as
        independent of the others).
    attributes : numpy.ndarray, shape (n_draws, n_options, n_attributes), optional
        The attributes whose weighted sum is ``values``.
    weights : numpy.ndarray, shape (n_draws, n_attributes), optional
        The weight of each attribute under each draw (``values`` is
        ``einsum("noa,na->no", attributes, weights)``).
    weight_inputs : tuple of str or None
        The input giving each attribute's weight (None for a fixed weight).
    """

    inputs: np.ndarray
    names: tuple[str, ...]
    groups: tuple[str, ...]
    values: np.ndarray
    options: tuple[str, ...]
    linear: frozenset[str] = frozenset()
    correlation: np.ndarray | None = None
    attributes: np.ndarray | None = None
    weights: np.ndarray | None = None
    weight_inputs: tuple[str | None, ...] = ()

    def task_values(self, members: Sequence[str]) -> np.ndarray:
        """Values to regress on ``members``: the weights of the others at their means.

        With the value ``v_j = sum_k w_k a_jk`` and a weight ``w_k`` independent of
        every other input (:meth:`is_linear`), ``E[w_k a_jk | theta_G] = E[w_k]
        E[a_jk | theta_G]`` for any focal set ``G`` without ``w_k``: replacing
        ``w_k`` by its mean leaves ``E[v_j | theta_G]``, hence the EVPPI, unchanged
        and removes the weight's variation from the regression's noise
        (Rao-Blackwellisation; with the weights uncertain, that noise dominates the
        values).  Without attributes (or dependent weights) the values as they are.
        """
        if self.attributes is None or self.weights is None:
            return self.values
        w = self.weights.copy()
        changed = False
        for k, name in enumerate(self.weight_inputs):
            if name is not None and name not in members and self.is_linear((name,)):
                w[:, k] = w[:, k].mean()
                changed = True
        return np.einsum("noa,na->no", self.attributes, w) if changed else self.values

    def is_linear(self, members: Sequence[str]) -> bool:
        """Whether ``E[values | members]`` is exactly linear in ``members``.

        True when every member enters the values linearly (a value weight,
        ``weight_<attribute>``: value = sum of weights times attributes) and the
        members are uncorrelated in the copula with every other input, so that
        ``E[sum_k w_k a_jk | w_G] = sum_{k in G} w_k E[a_jk] + const``.  The
        calibration leaves this intact: the weights do not enter the likelihood,
        so their posterior is their (independent) prior.
        """
        if self.correlation is None or not set(members) <= self.linear:
            return False
        idx = [self.names.index(m) for m in members]
        rest = [i for i in range(len(self.names)) if i not in idx]
        return bool(np.all(self.correlation[np.ix_(idx, rest)] == 0.0))

    @property
    def uncertain(self) -> tuple[str, ...]:
        """Inputs that vary across the draws (fixed inputs are skipped)."""
        sd = self.inputs.std(axis=0)
        return tuple(n for n, s in zip(self.names, sd, strict=True) if s > 0)

    def group_members(self) -> dict[str, tuple[str, ...]]:
        """Uncertain inputs of each group, groups in :data:`GROUP_ORDER` first."""
        unc = set(self.uncertain)
        found = [g for g in GROUP_ORDER if g in self.groups]
        found += sorted(set(self.groups) - set(found))
        out = {g: tuple(n for n, gg in zip(self.names, self.groups, strict=True)
                        if gg == g and n in unc) for g in found}
        return {g: m for g, m in out.items() if m}


def _check_draws(inputs: Any, values: Any, names: Sequence[str],
                 options: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(inputs, dtype=float)
    v = np.asarray(values, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(names):
        raise VOIInputError(f"inputs: expected shape (n_draws, {len(names)}) with columns "
                            f"spec.input_names, got shape {x.shape}")
    if v.ndim != 2 or v.shape[1] != len(options):
        raise VOIInputError(f"values: expected shape (n_draws, {len(options)}) with columns "
                            f"spec.option_names, got shape {v.shape}")
    if x.shape[0] != v.shape[0]:
        raise VOIInputError(f"values: expected one row per row of inputs ({x.shape[0]}), "
                            f"got {v.shape[0]}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(v))):
        raise VOIInputError("inputs, values: expected finite numbers, found NaN or inf")
    return x, v


def _structure(spec: Spec, names: Sequence[str]) -> dict[str, Any]:
    """The value weights among ``names`` and the copula correlation in ``names`` order."""
    corr = pearson_correlation(spec)
    pos = [spec.input_names.index(n) if n in spec.input_names else -1 for n in names]
    if min(pos) < 0:
        return {}
    return {"linear": frozenset(n for n in names if n.startswith(WEIGHT_PREFIX)),
            "correlation": corr[np.ix_(pos, pos)]}


def _attribute_structure(spec: Spec, names: Sequence[str], x: np.ndarray, v: np.ndarray,
                         attributes: Any, attribute_names: Sequence[str]) -> dict[str, Any]:
    """Validated attributes, the weight of each attribute per draw, and its input.

    Raises :class:`VOIInputError` when ``attributes`` has the wrong shape, is not
    finite, or its weighted sum does not reproduce ``values``.
    """
    a = np.asarray(attributes, dtype=float)
    shape = (v.shape[0], v.shape[1], len(attribute_names))
    if a.shape != shape:
        raise VOIInputError(f"attributes: expected shape (n_draws, n_options, n_attributes) = "
                            f"{shape}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise VOIInputError("attributes: expected finite numbers, found NaN or inf")
    cols: list[np.ndarray] = []
    inputs: list[str | None] = []
    for attr in attribute_names:
        name = WEIGHT_PREFIX + str(attr)
        if name in names:
            cols.append(x[:, names.index(name)])
            inputs.append(name)
        elif name in spec.inputs and spec.inputs[name].dist.is_fixed:
            cols.append(np.full(v.shape[0], float(spec.inputs[name].dist.mean())))
            inputs.append(None)
        else:
            raise VOIInputError(f"attributes: no weight {name!r} for attribute {attr!r} among "
                                "the inputs or the spec's fixed inputs")
    w = np.column_stack(cols)
    rebuilt = np.einsum("noa,na->no", a, w)
    scale = max(float(np.abs(v).max()), 1.0)
    if not np.allclose(rebuilt, v, rtol=1e-8, atol=1e-9 * scale):
        worst = float(np.abs(rebuilt - v).max())
        raise VOIInputError(f"attributes: the weighted sum of the attributes does not reproduce "
                            f"values (largest difference {worst:.3g} {VALUE_UNITS}); pass the "
                            "attributes of the same run")
    return {"attributes": a, "weights": w, "weight_inputs": tuple(inputs)}


def draws_from_spec(spec: Spec, inputs: Any, values: Any,
                    attributes: Any = None) -> CampaignDraws:
    """Bundle a run's ``inputs`` (columns ``spec.input_names``), ``values`` and attributes.

    ``attributes`` (optional, shape ``(n_draws, n_options, n_attributes)``, order
    :data:`kursk_da.engine._kernel.ATTRIBUTE_NAMES`) enables the variance reduction
    of :meth:`CampaignDraws.task_values`.
    """
    names, options = spec.input_names, spec.option_names
    x, v = _check_draws(inputs, values, names, options)
    groups = tuple(p.group for p in spec.inputs.values())
    extra = (_attribute_structure(spec, names, x, v, attributes, ATTRIBUTE_NAMES)
             if attributes is not None else {})
    return CampaignDraws(x, names, groups, v, options, **_structure(spec, names), **extra)


def _tree_attributes(tree: xr.DataTree, spec: Spec, names: Sequence[str], x: np.ndarray,
                     v: np.ndarray) -> dict[str, Any]:
    """:func:`_attribute_structure` from ``/decision/attributes`` (empty if absent)."""
    dec = tree["decision"].dataset
    if "attributes" not in dec:
        return {}
    da = dec["attributes"].transpose(DRAW, OPTION, ATTRIBUTE)
    return _attribute_structure(spec, names, x, v, da.values,
                                [str(a) for a in da[ATTRIBUTE].values])


def draws_from_tree(tree: xr.DataTree) -> CampaignDraws:
    """Draws of a result set: ``/posterior`` if the analysis is a posterior one, else ``/prior``.

    Chains are stacked.  The group of each input comes from its ``group`` attribute.
    """
    if "decision" in tree.children and "inputs" in tree["decision"].dataset:
        return _draws_from_decision_inputs(tree)
    which = "posterior" if (tree.attrs.get("analysis") == "posterior"
                            and "posterior" in tree.children) else "prior"
    if which not in tree.children or "decision" not in tree.children:
        raise VOIInputError(f"tree: expected groups /{which} and /decision in the result set")
    ds = tree[which].to_dataset()
    names = tuple(str(k) for k in ds.data_vars if set(ds[k].dims) <= {CHAIN, DRAW})
    cols = []
    for k in names:
        da = ds[k]
        cols.append(da.stack(_s=[d for d in (CHAIN, DRAW) if d in da.dims]).values
                    if da.ndim > 1 else da.values)
    groups = tuple(str(ds[k].attrs.get("group", "ungrouped")) for k in names)
    value = tree["decision"]["value"].transpose(DRAW, OPTION)
    options = tuple(str(o) for o in value[OPTION].values)
    x, v = _check_draws(np.column_stack(cols), value.values, names, options)
    try:
        spec = spec_from_tree(tree)
    except (KurskDAError, KeyError, ValueError):  # no usable spec: no structural shortcut
        return CampaignDraws(x, names, groups, v, options)
    return CampaignDraws(x, names, groups, v, options, **_structure(spec, names),
                         **_tree_attributes(tree, spec, names, x, v))


def _draws_from_decision_inputs(tree: xr.DataTree) -> CampaignDraws:
    """Draws of a result set that stores its full input matrix in ``/decision/inputs``.

    Posterior analyses store there the matrix that was propagated (posterior draws of
    the calibrated parameters with prior draws of the other inputs), row-aligned with
    ``/decision/value``; groups come from the spec stored in the file.
    """
    dec = tree["decision"].dataset
    inp = dec["inputs"].transpose(DRAW, PARAMETER)
    names = tuple(str(p) for p in inp[PARAMETER].values)
    spec = spec_from_tree(tree)
    spec_groups = {k: p.group for k, p in spec.inputs.items()}
    groups = tuple(spec_groups.get(n, "ungrouped") for n in names)
    value = dec["value"].transpose(DRAW, OPTION)
    options = tuple(str(o) for o in value[OPTION].values)
    x, v = _check_draws(inp.values, value.values, names, options)
    return CampaignDraws(x, names, groups, v, options, **_structure(spec, names),
                         **_tree_attributes(tree, spec, names, x, v))
