"""Moments of a block of option values, the unit of the streaming decision summary.

The mean and the co-moment matrix of ``(v_1 .. v_k, max_j v_j)`` over the rows of one
block, and how often each option is the row's best. The engine computes them where the
block is simulated (a worker process or thread), so the process that folds the blocks
in order only combines a few numbers per block (pairwise update of Chan, Golub and
LeVeque 1979, :class:`kursk_da.decision._metrics.StreamingSummary`).

The co-moments use ``numpy.einsum`` without BLAS: the same rows give the same bits in
any process and under any number of BLAS threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BlockMoments", "block_moments"]


@dataclass(frozen=True)
class BlockMoments:
    """Moments of one block of ``n`` rows of ``k`` option values.

    Attributes
    ----------
    n : int
        Rows.
    mean : ndarray (k + 1,)
        Means of ``v_1 .. v_k`` and of ``max_j v_j`` (the units of the values).
    m2 : ndarray (k + 1, k + 1)
        Sums of products of deviations from ``mean`` (squared units).
    best : ndarray (k,) of int64
        Rows in which each option has the highest value (ties: the first option).
    """

    n: int
    mean: np.ndarray
    m2: np.ndarray
    best: np.ndarray


def block_moments(values: np.ndarray) -> BlockMoments:
    """The :class:`BlockMoments` of the rows of ``values``.

    Parameters
    ----------
    values : array (n, k)
        Values of ``k`` options in ``n >= 1`` rows (finite).

    Returns
    -------
    BlockMoments
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] < 1 or v.shape[1] < 1:
        raise ValueError(f"values: expected a 2-d array with at least one row and column, "
                         f"got shape {v.shape}")
    n, k = v.shape
    x = np.empty((n, k + 1))
    x[:, :k] = v
    x[:, k] = v.max(axis=1)
    mean = x.mean(axis=0)
    dev = x - mean
    m2 = np.einsum("ni,nj->ij", dev, dev, optimize=False)
    best = np.bincount(np.argmax(v, axis=1), minlength=k).astype(np.int64)
    return BlockMoments(n=int(n), mean=mean, m2=m2, best=best)
