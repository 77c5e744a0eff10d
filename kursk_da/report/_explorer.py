"""The interactive weight explorer of the HTML report, and its Python twin.

The value of an option under a draw is ``v = sum_k w_k a_k`` (weights times attributes,
:func:`kursk_da.engine._run.values_from_attributes`), so a new set of value weights needs
no new simulation: the explorer embeds, for a documented subsample of the draws
(:data:`EXPLORER_DRAWS` rows of ``/decision``, chosen with a ``numpy.random.SeedSequence``
of the run's seed and spawn key :data:`EXPLORER_SPAWN_KEY`), the attributes of every
option and the per-draw value weights, and recomputes in the browser (plain inline
JavaScript, no external script) the expected value, the probability best, the CVaR, the
certainty equivalent under a risk aversion and the ranking, when a slider moves.

Each weight slider sets the weight's mean ``s_k`` (start: the prior mean ``m_k``). With
"keep the weights' uncertainty" (the default) each draw's weight is scaled, ``w_ik s_k /
m_k`` (shifted, ``w_ik + s_k - m_k``, when ``m_k = 0``), so the start reproduces the result
set's own values on the subsample; without it every draw uses ``s_k``. The risk aversion
``r`` (1/dkm2, start 0: risk neutral) ranks the options by the certainty equivalent of the
exponential utility, ``CE = -log(mean(exp(-r v))) / r`` (``r = 0``: the expected value),
as :func:`kursk_da.sensitivity._robustness.risk_attitude`.

:func:`explore` computes the same numbers in Python with the package's decision code
(:mod:`kursk_da.decision._metrics`, ``risk_attitude``) on the same subsample, and the
browser test compares the two.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from kursk_da.decision import _metrics as metrics
from kursk_da.dims import ATTRIBUTE, DRAW, OPTION, VALUE_UNITS
from kursk_da.dynamics.catalogue import ATTRIBUTE_NAMES, ATTRIBUTE_UNITS
from kursk_da.engine._run import values_from_attributes
from kursk_da.io._draws import draws_from_tree
from kursk_da.io._resultset import spec_from_tree
from kursk_da.report._document import Html
from kursk_da.report._numbers import format_estimate, format_with_error
from kursk_da.sensitivity._robustness import DEFAULT_RISK_AVERSION, risk_attitude
from kursk_da.spec._schema import WEIGHT_PREFIX, Spec

__all__ = ["EXPLORER_DRAWS", "EXPLORER_SPAWN_KEY", "RISK_AVERSION_MAX", "ExplorerData",
           "explorer_data", "explore", "explorer_display", "explorer_block"]

EXPLORER_DRAWS = 2000
"""Rows of ``/decision`` embedded in the explorer (all of them when there are fewer): with
7 attributes x 4 options and 7 weights per row, about 0.75 MB of base64 in the HTML."""

EXPLORER_SPAWN_KEY = 14
"""Spawn key of the explorer's subsample stream: ``SeedSequence(seed, spawn_key=(14,))``."""

RISK_AVERSION_MAX = 5 * DEFAULT_RISK_AVERSION
"""Upper end of the risk-aversion slider, 1/dkm2 (five times the package default)."""


@dataclass(frozen=True)
class ExplorerData:
    """The explorer's subsample.

    Attributes
    ----------
    rows : numpy.ndarray of int
        Rows of ``/decision`` (positions along ``draw``), increasing.
    options, attributes : tuple of str
        Option names (stored order) and attribute names (:data:`ATTRIBUTE_NAMES` order).
    weight_units : tuple of str
        Units of each weight, dkm2 per attribute unit.
    attribute_values : numpy.ndarray, shape (n, n_options, n_attributes)
    weights : numpy.ndarray, shape (n, n_attributes)
        Each row's value weights (fixed weights repeated).
    prior_mean : numpy.ndarray, shape (n_attributes,)
        Mean of each weight's prior (the sliders' start).
    slider_range : numpy.ndarray, shape (n_attributes, 2)
        Low and high end of each weight slider.
    inputs : numpy.ndarray, shape (n, n_inputs)
        The rows' inputs in ``spec.input_names`` order (for the package's value function).
    spec : Spec
    alpha : float
        CVaR tail probability.
    """

    rows: np.ndarray
    options: tuple[str, ...]
    attributes: tuple[str, ...]
    weight_units: tuple[str, ...]
    attribute_values: np.ndarray
    weights: np.ndarray
    prior_mean: np.ndarray
    slider_range: np.ndarray
    inputs: np.ndarray
    spec: Spec
    alpha: float


