"""Probability distributions of uncertain model parameters.

A model spec describes every uncertain input by a small TOML table.  This
module turns such a table into a :class:`Distribution`, an immutable object with
the canonical parameters of one family and vectorised ``ppf``/``cdf``/``logpdf``
methods.  All numbers are in the units of the quantity being described (the
caller's units); nothing here converts or assumes units.

Supported TOML forms
--------------------
The key names below are a contract.  Keys listed in ``ignore`` (by default
``units``, ``source``, ``description``, ``group`` and ``label``) may appear in any
table and are not looked at.

A bare number is a fixed (known) value::

    ru_brigades = 12

Fixed, explicit form::

    ru_brigades = { dist = "fixed", value = 12 }

Normal (``sd > 0``)::

    advance_km = { dist = "normal", mean = 25.0, sd = 5.0 }

Lognormal with median ``median > 0`` and ``sigma > 0`` the standard deviation of
the natural log::

    ru_garrison = { dist = "lognormal", median = 5e4, sigma = 0.12 }

Gamma, either by shape and scale or moment matched from mean and sd::

    repair_days = { dist = "gamma", shape = 4.0, scale = 2.5 }
    repair_days = { dist = "gamma", mean = 10.0, sd = 5.0 }

Beta on ``[lower, upper]`` (default ``[0, 1]``), either by shape parameters or
moment matched from mean and sd (an error if no beta has those moments)::

    p_breakthrough = { dist = "beta", a = 2.0, b = 5.0 }
    share_lost = { dist = "beta", a = 2.0, b = 5.0, lower = 0.1, upper = 0.6 }
    p_breakthrough = { dist = "beta", mean = 0.3, sd = 0.1 }

Uniform (``lower < upper``)::

    delay_days = { dist = "uniform", lower = 2.0, upper = 9.0 }

Truncated normal; ``mean`` and ``sd`` are those of the *untruncated* normal and
either bound may be omitted (meaning infinite)::

    losses_per_day = { dist = "truncnormal", mean = 120.0, sd = 60.0, lower = 0.0 }
    morale = { dist = "truncnormal", mean = 0.5, sd = 0.3, lower = 0.0, upper = 1.0 }

PERT (a beta on ``[min, max]`` with ``alpha = 1 + lamb*(mode-min)/(max-min)`` and
``beta = 1 + lamb*(max-mode)/(max-min)``; ``lamb`` defaults to 4) and
triangular::

    shell_rate = { dist = "pert", min = 2e3, mode = 8e3, max = 2e4 }
    shell_rate = { dist = "pert", min = 2e3, mode = 8e3, max = 2e4, lamb = 6 }
    shell_rate = { dist = "triangular", min = 2e3, mode = 8e3, max = 2e4 }

Elicitation from a stated central interval: ``interval = [lo, hi]`` with
``level`` (default 0.9, strictly between 0 and 1) means
``P(lo <= X <= hi) = level`` with equal probability ``(1 - level)/2`` in each
tail.  Allowed for ``normal`` and ``lognormal`` (closed form), ``gamma``,
``beta`` (optionally with ``lower``/``upper`` scaling bounds), ``truncnormal``
(optionally with ``lower``/``upper`` truncation bounds; the untruncated mean and
sd are solved for so that the *truncated* distribution has those quantiles) and
``uniform`` (closed form: the bounds are extended by ``(1-level)/2`` of the
width on each side)::

    ru_garrison = { dist = "lognormal", interval = [4e4, 6e4] }            # 90 %
    ru_garrison = { dist = "normal", interval = [4e4, 6e4], level = 0.8 }
    repair_days = { dist = "gamma", interval = [3.0, 20.0] }
    p_breakthrough = { dist = "beta", interval = [0.1, 0.5], level = 0.95 }
    losses_per_day = { dist = "truncnormal", interval = [20, 250], lower = 0 }
    delay_days = { dist = "uniform", interval = [3.0, 8.0], level = 0.8 }

The interval must be two increasing finite numbers strictly inside the
family's support.  Fitted (non closed form) solutions are checked to reproduce
both quantiles to a relative accuracy of 1e-6; otherwise a
:class:`~kursk_da.errors.SpecError` says that the family cannot match the
interval.  The elicitation inputs (and the inputs of moment matching) are kept
in :attr:`Distribution.elicited_from` for provenance.

Every problem with the input raises :class:`~kursk_da.errors.SpecError` whose
``path`` is the dotted path of the offending key (e.g.
``parameters.ru_garrison.sigma``).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from kursk_da.errors import SpecError

__all__ = [
    "DEFAULT_IGNORED_KEYS",
    "DEFAULT_LEVEL",
    "DISTRIBUTION_KINDS",
    "Distribution",
    "parse_distribution",
]

#: Keys that may appear in any distribution table and are not interpreted.
DEFAULT_IGNORED_KEYS: tuple[str, ...] = ("units", "source", "description", "group", "label")

#: Default probability content of an elicited ``interval``.
DEFAULT_LEVEL: float = 0.9

#: Relative accuracy to which a fitted distribution must reproduce an interval.
_MATCH_RTOL = 1e-6

FloatArray = np.ndarray


# --------------------------------------------------------------------------
# The Distribution object
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=True)
class Distribution:
    """A univariate probability distribution with canonical parameters.

    Parameters are in the units of the quantity described.  Build instances
    with :func:`parse_distribution` (which validates); the constructor only
    copies its inputs.

    Parameters
    ----------
    kind : str
        Family name, one of :data:`DISTRIBUTION_KINDS`.
    params : dict of str to float
        Canonical parameters of the family:

        - ``fixed``: ``value``
        - ``normal``: ``mean``, ``sd``
        - ``lognormal``: ``median``, ``sigma`` (sd of the natural log)
        - ``gamma``: ``shape``, ``scale``
        - ``beta``: ``a``, ``b``, ``lower``, ``upper``
        - ``uniform``: ``lower``, ``upper``
        - ``truncnormal``: ``mean``, ``sd`` (untruncated), ``lower``, ``upper``
          (possibly infinite)
        - ``pert``: ``min``, ``mode``, ``max``, ``lamb``
        - ``triangular``: ``min``, ``mode``, ``max``
    elicited_from : dict of str to float or None
        The user's inputs when the canonical parameters were derived from
        them: ``interval_lo``, ``interval_hi``, ``level`` for an elicited
        interval, or ``mean``, ``sd`` for moment matching.  ``None`` when the
        canonical parameters were given directly.
    """

    kind: str
    params: dict[str, float]
    elicited_from: dict[str, float] | None = None
    _cache: dict[str, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if self.kind not in _FORMS:
            raise ValueError(f"unknown distribution kind {self.kind!r}")
        object.__setattr__(self, "params", {k: float(v) for k, v in self.params.items()})
        if self.elicited_from is not None:
            object.__setattr__(
                self, "elicited_from", {k: float(v) for k, v in self.elicited_from.items()}
            )

    def __hash__(self) -> int:
        elicited = tuple(sorted((self.elicited_from or {}).items()))
        return hash((self.kind, tuple(sorted(self.params.items())), elicited))

    # -- basic properties -------------------------------------------------

    @property
    def is_fixed(self) -> bool:
        """bool : True for a point mass (a known value)."""
        return self.kind == "fixed"

    @property
    def support(self) -> tuple[float, float]:
        """tuple of float : Closure of the support, ``(lo, hi)``; may be infinite."""
        p = self.params
        if self.kind == "fixed":
            return (p["value"], p["value"])
        if self.kind == "normal":
            return (-math.inf, math.inf)
        if self.kind in ("lognormal", "gamma"):
            return (0.0, math.inf)
        if self.kind in ("beta", "uniform", "truncnormal"):
            return (p["lower"], p["upper"])
        return (p["min"], p["max"])  # pert, triangular

    def scipy(self) -> Any:
        """Return the equivalent frozen :mod:`scipy.stats` distribution.

        Returns
        -------
        scipy.stats frozen distribution or None
            ``None`` for a fixed value.
        """
        if "scipy" not in self._cache:
            self._cache["scipy"] = _make_scipy(self.kind, self.params)
        return self._cache["scipy"]

    # -- vectorised functions ---------------------------------------------

    def ppf(self, u: FloatArray) -> FloatArray:
        """Quantile function (inverse cdf).

        Parameters
        ----------
        u : array_like
            Probabilities in ``[0, 1]``; values outside give NaN.

        Returns
        -------
        numpy.ndarray
            float64 array of the same shape as `u`.
        """
        u = np.asarray(u, dtype=np.float64)
        if self.is_fixed:
            out = np.full(u.shape, self.params["value"])
            out[~((u >= 0.0) & (u <= 1.0))] = np.nan
            return out
        if self.kind == "truncnormal":
            fast = _truncnorm_quantile(self.params, u, upper_tail=False)
            if fast is not None:
                return fast
        return np.asarray(self.scipy().ppf(u), dtype=np.float64)

    def cdf(self, x: FloatArray) -> FloatArray:
        """Cumulative distribution function, float64 array shaped like `x`."""
        x = np.asarray(x, dtype=np.float64)
        if self.is_fixed:
            out = np.where(x >= self.params["value"], 1.0, 0.0)
            out[np.isnan(x)] = np.nan
            return out
        return np.asarray(self.scipy().cdf(x), dtype=np.float64)

    def logpdf(self, x: FloatArray) -> FloatArray:
        """Log density, float64 array shaped like `x`.

        Raises
        ------
        ValueError
            For a fixed value, which has no density.
        """
        if self.is_fixed:
            raise ValueError(
                "logpdf is not defined for a fixed value (a point mass has no density)"
            )
        return np.asarray(self.scipy().logpdf(np.asarray(x, dtype=np.float64)), dtype=np.float64)

    def rvs(self, size: int | tuple[int, ...], rng: np.random.Generator) -> FloatArray:
        """Draw a random sample as ``ppf(rng.random(size))``.

        Parameters
        ----------
        size : int or tuple of int
            Output shape.
        rng : numpy.random.Generator
            The only source of randomness; consumes ``rng.random(size)``.
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        return self.ppf(rng.random(size))

    def from_normal_scores(self, z: FloatArray) -> FloatArray:
        """Map standard normal scores to this distribution, ``ppf(Phi(z))``.

        Used by the Gaussian copula.  Normal and lognormal use the exact
        closed form on `z` directly (better in the tails than going through
        ``Phi``); the truncated normal uses ``ndtri`` on the appropriate tail.
        Gamma, beta and PERT, whose exact quantile functions are slow, use a
        cubic Hermite interpolant of ``z -> ppf(Phi(z))`` on 4097 nodes in
        ``[-8.5, 8.5]``, built in a transformed space (log or logit towards
        finite bounds) so that results stay strictly inside the support.  The interpolant is checked
        at every cell midpoint against the exact quantile (relative error to
        the nearest bound <= 1e-9) and is not used if the check fails; outside
        ``[-8.5, 8.5]`` the exact quantile is always used.

        Parameters
        ----------
        z : array_like
            Standard normal scores.

        Returns
        -------
        numpy.ndarray
            float64 array shaped like `z`.
        """
        z = np.asarray(z, dtype=np.float64)
        p = self.params
        if self.kind == "fixed":
            return np.full(z.shape, p["value"])
        if self.kind == "normal":
            return p["mean"] + p["sd"] * z
        if self.kind == "lognormal":
            return p["median"] * np.exp(p["sigma"] * z)
        if self.kind in _TABULATED_KINDS:
            table = self._normal_score_table()
            if table is not None:
                return table(z)
        return self._exact_from_normal_scores(z)

    # -- summaries --------------------------------------------------------

    def mean(self) -> float:
        """Expected value."""
        p = self.params
        if self.kind == "fixed":
            return p["value"]
        if self.kind == "pert":
            return (p["min"] + p["lamb"] * p["mode"] + p["max"]) / (p["lamb"] + 2.0)
        return float(self.scipy().mean())

    def median(self) -> float:
        """Median (the 50 % quantile)."""
        if self.kind == "fixed":
            return self.params["value"]
        if self.kind == "lognormal":
            return self.params["median"]
        return float(self.scipy().median())

    def sd(self) -> float:
        """Standard deviation (0 for a fixed value)."""
        if self.kind == "fixed":
            return 0.0
        return float(self.scipy().std())

    def interval(self, level: float) -> tuple[float, float]:
        """Equal-tailed central interval with probability content `level`.

        Parameters
        ----------
        level : float
            Probability in ``(0, 1)``.

        Returns
        -------
        tuple of float
            ``(ppf((1-level)/2), ppf((1+level)/2))``.
        """
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be strictly between 0 and 1, got {level!r}")
        lo, hi = self.ppf(np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0]))
        return (float(lo), float(hi))

    def describe(self) -> str:
        """Short human-readable description, e.g. ``lognormal(median=50000, sigma=0.12)``."""
        args = ", ".join(f"{k}={_fmt(v)}" for k, v in self.params.items())
        text = f"{self.kind}({args})"
        e = self.elicited_from
        if e and "interval_lo" in e:
            text += (
                f" [elicited: {_fmt(100 * e['level'])}% in "
                f"[{_fmt(e['interval_lo'])}, {_fmt(e['interval_hi'])}]]"
            )
        elif e:
            text += " [from " + ", ".join(f"{k}={_fmt(v)}" for k, v in e.items()) + "]"
        return text

    # -- internals --------------------------------------------------------

    def _exact_from_normal_scores(self, z: FloatArray) -> FloatArray:
        """``ppf(Phi(z))`` using the survival side for ``z > 0`` where possible."""
        if self.kind in ("uniform", "triangular"):
            return self.ppf(special.ndtr(z))
        low = z <= 0.0
        out = np.empty(z.shape)
        out[low] = self.ppf(special.ndtr(z[low]))
        out[~low] = self._isf(special.ndtr(-z[~low]))
        return out

    def _isf(self, q: FloatArray) -> FloatArray:
        """Inverse survival function, accurate for small `q`."""
        if self.kind == "truncnormal":
            fast = _truncnorm_quantile(self.params, q, upper_tail=True)
            if fast is not None:
                return fast
        return np.asarray(self.scipy().isf(q), dtype=np.float64)

    def _normal_score_table(self) -> _HermiteTable | None:
        if "table" not in self._cache:
            self._cache["table"] = _HermiteTable.build(self)
        table: _HermiteTable | None = self._cache["table"]
        return table


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _truncnorm_quantile(
    p: Mapping[str, float], prob: FloatArray, *, upper_tail: bool
) -> FloatArray | None:
    """Quantile (``upper_tail=False``) or inverse survival of a truncated normal.

    Works with ``Phi`` on the side of the mean where the truncation interval
    lies, so that no tail probability is formed as ``1 - small``.  Returns
    None when the truncation mass is too small or too cancellation-prone
    for this formula (scipy is used instead).
    """
    mean, sd, lower, upper = p["mean"], p["sd"], p["lower"], p["upper"]
    a, b = (lower - mean) / sd, (upper - mean) / sd
    flip = a > 0.0  # interval in the upper half: work with -X
    if flip:
        a, b = -b, -a
        upper_tail = not upper_tail
    pa, pb = special.ndtr(a), special.ndtr(b)
    mass = pb - pa
    if not (mass > 1e-300 and mass > 1e-6 * pb):
        return None
    with np.errstate(invalid="ignore"):
        if upper_tail and b <= 0.0:
            xs = special.ndtri(pb - prob * mass)
        elif upper_tail:
            qa, qb = special.ndtr(-a), special.ndtr(-b)
            xs = -special.ndtri(qb + prob * (qa - qb))
        else:
            xs = special.ndtri(pa + prob * mass)
    if flip:
        xs = -xs
    x = np.clip(mean + sd * xs, lower, upper)
    return np.where((prob >= 0.0) & (prob <= 1.0), x, np.nan)


