"""Validation of arguments at the package boundary: the one place such checks live.

Every function takes the value, the argument's ``name`` (as the user spelled it:
``"draws"``, ``"--chunk-size"``, ``"parameters.ru_garrison.sigma"``) and the error
class to raise, and returns the value converted to its canonical type. Messages
start with the name and say what was expected, e.g.
``draws: expected a whole number >= 1, got 0``. Integers accept Python ``int`` and
NumPy integer scalars, never ``bool``.

The error class defaults to :class:`~kursk_da.errors.ArgumentError`; a
:class:`~kursk_da.errors.SpecError` subclass gets the name as its ``path``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any, NoReturn

import numpy as np

from kursk_da.errors import ArgumentError, KurskDAError, SpecError

__all__ = [
    "fail",
    "check_int",
    "check_real",
    "check_probability",
    "check_choice",
    "check_rng",
    "is_integer",
    "is_real",
]


def fail(name: str, message: str, error: type[KurskDAError] = ArgumentError) -> NoReturn:
    """Raise ``error`` for argument ``name`` with ``message`` (what was expected)."""
    if issubclass(error, SpecError):
        raise error(name, message)
    raise error(f"{name}: {message}")


def is_integer(value: Any) -> bool:
    """True for ``int`` and NumPy integer scalars, False for ``bool``."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def is_real(value: Any) -> bool:
    """True for real numbers (``int``, ``float``, NumPy scalars), False for ``bool``."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum:g} to {maximum:g}"
    if minimum is not None:
        return f" >= {minimum:g}"
    if maximum is not None:
        return f" <= {maximum:g}"
    return ""


def check_int(
    value: Any,
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    error: type[KurskDAError] = ArgumentError,
) -> int:
    """A whole number within ``[minimum, maximum]``, returned as ``int``.

    Raises
    ------
    KurskDAError
        ``error``, naming ``name``, when ``value`` is not an integer (``bool``
        included) or is out of bounds.
    """
    if not is_integer(value):
        fail(name, f"expected an integer{_bounds(minimum, maximum)}, got {value!r}", error)
    out = int(value)
    if (minimum is not None and out < minimum) or (maximum is not None and out > maximum):
        fail(name, f"expected an integer{_bounds(minimum, maximum)}, got {out}", error)
    return out


def check_real(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict: bool = False,
    error: type[KurskDAError] = ArgumentError,
) -> float:
    """A finite real number within the bounds, returned as ``float``.

    Parameters
    ----------
    strict : bool
        Exclude the bounds themselves (``minimum < value < maximum``).

    Raises
    ------
    KurskDAError
        ``error``, naming ``name``, for a non-number, NaN, infinity or out of bounds.
    """
    rel = ("above", "below") if strict else ("at least", "at most")
    want = "a finite number"
    if minimum is not None:
        want += f" {rel[0]} {minimum:g}"
    if maximum is not None:
        want += (" and" if minimum is not None else "") + f" {rel[1]} {maximum:g}"
    if not is_real(value) or not math.isfinite(float(value)):
        fail(name, f"expected {want}, got {value!r}", error)
    out = float(value)
    lo_bad = minimum is not None and (out <= minimum if strict else out < minimum)
    hi_bad = maximum is not None and (out >= maximum if strict else out > maximum)
    if lo_bad or hi_bad:
        fail(name, f"expected {want}, got {out:g}", error)
    return out


def check_probability(
    value: Any, name: str, *, strict: bool = False, error: type[KurskDAError] = ArgumentError
) -> float:
    """A probability in [0, 1] (``strict``: in (0, 1)), returned as ``float``."""
    return check_real(value, name, minimum=0.0, maximum=1.0, strict=strict, error=error)


def check_choice(
    value: Any, name: str, choices: Collection[str], error: type[KurskDAError] = ArgumentError
) -> str:
    """One of ``choices`` (strings)."""
    if not isinstance(value, str) or value not in choices:
        fail(name, f"expected one of {sorted(choices)}, got {value!r}", error)
    return value


def check_rng(rng: Any, name: str = "rng", error: type[KurskDAError] = ArgumentError
              ) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from a Generator, a seed, a SeedSequence or None.

    Raises
    ------
    KurskDAError
        ``error`` when ``rng`` cannot seed a Generator (e.g. a legacy ``RandomState``).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.RandomState):
        fail(name, "expected a numpy.random.Generator, a seed or None, got a legacy "
                   "RandomState", error)
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError):
        fail(name, f"expected a numpy.random.Generator, a seed or None, got {rng!r}", error)