def _subsample_rows(n_rows: int, seed: int, size: int) -> np.ndarray:
    if n_rows <= size:
        return np.arange(n_rows)
    ss = np.random.SeedSequence(seed, spawn_key=(EXPLORER_SPAWN_KEY,))
    rows: np.ndarray = np.sort(np.random.default_rng(ss).choice(n_rows, size, replace=False))
    return rows


def explorer_data(tree: xr.DataTree, size: int = EXPLORER_DRAWS) -> ExplorerData:
    """The explorer's subsample of a result set (deterministic: the run's seed).

    Parameters
    ----------
    tree : xarray.DataTree
        A result set with ``/decision/attributes`` and the stored spec.
    size : int
        Rows to keep (default :data:`EXPLORER_DRAWS`).

    Returns
    -------
    ExplorerData

    Raises
    ------
    KeyError
        If the result set has no attributes.
    """
    dec = tree["decision"].dataset
    if "attributes" not in dec:
        raise KeyError("the result set has no /decision/attributes")
    spec = spec_from_tree(tree)
    draws = draws_from_tree(tree)
    attrs_da = dec["attributes"].transpose(DRAW, OPTION, ATTRIBUTE)
    names = [str(a) for a in attrs_da[ATTRIBUTE].values]
    order = [names.index(a) for a in ATTRIBUTE_NAMES]
    rows = _subsample_rows(attrs_da.sizes[DRAW], int(tree.attrs.get("seed", 0)), size)
    a = np.asarray(attrs_da.values, dtype=float)[rows][:, :, order]
    cols = []
    for name in spec.input_names:
        if name in draws.names:
            cols.append(draws.inputs[rows, draws.names.index(name)])
        else:  # a fixed input: its value
            cols.append(np.full(rows.size, float(spec.inputs[name].dist.mean())))
    x = np.column_stack(cols)
    wcols = [spec.input_names.index(WEIGHT_PREFIX + k) for k in ATTRIBUTE_NAMES]
    means = np.array([float(spec.weights[k].dist.mean()) for k in ATTRIBUTE_NAMES])
    rng = []
    for k, m in zip(ATTRIBUTE_NAMES, means, strict=True):
        q = np.asarray(spec.weights[k].dist.ppf(np.array([0.01, 0.99])), dtype=float)
        rng.append((min(0.0, float(q[0]), 2 * m), max(0.0, float(q[1]), 2 * m)))
    options = tuple(str(o) for o in attrs_da[OPTION].values)
    units = tuple(spec.weights[k].units or f"{VALUE_UNITS}/{ATTRIBUTE_UNITS[k]}"
                  for k in ATTRIBUTE_NAMES)
    alpha = float(tree.attrs.get("cvar_alpha", dec.attrs.get("cvar_alpha", 0.05)))
    return ExplorerData(rows, options, tuple(ATTRIBUTE_NAMES), units, a, x[:, wcols], means,
                        np.array(rng), x, spec, alpha)


def _weights_matrix(data: ExplorerData, weights: Mapping[str, float] | None,
                    keep_uncertainty: bool) -> np.ndarray:
    s = data.prior_mean.copy()
    for name, val in (weights or {}).items():
        if name not in data.attributes:
            raise KeyError(f"weights: unknown attribute {name!r}; expected some of "
                           f"{list(data.attributes)}")
        s[data.attributes.index(name)] = float(val)
    if not keep_uncertainty:
        return np.broadcast_to(s, data.weights.shape).copy()
    w = data.weights.copy()
    for k in range(s.size):
        m = data.prior_mean[k]
        w[:, k] = w[:, k] * (s[k] / m) if m != 0 else w[:, k] + (s[k] - m)
    return w


