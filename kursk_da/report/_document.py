"""A small, format-neutral document model: sections of text, warnings, tables and figures.

:mod:`kursk_da.report._sections` fills it from a result set; :mod:`kursk_da.report._render`
turns it into HTML (figures embedded) or Markdown (figures as files).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["Text", "Lead", "Bullets", "Warning_", "Table", "Image", "Html", "Block", "Section",
           "Document", "figure_png"]

FIGURE_DPI = 80
"""Resolution of the report's figures (keeps the HTML small)."""


@dataclass(frozen=True)
class Text:
    """A paragraph of plain text (no markup)."""

    text: str


@dataclass(frozen=True)
class Lead:
    """The paragraph a reader sees first (drawn large, in a box)."""

    text: str


@dataclass(frozen=True)
class Bullets:
    """A list of plain-text items under an optional heading."""

    items: tuple[str, ...]
    heading: str = ""


@dataclass(frozen=True)
class Html:
    """Interactive HTML (inline script, no external reference) with a Markdown stand-in.

    ``html`` goes into the HTML report as it is; ``markdown`` (plain text) replaces it
    in the Markdown report, which cannot run a script.
    """

    html: str
    markdown: str


@dataclass(frozen=True)
class Warning_:
    """A paragraph the reader must not miss (drawn as a red box)."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table with a caption.

    A named index (``option``, ``parameter``...) is written as the first column, in
    header cells; an unnamed index (0, 1, 2, ...) is not written.
    """

    frame: pd.DataFrame
    caption: str = ""


@dataclass(frozen=True)
class Image:
    """A rendered figure: PNG bytes, a file stem and a caption."""

    name: str
    png: bytes
    caption: str


Block = Text | Lead | Bullets | Warning_ | Table | Image | Html
"""Any block of a section."""


@dataclass
class Section:
    """A titled section: a list of blocks in order."""

    title: str
    anchor: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    """The report: a title, a subtitle line and its sections."""

    title: str
    subtitle: str
    sections: list[Section] = field(default_factory=list)

    def images(self) -> list[Image]:
        """Every figure of the document, in order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Image)]


def figure_png(fig: Figure, dpi: int = FIGURE_DPI) -> bytes:
    """Render a figure to PNG bytes (white background, no metadata timestamps)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    return buf.getvalue()
