"""Value of information on the campaign model: which uncertainty matters for the decision.

* :func:`campaign_evppi` -- EVPPI of every uncertain input of a spec and of every
  input group (``Parameter.group``), ranked, from a run's draws (prior or
  posterior), as an xarray Dataset over dims ``parameter`` and ``group``;
* :func:`campaign_evppi_from_tree` -- the same from a saved result set;
* :func:`campaign_evppi_nested` -- nested (two-level) Monte Carlo EVPPI of one
  or a few inputs, re-running the engine, to check the regression estimates.

Variance reduction.  Given the run's attributes (``value = sum_k w_k a_k``),
each regression sees the values recomputed with every independent weight
outside its focal set at its mean: this leaves ``E[value | focal]``, hence the
EVPPI, unchanged and removes the weights' variation, the largest part of the
regression noise (:meth:`kursk_da.io.CampaignDraws.task_values`).  On the default spec it
lowers the small-sample upward bias of the group estimates several-fold.

Estimators.  Value weights (``weight_<attribute>``) enter the value linearly
and, when the copula leaves them independent of the other inputs, ``E[value |
weights]`` is exactly linear in them: a single weight or a group of them uses
least squares (``method="linear"`` of :func:`kursk_da.evppi`), on all draws,
with no smoothing bias.  Each other single input and each group of at most
:data:`kursk_da.stats.GAM_MAX_PARAMETERS` inputs uses the tensor-product
P-spline GAM of :func:`kursk_da.evppi`, computed from sufficient statistics
(:func:`kursk_da.stats.evppi_gam_fast`: the same estimator, faster), on
all draws.  A group of more inputs
uses its Gaussian-process path, fitted on a random subsample of at most
``gp_max_draws`` draws (the GP costs grow with the draws times the inducing
points; on 10^5 draws the subsample keeps a group to a few seconds).  Fixed
inputs (constant across draws) are skipped: their EVPPI is 0.

Standard errors.  ``evppi_se`` combines the posterior uncertainty of the
regression fit (``evppi_fit_se``, Strong et al. 2014) and the Monte Carlo error
of averaging over the draws used given the fit (``evppi_mc_se``); the fit term
alone understates the spread over repeated samples, most for the GP path on a
subsample.  Neither covers the smoother's bias, nor, for the GP, the
variation of its hyperparameters with the training subsample.  On the default
spec, the ``casualty_rates`` group (GP) estimated on 5 disjoint samples of
20,000 draws had a standard deviation of 1.8 dkm2 against a mean reported SE
of 1.9.

The regression work runs with single-threaded BLAS and,
optionally, ``n_jobs`` threads over inputs: small BLAS calls on a loaded
machine are several times faster that way.

Randomness comes only from ``rng``: one child stream per task, spawned in a
fixed order, so results do not depend on ``n_jobs``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import special
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from kursk_da.decision._metrics import leader_and_runner_up
from kursk_da.dims import GROUP, PARAMETER, VALUE_UNITS
from kursk_da.errors import VOIInputError
from kursk_da.io._draws import CampaignDraws, draws_from_spec, draws_from_tree
from kursk_da.spec.copula import (
    condition_scores,
    draw_scores,
    from_normal_scores,
    pearson_correlation,
)
from kursk_da.stats import (
    GAM_MAX_PARAMETERS,
    VOIResult,
    evpi_core,
    evpi_se_core,
    evppi_from_arrays,
    evppi_gam_fast,
)
from kursk_da.validation import check_bool, check_int, check_jobs, check_rng

if TYPE_CHECKING:
    from distributed import Client

    from kursk_da.spec._schema import Spec

__all__ = [
    "campaign_evppi",
    "campaign_evppi_from_tree",
    "campaign_evppi_nested",
]


def _task_evppi(values: np.ndarray, focal: np.ndarray, method: str, seed: np.random.SeedSequence,
                n_se_draws: int, gp_max_draws: int, gp_max_train: int,
                labels: tuple[str, ...]) -> tuple[float, float, str, int, float]:
    rng = np.random.default_rng(seed)
    n = values.shape[0]
    if method == "linear":
        val, se, used, diag = evppi_from_arrays(values, focal, method="linear", rng=rng,
                                                n_se_draws=n_se_draws, labels=labels)
        return val, se, used, n, float(diag["mc_se_given_fit"])
    if method == "gam":
        res = evppi_gam_fast(values, focal, rng=rng, n_se_draws=n_se_draws, labels=labels)
        return res.value, res.se, res.method, n, float(res.diagnostics["mc_se_given_fit"])
    if method == "gp" and n > gp_max_draws:
        rows = np.sort(rng.choice(n, size=gp_max_draws, replace=False))
        values, focal = values[rows], focal[rows]
    val, se, used, diag = evppi_from_arrays(values, focal, method=method, rng=rng,
                                            n_se_draws=n_se_draws, gp_max_train=gp_max_train,
                                            labels=labels)
    return val, se, used, values.shape[0], float(diag["mc_se_given_fit"])


def _evppi_task(shared: tuple[Any, ...], k: int) -> tuple[float, float, str, int, float]:
    """Task ``k`` of :func:`_evppi_dataset` on a dask worker (``shared`` scattered once)."""
    draws, tasks, seeds, col, n_se_draws, gp_max_draws, gp_max_train = shared
    _, mem, method = tasks[k]
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _task_evppi(draws.task_values(mem), draws.inputs[:, [col[m] for m in mem]],
                           method, seeds[k], n_se_draws, gp_max_draws, gp_max_train, mem)


def _check_int(x: Any, name: str, lo: int) -> int:
    return check_int(x, name, minimum=lo, error=VOIInputError)


def _evppi_dataset(draws: CampaignDraws, *, parameters: Sequence[str] | None, groups: bool,
                   rng: Any, n_se_draws: int, gp_max_draws: int, gp_max_train: int,
                   n_jobs: int, progress: Callable[[int, int], object] | None = None,
                   client: Client | None = None) -> xr.Dataset:
    n_se_draws = _check_int(n_se_draws, "n_se_draws", 0)
    gp_max_draws = _check_int(gp_max_draws, "gp_max_draws", 50)
    gp_max_train = _check_int(gp_max_train, "gp_max_train", 20)
    n_jobs = _check_int(n_jobs, "n_jobs", 1)
    uncertain = draws.uncertain
    if parameters is None:
        singles = list(uncertain)
    else:
        unknown = [p for p in parameters if p not in draws.names]
        if unknown:
            raise VOIInputError(f"parameters: unknown input(s) {unknown}; "
                                f"available: {list(draws.names)}")
        singles = [p for p in parameters if p in uncertain]
    members = draws.group_members() if groups else {}
    col = {n: i for i, n in enumerate(draws.names)}
    # tasks: singles, then groups (a one-member group reuses its single estimate)
    def smoother(mem: tuple[str, ...]) -> str:
        if draws.is_linear(mem):
            return "linear"
        return "gam" if len(mem) <= GAM_MAX_PARAMETERS else "gp"

    tasks: list[tuple[str, tuple[str, ...], str]] = [("p", (p,), smoother((p,)))
                                                     for p in singles]
    for mem in members.values():
        if len(mem) > 1 or mem[0] not in singles:
            tasks.append(("g", mem, smoother(mem)))
    root = np.random.SeedSequence(int(check_rng(rng, "rng", VOIInputError).integers(2**63 - 1)))
    seeds = root.spawn(len(tasks))
    # longest tasks first (GP groups), so that threads finish together; the seeds
    # stay attached to their tasks, so results do not depend on the order or n_jobs
    order = sorted(range(len(tasks)), key=lambda k: tasks[k][2] != "gp")

    def run(k: int) -> tuple[float, float, str, int, float]:
        _, mem, method = tasks[k]
        return _task_evppi(draws.task_values(mem), draws.inputs[:, [col[m] for m in mem]],
                           method, seeds[k], n_se_draws, gp_max_draws, gp_max_train, mem)

    # Warning filters are process-wide and not thread-safe: set the GP's filter here,
    # in the calling thread, so worker threads' own catch_warnings cannot drop it.
    if client is not None:  # one dask task per input or group, seeded by its position
        from kursk_da.engine._dask import map_tasks  # imports dask only here

        shared = (draws, tasks, seeds, col, n_se_draws, gp_max_draws, gp_max_train)
        got: dict[int, tuple[float, float, str, int, float]] = {}
        for k, r in map_tasks(client, _evppi_task, [(k,) for k in order], shared=shared,
                              name="kursk-da-evppi"):
            got[order[k]] = r
            if progress:
                progress(len(got), len(tasks))
        return _finish(draws, tasks, [got[k] for k in range(len(tasks))], singles, members,
                       n_se_draws)
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        done = []
        if n_jobs == 1 or len(tasks) < 2:
            for k in order:
                done.append(run(k))
                if progress:
                    progress(len(done), len(tasks))
        else:
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                for r in pool.map(run, order):
                    done.append(r)
                    if progress:
                        progress(len(done), len(tasks))
    results = [r for _, r in sorted(zip(order, done, strict=True), key=lambda t: t[0])]
    return _finish(draws, tasks, results, singles, members, n_se_draws)


def _finish(draws: CampaignDraws, tasks: Sequence[tuple[str, tuple[str, ...], str]],
            results: Sequence[tuple[float, float, str, int, float]], singles: list[str],
            members: Mapping[str, tuple[str, ...]], n_se_draws: int) -> xr.Dataset:
    """The dataset of the tasks' results (``results[k]`` of ``tasks[k]``)."""
    single_res = {t[1][0]: r for t, r in zip(tasks, results, strict=True) if t[0] == "p"}
    group_res = {}
    for t, r in zip(tasks, results, strict=True):
        if t[0] == "g":
            group_res[next(g for g, m in members.items() if m == t[1])] = r
    for g, mem in members.items():
        if g not in group_res:
            group_res[g] = single_res[mem[0]]
    return _assemble(draws, singles, single_res, members, group_res, n_se_draws)


