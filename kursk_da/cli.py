"""Command-line interface: a thin layer over the library.

``kursk-da analyze SPEC --draws N --seed S --out PATH``
    Run the analysis, print the options table, write the result set.
    When the spec has ``[[observations]]`` it first calibrates the campaign
    parameters (NUTS), prints the diagnostics, the posterior predictive check and the
    prior-sensitivity check, and the options table is that of the posterior. Options:
    ``--prior-only`` (skip the calibration), ``--cutoff DATE`` (calibrate on
    observations up to DATE and score the forecasts of the others: coverage, CRPS),
    ``--sampler nutpie|pymc``, ``--mcmc-draws``, ``--tune``, ``--chains``,
    ``--allow-unconverged``.
``kursk-da summary PATH``
    Print the options table of a saved result set.

Exit status: 0 on success, 2 for bad input (invalid spec or arguments, missing or
corrupt result file), with a message on stderr that names the field and what was
expected; no output file is written in that case. 3 when the calibration fails the
convergence diagnostics (R-hat, ESS, divergences, E-BFMI): the failing parameters are
named on stderr and the result set is still written, marked ``converged = "no"``;
with ``--allow-unconverged`` the status is 0 and the table and file are flagged.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "build_parser"]

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_UNCONVERGED = 3


def _int_at_least(lo: int):
    """argparse type: a whole number >= ``lo``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {lo}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_seed = _int_at_least(0)


def _date(text: str):
    """argparse type: an ISO date."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2024-10-01, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``kursk-da``."""
    parser = argparse.ArgumentParser(
        prog="kursk-da",
        description="Monte Carlo and Bayesian decision analysis of Ukraine's Kursk offensives.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")

    a = sub.add_parser("analyze", help="run the analysis of a spec and write a result set")
    a.add_argument("spec", type=Path, help="model spec (TOML), e.g. models/kursk_2025.toml")
    a.add_argument("--draws", type=_positive_int, default=20_000,
                   help="Monte Carlo draws (default 20000)")
    a.add_argument("--seed", type=_seed, default=0, help="root seed (default 0)")
    a.add_argument("--out", type=Path, required=True, help="result set to write (netCDF)")
    a.add_argument("--chunk-size", type=_positive_int, default=None,
                   help="draws per independent chunk (default 10000; changes the numbers)")
    a.add_argument("--jobs", type=_positive_int, default=None,
                   help="threads (default: all CPUs; does not change the numbers)")
    a.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    a.add_argument("--prior-only", action="store_true",
                   help="prior analysis even when the spec has observations")
    a.add_argument("--cutoff", type=_date, default=None, metavar="DATE",
                   help="calibrate on observations up to DATE (YYYY-MM-DD); report coverage "
                        "and CRPS of the withheld ones")
    a.add_argument("--sampler", choices=("nutpie", "pymc"), default="nutpie",
                   help="NUTS implementation of the calibration (default nutpie)")
    a.add_argument("--mcmc-draws", type=_positive_int, default=1000,
                   help="posterior draws per chain (default 1000)")
    a.add_argument("--tune", type=_int_at_least(0), default=1000,
                   help="tuning steps per chain (default 1000)")
    a.add_argument("--chains", type=_positive_int, default=4, help="chains (default 4)")
    a.add_argument("--allow-unconverged", action="store_true",
                   help="exit 0 even if the calibration fails its diagnostics (flagged)")

    s = sub.add_parser("summary", help="print the options table of a saved result set")
    s.add_argument("path", type=Path, help="result set (netCDF) written by 'analyze'")

    from kursk_da.voi.commands import register as register_voi  # voi, sensitivity

    register_voi(sub, _positive_int, _seed)
    from kursk_da.report.command import register as register_report  # report

    register_report(sub)
    return parser


def _analyze(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from kursk_da.analysis import run_analysis
    from kursk_da.engine.run import DEFAULT_CHUNK_SIZE
    from kursk_da.io import options_table, save_result_set
    from kursk_da.spec.schema import load_spec

    spec = load_spec(args.spec)
    calibrating = bool(spec.observations) and not args.prior_only
    if calibrating:
        print(f"calibrating {spec.name} on {len(spec.observations)} observations "
              f"({args.sampler})...", file=sys.stderr)
    with tqdm(total=args.draws, unit="draw", desc="simulating", disable=args.no_progress or None,
              file=sys.stderr) as bar:
        result = run_analysis(
            spec, args.draws, args.seed, prior_only=args.prior_only, cutoff=args.cutoff,
            sampler=args.sampler, mcmc_draws=args.mcmc_draws, tune=args.tune,
            chains=args.chains, chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE,
            n_jobs=args.jobs, progress=bar.update)
    tree, post = result.tree, result.calibration
    if post is not None:
        from kursk_da.calibration.text import calibration_text

        print(calibration_text(post))
        print()
    print(options_table(tree))
    path = save_result_set(tree, args.out)
    print(f"result set written to {path}")
    if post is not None and not post.converged:
        names = ", ".join(post.diagnostics.failing)
        print(f"kursk-da: the calibration did not converge (failing: {names}); the result set "
              f"is marked converged = no", file=sys.stderr)
        return EXIT_OK if args.allow_unconverged else EXIT_UNCONVERGED
    return EXIT_OK


def _summary(args: argparse.Namespace) -> int:
    from kursk_da.io import load_result_set, options_table

    print(options_table(load_result_set(args.path)))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kursk-da`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from kursk_da import __version__

        print(f"kursk-da {__version__}")
        return EXIT_OK
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    from kursk_da.errors import KurskDAError

    try:
        handler = getattr(args, "handler", None)  # sub-commands registered elsewhere
        return (handler or {"analyze": _analyze, "summary": _summary}[args.command])(args)
    except KurskDAError as exc:
        print(f"kursk-da: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
