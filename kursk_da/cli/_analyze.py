"""``kursk-da analyze SPEC --draws N --seed S --out PATH``: run the analysis of a spec.

Prints the options table and writes the result set. When the spec has
``[[observations]]`` it first calibrates the campaign parameters (NUTS) and prints the
diagnostics, the posterior predictive check and the prior-sensitivity check; the
options table is then that of the posterior. Exit status 3 when the calibration fails
its convergence diagnostics (0 with ``--allow-unconverged``); the result set is written
either way, marked ``converged = "no"``.

Progress on stderr, per stage, each labelled ``[k/n] stage`` in the log and on its bar:
``compile`` (the calibration model, PyMC/nutpie), ``sampling`` (NUTS and the checks of
fit), ``propagation`` (the engine on every draw and option: a bar over the draws); a
prior analysis has the propagation only. The sampler draws no bar of its own; the
propagation bar appears with the engine's first finished chunk, which is also when the
sampling stage is logged as done.

``--workers N`` runs the engine on a dask ``LocalCluster`` of N worker processes
(``--threads-per-worker`` threads each, default 1); ``--scheduler tcp://HOST:PORT`` on an
existing cluster. Neither: the in-process engine, without dask.distributed. The
numbers are the same either way. ``--out NAME.zarr`` writes a Zarr store. The per-draw
data are written to ``--out`` block by block while the engine runs (a temporary file
beside it, renamed at the end; nothing is left on an error or an interrupt).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kursk_da._defaults import DEFAULT_CHUNK_SIZE, DEFAULT_STORE_DRAWS
from kursk_da.cli._common import (
    EXIT_OK,
    EXIT_UNCONVERGED,
    check_interrupted,
    date_type,
    int_type,
    positive_int,
    seed_type,
)
from kursk_da.cli._log import LOGGER, Stages, progress_bar, verbosity

if TYPE_CHECKING:
    from tqdm import tqdm

__all__ = ["register", "run", "add_cluster_options", "cluster_client"]


def register(sub: Any) -> None:
    """Add the ``analyze`` sub-parser (handler in ``handler``)."""
    a = sub.add_parser("analyze", help="run the analysis of a spec and write a result set")
    a.add_argument("spec", type=Path, help="model spec (TOML), e.g. models/kursk_2025.toml")
    a.add_argument("--draws", type=positive_int, default=20_000,
                   help="Monte Carlo draws (default 20000)")
    a.add_argument("--seed", type=seed_type, default=0, help="root seed (default 0)")
    a.add_argument("--out", type=Path, required=True,
                   help="result set to write (netCDF; a name ending in .zarr: a Zarr store)")
    a.add_argument("--chunk-size", type=positive_int, default=None,
                   help="draws per engine task, rounded up to blocks of 4096 (default "
                        f"{DEFAULT_CHUNK_SIZE}; does not change the numbers)")
    a.add_argument("--jobs", type=positive_int, default=None,
                   help="threads (default: all CPUs; does not change the numbers)")
    add_cluster_options(a)
    a.add_argument("--store-draws", type=positive_int, default=DEFAULT_STORE_DRAWS,
                   help="keep the per-draw data of all draws up to N, of N evenly spaced "
                        f"draws beyond (default {DEFAULT_STORE_DRAWS}); the summaries use "
                        "every draw")
    a.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    a.add_argument("--prior-only", action="store_true",
                   help="prior analysis even when the spec has observations")
    a.add_argument("--cutoff", type=date_type, default=None, metavar="DATE",
                   help="calibrate on observations up to DATE (YYYY-MM-DD); report coverage "
                        "and CRPS of the withheld ones")
    a.add_argument("--sampler", choices=("nutpie", "pymc"), default="nutpie",
                   help="NUTS implementation of the calibration (default nutpie)")
    a.add_argument("--mcmc-draws", type=positive_int, default=1000,
                   help="posterior draws per chain (default 1000)")
    a.add_argument("--tune", type=int_type(minimum=0), default=800,
                   help="tuning steps per chain (default 800)")
    a.add_argument("--chains", type=positive_int, default=4, help="chains (default 4)")
    a.add_argument("--allow-unconverged", action="store_true",
                   help="exit 0 even if the calibration fails its diagnostics (flagged)")
    a.set_defaults(handler=run)


def add_cluster_options(parser: Any, what: str = "the engine") -> None:
    """``--workers``, ``--threads-per-worker``, ``--scheduler`` (analyze, voi, sensitivity)."""
    parser.add_argument("--workers", type=positive_int, default=None,
                        help=f"run {what} on a local dask cluster of N worker processes "
                             "(does not change the numbers)")
    parser.add_argument("--threads-per-worker", type=positive_int, default=1,
                        help="threads of each --workers process (default 1)")
    parser.add_argument("--scheduler", type=_scheduler, default=None, metavar="ADDRESS",
                        help=f"run {what} on an existing dask cluster (tcp://HOST:PORT)")


def cluster_client(stack: contextlib.ExitStack, args: argparse.Namespace,
                   dashboard: bool = False, what: str = "engine") -> Any:
    """The dask client of ``--workers``/``--scheduler`` (closed with ``stack``), or None
    (no dask import)."""
    if args.workers is not None and args.scheduler is not None:
        from kursk_da.errors import ArgumentError

        raise ArgumentError("--workers: give --workers or --scheduler, not both")
    if args.workers is None and args.scheduler is None:
        return None
    from kursk_da.engine._dask import client_for, dashboard_link

    client = stack.enter_context(client_for(args.workers, args.threads_per_worker,
                                            args.scheduler, dashboard=dashboard))
    where = args.scheduler or f"a local cluster of {args.workers} worker processes"
    LOGGER.info("%s on %s", what, where)
    link = dashboard_link(client)
    if link:
        LOGGER.info("dask dashboard: %s", link)
    return client


def sampling_progress(args: argparse.Namespace) -> bool:
    """Whether NUTS shows its progress bar (draws done per chain, elapsed and remaining
    time): on a terminal, without ``--no-progress`` or ``-q``, as the engine's bar."""
    return not args.no_progress and verbosity() >= 0 and sys.stderr.isatty()


