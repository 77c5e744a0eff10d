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

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from kursk_da.dynamics.catalogue import ATTRIBUTE_NAMES, TRAJECTORY_NAMES
from kursk_da.engine._kernel import simulate_chunk
from kursk_da.engine._noise import block_shocks, draw_stride
from kursk_da.spec._plans import compile_schedule, compile_triggers
from kursk_da.spec._sampling import sample_inputs
from kursk_da.spec._schema import WEIGHT_PREFIX, Spec, as_spec, check_run_size

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

BLOCK_SIZE = 4096
"""Draws per block: the fixed unit of the random streams (part of the reproducibility
contract; a multiple of the kernel's ``LANES``)."""
DEFAULT_CHUNK_SIZE = 4 * BLOCK_SIZE
"""Draws per task by default (four blocks); does not change the numbers."""
INPUT_STREAM = 2
"""First spawn key of the prior-input streams ``(2, block)``."""
SHOCK_STREAM = 3
"""First spawn key of the front-shock streams ``(3, block)``."""


class ClusterError(RuntimeError):
    """The dask cluster failed a run (a task failed beyond dask's retries, or the
    scheduler cannot be reached); nothing is written."""


def block_seed(seed: int, stream: int, block: int) -> np.random.SeedSequence:
    """The seed sequence of ``stream`` for ``block``.

    ``SeedSequence(seed, spawn_key=(stream, block))``.
    """
    return np.random.SeedSequence(seed, spawn_key=(stream, block))


class InputRows(Protocol):
    """A source of engine input rows computed block by block (e.g. posterior inputs)."""

    @property
    def n_rows(self) -> int:
        """Rows of the source."""
        ...

    def rows(self, a: int, b: int) -> np.ndarray:
        """Input rows ``a .. b - 1``, shape ``(b - a, n_inputs)``; a pure function of ``(a, b)``
        when ``a`` is a block start."""
        ...


@dataclass(frozen=True)
class ArrayRows:
    """Input rows from a matrix held in memory."""

    matrix: np.ndarray

    @property
    def n_rows(self) -> int:
        """Rows of the matrix."""
        n: int = self.matrix.shape[0]
        return n

    def rows(self, a: int, b: int) -> np.ndarray:
        """Rows ``a .. b - 1`` (C-contiguous)."""
        return np.ascontiguousarray(self.matrix[a:b])


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


