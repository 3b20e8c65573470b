"""A finished run folder OUT -> OUT/report.html, the auditor's page.

One self-contained file (inline CSS and JS, nothing fetched), rendered with Jinja2
(autoescape on; the only pre-built HTML is the evidence, escaped piece by piece
here): the run summary and the counts by city, then the problems (inconsistent checks,
largest relative discrepancy first, then schedule findings that are behind), each with
its evidence and the figures used marked; a cross-document finding lists each value
its documents state. Then an index of every document, and the figures and checks of
the first documents in full.

The page stays small at any size of run: it shows at most MAX_* of each kind, says how
many it left out and which file holds them all (checks.csv, facts.csv, minsheng.xlsx),
and reads the run's files as streams. Reposts (documents.jsonl `duplicate_of`) are
listed in the index; their checks are not counted again.
"""
from __future__ import annotations

import heapq
import re
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from jinja2 import ChainableUndefined, Environment, FileSystemLoader
from markupsafe import Markup, escape

from pipeline.write import iter_jsonl as _read, run_folder

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
    values: list[dict[str, Any]] = field(default_factory=list)   # cross_doc: each value stated
    values_left: int = 0
    detailed: bool = True             # its document's checks are on the page (chk-N exists)

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
    """OUT/texts/<doc>.txt, the last few kept: problems come in order of size, not of
    document, and a run's texts do not fit in memory."""

    def __init__(self, out: Path, keep: int = 64) -> None:
        self.folder = out / "texts"
        self.cache: OrderedDict[str, str | None] = OrderedDict()
        self.keep = keep

    def get(self, doc: str) -> str | None:
        if doc in self.cache:
            self.cache.move_to_end(doc)
            return self.cache[doc]
        p = self.folder / f"{doc}.txt"
        text = p.read_text(encoding="utf-8") if p.is_file() else None
        self.cache[doc] = text
        if len(self.cache) > self.keep:
            self.cache.popitem(last=False)
        return text


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


# What one page holds at most; the rest is counted, and the page says where it is
# (checks.csv, facts.csv, minsheng.xlsx). With these a page stays under ~20 MB
# however many documents the run read.
MAX_PROBLEMS = 400          # inconsistent checks shown, largest relative discrepancy first
MAX_BEHIND = 100            # schedule findings behind, largest first
MAX_DETAILED = 150          # documents whose figures and checks are shown in full
MAX_INDEX = 20000           # rows of the document index
MAX_VALUES = 20             # values listed under one cross-document finding
MAX_VALUE_DOCS = 8          # documents named under one value


DOC_KEYS = ("doc", "status", "error", "format", "script", "city", "province", "year",
            "period_end", "duplicate_of")




class _Top:
    """The `n` largest items by key, in a bounded heap (ties: the earlier first)."""

    def __init__(self, n: int) -> None:
        self.n, self.heap, self.seen = n, [], 0
        self.heap: list[tuple[float, int, dict[str, Any]]]

    def add(self, key: float, seq: int, row: dict[str, Any]) -> None:
        self.seen += 1
        item = (key, -seq, row)
        if len(self.heap) < self.n:
            heapq.heappush(self.heap, item)
        elif item[:2] > self.heap[0][:2]:
            heapq.heapreplace(self.heap, item)

    def rows(self) -> list[tuple[int, dict[str, Any]]]:
        return [(-s, r) for _, s, r in sorted(self.heap, key=lambda t: (-t[0], -t[1]))]


def _trim(c: dict[str, Any]) -> dict[str, Any]:
    """A cross-document finding as the page uses it: its first MAX_VALUES values, each
    with its first MAX_VALUE_DOCS documents (a finding over 2,000 reports lists them all,
    and a few hundred such rows kept whole would be the report's memory)."""
    values = c.get("values")
    if not values:
        return c
    kept = [{**v, "documents": v.get("documents", [])[:MAX_VALUE_DOCS],
             "n_documents": len(v.get("documents", []))} for v in values[:MAX_VALUES]]
    return {**c, "values": kept, "n_values": len(values)}


def _rel_key(c: dict[str, Any]) -> float:
    rel = relative_discrepancy(c)
    return rel if rel is not None else -1.0


