"""Shareable reports of a result set: self-contained HTML and Markdown.

``kursk-da report RESULTS.nc --out DIR`` (or :func:`write_report`) writes
``DIR/report.html`` (figures embedded as base64 PNG, inline style, no external
reference: it opens offline) and ``DIR/report.md`` with the figures as PNG files beside
it. The report opens with the decision brief generated from the numbers
(:func:`brief_numbers`; rounded to their Monte Carlo error, :func:`format_estimate`) and
an interactive weight explorer (inline JavaScript on a seeded subsample; its Python twin
is :func:`explore` on :func:`explorer_data`), then shows what the result set holds: the
options table, the diagnostics (with a warning when the calibration did not converge),
the figures of :mod:`kursk_da.plots`, the EVPPI ranking and sensitivity when present,
every assumption of the stored spec with its source, and the run metadata as an
appendix. :func:`screenshot_first_screen` saves the first screen as seen in headless
Chromium (selenium, imported on use).
"""

from __future__ import annotations

from kursk_da.io._table import options_frame
from kursk_da.report._brief import BriefNumbers, brief_numbers
from kursk_da.report._browser import (
    FIRST_SCREEN_NAME,
    browser_unavailable,
    headless_chromium,
    screenshot_first_screen,
)
from kursk_da.report._document import Document
from kursk_da.report._explorer import (
    EXPLORER_DRAWS,
    ExplorerData,
    explore,
    explorer_data,
    explorer_display,
)
from kursk_da.report._numbers import format_estimate, format_with_error, round_to_mcse
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
    "BriefNumbers",
    "brief_numbers",
    "EXPLORER_DRAWS",
    "ExplorerData",
    "explorer_data",
    "explore",
    "explorer_display",
    "format_estimate",
    "format_with_error",
    "round_to_mcse",
    "FIRST_SCREEN_NAME",
    "browser_unavailable",
    "headless_chromium",
    "screenshot_first_screen",
]