def _assemble(draws: CampaignDraws, singles: list[str], single_res: Mapping[str, tuple[Any, ...]],
              members: Mapping[str, tuple[str, ...]], group_res: Mapping[str, tuple[Any, ...]],
              n_se_draws: int) -> xr.Dataset:
    evpi_val, evpi_se = evpi_core(draws.values), evpi_se_core(draws.values)
    p_order = sorted(singles, key=lambda p: -single_res[p][0])
    g_order = sorted(members, key=lambda g: -group_res[g][0])
    gmap = dict(zip(draws.names, draws.groups, strict=True))

    def arr(order: Sequence[str], res: Mapping[str, tuple[Any, ...]], k: int) -> np.ndarray:
        out = np.array([res[o][k] for o in order])
        # the plug-in EVPPI is >= 0 exactly; clip the rounding residue (~1e-14) of a zero
        clipped: np.ndarray = np.maximum(out, 0.0) if k == 0 else out
        return clipped

    units = {"units": VALUE_UNITS}

    def total(res: Mapping[str, tuple[Any, ...]], order: Sequence[str]) -> np.ndarray:
        se: np.ndarray = np.hypot(arr(order, res, 1), arr(order, res, 4))
        return se

    data = {
        "evppi": ((PARAMETER,), arr(p_order, single_res, 0),
                  {"long_name": "EVPPI of the input alone", **units}),
        "evppi_se": ((PARAMETER,), total(single_res, p_order),
                     {"long_name": "standard error of evppi: regression fit and Monte Carlo "
                                   "error combined (evppi_fit_se, evppi_mc_se)", **units}),
        "evppi_fit_se": ((PARAMETER,), arr(p_order, single_res, 1),
                         {"long_name": "standard error of evppi from the regression fit "
                                       "(Strong et al. 2014)", **units}),
        "evppi_mc_se": ((PARAMETER,), arr(p_order, single_res, 4),
                        {"long_name": "Monte Carlo error of evppi given the fit", **units}),
        "evppi_share": ((PARAMETER,), arr(p_order, single_res, 0) / evpi_val if evpi_val > 0
                        else np.zeros(len(p_order)),
                        {"long_name": "EVPPI as a fraction of EVPI", "units": "1"}),
        "parameter_group": ((PARAMETER,), np.array([gmap[p] for p in p_order], dtype=str),
                            {"long_name": "group of the input"}),
        "group_evppi": ((GROUP,), arr(g_order, group_res, 0),
                        {"long_name": "EVPPI of the group's inputs jointly", **units}),
        "group_evppi_se": ((GROUP,), total(group_res, g_order),
                           {"long_name": "standard error of group_evppi: regression fit and "
                                         "Monte Carlo error combined", **units}),
        "group_evppi_fit_se": ((GROUP,), arr(g_order, group_res, 1),
                               {"long_name": "standard error of group_evppi from the "
                                             "regression fit", **units}),
        "group_evppi_mc_se": ((GROUP,), arr(g_order, group_res, 4),
                              {"long_name": "Monte Carlo error of group_evppi given the fit",
                               **units}),
        "group_method": ((GROUP,), np.array([group_res[g][2] for g in g_order], dtype=str),
                         {"long_name": "smoother: linear (value weights), gam (<= 4 inputs) "
                                       "or gp"}),
        "group_draws": ((GROUP,), np.array([group_res[g][3] for g in g_order], dtype=np.int64),
                        {"long_name": "draws used by the regression", "units": "1"}),
        "group_size": ((GROUP,), np.array([len(members[g]) for g in g_order], dtype=np.int64),
                       {"long_name": "uncertain inputs in the group", "units": "1"}),
        "group_members": ((GROUP,), np.array([",".join(members[g]) for g in g_order], dtype=str),
                          {"long_name": "comma-separated uncertain inputs of the group"}),
        "evpi": ((), evpi_val, {"long_name": "EVPI (all uncertainty resolved)", **units}),
        "evpi_se": ((), evpi_se, {"long_name": "Monte Carlo standard error of evpi", **units}),
    }
    ds = xr.Dataset({k: xr.DataArray(v, dims=d, attrs=a) for k, (d, v, a) in data.items()},
                    coords={PARAMETER: p_order, GROUP: g_order})
    ds.attrs.update({
        "description": "expected value of partial perfect information of each uncertain input "
                       "and input group, ranked (highest first)",
        "method": "regression EVPPI (Strong, Oakley & Brennan 2014): least squares for value "
                  "weights independent of the other inputs (exact form), P-spline GAM with "
                  f"GCV for 1-{GAM_MAX_PARAMETERS} inputs, Nystrom GP beyond",
        "se_covers": "regression fit and Monte Carlo error of the draws used; not the "
                     "smoother's bias nor, for gp, the choice of hyperparameter subsample",
        "n_draws": int(draws.values.shape[0]),
        "n_se_draws": int(n_se_draws),
        "options": ",".join(draws.options),
        "skipped_fixed": ",".join(n for n in draws.names if n not in draws.uncertain),
        "units": VALUE_UNITS,
    })
    return ds


