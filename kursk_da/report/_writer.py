"""Write the report directory atomically: ``report.html``, ``report.md`` and the PNG figures.

Everything is written into a temporary directory beside the target and renamed into
place at the end, so an error or a kill never leaves a half-written report: the target
is either the previous report or the complete new one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import xarray as xr

from kursk_da.errors import ResultFileError
from kursk_da.io._resultset import load_result_set
from kursk_da.report._document import Document
from kursk_da.report._render import image_filename, render_html, render_markdown
from kursk_da.report._sections import build_document

__all__ = ["HTML_NAME", "MARKDOWN_NAME", "write_report", "report_from_file"]

HTML_NAME = "report.html"
"""The self-contained HTML report (figures embedded)."""
MARKDOWN_NAME = "report.md"
"""The Markdown report (figures as PNG files in the same directory)."""


def _write_files(doc: Document, directory: Path) -> None:
    (directory / HTML_NAME).write_text(render_html(doc), encoding="utf-8")
    (directory / MARKDOWN_NAME).write_text(render_markdown(doc), encoding="utf-8")
    for img in doc.images():
        (directory / image_filename(img)).write_bytes(img.png)


def write_report(tree: xr.DataTree, out_dir: str | Path,
                 sections: Sequence[str] | None = None) -> Path:
    """Write the HTML and Markdown reports of a result set into ``out_dir``.

    Parameters
    ----------
    tree : xarray.DataTree
        A result set (in memory or loaded from netCDF). Only what it holds is reported:
        nothing is simulated, calibrated or estimated here.
    out_dir : str or Path
        The report directory; an existing report directory there is replaced as a whole.
    sections : sequence of str, optional
        Names of :data:`kursk_da.report._sections.SECTIONS` (default: all).

    Returns
    -------
    Path
        The HTML file, ``out_dir / "report.html"``.

    Raises
    ------
    ResultFileError
        If ``out_dir`` exists and is not a directory.

    Examples
    --------
    >>> import kursk_da as kd
    >>> from kursk_da.report import write_report
    >>> tree = kd.load_result_set("results/kursk_2025.nc")      # doctest: +SKIP
    >>> write_report(tree, "results/report")                   # doctest: +SKIP
    """
    target = Path(out_dir)
    if target.exists() and not target.is_dir():
        raise ResultFileError(f"{target}: exists and is not a directory")
    doc = build_document(tree, sections)  # all figures rendered before anything touches the disk
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    old: Path | None = None
    try:
        _write_files(doc, tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp creates 0700; give the usual mode
        if target.exists():
            old = target.with_name(f".{target.name}.{os.getpid()}.old")
            os.replace(target, old)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not target.exists():
            os.replace(old, target)  # put the previous report back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target / HTML_NAME


def report_from_file(path: str | Path, out_dir: str | Path) -> Path:
    """Load a result set (validated) and write its report; see :func:`write_report`."""
    return write_report(load_result_set(path), out_dir)
