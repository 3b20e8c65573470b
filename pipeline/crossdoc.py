"""Cross-document check: one city, one year, one project, two documents, two targets.

A notice (通知) sets the year's targets, often as a per-county table; a later
progress report (进展情况的报告) restates them. When the two disagree (运城市 2019
小街小巷: the notice's counties add to 186 条, the report says 计划改造221条) the
auditor wants to see both figures side by side.

Titles differ between documents ("实施中心城区和各县城小街小巷改造提升工程" vs
"小街小巷改造项目"), so projects are matched fuzzily: the name is normalized (filler
words and numbers stripped), segmented with jieba, and two names match when their
token sets overlap enough (Jaccard) or one is wholly contained in the other.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import orjson

from extractors.category import segment
from pipeline.types import Check

JACCARD_MIN = 0.5
CONTAIN_MIN_TOKENS = 2      # containment alone needs at least this many shared tokens
RULE = "cross_doc_target"

# Filler that titles add or drop freely; stripped before segmentation.
_FILLER = re.compile(r"实施|继续|项目|工程|服务|工作|行动|开展|推进|进行|提供|完成|全面|免费")
# A number with its scale and measure word: 60个, 2000 场, 20 万人, 7285名 ...
_NUMBER = re.compile(r"[0-9０-９][0-9０-９.,，\s]*(?:万|亿|千|百)?\s*(?:余|多)?\s*"
                     r"(?:个|名|人次|人|场|条|座|所|处|户|件|项|次|元|万元|亿元|公里|千米|米|平方米|套|间|家|张|辆|%|％)?")
_BRACKETED = re.compile(r"[（(][^（）()]*[0-9０-９][^（）()]*[)）]")  # （20 万人）
# A per-place cell of a target table, as the reader gives it: 盐湖区:160条, 市蒲团：65 场
_PLACE_CELL = re.compile(r"^\s*(?P<place>[\u4e00-\u9fff]{1,10}?(?:开发区|街道|市|县|区|旗|镇|乡|团))\s*[:：]\s*"
                         r"[0-9０-９][0-9０-９.,]*\s*[\u4e00-\u9fff%]{0,3}\s*$")
_STOP = frozenset("和 与 及 的 各 为 对 在 等 及其 以及 并 市 县 区 全市 我市".split())


@lru_cache(maxsize=8192)   # a corpus repeats its project names; the bound keeps memory flat
def normalize_project(name: str) -> str:
    """The project name without numbers, bracketed figures and filler words."""
    s = _BRACKETED.sub("", name)
    s = _NUMBER.sub("", s)
    s = _FILLER.sub("", s)
    return re.sub(r"[\s“”\"'‘’、，,。.:：;；]+", "", s)


@lru_cache(maxsize=8192)   # jieba is most of the matching time
def project_tokens(name: str) -> frozenset[str]:
    return frozenset(t for t in segment(normalize_project(name)) if t not in _STOP)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard of the token sets, raised to 1.0 when the smaller set (of at least
    CONTAIN_MIN_TOKENS tokens) lies wholly inside the larger: a short title that
    drops qualifiers (小街小巷改造) still names the same project."""
    if not a or not b:
        return 0.0
    inter = len(a & b)
    if inter >= CONTAIN_MIN_TOKENS and inter == min(len(a), len(b)):
        return 1.0
    return inter / len(a | b)


@dataclass
class _Stated:
    """One project's targets as one document states them."""
    doc: str
    name: str
    unit: str
    level: str                          # 'project' or 'sub_item'
    period_end: str | None
    main: Decimal | None = None         # the first stated target
    main_row: dict[str, Any] | None = None
    stated: set[Decimal] = field(default_factory=set)
    places: list[dict[str, Any]] = field(default_factory=list)   # per-place target rows/facts
    tokens: frozenset[str] = frozenset()

    @property
    def place_sum(self) -> Decimal | None:
        vals = [_dec(p.get("target", p.get("value"))) for p in self.places]
        vals = [v for v in vals if v is not None]
        return sum(vals, Decimal(0)) if vals else None

    def candidates(self) -> set[Decimal]:
        c = set(self.stated)
        if self.place_sum is not None:
            c.add(self.place_sum)
        return c

    def figure(self) -> Decimal | None:
        return self.main if self.main is not None else self.place_sum


