"""The one orchestrator: spec -> (calibration) -> engine -> decision summary -> result set.

:func:`analyze` is the entry point of the library and of ``kursk-da analyze``. When
the spec has ``[[observations]]`` it calibrates the campaign parameters on them
(:mod:`kursk_da.calibration`, NUTS) and propagates the posterior through every option
(``analysis = "posterior"``); with ``prior_only=True``, or for a spec without
observations, it runs the prior Monte Carlo analysis (``analysis = "prior"``).
:func:`run_analysis` does the same and also returns the
:class:`~kursk_da.calibration.Calibration` object (diagnostics, checks), which the
CLI prints. PyMC is imported only when a calibration runs.

Scale
-----
The engine's results are handed over block by block (:func:`kursk_da.engine._run.stream_engine`):
the decision summary is reduced over every draw as the blocks arrive
(:class:`kursk_da.decision._metrics.StreamingSummary`: exact CVaR by selection), and
the per-draw data (inputs, attributes, values) are kept for every draw up to
``store_draws`` (default :data:`DEFAULT_STORE_DRAWS`, 10^6 draws, about 0.5 GB) and for
``store_draws`` draws evenly spaced over the run beyond (``/decision`` coordinate
``draw`` = the draw's index). Memory is then bounded by ``store_draws`` and the tasks in
flight, not by ``draws``. With ``client`` (a ``distributed.Client``) the engine's tasks
run on that dask cluster; without it dask is not imported.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from kursk_da._defaults import CALIBRATE_OPTIONS, DEFAULT_STORE_DRAWS
from kursk_da.decision._metrics import StreamingSummary
from kursk_da.decision._summary import streamed_summary
from kursk_da.dims import CHAIN, DRAW
from kursk_da.engine._run import (
    DEFAULT_CHUNK_SIZE,
    BlockResult,
    Collector,
    EngineOutput,
    InputRows,
    make_context,
    stored_rows,
    stream_engine,
)
from kursk_da.errors import SpecError
from kursk_da.io._resultset import (
    build_result_set,
    check_result_target,
    load_result_set,
    with_stored_draws,
)
from kursk_da.io._writer import ResultSetWriter
from kursk_da.spec._schema import Spec, as_spec, check_run_size
from kursk_da.validation import (
    check_bool,
    check_choice,
    check_int,
    check_jobs,
    check_keywords,
    check_seed,
)

if TYPE_CHECKING:
    from distributed import Client

    from kursk_da.calibration._result import Calibration
    from kursk_da.calibration._sampling import CompiledCalibration

__all__ = ["Analysis", "analyze", "run_analysis", "trajectory_rows", "DEFAULT_STORE_DRAWS"]



@dataclass(frozen=True)
class Analysis:
    """A result set and, for a posterior analysis, the calibration behind it.

    Attributes
    ----------
    tree : xarray.DataTree
        The result set (schema in ``docs/resultset.md``).
    calibration : Calibration or None
        Posterior draws, diagnostics and checks; None for a prior analysis.
    """

    tree: xr.DataTree
    calibration: Calibration | None

    @property
    def converged(self) -> bool:
        """False only when a calibration ran and failed its diagnostics gate."""
        return self.calibration is None or self.calibration.converged


def run_analysis(
    spec: Spec | str | Path,
    draws: int = 20_000,
    seed: int = 0,
    *,
    prior_only: bool = False,
    cutoff: dt.date | None = None,
    sampler: str = "nutpie",
    mcmc_draws: int = 1000,
    tune: int = 800,
    chains: int = 4,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    n_jobs: int | None = None,
    progress: Callable[[int], object] | None = None,
    compiled: CompiledCalibration | None = None,
    client: Client | None = None,
    store_draws: int = DEFAULT_STORE_DRAWS,
    out: str | Path | None = None,
    posterior: Any = None,
    **calibration_options: Any,
) -> Analysis:
    """Run the analysis of a spec; see :func:`analyze` for the parameters.

    Returns
    -------
    Analysis
        The result set and the calibration (None for a prior analysis).
    """
    check_keywords(calibration_options, CALIBRATE_OPTIONS, "analyze", error=SpecError)
    spec = as_spec(spec)
    check_int(draws, "draws", minimum=1, error=SpecError)
    check_seed(seed, "seed", error=SpecError)
    check_int(chunk_size, "chunk_size", minimum=1, error=SpecError)
    check_int(store_draws, "store_draws", minimum=1, error=SpecError)
    prior_only = check_bool(prior_only, "prior_only", error=SpecError)
    n_jobs = check_jobs(n_jobs, "n_jobs", error=SpecError)
    check_choice(sampler, "sampler", ("nutpie", "pymc"), error=SpecError)
    for name, value in (("mcmc_draws", mcmc_draws), ("tune", tune), ("chains", chains)):
        check_int(value, name, minimum=1 if name != "tune" else 0, error=SpecError)
    if cutoff is not None and (isinstance(cutoff, dt.datetime)
                               or not isinstance(cutoff, dt.date)):
        raise SpecError("cutoff", f"expected a datetime.date or None, got {cutoff!r}")
    if progress is not None and not callable(progress):
        raise SpecError("progress", f"expected a callable or None, got {progress!r}")
    # before anything is allocated: the stored rows dominate the memory
    check_run_size(spec, min(draws, store_draws), chunk_size, n_jobs, summary_draws=draws)
    if cutoff is not None and (prior_only or not spec.observations):
        raise SpecError("cutoff", "a cutoff needs a calibration: the spec has no observations"
                        if not spec.observations else "a cutoff cannot be combined with "
                        "the prior-only analysis")
    if posterior is not None and (prior_only or not spec.observations):
        raise SpecError("posterior", "a given posterior needs the spec's observation model: "
                        "the spec has no observations" if not spec.observations else
                        "a given posterior cannot be combined with the prior-only analysis")
    if isinstance(posterior, str | Path):
        posterior = load_result_set(posterior)
    if out is not None:
        check_result_target(out, "out")  # before any computing
    opts = {"chunk_size": chunk_size, "n_jobs": n_jobs, "client": client, "progress": progress}
    if prior_only or not spec.observations:
        run = _run_streamed(spec, draws, seed, store_draws, opts, target=out)
        try:
            summary = _summary(run, spec)
            tree = build_result_set(spec, run.output, summary, per_draw=run.writer is None)
            return Analysis(_written(run, tree), None)
        except BaseException:
            run.abort()
            raise

    from kursk_da.calibration._propagate import PosteriorRows  # imports PyMC
    from kursk_da.calibration._result import calibration_from_posterior, run_calibration

    if posterior is not None:  # no sampling: the given draws through every option
        cal = calibration_from_posterior(spec, posterior, seed=seed, cutoff=cutoff)
    else:
        cal = run_calibration(spec, seed=seed, draws=mcmc_draws, tune=tune, chains=chains,
                              sampler=sampler, cutoff=cutoff, compiled=compiled,
                              **calibration_options)
    per_draw = max(1, draws // cal.n_posterior)
    source = PosteriorRows(spec, cal.idata["posterior"], cal.sampled, seed=seed,
                           per_draw=per_draw)
    sizes = cal.idata["posterior"].sizes
    chains_shape = (int(sizes[CHAIN]), int(sizes[DRAW]))
    rows = trajectory_rows(cal.n_posterior, per_draw, spec.trajectories)
    run = _run_streamed(spec, source.n_rows, seed, store_draws, opts, source=source,
                        trajectory_rows=rows, chains=chains_shape, per_draw=per_draw,
                        target=out, posterior=True)
    try:
        summary = _summary(run, spec)
        # the ranking check needs only the per-posterior-draw means of the values
        cal = dataclasses.replace(
            cal.with_ranking_check(spec, run.stream.result()["group_means"], 1),
            per_draw=per_draw)
        tree = build_result_set(spec, run.output, summary, calibration=cal,
                                per_draw=run.writer is None)
        return Analysis(_written(run, tree), cal)
    except BaseException:
        run.abort()
        raise


@dataclass
class _Run:
    """An engine run of an analysis: its output, streamed summary and writer (or None)."""

    output: EngineOutput
    stream: StreamingSummary
    writer: ResultSetWriter | None
    n_stored: int

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()


def _summary(run: _Run, spec: Spec) -> xr.Dataset:
    out = run.output
    if run.writer is None:
        rows = np.arange(out.n_stored) if out.draw_rows is None else out.draw_rows
        return streamed_summary(run.stream, out.values, rows, spec.option_names)
    k = len(spec.options)  # the values are in the output already
    ds = streamed_summary(run.stream, np.zeros((0, k)), np.zeros(0, dtype=np.int64),
                          spec.option_names)
    ds.attrs["draws_stored"] = run.n_stored
    return ds


def _written(run: _Run, tree: xr.DataTree) -> xr.DataTree:
    """``tree``, or with a writer: the result set written, returned from what was built in
    memory with the per-draw variables of the file opened lazily (not read back: reading
    the written file cost as much as writing it, 3.5 s at 2x10^5 draws)."""
    if run.writer is None:
        return tree
    tree.attrs["draws_stored"] = run.n_stored
    return with_stored_draws(tree, run.writer.finish(tree))


def _run_streamed(
    spec: Spec, draws: int, seed: int, store_draws: int, opts: dict[str, Any], *,
    source: InputRows | None = None, trajectory_rows: np.ndarray | None = None,
    chains: tuple[int, int] | None = None, per_draw: int = 1,
    target: str | Path | None = None, posterior: bool = False,
) -> _Run:
    """The engine run of an analysis: the summary reduced over every draw; the stored
    rows gathered in memory, or written block by block to ``target``."""
    ctx = make_context(spec, draws, seed, source=source, trajectory_rows=trajectory_rows,
                       store=store_draws)
    stream = StreamingSummary(len(spec.options), draws, spec.cvar_alpha, chains, per_draw)
    collect = Collector(ctx, keep_draws=target is None)
    writer = (None if target is None
              else ResultSetWriter(spec, ctx, target, posterior=posterior))

    def reduce(r: BlockResult) -> None:
        stream.add(r.values, r.start, r.moments)

    sinks: list[Callable[[BlockResult], object]] = [collect, reduce]
    if writer is not None:
        sinks.append(writer)
    try:
        stream_engine(ctx, sinks, **opts)
        if writer is not None:
            writer.close_draws()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    output = collect.output(int(opts["chunk_size"]))
    n_stored = int(stored_rows(draws, store_draws).size)
    if writer is not None:
        output.trigger_day = writer.stored_trigger_days()
    return _Run(output, stream, writer, n_stored)


def trajectory_rows(n_posterior: int, per_draw: int, n_traj: int) -> np.ndarray:
    """Rows of a posterior analysis whose daily trajectories are stored.

    ``min(n_traj, n_posterior)`` posterior draws thinned evenly over the chain-major
    order (chain x draw), so every chain is represented equally, each by the first of
    its ``per_draw`` replicate rows.

    Parameters
    ----------
    n_posterior : int
        Posterior draws (chains x draws per chain).
    per_draw : int
        Engine rows per posterior draw.
    n_traj : int
        Trajectories to store (``decision.trajectories``).

    Returns
    -------
    numpy.ndarray of int64
        Increasing row indices into the engine input matrix.
    """
    k = min(int(n_traj), int(n_posterior))
    post = (np.arange(k, dtype=np.int64) * int(n_posterior)) // max(k, 1)
    rows: np.ndarray = post * int(per_draw)
    return rows


def analyze(
    spec: Spec | str | Path,
    draws: int = 20_000,
    seed: int = 0,
    *,
    prior_only: bool = False,
    cutoff: dt.date | None = None,
    sampler: str = "nutpie",
    mcmc_draws: int = 1000,
    tune: int = 800,
    chains: int = 4,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    n_jobs: int | None = None,
    progress: Callable[[int], object] | None = None,
    compiled: CompiledCalibration | None = None,
    client: Client | None = None,
    store_draws: int = DEFAULT_STORE_DRAWS,
    out: str | Path | None = None,
    posterior: Any = None,
    **calibration_options: Any,
) -> xr.DataTree:
    """Run the decision analysis of a spec and return its result set.

    Parameters
    ----------
    spec : Spec or path
        A spec object or a TOML file.
    draws : int
        Monte Carlo draws of the prior analysis, each evaluated under every option;
        for the posterior analysis the target number of engine draws (each posterior
        draw is run ``max(1, draws // n_posterior)`` times).
    seed : int
        Root seed; the same seed gives identical results.
    prior_only : bool
        Skip the calibration even if the spec has observations.
    cutoff : datetime.date, optional
        Calibrate on observations up to ``cutoff``; the later ones are forecast and
        scored (coverage, CRPS).
    sampler : {"nutpie", "pymc"}
        NUTS implementation of the calibration.
    mcmc_draws, tune, chains : int
        Posterior draws per chain, tuning steps per chain, chains.
    chunk_size : int
        Draws per engine task, rounded up to whole blocks of 4096 draws. Does not
        change the results (the random streams are keyed to the fixed blocks).
    n_jobs : int, optional
        Threads; default all CPUs. Does not change the results.
    progress : callable, optional
        Called with the number of draws of each finished engine task.
    compiled : CompiledCalibration, optional
        Reuse a compiled calibration model.
    client : distributed.Client, optional
        Run the engine's tasks on this dask cluster (``kursk_da`` must be importable on
        its workers). Does not change the results. Default: threads of this process,
        without importing dask.
    store_draws : int
        Keep the per-draw data (``/prior`` or ``/decision/inputs``, ``value``,
        ``attributes``) of every draw up to this many draws, of this many draws evenly
        spaced over the run beyond (``floor(i * draws / store_draws)``, draw 0 first);
        the summaries always use every draw.
    out : str or Path, optional
        Write the result set there (netCDF, or a Zarr store for a name ending in
        ``.zarr``) while the engine runs: the per-draw data block by block, in order,
        into a temporary file beside ``out`` renamed into place at the end (removed on
        an error or an interrupt), so that memory is bounded by the chunk size times
        the workers, not by ``draws`` or ``store_draws``. The returned tree is then the
        result set as built in memory, its per-draw variables opened lazily from the
        written file (:func:`kursk_da.io._resultset.with_stored_draws`; nothing is read
        back).
        Default: the tree is built in memory (save it with
        :func:`kursk_da.io.save_result_set`).
    posterior : arviz.InferenceData, xarray.Dataset, xarray.DataTree or path, optional
        Posterior draws to propagate instead of calibrating (no sampling; ``sampler``,
        ``mcmc_draws``, ``tune``, ``chains`` and ``calibration_options`` are then
        unused): e.g. ``pm.sample`` or nutpie on ``kd.build_model(spec)`` after
        ``pm.observe``/``pm.do`` or with more draws, or a result set (its file path or
        tree). It must hold every parameter the spec's calibration samples (and, for
        observations from a CSV file, the observation model's variables); the error
        names the missing ones. The result set is a posterior analysis of these draws
        (:func:`kursk_da.calibration.calibration_from_posterior`): the diagnostics, the
        predictive checks and the propagation are those of a calibration, and the
        calibration's own posterior given back gives its ``/decision`` bit for bit.
    **calibration_options
        Further keywords of :func:`kursk_da.calibration.calibrate` (``cores``,
        ``target_accept``, ``sampler_options``, ``progress_bar``).

    Returns
    -------
    xarray.DataTree
        The result set; its root attribute ``analysis`` is ``"posterior"`` or
        ``"prior"`` (schema in ``docs/resultset.md``).

    Raises
    ------
    SpecError
        An invalid spec or argument (named), a ``cutoff`` without a calibration, or a
        ``posterior`` without the parameters the spec's calibration samples.

    Examples
    --------
    >>> import kursk_da as kd
    >>> tree = kd.analyze("models/kursk_2025.toml", draws=2000, seed=1)  # doctest: +SKIP
    >>> tree.attrs["analysis"]                                           # doctest: +SKIP
    'posterior'
    >>> prior = kd.analyze("models/kursk_2025.toml", draws=2000, seed=1,
    ...                    prior_only=True)                              # doctest: +SKIP
    """
    return run_analysis(spec, draws, seed, prior_only=prior_only, cutoff=cutoff,
                        sampler=sampler, mcmc_draws=mcmc_draws, tune=tune, chains=chains,
                        chunk_size=chunk_size, n_jobs=n_jobs, progress=progress,
                        compiled=compiled, client=client, store_draws=store_draws,
                        out=out, posterior=posterior, **calibration_options).tree
