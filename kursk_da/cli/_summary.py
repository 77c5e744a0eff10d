"""``kursk-da summary PATH``: print the options table of a saved result set."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kursk_da.cli._common import EXIT_OK
from kursk_da.io import load_result_set, options_table

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``summary`` sub-parser (handler in ``handler``)."""
    s = sub.add_parser("summary", help="print the options table of a saved result set")
    s.add_argument("path", type=Path, help="result set (netCDF) written by 'analyze'")
    s.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da summary``."""
    print(options_table(load_result_set(args.path)))
    return EXIT_OK