def _make_scipy(kind: str, p: Mapping[str, float]) -> Any:
    if kind == "fixed":
        return None
    if kind == "normal":
        return stats.norm(loc=p["mean"], scale=p["sd"])
    if kind == "lognormal":
        return stats.lognorm(s=p["sigma"], scale=p["median"])
    if kind == "gamma":
        return stats.gamma(a=p["shape"], scale=p["scale"])
    if kind == "beta":
        return stats.beta(p["a"], p["b"], loc=p["lower"], scale=p["upper"] - p["lower"])
    if kind == "uniform":
        return stats.uniform(loc=p["lower"], scale=p["upper"] - p["lower"])
    if kind == "truncnormal":
        a = (p["lower"] - p["mean"]) / p["sd"]
        b = (p["upper"] - p["mean"]) / p["sd"]
        return stats.truncnorm(a, b, loc=p["mean"], scale=p["sd"])
    width = p["max"] - p["min"]
    c = (p["mode"] - p["min"]) / width
    if kind == "pert":
        alpha = 1.0 + p["lamb"] * c
        beta = 1.0 + p["lamb"] * (1.0 - c)
        return stats.beta(alpha, beta, loc=p["min"], scale=width)
    return stats.triang(c, loc=p["min"], scale=width)  # triangular


# --------------------------------------------------------------------------
# Interpolated normal-score transform (speed for the copula)
# --------------------------------------------------------------------------

