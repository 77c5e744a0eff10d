"""Render a :class:`~kursk_da.report._document.Document` as HTML or Markdown.

The HTML is self-contained: figures are ``data:image/png;base64`` URIs, the style sheet
and the weight explorer's script are inline, and there is no external script, font, link
or other reference, so the file opens offline. The Markdown refers to the PNG files
written beside it.

Table cells: booleans (and numpy booleans) print as yes/no, numbers with thousands
separators; an unnamed index (0, 1, 2, ...) is not printed.
"""

from __future__ import annotations

import base64
import html
import math
import re

import numpy as np
import pandas as pd

from kursk_da.report._document import Bullets, Document, Html, Image, Lead, Table, Text, Warning_

__all__ = ["render_html", "render_markdown", "image_filename"]

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 1em 2em; color: #1d1d1d; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.1em; }
h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
.subtitle { color: #555; margin-top: 0; }
.warning { background: #fde8e8; border: 2px solid #c0392b; color: #7b1f1f; padding: 0.8em 1em;
           font-weight: bold; border-radius: 4px; }
.table-wrap { max-width: 100%; overflow-x: auto; margin: 0.5em 0 1.5em 0; }
table { border-collapse: collapse; font-size: 0.85em; }
caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 0.3em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0 2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9em; }
nav ul { columns: 3; font-size: 0.9em; margin: 0.3em 0; }
.lead { font-size: 1.2em; background: #eef4fb; border-left: 6px solid #1f5fa8;
        padding: 0.7em 1em; margin: 0.6em 0; }
section#brief h2 { margin-top: 0.6em; }
h3 { font-size: 1em; margin: 0.8em 0 0.2em 0; }
ul.bullets { margin-top: 0.2em; }
.explorer { border: 1px solid #bbb; border-radius: 4px; padding: 0.5em 1em; background: #fafafa; }
.kd-sliders { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr));
              gap: 0.3em 1.5em; }
