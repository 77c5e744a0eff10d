"""Command-line interface ``kursk-da``: a thin layer over the library.

Every sub-command lives in its own module, which registers its arguments and formats
its console output; the computing is the library's.

``kursk-da analyze SPEC --draws N --seed S --out PATH`` (:mod:`kursk_da.cli._analyze`)
    Run the analysis, print the options table, write the result set. When the spec has
    ``[[observations]]`` it first calibrates the campaign parameters (NUTS), prints the
    diagnostics, the posterior predictive check and the prior-sensitivity check, and the
    options table is that of the posterior. Options: ``--prior-only`` (skip the
    calibration), ``--cutoff DATE`` (calibrate on observations up to DATE and score the
    forecasts of the others: coverage, CRPS), ``--sampler nutpie|pymc``,
    ``--mcmc-draws``, ``--tune``, ``--chains``, ``--allow-unconverged``.
``kursk-da summary PATH`` (:mod:`kursk_da.cli._summary`)
    Print the options table of a saved result set.
``kursk-da voi SRC`` (:mod:`kursk_da.cli._voi`)
    EVPPI ranking of every input and group (and EVSI).
``kursk-da sensitivity SRC`` (:mod:`kursk_da.cli._sensitivity`)
    Tornado with thresholds, Sobol' indices, scenarios and robustness.
``kursk-da report PATH --out DIR`` (:mod:`kursk_da.cli._report`)
    The HTML and Markdown report of a saved result set.

Exit status: 0 on success, 2 for bad input (invalid spec or arguments, missing or
corrupt result file), with a message on stderr that names the field and what was
expected; no output file is written in that case. 3 when the calibration fails the
convergence diagnostics (R-hat, ESS, divergences, E-BFMI): the failing parameters are
named on stderr and the result set is still written, marked ``converged = "no"``;
with ``--allow-unconverged`` the status is 0 and the table and file are flagged.
Output paths (``--out``, ``--plots``) are checked before anything is computed (exit 2).
130 after SIGINT (Ctrl-C), 143 after SIGTERM: one line on stderr, no traceback, and
the temporary files of the writers removed (a previous output is kept intact).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

from kursk_da import __version__
from kursk_da.cli._status import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EXIT_UNCONVERGED,
    PENDING,
    check_interrupted,
)
from kursk_da.errors import Interrupted

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_BAD_INPUT", "EXIT_UNCONVERGED",
           "EXIT_SIGINT", "EXIT_SIGTERM"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``kursk-da`` (each sub-command sets its ``handler``)."""
    parser = argparse.ArgumentParser(
        prog="kursk-da",
        description="Monte Carlo and Bayesian decision analysis of Ukraine's Kursk offensives.",
    )
    # the sub-commands import the library (numba, xarray): imported here, after main()
    # has installed its signal handlers, so an early Ctrl-C is handled too
    from kursk_da.cli import _analyze, _policy, _report, _sensitivity, _summary, _voi

    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    for module in (_analyze, _summary, _voi, _sensitivity, _report, _policy):  # order of --help
        module.register(sub)
    return parser


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    # the first signal interrupts; further ones are ignored so the clean-up can finish.
    # The signal is also recorded: an exception raised where Python swallows it (a weakref
    # callback during an import) is raised again at the next check_interrupted()
    for sig in _SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    PENDING.append(signum)
    raise Interrupted(signum)


@contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`~kursk_da.errors.Interrupted` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    PENDING.clear()
    hook = sys.unraisablehook

    def quiet(unraisable: Any) -> None:
        # an Interrupted swallowed by Python (e.g. in an import's weakref callback) is not
        # printed as a traceback: it is recorded in PENDING and raised again later
        if not isinstance(unraisable.exc_value, Interrupted):
            hook(unraisable)

    sys.unraisablehook = quiet
    for sig in _SIGNALS:
        signal.signal(sig, _raise_interrupted)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.unraisablehook = hook


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kursk-da`` console script; returns the exit status."""
    with _signals_raise():
        try:
            parser = build_parser()
            args = parser.parse_args(argv)
            if args.version:
                print(f"kursk-da {__version__}")
                return EXIT_OK
            if args.command is None:
                parser.print_help()
                return EXIT_BAD_INPUT
            from kursk_da.cli._common import run_handler

            check_interrupted()
            status = run_handler(args.handler, args)
            check_interrupted()
            return status
        except KeyboardInterrupt as exc:
            signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
            print(f"kursk-da: interrupted by {signal.Signals(signum).name}; stopped, temporary "
                  "files removed",
                  file=sys.stderr)
            return 128 + signum