_TABULATED_KINDS = frozenset({"gamma", "beta", "pert"})
_Z_MIN, _Z_MAX, _N_CELLS = -8.5, 8.5, 4096


class _HermiteTable:
    """Cubic Hermite interpolant of ``y(z) = T(ppf(Phi(z)))``.

    ``T`` maps the support to the real line: logit towards two finite bounds,
    log towards one, identity otherwise.  Node values and exact derivatives
    ``dy/dz = T'(x) * phi(z) / pdf(x)`` come from scipy.
    """

    def __init__(self, dist: Distribution, y: FloatArray, dydz: FloatArray) -> None:
        self._dist = dist
        self._lo, self._hi = dist.support
        self._y = y
        self._d = dydz * ((_Z_MAX - _Z_MIN) / _N_CELLS)

    @classmethod
    def build(cls, dist: Distribution) -> _HermiteTable | None:
        z = np.linspace(_Z_MIN, _Z_MAX, _N_CELLS + 1)
        with np.errstate(all="ignore"):
            x = dist._exact_from_normal_scores(z)
            y = _to_real_line(x, *dist.support)
            dxdz = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) / dist.scipy().pdf(x)
            dydz = dxdz * _to_real_line_slope(x, *dist.support)
        if not (np.all(np.isfinite(y)) and np.all(np.isfinite(dydz))):
            return None
        table = cls(dist, y, dydz)
        return table if table._passes_midpoint_check(z) else None

    def _passes_midpoint_check(self, z: FloatArray) -> bool:
        zm = 0.5 * (z[:-1] + z[1:])
        exact = self._dist._exact_from_normal_scores(zm)
        approx = self(zm)
        lo, hi = self._lo, self._hi
        scale = self._dist.sd()
        room = np.minimum(np.minimum(exact - lo, hi - exact), scale)
        tol = 1e-9 * room + 4.0 * np.finfo(float).eps * (np.abs(exact) + scale)
        return bool(np.all(np.abs(approx - exact) <= tol))

    def __call__(self, z: FloatArray) -> FloatArray:
        h = (_Z_MAX - _Z_MIN) / _N_CELLS
        t = (z - _Z_MIN) / h
        inside = (z >= _Z_MIN) & (z <= _Z_MAX)
        idx = np.clip(np.floor(np.where(inside, t, 0.0)), 0, _N_CELLS - 1).astype(np.intp)
        s = np.where(inside, t, 0.0) - idx
        s2 = s * s
        s3 = s2 * s
        y0, y1 = self._y[idx], self._y[idx + 1]
        d0, d1 = self._d[idx], self._d[idx + 1]
        y = (
            (2.0 * s3 - 3.0 * s2 + 1.0) * y0
            + (s3 - 2.0 * s2 + s) * d0
            + (3.0 * s2 - 2.0 * s3) * y1
            + (s3 - s2) * d1
        )
        x = _from_real_line(y, self._lo, self._hi)
        if not np.all(inside):
            outside = ~inside
            x[outside] = self._dist._exact_from_normal_scores(z[outside])
        return x