def explore(data: ExplorerData, weights: Mapping[str, float] | None = None,
            risk_aversion: float = 0.0, keep_uncertainty: bool = True) -> pd.DataFrame:
    """The explorer's numbers in Python, on its subsample.

    Parameters
    ----------
    data : ExplorerData
        :func:`explorer_data` of the result set.
    weights : mapping of str to float, optional
        Attribute -> the weight's mean (dkm2 per attribute unit); the others keep their
        prior mean.
    risk_aversion : float
        ``r`` >= 0 (1/dkm2) of the certainty equivalent; 0 ranks by expected value.
    keep_uncertainty : bool
        Scale each draw's weight to the new mean (True) or use the mean for every draw.

    Returns
    -------
    pandas.DataFrame
        One row per option (stored order), columns ``expected_value``,
        ``expected_value_mcse``, ``certainty_equivalent``, ``prob_best``,
        ``prob_best_mcse``, ``cvar``, ``cvar_mcse`` (dkm2, probabilities in 1; MCSEs of
        independent rows, ``sd / sqrt(n)``) and ``rank`` (1 = highest certainty
        equivalent; ties keep the stored order).
    """
    if not (np.isfinite(risk_aversion) and risk_aversion >= 0):
        raise ValueError(f"risk_aversion: expected a number >= 0 (1/dkm2), got {risk_aversion}")
    x = data.inputs.copy()
    wcols = [data.spec.input_names.index(WEIGHT_PREFIX + k) for k in data.attributes]
    x[:, wcols] = _weights_matrix(data, weights, keep_uncertainty)
    v = values_from_attributes(data.spec, x, data.attribute_values)
    ev, ev_mcse = metrics.expected_value(v)
    infl = metrics.influence_values(v, data.alpha)
    if risk_aversion > 0:
        ce = risk_attitude(v, data.options, alpha=data.alpha,
                           risk_aversion=float(risk_aversion))["certainty_equivalent"].values
    else:
        ce = ev
    order = np.argsort(-np.asarray(ce), kind="stable")
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(1, len(order) + 1)
    return pd.DataFrame({
        "expected_value": ev, "expected_value_mcse": ev_mcse,
        "certainty_equivalent": np.asarray(ce, dtype=float),
        "prob_best": metrics.prob_best(v),
        "prob_best_mcse": np.atleast_1d(metrics.mean_mcse(infl["prob_best"])),
        "cvar": metrics.cvar(v, data.alpha),
        "cvar_mcse": np.atleast_1d(metrics.mean_mcse(infl["cvar"])),
        "rank": rank,
    }, index=pd.Index(list(data.options), name=OPTION))


def explorer_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The explorer's table as the browser shows it: text cells, ranked rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`explore`.

    Returns
    -------
    pandas.DataFrame
        Rows by rank; columns ``rank``, ``expected value``, ``certainty equivalent``,
        ``P(best)``, ``CVaR`` as the strings of :mod:`kursk_da.report._numbers`.
    """
    f = frame.sort_values("rank")
    return pd.DataFrame({
        "rank": [str(int(r)) for r in f["rank"]],
        "expected value": [format_with_error(a, b) for a, b in
                           zip(f["expected_value"], f["expected_value_mcse"], strict=True)],
        "certainty equivalent": [format_estimate(a, b) for a, b in
                                 zip(f["certainty_equivalent"], f["expected_value_mcse"],
                                     strict=True)],
        "P(best)": [format_estimate(a, b) for a, b in
                    zip(f["prob_best"], f["prob_best_mcse"], strict=True)],
        "CVaR": [format_with_error(a, b) for a, b in
                 zip(f["cvar"], f["cvar_mcse"], strict=True)],
    }, index=f.index)


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f8").tobytes()).decode("ascii")


def _payload(data: ExplorerData) -> dict[str, Any]:
    return {
        "n": int(data.rows.size), "options": list(data.options),
        "attributes": list(data.attributes), "units": list(data.weight_units),
        "prior_mean": [float(m) for m in data.prior_mean],
        "range": [[float(lo), float(hi)] for lo, hi in data.slider_range],
        "alpha": data.alpha, "risk_max": RISK_AVERSION_MAX,
        "attribute_values": _b64(data.attribute_values), "weights": _b64(data.weights),
    }


_SCRIPT_JSON = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "\u2028": "\\u2028", "\u2029": "\\u2029"})


def script_json(obj: Any) -> str:
    """``obj`` as JSON safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e``, ``\\u0026`` (so no
    string of a spec or a result set can close the element or open a comment) and the
    line separators U+2028/U+2029 as escapes (a JavaScript parser older than ES2019 ends
    a string at them); ``JSON.parse`` reads the same values back.
    """
    return json.dumps(obj, separators=(",", ":")).translate(_SCRIPT_JSON)


def _script() -> str:
    """The explorer's JavaScript (``_explorer.js`` beside this module)."""
    return resources.files("kursk_da.report").joinpath("_explorer.js").read_text("utf-8")




