"""Elementary functions for the compiled engine that LLVM can vectorise.

This module is the ``ops`` argument of :func:`kursk_da.dynamics.equations.step` and
:func:`~kursk_da.dynamics.equations.derived` inside the numba kernel (the NumPy
reference and the PyMC model pass ``numpy`` and ``pytensor.tensor``). It provides
``exp``, ``log``, ``sqrt``, ``minimum`` and ``maximum`` for float64 *scalars*.

Why not ``numpy``: numba lowers ``np.exp``/``np.log`` to calls of the C library's
scalar functions (about 5.6 ns each), and a loop containing such a call is never
vectorised (the llvmlite wheels ship no vector math library). The functions here
are plain arithmetic -- range reduction, a polynomial, and integer operations on the
bit pattern of a double (through :func:`_as_float` / :func:`_as_int`, which are LLVM
``bitcast`` instructions, free and vectorisable) -- so a loop over lanes that calls
them inlines everything and compiles to AVX-512/AVX2 code. ``minimum``/``maximum``
are selects (``vminpd``/``vmaxpd``), not the NaN-propagating NumPy versions: the
engine never produces NaN.

Accuracy (checked in ``tests/test_lanemath.py`` against NumPy): ``exp`` and ``log``
are within 1 ulp of the correctly rounded result over their whole domain; ``sqrt``
is the correctly rounded hardware square root. Domain: ``exp`` returns 0 below
-745.2 and ``inf`` above 709.8 (like the C library, including subnormal results);
``log`` expects a positive, finite, normal argument (``log`` of anything below the
smallest normal double, 2.2e-308, returns ``log(2.2e-308)``).

Algorithms (written for this package):

* ``exp(x)``: ``n = floor(x / ln 2 + 1/2)``, ``r = x - n ln 2`` with ``ln 2`` split
  in a 20-bit head (so ``n * head`` is exact) and a tail, ``|r| <= ln(2)/2``;
  ``exp(r)`` by its Taylor polynomial of degree 13 (truncation below 1e-18
  relative); scaling by ``2^n`` as the product of two powers of two built directly
  in the exponent field (so subnormal results and ``n`` up to 1025 need no
  special case).
* ``log(x)``: ``x = 2^e m`` with ``m`` in ``[sqrt(1/2), sqrt(2))`` from the bit
  pattern; ``f = m - 1`` (exact), ``s = f / (2 + f)``, ``z = s^2`` and
  ``log(1 + f) = 2 atanh(s) = f - s (f - z P(z))`` with ``P`` the atanh series
  ``2/3 + 2z/5 + ... + 2z^9/21`` (``z <= 0.0295``, truncation below 1e-18);
  ``log(x) = e ln 2 + log(1 + f)`` with the split ``ln 2``.
"""

from __future__ import annotations

import math

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, register_jitable

__all__ = ["exp", "log", "sqrt", "minimum", "maximum"]


