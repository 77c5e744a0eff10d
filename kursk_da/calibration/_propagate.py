"""Posterior propagation: posterior draws through every option of the engine.

The input matrix of the posterior analysis has one row per posterior draw (chain x
draw flattened, chain-major), repeated ``per_draw`` times when several stochastic
trajectories per draw are wanted:

* the MCMC-sampled campaign parameters take their posterior values;
* every other input (value weights, option levers, parameters the observations
  cannot inform) is drawn from its prior *conditional on the sampled ones* through
  the spec's Gaussian copula: with normal scores ``z_S`` of the sampled inputs,
  ``z_O | z_S ~ N(R_OS R_SS^-1 z_S, R_OO - R_OS R_SS^-1 R_SO)``, then
  ``x_O = F_O^-1(Phi(z_O))`` (:func:`kursk_da.spec.copula.sample_conditional`). Without
  correlations this is an independent prior draw.

The orchestrator (:func:`kursk_da.analysis.analyze`) runs this matrix through the
engine; :mod:`kursk_da.io` builds the result set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from kursk_da.calibration._streams import PROPAGATION, stream
from kursk_da.dims import CHAIN, DRAW, PARAMETER
from kursk_da.spec.copula import sample_conditional

if TYPE_CHECKING:
    from kursk_da.spec._schema import Spec

__all__ = ["posterior_input_matrix", "PosteriorRows"]


def posterior_input_matrix(
    spec: Spec,
    posterior: xr.Dataset | np.ndarray,
    sampled: Sequence[str],
    *,
    seed: int,
    per_draw: int = 1,
) -> np.ndarray:
    """Input matrix of the posterior analysis (see the module docstring).

    Parameters
    ----------
    spec : Spec
    posterior : xarray.Dataset with ``theta`` (chain, draw, parameter), or array (n, k)
        Posterior draws of the sampled inputs.
    sampled : sequence of str
        Names of the sampled inputs (columns of ``theta``).
    seed : int
        Root seed; the conditional prior draws use ``SeedSequence(seed, spawn_key=(13,))``.
    per_draw : int
        Rows per posterior draw.

    Returns
    -------
    numpy.ndarray (n * per_draw, len(spec.input_names))
    """
    if isinstance(posterior, xr.Dataset):
        th = posterior["theta"].transpose(CHAIN, DRAW, PARAMETER).to_numpy()
        xs = th.reshape(-1, th.shape[-1])
    else:
        xs = np.asarray(posterior, dtype=float)
    xs = np.repeat(xs, per_draw, axis=0)
    n = xs.shape[0]
    names = list(spec.input_names)
    s_idx = [names.index(s) for s in sampled]
    fixed = [j for j, nm in enumerate(names) if spec.inputs[nm].dist.is_fixed]
    o_idx = [j for j in range(len(names)) if j not in s_idx and j not in fixed]
    out = np.empty((n, len(names)))
    out[:, s_idx] = xs
    for j in fixed:
        out[:, j] = spec.inputs[names[j]].dist.params["value"]
    if not o_idx:
        return out
    rng = np.random.default_rng(stream(seed, PROPAGATION))
    out[:, o_idx] = sample_conditional(spec, sampled, xs, [names[j] for j in o_idx], rng)
    return out


class PosteriorRows:
    """The posterior input matrix computed block by block (an engine input source).

    Row ``r`` belongs to posterior draw ``r // per_draw`` (chain-major); its sampled
    columns are that draw's values, its fixed columns their values, and the other
    inputs are conditional prior draws as in :func:`posterior_input_matrix`, from the
    stream ``SeedSequence(seed, spawn_key=(13, block))`` of the engine block
    (:data:`kursk_da.engine._run.BLOCK_SIZE` rows) that holds the row. Rows of a block
    are therefore the same whatever the split of the work (chunk size, workers).

    Parameters
    ----------
    spec : Spec
    posterior : xarray.Dataset with ``theta`` (chain, draw, parameter), or array (n, k)
    sampled : sequence of str
    seed : int
    per_draw : int
    """

    def __init__(self, spec: Spec, posterior: xr.Dataset | np.ndarray,
                 sampled: Sequence[str], *, seed: int, per_draw: int = 1) -> None:
        if isinstance(posterior, xr.Dataset):
            th = posterior["theta"].transpose(CHAIN, DRAW, PARAMETER).to_numpy()
            xs = th.reshape(-1, th.shape[-1])
        else:
            xs = np.asarray(posterior, dtype=float)
        self.spec, self.xs, self.sampled = spec, np.ascontiguousarray(xs), list(sampled)
        self.seed, self.per_draw = int(seed), int(per_draw)

    @property
    def n_rows(self) -> int:
        """Rows of the input matrix: posterior draws x ``per_draw``."""
        return int(self.xs.shape[0]) * self.per_draw

    def rows(self, a: int, b: int) -> np.ndarray:
        """Rows ``a .. b - 1`` (``a`` a block start, ``b`` its end or the last row)."""
        from kursk_da.engine._run import BLOCK_SIZE

        spec = self.spec
        xs = self.xs[np.arange(a, b) // self.per_draw]
        names = list(spec.input_names)
        s_idx = [names.index(s) for s in self.sampled]
        fixed = [j for j, nm in enumerate(names) if spec.inputs[nm].dist.is_fixed]
        o_idx = [j for j in range(len(names)) if j not in s_idx and j not in fixed]
        out = np.empty((b - a, len(names)))
        out[:, s_idx] = xs
        for j in fixed:
            out[:, j] = spec.inputs[names[j]].dist.params["value"]
        if o_idx:
            seq = np.random.SeedSequence(self.seed, spawn_key=(PROPAGATION, a // BLOCK_SIZE))
            out[:, o_idx] = sample_conditional(spec, self.sampled, xs,
                                               [names[j] for j in o_idx],
                                               np.random.default_rng(seq))
        return out