def _dec(x: Any) -> Decimal | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        return Decimal(str(x))
    except ArithmeticError:
        return None


def place_of(row: dict[str, Any]) -> str | None:
    """The place a per-place target row speaks for: its `place`, or, for a writer that
    does not set it, a table cell of the form 盐湖区:160条 as its evidence."""
    if row.get("place"):
        return str(row["place"])
    m = _PLACE_CELL.match(str(row.get("evidence") or ""))
    return m.group("place") if m else None


def _key_name(row: dict[str, Any]) -> tuple[str, str] | None:
    if row.get("sub_item"):
        return "sub_item", str(row["sub_item"])
    if row.get("project"):
        return "project", str(row["project"])
    return None


def _collect(records: Iterable[dict[str, Any]], facts: Iterable[dict[str, Any]],
             documents: Iterable[dict[str, Any]]) -> dict[tuple[str, int], dict[str, list[_Stated]]]:
    """(city, year) -> doc -> the projects that doc states targets for."""
    meta: dict[str, dict[str, Any]] = {}
    for d in documents:
        meta[d["doc"]] = {"city": d.get("city"), "year": d.get("year"), "period_end": d.get("period_end")}
    for r in records:
        meta.setdefault(r["doc"], {"city": r.get("city"), "year": r.get("year"),
                                   "period_end": r.get("period_end")})

    by_doc: dict[str, dict[tuple[str, str, str], _Stated]] = defaultdict(dict)

    def slot(doc: str, level: str, name: str, unit: str) -> _Stated:
        key = (level, normalize_project(name), unit)
        st = by_doc[doc].get(key)
        if st is None:
            st = _Stated(doc, name, unit, level, meta.get(doc, {}).get("period_end"),
                         tokens=project_tokens(name))
            by_doc[doc][key] = st
        return st

    for r in sorted(records, key=lambda r: (r["doc"], r.get("start") or 0)):
        target = _dec(r.get("target"))
        kn = _key_name(r)
        if target is None or kn is None or not r.get("unit"):
            continue
        st = slot(r["doc"], kn[0], kn[1], str(r["unit"]))
        place = place_of(r)
        if place:
            st.places.append({**r, "place": place})
            continue
        st.stated.add(target)
        if st.main is None:
            st.main, st.main_row = target, r
    # per-place target facts (a notice's county table) when records do not carry them
    seen_places = {(st.doc, st.name, p.get("place")) for d in by_doc.values() for st in d.values()
                   for p in st.places}
    for f in facts:
        if f.get("kind") != "target" or not f.get("place") or not f.get("project") or not f.get("unit"):
            continue
        if (f["doc"], f["project"], f["place"]) in seen_places:
            continue
        level, name = ("sub_item", f["sub_item"]) if f.get("sub_item") else ("project", f["project"])
        slot(f["doc"], level, str(name), str(f["unit"])).places.append(f)

    out: dict[tuple[str, int], dict[str, list[_Stated]]] = defaultdict(lambda: defaultdict(list))
    for doc, slots in by_doc.items():
        m = meta.get(doc, {})
        if not m.get("city") or m.get("year") is None:
            continue  # without city and year two documents cannot be said to promise the same thing
        for st in slots.values():
            if st.figure() is not None and st.tokens:
                out[(m["city"], int(m["year"]))][doc].append(st)
    return out


def _doc_order(st: _Stated) -> tuple[bool, str, str]:
    # the plan (no 截至 date) comes first, then earlier progress reports
    return (st.period_end is not None, st.period_end or "", st.doc)


