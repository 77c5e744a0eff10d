"""``kursk-da report RESULTS.nc --out DIR``: the HTML and Markdown report of a result set."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kursk_da.cli._common import EXIT_OK
from kursk_da.cli._log import LOGGER
from kursk_da.errors import ArgumentError

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``report`` sub-parser (handler in ``handler``)."""
    r = sub.add_parser("report", help="write an HTML and Markdown report of a saved result set")
    r.add_argument("path", type=Path, help="result set (netCDF) written by 'analyze'")
    r.add_argument("--out", type=Path, required=True,
                   help="report directory (report.html, report.md, figures)")
    r.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the report of a saved result set; a bad file raises ResultFileError (exit 2).

    ``--out`` must be a new or empty directory or a previous report holding only the files
    it wrote (its manifest ``.kursk-da-report.json`` lists them); anything else is refused
    with exit 2 and nothing is deleted.
    """
    import matplotlib  # slow optional library: only for this sub-command

    matplotlib.use("Agg")  # figures are only rendered to files
    from kursk_da.report import MARKDOWN_NAME, check_report_dir, report_from_file

    check_report_dir(args.out, "--out", ArgumentError)  # before reading or rendering
    html = report_from_file(args.path, args.out)
    LOGGER.info("report written to %s and %s", html, html.parent / MARKDOWN_NAME)
    return EXIT_OK
