r"""Claimant bias: the observation model of the public figures (issue 11).

A row of the data set (likelihood ``"claim"``, :mod:`kursk_da.spec._observations`) is a
*claim* ``y_i`` by a claimant of family ``f`` about a quantity of kind ``k`` (``control``,
``strength``, ``losses``). With the model's value ``mu_i`` on the skeleton
(:mod:`kursk_da.calibration._skeleton`)::

    loc_i = log(b[f, k] * g_i * (mu_i + a_i) + c_i)
    r_i   = (log(y_i + c_i) - loc_i) / s_i ~ Student-t(4)

* ``b[f, k]`` the **claimant bias** (multiplicative; 1 = unbiased), partially pooled:
  ``log b[f, k] = m_k + sigma_b * z[f, k]`` with ``z ~ N(0, 1)``, the kind mean
  ``m_k ~ N(KIND_PRIOR_MEAN[k], KIND_PRIOR_SD)`` and the spread of the families around it
  ``sigma_b ~ LogNormal(BIAS_SPREAD_PRIOR)`` (one spread for all kinds: two or three
  families per kind cannot estimate a spread each). Priors are analyst judgement
  (docs/observations.md).
* ``g_i`` the grey-zone factor for ``area_held_incl_grey`` (else 1), ``a_i`` the area of
  ISW's layer at its start for ``area_retaken_isw_layer`` (else 0).
* ``s_i = sqrt(m_i^2 + tau_i^2)``: the row's measurement error (the spec's
  ``measurement_error`` by kind, as a t scale) and the front-shock variability ``tau_i``
  (:func:`kursk_da.calibration._likelihood.process_scales`). ``c_i`` = 5 % of ``y_i``.
* Bounds are censored: "at least" ``P(y >= low)``, "up to" ``P(y <= high)``, an interval
  ``P(low <= y <= high)``, from the closed-form CDF of the t distribution with 4 degrees
  of freedom (:func:`t4_logcdf`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kursk_da.calibration._likelihood import NU, _t_const

if TYPE_CHECKING:
    from kursk_da.spec._observations import Observation

__all__ = [
    "KIND_PRIOR_MEAN",
    "KIND_PRIOR_SD",
    "BIAS_SPREAD_PRIOR",
    "GREY_ZONE_PRIOR",
    "ISW_LAYER_START_PRIOR",
    "FAMILY_LABELS",
    "ClaimModel",
    "claim_model",
    "t4_logcdf",
    "claim_loglik",
    "claim_predictive",
    "obs_model_prior_draws",
    "simulated_censoring",
    "bias_sentences",
]

KIND_PRIOR_MEAN: dict[str, float] = {"control": 0.10, "strength": 0.05, "losses": 0.30}
"""Prior mean of the log bias of each kind of claim (analyst judgement: own-control claims
run ~10% high, troop counts ~5%, claimed enemy losses ~35% high)."""
KIND_PRIOR_SD = 0.25
"""Prior sd of the kind means (log scale; analyst judgement: a factor of 1.5 at 90%)."""
BIAS_SPREAD_PRIOR = (math.log(0.15), 0.5)
"""Lognormal (log median, log sd) of the spread ``sigma_b`` of the families' log biases
around the kind mean: 90% between 0.066 and 0.34, i.e. two families' claims of one kind
typically differ by 10% to 60%. Analyst judgement that claimant families *do* differ (the
data set's README: Ukrainian figures run close to "OSINT including the grey zone", Russian
claims of enemy losses above Ukraine's own) and that a spread near 0 is not credible.
It replaced ``HalfNormal(0.25)`` (issue 11, item 4): the half-normal put its mode at 0,
where the non-centred hierarchy becomes a funnel in ``log sigma_b``; its posterior
(median 0.12, 90% [0.03, 0.30]) was the one parameter failing R-hat (1.016)."""
GREY_ZONE_PRIOR = (math.log(1.4), 0.15)
"""Lognormal (log mean, log sd) of the grey-zone factor (area incl. grey / firm control):
analyst judgement, the grey zone adds 10-80% to the firm control of a salient."""
ISW_LAYER_START_PRIOR = (math.log(60.0), 0.8)
"""Lognormal prior of the ISW layer's area at its start (km2): the ground of the opening
days of the Russian counter-offensive of 10-11 Sep 2024, which the model's front does not
resolve (analyst judgement; the layer starts at 47.55 km2 on 11 Sep)."""

FAMILY_LABELS = {"ua_officials": "Ukrainian officials",
                 "ru_officials": "the Russian MoD/commanders",
                 "osint_maps": "OSINT map projects", "third_party": "third-party governments"}
_KIND_WORDS = {"control": "area", "strength": "troop-count", "losses": "loss"}
_KINDS = tuple(KIND_PRIOR_MEAN)
_CENSOR = {"none": 0, "lower": 1, "upper": 2, "interval": 3}


@dataclass(frozen=True)
class ClaimModel:
    """Constants of the claim likelihood of the used observations.

    Attributes
    ----------
    combos : tuple of (family, kind)
        The biases of the model (those present among the observations).
    combo_index : int array (m,)
        Bias of each observation.
    kinds : tuple of str
        Kinds present; ``kind_index`` (n_combos,) maps a bias to its kind.
    grey, isw : float arrays (m,)
        1.0 where the grey-zone factor / the ISW layer start applies.
    censoring : int array (m,)
        0 point, 1 at least, 2 up to, 3 interval.
    low, high : float arrays (m,)
        Bounds (value where not given).
    names : tuple of str
        Labels of the observation-model parameters (``OBS_PARAMETER`` coordinate).
    """

    combos: tuple[tuple[str, str], ...]
    combo_index: np.ndarray
    kinds: tuple[str, ...]
    kind_index: np.ndarray
    grey: np.ndarray
    isw: np.ndarray
    censoring: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @property
    def names(self) -> tuple[str, ...]:
        """Labels of :func:`obs_theta` entries."""
        return (*(f"bias[{f}:{k}]" for f, k in self.combos),
                *(f"bias_kind_mean[{k}]" for k in self.kinds), "bias_spread",
                "grey_zone_factor", "isw_layer_start_km2")


def claim_model(observations: Sequence[Observation]) -> ClaimModel:
    """The :class:`ClaimModel` of claim observations."""
    combos = tuple(sorted({(o.family, o.kind) for o in observations},
                          key=lambda fk: (_KINDS.index(fk[1]), fk[0])))
    kinds = tuple(k for k in _KINDS if any(c[1] == k for c in combos))
    return ClaimModel(
        combos=combos,
        combo_index=np.array([combos.index((o.family, o.kind)) for o in observations],
                             dtype=np.int64),
        kinds=kinds,
        kind_index=np.array([kinds.index(k) for _, k in combos], dtype=np.int64),
        grey=np.array([float(o.quantity == "area_held_incl_grey") for o in observations]),
        isw=np.array([float(o.quantity == "area_retaken_isw_layer") for o in observations]),
        censoring=np.array([_CENSOR[o.censoring] for o in observations], dtype=np.int64),
        low=np.array([o.low if o.low is not None else o.value for o in observations]),
        high=np.array([o.high if o.high is not None else o.value for o in observations]),
    )


def t4_logcdf(z: Any, ops: Any) -> Any:
    r"""Log CDF of the Student-t distribution with 4 degrees of freedom (closed form).

    With ``r = sqrt(4 + z^2)`` and ``q = |z| / r``, the tail is
    ``P(T > |z|) = (1 - q)^2 (q + 2) / 4`` and ``1 - q = 4 / (r (r + |z|))`` (no
    cancellation in the far tail). ``ops`` is ``numpy`` or ``pytensor.tensor``.
    """
    a = ops.abs(z)
    r = ops.sqrt(4.0 + z * z)
    omq = 4.0 / (r * (r + a))
    ltail = math.log(0.25) + 2.0 * ops.log(omq) + ops.log(a / r + 2.0)
    return ops.switch(z < 0, ltail, ops.log1p(-ops.exp(ltail))) if ops is not np else \
        np.where(z < 0, ltail, np.log1p(-np.exp(ltail)))


def _loc(mu: Any, log_bias: Any, grey: Any, isw: Any, log_g: Any, start: Any, offset: Any,
         ops: Any) -> Any:
    base = mu + isw * start
    scale = ops.exp(log_bias + grey * log_g)
    return ops.log(ops.maximum(scale * base + offset, 0.01 * offset + 1e-300))


def claim_loglik(value: Any, mu: Any, log_bias: Any, log_g: Any, start: Any, scale: Any,
                 offset: Any, cm: ClaimModel, ops: Any) -> Any:
    """Pointwise log likelihood of the claims (``ops``: numpy or pytensor.tensor).

    ``log_bias`` (..., m) is the log bias of each observation's family and kind;
    ``log_g``, ``start`` (..., 1) or scalars the log grey-zone factor and the layer start.
    """
    loc = _loc(mu, log_bias, cm.grey, cm.isw, log_g, start, offset, ops)
    lv = ops.log(value + offset)
    r = (lv - loc) / scale
    point = _t_const() - 0.5 * (NU + 1) * ops.log1p(r * r / NU) - ops.log(scale) - lv
    zl = (ops.log(cm.low + offset) - loc) / scale
    zh = (ops.log(cm.high + offset) - loc) / scale
    lower = t4_logcdf(-zl, ops)                    # P(y >= low)
    upper = t4_logcdf(zh, ops)                     # P(y <= high)
    lh, ll = t4_logcdf(zh, ops), t4_logcdf(zl, ops)
    if ops is np:
        inter = lh + np.log1p(-np.exp(np.minimum(ll - lh, -1e-12)))
        c = cm.censoring
        return np.where(c == 0, point, np.where(c == 1, lower, np.where(c == 2, upper, inter)))
    inter = lh + ops.log1p(-ops.exp(ops.minimum(ll - lh, -1e-12)))
    c = cm.censoring
    return ops.switch(ops.eq(c, 0), point, ops.switch(ops.eq(c, 1), lower,
                                                     ops.switch(ops.eq(c, 2), upper, inter)))


def claim_predictive(mu: np.ndarray, log_bias: np.ndarray, log_g: np.ndarray,
                     start: np.ndarray, scale: np.ndarray, offset: np.ndarray, cm: ClaimModel,
                     rng: np.random.Generator) -> np.ndarray:
    """Draws of the claims (..., m) given predictions and observation-model draws."""
    loc = _loc(mu, log_bias, cm.grey, cm.isw, log_g, start, offset, np)
    e = rng.standard_t(NU, size=np.shape(loc)) * scale
    out: np.ndarray = np.exp(loc + e) - offset
    return out


def obs_model_prior_draws(cm: ClaimModel, n: int, rng: np.random.Generator
                          ) -> dict[str, np.ndarray]:
    """Prior draws of the observation-model parameters (``log_bias`` (n, n_combos), ...)."""
    mk = np.array([KIND_PRIOR_MEAN[k] for k in cm.kinds])
    m = mk + KIND_PRIOR_SD * rng.standard_normal((n, len(cm.kinds)))
    sb = np.exp(BIAS_SPREAD_PRIOR[0] + BIAS_SPREAD_PRIOR[1] * rng.standard_normal((n, 1)))
    z = rng.standard_normal((n, len(cm.combos)))
    log_bias = m[:, cm.kind_index] + sb * z
    log_g = GREY_ZONE_PRIOR[0] + GREY_ZONE_PRIOR[1] * rng.standard_normal((n, 1))
    start = np.exp(ISW_LAYER_START_PRIOR[0] + ISW_LAYER_START_PRIOR[1]
                   * rng.standard_normal((n, 1)))
    obs_theta = np.concatenate([np.exp(log_bias), np.exp(m), sb, np.exp(log_g), start], axis=1)
    return {"log_bias": log_bias, "log_g": log_g, "start": start, "obs_theta": obs_theta}


def simulated_censoring(y: np.ndarray, cm: ClaimModel
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The censoring events of simulated claims ``y`` (m,) at the data set's bounds.

    A bound row of the data set records an *event* of the claim, not its value: "at
    least ``low``" is ``y >= low``. For a simulated claim the same bound gives whichever
    event happened: ``y >= low`` keeps "at least low", ``y < low`` becomes "up to low";
    "up to ``high``" likewise; a range ``[low, high]`` keeps the range when ``y`` is
    inside it, else becomes "up to low" or "at least high". Point rows stay points. The
    likelihood of each event is the censored likelihood of :func:`claim_loglik`, so data
    simulated this way follow the model exactly (simulation-based calibration).

    Returns
    -------
    censoring, low, high : arrays (m,)
        Codes (0 point, 1 at least, 2 up to, 3 range) and bounds, in the claim's units.
    """
    y = np.asarray(y, dtype=float)
    c = cm.censoring.copy()
    low, high = cm.low.copy(), cm.high.copy()
    at_least, up_to, rng_ = c == _CENSOR["lower"], c == _CENSOR["upper"], c == _CENSOR["interval"]
    flip = at_least & (y < low)                    # at least low -> up to low
    c[flip], high[flip] = _CENSOR["upper"], low[flip]
    flip = up_to & (y > high)                      # up to high -> at least high
    c[flip], low[flip] = _CENSOR["lower"], high[flip]
    below, above = rng_ & (y < cm.low), rng_ & (y > cm.high)
    c[below], high[below] = _CENSOR["upper"], cm.low[below]
    c[above], low[above] = _CENSOR["lower"], cm.high[above]
    return c, low, high


def bias_sentences(table: Any) -> list[str]:
    """One sentence per claimant bias, e.g. "the Russian MoD/commanders' loss claims are
    1.9 [1.2, 3.1] times the model's value (90% interval)"; ``table`` is the
    observation-model table of :class:`kursk_da.calibration.Diagnostics`."""
    out = []
    for name, r in table.iterrows():
        if not str(name).startswith("bias["):
            continue
        fam, kind = str(name)[5:-1].split(":")
        out.append(f"{FAMILY_LABELS.get(fam, fam)}: {_KIND_WORDS.get(kind, kind)} claims are "
                   f"{r['median']:.2f} [{r['lower_90']:.2f}, {r['upper_90']:.2f}] times the "
                   "model's value (posterior median, 90% interval)")
    return out
