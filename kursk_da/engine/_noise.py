"""Standard-normal front shocks: uniforms from NumPy, Box-Muller in compiled code.

``numpy.random.Generator.standard_normal`` costs about 12 ns per number on the
benchmark machine (its ziggurat method branches per number), which for 10^6 draws x
365 days is several seconds. :func:`standard_normals` instead takes uniforms from
the same generator (``Generator.random``, about 2 ns each) and transforms pairs of
them with the Box-Muller method in a vectorised loop (about 1 ns per number)::

    r = sqrt(-2 log(1 - u1)),   z1 = r cos(2 pi u2),   z2 = r sin(2 pi u2)

``1 - u1`` is in ``(0, 1]``, so the logarithm is finite (the largest ``|z|`` is
``sqrt(-2 log 2^-53) = 8.57``). The logarithm is :func:`kursk_da.engine._lanemath.log`;
``cos``/``sin`` of ``2 pi u`` are reduced exactly to an octant (``u - q/4``, ``q``
the nearest quarter turn) and evaluated by their Taylor polynomials (degrees 16 and
15, truncation below 1e-16 relative on ``|x| <= pi/4``).

The numbers are a deterministic function of the generator's state, so the
reproducibility contract of :mod:`kursk_da.engine._run` is unchanged.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kursk_da.engine import _lanemath as lanemath

__all__ = ["standard_normals", "block_shocks", "draw_stride"]

_FLAGS = {"nnan", "nsz", "contract", "afn"}
_TWO_PI = 2.0 * math.pi

# Taylor coefficients: sin x = x + x^3 (S1 + x^2 (S2 + ...)), cos x = 1 + x^2 (C1 + ...)
_S1 = -1.0 / 6.0
_S2 = 1.0 / 120.0
_S3 = -1.0 / 5040.0
_S4 = 1.0 / 362880.0
_S5 = -1.0 / 39916800.0
_S6 = 1.0 / 6227020800.0
_S7 = -1.0 / 1307674368000.0
_C1 = -1.0 / 2.0
_C2 = 1.0 / 24.0
_C3 = -1.0 / 720.0
_C4 = 1.0 / 40320.0
_C5 = -1.0 / 3628800.0
_C6 = 1.0 / 479001600.0
_C7 = -1.0 / 87178291200.0
_C8 = 1.0 / 20922789888000.0


@njit(nogil=True, error_model="numpy", fastmath=_FLAGS, inline="always",
      cache=True)
def _cos_sin_turn(u: float) -> tuple[float, float]:
    """``(cos(2 pi u), sin(2 pi u))`` for ``0 <= u < 1`` (branch free)."""
    q = math.floor(4.0 * u + 0.5)  # nearest quarter turn, 0..4
    x = _TWO_PI * (u - 0.25 * q)  # |x| <= pi/4 (u - q/4 is exact)
    x2 = x * x
    x4 = x2 * x2
    x8 = x4 * x4
    s = x + (x * x2) * ((_S1 + x2 * _S2) + x4 * (_S3 + x2 * _S4)
                        + x8 * ((_S5 + x2 * _S6) + x4 * _S7))
    c = 1.0 + x2 * ((_C1 + x2 * _C2) + x4 * (_C3 + x2 * _C4)
                    + x8 * ((_C5 + x2 * _C6) + x4 * (_C7 + x2 * _C8)))
    k = int(q) & 3
    odd = (k & 1) == 1
    cos_abs = s if odd else c
    sin_abs = c if odd else s
    cos_v = -cos_abs if (k == 1 or k == 2) else cos_abs
    sin_v = -sin_abs if k >= 2 else sin_abs
    return cos_v, sin_v


@njit(nogil=True, error_model="numpy", fastmath=_FLAGS, cache=True)
def _box_muller(buf: np.ndarray) -> None:
    """Uniforms in [0, 1) to standard normals, in place.

    The pairs are ``(buf[k], buf[half + k])``, ``half = buf.size // 2`` (contiguous
    vector loads), transformed to ``(r cos, r sin)`` in the same positions.
    """
    lanemath.prefer_512_bit_vectors()
    half = buf.size // 2
    first = buf[:half]
    second = buf[half : 2 * half]
    for k in range(half):
        r = math.sqrt(-2.0 * lanemath.log(1.0 - first[k]))
        c, s = _cos_sin_turn(second[k])
        first[k] = r * c
        second[k] = r * s


def standard_normals(
    rng: np.random.Generator, shape: tuple[int, ...], buffer: np.ndarray | None = None
) -> np.ndarray:
    """Standard-normal numbers of the given shape (C order) from ``rng``.

    Draws ``2 * ceil(size / 2)`` uniforms with ``rng.random`` and transforms them
    pairwise with the Box-Muller method (see the module docstring): number ``k`` of
    the first half is paired with number ``k`` of the second half.

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : tuple of int
    buffer : float64 array, optional
        Contiguous 1-D work array of at least ``2 * ceil(size / 2)`` elements, reused
        instead of a fresh allocation (the result is then a view of it).
    """
    size = math.prod(shape)
    n = size + (size & 1)
    if buffer is None:
        buf = np.empty(n)
    else:
        if buffer.ndim != 1 or buffer.size < n or not buffer.flags.c_contiguous:
            raise ValueError(f"buffer must be a contiguous 1-D array of at least {n} elements")
        buf = buffer[:n]
    rng.random(out=buf)
    _box_muller(buf)
    return buf[:size].reshape(shape)


def draw_stride(n_days: int) -> int:
    """Uniforms per draw of :func:`block_shocks`: ``n_days`` rounded up to even."""
    return n_days + (n_days & 1)


@njit(nogil=True, error_model="numpy", fastmath=_FLAGS, cache=True)
def _box_muller_draws(u: np.ndarray, out: np.ndarray) -> None:
    """Per-draw Box-Muller: row ``i`` of ``u`` (``L`` uniforms) to column ``i`` of ``out``.

    Pairs ``(u[i, t], u[i, L/2 + t])`` give days ``t`` and ``L/2 + t`` (the last one
    dropped when ``n_days`` is odd); the result of a draw depends on its own row only.
    Each row is transformed in place (a contiguous, vectorised loop), then the rows
    are transposed into ``out`` in tiles of 32 x 32.
    """
    lanemath.prefer_512_bit_vectors()
    m, width = u.shape
    n_days = out.shape[0]
    half = width // 2
    for i in range(m):
        first = u[i, :half]
        second = u[i, half:]
        for t in range(half):
            r = math.sqrt(-2.0 * lanemath.log(1.0 - first[t]))
            c, s = _cos_sin_turn(second[t])
            first[t] = r * c
            second[t] = r * s
    tile = 32
    for i0 in range(0, m, tile):
        i1 = min(m, i0 + tile)
        for t0 in range(0, n_days, tile):
            t1 = min(n_days, t0 + tile)
            for t in range(t0, t1):
                for i in range(i0, i1):
                    out[t, i] = u[i, t]


def block_shocks(
    seq: np.random.SeedSequence, lo: int, hi: int, n_days: int,
    out: np.ndarray | None = None, work: np.ndarray | None = None,
) -> np.ndarray:
    """Standard-normal front shocks of draws ``lo .. hi - 1`` of one block's stream.

    Counter-based by draw: draw ``i`` of the block uses the uniforms
    ``i * L .. (i + 1) * L - 1`` (``L = draw_stride(n_days)``) of
    ``Generator(PCG64(seq)).random``, reached by ``PCG64.advance`` (one 64-bit output
    per uniform), and transforms them pairwise with the Box-Muller method
    (:func:`_box_muller_draws`). The shocks of a draw therefore do not depend on
    which other draws are generated with it.

    Parameters
    ----------
    seq : numpy.random.SeedSequence
        The block's stream.
    lo, hi : int
        Draws of the block, ``0 <= lo <= hi``.
    n_days : int
    out : float64 1-D array of at least ``n_days * (hi - lo)`` elements, optional
        Reused result buffer (the result is then a C-ordered view of it).
    work : float64 1-D array of at least ``(hi - lo) * L`` elements, optional
        Reused work array of the uniforms.

    Returns
    -------
    numpy.ndarray, shape (n_days, hi - lo)
        Element ``[t, i]`` is day ``t`` of draw ``lo + i`` (a view of ``out`` if given).
    """
    m = hi - lo
    width = draw_stride(n_days)
    bitgen = np.random.PCG64(seq)
    if lo:
        bitgen.advance(lo * width)
    need = m * width
    buf = np.empty(need) if work is None or work.size < need else work[:need]
    np.random.Generator(bitgen).random(out=buf)
    if out is None or out.size < n_days * m:
        res = np.empty((n_days, m))
    else:
        res = out[: n_days * m].reshape(n_days, m)
    _box_muller_draws(buf.reshape(m, width), res)
    return res
