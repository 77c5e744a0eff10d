r"""Observation likelihood: measurement error plus the engine's front-shock variability.

For observation ``i`` with model prediction ``mu_i(theta)`` on the deterministic
skeleton (front shocks ``eps = 0``), on the natural scale (``sd`` given, "normal"
family) or the log scale (``interval`` given, "lognormal" family)::

    r_i = (value_i - mu_i) / s_i              (normal)
    r_i = (log(value_i + c_i) - log(mu_i + c_i)) / s_i    (lognormal)
    r_i ~ Student-t(nu = 4)                   (robust, heavy tailed)

with total scale ``s_i^2 = m_i^2 + tau_i^2`` and the offset ``c_i = 0.05 value_i``
(:data:`OFFSET_FRACTION`): predictions below about 5 % of the reported figure are
not told apart. Without it the log scale would put an unbounded curvature on the
prediction ``mu -> 0`` (the area held reaching zero), a spike in the gradient that
makes NUTS diverge.

* ``m_i`` the measurement scale, set so that the t distribution's central interval of
  the stated ``level`` is the stated interval, ``m = ln(hi/lo) / (2 t_nu((1+level)/2))``;
  with ``sd`` given, ``m`` makes the t's standard deviation ``sd``:
  ``m = sd * sqrt((nu - 2) / nu)``.
* ``tau_i`` the **process scale**: the variability the engine's daily front shocks add
  around the skeleton, which the skeleton itself does not carry. It is estimated once
  per model from ``n`` prior draws simulated with and without shocks (same
  parameters) as the robust standard deviation ``1.4826 * median |d|`` of the
  difference ``d`` (of the logs for the lognormal family); a model constant (seeded,
  default seed 0).

Why Student-t and not a Gaussian: the figures of the essay are approximate ("about
half", "within days"), and the campaign dynamics have cliffs -- parameter regions
where the Ukrainian force is annihilated and the area held collapses to zero within
days. A Gaussian error turns such a cliff into a wall of several hundred nats that
makes NUTS diverge; the t likelihood (4 degrees of freedom) keeps the same central
interval but bounds the penalty of a far-off prediction, so the sampler stays
exact and efficient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pytensor.tensor as pt
from scipy import stats

from kursk_da.calibration._skeleton import ObservationMap, read_observables
from kursk_da.dynamics.reference import simulate_plan

if TYPE_CHECKING:
    from kursk_da.spec._observations import Observation
    from kursk_da.spec._schema import Spec

__all__ = [
    "OFFSET_FRACTION",
    "offsets",
    "process_scales",
    "NU",
    "measurement_scales",
    "total_scales",
    "loglik_pytensor",
    "loglik_numpy",
    "predictive_draws",
]

OFFSET_FRACTION = 0.05
"""Offset of the lognormal family, as a fraction of the observed value."""

NU = 4.0
"""Degrees of freedom of the Student-t observation error."""

_MAD = 1.4826  # MAD -> sd for a normal


def process_scales(
    spec: Spec,
    observations: Sequence[Observation],
    omap: ObservationMap,
    *,
    n: int = 1000,
    seed: int = 0,
) -> np.ndarray:
    """Front-shock variability ``tau`` of each observation (see module docstring).

    Parameters
    ----------
    spec : Spec
    observations : sequence of Observation
    omap : ObservationMap
        Of the same observations.
    n : int
        Prior draws used.
    seed : int
        Seed of the prior draws and shocks.

    Returns
    -------
    numpy.ndarray (m,)
        In the observation's units (normal) or of the log (lognormal).
    """
    from kursk_da.spec._sampling import sample_inputs

    if not observations:
        return np.zeros(0)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    theta = sample_inputs(spec, n, rng)
    z = rng.standard_normal((n, omap.n_days))
    shocked = read_observables(simulate_plan(theta, omap.const, omap.ref, z), theta, omap)
    plain = read_observables(simulate_plan(theta, omap.const, omap.ref, np.zeros_like(z)),
                             theta, omap)
    out = np.empty(len(observations))
    for i, ob in enumerate(observations):
        a, b = shocked[:, i], plain[:, i]
        if ob.likelihood in ("lognormal", "claim"):
            c = OFFSET_FRACTION * abs(ob.value)
            d = np.log(np.maximum(a + c, 1e-300)) - np.log(np.maximum(b + c, 1e-300))
        else:
            d = a - b
        out[i] = _MAD * float(np.median(np.abs(d)))
    return out


def measurement_scales(observations: Sequence[Observation]) -> np.ndarray:
    """Measurement scale ``m_i`` of the t error (see module docstring)."""
    out = np.empty(len(observations))
    for i, o in enumerate(observations):
        if o.interval is not None:
            lo, hi = o.interval
            assert o.level is not None, "an interval observation has a level (parse_observation)"
            out[i] = math.log(hi / lo) / (2.0 * float(stats.t.ppf(0.5 + o.level / 2.0, NU)))
        else:
            out[i] = o.scale * math.sqrt((NU - 2.0) / NU)
    return out


def total_scales(observations: Sequence[Observation], tau: np.ndarray) -> np.ndarray:
    """``s_i = sqrt(m_i^2 + tau_i^2)`` (see module docstring)."""
    m = measurement_scales(observations)
    s: np.ndarray = np.sqrt(m**2 + np.asarray(tau, dtype=float) ** 2)
    return s


def _is_log(observations: Sequence[Observation]) -> np.ndarray:
    return np.array([o.likelihood == "lognormal" for o in observations], dtype=bool)


def offsets(observations: Sequence[Observation]) -> np.ndarray:
    """Offset ``c_i`` of each observation (0 for the normal family)."""
    return np.array([OFFSET_FRACTION * abs(o.value) if o.likelihood in ("lognormal", "claim")
                     else 0.0 for o in observations])


def _t_const() -> float:
    return math.lgamma((NU + 1) / 2) - math.lgamma(NU / 2) - 0.5 * math.log(NU * math.pi)


def loglik_pytensor(value: Any, mu: Any, scale: Any, is_log: Any, offset: Any) -> Any:
    """Elementwise log likelihood (PyTensor), the ``logp`` of the observed CustomDist.

    Parameters
    ----------
    value, mu, scale : tensors (m,)
        Observed value, model prediction, total scale ``s``.
    is_log : tensor (m,)
        1.0 for the lognormal family, 0.0 for the normal one.
    offset : tensor (m,)
        ``c_i`` (units of the observation).
    """
    log_fam = pt.gt(is_log, 0.5)
    lv = pt.log(pt.maximum(value + offset, 1e-300))
    lm = pt.log(pt.maximum(mu + offset, 1e-300))
    r = pt.switch(log_fam, lv - lm, value - mu) / scale
    jac = pt.switch(log_fam, lv, 0.0)  # density of value, not of log(value + c)
    return _t_const() - 0.5 * (NU + 1) * pt.log1p(r * r / NU) - pt.log(scale) - jac


def loglik_numpy(value: np.ndarray, mu: np.ndarray, scale: np.ndarray,
                 is_log: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`loglik_pytensor` (broadcasting over leading draw axes)."""
    lv = np.log(np.maximum(value + offset, 1e-300))
    lm = np.log(np.maximum(mu + offset, 1e-300))
    r = np.where(is_log, lv - lm, value - mu) / scale
    jac = np.where(is_log, lv, 0.0)
    ll: np.ndarray = _t_const() - 0.5 * (NU + 1) * np.log1p(r * r / NU) - np.log(scale) - jac
    return ll


def predictive_draws(
    mu: np.ndarray, scale: np.ndarray, is_log: np.ndarray, offset: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draws of the observations given predictions ``mu`` (..., m).

    Parameters
    ----------
    mu : array (..., m)
        Model predictions.
    scale, offset : arrays (m,)
        Total scales ``s`` and offsets ``c``.
    is_log : bool array (m,)
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape of ``mu``
        Lognormal-family draws exceed ``-c`` (the support of the likelihood); they
        are not floored at 0, to stay the exact generative model of the likelihood.
    """
    e = rng.standard_t(NU, size=np.shape(mu)) * scale
    logged = np.exp(np.log(np.maximum(mu + offset, 1e-300)) + e) - offset
    draws: np.ndarray = np.where(is_log, logged, mu + e)
    return draws
