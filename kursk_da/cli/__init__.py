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
``kursk-da summary PATH [--voi] [--format table|csv|json|markdown] [--out FILE]``
    (:mod:`kursk_da.cli._summary`) Print the options table (or, with ``--voi``, the
    stored EVPPI ranking) of a saved result set, as console text or to paste.
``kursk-da voi SRC [--format ...]`` (:mod:`kursk_da.cli._voi`)
    EVPPI ranking of every input and group (and EVSI).
``kursk-da sensitivity SRC`` (:mod:`kursk_da.cli._sensitivity`)
    Tornado with thresholds, Sobol' indices, scenarios and robustness.
``kursk-da report PATH --out DIR`` (:mod:`kursk_da.cli._report`)
    The HTML and Markdown report of a saved result set.
``kursk-da variants PATH [--out OUT]`` (:mod:`kursk_da.cli._variants`)
    Competing model structures of a calibrated result set's spec: PSIS-LOO, stacking
    weights, the decision under each variant and the stacked mixture (``/variants``).

Global options (before or after the sub-command): ``-q`` (warnings and errors only, no
progress bar) and ``-v`` (debug messages and third-party warnings; ``-vv`` also their
info messages); logging goes to stderr (:mod:`kursk_da.cli._log`), the tables to stdout.

Exit status (:mod:`kursk_da.cli._status`, listed at the end of ``--help``): 0 on
success; 1 after an internal error (a bug: the traceback is logged on stderr); 2 for bad
input (invalid spec or arguments, missing or corrupt result file), with a message on
stderr that names the field and what was expected; no output file is written in that
case. 3 when the calibration fails the convergence diagnostics (R-hat, ESS,
divergences, E-BFMI): the failing parameters are named on stderr and the result set is
still written, marked ``converged = "no"``; with ``--allow-unconverged`` the status is 0
and the table and file are flagged. Output paths (``--out``, ``--plots``) are checked
before anything is computed (exit 2). 130 after SIGINT (Ctrl-C), 143 after SIGTERM: one
line on stderr (after any stage lines), no traceback, and the temporary files of the
writers removed (a previous output is kept intact); 129 after SIGHUP (the terminal
closed), the same way. A standard output closed by its reader (``| head -1``) ends the
command quietly with 141; a full one (``> /dev/full``) with one line and 2.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import Any

from kursk_da.cli._status import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_SIGHUP,
    EXIT_SIGINT,
    EXIT_SIGPIPE,
    EXIT_SIGTERM,
    EXIT_STATUS_HELP,
    EXIT_UNCONVERGED,
    PENDING,
    GuardedStdout,
    StdoutError,
    check_interrupted,
)
from kursk_da.errors import Interrupted

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_INTERNAL", "EXIT_BAD_INPUT",
           "EXIT_UNCONVERGED", "EXIT_SIGINT", "EXIT_SIGTERM", "EXIT_SIGHUP", "EXIT_SIGPIPE"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``kursk-da`` (each sub-command sets its ``handler``)."""
    parser = argparse.ArgumentParser(
        prog="kursk-da",
        description="Monte Carlo and Bayesian decision analysis of Ukraine's Kursk offensives.",
        epilog=EXIT_STATUS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # the sub-commands import the library (numba, xarray): imported here, after main()
    # has installed its signal handlers, so an early Ctrl-C is handled too
    from kursk_da.cli import (
        _analyze,
        _hindcast,
        _policy,
        _report,
        _sensitivity,
        _summary,
        _variants,
        _voi,
    )

    parser.add_argument("--version", action="store_true", help="print the version and exit")
    _verbosity_options(parser, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command")
    # order of --help
    for module in (_analyze, _summary, _voi, _sensitivity, _report, _policy, _hindcast,
                   _variants):
        module.register(sub)
    for command in sub.choices.values():  # every sub-command, whoever registered it
        _verbosity_options(command, argparse.SUPPRESS)
        command.epilog = command.epilog or EXIT_STATUS_HELP
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _verbosity_options(parser: argparse.ArgumentParser, default: Any) -> None:
    # SUPPRESS: a flag given before the sub-command is not reset by the sub-parser
    group = parser.add_argument_group("logging (to stderr)")
    group.add_argument("-q", "--quiet", action="store_true", default=default,
                       help="only warnings and errors; no progress bar")
    group.add_argument("-v", "--verbose", action="count", default=default,
                       help="debug messages and third-party (PyMC, PyTensor, numba, ArviZ) "
                            "warnings; -vv also their info messages")


def _verbosity(args: argparse.Namespace) -> int:
    if getattr(args, "quiet", False):
        return -1
    return int(getattr(args, "verbose", 0) or 0)


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    # the first signal interrupts; further ones are ignored so the clean-up can finish.
    # The signal is also recorded: an exception raised where Python swallows it (a weakref
    # callback during an import) is raised again at the next check_interrupted()
    for sig in _SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    PENDING.append(signum)
    raise Interrupted(signum)


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise :class:`~kursk_da.errors.Interrupted` (main thread
    only)."""
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


def _stdout_failed(exc: StdoutError) -> int:
    """End quietly after standard output failed: closed by its reader (``| head -1``,
    :data:`EXIT_SIGPIPE`, nothing printed) or full (``> /dev/full``: one line on stderr,
    :data:`EXIT_BAD_INPUT`). Standard output is pointed at ``/dev/null`` so that
    Python's final flush does not fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    if exc.errno == errno.EPIPE:
        return EXIT_SIGPIPE
    print(f"kursk-da: error: cannot write to standard output: "
          f"{exc.strerror or exc}", file=sys.stderr)
    return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kursk-da`` console script; returns the exit status."""
    stdout = sys.stdout
    sys.stdout = GuardedStdout(stdout)
    try:
        return _main(argv)
    finally:
        sys.stdout = stdout


def _main(argv: Sequence[str] | None) -> int:
    with _signals_raise():
        try:
            parser = build_parser()
            args = parser.parse_args(argv)
            if args.version:
                from kursk_da import __version__

                print(f"kursk-da {__version__}")
                return EXIT_OK
            if args.command is None:
                parser.print_help()
                return EXIT_BAD_INPUT
            from kursk_da.cli._common import run_handler
            from kursk_da.cli._log import configured

            with configured(_verbosity(args)):
                check_interrupted()
                status = run_handler(args.handler, args)
                check_interrupted()
                sys.stdout.flush()  # a closed or full stdout fails here, not at exit
            return status
        except StdoutError as exc:  # closed or full standard output
            return _stdout_failed(exc)
        except KeyboardInterrupt as exc:
            signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
            print(f"kursk-da: interrupted by {signal.Signals(signum).name}; stopped, temporary "
                  "files removed",
                  file=sys.stderr)
            return 128 + signum
