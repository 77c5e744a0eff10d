"""Shareable reports of a result set: self-contained HTML and Markdown.

``kursk-da report RESULTS.nc --out DIR`` (or :func:`write_report`) writes
``DIR/report.html`` (figures embedded as base64 PNG, inline style, no external
reference: it opens offline) and ``DIR/report.md`` with the figures as PNG files beside
it. The report shows what the result set holds: the options table, the diagnostics
(with a warning when the calibration did not converge), the figures of
:mod:`kursk_da.plots`, the EVPPI ranking and sensitivity when present, and every
assumption of the stored spec with its source.
"""

from __future__ import annotations

from kursk_da.io._table import options_frame
from kursk_da.report._document import Document
from kursk_da.report._render import render_html, render_markdown
from kursk_da.report._sections import assumptions_frame, build_document
from kursk_da.report._writer import (
    HTML_NAME,
    MANIFEST_NAME,
    MARKDOWN_NAME,
    check_report_dir,
    report_from_file,
    write_report,
)

__all__ = [
    "HTML_NAME",
    "MARKDOWN_NAME",
    "MANIFEST_NAME",
    "check_report_dir",
    "Document",
    "build_document",
    "render_html",
    "render_markdown",
    "options_frame",
    "assumptions_frame",
    "write_report",
    "report_from_file",
]