def schedules(spec: Spec) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lever schedules of the history and of every option, for the kernel."""
    columns = {name: i for i, name in enumerate(spec.input_names)}
    d = spec.decision_day
    hc, hr = compile_schedule(spec.history, 0, d, columns)
    oc, orf = zip(
        *(compile_schedule(o.phases, d, spec.n_days, columns) for o in spec.options.values()),
        strict=True,
    )
    return hc, hr, np.stack(oc), np.stack(orf)


def values_from_attributes(spec: Spec, inputs: np.ndarray, attributes: np.ndarray) -> np.ndarray:
    """Value of each draw and option: weights (per draw) times attributes, summed.

    Evaluated element by element in the order of the attributes, so the value of a
    draw does not depend on the other rows of the arrays.
    """
    cols = [spec.input_names.index(WEIGHT_PREFIX + a) for a in ATTRIBUTE_NAMES]
    w = inputs[:, cols]  # (n, n_attr)
    values: np.ndarray = attributes[:, :, 0] * w[:, None, 0]
    for k in range(1, len(cols)):
        values = values + attributes[:, :, k] * w[:, None, k]
    return values


def block_inputs(spec: Spec, seed: int, block: int, m: int) -> np.ndarray:
    """Prior inputs of the first ``m`` draws of ``block`` (stream ``(2, block)``)."""
    rng = np.random.default_rng(block_seed(seed, INPUT_STREAM, block))
    return sample_inputs(spec, m, rng)


def stored_rows(draws: int, store: int, a: int = 0, b: int | None = None) -> np.ndarray:
    """The draws whose per-draw data are stored, within ``a .. b - 1``.

    All draws when ``draws <= store``; otherwise ``store`` draws evenly spaced over the
    run, ``floor(i * draws / store)`` for ``i = 0 .. store - 1`` (draw 0 first).
    """
    b = draws if b is None else b
    if draws <= store:
        return np.arange(a, b, dtype=np.int64)
    i_lo = -(-(a * store) // draws)
    i_hi = -(-(b * store) // draws)
    return (np.arange(i_lo, i_hi, dtype=np.int64) * draws) // store


@dataclass(frozen=True)
class EngineContext:
    """Everything a task needs (shipped once to each dask worker).

    Attributes
    ----------
    spec : Spec
    seed, draws : int
    source : InputRows or None
        Input rows (posterior analyses, given matrices); None: prior draws.
    n_first_traj : int
        Record the trajectories of the first ``n_first_traj`` draws (when ``chosen``
        is None).
    chosen : int array or None
        Sorted rows whose trajectories are recorded; ``slots`` their output positions.
    store : int
        Per-draw data of :func:`stored_rows` ``(draws, store)`` are returned.
    sched, triggers : tuple
        The compiled lever schedules and state triggers of the options.
    """

    spec: Spec
    seed: int
    draws: int
    source: InputRows | None
    n_first_traj: int
    chosen: np.ndarray | None
    slots: np.ndarray | None
    store: int
    sched: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = field(repr=False)
    triggers: tuple[np.ndarray, ...] | None = field(repr=False, default=None)

    @property
    def n_blocks(self) -> int:
        """Blocks of the run."""
        return -(-self.draws // BLOCK_SIZE)


@dataclass
class BlockResult:
    """What one block of draws gives (see :func:`run_blocks`).

    Attributes
    ----------
    block, start : int
        Block index and its first draw.
    values : (m, n_options) values of every draw of the block, dkm2.
    counts, sums : (n_options, n_days) retention counts and area sums of the block.
    rows : (s,) stored draws of the block; ``inputs`` (s, n_inputs), ``attributes``
        (s, n_options, n_attr) their data.
    traj_slots : (t,) positions of the block's recorded trajectories; ``traj``
        (t, n_options, n_days, n_vars).
    fire : (s, n_options) day each option's triggered phase started (NaN: never), for
        the stored draws.
    """

    block: int
    start: int
    values: np.ndarray
    counts: np.ndarray
    sums: np.ndarray
    rows: np.ndarray
    inputs: np.ndarray
    attributes: np.ndarray
    traj_slots: np.ndarray
    traj: np.ndarray
    fire: np.ndarray


_LOCAL = threading.local()  # per-thread work arrays of the shocks


def _work(name: str, size: int) -> np.ndarray:
    buf: np.ndarray | None = getattr(_LOCAL, name, None)
    if buf is None or buf.size < size:
        buf = np.empty(size)
        setattr(_LOCAL, name, buf)
    return buf


def _simulate_block(ctx: EngineContext, k: int) -> BlockResult:
    spec = ctx.spec
    n_opt, n_days, n_vars = len(spec.options), spec.n_days, len(TRAJECTORY_NAMES)
    a = k * BLOCK_SIZE
    b = min(ctx.draws, a + BLOCK_SIZE)
    m = b - a
    if ctx.source is None:
        theta = block_inputs(spec, ctx.seed, k, m)
    else:
        theta = np.ascontiguousarray(ctx.source.rows(a, b), dtype=float)
    zbuf = _work("z", n_days * BLOCK_SIZE)
    ubuf = _work("u", draw_stride(n_days) * BLOCK_SIZE)
    # day-major, so that the shocks of consecutive draws of a day are contiguous
    z = block_shocks(block_seed(ctx.seed, SHOCK_STREAM, k), 0, m, n_days, zbuf, ubuf).T
    hc, hr, oc, orf = ctx.sched
    attributes = np.empty((m, n_opt, len(ATTRIBUTE_NAMES)))
    counts = np.zeros((n_opt, n_days), dtype=np.int64)
    sums = np.zeros((n_opt, n_days))
    if ctx.chosen is None:
        t_lo, t_hi = min(a, ctx.n_first_traj), min(b, ctx.n_first_traj)
        out_traj = np.zeros((max(t_hi - t_lo, 0), n_opt, n_days, n_vars))
        traj_slots = np.arange(t_lo, t_hi, dtype=np.int64)
    else:
        out_traj = np.zeros((0, n_opt, n_days, n_vars))
    thr = float(spec.retention_threshold)
    fire = np.full((m, n_opt), np.nan)
    simulate_chunk(theta, hc, hr, oc, orf, z, thr, attributes, counts, sums, out_traj,
                   triggers=ctx.triggers, out_fire=fire)
    if ctx.chosen is not None and ctx.slots is not None:
        lo, hi = np.searchsorted(ctx.chosen, [a, b])
        traj_slots = ctx.slots[lo:hi]
        out_traj = np.zeros((hi - lo, n_opt, n_days, n_vars))
        if hi > lo:
            # at least two rows, so that the shocks keep the layout of z (a one-row
            # array would be C-contiguous: another compiled signature)
            local_rows = ctx.chosen[lo:hi] - a
            run_rows = (np.concatenate([local_rows, local_rows[:1]]) if local_rows.size == 1
                        else local_rows)
            simulate_chunk(
                np.ascontiguousarray(theta[run_rows]), hc, hr, oc, orf,
                np.ascontiguousarray(z[run_rows].T).T,  # the layout of z
                thr, np.empty((run_rows.size, n_opt, len(ATTRIBUTE_NAMES))),
                np.zeros((n_opt, n_days), dtype=np.int64), np.zeros((n_opt, n_days)),
                out_traj,  # records its first hi - lo rows
                triggers=ctx.triggers,
            )
    values = values_from_attributes(spec, theta, attributes)
    rows = stored_rows(ctx.draws, ctx.store, a, b)
    local = rows - a
    full = rows.size == m
    return BlockResult(
        block=k, start=a, values=values, counts=counts, sums=sums, rows=rows,
        inputs=theta if full else theta[local], attributes=attributes if full
        else attributes[local], traj_slots=traj_slots, traj=out_traj,
        fire=fire if full else fire[local])


def run_blocks(ctx: EngineContext, first: int, stop: int) -> list[BlockResult]:
    """Simulate blocks ``first .. stop - 1``: the engine's task, a pure function of its
    arguments (its numbers do not depend on which process or thread runs it)."""
    return [_simulate_block(ctx, k) for k in range(first, stop)]


def make_context(
    spec: Spec, draws: int, seed: int, *, source: InputRows | None = None,
    trajectory_rows: np.ndarray | None = None, store: int | None = None,
) -> EngineContext:
    """The :class:`EngineContext` of a run (``store`` default: every draw)."""
    rows = None if trajectory_rows is None else _check_rows(trajectory_rows, draws)
    triggers = compile_triggers([o.phases for o in spec.options.values()], spec.decision_day,
                                {name: i for i, name in enumerate(spec.input_names)}).as_tuple()
    return EngineContext(
        spec=spec, seed=int(seed), draws=int(draws), source=source,
        n_first_traj=min(spec.trajectories, draws) if rows is None else 0,
        chosen=None if rows is None else np.sort(rows),
        slots=None if rows is None else np.argsort(rows),
        store=int(draws if store is None else store), sched=schedules(spec),
        triggers=triggers)


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
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for i, res in enumerate(pool.map(lambda t: run_blocks(ctx, *t), tasks)):
            yield i, res


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

    def __init__(self, ctx: EngineContext) -> None:
        spec = ctx.spec
        n_opt, n_days = len(spec.options), spec.n_days
        self.ctx = ctx
        n_store = stored_rows(ctx.draws, ctx.store).size
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
        s = r.rows.size
        sl = slice(self._at, self._at + s)
        self.rows[sl] = r.rows
        self.inputs[sl] = r.inputs
        self.attributes[sl] = r.attributes
        self.values[sl] = r.values[r.rows - r.start]
        self.fire[sl] = r.fire
        self._at += s
        self.counts += r.counts
        self.sums += r.sums
        if r.traj_slots.size:
            self.traj[r.traj_slots] = r.traj

    def output(self, chunk_size: int) -> EngineOutput:
        """The collected :class:`EngineOutput`."""
        ctx = self.ctx
        all_rows = self.rows.size == ctx.draws
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


def _check_rows(trajectory_rows: np.ndarray, draws: int) -> np.ndarray:
    """``trajectory_rows`` as distinct int64 row indices in ``[0, draws)``."""
    rows = np.asarray(trajectory_rows)
    if rows.ndim != 1 or (rows.size and not np.issubdtype(rows.dtype, np.integer)):
        raise ValueError("trajectory_rows: expected a 1-d array of integer row indices")
    rows = rows.astype(np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= draws):
        raise ValueError(f"trajectory_rows: row indices must be in [0, {draws})")
    if np.unique(rows).size != rows.size:
        raise ValueError("trajectory_rows: row indices must be distinct")
    return rows
