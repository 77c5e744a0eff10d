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
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from kursk_da import __version__
from kursk_da.cli import _analyze as analyze
from kursk_da.cli import _report as report
from kursk_da.cli import _sensitivity as sensitivity
from kursk_da.cli import _summary as summary
from kursk_da.cli import _voi as voi
from kursk_da.cli._common import EXIT_BAD_INPUT, EXIT_OK, EXIT_UNCONVERGED, run_handler

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_BAD_INPUT", "EXIT_UNCONVERGED"]

SUBCOMMANDS = (analyze, summary, voi, sensitivity, report)
"""The modules of the sub-commands, in the order of ``kursk-da --help``."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``kursk-da`` (each sub-command sets its ``handler``)."""
    parser = argparse.ArgumentParser(
        prog="kursk-da",
        description="Monte Carlo and Bayesian decision analysis of Ukraine's Kursk offensives.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kursk-da`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"kursk-da {__version__}")
        return EXIT_OK
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    return run_handler(args.handler, args)