.kd-slider label { display: block; font-size: 0.85em; }
.kd-slider input { width: 70%; vertical-align: middle; }
.kd-slider output { font-variant-numeric: tabular-nums; margin-left: 0.5em; }
"""

_NUMERIC = re.compile(r"^[-+]?[\d,]*\.?\d+( ± [\d,]*\.?\d+)?%?$")


def image_filename(img: Image) -> str:
    """File name of a figure beside the Markdown report."""
    return f"{img.name}.png"


def _cell(value: object) -> tuple[str, bool]:
    if isinstance(value, bool | np.bool_):
        return ("yes" if value else "no"), False
    if isinstance(value, np.integer):
        value = int(value)
    elif isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ("" if math.isnan(value) else str(value)), True
        if value == round(value) and abs(value) < 1e15:
            return f"{value:,.0f}", True
        return (f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.1f}"), True
    if isinstance(value, int):
        return f"{value:,}", True
    text = str(value)
    return text, bool(_NUMERIC.match(text))


def _has_index(frame: pd.DataFrame) -> bool:
    """Whether the index is worth printing (named, or not a plain 0..n-1 range)."""
    if frame.index.name is not None:
        return True
    return not (isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0
                and frame.index.step == 1)


def _html_table(t: Table) -> str:
    frame = t.frame
    index = _has_index(frame)
    head = "".join(f"<th>{html.escape(str(c))}</th>"
                   for c in ([frame.index.name or ""] if index else []) + list(frame.columns))
    rows = []
    for idx, row in frame.iterrows():
        cells = [f"<th>{html.escape(str(idx))}</th>"] if index else []
        for v in row.tolist():
            text, num = _cell(v)
            cells.append(f"<td class=\"num\">{html.escape(text)}</td>" if num
                         else f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(t.caption)}</caption>" if t.caption else ""
    # wide tables wrap their cells and, if still too wide, scroll inside the page width
    return (f"<div class=\"table-wrap\"><table>{cap}<thead><tr>{head}</tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table></div>")


def render_html(doc: Document) -> str:
    """The report as one self-contained HTML page."""
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           f"<title>{html.escape(doc.title)}</title>", f"<style>{_CSS}</style></head><body>",
           f"<h1>{html.escape(doc.title)}</h1>",
           f"<p class=\"subtitle\">{html.escape(doc.subtitle)}</p>"]
    nav = ["<nav><ul>"] + [f"<li><a href=\"#{s.anchor}\">{html.escape(s.title)}</a></li>"
                           for s in doc.sections] + ["</ul></nav>"]
    if not doc.sections or doc.sections[0].anchor != "brief":
        out += nav  # the brief comes first; the contents follow it
    for i, sec in enumerate(doc.sections):
        if i == 1 and doc.sections[0].anchor == "brief":
            out += nav
        out.append(f"<section id=\"{sec.anchor}\"><h2>{html.escape(sec.title)}</h2>")
        for b in sec.blocks:
            if isinstance(b, Html):
                out.append(b.html)
            elif isinstance(b, Lead):
                out.append(f"<p class=\"lead\" id=\"lead\">{html.escape(b.text)}</p>")
            elif isinstance(b, Bullets):
                if b.heading:
                    out.append(f"<h3>{html.escape(b.heading)}</h3>")
                out.append("<ul class=\"bullets\">" + "".join(
                    f"<li>{html.escape(x)}</li>" for x in b.items) + "</ul>")
            elif isinstance(b, Warning_):
                out.append(f"<p class=\"warning\">{html.escape(b.text)}</p>")
            elif isinstance(b, Text):
                out.append(f"<p>{html.escape(b.text)}</p>")
            elif isinstance(b, Table):
                out.append(_html_table(b))
            elif isinstance(b, Image):
                data = base64.b64encode(b.png).decode("ascii")
                out.append(f"<figure id=\"fig-{b.name}\"><img alt=\"{html.escape(b.caption)}\" "
                           f"src=\"data:image/png;base64,{data}\">"
                           f"<figcaption>{html.escape(b.caption)}</figcaption></figure>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*[]|"})


def _md_escape(text: str) -> str:
    """Plain text (a spec's description, source, names...) safe inside Markdown.

    HTML is escaped (``<script>`` becomes ``&lt;script&gt;``, so no tag of a spec string
    reaches a Markdown renderer), and so are the Markdown characters that would make
    links, emphasis, code or table cells (``\\ ` * [ ] |``); newlines become spaces.
    The text renders as it reads, the same as in the HTML report.
    """
    return html.escape(text, quote=False).translate(_MD_SPECIAL).replace("\r", " ").replace(
        "\n", " ")


def _md_table(t: Table) -> str:
    frame: pd.DataFrame = t.frame
    index = _has_index(frame)
    cols = ([str(frame.index.name or "")] if index else []) + [str(c) for c in frame.columns]
    lines = []
    if t.caption:
        lines += [f"**{_md_escape(t.caption)}**", ""]
    lines.append("| " + " | ".join(_md_escape(c) for c in cols) + " |")
    lines.append("|" + "|".join("---" for _ in cols) + "|")
    for idx, row in frame.iterrows():
        cells = ([str(idx)] if index else []) + [_cell(v)[0] for v in row.tolist()]
        lines.append("| " + " | ".join(_md_escape(c) for c in cells) + " |")
    return "\n".join(lines)


def render_markdown(doc: Document) -> str:
    """The report as Markdown; figures are linked as ``<name>.png`` beside the file.

    Every text of the document is plain text and escaped (:func:`_md_escape`).
    """
    out = [f"# {_md_escape(doc.title)}", "", f"*{_md_escape(doc.subtitle)}*", ""]
    out += [f"- [{_md_escape(s.title)}](#{s.anchor})" for s in doc.sections]
    for sec in doc.sections:
        out += ["", f"<a id=\"{html.escape(sec.anchor)}\"></a>", f"## {_md_escape(sec.title)}", ""]
        for b in sec.blocks:
            if isinstance(b, Html):
                out += [_md_escape(b.markdown), ""]
            elif isinstance(b, Lead):
                out += [f"**{_md_escape(b.text)}**", ""]
            elif isinstance(b, Bullets):
                if b.heading:
                    out += [f"**{_md_escape(b.heading)}**", ""]
                out += [f"- {_md_escape(x)}" for x in b.items] + [""]
            elif isinstance(b, Warning_):
                out += [f"> **{_md_escape(b.text)}**", ""]
            elif isinstance(b, Text):
                out += [_md_escape(b.text), ""]
            elif isinstance(b, Table):
                out += [_md_table(b), ""]
            elif isinstance(b, Image):
                out += [f"![{_md_escape(b.caption)}]({image_filename(b)})", "",
                        f"*{_md_escape(b.caption)}*", ""]
    return "\n".join(out).rstrip() + "\n"