def _evidence(st: _Stated) -> tuple[str, int, int, list[tuple[int, int]]]:
    if st.main_row is not None:
        r = st.main_row
        ev, start = str(r.get("evidence") or ""), int(r.get("start") or 0)
        figs = [(int(f[0]), int(f[1])) for f in r.get("figures") or [] if len(f) == 2]
        if not figs and st.main is not None:
            # records carry no figure offsets: find the target as written in the evidence
            m = _find_figure(ev, _fmt(st.main), st.unit)
            if m and len(ev) == int(r.get("end") or 0) - start:
                figs = [(start + m[0], start + m[1])]
        return ev, start, int(r.get("end") or 0), figs
    parts = []
    figs: list[tuple[int, int]] = []
    for p in st.places:
        val = p.get("target", p.get("value"))
        parts.append(f"{p.get('place')} {p.get('text') or val}")
        if p.get("start") is None or p.get("end") is None:
            continue
        s, e = int(p["start"]), int(p["end"])
        ev = str(p.get("evidence") or "")
        m = re.search(r"[0-9０-９]", ev)
        if "evidence" in p and m and len(ev) == e - s:
            s += m.start()  # a record's span is the whole cell 盐湖区:160条: mark the figure
        figs.append((s, e))
    starts = [int(p["start"]) for p in st.places if p.get("start") is not None] or [0]
    ends = [int(p["end"]) for p in st.places if p.get("end") is not None] or [0]
    text = f"{st.name}: " + "; ".join(parts) + f" (合计 {_fmt(st.place_sum)}{st.unit})"
    return text, min(starts), max(ends), figs


def _find_figure(text: str, number: str, unit: str) -> tuple[int, int] | None:
    r"""The first `number` in `text` not inside a longer number, then optional spaces,
    then `unit`: what re.search(r"(?<![\d.])N(?!\d)\s*U") finds, without compiling a
    pattern per figure (that was a third of the step's time)."""
    if not number:
        return None
    i = text.find(number)
    while i >= 0:
        j = i + len(number)
        if (i == 0 or not (text[i - 1].isdecimal() or text[i - 1] == ".")) and \
                (j == len(text) or not text[j].isdecimal()):
            k = j
            while k < len(text) and text[k].isspace():
                k += 1
            for e in range(k, j - 1, -1):    # \s* is greedy: the longest run first
                if text.startswith(unit, e):
                    return i, e + len(unit)
        i = text.find(number, i + 1)
    return None


def _fmt(x: Decimal | None) -> str:
    if x is None:
        return "?"
    return format(x.normalize(), "f")


def cross_doc_checks(records: list[dict[str, Any]], facts: list[dict[str, Any]] | None = None,
                     documents: list[dict[str, Any]] | None = None) -> list[Check]:
    """Findings of kind cross_doc: a project of one city and year whose target differs
    between two documents. `facts` (optional) supply per-place target rows that the
    records do not carry; `documents` (optional) supply city/year/period_end."""
    return list(_group_checks(_collect(records, facts or [], documents or [])))


def _group_checks(groups: dict[tuple[str, int], dict[str, list[_Stated]]]) -> Iterator[Check]:
    for (city, year), docs in sorted(groups.items()):
        names = sorted(docs, key=lambda d: _doc_order(docs[d][0]))
        for i, da in enumerate(names):
            for db in names[i + 1:]:
                yield from _compare_docs(docs[da], docs[db], city, year)


def _record_matters(r: dict[str, Any]) -> bool:
    """What _collect could use of a record (it tests the rest)."""
    return r.get("target") is not None and bool(r.get("unit")) and \
        bool(r.get("sub_item") or r.get("project"))


def _fact_matters(f: dict[str, Any]) -> bool:
    return f.get("kind") == "target" and bool(f.get("place")) and bool(f.get("project")) \
        and bool(f.get("unit"))


