"""``kursk-da summary PATH [--voi] [--format FMT] [--out FILE]``: the tables of a result set.

Prints the options table of a saved result set (with ``--voi``, the EVPPI ranking stored
in its ``/voi`` group by ``kursk-da voi --out``), as the console text (``--format
table``, the default: what ``kursk-da analyze`` prints) or to paste elsewhere: ``csv``
(one header row with the units, no index column), ``json`` (every number unrounded with
its MCSE and units) or ``markdown`` (a pipe table, text escaped). Formats in
:func:`kursk_da.io._table.render_table`. With ``--out FILE`` the text is written to FILE
(atomically, checked before reading the result set) instead of stdout.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kursk_da.cli._common import EXIT_OK, add_format_option, check_out_file, emit
from kursk_da.cli._voi import format_evsi, format_voi
from kursk_da.errors import ArgumentError

if TYPE_CHECKING:
    import xarray as xr



__all__ = ["register", "run", "voi_text"]

def register(sub: Any) -> None:
    """Add the ``summary`` sub-parser (handler in ``handler``)."""
    s = sub.add_parser("summary", help="print the options table (or the VOI ranking) of a "
                                       "saved result set, as text, CSV, JSON or Markdown")
    s.add_argument("path", type=Path, help="result set (netCDF) written by 'analyze'")
    s.add_argument("--voi", action="store_true",
                   help="the EVPPI ranking stored by 'kursk-da voi ... --out' instead")
    add_format_option(s)
    s.add_argument("--out", type=Path, default=None, metavar="FILE",
                   help="write the table to FILE instead of stdout")
    s.set_defaults(handler=run)


def voi_text(tree: xr.DataTree, fmt: str, top: int = 10) -> str:
    """The EVPPI ranking of ``tree["voi"]`` in ``fmt`` (``table``: :func:`format_voi`)."""
    from kursk_da.io._table import render_table, voi_export

    if "voi" not in tree.children:
        raise ArgumentError("--voi: the result set has no /voi group; run 'kursk-da voi "
                            "PATH --out FILE' first and summarise FILE")
    ds = tree["voi"].to_dataset()
    if fmt == "table":
        return format_voi(ds, top) + format_evsi(ds)
    return render_table(voi_export(ds, tree), fmt)


def run(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da summary``."""
    from kursk_da.io import load_result_set, options_table
    from kursk_da.io._table import options_export, render_table

    check_out_file(args.out)  # before reading anything
    tree = load_result_set(args.path)
    if args.voi:
        text = voi_text(tree, args.format)
    elif args.format == "table":
        text = options_table(tree)
    else:
        text = render_table(options_export(tree), args.format)
    emit(text, args.out)
    return EXIT_OK
