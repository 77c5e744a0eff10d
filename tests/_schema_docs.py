"""The documented result-set schema (docs/resultset.md), for the tests that hold it to the code."""

from __future__ import annotations

from pathlib import Path

__all__ = ["documented"]

DOC = Path(__file__).resolve().parents[1] / "docs" / "resultset.md"


def documented(group: str) -> set[str]:
    """Variable names listed in the table of ``group`` in docs/resultset.md."""
    text = DOC.read_text()
    head = f"### `{group}`"
    assert head in text, f"docs/resultset.md has no section {head}"
    body = text.split(head, 1)[1].split("\n### ", 1)[0]
    return {line.split("`")[1] for line in body.splitlines() if line.startswith("| `")}
