"""A finished run folder OUT -> OUT/report.html, the auditor's page.

One self-contained file (inline CSS and JS, nothing fetched), rendered with Jinja2
(autoescape on; the only pre-built HTML is the evidence, escaped piece by piece
here): the run summary, then every problem (inconsistent checks, largest relative
discrepancy first, then schedule findings that are behind), each with its evidence
and the figures used marked, then each document's figures and checks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, Environment, FileSystemLoader
from markupsafe import Markup, escape

from pipeline.export import load_run

TEMPLATES = Path(__file__).resolve().parent / "templates"
CONTEXT = 24          # characters shown around a figure that lies outside the evidence span
MAX_SNIPPET = 1200    # an evidence span longer than this is cut around its figures
PCT_KINDS = {"ratio", "schedule"}


@dataclass
class CheckView:
    """One check as the page shows it."""
    id: str
    n: int
    row: dict[str, Any]
    doc_anchor: str
    city: str
    year: str
    evidence: Markup
    evidence_b: Markup | None = None
    doc_b_anchor: str | None = None
    rel: float | None = None          # relative discrepancy, for the order of problems
    marks: int = 0
    section: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.row.get("kind") or "")

    @property
    def verdict(self) -> str:
        return str(self.row.get("verdict") or "")


@dataclass
class DocView:
    row: dict[str, Any]
    anchor: str
    facts: list[dict[str, Any]] = field(default_factory=list)
    checks: list[CheckView] = field(default_factory=list)
    problems: int = 0


def _num(x: Any) -> Decimal | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        return Decimal(str(x))
    except (InvalidOperation, ValueError):
        return None


def fmt_num(x: Any) -> str:
    """A figure as a person writes it: no trailing .0, thousands unseparated (as in the reports)."""
    d = _num(x)
    if d is None:
        return "—" if x is None else str(x)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def relative_discrepancy(c: dict[str, Any]) -> float | None:
    """|reported - computed| / |reported|: how far off, comparable across units."""
    rep, comp, disc = _num(c.get("reported")), _num(c.get("computed")), _num(c.get("discrepancy"))
    if disc is None and rep is not None and comp is not None:
        disc = abs(rep - comp)
    if disc is None:
        return None
    base = abs(rep) if rep not in (None, 0) else (abs(comp) if comp not in (None, 0) else Decimal(1))
    return float(disc / base)


def _spans(figures: Any) -> list[tuple[int, int]]:
    out = []
    for f in figures or []:
        if isinstance(f, (list, tuple)) and len(f) == 2 and all(isinstance(v, int) for v in f) and f[0] < f[1]:
            out.append((f[0], f[1]))
    return sorted(out)


def _windows(start: int, end: int, figs: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """The stretches of text to show: the evidence span and, for a figure used outside
    it (a total stated a paragraph earlier), a little context around that figure."""
    wins: list[tuple[int, int]] = []
    if end - start > MAX_SNIPPET and figs:
        wins += [(max(0, s - 3 * CONTEXT), min(n, e + 3 * CONTEXT)) for s, e in figs]
    else:
        wins.append((start, end))
    for s, e in figs:
        if not any(ws <= s and e <= we for ws, we in wins):
            wins.append((max(0, s - CONTEXT), min(n, e + CONTEXT)))
    wins.sort()
    merged: list[tuple[int, int]] = []
    for s, e in wins:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def highlight(text: str, start: int, end: int, figures: Any) -> tuple[Markup, int]:
    """The evidence span of `text` with each figure in <mark>; (html, number of marks)."""
    figs = [(s, e) for s, e in _spans(figures) if e <= len(text)]
    pieces: list[str] = []
    marks = 0
    for k, (ws, we) in enumerate(_windows(start, end, figs, len(text))):
        if k:
            pieces.append('<span class="gap"> … </span>')
        pos = ws
        for s, e in figs:
            s, e = max(s, ws), min(e, we)
            if s >= e or s < pos:
                continue
            pieces.append(str(escape(text[pos:s])))
            pieces.append(f"<mark>{escape(text[s:e])}</mark>")
            marks += 1
            pos = e
        pieces.append(str(escape(text[pos:we])))
    return Markup(_table_cells("".join(pieces))), marks


def _table_cells(html: str) -> str:
    """Table rows come as TAB-joined cells, mostly empty in merged-cell tables: show one
    separator between cells that hold something."""
    html = re.sub(r"(?m)^[\t ]+|[\t ]+$", "", html)
    return re.sub(r"\s*\t[\t ]*", " │ ", html)


def _number_rx(numbers: list[Any]) -> re.Pattern[str] | None:
    pats = sorted({fmt_num(x) for x in numbers if _num(x) is not None}, key=len, reverse=True)
    if not pats:
        return None
    return re.compile(r"(?<![\d.])(?:" + "|".join(re.escape(p) for p in pats) + r")(?![\d])")


def find_numbers(text: str, start: int, end: int, numbers: list[Any]) -> list[tuple[int, int]]:
    """Offsets of the check's own numbers inside text[start:end], for a check that came
    without `figures`."""
    rx = _number_rx(numbers)
    return [(start + m.start(), start + m.end()) for m in rx.finditer(text[start:end])] if rx else []


def highlight_numbers(evidence: str, numbers: list[Any]) -> tuple[Markup, int]:
    """Fallback when the document text or the offsets are missing: mark where the
    check's own numbers occur in its evidence string."""
    rx = _number_rx(numbers)
    if rx is None:
        return Markup(escape(evidence)), 0
    pieces, pos, marks = [], 0, 0
    for m in rx.finditer(evidence):
        pieces.append(str(escape(evidence[pos:m.start()])))
        pieces.append(f"<mark>{escape(m.group())}</mark>")
        pos, marks = m.end(), marks + 1
    pieces.append(str(escape(evidence[pos:])))
    return Markup("".join(pieces)), marks


