r"""Elementary functions of the complex step, for the lane-parallel skeleton Jacobian.

This module is the ``ops`` argument of :func:`kursk_da.dynamics.equations.step` when the
skeleton's Jacobian is computed by the complex-step method
(:mod:`kursk_da.calibration._skeleton`): every number is ``a + i b`` with ``b`` of the
order of the step ``h = 1e-30`` times a derivative, so ``b^2`` is below the rounding of
``a`` and the first-order expansions are exact in floating point:

==================  ==========================================
``exp(a + ib)``     ``e^a + i b e^a``
``log(a + ib)``     ``log a + i b / a``          (``a > 0``)
``sqrt(a + ib)``    ``sqrt a + i b / (2 sqrt a)``  (``a > 0``)
``1 / (a + ib)``    ``1/a - i b / a^2``
``min``, ``max``    the argument with the smaller / larger real part
==================  ==========================================

The real parts use :mod:`kursk_da.engine._lanemath` (division free, inlined, within 1
ulp of the C library), so the loop over the perturbation lanes that calls ``step``
with these functions has no calls and is vectorised by LLVM, like the Monte Carlo
kernel. NumPy's complex functions (``atan2``, ``sincos``, complex division) cost more
and are library calls that stop vectorisation. ``min``/``max`` compare real parts, so
a perturbed lane follows the branch of the real trajectory (the complex step
differentiates the branch taken).

The arguments are complex scalars inside compiled code; a real argument of ``minimum``
or ``maximum`` (a constant such as ``1.0``) is returned as a complex number.
"""

from __future__ import annotations

from typing import Any

from numba.extending import register_jitable

from kursk_da.engine import _lanemath as lm

__all__ = ["exp", "log", "sqrt", "reciprocal", "minimum", "maximum"]


@register_jitable
def exp(z: Any) -> Any:
    """``exp(a + ib) = e^a (1 + ib)`` to first order in ``b``."""
    e = lm.exp(z.real)
    return complex(e, e * z.imag)


@register_jitable
def log(z: Any) -> Any:
    """``log(a + ib) = log a + i b / a`` to first order in ``b`` (``a > 0``)."""
    return complex(lm.log(z.real), z.imag * lm.reciprocal(z.real))


@register_jitable
def sqrt(z: Any) -> Any:
    """``sqrt(a + ib) = sqrt a + i b / (2 sqrt a)`` to first order in ``b`` (``a > 0``)."""
    s = lm.sqrt(z.real)
    return complex(s, 0.5 * z.imag * lm.reciprocal(s))


@register_jitable
def reciprocal(z: Any) -> Any:
    """``1 / (a + ib) = 1/a - i b / a^2`` to first order in ``b``."""
    r = lm.reciprocal(z.real)
    return complex(r, -z.imag * r * r)


@register_jitable
def minimum(a: Any, b: Any) -> Any:
    """The argument with the smaller real part (``a`` on ties), as a complex number."""
    return complex(a.real, a.imag) if a.real <= b.real else complex(b.real, b.imag)


@register_jitable
def maximum(a: Any, b: Any) -> Any:
    """The argument with the larger real part (``a`` on ties), as a complex number."""
    return complex(a.real, a.imag) if a.real >= b.real else complex(b.real, b.imag)