def _check_view(c: dict[str, Any], n: int, texts: _Texts, meta: dict[str, dict[str, Any]],
                anchor: Callable[[str], str | None]) -> CheckView:
    doc = str(c.get("doc"))
    m = meta.get(doc, {})
    ev_a = c.get("evidence_a") or str(c.get("evidence") or "").split("\n")[0]
    if c.get("kind") == "cross_doc":
        evidence, marks = _evidence(texts, doc, c.get("start"), c.get("end"), c.get("figures"),
                                    ev_a, [c.get("reported")])
    else:
        evidence, marks = _evidence(texts, doc, c.get("start"), c.get("end"), c.get("figures"),
                                    str(c.get("evidence") or ""), _numbers(c))
    cv = CheckView(id=f"chk-{n}", n=n, row=c, doc_anchor=anchor(doc) or "",
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
        cv.doc_b_anchor = anchor(doc_b)
        values = c.get("values") or []
        cv.values = values[:MAX_VALUES]
        cv.values_left = max(0, int(c.get("n_values") or len(values)) - len(cv.values))
    return cv


def counts_by_city(documents: Iterable[dict[str, Any]],
                   checks: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """city -> documents, reposts, inconsistent, behind: the one definition of these
    counts, which the report and `minsheng compare` both show. A repost's checks are
    its original's and are not counted; a cross-document finding counts for the city
    it names."""
    city: dict[str, str] = {}
    dup: set[str] = set()
    out: dict[str, dict[str, int]] = defaultdict(
        lambda: {"documents": 0, "reposts": 0, "inconsistent": 0, "behind": 0})
    for d in documents:
        c = str(d.get("city") or "")
        city[d["doc"]] = c
        out[c]["documents"] += 1
        if d.get("duplicate_of"):
            dup.add(d["doc"])
            out[c]["reposts"] += 1
    for ch in checks:
        if ch.get("doc") in dup or ch.get("verdict") not in ("inconsistent", "behind"):
            continue
        c = str(ch.get("city") or city.get(str(ch.get("doc")), ""))
        out[c][str(ch["verdict"])] += 1
    return dict(out)


def build_views(out: Path) -> dict[str, Any]:
    """Everything the template shows, computed here so the template stays declarative.
    Reads the run's files as streams and keeps a bounded part of them (see MAX_*), so
    memory and page size stay flat in the number of documents."""
    texts = _Texts(out)
    meta: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for d in _read(out / "documents.jsonl"):
        # only what the page shows: this is kept for every document of the run
        meta[d["doc"]] = {k: d.get(k) for k in DOC_KEYS if d.get(k) is not None}
        order.append(d["doc"])
    dup = {d for d, m in meta.items() if m.get("duplicate_of")}
    ok = [d for d in order if meta[d].get("status") == "ok"]
    detailed = [d for d in ok if d not in dup][:MAX_DETAILED]
    anchors = {d: f"doc-{i}" for i, d in enumerate(order)}
    views = {d: DocView(meta[d], anchors[d]) for d in detailed}

    def anchor(doc: str) -> str | None:
        """A document's details where shown, else its row in the index."""
        if doc in views:
            return anchors[doc]
        return f"idx-{anchors[doc]}" if doc in anchors else None

    n_checks, repost_checks = 0, 0
    verdicts: dict[str, int] = defaultdict(int)
    kinds: dict[str, int] = defaultdict(int)
    per_doc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])   # facts, checks, problems
    problems, behind = _Top(MAX_PROBLEMS), _Top(MAX_BEHIND)
    check_cities, check_years = set(), set()
    all_checks: list[dict[str, Any]] = []     # only rows of the detailed documents
    for n, c in enumerate(_read(out / "checks.jsonl")):
        doc = str(c.get("doc"))
        if doc in dup:
            repost_checks += 1
            continue
        c = _trim(c)
        n_checks += 1
        v, k = str(c.get("verdict") or ""), str(c.get("kind") or "")
        verdicts[v] += 1
        kinds[k] += 1
        per_doc[doc][1] += 1
        if c.get("city"):
            check_cities.add(str(c["city"]))
        if c.get("year") is not None:
            check_years.add(str(c["year"]))
        if v == "inconsistent":
            problems.add(_rel_key(c), n, c)
        elif v == "behind":
            behind.add(_rel_key(c), n, c)
        if v in ("inconsistent", "behind"):
            per_doc[doc][2] += 1
        if doc in views:
            all_checks.append({"n": n, **c})

    shown = [_check_view(c, n, texts, meta, anchor) for n, c in problems.rows()] + \
            [_check_view(c, n, texts, meta, anchor) for n, c in behind.rows()]
    for cv in shown:
        cv.detailed = str(cv.row.get("doc")) in views
    by_n = {cv.n: cv for cv in shown}
    for c in all_checks:
        n = c.pop("n")
        cv = by_n.get(n) or _check_view(c, n, texts, meta, anchor)
        views[str(c.get("doc"))].checks.append(cv)
        if cv.verdict in ("inconsistent", "behind"):
            views[str(c.get("doc"))].problems += 1

    n_facts = 0
    for f in _read(out / "facts.jsonl"):
        doc = f.get("doc")
        if doc in dup:
            continue
        n_facts += 1
        per_doc[doc][0] += 1
        if doc in views:
            views[doc].facts.append(f)
    n_records = sum(1 for r in _read(out / "records.jsonl") if r.get("doc") not in dup)

    failed = [meta[d] for d in order if meta[d].get("status") != "ok"]
    index = [{"row": meta[d], "anchor": anchors[d], "detailed": d in views,
              "facts": per_doc[d][0], "checks": per_doc[d][1], "problems": per_doc[d][2],
              "dup_anchor": anchor(str(meta[d]["duplicate_of"])) if d in dup else None}
             for d in order[:MAX_INDEX]]
    cities = sorted({str(m["city"]) for m in meta.values() if m.get("city")} | check_cities)
    years = sorted({str(m["year"]) for m in meta.values() if m.get("year") is not None}
                   | check_years)
    by_city = counts_by_city(meta.values(), _read(out / "checks.jsonl"))
    return {
        # no timestamp: a re-run over unchanged inputs gives a byte-identical page
        "out": run_folder(out).name,
        "summary": {"documents": len(order), "ok": len(ok), "failed": len(failed),
                    "reposts": len(dup), "repost_checks": repost_checks,
                    "facts": n_facts, "records": n_records,
                    "checks": n_checks, "inconsistent": problems.seen,
                    "behind": behind.seen, "verdicts": sorted(verdicts.items()),
                    "kinds": sorted(kinds.items())},
        "problems": shown,
        "left_out": {"inconsistent": problems.seen - len(problems.heap),
                     "behind": behind.seen - len(behind.heap),
                     "detailed": len([d for d in ok if d not in dup]) - len(views),
                     "index": max(0, len(order) - MAX_INDEX),
                     "failed": max(0, len(failed) - MAX_INDEX)},
        "failed": failed[:MAX_INDEX],
        "docs": [views[d] for d in detailed],
        "index": index,
        "by_city": sorted((c, v) for c, v in by_city.items() if c),
        "cities": cities, "years": years,
        "verdicts": sorted(verdicts), "kinds": sorted(kinds),
    }


def _unit(c: dict[str, Any]) -> str:
    if c.get("kind") in PCT_KINDS:
        return "%"
    return str(c.get("unit") or "")


def _chunks(out: Path) -> Iterator[str]:
    """The page as Jinja generates it, piece by piece."""
    # rows differ in their extra keys (schedule, cross_doc): a missing key renders empty
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = fmt_num
    env.filters["unit"] = _unit
    env.filters["pct"] = lambda x: "—" if x is None else f"{x * 100:.2f}%"
    if not (out / "documents.jsonl").exists():
        raise FileNotFoundError(
            f"{out} has no documents.jsonl: point at the folder a finished `minsheng run -o OUT` wrote")
    return env.get_template("report.html.j2").generate(**build_views(out))


def render(out: Path) -> str:
    return "".join(_chunks(Path(out)))


def write_report(out: Path) -> Path:
    """Render OUT/report.html from the run folder, streamed to the file (the page of a
    large run is never a string in memory); return its path."""
    out = Path(out)
    path = out / "report.html"
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.writelines(_chunks(out))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return path