# Numbering labels that open a section, outermost first (the reader keeps them at the
# start of their paragraph): 一、 （一） 1. ①
_HEADINGS = [re.compile(r"[一二三四五六七八九十]{1,3}、"), re.compile(r"[（(][一二三四五六七八九十]{1,3}[)）]"),
             re.compile(r"\d{1,2}[.．、](?!\d)"), re.compile(r"[①-⑳]")]
HEADING_CHARS = 36
_ANNEX = re.compile(r"附件\s*[0-9一二三四五六七八九十]*\s*$")


def section_path(text: str, offset: int) -> list[str]:
    """The headings (一、 > （一） > 1.) above `offset`: where in the document a check sits."""
    stack: list[tuple[int, str]] = []
    pos = 0
    # up to the end of the check's own line: a heading that opens it is where the check sits
    line_end = text.find("\n", offset)
    for line in text[:line_end if line_end >= 0 else len(text)].split("\n"):
        here, pos = pos, pos + len(line) + 1
        s = line.strip()
        if _ANNEX.match(s):
            stack = [(-1, s)]  # an annex (附件) starts afresh: the letter's headings end there
            continue
        if "\t" in line or not s:
            continue  # table rows are items, not sections
        for level, rx in enumerate(_HEADINGS):
            if rx.match(s):
                if level == 3 and here <= offset < pos:
                    break  # a ① clause inside the check's own line is the evidence, not a heading
                stack = [(lv, t) for lv, t in stack if lv < level]
                title = re.split(r"[。;；]", s, maxsplit=1)[0]
                stack.append((level, title[:HEADING_CHARS] + ("…" if len(title) > HEADING_CHARS else "")))
                break
    return [t for _, t in stack]


class _Texts:
    """OUT/texts/<doc>.txt, read once each."""

    def __init__(self, out: Path) -> None:
        self.folder = out / "texts"
        self.cache: dict[str, str | None] = {}

    def get(self, doc: str) -> str | None:
        if doc not in self.cache:
            p = self.folder / f"{doc}.txt"
            self.cache[doc] = p.read_text(encoding="utf-8") if p.is_file() else None
        return self.cache[doc]


def _evidence(texts: _Texts, doc: str, start: Any, end: Any, figures: Any, fallback: str,
              numbers: list[Any]) -> tuple[Markup, int]:
    text = texts.get(doc)
    if text is not None and isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
        if not _spans(figures):
            figures = find_numbers(text, start, end, numbers)
        html, marks = highlight(text, start, end, figures)
        if marks or not figures:
            return html, marks
    return highlight_numbers(fallback, numbers)


def _numbers(c: dict[str, Any]) -> list[Any]:
    return [c.get("reported"), c.get("computed"), c.get("numerator"), c.get("denominator"),
            *(c.get("parts") or [])]