@intrinsic
def _as_float(typingctx, bits):
    """Reinterpret the bits of an int64 as a float64 (LLVM ``bitcast``)."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _as_int(typingctx, x):
    """Reinterpret the bits of a float64 as an int64 (LLVM ``bitcast``)."""
    if not isinstance(x, types.Float):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


_LOG2E = 1.4426950408889634  # 1 / ln 2
_LN2_HI = 0.6931467056274414  # ln 2 rounded to 20 significant bits: n * _LN2_HI is exact
_LN2_LO = 4.7493250390316726e-07  # ln 2 - _LN2_HI
_SQRT2 = 1.4142135623730951
_SHIFT = 6755399441055744.0  # 1.5 * 2^52
_SHIFT_BITS = 0x4338000000000000  # its bit pattern
_EXP_LO = -746.0  # below: exp underflows to 0
_EXP_HI = 710.0  # above: exp overflows to inf
_TINY_NORMAL = 2.2250738585072014e-308
_MANTISSA = 0x000FFFFFFFFFFFFF
_ONE_BITS = 0x3FF0000000000000

# Taylor coefficients 1/k! of exp, k = 2..13
_E2 = 1.0 / 2.0
_E3 = 1.0 / 6.0
_E4 = 1.0 / 24.0
_E5 = 1.0 / 120.0
_E6 = 1.0 / 720.0
_E7 = 1.0 / 5040.0
_E8 = 1.0 / 40320.0
_E9 = 1.0 / 362880.0
_E10 = 1.0 / 3628800.0
_E11 = 1.0 / 39916800.0
_E12 = 1.0 / 479001600.0
_E13 = 1.0 / 6227020800.0

# atanh series: log(1+f) = 2s + s z P(z), P(z) = sum_k 2 z^k / (2k + 3), k = 0..9
_L0 = 2.0 / 3.0
_L1 = 2.0 / 5.0
_L2 = 2.0 / 7.0
_L3 = 2.0 / 9.0
_L4 = 2.0 / 11.0
_L5 = 2.0 / 13.0
_L6 = 2.0 / 15.0
_L7 = 2.0 / 17.0
_L8 = 2.0 / 19.0
_L9 = 2.0 / 21.0


@register_jitable
def minimum(a, b):
    """Smaller of two floats (a select)."""
    return a if a < b else b


@register_jitable
def maximum(a, b):
    """Larger of two floats (a select)."""
    return a if a > b else b


@register_jitable
def sqrt(x):
    """Square root (the hardware instruction; vectorises)."""
    return math.sqrt(x)


@register_jitable
def _pow2(n):
    """``2.0 ** n`` for an integer ``-1022 <= n <= 1023``, built in the exponent field."""
    return _as_float((n + 1023) << 52)


@register_jitable
def exp(x):
    """Exponential of a float64 scalar, within 1 ulp (vectorisable)."""
    x = minimum(maximum(x, _EXP_LO), _EXP_HI)
    # n = round(x / ln 2): adding 1.5 * 2^52 rounds to an integer held in the low
    # bits of the mantissa; n is read from the bits (immune to re-association)
    n = _as_int(x * _LOG2E + _SHIFT) - _SHIFT_BITS
    fn = float(n)
    r = (x - fn * _LN2_HI) - fn * _LN2_LO
    # Taylor polynomial of degree 13: 1 + (r + r^2 T(r)), the tail T (degree 11) by
    # Estrin's scheme (short dependency chains), the leading terms added last
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    t01 = _E2 + r * _E3
    t23 = _E4 + r * _E5
    t45 = _E6 + r * _E7
    t67 = _E8 + r * _E9
    t89 = _E10 + r * _E11
    t1011 = _E12 + r * _E13
    t03 = t01 + r2 * t23
    t47 = t45 + r2 * t67
    t811 = t89 + r2 * t1011
    p = 1.0 + (r + r2 * (t03 + r4 * t47 + r8 * t811))
    n1 = n >> 1
    return p * _pow2(n1) * _pow2(n - n1)


@register_jitable
def log(x):
    """Natural logarithm of a positive normal float64 scalar, within 1 ulp (vectorisable)."""
    bits = _as_int(maximum(x, _TINY_NORMAL))
    m = _as_float((bits & _MANTISSA) | _ONE_BITS)  # [1, 2)
    e = float((bits >> 52) - 1023)
    big = m > _SQRT2
    m = 0.5 * m if big else m
    e = e + 1.0 if big else e
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    z2 = z * z
    z4 = z2 * z2
    z8 = z4 * z4
    q01 = _L0 + z * _L1
    q23 = _L2 + z * _L3
    q45 = _L4 + z * _L5
    q67 = _L6 + z * _L7
    q89 = _L8 + z * _L9
    q03 = q01 + z2 * q23
    q47 = q45 + z2 * q67
    q = q03 + z4 * q47 + z8 * q89
    return e * _LN2_HI + (f - (s * (f - z * q) - e * _LN2_LO))
