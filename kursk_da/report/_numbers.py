"""Numbers as the report prints them: rounded to what their Monte Carlo error supports.

A Monte Carlo estimate ``x`` with standard error ``mcse`` is printed to the decimal
position of the first significant digit of ``mcse``: ``4.971 ± 2.6`` is ``5 ± 3``,
``-1,099.6 ± 19.1`` is ``-1,100 ± 20``, a probability ``0.4413 ± 0.0112`` is ``0.44``. The
error itself is printed with one significant digit at the same position. Without a usable
error (zero, negative, not finite) the estimate keeps :data:`FALLBACK_SIGNIFICANT`
significant digits.

Rounding is exact on the binary value (``decimal``), half away from zero, which is what
JavaScript's ``Number.prototype.toFixed`` does: the weight explorer of the HTML report
(:mod:`kursk_da.report._explorer`) carries a JavaScript port of :func:`format_estimate`,
and the browser test compares the two.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, localcontext

__all__ = ["FALLBACK_SIGNIFICANT", "mcse_decimals", "round_to_mcse", "format_fixed",
           "format_estimate", "format_with_error"]

FALLBACK_SIGNIFICANT = 3
"""Significant digits of an estimate printed without a usable Monte Carlo error."""


def _finite(x: float) -> bool:
    return isinstance(x, float | int) and math.isfinite(float(x))


def mcse_decimals(mcse: float) -> int | None:
    """Decimal position of the first significant digit of ``mcse``.

    Parameters
    ----------
    mcse : float
        A Monte Carlo standard error, in the units of its estimate.

    Returns
    -------
    int or None
        ``d`` such that rounding to ``d`` decimals keeps the digit at the MCSE's first
        significant place (``2.6 -> 0``, ``19.1 -> -1``, ``0.0112 -> 2``); None when
        ``mcse`` is zero, negative or not finite.
    """
    if not _finite(mcse) or float(mcse) <= 0:
        return None
    return -math.floor(math.log10(float(mcse)))


def _fallback_decimals(x: float, significant: int = FALLBACK_SIGNIFICANT) -> int:
    if not _finite(x) or float(x) == 0.0:
        return 0
    return significant - 1 - math.floor(math.log10(abs(float(x))))


def _quantize(x: float, decimals: int) -> Decimal:
    """``x`` rounded to ``decimals`` (negative: tens, hundreds...), half away from zero."""
    q = Decimal(1).scaleb(-decimals)
    with localcontext() as ctx:
        ctx.prec = 400  # room for any double's digits (1e308) at any sensible decimals
        return Decimal(float(x)).quantize(q, rounding=ROUND_HALF_UP)


def round_to_mcse(x: float, mcse: float) -> float:
    """``x`` rounded to the first significant digit of its Monte Carlo error.

    Parameters
    ----------
    x : float
        The estimate.
    mcse : float
        Its Monte Carlo standard error (same units).

    Returns
    -------
    float
        The rounded estimate (``x`` to :data:`FALLBACK_SIGNIFICANT` significant digits
        when ``mcse`` is not usable; ``x`` itself when it is not finite).
    """
    if not _finite(x):
        return float(x)
    d = mcse_decimals(mcse)
    d = _fallback_decimals(x) if d is None else d
    return float(_quantize(x, d)) + 0.0


def format_fixed(x: float, decimals: int) -> str:
    """``x`` with ``decimals`` decimals (none when negative) and thousands separators.

    Exact half-away-from-zero rounding of the binary value; ``-0`` prints as ``0``.
    """
    if not _finite(x):
        return "n/a" if x is None or math.isnan(float(x)) else str(float(x))
    v = _quantize(x, decimals)
    if v == 0:
        v = abs(v)
    return f"{v:,.{max(decimals, 0)}f}"


def format_estimate(x: float, mcse: float) -> str:
    """The estimate as printed: rounded to its MCSE (:func:`round_to_mcse`).

    Examples
    --------
    >>> format_estimate(4.971, 2.6), format_estimate(-1099.6, 19.1)
    ('5', '-1,100')
    >>> format_estimate(0.4413, 0.0112), format_estimate(0.125, 0.0)
    ('0.44', '0.125')
    """
    d = mcse_decimals(mcse)
    return format_fixed(x, _fallback_decimals(x) if d is None else d)


def format_with_error(x: float, mcse: float) -> str:
    """``"x ± e"``: the estimate and its MCSE at the MCSE's first significant digit.

    Examples
    --------
    >>> format_with_error(4.971, 2.6), format_with_error(-1099.6, 19.1)
    ('5 ± 3', '-1,100 ± 20')
    """
    d = mcse_decimals(mcse)
    if d is None:
        return format_estimate(x, mcse)
    return f"{format_fixed(x, d)} ± {format_fixed(mcse, d)}"
