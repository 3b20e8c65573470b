"""Tables that reached a text file flattened, rebuilt into the reader convention (one row a
line, cells joined by TAB, a blank line after the table), so that the segmenter, the
extractors and the linker read them like any other table.

Two flattenings are common on portals and in copied pages:
  piped rows       a row a line, cells joined by ` | ` (often with a trailing `|`)
  a cell a line    every cell on its own line ending in ` |`; the first cells, up to the
                   first one that holds a figure, are the column headings, and their
                   count is the width of every row
A single piped line (`2022年12月16日 | 来源:…`) is page chrome, not a table: a run needs
two rows at least.
"""
from __future__ import annotations

import re

_PIPE = re.compile(r"\s*\|\s*")
_CELL_LINE = re.compile(r"^[^|\n]{0,60}\s*\|\s*$")
_HAS_FIGURE = re.compile(r"\d")


def _piped_cells(line: str) -> list[str] | None:
    """The cells of a piped row, or None for a line that is not one."""
    body = line.strip()
    if body.count("|") < 2:
        return None
    if body.endswith("|"):
        body = body[:-1]
    cells = _PIPE.split(body)
    return cells if len(cells) >= 2 else None


def _rebuild_piped(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        rows = []
        while j < len(lines) and (cells := _piped_cells(lines[j])) is not None:
            rows.append("\t".join(cells))
            j += 1
        if len(rows) >= 2:
            out += rows + [""]
            i = j
        else:
            out.append(lines[i])
            i += 1
    return out


def _rebuild_cell_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _CELL_LINE.match(lines[j]):
            j += 1
        cells = [lines[k].strip()[:-1].strip() for k in range(i, j)]
        width = next((k for k, c in enumerate(cells) if _HAS_FIGURE.search(c)), 0)
        if j - i >= 2 * width and width >= 2:
            for k in range(0, len(cells), width):
                out.append("\t".join(cells[k:k + width]))
            out.append("")
            i = j
        else:
            out.append(lines[i])
            i += 1
    return out


def rebuild(text: str) -> str:
    """The text with its flattened tables rebuilt as TAB rows (other lines untouched)."""
    if "|" not in text:
        return text
    lines = text.split("\n")
    return "\n".join(_rebuild_cell_lines(_rebuild_piped(lines)))
