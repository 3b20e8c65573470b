"""Tables that reached a text file flattened, rebuilt into the reader convention (one row a
line, cells joined by TAB, a blank line after the table), so that the segmenter, the
extractors and the linker read them like any other table.

Four flattenings are common on portals, in copied pages and in PDF text:
  piped rows       a row a line, cells joined by ` | ` (often with a trailing `|`)
  a cell a line    every cell on its own line ending in ` |`; the column headings come
                   first, and the width is the one under which each column holds
                   figures in every row or in none
  spaced rows      a row a line, cells apart by spaces, two figures or more a row
                   (`1 城镇新增就业 万人 5.2 7.23 139.1%`); a heading line of words just
                   above is the header (`单 位` letter-spaced is one cell)
  blank-line cells every cell a line, cells apart by one blank line, rows by two
A single piped or spaced line (`2022年12月16日 | 来源:…`) is page chrome or prose, not a
table: a run needs two rows at least.
"""
from __future__ import annotations

from typing import Callable

import regex as re

_PIPE = re.compile(r"\s*\|\s*")
_CELL_LINE = re.compile(r"^[^|\n]{0,60}\s*\|\s*$")
_HAS_FIGURE = re.compile(r"\d")


def _piped_cells(line: str) -> list[str] | None:
    """The cells of a piped row, or None for a line that is not one."""
    body = line.strip()
    if body.count("|") < 2:
        return None
    if body.endswith("|"):
        body = body[:-1].rstrip()
    cells = _PIPE.split(body)
    return cells if len(cells) >= 2 else None


def _rebuild_runs(lines: list[str], cells_of: Callable[[str], list[str] | None],
                  with_header: bool = False) -> list[str]:
    """Runs of two lines or more that cells_of splits into cells become TAB rows and a blank
    line; with_header, a line of headings just above the run becomes its header row and the
    rows get back the blank cells a printed table leaves (see _align)."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        rows = []
        while j < len(lines) and (cells := cells_of(lines[j])) is not None:
            rows.append(cells)
            j += 1
        if len(rows) >= 2:
            head = _header_cells(out[-1]) if with_header and out else None
            if head is not None:
                out[-1] = "\t".join(head)
                rows = [_align(r, head) for r in rows]
            elif not _HAS_FIGURE.search("".join(rows[0])):      # the run's own header row
                rows = rows[:1] + [_align(r, rows[0]) for r in rows[1:]]
            out += ["\t".join(r) for r in rows] + [""]
            i = j
        else:
            out.append(lines[i])
            i += 1
    return out


def _width(cells: list[str]) -> int:
    """How many columns a run of cells has: its headings are the cells before the first
    figure, less the label cells that open the first row (甲区 | 120 | 98.5%). The width
    taken is the one under which every column holds figures in all rows or in none."""
    first = next((k for k, c in enumerate(cells) if _HAS_FIGURE.search(c)), 0)
    best, best_score = 0, -1.0
    for w in range(first, 1, -1):
        rows = [cells[k:k + w] for k in range(w, len(cells) - w + 1, w)]
        if len(rows) < 2:
            continue
        cols = list(zip(*rows))
        score = sum(len({bool(_HAS_FIGURE.search(c)) for c in col}) == 1 for col in cols) / w
        score += 0.5 * (len(cells) % w == 0)            # the run ends with a whole row
        if score > best_score:
            best, best_score = w, score
    return best


def _rebuild_cell_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _CELL_LINE.match(lines[j]):
            j += 1
        cells = [lines[k].strip()[:-1].strip() for k in range(i, j)]
        width = _width(cells)
        if width and j - i >= 2 * width:
            for k in range(0, len(cells), width):
                out.append("\t".join(cells[k:k + width]))
            out.append("")
            i = j
        else:
            out.append(lines[i])
            i += 1
    return out


_FIGURE_TOKEN = re.compile(r"^[-+]?\d[\d,]*(?:\.\d+)?%?$")
_PROSE = re.compile(r"[。，,；;：:！？]")
_LETTER_SPACED = re.compile(r"(?<=^|\s)(\w)\s{1,2}(?=\w(?:\s|$))")


def _spaced_cells(line: str) -> list[str] | None:
    """The cells of a row whose cells stand apart by spaces, or None for prose."""
    tokens = line.split()
    if len(tokens) < 3 or _PROSE.search(line) or "\t" in line:
        return None
    figures = sum(bool(_FIGURE_TOKEN.match(t)) for t in tokens)
    return tokens if figures >= 2 else None


def _header_cells(line: str) -> list[str] | None:
    """A line of column headings: three words or more, no figure, no prose punctuation."""
    if _PROSE.search(line) or re.search(r"\d", line):
        return None
    tokens = _LETTER_SPACED.sub(r"\1", line.strip()).split()
    return tokens if len(tokens) >= 3 else None


def _align(cells: list[str], head: list[str]) -> list[str]:
    """A row with fewer cells than its header lost the ones a printed table leaves blank: the
    序号 of a continuation row, the 单位 of a row that names its unit in its label. Put an
    empty cell back where the row's cell cannot be that column's (a piped continuation row
    may have moved its blank 序号 to the end)."""
    cells = list(cells)
    if head[0] == "序号" and cells and not re.fullmatch(r"\d{1,3}", cells[0]):
        # 新增托位500个 | 新增托位600个 | | : a piped continuation row keeps the width and
        # leaves its blank at the end
        if len(cells) >= len(head) and cells[-1] == "":
            cells = [""] + cells[:-1]
        elif len(cells) < len(head):
            cells.insert(0, "")
    if len(cells) < len(head) and "单位" in head:
        u = head.index("单位")
        if u < len(cells) and _FIGURE_TOKEN.match(cells[u]):
            cells.insert(u, "")
    return cells


def _rebuild_blank_separated(text: str) -> str:
    """Rows of cells apart by one blank line, rows apart by two (a page's table copied as
    text): each row whose cells hold two figures or more becomes a TAB row."""
    if "\n\n\n" not in text:
        return text
    blocks = re.split(r"\n{3,}", text)

    def is_row(b: str) -> bool:
        cells = b.split("\n\n")
        return len(cells) >= 3 and all(c and "\n" not in c and len(c) <= 40 for c in cells) and \
            sum(bool(_FIGURE_TOKEN.match(c.strip())) for c in cells) >= 2

    rows = [is_row(b) for b in blocks]
    # a lone label between two rows (眉山天府新区, a row with no figures) stays in the table
    for k in range(1, len(blocks) - 1):
        if not rows[k] and rows[k - 1] and rows[k + 1] and "\n" not in blocks[k].strip() \
                and len(blocks[k].strip()) <= 20:
            rows[k] = True
    out: list[str] = []
    for k, b in enumerate(blocks):
        if rows[k]:
            b = "\t".join(c.strip() for c in b.split("\n\n"))
        if k:
            out.append("\n" if rows[k] and rows[k - 1] else "\n\n\n")
        out.append(b)
    return "".join(out)


def rebuild(text: str) -> str:
    """The text with its flattened tables rebuilt as TAB rows (other lines untouched)."""
    text = _rebuild_blank_separated(text)
    lines = text.split("\n")
    if "|" in text:
        lines = _rebuild_cell_lines(_rebuild_runs(lines, _piped_cells))
    return "\n".join(_rebuild_runs(lines, _spaced_cells, with_header=True))
