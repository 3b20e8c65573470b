"""Records: one row per project indicator, for people who open a spreadsheet.

Built from the linked facts and checks of one document: a row for each ratio check
(target, actual, reported and computed rate, verdict), and a row for each project
target that no ratio used. Money stated in a project item is summed into its rows.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import regex

from pipeline.segment import Layout
from pipeline.types import Check, Fact

LEAD = regex.compile(
    r"(?:由)?(?P<u>(?:省|市|县|区)[\p{Han}]{1,16}?(?:委员会|管理局|局|委|办|厅|院|中心|残联|妇联|总社|总工会|工会))"
    r"(?:[、和][\p{Han}]{1,16}?(?:局|委|办))*(?:等)?(?:牵头|负责)", regex.V1)
ORG = regex.compile(r"^(?:省|市|县|区)\p{Han}{1,16}?(?:委员会|管理局|局|委|办|厅|院|中心|残联|妇联|总社)", regex.V1)


def _category(project: str | None) -> str | None:
    try:
        from extractors.category import categorize
    except ImportError:
        return None
    return categorize(project) if project else None


def lead_unit(text: str, layout: Layout, f: Fact) -> str | None:
    """牵头单位: 'X牵头' in the project's item, or the 牵头单位 column of a target table."""
    sec = layout.sections[f.section] if f.section >= 0 else layout.section_at(f.start)
    chain = [sec, *layout.ancestors(sec)]
    item = next((s for s in reversed(chain) if s.level >= 3), sec)
    m = LEAD.search(text, item.start, item.end)
    if m:
        return m.group("u")
    table = layout.table_at(item.start)
    if table and item.label.isdigit():
        header = text[table.rows[0][0]:table.rows[0][1]].split("\t")
        col = next((i for i, h in enumerate(header) if "牵头" in h), None)
        row = text[item.start:text.find("\n", item.start) if "\n" in text[item.start:] else len(text)]
        cells = row.split("\t")
        if col is not None and col < len(cells):
            m2 = ORG.match(cells[col].strip())
            if m2:
                return m2.group(0)
    return None


def build_records(doc: str, meta: dict[str, Any], text: str, layout: Layout,
                  facts: list[Fact], checks: list[Check]) -> list[dict[str, Any]]:
    by_pos = {(f.start, f.end): f for f in facts}
    money: dict[str | None, Decimal] = {}
    for f in facts:
        if f.kind == "amount" and not f.per_unit and f.project:
            money[f.project] = money.get(f.project, Decimal(0)) + f.value
    base = {k: meta.get(k) for k in ("city", "province", "year", "period_end")}
    rows: list[dict[str, Any]] = []
    used_targets: set[tuple[int, int]] = set()
    for c in checks:
        if c.kind != "ratio" or c.numerator is None:
            continue
        figs = [by_pos.get(tuple(x)) for x in c.figures]
        pct = figs[-1]
        num = next((f for f in figs if f is not None and f.value == c.numerator and f is not pct), None)
        den = next((f for f in figs if f is not None and f.value == c.denominator and f is not num), None)
        if den is not None:
            used_targets.add((den.start, den.end))
        a, _ = layout.scope(pct.start, "clause")
        indicator = text[a:pct.start].strip() or "完成率"
        rows.append({**_row(doc, base, pct, text, layout), "indicator": indicator,
                     "unit": num.unit if num else None, "target": c.denominator, "actual": c.numerator,
                     "reported_pct": c.reported, "computed_pct": c.computed, "verdict": c.verdict,
                     "amount_yuan": money.get(pct.project), "evidence": c.evidence,
                     "start": c.start, "end": c.end})
    for f in facts:
        if f.kind != "target" or (f.start, f.end) in used_targets:
            continue
        s, e = layout.scope(f.start, "sentence", f.end)
        rows.append({**_row(doc, base, f, text, layout), "indicator": "目标" if not f.place else f"目标({f.place})",
                     "unit": f.unit, "target": f.value, "actual": None, "reported_pct": None,
                     "computed_pct": None, "verdict": None, "amount_yuan": money.get(f.project),
                     "evidence": text[s:e].strip(), "start": s, "end": e})
    rows.sort(key=lambda r: (r["start"], r["indicator"]))
    return rows


def _row(doc: str, base: dict[str, Any], f: Fact, text: str, layout: Layout) -> dict[str, Any]:
    return {"doc": doc, **base, "project": f.project, "sub_item": f.sub_item,
            "category": _category(f.project), "lead_unit": lead_unit(text, layout, f)}
