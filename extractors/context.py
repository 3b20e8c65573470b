"""Context rules: what the words around a figure say about it.

A context rule (type: context) looks at the text of the figure's scope (clause,
semi-clause, sentence or table cell) before the figure (`before`, searched from the
figure backwards) and after it (`after`, matched right after it), and sets one
attribute: a count's role (target / actual), a percent's kind, an amount's paying
level, a per-unit marker. For each attribute the nearest cue wins; at equal
distance the longer cue, then the earlier rule.
"""
from __future__ import annotations

import regex

from pipeline.rules import Rule, Rules
from pipeline.segment import Layout
from pipeline.types import Fact

CONTEXT_FILES = ("roles", "percent_kind", "level", "rates")
COORDINATED = regex.compile(r"\s*[和、及与]\s*")


def rule_matches(rule: Rule, fact: Fact, text: str, layout: Layout) -> tuple[int, int] | None:
    """(distance, -cue length) when the rule applies to the fact, else None."""
    applies = rule.get("applies_to")
    if applies and fact.kind not in applies:
        return None
    if rule.get("units") and fact.unit not in rule.get("units"):
        return None
    if rule.get("units_not") and fact.unit in rule.get("units_not"):
        return None
    table = layout.table_at(fact.start)
    in_table = rule.get("in_table")
    if in_table is True and table is None or in_table is False and table is not None:
        return None
    if rule.caption is not None and (table is None or not rule.caption.search(table.caption)):
        return None
    if rule.header is not None:
        head = layout.column_header(fact.start)
        if head is None or not rule.header.search(head):
            return None
    if rule.get("section_lead") and not _opens_section(fact, layout):
        return None
    if rule.get("in_title") and not any(s.level > 0 and s.start <= fact.start and fact.end <= s.title_end
                                         for s in layout.sections):
        return None
    a, b = layout.scope(fact.start, rule.get("scope", "clause"), fact.end)
    dist, length = 0, 0
    # slices, so that ^ and $ mean the scope's edges
    if rule.before is not None:
        prefix = text[a:fact.start]
        m = rule.before.search(prefix)
        if not m:
            return None
        dist, length = len(prefix) - m.end(), m.end() - m.start()
    if rule.after is not None and not rule.after.match(text[fact.end:b]):
        return None
    return dist, -length


def apply_context(facts: list[Fact], text: str, layout: Layout, rules: Rules) -> None:
    """Set roles, kinds, levels and rates on the facts in place."""
    ctx = [r for stem in CONTEXT_FILES for r in rules.of(stem)]
    order = {r.id: i for i, r in enumerate(ctx)}
    for fact in facts:
        best: dict[str, tuple[tuple[int, int, int], Rule]] = {}
        for rule in ctx:
            hit = rule_matches(rule, fact, text, layout)
            if hit is None:
                continue
            for key in rule.get("set"):
                rank = (*hit, order[rule.id])
                if key not in best or rank < best[key][0]:
                    best[key] = (rank, rule)
        for key, (_, rule) in best.items():
            value = rule.get("set")[key]
            if key == "kind":
                fact.kind = value
            elif key == "percent_kind":
                fact.percent_kind = value
            elif key == "level":
                fact.level = value
            elif key == "per_unit":
                fact.per_unit = bool(value)
            elif key == "delta":
                fact.delta = bool(value)
            elif key == "each":
                fact.each = -1 if value else None   # resolved to a count of places by link
            fact.rule += f"+{rule.id}"
        if fact.kind == "percent" and fact.percent_kind is None:
            fact.percent_kind = "other"
    # 分别完成年度目标的84.7%和83.8%: a percentage joined to the one before by 和/、 shares its kind
    pcts = [f for f in facts if f.kind == "percent"]
    for prev, f in zip(pcts, pcts[1:]):
        if f.percent_kind == "other" and prev.percent_kind != "other" and \
                COORDINATED.fullmatch(text, prev.end, f.start):
            f.percent_kind = prev.percent_kind
            f.rule += "+context.coordinated"


def _opens_section(fact: Fact, layout: Layout) -> bool:
    """The figure stands in a heading, a table cell, or the first sentence under a heading."""
    if layout.table_at(fact.start) is not None:
        return True
    s0, _ = layout.scope(fact.start, "sentence")
    for sec in layout.sections:
        if sec.level == 0 or not (sec.start <= fact.start < max(sec.end, sec.title_end + 1)):
            continue
        if fact.start < sec.title_end or not layout.text[sec.title_end:s0].strip("。 \n"):
            return True
    return False
