"""Records: one row per project indicator, for people who open a spreadsheet.

Built from the linked facts and checks of one document: a row for each ratio check
(target, actual, reported and computed rate, verdict), and a row for each planned
quantity no ratio used (a project's target, a county's share of it). A target that
only repeats one already shown (a project named again in a funding paragraph) gets no
row of its own. Money is attributed to the project whose item it stands in, or whose
name stands right before it (…继续实施全民技能提升工程4000万元).
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

import regex

from pipeline.segment import Layout
from pipeline.types import Check, Fact

LEAD = regex.compile(
    r"(?:由)?(?P<u>(?:省|市|县|区)[\p{Han}]{1,16}?(?:委员会|管理局|局|委|办|厅|院|中心|残联|妇联|总社|总工会|工会))"
    r"(?:[、和][\p{Han}]{1,16}?(?:局|委|办))*(?:等)?(?:牵头|负责)", regex.V1)
ORG = regex.compile(r"^(?:省|市|县|区)\p{Han}{1,16}?(?:委员会|管理局|局|委|办|厅|院|中心|残联|妇联|总社)", regex.V1)
# words around a project's name that do not tell projects apart
NAME_NOISE = regex.compile(r"^(?:继续)?(?:实施|开展|推进)|(?:项目|工程|行动|服务)(?:的资金)?$|[“”\"\s]|\d+(?:\.\d+)?", regex.V1)


@lru_cache(maxsize=4096)
def _category(project: str | None) -> str | None:
    from extractors.category import categorize
    return categorize(project) if project else None


def lead_unit(text: str, layout: Layout, f: Fact) -> str | None:
    """牵头单位: 'X牵头' in the project's item, or the 牵头单位 column of a target table."""
    sec = layout.sections[f.section] if f.section >= 0 else layout.section_at(f.start)
    chain = [sec, *layout.ancestors(sec)]
    item = next((s for s in reversed(chain) if s.level >= 3), sec)
    a, b = (item.start, item.end) if item.level > 0 else layout.scope(f.start, "line")
    m = LEAD.search(text, a, b)       # outside any item, only the figure's own paragraph
    if m:
        return m.group("u")
    table = layout.table_at(item.start)
    if table and item.label.isdigit():
        col = next((i for i, h in enumerate(table.header) if "牵头" in h), None)
        line_end = text.find("\n", item.start)
        cells = text[item.start:line_end if line_end >= 0 else len(text)].split("\t")
        if col is not None and col < len(cells):
            m2 = ORG.match(cells[col].strip())
            if m2:
                return m2.group(0)
    return None


def _core(name: str) -> str:
    return NAME_NOISE.sub("", name)


class _NameIndex:
    """The projects whose core (4 characters or more) holds a clause head's core or lies
    within it, in the projects' order. Either way the two share the shorter one's first
    4 characters, so an index of 4-character pieces names the few candidates to test,
    instead of testing every project of a long text for every amount."""

    def __init__(self, cores: dict[str, str]) -> None:
        self.cores = [(p, c) for p, c in cores.items() if len(c) >= 4]
        self.by_first: dict[str, list[int]] = {}      # a core's first 4 characters
        self.by_piece: dict[str, list[int]] = {}      # every 4 characters of a core
        for i, (_, c) in enumerate(self.cores):
            self.by_first.setdefault(c[:4], []).append(i)
            for g in dict.fromkeys(c[k:k + 4] for k in range(len(c) - 3)):
                self.by_piece.setdefault(g, []).append(i)

    def __call__(self, head: str) -> list[str]:
        if len(head) < 4:
            return []
        cand = set(self.by_piece.get(head[:4], ()))             # head in c
        for k in range(len(head) - 3):                            # c in head
            cand.update(self.by_first.get(head[k:k + 4], ()))
        return [p for p, c in (self.cores[i] for i in sorted(cand)) if head in c or c in head]


