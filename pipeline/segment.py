"""Cut the normalized text into sections (the heading tree), lines, table rows and cells,
and answer "what clause / sentence / section is this offset in" for later stages.

Heading labels and chrome patterns are data (rules/segment.yaml). A table is a run of
tab-separated lines (RawDoc convention); a row whose first cell is a number (序号)
opens a table item, which is a level-3 section titled by its first text cell.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Callable

import regex

from pipeline.types import Section

# The delimiters of each scope. A cell is a table cell (or a whole line outside tables).
SCOPE_DELIMS = {
    "clause": ",，;；:：。！？!?\t\n",
    "semi": ";；。！？!?\t\n",
    "sentence": "。！？!?\t\n",
    "cell": "\t\n",
    "line": "\n",
}


_DELIM_RE = {kind: regex.compile("[" + regex.escape(chars) + "]") for kind, chars in SCOPE_DELIMS.items()}


@dataclass
class Table:
    index: int
    start: int
    end: int
    caption: str
    unit: str | None                 # 万元 / 元 ... for bare numeric cells
    rows: list[tuple[int, int]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)   # column headings (序号, 年度目标, 完成率 ...)
    units: list[tuple[int, str]] = field(default_factory=list)  # (offset, unit) declared in a row

    def unit_at(self, offset: int) -> str | None:
        """The money unit in force at offset: the caption's, or the last one a row declared
        above it (本年收费金额(单位:万元) scales the cells after it, not the counts before)."""
        unit = self.unit
        for at, u in self.units:
            if at <= offset:
                unit = u
        return unit


@dataclass
class Layout:
    text: str
    sections: list[Section]
    boilerplate: list[tuple[int, int]]
    tables: list[Table]
    _delims: dict[str, list[int]] = field(default_factory=dict)
    # lookups built on first use (section_at, children, table_at, in_title): a long text
    # has thousands of sections and tables, asked about once per figure
    _index: dict[str, tuple] = field(default_factory=dict, repr=False, compare=False)

    def lines_after(self, offset: int, n: int) -> int:
        """The end of the n-th line after the one offset is in (the text's end if fewer)."""
        pos = self._delims["line"]
        i = bisect.bisect_left(pos, offset) + n
        return pos[i] if i < len(pos) else len(self.text)

    def scope(self, offset: int, kind: str, end: int | None = None) -> tuple[int, int]:
        """The span of the clause/semi/sentence/cell/line around [offset, end)."""
        pos = self._delims[kind]
        end = offset if end is None else end
        i = bisect.bisect_left(pos, offset)
        start = pos[i - 1] + 1 if i > 0 else 0
        j = bisect.bisect_left(pos, end)
        stop = pos[j] if j < len(pos) else len(self.text)
        return start, stop

    def section_at(self, offset: int) -> Section:
        """The innermost section containing offset."""
        best = self.sections[0]
        # only the sections around offset, in list order (a scan of all of them per figure
        # made a long text's cost grow with its square)
        for s in self.sections_around(offset):
            if s.level >= best.level and s.start >= best.start:
                best = s
        return best

    def sections_around(self, offset: int, titles: bool = False) -> list[Section]:
        """The sections whose span holds offset, in list order; with titles, a title
        that runs past its section's end counts as part of it (max(end, title_end + 1))."""
        idx = self._stab("titles" if titles else "sections")
        i = bisect.bisect_right(idx[0], offset) - 1
        return idx[1][i] if i >= 0 else []

    def _stab(self, kind: str) -> tuple[list[int], list[list[Section]]]:
        """A stabbing index over the section spans: the boundaries, and for each stretch
        between two boundaries the sections that cover it. Built once, after segment()
        has finished the sections (rebuilt if their number changed)."""
        key = (kind, len(self.sections))
        cached = self._index.get(kind)
        if cached is not None and cached[0] == key:
            return cached[1]
        if kind == "titles":
            spans = [(s.start, max(s.end, s.title_end + 1), s) for s in self.sections]
        else:
            spans = [(s.start, s.end, s) for s in self.sections]
        spans = [(a, b, s) for a, b, s in spans if a < b]
        bounds = sorted({a for a, _, _ in spans} | {b for _, b, _ in spans})
        starts: dict[int, list[int]] = {}
        ends: dict[int, list[int]] = {}
        for k, (a, b, _) in enumerate(spans):
            starts.setdefault(a, []).append(k)
            ends.setdefault(b, []).append(k)
        active: set[int] = set()
        covers: list[list[Section]] = []
        for x in bounds:
            active.difference_update(ends.get(x, ()))
            active.update(starts.get(x, ()))
            covers.append([spans[k][2] for k in sorted(active)])   # list order (k is)
        self._index[kind] = (key, (bounds, covers))
        return bounds, covers

    def in_title(self, start: int, end: int) -> bool:
        """Whether [start, end) lies within a heading's title (level > 0)."""
        return self._covered("title_max", len(self.sections),
                             lambda: [(s.start, s.title_end) for s in self.sections if s.level > 0],
                             start, end)

    def _covered(self, name: str, size: int, spans: Callable[[], list[tuple[int, int]]],
                 start: int, end: int) -> bool:
        """Whether [start, end) lies within one of the spans: the spans sorted by start, each
        with the furthest end of any span starting so far, built once (rebuilt when size moves)."""
        cached = self._index.get(name)
        if cached is None or cached[0] != (name, size):
            ordered = sorted(spans())
            reach, m = [], -1
            for _, b in ordered:
                m = max(m, b)
                reach.append(m)
            cached = self._index[name] = ((name, size), ([a for a, _ in ordered], reach))
        starts, reach = cached[1]
        i = bisect.bisect_right(starts, start)
        return i > 0 and reach[i - 1] >= end

    def ancestors(self, sec: Section) -> list[Section]:
        out = []
        while sec.parent is not None:
            sec = self.sections[sec.parent]
            out.append(sec)
        return out

    def outer_item(self, offset: int) -> Section | None:
        """The outermost project item (1., ①, a table item: level 3 and deeper) around
        offset, if the offset is inside one."""
        sec = self.section_at(offset)
        items = [s for s in [sec, *self.ancestors(sec)] if s.level >= 3]
        return items[-1] if items else None

    def children(self, sec: Section) -> list[Section]:
        return list(self._children().get(sec.index, ()))

    def first_child_start(self, sec: Section) -> int:
        """Where the first sub-heading of sec starts (sec.end when it has none)."""
        self._children()
        return self._index["first_child"].get(sec.index, sec.end)

    def _children(self) -> dict[int | None, list[Section]]:
        key = ("children", len(self.sections))
        cached = self._index.get("children")
        if cached is None or cached[0] != key:
            by_parent: dict[int | None, list[Section]] = {}
            for s in self.sections:
                by_parent.setdefault(s.parent, []).append(s)
            cached = self._index["children"] = (key, by_parent)
            self._index["first_child"] = {p: min(c.start for c in kids)
                                          for p, kids in by_parent.items()}
        return cached[1]

    def in_boilerplate(self, start: int, end: int) -> bool:
        return self._covered("boiler", len(self.boilerplate), lambda: list(self.boilerplate), start, end)

    def table_at(self, offset: int) -> Table | None:
        key = ("tables", len(self.tables))
        cached = self._index.get("tables")
        if cached is None or cached[0] != key:
            ts = self.tables
            # tables come in text order without overlapping: bisect; otherwise scan
            ordered = all(a.end <= b.start for a, b in zip(ts, ts[1:]))
            cached = self._index["tables"] = (key, [t.start for t in ts] if ordered else None)
        starts = cached[1]
        if starts is None:
            return next((t for t in self.tables if t.start <= offset < t.end), None)
        i = bisect.bisect_right(starts, offset) - 1
        t = self.tables[i] if i >= 0 else None
        return t if t is not None and t.start <= offset < t.end else None

    def column_header(self, offset: int) -> str | None:
        """The heading of the table column that offset is in, if the table has one."""
        t = self.table_at(offset)
        if t is None or not t.header:
            return None
        line_start = self.text.rfind("\n", 0, offset) + 1
        if line_start == t.rows[0][0]:
            return None                  # the header row itself
        col = self.text.count("\t", line_start, offset)
        return t.header[col] if col < len(t.header) else None


def segment(text: str, conf: dict) -> Layout:
    """Build the Layout of a normalized text. conf is rules/segment.yaml."""
    heads = [(h["level"], regex.compile(h["pattern"], regex.V1)) for h in conf["headings"]]
    inline = [(h["level"], regex.compile(h["pattern"], regex.V1)) for h in conf["inline"]]
    title_end = regex.compile(conf["title_end"], regex.V1)
    inline_title_end = regex.compile(conf["inline_title_end"], regex.V1)
    item_re = regex.compile(conf["table_item"], regex.V1)
    unit_re = regex.compile(conf["table_unit"], regex.V1)
    chrome = regex.compile(conf["boilerplate_line"], regex.V1)
    tail = regex.compile(conf["boilerplate_tail"], regex.V1)
    header_re = regex.compile(conf["table_header"], regex.V1)
    caption_like = regex.compile(r"^\s*(?:附件|附表|表\s*\d|图\s*\d)|表\s*$|单位[:：]", regex.V1)
    total_row = regex.compile(conf["table_total_row"], regex.V1)

    root = Section(index=0, label="", level=0, title="", start=0, title_end=0, end=len(text))
    sections = [root]
    boiler: list[tuple[int, int]] = []
    tables: list[Table] = []
    stack = [root]                      # open sections, innermost last

    def open_section(level: int, label: str, start: int, title: str, title_end_: int, end: int | None = None):
        while stack[-1].level >= level and stack[-1].level > 0:
            closed = stack.pop()
            if closed.end == len(text):
                closed.end = start
        parent = stack[-1]
        sec = Section(index=len(sections), label=label, level=level, title=title.strip(),
                      start=start, title_end=title_end_, end=end if end is not None else len(text),
                      parent=parent.index)
        sections.append(sec)
        if end is None:
            stack.append(sec)
        return sec

    def close_items(at: int) -> None:
        # a table item ends with its table
        while stack[-1].level >= 3 and stack[-1].label.isdigit():
            closed = stack.pop()
            closed.end = min(closed.end, at)

    pos = 0
    lines = text.split("\n")
    last_caption = ""
    prev_was_table = False
    last_row_line = -100
    table: Table | None = None
    tail_from: int | None = None
    # A short line between two table rows is a cell's text that a PDF page or a wrap cut
    # out of its row: it stays inside the table instead of ending it.
    fragment = set()
    for k in range(1, len(lines) - 1):
        ln = lines[k].strip()
        if ln and "\t" not in lines[k] and len(ln) <= 20 and "\t" in lines[k - 1] and "\t" in lines[k + 1]:
            fragment.add(k)
    for k, line in enumerate(lines):
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if k in fragment and table is not None:
            table.end = end
            table.rows.append((start, end))
            continue
        if tail_from is None and stripped and tail.search(stripped) and start > len(text) * 0.3:
            tail_from = start
        if tail_from is not None:
            continue
        if stripped and chrome.search(stripped):
            boiler.append((start, end))
            continue
        if "\t" in line:
            if table is None:
                # a table right after another one, with only blank lines or cut-out cell
                # fragments between them, continues it: same caption, unit and header
                gap = lines[last_row_line + 1:k] if last_row_line >= 0 else ["x" * 99]
                cont = bool(tables) and (prev_was_table or (
                    len(gap) <= 60 and all(len(g.strip()) <= 20 and not caption_like.search(g) for g in gap)))
                cap = tables[-1].caption if cont else last_caption
                m = unit_re.search(cap)
                table = Table(index=len(tables), start=start, end=end, caption=cap,
                              unit=(m.group("unit") or m.group("unit2")) if m else None)
                if cont:
                    table.unit = table.unit or tables[-1].unit
                    table.header = list(tables[-1].header)
                tables.append(table)
            last_row_line = k
            table.end = end
            table.rows.append((start, end))
            cells = line.split("\t")
            if len(table.rows) == 1 and (header_re.search(line) or not regex.search(r"\d", line)
                                         and not table.header):
                table.header = [c.strip() for c in cells]
            m = unit_re.search(line)
            if m:
                if len(table.rows) == 1 and table.unit is None:
                    table.unit = m.group("unit") or m.group("unit2")
                else:
                    table.units.append((start, m.group("unit") or m.group("unit2")))
            first = cells[0].strip()
            if total_row.match(first):
                close_items(start)           # 合计 belongs to the table, not to its last item
            elif item_re.match(first):
                # the item's title: its first cell with text after the number
                off = start + len(cells[0]) + 1
                title, t_start = "", off
                for c in cells[1:]:
                    if c.strip():
                        title, t_start = c.strip(), off
                        break
                    off += len(c) + 1
                # a table item sits under the section the table is in
                while stack[-1].level >= 3:
                    closed = stack.pop()
                    if closed.end == len(text):
                        closed.end = start
                open_section(3, first, start, title, t_start + len(title))
            continue
        if not stripped:
            if table is not None:
                close_items(start)
                table = None
                prev_was_table = True
            continue
        if table is not None:
            close_items(start)
            table = None
        prev_was_table = False
        # a paragraph: a heading label opens a section
        for level, rx in heads:
            m = rx.match(stripped)
            if m:
                lead = len(line) - len(line.lstrip())
                label_end = start + lead + m.end()
                rest = text[label_end:end]
                te = title_end.search(rest)
                t_end = label_end + (te.start() if te else len(rest))
                open_section(level, m.group(0), start + lead, text[label_end:t_end], t_end)
                break
        else:
            # a short line just after a table is a cut-out cell, not the next caption
            if len(stripped) < 60 and not (k - last_row_line <= 60 and len(stripped) <= 20
                                           and not caption_like.search(stripped)):
                last_caption = stripped
        # inline labels (① ... ②, 一是 ... 二是) open sections that end with the line
        marks = []
        for level, rx in inline:
            for m in rx.finditer(line):
                if m.start() == 0 and level == 4:
                    continue            # a line-start ① is a line heading, handled above
                marks.append((start + m.start(), level, m.group(0)))
        marks.sort()
        for k, (off, level, label) in enumerate(marks):
            nxt = [o for o, lv, _ in marks[k + 1:] if lv <= level]
            sec_end = nxt[0] if nxt else end
            label_end = off + len(label)
            te = inline_title_end.search(text, label_end, sec_end)
            t_end = te.start() if te else sec_end
            parent = stack[-1]
            # an inline section nests under the innermost open section, or under an
            # earlier inline section of a lower level on the same line
            for s in reversed(sections):
                if s.start <= off < s.end and s.level < level and s.start >= parent.start:
                    parent = s
                    break
            sections.append(Section(index=len(sections), label=label, level=level,
                                    title=text[label_end:t_end].strip(), start=off,
                                    title_end=t_end, end=sec_end, parent=parent.index))
    if tail_from is not None:
        boiler.append((tail_from, len(text)))
        for s in sections:
            s.end = min(s.end, tail_from)
    layout = Layout(text=text, sections=sections, boilerplate=boiler, tables=tables)
    for kind, chars in SCOPE_DELIMS.items():
        layout._delims[kind] = [m.start() for m in _DELIM_RE[kind].finditer(text)]
    return layout