def _to_real_line(x: FloatArray, lo: float, hi: float) -> FloatArray:
    if math.isfinite(lo) and math.isfinite(hi):
        return np.log(x - lo) - np.log(hi - x)
    if math.isfinite(lo):
        return np.log(x - lo)
    if math.isfinite(hi):
        return -np.log(hi - x)
    return np.array(x, dtype=np.float64)


def _to_real_line_slope(x: FloatArray, lo: float, hi: float) -> FloatArray:
    if math.isfinite(lo) and math.isfinite(hi):
        return 1.0 / (x - lo) + 1.0 / (hi - x)
    if math.isfinite(lo):
        return 1.0 / (x - lo)
    if math.isfinite(hi):
        return 1.0 / (hi - x)
    return np.ones_like(x)


def _from_real_line(y: FloatArray, lo: float, hi: float) -> FloatArray:
    if math.isfinite(lo) and math.isfinite(hi):
        # lo + (hi - lo) * expit(y), written to keep accuracy near both ends
        return np.where(
            y <= 0.0,
            lo + (hi - lo) * special.expit(y),
            hi - (hi - lo) * special.expit(-y),
        )
    out: FloatArray = y
    if math.isfinite(lo):
        out = lo + np.exp(y)
    elif math.isfinite(hi):
        out = hi - np.exp(-y)
    return out


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------

_Builder = Callable[[Mapping[str, Any], str], tuple[dict[str, float], dict[str, float] | None]]
_Fitted = tuple[dict[str, float], dict[str, float]]  # params, and what they were elicited from


@dataclass(frozen=True)
class _Form:
    """One parameterisation of a family: its keys and how to build params."""

    label: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    build: _Builder

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self.required + self.optional)


