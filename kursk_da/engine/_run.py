"""Monte Carlo engine: draws in independent, seeded chunks, run in parallel threads.

Reproducibility contract
------------------------
The draws are split into chunks of ``chunk_size`` consecutive draws. Chunk ``c``
uses two child streams of the root ``numpy.random.SeedSequence(seed)`` keyed to its
position only: ``SeedSequence(seed, spawn_key=(0, c))`` for the prior inputs and
``SeedSequence(seed, spawn_key=(1, c))`` for the daily front shocks. Results
therefore do not depend on the number of threads or on the order in which chunks
finish, and a chunk can be computed on another machine from ``(seed, c)`` alone.
Changing ``chunk_size`` changes the numbers (it is recorded in the result set).

The front shocks of a chunk of ``m`` draws are
``kursk_da.engine._noise.standard_normals(rng, (n_days, m))`` (uniforms from
``rng.random`` transformed by Box-Muller; element ``[t, i]`` is day ``t`` of the
chunk's draw ``i``), about three times cheaper than ``rng.standard_normal``.

Every input draw is evaluated under every option with the same front shocks
(common random numbers), so differences between options are not blurred by
simulation noise.

Trajectories
------------
By default the daily trajectories of the first ``spec.trajectories`` draws are
recorded. With ``trajectory_rows`` the chosen rows are recorded instead: each chunk is
run as usual (recording none) and its chosen rows are run once more through the same
kernel with their own inputs and front shocks, recording only their trajectories (the
kernel's lanes are independent, so these are the trajectories of those draws). No
other number changes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kursk_da.dynamics.catalogue import ATTRIBUTE_NAMES, TRAJECTORY_NAMES
from kursk_da.engine._kernel import simulate_chunk
from kursk_da.engine._noise import standard_normals
from kursk_da.spec._plans import compile_schedule, compile_triggers
from kursk_da.spec._sampling import sample_inputs
from kursk_da.spec._schema import WEIGHT_PREFIX, Spec, as_spec, check_run_size

__all__ = [
    "EngineOutput",
    "run_engine",
    "schedules",
    "values_from_attributes",
    "DEFAULT_CHUNK_SIZE",
]

DEFAULT_CHUNK_SIZE = 10_000


@dataclass
class EngineOutput:
    """Raw engine output (NumPy arrays; :mod:`kursk_da.io` turns it into a DataTree).

    Attributes
    ----------
    inputs : (n_draws, n_inputs) input matrix, columns ``spec.input_names``.
    attributes : (n_draws, n_options, n_attributes) value attributes.
    values : (n_draws, n_options) value of each option, dkm2.
    retained_count : (n_options, n_days) draws with area held >= threshold.
    area_sum : (n_options, n_days) sum over draws of the area held, km2.
    trajectories : (n_traj, n_options, n_days, n_vars) daily state of the first draws,
        or of the rows ``trajectory_rows``.
    seed, chunk_size : provenance.
    trajectory_rows : (n_traj,) int array or None
        Rows (draws) whose trajectories were recorded, in the order of
        ``trajectories``; None: the first ``n_traj`` rows.
    trigger_day : (n_draws, n_options) float array or None
        Day of the decision window on which each option's triggered phase started
        (NaN: never, or the option has no trigger).
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
    trigger_day: np.ndarray | None = None

    @property
    def n_draws(self) -> int:
        """Number of draws."""
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
    """Value of each draw and option: weights (per draw) times attributes, summed."""
    cols = [spec.input_names.index(WEIGHT_PREFIX + a) for a in ATTRIBUTE_NAMES]
    w = inputs[:, cols]  # (n, n_attr)
    values: np.ndarray = np.einsum("noa,na->no", attributes, w)
    return values


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
        Draws per chunk.
    n_jobs : int, optional
        Threads; default: the number of CPUs.
    progress : callable, optional
        Called with the number of draws of each finished chunk.
    trajectory_rows : array of int, optional
        Distinct rows (``0 <= row < draws``) whose daily trajectories to record, in
        this order; default the first ``spec.trajectories`` rows. Changes no other
        number.

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
    if inputs is not None:
        inputs = np.ascontiguousarray(inputs, dtype=float)
        draws = inputs.shape[0]
    check_run_size(spec, draws, chunk_size, n_jobs)  # before anything is allocated
    n_opt = len(spec.options)
    n_days = spec.n_days
    hc, hr, oc, orf = schedules(spec)
    trig = compile_triggers([o.phases for o in spec.options.values()], spec.decision_day,
                            {name: i for i, name in enumerate(spec.input_names)}).as_tuple()
    fire = np.full((draws, n_opt), np.nan)
    rows = None if trajectory_rows is None else _check_rows(trajectory_rows, draws)
    n_traj = min(spec.trajectories, draws) if rows is None else rows.size
    chosen = np.zeros(0, dtype=np.int64) if rows is None else np.sort(rows)
    slot = np.zeros(0, dtype=np.int64) if rows is None else np.argsort(rows)
    n_chunks = -(-draws // chunk_size)
    n_in = len(spec.input_names)
    all_inputs = np.empty((draws, n_in)) if inputs is None else inputs
    attributes = np.empty((draws, n_opt, len(ATTRIBUTE_NAMES)))
    counts = np.zeros((n_chunks, n_opt, n_days), dtype=np.int64)
    sums = np.zeros((n_chunks, n_opt, n_days))
    traj = np.zeros((n_traj, n_opt, n_days, len(TRAJECTORY_NAMES)))
    root = np.random.SeedSequence(seed)
    local = threading.local()  # per-thread work array of the shocks (no page faults per chunk)

    def work(c: int) -> int:
        a, b = c * chunk_size, min(draws, (c + 1) * chunk_size)
        if inputs is None:
            rng_in = np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=(0, c)))
            all_inputs[a:b] = sample_inputs(spec, b - a, rng_in)
        rng_z = np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=(1, c)))
        # day-major, so that the shocks of consecutive draws of a day are contiguous
        if getattr(local, "z", None) is None:
            local.z = np.empty(n_days * chunk_size + 1)
        z = standard_normals(rng_z, (n_days, b - a), local.z).T
        theta = np.ascontiguousarray(all_inputs[a:b])
        t_lo, t_hi = min(a, n_traj), min(b, n_traj)
        if rows is not None or t_hi <= t_lo:
            out_traj = np.zeros((0, n_opt, n_days, traj.shape[3]))
        else:
            out_traj = traj[t_lo:t_hi]
        simulate_chunk(
            theta,
            hc,
            hr,
            oc,
            orf,
            z,
            float(spec.retention_threshold),
            attributes[a:b],
            counts[c],
            sums[c],
            out_traj,
            triggers=trig,
            out_fire=fire[a:b],
        )
        if rows is not None:
            lo, hi = np.searchsorted(chosen, [a, b])
            if hi > lo:
                # at least two rows, so that the shocks keep the layout of z (a
                # one-row array would be C-contiguous: another compiled signature)
                local_rows = chosen[lo:hi] - a
                m = local_rows.size
                run_rows = np.concatenate([local_rows, local_rows[:1]]) if m == 1 else local_rows
                sel_traj = np.zeros((m, n_opt, n_days, traj.shape[3]))
                simulate_chunk(
                    np.ascontiguousarray(theta[run_rows]), hc, hr, oc, orf,
                    np.ascontiguousarray(z[run_rows].T).T,  # the layout of z
                    float(spec.retention_threshold),
                    np.empty((run_rows.size, n_opt, len(ATTRIBUTE_NAMES))),
                    np.zeros((n_opt, n_days), dtype=np.int64), np.zeros((n_opt, n_days)),
                    sel_traj,
                    triggers=trig,
                )
                traj[slot[lo:hi]] = sel_traj  # each chunk writes its own slots
        return b - a

    jobs = n_jobs or os.cpu_count() or 1
    if jobs == 1 or n_chunks == 1:
        for c in range(n_chunks):
            done = work(c)
            if progress:
                progress(done)
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for done in pool.map(work, range(n_chunks)):
                if progress:
                    progress(done)
    values = values_from_attributes(spec, all_inputs, attributes)
    return EngineOutput(
        inputs=all_inputs,
        attributes=attributes,
        values=values,
        retained_count=counts.sum(axis=0),
        area_sum=sums.sum(axis=0),
        trajectories=traj,
        seed=seed,
        chunk_size=chunk_size,
        trajectory_rows=rows,
        trigger_day=fire,
    )


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
