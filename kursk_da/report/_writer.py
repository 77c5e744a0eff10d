"""Write the report directory atomically: ``report.html``, ``report.md`` and the PNG figures.

Everything is written into a temporary directory beside the target
(``.<target>.kursk-da-tmp-<pid>-<random>``) and renamed into place at the end, so an
error or a kill never leaves a half-written report: the target is either the previous
report or the complete new one. The directory holds a manifest, :data:`MANIFEST_NAME`,
listing the files the report wrote; a non-empty directory is replaced only when it is
such a previous report holding nothing else (checked before anything is rendered), so
nothing the report did not write is ever deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from kursk_da.errors import KurskDAError, ResultFileError
from kursk_da.io._atomic import make_temp_dir, remove_stale, storage_errors, temp_name
from kursk_da.io._resultset import load_result_set
from kursk_da.report._document import Document
from kursk_da.report._render import image_filename, render_html, render_markdown
from kursk_da.report._sections import build_document
from kursk_da.validation import check_output_dir

__all__ = ["HTML_NAME", "MARKDOWN_NAME", "MANIFEST_NAME", "check_report_dir", "write_report",
           "report_from_file"]

HTML_NAME = "report.html"
"""The self-contained HTML report (figures embedded)."""
MARKDOWN_NAME = "report.md"
"""The Markdown report (figures as PNG files in the same directory)."""
MANIFEST_NAME = ".kursk-da-report.json"
"""The manifest of a report directory: JSON ``{"written_by", "files", "sha256"}``; a
previous report is replaced only where every file matches its recorded SHA-256."""


def check_report_dir(out_dir: Any, name: str = "out_dir",
                     error: type[KurskDAError] = ResultFileError) -> Path:
    """Check a report directory before anything is rendered; see :func:`write_report`.

    Returns
    -------
    Path
        The absolute directory.

    Raises
    ------
    KurskDAError
        ``error``, naming ``name``: not a directory, not writable, the current
        directory, or a non-empty directory that is not a previous report holding only
        the files it wrote.
    """
    return check_output_dir(out_dir, name, manifest=MANIFEST_NAME, error=error)


def _write_files(doc: Document, directory: Path) -> None:
    files = {HTML_NAME: render_html(doc).encode("utf-8"),
             MARKDOWN_NAME: render_markdown(doc).encode("utf-8")}
    files.update({image_filename(img): img.png for img in doc.images()})
    for fname, data in files.items():
        (directory / fname).write_bytes(data)
    manifest = {"written_by": "kursk-da report", "files": sorted(files),
                "sha256": {f: hashlib.sha256(files[f]).hexdigest() for f in sorted(files)}}
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n",
                                           encoding="utf-8")


def write_report(tree: xr.DataTree, out_dir: str | Path,
                 sections: Sequence[str] | None = None) -> Path:
    """Write the HTML and Markdown reports of a result set into ``out_dir``.

    Parameters
    ----------
    tree : xarray.DataTree
        A result set (in memory or loaded from netCDF). Only what it holds is reported:
        nothing is simulated, calibrated or estimated here.
    out_dir : str or Path
        The report directory, created if missing; an empty directory or a previous
        report (holding only what it wrote, listed in :data:`MANIFEST_NAME`) there is
        replaced as a whole. Anything else is refused before rendering.
    sections : sequence of str, optional
        Names of :data:`kursk_da.report._sections.SECTIONS` (default: all).

    Returns
    -------
    Path
        The HTML file, ``out_dir / "report.html"``.

    Raises
    ------
    ResultFileError
        If ``out_dir`` cannot be written or replaced (:func:`check_report_dir`).

    Examples
    --------
    >>> import kursk_da as kd
    >>> from kursk_da.report import write_report
    >>> tree = kd.load_result_set("results/kursk_2025.nc")      # doctest: +SKIP
    >>> write_report(tree, "results/report")                   # doctest: +SKIP
    """
    target = check_report_dir(out_dir)
    doc = build_document(tree, sections)  # all figures rendered before anything touches the disk
    target = check_report_dir(target)  # again: the directory may have changed meanwhile
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    tmp = make_temp_dir(target)  # mode 0o777 less the umask: the usual directory mode
    old: Path | None = None
    try:
        with storage_errors(target):  # a full disk: one line naming the directory
            _write_files(doc, tmp)
            if target.exists():
                old = temp_name(target, "old")
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
    """Load a result set (validated) and write its report; see :func:`write_report`.

    ``out_dir`` is checked first (:func:`check_report_dir`), before the file is read.
    """
    check_report_dir(out_dir)
    return write_report(load_result_set(path), out_dir)