def parse_distribution(
    table: Any,
    path: str,
    *,
    ignore: Sequence[str] = DEFAULT_IGNORED_KEYS,
) -> Distribution:
    """Turn a TOML value (a number or a table) into a :class:`Distribution`.

    Parameters
    ----------
    table : int, float or mapping
        A bare number (not a bool) means a fixed value; otherwise a table with
        a ``dist`` key and the keys of one of the forms in the module
        docstring.  Numbers are in the units of the quantity.
    path : str
        Dotted path of `table` in the spec, used in error messages.
    ignore : sequence of str, optional
        Keys that are allowed anywhere and not interpreted.

    Returns
    -------
    Distribution

    Raises
    ------
    SpecError
        With ``path`` naming the offending key, for anything invalid.
    """
    if isinstance(table, bool):
        raise SpecError(path, "expected a number or a distribution table, found a boolean")
    if isinstance(table, numbers.Real):
        try:
            value = float(table)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise SpecError(path, f"expected a finite number, found {value!r}")
        return Distribution("fixed", {"value": value})
    if not isinstance(table, Mapping):
        raise SpecError(
            path,
            "expected a number or a table with a 'dist' key, "
            f"found {type(table).__name__} {table!r}",
        )
    entries = {str(k): v for k, v in table.items() if k not in ignore}
    kind = _parse_kind(entries.pop("dist", None), "dist" in table, path)
    form = _select_form(kind, entries, path)
    _check_keys(kind, form, entries, path)
    params, elicited = form.build(entries, path)
    return Distribution(kind, params, elicited)


def _known_kinds() -> str:
    return ", ".join(repr(k) for k in DISTRIBUTION_KINDS)


def _parse_kind(kind: Any, present: bool, path: str) -> str:
    if not present:
        raise SpecError(
            f"{path}.dist", f"missing required key 'dist'; expected one of {_known_kinds()}"
        )
    if not isinstance(kind, str) or kind not in _FORMS:
        raise SpecError(
            f"{path}.dist", f"unknown distribution {kind!r}; expected one of {_known_kinds()}"
        )
    return kind


def _form_summary(kind: str) -> str:
    parts = []
    for form in _FORMS[kind]:
        text = "+".join(form.required)
        if form.optional:
            text += " (optional " + ", ".join(form.optional) + ")"
        parts.append(text)
    return " | ".join(parts)


def _select_form(kind: str, entries: Mapping[str, Any], path: str) -> _Form:
    forms = _FORMS[kind]
    if len(forms) == 1:
        return forms[0]
    present = set(entries)
    touched: list[tuple[_Form, list[str]]] = []
    for form in forms:
        others = frozenset().union(*(f.keys for f in forms if f is not form))
        own = sorted((form.keys - others) & present)
        if own:
            touched.append((form, own))
    if len(touched) > 1:
        (_, keys_a), (_, keys_b) = touched[0], touched[1]
        raise SpecError(
            f"{path}.{keys_b[0]}",
            f"cannot combine {keys_a} with {keys_b}: they belong to different "
            f"parameterisations of '{kind}'; give one of: {_form_summary(kind)}",
        )
    return touched[0][0] if touched else forms[0]


def _check_keys(kind: str, form: _Form, entries: Mapping[str, Any], path: str) -> None:
    for key in entries:
        if key not in form.keys:
            allowed = ", ".join(["dist", *form.required, *form.optional])
            raise SpecError(
                f"{path}.{key}",
                f"unexpected key '{key}' for dist='{kind}'; allowed keys here: {allowed} "
                f"(forms of '{kind}': {_form_summary(kind)})",
            )
    for key in form.required:
        if key not in entries:
            raise SpecError(
                f"{path}.{key}",
                f"missing required key '{key}' for dist='{kind}' (forms: {_form_summary(kind)})",
            )


# -- value readers --------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _number(entries: Mapping[str, Any], key: str, path: str, *, allow_inf: bool = False) -> float:
    value = entries[key]
    if not _is_number(value):
        raise SpecError(
            f"{path}.{key}", f"expected a number, found {type(value).__name__} {value!r}"
        )
    try:
        x = float(value)
    except OverflowError:  # an integer beyond the float range
        raise SpecError(f"{path}.{key}", f"expected a finite number, found {value!r}") from None
    if math.isnan(x) or (math.isinf(x) and not allow_inf):
        raise SpecError(f"{path}.{key}", f"expected a finite number, found {x!r}")
    return x


def _positive(entries: Mapping[str, Any], key: str, path: str) -> float:
    x = _number(entries, key, path)
    if x <= 0.0:
        raise SpecError(f"{path}.{key}", f"must be > 0, found {x!r}")
    return x


def _optional(
    entries: Mapping[str, Any], key: str, path: str, default: float, *, allow_inf: bool = False
) -> float:
    if key not in entries:
        return default
    return _number(entries, key, path, allow_inf=allow_inf)


def _bounds(
    entries: Mapping[str, Any], path: str, default: tuple[float, float], *, allow_inf: bool
) -> tuple[float, float]:
    lower = _optional(entries, "lower", path, default[0], allow_inf=allow_inf)
    upper = _optional(entries, "upper", path, default[1], allow_inf=allow_inf)
    if lower == math.inf:
        raise SpecError(f"{path}.lower", "must be finite or -inf, found inf")
    if upper == -math.inf:
        raise SpecError(f"{path}.upper", "must be finite or inf, found -inf")
    if not lower < upper:
        raise SpecError(f"{path}.upper", f"must be greater than lower ({lower!r}), found {upper!r}")
    return lower, upper


def _level(entries: Mapping[str, Any], path: str) -> float:
    level = _optional(entries, "level", path, DEFAULT_LEVEL)
    if not 0.0 < level < 1.0:
        raise SpecError(f"{path}.level", f"must be strictly between 0 and 1, found {level!r}")
    return level


