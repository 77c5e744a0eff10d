"""Blocks of draws: the engine's unit of work and of randomness (see :mod:`kursk_da.engine._run`).

The fixed blocks of ``BLOCK_SIZE`` draws, their seed streams, the context shipped to a
task (:class:`EngineContext`) and the pure task :func:`run_blocks`, which the
in-process engine (:mod:`kursk_da.engine._run`) and the dask tasks
(:mod:`kursk_da.engine._dask`) both call; this module imports neither.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from kursk_da._defaults import BLOCK_SIZE, DEFAULT_CHUNK_SIZE
from kursk_da.dynamics.catalogue import ATTRIBUTE_NAMES, TRAJECTORY_NAMES
from kursk_da.engine._kernel import simulate_chunk
from kursk_da.engine._noise import block_shocks, draw_stride
from kursk_da.errors import ClusterError
from kursk_da.spec._plans import compile_schedule, compile_triggers
from kursk_da.spec._sampling import sample_inputs
from kursk_da.spec._schema import WEIGHT_PREFIX, Spec
from kursk_da.stats._moments import BlockMoments, block_moments

__all__ = [
    "EngineContext",
    "BlockResult",
    "InputRows",
    "ArrayRows",
    "run_blocks",
    "run_blocks_remote",
    "restore_inputs",
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

INPUT_STREAM = 2
"""First spawn key of the prior-input streams ``(2, block)``."""
SHOCK_STREAM = 3
"""First spawn key of the front-shock streams ``(3, block)``."""


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
    moments : BlockMoments or None
        Means, co-moments and best-option counts of ``values``
        (:func:`kursk_da.stats._moments.block_moments`), computed with the block so that
        the process folding the blocks does not (None: not computed).
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
    moments: BlockMoments | None = None


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
        fire=fire if full else fire[local], moments=block_moments(values))


def run_blocks(ctx: EngineContext, first: int, stop: int) -> list[BlockResult]:
    """Simulate blocks ``first .. stop - 1``: the engine's task, a pure function of its
    arguments (its numbers do not depend on which process or thread runs it)."""
    return [_simulate_block(ctx, k) for k in range(first, stop)]


def run_blocks_remote(ctx: EngineContext, first: int, stop: int) -> list[BlockResult]:
    """:func:`run_blocks` as a dask task: a block whose every draw is stored returns no
    inputs (they are the largest part of the result, and the client re-creates them
    exactly from the block's input stream or the input source: :func:`restore_inputs`);
    a block storing a subsample returns only the subsample's inputs."""
    out = run_blocks(ctx, first, stop)
    for r in out:
        if r.rows.size and r.rows.size == r.values.shape[0]:
            r.inputs = np.empty((0, r.inputs.shape[1]))
    return out


def restore_inputs(ctx: EngineContext, r: BlockResult) -> BlockResult:
    """Put back the stored rows' inputs that :func:`run_blocks_remote` did not ship: the
    same array the worker used (``block_inputs`` of the block's stream, or the source's
    rows), bit for bit."""
    if r.inputs.shape[0] == r.rows.size:
        return r
    a, m = r.start, r.values.shape[0]
    if ctx.source is None:
        r.inputs = block_inputs(ctx.spec, ctx.seed, r.block, m)
    else:
        r.inputs = np.ascontiguousarray(ctx.source.rows(a, a + m), dtype=float)
    return r


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