def build_views(tables: dict[str, list[dict[str, Any]]], out: Path) -> dict[str, Any]:
    """Everything the template shows, computed here so the template stays declarative."""
    texts = _Texts(out)
    docs = tables["documents"]
    anchor = {d["doc"]: f"doc-{i}" for i, d in enumerate(docs)}
    meta = {d["doc"]: d for d in docs}
    views = {d["doc"]: DocView(d, anchor[d["doc"]]) for d in docs}

    for f in tables["facts"]:
        if f.get("doc") in views:
            views[f["doc"]].facts.append(f)

    checks: list[CheckView] = []
    for n, c in enumerate(tables["checks"]):
        doc = str(c.get("doc"))
        m = meta.get(doc, {})
        ev_a = c.get("evidence_a") or str(c.get("evidence") or "").split("\n")[0]
        if c.get("kind") == "cross_doc":
            evidence, marks = _evidence(texts, doc, c.get("start"), c.get("end"), c.get("figures"),
                                        ev_a, [c.get("reported")])
        else:
            evidence, marks = _evidence(texts, doc, c.get("start"), c.get("end"), c.get("figures"),
                                        str(c.get("evidence") or ""), _numbers(c))
        cv = CheckView(id=f"chk-{n}", n=n, row=c, doc_anchor=anchor.get(doc, ""),
                       city=str(m.get("city") or c.get("city") or ""),
                       year=str(m.get("year") or c.get("year") or ""),
                       evidence=evidence, rel=relative_discrepancy(c), marks=marks)
        text = texts.get(doc)
        if text is not None and isinstance(c.get("start"), int):
            cv.section = section_path(text, c["start"])
        if c.get("kind") == "cross_doc" and c.get("doc_b"):
            doc_b = str(c["doc_b"])
            lines = str(c.get("evidence") or "").split("\n")
            ev_b = c.get("evidence_b") or (lines[1] if len(lines) > 1 else "")
            cv.evidence_b, mb = _evidence(texts, doc_b, c.get("start_b"), c.get("end_b"),
                                          c.get("figures_b"), ev_b,
                                          [c.get("computed"), c.get("target_b")])
            cv.marks += mb
            cv.doc_b_anchor = anchor.get(doc_b)
        checks.append(cv)
        if doc in views:
            views[doc].checks.append(cv)
            if cv.verdict in ("inconsistent", "behind"):
                views[doc].problems += 1

    def order(cv: CheckView) -> tuple[float, int]:
        return (-(cv.rel if cv.rel is not None else -1.0), cv.n)

    inconsistent = sorted((c for c in checks if c.verdict == "inconsistent"), key=order)
    behind = sorted((c for c in checks if c.verdict == "behind"), key=order)

    verdicts: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for c in checks:
        verdicts[c.verdict] = verdicts.get(c.verdict, 0) + 1
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    ok = [d for d in docs if d.get("status") == "ok"]
    failed = [d for d in docs if d.get("status") != "ok"]
    cities = sorted({str(d["city"]) for d in docs if d.get("city")}
                    | {c.city for c in checks if c.city})
    years = sorted({str(d["year"]) for d in docs if d.get("year") is not None}
                   | {c.year for c in checks if c.year})
    return {
        # no timestamp: a re-run over unchanged inputs gives a byte-identical page
        "out": out.resolve().name,
        "summary": {"documents": len(docs), "ok": len(ok), "failed": len(failed),
                    "facts": len(tables["facts"]), "records": len(tables["records"]),
                    "checks": len(checks), "inconsistent": len(inconsistent),
                    "behind": len(behind), "verdicts": sorted(verdicts.items()),
                    "kinds": sorted(kinds.items())},
        "problems": inconsistent + behind,
        "failed": failed,
        "docs": [views[d["doc"]] for d in ok],
        "cities": cities, "years": years,
        "verdicts": sorted(verdicts), "kinds": sorted(kinds),
    }


def _unit(c: dict[str, Any]) -> str:
    if c.get("kind") in PCT_KINDS:
        return "%"
    return str(c.get("unit") or "")


def render(out: Path) -> str:
    # rows differ in their extra keys (schedule, cross_doc): a missing key renders empty
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = fmt_num
    env.filters["unit"] = _unit
    env.filters["pct"] = lambda x: "—" if x is None else f"{x * 100:.2f}%"
    tables = load_run(out)
    return env.get_template("report.html.j2").render(**build_views(tables, out))


def write_report(out: Path) -> Path:
    """Render OUT/report.html from the run folder; return its path."""
    out = Path(out)
    html = render(out)
    path = out / "report.html"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