def _interval(
    entries: Mapping[str, Any], path: str, support: tuple[float, float], kind: str
) -> tuple[float, float]:
    value = entries["interval"]
    where = f"{path}.interval"
    if (
        isinstance(value, (str, bytes, Mapping))
        or not isinstance(value, Sequence)
        or len(value) != 2
        or not all(_is_number(v) for v in value)
    ):
        raise SpecError(where, f"expected a list of two numbers [lo, hi], found {value!r}")
    try:
        lo, hi = float(value[0]), float(value[1])
    except OverflowError:
        raise SpecError(where, f"expected two finite numbers, found {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise SpecError(where, f"expected two finite numbers, found [{lo!r}, {hi!r}]")
    if not lo < hi:
        raise SpecError(where, f"expected lo < hi, found [{lo!r}, {hi!r}]")
    if not (support[0] < lo and hi < support[1]):
        raise SpecError(
            where,
            f"[{lo!r}, {hi!r}] must lie strictly inside the support "
            f"({support[0]!r}, {support[1]!r}) of {kind}",
        )
    return lo, hi


def _provenance(lo: float, hi: float, level: float) -> dict[str, float]:
    return {"interval_lo": lo, "interval_hi": hi, "level": level}


# -- builders ----------------------------------------------------------------


def _build_fixed(e: Mapping[str, Any], path: str) -> tuple[dict[str, float], None]:
    return {"value": _number(e, "value", path)}, None


def _build_normal(e: Mapping[str, Any], path: str) -> tuple[dict[str, float], None]:
    return {"mean": _number(e, "mean", path), "sd": _positive(e, "sd", path)}, None


def _build_normal_interval(e: Mapping[str, Any], path: str) -> _Fitted:
    level = _level(e, path)
    lo, hi = _interval(e, path, (-math.inf, math.inf), "normal")
    z = special.ndtri(0.5 + 0.5 * level)
    params = {"mean": 0.5 * (lo + hi), "sd": (hi - lo) / (2.0 * z)}
    return _verified("normal", params, lo, hi, level, path)


def _build_lognormal(e: Mapping[str, Any], path: str) -> tuple[dict[str, float], None]:
    return {"median": _positive(e, "median", path), "sigma": _positive(e, "sigma", path)}, None


def _build_lognormal_interval(e: Mapping[str, Any], path: str) -> _Fitted:
    level = _level(e, path)
    lo, hi = _interval(e, path, (0.0, math.inf), "lognormal")
    z = special.ndtri(0.5 + 0.5 * level)
    params = {"median": math.sqrt(lo) * math.sqrt(hi), "sigma": math.log(hi / lo) / (2.0 * z)}
    return _verified("lognormal", params, lo, hi, level, path)


def _build_gamma(e: Mapping[str, Any], path: str) -> tuple[dict[str, float], None]:
    return {"shape": _positive(e, "shape", path), "scale": _positive(e, "scale", path)}, None


def _build_gamma_moments(e: Mapping[str, Any], path: str) -> _Fitted:
    mean, sd = _positive(e, "mean", path), _positive(e, "sd", path)
    return {"shape": (mean / sd) ** 2, "scale": sd * sd / mean}, {"mean": mean, "sd": sd}


def _build_gamma_interval(e: Mapping[str, Any], path: str) -> _Fitted:
    level = _level(e, path)
    lo, hi = _interval(e, path, (0.0, math.inf), "gamma")
    params = _fit_gamma(lo, hi, level)
    if params is None:
        raise _unmatched("gamma", lo, hi, level, path, None)
    return _verified("gamma", params, lo, hi, level, path)


def _build_beta(e: Mapping[str, Any], path: str) -> tuple[dict[str, float], None]:
    a, b = _positive(e, "a", path), _positive(e, "b", path)
    lower, upper = _bounds(e, path, (0.0, 1.0), allow_inf=False)
    return {"a": a, "b": b, "lower": lower, "upper": upper}, None


def _build_beta_moments(e: Mapping[str, Any], path: str) -> _Fitted:
    lower, upper = _bounds(e, path, (0.0, 1.0), allow_inf=False)
    mean, sd = _number(e, "mean", path), _positive(e, "sd", path)
    if not lower < mean < upper:
        raise SpecError(
            f"{path}.mean",
            f"must lie strictly between lower ({lower!r}) and upper ({upper!r}), found {mean!r}",
        )
    width = upper - lower
    m = (mean - lower) / width
    v = (sd / width) ** 2
    limit = math.sqrt(m * (1.0 - m)) * width
    if not v < m * (1.0 - m):
        raise SpecError(
            f"{path}.sd",
            f"no beta distribution on [{lower!r}, {upper!r}] has mean {mean!r} and sd {sd!r}: "
            f"the sd must be below {limit:.6g}",
        )
    nu = m * (1.0 - m) / v - 1.0
    params = {"a": m * nu, "b": (1.0 - m) * nu, "lower": lower, "upper": upper}
    return params, {"mean": mean, "sd": sd}


def _build_beta_interval(e: Mapping[str, Any], path: str) -> _Fitted:
    lower, upper = _bounds(e, path, (0.0, 1.0), allow_inf=False)
    level = _level(e, path)
    lo, hi = _interval(e, path, (lower, upper), "beta")
    width = upper - lower
    ab = _fit_beta((lo - lower) / width, (hi - lower) / width, level)
    if ab is None:
        raise _unmatched("beta", lo, hi, level, path, None)
    params = {"a": ab[0], "b": ab[1], "lower": lower, "upper": upper}
    return _verified("beta", params, lo, hi, level, path)


def _build_uniform(e: Mapping[str, Any], path: str) -> tuple[dict[str, float], None]:
    lower, upper = _bounds(e, path, (0.0, 1.0), allow_inf=False)
    return {"lower": lower, "upper": upper}, None


def _build_uniform_interval(e: Mapping[str, Any], path: str) -> _Fitted:
    level = _level(e, path)
    lo, hi = _interval(e, path, (-math.inf, math.inf), "uniform")
    width = (hi - lo) / level
    tail = 0.5 * (1.0 - level) * width
    return _verified("uniform", {"lower": lo - tail, "upper": hi + tail}, lo, hi, level, path)


def _build_truncnormal(e: Mapping[str, Any], path: str) -> tuple[dict[str, float], None]:
    mean, sd = _number(e, "mean", path), _positive(e, "sd", path)
    lower, upper = _bounds(e, path, (-math.inf, math.inf), allow_inf=True)
    params = {"mean": mean, "sd": sd, "lower": lower, "upper": upper}
    _check_truncation_mass(params, path)
    return params, None


def _build_truncnormal_interval(e: Mapping[str, Any], path: str) -> _Fitted:
    lower, upper = _bounds(e, path, (-math.inf, math.inf), allow_inf=True)
    level = _level(e, path)
    lo, hi = _interval(e, path, (lower, upper), "truncnormal")
    fit = _fit_truncnormal(lo, hi, level, lower, upper)
    if fit is None:
        raise _unmatched("truncnormal", lo, hi, level, path, None)
    params = {"mean": fit[0], "sd": fit[1], "lower": lower, "upper": upper}
    return _verified("truncnormal", params, lo, hi, level, path)


def _check_truncation_mass(p: Mapping[str, float], path: str) -> None:
    a = (p["lower"] - p["mean"]) / p["sd"]
    b = (p["upper"] - p["mean"]) / p["sd"]
    with np.errstate(all="ignore"):
        log_mass = _log_mass(a, b)
    if not math.isfinite(log_mass) or log_mass < -700.0:
        raise SpecError(
            f"{path}.mean",
            f"the truncation interval [{p['lower']!r}, {p['upper']!r}] is more than ~37 sd "
            f"from the mean {p['mean']!r}: the truncated normal is numerically undefined",
        )


def _log_mass(a: float, b: float) -> float:
    """log(Phi(b) - Phi(a)) computed on the side of the mode."""
    if a > 0.0:
        a, b = -b, -a
    la, lb = special.log_ndtr(a), special.log_ndtr(b)
    if la == -math.inf:
        return float(lb)
    return float(lb + np.log1p(-np.exp(la - lb)))


def _build_pert(e: Mapping[str, Any], path: str) -> tuple[dict[str, float], None]:
    params = _min_mode_max(e, path)
    lamb = _optional(e, "lamb", path, 4.0)
    if lamb <= 0.0:
        raise SpecError(f"{path}.lamb", f"must be > 0, found {lamb!r}")
    params["lamb"] = lamb
    return params, None


def _build_triangular(e: Mapping[str, Any], path: str) -> tuple[dict[str, float], None]:
    return _min_mode_max(e, path), None


def _min_mode_max(e: Mapping[str, Any], path: str) -> dict[str, float]:
    lo, mode, hi = (_number(e, k, path) for k in ("min", "mode", "max"))
    if not lo < hi:
        raise SpecError(f"{path}.max", f"must be greater than min ({lo!r}), found {hi!r}")
    if not lo <= mode <= hi:
        raise SpecError(
            f"{path}.mode", f"must satisfy min <= mode <= max ({lo!r} .. {hi!r}), found {mode!r}"
        )
    return {"min": lo, "mode": mode, "max": hi}


# -- elicitation solvers -------------------------------------------------------


def _verified(
    kind: str, params: dict[str, float], lo: float, hi: float, level: float, path: str
) -> _Fitted:
    """Check that ``params`` reproduce the interval; raise SpecError if not."""
    dist = Distribution(kind, params)
    got = _quantiles(dist, level)
    target = np.array([lo, hi])
    tol = _MATCH_RTOL * np.maximum(np.abs(target), hi - lo)
    if not np.all(np.abs(got - target) <= tol):
        raise _unmatched(kind, lo, hi, level, path, got)
    return params, _provenance(lo, hi, level)


def _quantiles(dist: Distribution, level: float) -> FloatArray:
    with np.errstate(all="ignore"):
        return dist.ppf(np.array([0.5 - 0.5 * level, 0.5 + 0.5 * level]))


def _unmatched(
    kind: str, lo: float, hi: float, level: float, path: str, got: FloatArray | None
) -> SpecError:
    detail = "" if got is None else f" (closest fit gives [{got[0]:.6g}, {got[1]:.6g}])"
    return SpecError(
        f"{path}.interval",
        f"the {100 * level:g}% interval [{lo!r}, {hi!r}] cannot be matched by a {kind} "
        f"distribution{detail}; try another family or check the interval and level",
    )


def _quiet(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a solver with floating-point and solver warnings silenced.

    Solutions are always verified afterwards, so intermediate overflow or
    slow-progress warnings carry no information for the user.
    """

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return func(*args, **kwargs)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


@_quiet
def _fit_gamma(lo: float, hi: float, level: float) -> dict[str, float] | None:
    """Gamma(shape, scale) with the given equal-tailed quantiles.

    The quantile ratio ``hi/lo`` depends on the shape only and decreases
    monotonically with it, so the shape is found by bracketing root finding in
    ``log(shape)``, starting from the lognormal approximation.
    """
    p_lo, p_hi = 0.5 - 0.5 * level, 0.5 + 0.5 * level
    target = math.log(hi / lo)

    def excess(log_k: float) -> float:
        k = math.exp(log_k)
        value = math.log(special.gammaincinv(k, p_hi)) - math.log(special.gammaincinv(k, p_lo))
        return value - target if math.isfinite(value) else math.inf

    sigma = target / (2.0 * special.ndtri(p_hi))
    guess = -2.0 * math.log(sigma)
    left, right = guess - 1.0, guess + 1.0
    while excess(left) <= 0.0:
        left -= 2.0
        if left < math.log(1e-8):
            return None
    while excess(right) >= 0.0:
        right += 2.0
        if right > math.log(1e15):
            return None
    log_k = optimize.brentq(excess, left, right, xtol=1e-14, rtol=4 * np.finfo(float).eps)
    shape = math.exp(log_k)
    scale = float(lo / special.gammaincinv(shape, p_lo))
    return {"shape": shape, "scale": scale}


@_quiet
def _fit_beta(lo: float, hi: float, level: float) -> tuple[float, float] | None:
    """Standard beta(a, b) with equal-tailed quantiles ``lo``, ``hi`` in (0, 1).

    Solves ``I(lo; a, b) = p_lo``, ``I(hi; a, b) = p_hi`` in ``(log a, log b)``
    from several starting points (moment matching of the normal
    approximation first).
    """
    p_lo, p_hi = 0.5 - 0.5 * level, 0.5 + 0.5 * level

    def residual(theta: FloatArray) -> FloatArray:
        a, b = np.exp(np.clip(theta, -30.0, 30.0))
        return np.array([special.betainc(a, b, lo) - p_lo, special.betainc(a, b, hi) - p_hi])

    m = 0.5 * (lo + hi)
    v = ((hi - lo) / (2.0 * special.ndtri(p_hi))) ** 2
    starts = [(1.0, 1.0), (0.5, 0.5), (5.0, 5.0)]
    if v < m * (1.0 - m):
        nu = m * (1.0 - m) / v - 1.0
        starts.insert(0, (m * nu, (1.0 - m) * nu))
    return _solve_2d(residual, [np.log(s) for s in starts], lambda t: tuple(np.exp(t)))


@_quiet
def _fit_truncnormal(
    lo: float, hi: float, level: float, lower: float, upper: float
) -> tuple[float, float] | None:
    """Untruncated (mean, sd) whose truncation to [lower, upper] has the quantiles.

    Parameterised as ``mean = mid + width * t0``, ``sd = width * exp(t1)`` for
    conditioning; starts from the untruncated normal fit.
    """
    p_lo, p_hi = 0.5 - 0.5 * level, 0.5 + 0.5 * level
    mid, width = 0.5 * (lo + hi), hi - lo
    targets = np.array([lo, hi])

    def unpack(theta: FloatArray) -> tuple[float, float]:
        return mid + width * theta[0], width * math.exp(min(max(theta[1], -30.0), 30.0))

    def residual(theta: FloatArray) -> FloatArray:
        mean, sd = unpack(theta)
        a, b = (lower - mean) / sd, (upper - mean) / sd
        res: FloatArray = stats.truncnorm.cdf(targets, a, b, loc=mean, scale=sd) - np.array(
            [p_lo, p_hi]
        )
        return res

    t1 = math.log(1.0 / (2.0 * special.ndtri(p_hi)))
    starts = [np.array([0.0, t1]), np.array([0.0, t1 + 1.0])]
    starts += [np.array([shift, t1 + 1.0]) for shift in (-1.0, 1.0, -3.0, 3.0)]
    return _solve_2d(residual, starts, unpack)


def _solve_2d(
    residual: Callable[[FloatArray], FloatArray],
    starts: Sequence[FloatArray],
    unpack: Callable[[FloatArray], tuple[float, float]],
) -> tuple[float, float] | None:
    """Find a root of a 2-vector residual from several starts; None if none found."""
    # a solver that cannot even start (non-finite residuals at an extreme input) is no fit
    for start in starts:
        try:
            sol = optimize.root(residual, np.asarray(start, dtype=float), method="hybr",
                                tol=1e-14)
        except (ValueError, ArithmeticError):
            continue
        if np.all(np.isfinite(sol.x)) and np.max(np.abs(residual(sol.x))) < 1e-11:
            return unpack(sol.x)
    for start in starts:
        try:
            fit = optimize.least_squares(
                residual, np.asarray(start, dtype=float), xtol=1e-15, ftol=1e-15, gtol=1e-15
            )
        except (ValueError, ArithmeticError):
            continue
        if np.all(np.isfinite(fit.x)) and np.max(np.abs(residual(fit.x))) < 1e-11:
            return unpack(fit.x)
    return None


# -- the table of forms --------------------------------------------------------

_INTERVAL = ("interval",)

_FORMS: dict[str, tuple[_Form, ...]] = {
    "fixed": (_Form("value", ("value",), (), _build_fixed),),
    "normal": (
        _Form("mean/sd", ("mean", "sd"), (), _build_normal),
        _Form("interval", _INTERVAL, ("level",), _build_normal_interval),
    ),
    "lognormal": (
        _Form("median/sigma", ("median", "sigma"), (), _build_lognormal),
        _Form("interval", _INTERVAL, ("level",), _build_lognormal_interval),
    ),
    "gamma": (
        _Form("shape/scale", ("shape", "scale"), (), _build_gamma),
        _Form("mean/sd", ("mean", "sd"), (), _build_gamma_moments),
        _Form("interval", _INTERVAL, ("level",), _build_gamma_interval),
    ),
    "beta": (
        _Form("a/b", ("a", "b"), ("lower", "upper"), _build_beta),
        _Form("mean/sd", ("mean", "sd"), ("lower", "upper"), _build_beta_moments),
        _Form("interval", _INTERVAL, ("level", "lower", "upper"), _build_beta_interval),
    ),
    "uniform": (
        _Form("bounds", ("lower", "upper"), (), _build_uniform),
        _Form("interval", _INTERVAL, ("level",), _build_uniform_interval),
    ),
    "truncnormal": (
        _Form("mean/sd", ("mean", "sd"), ("lower", "upper"), _build_truncnormal),
        _Form("interval", _INTERVAL, ("level", "lower", "upper"), _build_truncnormal_interval),
    ),
    "pert": (_Form("pert", ("min", "mode", "max"), ("lamb",), _build_pert),),
    "triangular": (_Form("triangular", ("min", "mode", "max"), (), _build_triangular),),
}

#: Names accepted as ``dist``.
DISTRIBUTION_KINDS: tuple[str, ...] = tuple(_FORMS)
