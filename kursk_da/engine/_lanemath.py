"""Elementary functions for the compiled engine that LLVM can vectorise.

This module is the ``ops`` argument of :func:`kursk_da.dynamics.equations.step` and
:func:`~kursk_da.dynamics.equations.derived` inside the numba kernel (the NumPy
reference and the PyMC model pass ``numpy`` and ``pytensor.tensor``). It provides
``exp``, ``log``, ``sqrt``, ``reciprocal``, ``minimum`` and ``maximum`` for float64
*scalars*.

Why not ``numpy``: numba lowers ``np.exp``/``np.log`` to calls of the C library's
scalar functions (about 5.6 ns each), and a loop containing such a call is never
vectorised (the llvmlite wheels ship no vector math library). The functions here
are plain arithmetic -- range reduction, a polynomial, and integer operations on the
bit pattern of a double (through :func:`_as_float` / :func:`_as_int`, which are LLVM
``bitcast`` instructions, free and vectorisable) -- without divisions or branches, so
a loop over lanes that calls them inlines everything and compiles to AVX-512/AVX2
code. ``minimum``/``maximum`` are selects (``vminpd``/``vmaxpd``), not the
NaN-propagating NumPy versions: the engine never produces NaN.

Accuracy (checked in ``tests/test_lanemath.py`` against long double): ``exp`` and
``log`` and ``reciprocal`` are within 1 ulp of the exact result; ``sqrt`` is the
correctly rounded hardware square root. Domain: ``exp(x)`` for ``x >= -708`` (smaller ``x``, whose
exponential is below 3.3e-308, give 0: no subnormal results) and ``inf`` above
709.78; ``log(x)`` for positive, finite, normal ``x`` (anything below the smallest
normal double, 2.2e-308, gives ``log(2.2e-308)``).

Algorithms (written for this package; the polynomial coefficients are Chebyshev
interpolants computed in 60-digit arithmetic by ``tools/lanemath_coefficients.py``):

* ``exp(x)``: ``n = round(x / ln 2)`` (adding ``1.5 * 2^52`` rounds to an integer
  that is then read from the low bits), ``r = x - n ln 2`` with ``ln 2`` split in a
  20-bit head (so ``n * head`` is exact) and a tail, ``|r| <= ln(2)/2``;
  ``exp(r) = 1 + r + r^2 T(r)`` with ``T`` of degree 10 evaluated by Estrin's scheme
  (short dependency chains); the result is scaled by ``2^n`` by adding ``n`` to the
  exponent field.
* ``log(x)``: ``x = 2^e m`` with ``m`` in ``[sqrt(1/2), sqrt(2))`` from the bit
  pattern; ``f = m - 1`` (exact); ``log(1 + f) = f + f^2 P(f)`` with ``P`` of degree
  20 (Estrin); ``log(x) = e ln 2 + log(1 + f)`` with the split ``ln 2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, register_jitable

__all__ = ["exp", "log", "sqrt", "reciprocal", "minimum", "maximum", "prefer_512_bit_vectors"]


@intrinsic
def prefer_512_bit_vectors(typingctx: Any) -> tuple[Any, Callable[..., Any]]:
    """Let LLVM vectorise the calling function with 512-bit registers (a no-op call).

    On AVX-512 CPUs LLVM prefers 256-bit vectors by default (the ``prefer-256-bit``
    tuning); the lane loop of the engine is limited by the number of vector
    instructions, and 512-bit vectors make it about 25% faster. This sets the LLVM
    function attribute ``"prefer-vector-width"="512"`` on the function being
    compiled (llvmlite's attribute set accepts only a fixed list of names, hence
    ``set.add``). On CPUs without AVX-512 the attribute has no effect; if llvmlite's
    internals change, the call silently does nothing.
    """

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        try:
            set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        except (AttributeError, TypeError):  # pragma: no cover - llvmlite internals
            pass
        return context.get_dummy_value()

    return types.none(), codegen


@intrinsic
def _as_float(typingctx: Any, bits: Any) -> tuple[Any, Callable[..., Any]] | None:
    """Reinterpret the bits of an int64 as a float64 (LLVM ``bitcast``)."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _as_int(typingctx: Any, x: Any) -> tuple[Any, Callable[..., Any]] | None:
    """Reinterpret the bits of a float64 as an int64 (LLVM ``bitcast``)."""
    if not isinstance(x, types.Float):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


_LOG2E = 1.4426950408889634  # 1 / ln 2
_LN2_HI = 0.6931467056274414  # ln 2 rounded to 20 significant bits: n * _LN2_HI is exact
_LN2_LO = 4.7493250390316726e-07  # ln 2 - _LN2_HI
_SQRT2 = 1.4142135623730951
_SHIFT = 6755399441055744.0  # 1.5 * 2^52
_SHIFT_BITS = 0x4338000000000000  # its bit pattern
_EXP_FLUSH = -708.0  # below: exp gives 0 (results < 3.3e-308 would need subnormals)
_EXP_OVERFLOW = 709.782712893384  # ln(largest double): above, exp overflows to inf
_INF = math.inf
_TINY_NORMAL = 2.2250738585072014e-308
_MANTISSA = 0x000FFFFFFFFFFFFF
_SIGN = -0x8000000000000000  # the sign bit of a double, as int64
_RECIP_MAGIC = 0x7FDE623840000000  # bits(1/x) ~ _RECIP_MAGIC - bits(x), within 5.1%
_ONE_BITS = 0x3FF0000000000000