def campaign_evppi(spec: Spec, inputs: Any, values: Any, *, attributes: Any = None,
                   parameters: Sequence[str] | None = None, groups: bool = True,
                   rng: Any = None, n_se_draws: int = 100,
                   gp_max_draws: int = 20_000, gp_max_train: int = 300,
                   n_jobs: int = 1, client: Client | None = None) -> xr.Dataset:
    """EVPPI of every uncertain input and every input group of a spec, ranked.

    Parameters
    ----------
    spec : Spec
        Gives the input names (columns of ``inputs``), their groups and the options.
    inputs : numpy.ndarray, shape (n_draws, n_inputs)
        Draws of the inputs (prior or posterior), columns ``spec.input_names``
        (e.g. :attr:`kursk_da.engine._run.EngineOutput.inputs`).
    values : numpy.ndarray, shape (n_draws, n_options)
        Value of each option under each draw, dkm2 (``EngineOutput.values``).
    attributes : numpy.ndarray, shape (n_draws, n_options, n_attributes), optional
        The run's attributes (``EngineOutput.attributes``), whose weighted sum is
        ``values``.  Recommended: with them each regression sees the values with the
        independent weights of the other attributes at their means, which leaves the
        EVPPI unchanged and removes most of the noise (see
        :meth:`CampaignDraws.task_values`); without them the estimates are noisier
        and, on few draws, biased upwards.
    parameters : sequence of str, optional
        Inputs valued alone (default: every uncertain input).
    groups : bool
        Also value each group of :attr:`kursk_da.spec._schema.Parameter.group` jointly.
    rng : numpy.random.Generator, int or None
        Source of randomness (GP subsamples, posterior samples for the SEs).
    n_se_draws : int
        Posterior samples of each regression for its SE (0: SE is NaN).
    gp_max_draws : int
        Draws used by the GP path (groups of more than 4 inputs); a random subsample.
    gp_max_train : int
        GP hyperparameter subsample and inducing points (see :func:`kursk_da.evppi`).
    n_jobs : int
        Threads over inputs (results do not depend on it).
    client : distributed.Client, optional
        Run one dask task per input and per group on this cluster instead of threads
        (the draws scattered once; each task keeps its positional seed, so the results
        are bit for bit those of the threads). Without it dask is not imported.

    Returns
    -------
    xarray.Dataset
        Over dim ``parameter`` (ranked, highest EVPPI first): ``evppi``,
        ``evppi_se`` (total), ``evppi_fit_se``, ``evppi_mc_se``, ``evppi_share`` (of
        EVPI), ``parameter_group``; over dim ``group`` (ranked): ``group_evppi``,
        ``group_evppi_se`` (total), ``group_evppi_fit_se``, ``group_evppi_mc_se``,
        ``group_method``, ``group_draws``, ``group_size``, ``group_members``;
        scalars ``evpi``, ``evpi_se``.  Values in dkm2.

    Raises
    ------
    VOIInputError
        Shapes that do not match the spec, non-finite draws, ``attributes`` that do
        not reproduce ``values``, unknown ``parameters``, bad tuning arguments.
    """
    groups = check_bool(groups, "groups", error=VOIInputError)
    n_jobs = check_jobs(n_jobs, error=VOIInputError) or (os.cpu_count() or 1)
    draws = draws_from_spec(spec, inputs, values, attributes)
    return _evppi_dataset(draws, parameters=parameters, groups=groups, rng=rng,
                          n_se_draws=n_se_draws, gp_max_draws=gp_max_draws,
                          gp_max_train=gp_max_train, n_jobs=n_jobs, client=client)


