"""Monte Carlo engine: draws in fixed seeded blocks, run in threads or on a dask cluster.

Reproducibility contract (result schema 3)
------------------------------------------
The draws are numbered ``0 .. draws - 1`` and grouped in *blocks* of
:data:`BLOCK_SIZE` (4096) consecutive draws, a constant of the engine. Block ``k``
(draws ``k * 4096 ..``) has two child streams of the root seed keyed to its position
only: ``SeedSequence(seed, spawn_key=(2, k))`` for the prior inputs (the first ``m``
rows of ``sample_inputs(spec, m, rng)``, which are the same for every ``m``: the
copula draws its normal scores row by row) and ``SeedSequence(seed, spawn_key=(3, k))``
for the daily front shocks (counter based by draw,
:func:`kursk_da.engine._noise.block_shocks`). The kernel runs one block per call, so
the per-date sums of area are added per block and the blocks are folded in order.

Every number of a run is therefore a function of ``(spec, seed, draws)`` only: it does
not depend on ``chunk_size`` (draws per task, rounded up to whole blocks), on the
number of threads (``n_jobs``) or dask workers, or on the order in which tasks finish;
and a run of ``N`` draws has exactly the first ``N`` draws (inputs, shocks,
attributes, values, trajectories) of a run of ``M > N`` draws. A task
(:func:`run_blocks`) is a pure function of the :class:`EngineContext` and a block
range, so it can be computed on another machine or computed again after a worker dies.

Every input draw is evaluated under every option with the same front shocks
(common random numbers), so differences between options are not blurred by
simulation noise.

Trajectories
------------
By default the daily trajectories of the first ``spec.trajectories`` draws are
recorded. With ``trajectory_rows`` the chosen rows are recorded instead: each block is
run as usual (recording none) and its chosen rows are run once more through the same
kernel with their own inputs and front shocks, recording only their trajectories (the
kernel's lanes are independent, so these are the trajectories of those draws). No
other number changes.

Streaming
---------
:func:`stream_engine` hands the blocks' results, in block order, to consumers (the
streaming decision summary, :class:`Collector`), so memory is bounded by the tasks in
flight and the stored rows, not by ``draws``. :func:`run_engine` collects everything
into an :class:`EngineOutput` (the array API).
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kursk_da.dynamics.catalogue import ATTRIBUTE_NAMES, TRAJECTORY_NAMES
from kursk_da.engine._blocks import (
    BLOCK_SIZE,
    DEFAULT_CHUNK_SIZE,
    INPUT_STREAM,
    SHOCK_STREAM,
    ArrayRows,
    BlockResult,
    ClusterError,
    EngineContext,
    InputRows,
    block_inputs,
    block_seed,
    make_context,
    run_blocks,
    schedules,
    stored_rows,
    values_from_attributes,
)
from kursk_da.errors import SpecError
from kursk_da.spec._schema import Spec, as_spec, check_run_size
from kursk_da.validation import check_int, check_jobs, check_seed

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "EngineOutput",
    "EngineContext",
    "BlockResult",
    "Collector",
    "InputRows",
    "ArrayRows",
    "run_engine",
    "stream_engine",
    "run_blocks",
    "make_context",
    "block_inputs",
    "block_seed",
    "stored_rows",
    "schedules",
    "values_from_attributes",
    "BLOCK_SIZE",
    "ClusterError",
    "DEFAULT_CHUNK_SIZE",
    "INPUT_STREAM",
    "SHOCK_STREAM",
]


@dataclass
class EngineOutput:
    """Raw engine output (NumPy arrays; :mod:`kursk_da.io` turns it into a DataTree).

    Attributes
    ----------
    inputs : (n_stored, n_inputs) input matrix, columns ``spec.input_names``.
    attributes : (n_stored, n_options, n_attributes) value attributes.
    values : (n_stored, n_options) value of each option, dkm2.
    retained_count : (n_options, n_days) draws (of all) with area held >= threshold.
    area_sum : (n_options, n_days) sum over all draws of the area held, km2.
    trajectories : (n_traj, n_options, n_days, n_vars) daily state of the first draws,
        or of the rows ``trajectory_rows``.
    seed, chunk_size : provenance.
    trajectory_rows : (n_traj,) int array or None
        Rows (draws) whose trajectories were recorded, in the order of
        ``trajectories``; None: the first ``n_traj`` rows.
    draw_rows : (n_stored,) int array or None
        The draws whose per-draw data are stored (increasing); None: all draws.
    total_draws : int or None
        Draws of the run (None: ``n_stored``).
    trigger_day : (n_stored, n_options) float array or None
        Day of the decision window on which each option's triggered phase started
        (NaN: never, or the option has no trigger), for the stored draws.
    """

    inputs: np.ndarray
    attributes: np.ndarray
    values: np.ndarray
    retained_count: np.ndarray
    area_sum: np.ndarray
    trajectories: np.ndarray
    seed: int
    chunk_size: int
    trajectory_rows: np.ndarray | None = None
    draw_rows: np.ndarray | None = None
    total_draws: int | None = None
    trigger_day: np.ndarray | None = None

    @property
    def n_draws(self) -> int:
        """Number of draws of the run (all of them, stored or not)."""
        if self.total_draws is not None:
            return int(self.total_draws)
        n: int = self.inputs.shape[0]
        return n

    @property
    def n_stored(self) -> int:
        """Number of draws whose per-draw data are held."""
        n: int = self.inputs.shape[0]
        return n


def _tasks(ctx: EngineContext, chunk_size: int) -> list[tuple[int, int]]:
    per_task = max(1, -(-int(chunk_size) // BLOCK_SIZE))
    n = ctx.n_blocks
    return [(k, min(n, k + per_task)) for k in range(0, n, per_task)]


def _threaded(ctx: EngineContext, tasks: Sequence[tuple[int, int]], n_jobs: int | None
              ) -> Iterator[tuple[int, list[BlockResult]]]:
    jobs = n_jobs or os.cpu_count() or 1
    if jobs == 1 or len(tasks) == 1:
        for i, (k0, k1) in enumerate(tasks):
            yield i, run_blocks(ctx, k0, k1)
        return
    # at most 2 tasks per thread in flight (submitted, or finished and not yet folded):
    # memory is bounded by the chunk size times the threads, not by the draws
    window = 2 * jobs
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures: deque[Future[list[BlockResult]]] = deque()
        todo = iter(tasks)
        for t in itertools.islice(todo, window):
            futures.append(pool.submit(run_blocks, ctx, *t))
        i = 0
        try:
            while futures:
                res = futures.popleft().result()
                for t in itertools.islice(todo, 1):
                    futures.append(pool.submit(run_blocks, ctx, *t))
                yield i, res
                i += 1
        finally:
            for f in futures:
                f.cancel()


def stream_engine(
    ctx: EngineContext,
    consumers: Iterable[Callable[[BlockResult], object]],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    n_jobs: int | None = None,
    client: Client | None = None,
    progress: Callable[[int], object] | None = None,
) -> None:
    """Run every block of ``ctx`` and hand each result to ``consumers`` in block order.

    Parameters
    ----------
    ctx : EngineContext
    consumers : iterable of callables
        Each called with every :class:`BlockResult`, blocks in increasing order.
    chunk_size : int
        Draws per task (rounded up to whole blocks); does not change the numbers.
    n_jobs : int, optional
        Threads of the in-process engine (default: the number of CPUs).
    client : distributed.Client, optional
        Run the tasks on this dask cluster (:mod:`kursk_da.engine._dask`).
    progress : callable, optional
        Called with the number of draws of each finished task (in completion order).
    """
    n_jobs = check_jobs(n_jobs, "n_jobs")
    sinks = list(consumers)
    tasks = _tasks(ctx, chunk_size)
    if client is None:
        results: Iterator[tuple[int, list[BlockResult]]] = _threaded(ctx, tasks, n_jobs)
    else:
        from kursk_da.engine._dask import map_blocks  # imports dask only here

        results = map_blocks(client, ctx, tasks)
    pending: dict[int, list[BlockResult]] = {}
    nxt = 0
    for i, res in results:
        if progress:
            progress(sum(r.values.shape[0] for r in res))
        pending[i] = res
        while nxt in pending:
            for r in pending.pop(nxt):
                for sink in sinks:
                    sink(r)
            nxt += 1
    if nxt != len(tasks):  # pragma: no cover - a scheduler that lost a task
        raise RuntimeError(f"engine: {len(tasks) - nxt} tasks did not return")


class Collector:
    """Consumer gathering the stored rows, the retention sums and the trajectories."""

    def __init__(self, ctx: EngineContext, keep_draws: bool = True) -> None:
        spec = ctx.spec
        n_opt, n_days = len(spec.options), spec.n_days
        self.ctx = ctx
        self.keep_draws = keep_draws  # False: the per-draw data go elsewhere (a writer)
        n_store = stored_rows(ctx.draws, ctx.store).size if keep_draws else 0
        self.rows = np.empty(n_store, dtype=np.int64)
        self.inputs = np.empty((n_store, len(spec.input_names)))
        self.attributes = np.empty((n_store, n_opt, len(ATTRIBUTE_NAMES)))
        self.values = np.empty((n_store, n_opt))
        self.fire = np.empty((n_store, n_opt))
        self.counts = np.zeros((n_opt, n_days), dtype=np.int64)
        self.sums = np.zeros((n_opt, n_days))
        n_traj = ctx.n_first_traj if ctx.chosen is None else ctx.chosen.size
        self.traj = np.zeros((n_traj, n_opt, n_days, len(TRAJECTORY_NAMES)))
        self._at = 0

    def __call__(self, r: BlockResult) -> None:
        """Add one block (blocks in order)."""
        self.counts += r.counts
        self.sums += r.sums
        if r.traj_slots.size:
            self.traj[r.traj_slots] = r.traj
        if not self.keep_draws:
            return
        s = r.rows.size
        sl = slice(self._at, self._at + s)
        self.rows[sl] = r.rows
        self.inputs[sl] = r.inputs
        self.attributes[sl] = r.attributes
        self.values[sl] = r.values[r.rows - r.start]
        self.fire[sl] = r.fire
        self._at += s

    def output(self, chunk_size: int) -> EngineOutput:
        """The collected :class:`EngineOutput`."""
        ctx = self.ctx
        all_rows = self.rows.size == ctx.draws or not self.keep_draws
        return EngineOutput(
            inputs=self.inputs, attributes=self.attributes, values=self.values,
            retained_count=self.counts, area_sum=self.sums, trajectories=self.traj,
            seed=ctx.seed, chunk_size=int(chunk_size),
            trajectory_rows=(None if ctx.chosen is None or ctx.slots is None
                             else ctx.chosen[np.argsort(ctx.slots)]),
            draw_rows=None if all_rows else self.rows, total_draws=ctx.draws,
            trigger_day=self.fire)


def run_engine(
    spec: Spec | str | Path,
    draws: int,
    seed: int,
    *,
    inputs: np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    n_jobs: int | None = None,
    progress: Callable[[int], object] | None = None,
    trajectory_rows: np.ndarray | None = None,
    client: Client | None = None,
) -> EngineOutput:
    """Run every draw through the history and every option.

    Parameters
    ----------
    spec : Spec or path
    draws : int
        Number of Monte Carlo draws (ignored when ``inputs`` is given).
    seed : int
        Root seed (a non-negative integer).
    inputs : array (n, n_inputs), optional
        Input matrix to use instead of prior draws (e.g. posterior draws); only the
        front shocks are then random.
    chunk_size : int
        Draws per task, rounded up to whole blocks of :data:`BLOCK_SIZE`; does not
        change the numbers.
    n_jobs : int, optional
        Threads; default: the number of CPUs. Does not change the numbers.
    progress : callable, optional
        Called with the number of draws of each finished task.
    trajectory_rows : array of int, optional
        Distinct rows (``0 <= row < draws``) whose daily trajectories to record, in
        this order; default the first ``spec.trajectories`` rows. Changes no other
        number.
    client : distributed.Client, optional
        Run the tasks on a dask cluster; does not change the numbers.

    Returns
    -------
    EngineOutput

    Raises
    ------
    SpecError
        Path ``draws`` or ``chunk_size`` when the run would need more memory than
        the limit of :func:`kursk_da.spec._domains.check_sizes` (checked before
        anything is allocated).
    """
    spec = as_spec(spec)
    n_jobs = check_jobs(n_jobs, "n_jobs", error=SpecError)
    check_int(chunk_size, "chunk_size", minimum=1, error=SpecError)
    check_seed(seed, "seed", error=SpecError)
    if inputs is None:
        check_int(draws, "draws", minimum=1, error=SpecError)
    source: InputRows | None = None
    if inputs is not None:
        matrix = np.ascontiguousarray(inputs, dtype=float)
        draws = matrix.shape[0]
        source = ArrayRows(matrix)
    check_run_size(spec, draws, chunk_size, n_jobs)  # before anything is allocated
    ctx = make_context(spec, draws, seed, source=source, trajectory_rows=trajectory_rows)
    collect = Collector(ctx)
    stream_engine(ctx, [collect], chunk_size=chunk_size, n_jobs=n_jobs, client=client,
                  progress=progress)
    out = collect.output(chunk_size)
    out.draw_rows = None
    return out
