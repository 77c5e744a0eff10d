"""Global sensitivity of the campaign model: Sobol' indices of each option's value.

:func:`campaign_sobol` runs the generic :func:`kursk_da.sobol` with ``func``
re-running the engine, for each option's value and for the difference between
the two options of highest expected value.

Assumptions, stated:

* **Independent inputs.**  Sobol' indices are defined for independent inputs;
  the spec's rank correlations (Gaussian copula) are *dropped* here and every
  uncertain input is sampled from its marginal.  The spec's correlations are
  weak (0.3) and few; the EVPPI ranking (:mod:`kursk_da.voi._campaign`) keeps them.
* **Front shocks held common.**  Every engine call of one analysis uses the same
  seed, so row ``r`` of the matrices ``A``, ``B`` and ``AB_i`` gets the same daily
  front shocks (common random numbers): the indices are those of the value given
  the shocks, averaged over the shocks, and the shocks' own share of variance is
  not attributed to any input.
* Fixed inputs are held at their values and get no index.

The engine runs once per base-sample matrix (``n * (d + 2)`` draws in all); the
outputs share those runs through a cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from kursk_da.decision._metrics import leader_and_runner_up
from kursk_da.dims import OUTPUT, VALUE_UNITS
from kursk_da.errors import VOIInputError
from kursk_da.stats import sobol
from kursk_da.validation import check_int, check_jobs, check_seed

if TYPE_CHECKING:
    from distributed import Client

    from kursk_da.spec._schema import Spec

__all__ = ["campaign_sobol", "DIFFERENCE_OUTPUT"]

DIFFERENCE_OUTPUT = "difference"
"""Label of the output "value of the leading option minus the runner-up"."""


class _CachedEngine:
    """Engine values for input matrices of the uncertain inputs, cached by content."""

    def __init__(self, spec: Spec, names: Sequence[str], seed: int, n_jobs: int | None,
                 client: Client | None = None) -> None:
        self.spec = spec
        self.cols = [spec.input_names.index(n) for n in names]
        self.fixed = np.array([p.dist.mean() for p in spec.inputs.values()])
        self.seed = seed
        self.n_jobs = n_jobs
        self.client = client
        self.cache: dict[bytes, np.ndarray] = {}

    def values(self, x: np.ndarray) -> np.ndarray:
        key = np.ascontiguousarray(x).tobytes()
        if key not in self.cache:
            from kursk_da.engine._run import run_engine

            theta = np.tile(self.fixed, (x.shape[0], 1))
            theta[:, self.cols] = x
            # one task in threads; on a cluster the default blocks spread over the workers
            # (the chunk size does not change the numbers)
            chunk = {} if self.client is not None else {"chunk_size": x.shape[0]}
            self.cache[key] = run_engine(self.spec, x.shape[0], self.seed, inputs=theta,
                                         n_jobs=self.n_jobs, client=self.client,
                                         **chunk).values
        return self.cache[key]


def campaign_sobol(spec: Spec, *, n: int = 256, seed: int = 0,
                   parameters: Sequence[str] | None = None, n_bootstrap: int = 200,
                   conf_level: float = 0.95, n_jobs: int | None = None,
                   client: Client | None = None) -> xr.Dataset:
    """First-order and total Sobol' indices of each option's value and of the top-two difference.

    Parameters
    ----------
    spec : Spec
    n : int
        Base sample size (a power of 2); the engine runs ``n * (d + 2)`` draws,
        ``d`` the number of uncertain inputs (about 10^4 draws for ``n = 256``).
    seed : int
        Root seed (Sobol' scrambling, bootstrap, front shocks).
    parameters : sequence of str, optional
        Inputs that vary (default: every uncertain input); the others are held at
        their prior means.
    n_bootstrap, conf_level : int, float
        Bootstrap bounds, as in :func:`kursk_da.sobol`.
    n_jobs : int, optional
        Engine threads.
    client : distributed.Client, optional
        Run the engine's blocks on this dask cluster (the numbers do not change).

    Returns
    -------
    xarray.Dataset
        ``S1``, ``ST``, ``S1_conf_low``, ``S1_conf_high``, ``ST_conf_low``,
        ``ST_conf_high`` over dims (``output``, ``parameter``); ``output`` is each
        option, then ``difference`` (``leader`` minus ``runner_up``, the options of
        highest mean value on the base sample, named in the attributes);
        ``output_variance`` (output), dkm2^2.

    Raises
    ------
    VOIInputError
        Unknown ``parameters`` or bad ``n``.
    """
    uncertain = [k for k, p in spec.inputs.items() if not p.dist.is_fixed]
    if parameters is None:
        names = uncertain
    else:
        bad = [p for p in parameters if p not in uncertain]
        if bad:
            raise VOIInputError(f"parameters: unknown or fixed input(s) {bad}; uncertain inputs: "
                                f"{uncertain}")
        names = list(parameters)
    n = check_int(n, "n", minimum=8, error=VOIInputError)
    seed = check_seed(seed, error=VOIInputError)
    n_jobs = check_jobs(n_jobs, error=VOIInputError)
    root = np.random.SeedSequence(seed)
    s_sobol, s_engine = root.spawn(2)
    engine = _CachedEngine(spec, names, int(s_engine.generate_state(1, dtype=np.uint32)[0]),
                           n_jobs, client)
    dists = {k: spec.inputs[k].dist.scipy() for k in names}
    sobol_seed = int(s_sobol.generate_state(1, dtype=np.uint32)[0])

    def run(column: Callable[..., np.ndarray]) -> xr.Dataset:
        def func(x: np.ndarray) -> np.ndarray:
            v = engine.values(x)
            return column(v)

        return sobol(func, dists, n, rng=sobol_seed, n_bootstrap=n_bootstrap,
                     conf_level=conf_level)

    parts = [run(lambda v, j=j: v[:, j]) for j in range(len(spec.option_names))]
    pooled = np.concatenate([v for v in engine.cache.values()])  # all runs
    lead, runner = leader_and_runner_up(pooled)
    parts.append(run(lambda v: v[:, lead] - v[:, runner]))
    outputs = [*spec.option_names, DIFFERENCE_OUTPUT]
    variance = [p.attrs["output_variance"] for p in parts]
    ds = xr.concat([p.drop_attrs() if hasattr(p, "drop_attrs") else p for p in parts],
                   dim=xr.DataArray(outputs, dims=OUTPUT, name=OUTPUT))
    ds["output_variance"] = xr.DataArray(variance, dims=(OUTPUT,),
                                         attrs={"units": f"{VALUE_UNITS}^2"})
    ds.attrs.update({
        "description": "Sobol' indices of each option's value and of the leader - runner-up "
                       "difference; inputs independent (copula correlations dropped), front "
                       "shocks common to all matrices",
        "leader": spec.option_names[lead], "runner_up": spec.option_names[runner],
        "n": n, "n_evaluations": int(n * (len(names) + 2)), "seed": seed,
        "estimator": parts[0].attrs["estimator"], "conf_level": float(conf_level),
        "distribution": "prior", "units": "1",
    })
    return ds
