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
from pipeline.write import read_jsonl

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
    """Findings of kind cross_doc: one per project of one city and year whose documents
    state different targets, listing each value with the documents that state it.
    `facts` (optional) supply per-place target rows that the records do not carry;
    `documents` (optional) supply city/year/period_end, and mark reposts
    (`duplicate_of`), which are left out: a repost adds no finding."""
    dups = {d["doc"] for d in documents or [] if d.get("duplicate_of")}
    if dups:
        records = [r for r in records if r["doc"] not in dups]
        facts = [f for f in facts or [] if f["doc"] not in dups]
        documents = [d for d in documents or [] if d["doc"] not in dups]
    return list(_group_checks(_collect(records, facts or [], documents or [])))


def _group_checks(groups: dict[tuple[str, int], dict[str, list[_Stated]]]) -> Iterator[Check]:
    for (city, year), docs in sorted(groups.items()):
        g = _Grouper(city, year)
        for d in sorted(docs, key=lambda d: _doc_order(docs[d][0])):
            g.add(docs[d])
        yield from g.findings()


# A finding lists every document; the evidence it quotes is cut to this many characters
# for each distinct value (the offsets lead to the whole text), so a finding's size
# grows with its documents by a line each, not by their evidence.
VALUE_EVIDENCE_CHARS = 300


@dataclass
class _Value:
    """One distinct target of a project, and who states it."""
    value: Decimal | None
    place_sum: bool                          # the sum of a per-place table, not a stated total
    ev: tuple[str, int, int, list[tuple[int, int]]]   # the first document's evidence
    docs: list[tuple[str, str | None]] = field(default_factory=list)   # (doc, period_end)


@dataclass
class _Project:
    """One project of a city and year across its documents (matched by name)."""
    level: str
    unit: str
    tokens: frozenset[str]
    name: str
    values: list[_Value] = field(default_factory=list)
    latest: tuple[str, int] = ("", 0)        # (doc, index of its value) of the latest document
    seen: set[str] = field(default_factory=set)

    def add(self, st: _Stated) -> None:
        self.seen.add(st.doc)
        cands = st.candidates()
        for i, v in enumerate(self.values):
            if v.value in cands:
                # some stated figure agrees (10万人 raised to 20万人 in one, 20万人 in the
                # other): a line under that value, not a new one
                v.docs.append((st.doc, st.period_end))
                self.latest = (st.doc, i)
                return
        # the evidence of a value's first document is what a finding quotes: take it
        # now, so no rows are kept
        self.values.append(_Value(st.figure(), st.main is None, _evidence(st),
                                  [(st.doc, st.period_end)]))
        self.latest = (st.doc, len(self.values) - 1)