# exp(r) = 1 + r + r^2 T(r), |r| <= ln(2)/2 (tools/lanemath_coefficients.py)
_T0 = 0.5
_T1 = 0.1666666666666667
_T2 = 0.04166666666666667
_T3 = 0.008333333333326136
_T4 = 0.0013888888888883748
_T5 = 0.00019841269874820627
_T6 = 2.4801587325547743e-05
_T7 = 2.7557255400206422e-06
_T8 = 2.75572736431103e-07
_T9 = 2.5105217004720745e-08
_T10 = 2.0914686968086876e-09

# log(1 + f) = f + f^2 P(f), sqrt(1/2) - 1 <= f <= sqrt(2) - 1
_P0 = -0.5
_P1 = 0.3333333333333337
_P2 = -0.24999999999999434
_P3 = 0.19999999999975535
_P4 = -0.16666666666809152
_P5 = 0.14285714290226392
_P6 = -0.12499999988229632
_P7 = 0.1111111072996344
_P8 = -0.10000000293648051
_P9 = 0.09090926519529235
_P10 = -0.08333341859605121
_P11 = 0.07691846251495121
_P12 = -0.07142178144931366
_P13 = 0.06673746435165462
_P14 = -0.06266871141028912
_P15 = 0.05825070238646302
_P16 = -0.053492389973253424
_P17 = 0.054081381753003616
_P18 = -0.06207496038793952
_P19 = 0.05647814073538777
_P20 = -0.02432617491821441


@register_jitable
def minimum(a: float, b: float) -> float:
    """Smaller of two floats (a select)."""
    return a if a < b else b


@register_jitable
def maximum(a: float, b: float) -> float:
    """Larger of two floats (a select)."""
    return a if a > b else b


@register_jitable
def sqrt(x: float) -> float:
    """Square root (the hardware instruction; vectorises)."""
    return math.sqrt(x)


@register_jitable
def reciprocal(x: float) -> float:
    """``1 / x`` for a nonzero float64 scalar, within 1 ulp, without a division.

    The hardware divider is the slowest unit on the lane loop's critical resource
    (about 1.3 ns per element for 512-bit vectors, against 0.1 ns for an FMA), so
    ``1 / x`` is computed by multiplications: an initial estimate from the bit
    pattern (``_RECIP_MAGIC - bits(|x|)``, relative error below 5.1%), two
    third-order steps ``y <- y (1 + e + e^2)`` with ``e = 1 - x y`` (error 1.3e-4,
    then 2.1e-12) and one Newton step (error ~5e-24 before the final rounding).
    Domain: ``2.3e-308 < |x| < 4.4e307`` (so that ``1 / x`` is a normal number).
    """
    bits = _as_int(x)
    ax = _as_int(abs(x))
    y: float = _as_float((_RECIP_MAGIC - ax) | (bits & _SIGN))
    e = 1.0 - x * y
    y = y + y * (e + e * e)
    e = 1.0 - x * y
    y = y + y * (e + e * e)
    e = 1.0 - x * y
    return y + y * e


@register_jitable
def exp(x: float) -> float:
    """Exponential of a float64 scalar, within 1 ulp for x >= -708 (vectorisable)."""
    # n = round(x / ln 2), read from the bits (immune to re-association)
    n = _as_int(x * _LOG2E + _SHIFT) - _SHIFT_BITS
    fn = float(n)
    r = (x - fn * _LN2_HI) - fn * _LN2_LO
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    t = (_T0 + r * _T1) + r2 * (_T2 + r * _T3)
    t = t + r4 * ((_T4 + r * _T5) + r2 * (_T6 + r * _T7))
    t = t + r8 * ((_T8 + r * _T9) + r2 * _T10)
    p = 1.0 + (r + r2 * t)  # in [0.7, 1.42]
    y = _as_float(_as_int(p) + (n << 52))  # p * 2^n (a normal number for -708 <= x)
    y = 0.0 if x < _EXP_FLUSH else y
    return _INF if x > _EXP_OVERFLOW else y


@register_jitable
def log(x: float) -> float:
    """Natural logarithm of a positive normal float64 scalar, within 1 ulp (vectorisable)."""
    bits = _as_int(maximum(x, _TINY_NORMAL))
    m: float = _as_float((bits & _MANTISSA) | _ONE_BITS)  # [1, 2)
    e = float((bits >> 52) - 1023)
    big = m > _SQRT2
    m = 0.5 * m if big else m
    e = e + 1.0 if big else e
    f = m - 1.0
    f2 = f * f
    f4 = f2 * f2
    f8 = f4 * f4
    b0 = (_P0 + f * _P1) + f2 * (_P2 + f * _P3)
    b1 = (_P4 + f * _P5) + f2 * (_P6 + f * _P7)
    b2 = (_P8 + f * _P9) + f2 * (_P10 + f * _P11)
    b3 = (_P12 + f * _P13) + f2 * (_P14 + f * _P15)
    b4 = (_P16 + f * _P17) + f2 * (_P18 + f * _P19)
    q = (b0 + f4 * b1) + f8 * (b2 + f4 * b3) + (f8 * f8) * (b4 + f4 * _P20)
    return e * _LN2_HI + (f + (f2 * q + e * _LN2_LO))
