"""Random streams of the calibration, keyed by purpose (one place for the keys).

Every stream is a child of ``numpy.random.SeedSequence(seed)``: ``spawn_key = (10,)``
for the sampler, ``(11,)`` for posterior predictive draws, ``(12,)`` for the prior
draws, ``(13,)`` for the non-calibrated inputs of the posterior input matrix,
``(14,)`` for the prior predictive draws of the observations. The engine input
matrix of a posterior analysis is computed block by block: its conditional prior
draws use ``(13, block)`` for the engine block of :data:`kursk_da.engine._run.BLOCK_SIZE`
rows (:class:`kursk_da.calibration._propagate.PosteriorRows`), so it does not depend on
how the work is split. The Monte Carlo engine uses keys ``(2, block)`` and
``(3, block)`` of the same root (result schema 3; ``(0, chunk)`` and ``(1, chunk)``
before), so no stream is reused.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SAMPLER", "PREDICTIVE", "PRIOR", "PROPAGATION", "PRIOR_PREDICTIVE", "stream"]

SAMPLER = 10
PREDICTIVE = 11
PRIOR = 12
PROPAGATION = 13
PRIOR_PREDICTIVE = 14


def stream(seed: int, key: int) -> np.random.SeedSequence:
    """Child seed sequence of ``seed`` for purpose ``key`` (see the module docstring)."""
    return np.random.SeedSequence(seed, spawn_key=(key,))