class _Grouper:
    """Cluster one city and year's project statements, document by document (in the
    order plan first, then progress reports by date), into projects and their values.
    Work and memory grow with the documents times their projects, never with pairs."""

    def __init__(self, city: str, year: int) -> None:
        self.city, self.year = city, year
        self.projects: list[_Project] = []
        self._exact: dict[tuple[str, str, frozenset[str]], list[_Project]] = defaultdict(list)
        self._by_kind: dict[tuple[str, str], list[_Project]] = defaultdict(list)

    def add(self, stated: list[_Stated]) -> None:
        """One document's statements (all of the same document)."""
        taken: set[int] = set()
        pending: list[tuple[float, int, int, _Project]] = []
        for i, st in enumerate(stated):
            # the same normalized name and unit as before: the common case, no scoring
            exact = next((p for p in self._exact[(st.level, st.unit, st.tokens)]
                          if st.doc not in p.seen), None)
            if exact is not None:
                exact.add(st)
                taken.add(i)
                continue
            for k, p in enumerate(self._by_kind[(st.level, st.unit)]):
                if st.doc in p.seen:
                    continue
                sim = similarity(st.tokens, p.tokens)
                if sim >= JACCARD_MIN:
                    pending.append((-sim, i, k, p))
        pending.sort(key=lambda t: t[:3])            # best match first, ties in order
        for _, i, _, p in pending:
            if i in taken or stated[i].doc in p.seen:
                continue
            p.add(stated[i])
            taken.add(i)
        for i, st in enumerate(stated):
            if i not in taken:
                p = _Project(st.level, st.unit, st.tokens, st.name)
                p.add(st)
                self.projects.append(p)
                self._exact[(st.level, st.unit, st.tokens)].append(p)
                self._by_kind[(st.level, st.unit)].append(p)

    def findings(self) -> Iterator[Check]:
        for p in self.projects:
            if len(p.values) > 1:
                yield self._finding(p)

    def _finding(self, p: _Project) -> Check:
        a = p.values[0]
        latest_doc, latest_i = p.latest
        # the other side: the latest document's value when it differs from the first,
        # else the latest value that does
        b = p.values[latest_i] if latest_i else p.values[-1]
        ta, tb = a.value, b.value
        ev_a, s_a, e_a, figs_a = a.ev
        ev_b, s_b, e_b, figs_b = b.ev
        doc_a, doc_b = a.docs[0][0], b.docs[0][0]
        n_docs = sum(len(v.docs) for v in p.values)

        def sums(v: _Value) -> str:
            return "（各地合计）" if v.place_sum else ""
        values = [{"value": v.value, "unit": p.unit, "place_sum": v.place_sum,
                   "documents": [{"doc": d, "period_end": pe} for d, pe in v.docs],
                   "evidence": v.ev[0][:VALUE_EVIDENCE_CHARS], "doc": v.docs[0][0],
                   "start": v.ev[1], "end": v.ev[2], "figures": [list(f) for f in v.ev[3]],
                   "latest": i == latest_i} for i, v in enumerate(p.values)]
        listed = "；".join(f"{_fmt(v.value)}{p.unit}{sums(v)}（{len(v.docs)} 份文件）"
                          for v in p.values[:5])
        more = f"；另有 {len(p.values) - 5} 个数值" if len(p.values) > 5 else ""
        return Check(
            doc=doc_a, kind="cross_doc", verdict="inconsistent", reported=ta, computed=tb,
            evidence=f"{doc_a}: {ev_a}\n{doc_b}: {ev_b}", start=s_a, end=e_a,
            rule=RULE, project=p.name,
            reason=(f"{self.city} {self.year} 年 {p.name}: {n_docs} 份文件给出 {len(p.values)} 个"
                    f"不同的目标：{listed}{more}；最新的 {latest_doc} 为 "
                    f"{_fmt(p.values[latest_i].value)}{p.unit}"),
            discrepancy=abs(ta - tb) if ta is not None and tb is not None else None,
            figures=figs_a,
            other={"doc_b": doc_b, "target_b": tb, "project_b": p.name, "unit": p.unit,
                   "city": self.city, "year": self.year, "evidence_a": ev_a, "evidence_b": ev_b,
                   "start_b": s_b, "end_b": e_b, "figures_b": [list(f) for f in figs_b],
                   "latest_doc": latest_doc, "latest_value": p.values[latest_i].value,
                   "documents": n_docs, "distinct_values": len(p.values), "values": values},
        )


def _record_matters(r: dict[str, Any]) -> bool:
    """What _collect could use of a record (it tests the rest)."""
    return r.get("target") is not None and bool(r.get("unit")) and \
        bool(r.get("sub_item") or r.get("project"))


def _fact_matters(f: dict[str, Any]) -> bool:
    return f.get("kind") == "target" and bool(f.get("place")) and bool(f.get("project")) \
        and bool(f.get("unit"))


def city_year_groups(documents: Iterable[dict[str, Any]]) -> list[tuple[tuple[str, int], list[dict[str, Any]]]]:
    """(city, year) -> the documents of it, for each city and year that has two or more
    documents, sorted by (city, year), each group plan first, then by date. Only
    doc/city/year/period_end of each row kept; reposts (duplicate_of) left out."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for d in documents:
        if not d.get("city") or d.get("year") is None or d.get("duplicate_of"):
            continue   # as in _collect: no city and year, nothing to compare with
        groups[(d["city"], int(d["year"]))].append(
            {"doc": d["doc"], "city": d["city"], "year": d["year"],
             "period_end": d.get("period_end")})
    for v in groups.values():
        v.sort(key=lambda m: (m["period_end"] is not None, m["period_end"] or "", m["doc"]))
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
    """cross_doc_checks one city and year at a time and one document at a time, for a
    run too large to hold in memory: `documents` are the documents rows (streamed; a
    few keys of each are kept), `lines(table, docs)` yields the JSONL lines (bytes) of
    table 'records' or 'facts' of those docs only (OutputWriter.read_doc_lines).
    Documents without a partner of the same city and year are never read; memory
    follows the projects of the largest city-year group, not its rows. Same checks,
    same order as cross_doc_checks(records, facts, documents)."""
    for (city, year), members in city_year_groups(documents):
        g = _Grouper(city, year)
        for m in members:
            records = _parse(lines("records", [m["doc"]]), (b'"target"', b'"unit"'),
                             _record_matters)
            # a per-place target fact has the value "target" and the key "place"
            # somewhere; most facts have neither
            facts = _parse(lines("facts", [m["doc"]]), (b'"target"', b'"place"'),
                           _fact_matters)
            stated = _collect(records, facts, [m]).get((city, int(year)), {}).get(m["doc"])
            if stated:
                g.add(stated)
        yield from g.findings()


def cross_doc_for_run(out: Path) -> list[Check]:
    """cross_doc_checks over a finished run folder OUT."""
    return cross_doc_checks(read_jsonl(out / "records.jsonl"), read_jsonl(out / "facts.jsonl"),
                            read_jsonl(out / "documents.jsonl"))