def campaign_evppi_from_tree(tree: xr.DataTree, **kwargs: Any) -> xr.Dataset:
    """:func:`campaign_evppi` on the draws of a result set (:func:`kursk_da.io.draws_from_tree`).

    ``/decision/attributes``, when present, plays the part of ``attributes``.
    Keyword arguments are those of :func:`campaign_evppi` except ``spec``,
    ``inputs`` and ``values``, and ``progress``: called with (tasks done, tasks) after
    each input or group is valued (in the calling thread; changes no number).
    """
    draws = draws_from_tree(tree)
    opts: dict[str, Any] = {"parameters": None, "groups": True, "rng": None, "n_se_draws": 100,
            "gp_max_draws": 20_000, "gp_max_train": 300, "n_jobs": 1, "progress": None,
            "client": None}
    bad = set(kwargs) - set(opts)
    if bad:
        raise VOIInputError(f"{sorted(bad)[0]}: unknown argument; expected one of {sorted(opts)}")
    opts.update(kwargs)
    return _evppi_dataset(draws, **opts)


def _stratified_se(means: np.ndarray) -> float:
    """SE of the EVPPI from one draw per outer stratum (collapsed adjacent strata).

    The loss ``L_o = max_j m_oj - m_oj*`` of consecutive strata is paired and
    ``var(mean L) ~ sum_pairs (L_a - L_b)^2 / n^2`` (conservative).
    """
    n = means.shape[0]
    jstar = int(np.argmax(means.mean(axis=0)))
    loss = means.max(axis=1) - means[:, jstar]
    m = n - n % 2
    pairs = loss[:m].reshape(-1, 2)
    return float(np.sqrt(np.sum((pairs[:, 0] - pairs[:, 1]) ** 2)) / n)


