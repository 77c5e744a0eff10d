"""First-order sensitivity indices of a campaign run (prior or posterior draws).

:func:`campaign_main_effects` applies :func:`kursk_da.stats._main_effects` (correlation
ratios ``Var(E[Y | x_i]) / Var(Y)`` by P-spline regression, valid for dependent inputs)
to each option's value and to the leader - runner-up difference of a run's draws, with
the variance reduction of :meth:`kursk_da.io._draws.CampaignDraws.task_values`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from kursk_da.decision._metrics import leader_and_runner_up
from kursk_da.dims import OUTPUT, PARAMETER
from kursk_da.errors import VOIInputError
from kursk_da.io._draws import CampaignDraws
from kursk_da.sensitivity._campaign import DIFFERENCE_OUTPUT
from kursk_da.stats import main_effects
from kursk_da.validation import check_rng

__all__ = ["campaign_main_effects"]


def campaign_main_effects(draws: CampaignDraws, *, parameters: Sequence[str] | None = None,
                          rng: Any = None, n_se_draws: int = 100,
                          distribution: str = "prior") -> xr.Dataset:
    """First-order indices of each option's value and of the top-two difference.

    Parameters
    ----------
    draws : CampaignDraws
        A run's draws (:func:`kursk_da.io._draws.draws_from_tree` or
        :func:`~kursk_da.io._draws.draws_from_spec`); with attributes, each
        regression uses the values with the other independent weights at their means
        (same conditional mean, less noise).
    parameters : sequence of str, optional
        Inputs to index (default: every uncertain input).
    rng : numpy.random.Generator, int or None
    n_se_draws : int
    distribution : str
        Recorded in the attributes: ``"prior"`` or ``"posterior"`` draws.

    Returns
    -------
    xarray.Dataset
        ``S1`` and ``S1_se`` over (``output``, ``parameter``): outputs are the
        options and ``difference`` (leader - runner-up by expected value on these
        draws); ``output_variance`` over ``output`` (dkm2^2).  Attributes
        ``leader``, ``runner_up``, ``distribution``, ``n_draws``.
    """
    names = list(draws.uncertain) if parameters is None else list(parameters)
    unknown = [p for p in names if p not in draws.names]
    if unknown:
        raise VOIInputError(f"parameters: unknown input(s) {unknown}; "
                            f"available: {list(draws.names)}")
    generator = check_rng(rng, "rng", VOIInputError)
    lead, runner = leader_and_runner_up(draws.values)
    outputs = [*draws.options, DIFFERENCE_OUTPUT]
    col = [draws.names.index(p) for p in names]
    x = draws.inputs[:, col]
    # per input, the values to regress on it (other independent weights at their means)
    reduced = [draws.task_values((p,)) for p in names]
    s1 = np.zeros((len(outputs), len(names)))
    se = np.zeros_like(s1)
    variance = np.zeros(len(outputs))
    for o, out in enumerate(outputs):
        if out == DIFFERENCE_OUTPUT:
            y = draws.values[:, lead] - draws.values[:, runner]
            target = np.column_stack([r[:, lead] - r[:, runner] for r in reduced])
        else:
            y = draws.values[:, o]
            target = np.column_stack([r[:, o] for r in reduced])
        variance[o] = y.var()
        s1[o], se[o] = main_effects(y, x, rng=generator, n_se_draws=n_se_draws, target=target)
    ds = xr.Dataset(
        {"S1": ((OUTPUT, PARAMETER), s1,
                {"long_name": "first-order index Var(E[Y | input]) / Var(Y)", "units": "1"}),
         "S1_se": ((OUTPUT, PARAMETER), se, {"long_name": "standard error of S1", "units": "1"}),
         "output_variance": ((OUTPUT,), variance, {"long_name": "variance of the output",
                                                   "units": "dkm2^2"})},
        coords={OUTPUT: outputs, PARAMETER: names},
    )
    ds.attrs.update({
        "description": "first-order sensitivity indices (correlation ratios) from the draws, "
                       "by P-spline regression; valid for dependent inputs",
        "leader": draws.options[lead], "runner_up": draws.options[runner],
        "distribution": distribution, "n_draws": int(draws.values.shape[0]),
        "options": ",".join(draws.options),
    })
    return ds