def explorer_html(data: ExplorerData, units: str = VALUE_UNITS) -> str:
    """The explorer's HTML: sliders, table, embedded subsample (JSON) and inline script."""
    rows = []
    for k, a in enumerate(data.attributes):
        lo, hi = (float(x) for x in data.slider_range[k])
        mean = float(data.prior_mean[k])
        rows.append(
            f"<div class=\"kd-slider\"><label for=\"kd-w-{a}\">weight of {html.escape(a)} "
            f"({html.escape(data.weight_units[k])}; prior mean {mean:.3g})</label>"
            f"<input type=\"range\" id=\"kd-w-{a}\" data-weight=\"{a}\" min=\"{lo!r}\" "
            f"max=\"{hi!r}\" step=\"any\" value=\"{mean!r}\">"
            f"<output id=\"kd-w-{a}-out\"></output></div>")
    rows.append(
        f"<div class=\"kd-slider\"><label for=\"kd-risk\">risk aversion r (1/{units}; 0 = risk "
        f"neutral, the package's default for its risk table is {DEFAULT_RISK_AVERSION:g})"
        f"</label><input type=\"range\" id=\"kd-risk\" min=\"0\" "
        f"max=\"{float(RISK_AVERSION_MAX)!r}\" step=\"any\" value=\"0\">"
        "<output id=\"kd-risk-out\"></output></div>")
    payload = script_json(_payload(data))
    alpha = f"{data.alpha:.0%}"
    return (
        "<div class=\"explorer\" id=\"kd-explorer\">"
        f"<p>Set the value weights (each slider sets the weight's mean) and the risk aversion; "
        f"the table recomputes the expected value, the certainty equivalent (the ranking "
        f"criterion; equal to the expected value when r = 0), the probability of being best "
        f"and the CVaR {alpha} on {data.rows.size:,} draws of the result set (a fixed, seeded "
        f"subsample), in {units}. Numbers are rounded to their Monte Carlo error on these "
        "draws, so they can differ slightly from the full-sample tables.</p>"
        f"<div class=\"kd-sliders\">{''.join(rows)}</div>"
        "<p><label><input type=\"checkbox\" id=\"kd-keep\" checked> keep the weights' "
        "uncertainty (each draw's weight scaled to the slider's mean; unchecked: every draw "
        "uses the slider's value)</label> <button type=\"button\" id=\"kd-reset\">Reset to "
        "the prior means</button></p>"
        "<table id=\"kd-explorer-table\"><caption>Options under your weights (ranked)"
        f"</caption><thead><tr><th>rank</th><th>option</th><th>expected value ({units})</th>"
        f"<th>certainty equivalent ({units})</th><th>P(best)</th><th>CVaR {alpha} ({units})"
        "</th></tr></thead><tbody id=\"kd-explorer-rows\"></tbody></table>"
        "<p id=\"kd-explorer-best\"></p></div>"
        f"<script type=\"application/json\" id=\"kd-explorer-data\">{payload}</script>"
        f"<script>{_script()}</script>")


def explorer_block(tree: xr.DataTree) -> Html:
    """The explorer as a report block (Markdown: a pointer to the HTML report)."""
    data = explorer_data(tree)
    units = str(tree.attrs.get("value_units", VALUE_UNITS))
    md = (f"The interactive weight explorer (sliders for each value weight and the risk "
          f"aversion, recomputing the expected values, P(best), ranking and CVaR on "
          f"{data.rows.size:,} draws) is in report.html: open it in a browser, it needs no "
          "network.")
    return Html(explorer_html(data, units), md)