def campaign_evppi_nested(spec: Spec, focal: str | Sequence[str], *, n_outer: int, n_inner: int,
                          seed: int, stratified: bool = True, chunk_size: int = 10_000,
                          n_jobs: int | None = None, client: Client | None = None
                          ) -> VOIResult:
    """EVPPI of some inputs by nested Monte Carlo on the campaign model itself.

    ``n_outer`` draws of the focal inputs come from their (joint) prior; for each,
    ``n_inner`` draws of the other inputs come from their prior *conditional* on
    the focal values (Gaussian copula, :func:`kursk_da.spec.copula.condition_scores`: inputs
    correlated with the focal ones are shifted, the others are unaffected), and
    the engine (:func:`kursk_da.run_engine`) gives the value of every option.
    Then ``EVPPI = mean_o max_j m_oj - max_j mean_o m_oj`` with ``m_oj`` the inner
    mean of option ``j``.  All ``n_outer * n_inner`` rows run in one engine call.

    Parameters
    ----------
    spec : Spec
    focal : str or sequence of str
        The input(s) valued jointly.
    n_outer, n_inner : int
        Outer draws (focal values) and inner draws per outer draw, each >= 2.
    seed : int
        Root seed: inputs and the engine's front shocks derive from it.
    stratified : bool
        For a single focal input, draw one outer value in each of ``n_outer``
        equal-probability strata of its prior (stratified sampling: unbiased, much
        smaller outer error than independent draws); ``se`` then comes from
        collapsed adjacent strata.  Ignored (independent draws) for several inputs.
    chunk_size, n_jobs : int
        Passed to :func:`kursk_da.run_engine`.
    client : distributed.Client, optional
        Run the engine's tasks (blocks of 4096 rows: of ``4096 / n_inner`` outer
        samples each, ``chunk_size`` rows per task) on this dask cluster; the input
        matrix is scattered once and every block keeps its positional stream
        ``SeedSequence(engine_seed, spawn_key=(3, block))``, so the result is bit for
        bit the in-process one.

    Returns
    -------
    VOIResult
        ``method="nested-mc"``; ``se`` is the outer Monte Carlo error (inner noise
        included through the inner means).  ``diagnostics["inner_bias_bound"]``
        estimates the upward bias of a finite ``n_inner``: the mean over outer
        draws of the inner standard error of the difference between the two
        options with the highest overall means, times ``1/sqrt(2 pi)`` (the
        expected excess of the maximum of two equal means observed with that
        noise).
    """
    from kursk_da.engine._run import run_engine

    stratified = check_bool(stratified, "stratified", error=VOIInputError)
    n_jobs = check_jobs(n_jobs, error=VOIInputError)
    names = [focal] if isinstance(focal, str) else list(focal)
    unknown = [f for f in names if f not in spec.input_names]
    if unknown or not names:
        raise VOIInputError(f"focal: unknown input(s) {unknown or names}; "
                            f"available: {list(spec.input_names)}")
    fixed = [f for f in names if spec.inputs[f].dist.is_fixed]
    if fixed:
        raise VOIInputError(f"focal: input(s) {fixed} are fixed; their EVPPI is 0")
    n_outer = _check_int(n_outer, "n_outer", 2)
    n_inner = _check_int(n_inner, "n_inner", 2)
    seed = _check_int(seed, "seed", 0)
    root = np.random.SeedSequence(seed)
    s_outer, s_inner, s_engine = root.spawn(3)
    corr = pearson_correlation(spec)
    idx = [spec.input_names.index(f) for f in names]
    rng_outer = np.random.default_rng(s_outer)
    strat = stratified and len(idx) == 1
    if strat:
        u = (np.arange(n_outer) + rng_outer.random(n_outer)) / n_outer
        outer_scores = special.ndtri(u)[:, None]
    else:
        outer_scores = draw_scores(spec, n_outer, rng_outer)[:, idx]
    z = draw_scores(spec, n_outer * n_inner, np.random.default_rng(s_inner))
    z = condition_scores(z, corr, idx, np.repeat(outer_scores, n_inner, axis=0))
    theta = from_normal_scores(spec, z)
    engine_seed = int(s_engine.generate_state(1, dtype=np.uint32)[0])
    out = run_engine(spec, theta.shape[0], engine_seed, inputs=theta, chunk_size=chunk_size,
                     n_jobs=n_jobs, client=client)
    v = out.values.reshape(n_outer, n_inner, -1)
    means = v.mean(axis=1)
    lead, second = leader_and_runner_up(out.values)
    diff = v[:, :, lead] - v[:, :, second]
    inner_se = diff.std(axis=1, ddof=1) / np.sqrt(n_inner)
    return VOIResult(
        value=evpi_core(means), se=_stratified_se(means) if strat else evpi_se_core(means),
        method="nested-mc", parameters=tuple(names), n_draws=n_outer, options=spec.option_names,
        diagnostics={"n_inner": n_inner, "seed": seed, "stratified": strat,
                     "inner_bias_bound": float(inner_se.mean() / np.sqrt(2 * np.pi)),
                     "se_covers": "outer Monte Carlo error (inner noise included through the "
                                  "inner means); not the upward bias of a finite n_inner"})