def city_year_groups(documents: Iterable[dict[str, Any]]) -> list[tuple[tuple[str, int], list[dict[str, Any]]]]:
    """(city, year) -> the documents of it, for each city and year that has two or more
    documents, sorted by (city, year). Only doc/city/year/period_end of each row kept."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for d in documents:
        if not d.get("city") or d.get("year") is None:
            continue   # as in _collect: no city and year, nothing to compare with
        groups[(d["city"], int(d["year"]))].append(
            {"doc": d["doc"], "city": d["city"], "year": d["year"],
             "period_end": d.get("period_end")})
    return sorted((k, v) for k, v in groups.items() if len(v) >= 2)


def _parse(lines: Iterable[bytes], needles: tuple[bytes, bytes],
           keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """The rows `keep` accepts; a line lacking either of `needles` (text every kept
    row's JSON contains) is not even parsed."""
    a, b = needles
    loads = orjson.loads
    return [r for r in (loads(line) for line in lines if a in line and b in line) if keep(r)]


def cross_doc_streamed(documents: Iterable[dict[str, Any]],
                       lines: Callable[[str, list[str]], Iterable[bytes]]) -> Iterator[Check]:
    """cross_doc_checks one city and year at a time, for a run too large to hold in
    memory: `documents` are the documents rows (streamed; a few keys of each are kept),
    `lines(table, docs)` yields the JSONL lines (bytes) of table 'records' or 'facts' of
    those docs only (OutputWriter.read_doc_lines). Documents without a partner of the
    same city and year are never read, and memory follows the largest city-year group,
    not the corpus. Same checks, same order as cross_doc_checks(records, facts,
    documents)."""
    for _, members in city_year_groups(documents):
        docs = [m["doc"] for m in members]
        records = _parse(lines("records", docs), (b'"target"', b'"unit"'), _record_matters)
        # a per-place target fact has the value "target" and the key "place" somewhere;
        # most facts have neither
        facts = _parse(lines("facts", docs), (b'"target"', b'"place"'), _fact_matters)
        yield from _group_checks(_collect(records, facts, members))


def _compare_docs(a_list: list[_Stated], b_list: list[_Stated], city: str, year: int) -> list[Check]:
    found: list[Check] = []
    used_b: set[int] = set()
    for a in a_list:
        best, best_sim = None, 0.0
        for j, b in enumerate(b_list):
            if j in used_b or b.unit != a.unit or b.level != a.level:
                continue
            sim = similarity(a.tokens, b.tokens)
            if sim >= JACCARD_MIN and sim > best_sim:
                best, best_sim = j, sim
        if best is None:
            continue
        used_b.add(best)
        b = b_list[best]
        if a.candidates() & b.candidates():
            continue  # some stated figure agrees (10万人 raised to 20万人 in one, 20万人 in the other)
        ta, tb = a.figure(), b.figure()
        ev_a, s_a, e_a, figs_a = _evidence(a)
        ev_b, s_b, e_b, figs_b = _evidence(b)
        found.append(Check(
            doc=a.doc, kind="cross_doc", verdict="inconsistent", reported=ta, computed=tb,
            evidence=f"{a.doc}: {ev_a}\n{b.doc}: {ev_b}", start=s_a, end=e_a,
            rule=RULE, project=a.name,
            reason=(f"{city} {year} 年 {a.name}: {a.doc} 的目标 {_fmt(ta)}{a.unit}"
                    f"{'（各地合计）' if a.main is None else ''}，{b.doc} 的目标 {_fmt(tb)}{b.unit}"
                    f"{'（各地合计）' if b.main is None else ''}"),
            discrepancy=abs(ta - tb) if ta is not None and tb is not None else None,
            figures=figs_a,
            other={"doc_b": b.doc, "target_b": tb, "project_b": b.name, "unit": a.unit,
                   "city": city, "year": year, "evidence_a": ev_a, "evidence_b": ev_b,
                   "start_b": s_b, "end_b": e_b, "figures_b": [list(f) for f in figs_b],
                   "similarity": round(best_sim, 3)},
        ))
    return found


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON Lines file; a missing file is an empty table."""
    if not path.exists():
        return []
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{n} is not valid JSON ({e}); re-run minsheng to rewrite it") from e
    return rows


def cross_doc_for_run(out: Path) -> list[Check]:
    """cross_doc_checks over a finished run folder OUT."""
    return cross_doc_checks(read_jsonl(out / "records.jsonl"), read_jsonl(out / "facts.jsonl"),
                            read_jsonl(out / "documents.jsonl"))