def _scheduler(text: str) -> str:
    """argparse type: a dask scheduler address (checked here: exit 2, no traceback)."""
    import argparse as _argparse

    from kursk_da.errors import ArgumentError
    from kursk_da.validation import check_scheduler_address

    try:
        return check_scheduler_address(text, "value")
    except ArgumentError as exc:
        raise _argparse.ArgumentTypeError(str(exc).removeprefix("value: ")) from None


class _Propagation:
    """The engine's progress callback: opens the propagation stage and its bar lazily."""

    def __init__(self, stages: Stages, total: int, enabled: bool, detail: str) -> None:
        self.stages, self.total, self.enabled, self.detail = stages, total, enabled, detail
        self.bar: tqdm[Any] | None = None

    def open(self) -> None:
        if self.bar is None:
            self.stages.start("propagation", self.detail)
            self.bar = progress_bar(self.stages.label("propagation"), self.total, "draw",
                                    self.enabled)

    def __call__(self, n: int) -> None:
        check_interrupted()  # after each engine chunk: a swallowed signal stops here
        self.open()
        assert self.bar is not None
        self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.stages.done()


EXIT_CLUSTER = 1
"""Exit status when the dask cluster fails the run (no result set is written)."""


def run(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da analyze``."""
    from kursk_da.engine._blocks import ClusterError  # the library: imported by the handler

    try:
        return _run(args)
    except ClusterError as exc:
        print(f"kursk-da: error: {exc}; no result set written", file=sys.stderr)
        return EXIT_CLUSTER


def _run(args: argparse.Namespace) -> int:
    from kursk_da.analysis import run_analysis
    from kursk_da.io import options_table
    from kursk_da.io._resultset import check_result_target
    from kursk_da.spec._schema import check_run_size, load_spec

    check_result_target(args.out, "--out")  # before any computing
    if args.workers is not None and args.scheduler is not None:
        from kursk_da.errors import ArgumentError

        raise ArgumentError("--workers: give --workers or --scheduler, not both")
    spec = load_spec(args.spec)
    calibrating = bool(spec.observations) and not args.prior_only
    compiled = None
    n_options = len(spec.option_names)
    # as kd.analyze does: the stored rows and the streamed summary of all draws
    check_run_size(spec, min(args.draws, args.store_draws),
                   args.chunk_size or DEFAULT_CHUNK_SIZE, args.jobs, summary_draws=args.draws)
    if calibrating:
        stages = Stages("compile", "sampling", "propagation")
        n_post = args.chains * args.mcmc_draws
        total = n_post * max(1, args.draws // n_post)  # engine rows of the posterior analysis
        stages.start("compile", f"calibration model of {spec.name} on "
                                f"{len(spec.observations)} observations ({args.sampler})")
        # importing kursk_da.calibration imports PyMC: only when a calibration runs
        from kursk_da.calibration import compile_calibration

        compiled = compile_calibration(spec, cutoff=args.cutoff, sampler=args.sampler)
        check_interrupted()
        stages.start("sampling", f"NUTS ({args.sampler}), {args.chains} chains x "
                                 f"{args.mcmc_draws} draws ({args.tune} tuning), then the "
                                 "checks of fit")
        detail = (f"{total} engine draws (posterior draws x {total // n_post}) x "
                  f"{n_options} options")
    else:
        stages = Stages("propagation")
        total = args.draws
        detail = f"{total} prior draws x {n_options} options"
    propagation = _Propagation(stages, total, not args.no_progress, detail)
    with contextlib.ExitStack() as stack:
        stack.callback(propagation.close)
        client = cluster_client(stack, args, dashboard=not args.no_progress)
        if not calibrating:
            propagation.open()
        # the one call of the orchestrator (kd.analyze returns result.tree)
        result = run_analysis(
            spec, args.draws, args.seed, prior_only=args.prior_only, cutoff=args.cutoff,
            sampler=args.sampler, mcmc_draws=args.mcmc_draws, tune=args.tune,
            chains=args.chains, chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE,
            n_jobs=args.jobs, progress=propagation, compiled=compiled, client=client,
            store_draws=args.store_draws, out=args.out,
            **({"progress_bar": sampling_progress(args)} if calibrating else {}))
    tree, post = result.tree, result.calibration  # written block by block to --out
    if post is not None:
        from kursk_da.cli._calibration import calibration_text

        print(calibration_text(post))
        print()
    print(options_table(tree))
    LOGGER.info("result set written to %s", args.out)
    if post is not None and not post.converged:
        names = ", ".join(post.diagnostics.failing)
        log = LOGGER.warning if args.allow_unconverged else LOGGER.error
        log("the calibration did not converge (failing: %s); the result set is marked "
            "converged = no", names)
        return EXIT_OK if args.allow_unconverged else EXIT_UNCONVERGED
    return EXIT_OK