def money_by_project(text: str, layout: Layout, facts: list[Fact], totals: set[int]) -> dict[str, Decimal]:
    """Yuan per project: amounts inside a project's item, and amounts whose clause names a
    project (an amount that totals others is left out, so nothing counts twice)."""
    # in order of first mention, not a set's order: max(named, key=len) below breaks ties
    # by this order, and a set of strings changes it with the hash seed
    projects = dict.fromkeys(f.project for f in facts if f.project)
    cores = {p: _core(p) for p in projects}
    find_named = _NameIndex(cores)
    out: dict[str, Decimal] = {}
    seen_cells: set[tuple] = set()
    for f in facts:
        if f.kind != "amount" or f.per_unit or f.delta or id(f) in totals:
            continue
        if layout.table_at(f.start) is not None:
            # a merged cell repeated down a table's rows is one amount, not three
            cell = (f.project, f.value, f.level)
            if cell in seen_cells:
                continue
            seen_cells.add(cell)
        a, _ = layout.scope(f.start, "clause")
        head = regex.split(r"[、即和]|其中", text[a:f.start])[-1]
        head_core = _core(head)
        named = find_named(head_core)
        owner = max(named, key=len) if named else f.project if f.sub_item is None and layout.outer_item(f.start) is not None else None
        if owner:
            out[owner] = out.get(owner, Decimal(0)) + f.value
    return out


def build_records(doc: str, meta: dict[str, Any], text: str, layout: Layout,
                  facts: list[Fact], checks: list[Check], totals: set[int] | None = None,
                  conf: dict[str, str] | None = None) -> list[dict[str, Any]]:
    by_pos = {(f.start, f.end): f for f in facts}
    money = money_by_project(text, layout, facts, totals or set())
    base = {k: meta.get(k) for k in ("city", "province", "year", "period_end")}
    rows: list[dict[str, Any]] = []
    shown: set[tuple] = set()
    for c in checks:
        if c.kind != "ratio" or c.numerator is None:
            continue
        figs = [by_pos.get(tuple(x)) for x in c.figures]
        pct = figs[-1]
        num = next((f for f in figs if f is not None and f.value == c.numerator and f is not pct), None)
        den = next((f for f in figs if f is not None and f.value == c.denominator and f is not num), None)
        if den is not None:
            shown.add((den.value, den.unit))
        a, _ = layout.scope(pct.start, "clause")
        indicator = text[a:pct.start].strip() or "完成率"
        rows.append({**_row(doc, base, num or pct, text, layout, conf), "indicator": indicator,
                     "unit": num.unit if num else None, "target": c.denominator, "actual": c.numerator,
                     "reported_pct": c.reported, "computed_pct": c.computed, "verdict": c.verdict,
                     "amount_yuan": money.get(pct.project), "evidence": c.evidence,
                     "start": c.start, "end": c.end})
    # a project's own statement of a target first, mentions outside any project after
    targets = sorted((f for f in facts if f.kind == "target"), key=lambda f: (f.project is None, f.start))
    for f in targets:
        key = (f.value, f.unit, f.place)
        if key in shown or (f.place is None and (f.value, f.unit) in shown):
            continue
        shown.add(key)
        s, e = layout.scope(f.start, "sentence", f.end)
        rows.append({**_row(doc, base, f, text, layout, conf),
                     "indicator": "目标" if not f.place else f"目标({f.place})",
                     "unit": f.unit, "target": f.value, "actual": None, "reported_pct": None,
                     "computed_pct": None, "verdict": None, "amount_yuan": money.get(f.project),
                     "evidence": text[s:e].strip(), "start": s, "end": e})
    rows.sort(key=lambda r: (r["start"], r["indicator"]))
    return rows


def clause_name(text: str, layout: Layout, f: Fact, conf: dict[str, str]) -> str | None:
    """What a figure outside any numbered item measures, named by its own clause (6个养老护幼类
    项目完成28.5亿元 -> 养老护幼类项目); None where the clause names nothing."""
    a, _ = layout.scope(f.start, "clause")
    head = text[a:f.start]
    for key in ("name_lead", "name_tail"):
        head = _compiled(conf[key]).sub("", head)
    head = head.strip()
    return head if len(head) >= 2 and not regex.search(r"\d", head) else None


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> regex.Pattern:
    return regex.compile(pattern, regex.V1)


def _row(doc: str, base: dict[str, Any], f: Fact, text: str, layout: Layout,
         conf: dict[str, str] | None = None) -> dict[str, Any]:
    project = f.project
    if project is None and conf:
        project = clause_name(text, layout, f, conf)
    return {"doc": doc, **base, "project": project, "sub_item": f.sub_item, "place": f.place,
            "category": _category(project), "lead_unit": lead_unit(text, layout, f)}
