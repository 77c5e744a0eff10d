"""Sampling the uncertain inputs of a spec (prior draws).

The input matrix has one row per draw and one column per input, in the order of
:attr:`kursk_da.spec._schema.Spec.input_names` (campaign parameters, extra lever
parameters, then value weights). Correlations enter through a Gaussian copula on
ranks (:mod:`kursk_da.spec.copula`, which also holds the spec's
correlation matrices, :func:`~kursk_da.spec.copula.rank_correlation` and
:func:`~kursk_da.spec.copula.pearson_correlation`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kursk_da.errors import SpecError
from kursk_da.spec import copula
from kursk_da.spec._schema import as_spec
from kursk_da.validation import check_int, fail

if TYPE_CHECKING:
    from kursk_da.spec._schema import Spec

__all__ = ["sample_inputs"]


def sample_inputs(spec: Spec, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` rows of the input matrix from the spec's priors.

    Parameters
    ----------
    spec : Spec
    n : int
        Number of draws.
    rng : numpy.random.Generator
        Source of randomness (consumed as documented in :func:`copula.sample`).

    Returns
    -------
    numpy.ndarray, shape (n, len(spec.input_names))
        In the units of each input.
    """
    spec = as_spec(spec)
    n = check_int(n, "n", minimum=0, error=SpecError)
    if not isinstance(rng, np.random.Generator):
        fail("rng", f"expected a numpy.random.Generator, got {type(rng).__name__}", SpecError)
    dists = [p.dist for p in spec.inputs.values()]
    return copula.sample(dists, n, rng, copula.rank_correlation(spec))
