"""The engine's tasks on a dask.distributed cluster (imported only when a client is given).

:func:`map_blocks` ships the :class:`~kursk_da.engine._run.EngineContext` (spec, seed,
schedules, input source) to the workers once (``Client.scatter(broadcast=True)``) and
submits one task per block range, :func:`kursk_da.engine._blocks.run_blocks_remote`, keyed by its
position (``kursk-da-blocks-<token>-<i>``). Tasks are pure: a task whose worker dies
is run again elsewhere by the scheduler (up to ``distributed.scheduler.allowed-failures``
times) with the same result; otherwise the run fails with an error naming the task
(:class:`~kursk_da.engine._run.ClusterError`) and nothing is written. At most a window
of tasks is in flight (four per worker thread), so the results waiting to be folded in
order stay bounded.

:func:`local_cluster` starts a ``LocalCluster`` of worker processes; :func:`connect`
attaches to an existing scheduler (``tcp://HOST:PORT``). The progress of a run comes
from the cluster (``as_completed``), and :func:`dashboard_link` gives the dashboard
address when there is one.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import dask
from distributed import Client, LocalCluster, as_completed

from kursk_da.engine._blocks import (
    BlockResult,
    ClusterError,
    EngineContext,
    restore_inputs,
    run_blocks_remote,
)

__all__ = ["map_blocks", "map_tasks", "local_cluster", "connect", "dashboard_link",
           "dashboard_available", "client_for"]

T = TypeVar("T")


def _window(client: Client) -> int:
    try:
        threads = sum(client.nthreads().values())
    except Exception:  # pragma: no cover - a scheduler that does not answer
        threads = 1
    return max(4, 4 * int(threads))


def map_tasks(client: Client, fn: Any, args: Sequence[tuple[Any, ...]], *,
              shared: Any = None, name: str = "kursk-da") -> Iterator[tuple[int, Any]]:
    """Run ``fn(shared, *args[i])`` (or ``fn(*args[i])``) on the cluster, yielding
    ``(i, result)`` in completion order.

    ``shared`` is scattered once to every worker. Each task has the key
    ``<name>-<token>-<i>``; a failed task raises :class:`ClusterError` naming it (its
    cause chained), after cancelling the others.
    """
    token = secrets.token_hex(6)
    head: list[Any] = []
    if shared is not None:
        head = [client.scatter(shared, broadcast=True, hash=False)]
    window = _window(client)
    keys = {}
    todo = iter(enumerate(args))
    ac = as_completed(with_results=False)
    live = []

    def submit_next() -> bool:
        try:
            i, a = next(todo)
        except StopIteration:
            return False
        key = f"{name}-{token}-{i}"
        fut = client.submit(fn, *head, *a, key=key, pure=False, retries=0)
        keys[fut.key] = i
        live.append(fut)
        ac.add(fut)
        return True

    for _ in range(window):
        if not submit_next():
            break
    try:
        for fut in ac:
            i = keys[fut.key]
            try:
                res = fut.result()
            except Exception as exc:
                raise ClusterError(f"dask task {fut.key} (task {i} of {len(args)}) failed: "
                                   f"{type(exc).__name__}: {exc}") from exc
            fut.release()
            yield i, res
            submit_next()
    finally:
        for fut in live:
            if not fut.done():
                fut.cancel()


def map_blocks(client: Client, ctx: EngineContext, tasks: Sequence[tuple[int, int]]
               ) -> Iterator[tuple[int, list[BlockResult]]]:
    """The engine's block tasks on the cluster, ``(i, results)`` in completion order.

    The tasks are :func:`~kursk_da.engine._blocks.run_blocks_remote`: a fully stored
    block comes back without its inputs, which the client re-creates bit for bit
    (:func:`~kursk_da.engine._blocks.restore_inputs`), halving what crosses the network.
    """
    for i, res in map_tasks(client, run_blocks_remote, tasks, shared=ctx,
                            name="kursk-da-blocks"):
        yield i, [restore_inputs(ctx, r) for r in res]


TRIM_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
"""The dask setting by which a nanny sets ``MALLOC_TRIM_THRESHOLD_`` in its worker."""


def local_cluster(n_workers: int, threads_per_worker: int = 1, **kwargs: Any) -> LocalCluster:
    """A ``LocalCluster`` of ``n_workers`` worker processes (loopback, no dashboard unless
    ``dashboard_address`` is given).

    The workers are started without dask's default ``MALLOC_TRIM_THRESHOLD_=65536``
    (:data:`TRIM_KEY` set to None while the nannies are created). Any fixed value of that
    variable turns off glibc's adaptive thresholds, so every array of 128 KiB or more of a
    block (inputs, attributes, the result's buffers) is mapped afresh and faulted in page
    by page; on the benchmark machine that cost the engine's tasks 15% (30 tasks of four
    blocks: 8.0 s with it, 7.0 s without, as in the calling process). The engine's
    arrays live for one task, so glibc's own thresholds bound what a worker keeps. A
    value of the variable in the calling process's environment still wins, as in dask.
    """
    opts: dict[str, Any] = {"processes": True, "n_workers": int(n_workers),
                            "threads_per_worker": int(threads_per_worker),
                            "host": "127.0.0.1", "dashboard_address": None}
    opts.update(kwargs)
    with dask.config.set({TRIM_KEY: None}):
        return LocalCluster(**opts)


CONNECT_TIMEOUT = 10.0
"""Seconds to reach a dask scheduler (``--scheduler``): a silent listener, an HTTP
server or a black-hole address fails within this bound (plus 5 s for the client to
give up)."""


def connect(address: str, timeout: float = CONNECT_TIMEOUT) -> Client:
    """A client of the existing scheduler at ``address`` (``tcp://HOST:PORT``).

    The connection is attempted in a helper thread joined with a deadline of
    ``timeout + 5`` seconds: dask's own ``timeout`` does not bound the handshake with a
    listener that accepts the connection and never answers (a silent socket, an HTTP
    server: more than 200 s with ``timeout=5``, distributed 2025).

    Raises
    ------
    ClusterError
        When the scheduler cannot be reached within the deadline.
    """
    import threading

    from kursk_da.validation import check_scheduler_address

    address = check_scheduler_address(address, "scheduler")
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            # not the process's default client: an attempt abandoned at the deadline that
            # connects (or fails) later must not become the default of later dask work
            outcome["client"] = Client(address, timeout=timeout, set_as_default=False)
        except BaseException as exc:  # reported by the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=attempt, name="kursk-da-connect", daemon=True)
    thread.start()
    thread.join(timeout + 5.0)
    if thread.is_alive():
        raise ClusterError(f"cannot connect to the dask scheduler at {address!r}: no answer "
                           f"within {timeout + 5.0:g} s (is it a dask scheduler?)")
    exc = outcome.get("error")
    if exc is not None:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ClusterError(f"cannot connect to the dask scheduler at {address!r}: "
                           f"{reason}") from None
    client: Client = outcome["client"]
    return client


def dashboard_available() -> bool:
    """True when the dask dashboard can be served (bokeh installed)."""
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def dashboard_link(client: Client) -> str | None:
    """The dashboard address of the cluster, or None (no dashboard: bokeh missing, or a
    local cluster started without one)."""
    if not dashboard_available():
        return None
    with contextlib.suppress(Exception):
        cluster = getattr(client, "cluster", None)
        if cluster is not None and getattr(cluster, "_kursk_da_dashboard", True) is False:
            return None
        return str(client.dashboard_link)
    return None


@contextlib.contextmanager
def client_for(workers: int | None = None, threads_per_worker: int = 1,
               scheduler: str | None = None, dashboard: bool = False) -> Iterator[Client]:
    """A client of a new LocalCluster (``workers``) or of an existing ``scheduler``;
    closed (and the local cluster shut down) on exit."""
    if scheduler is not None:
        client = connect(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    dashboard = dashboard and dashboard_available()
    cluster = local_cluster(int(workers or 1), threads_per_worker,
                            dashboard_address=":0" if dashboard else None)
    cluster._kursk_da_dashboard = dashboard  # type: ignore[attr-defined]
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()
