"""Context rules: what the words around a figure say about it.

A context rule (type: context) looks at the text of the figure's scope (clause,
semi-clause, sentence or table cell) before the figure (`before`, searched from the
figure backwards) and after it (`after`, matched right after it; a group named `unit`
there must be the figure's own unit), and sets one
attribute: a count's role (target / actual), a percent's kind, an amount's paying
level, a per-unit marker. For each attribute the nearest cue wins; at equal
distance the longer cue, then the earlier rule.
"""
from __future__ import annotations

import regex

from pipeline.rules import Rule, Rules
from pipeline.segment import Layout
from pipeline.types import Fact, Section

CONTEXT_FILES = ("roles", "percent_kind", "level", "rates")
COORDINATED = regex.compile(r"\s*[和、及与]\s*")


class View:
    """What the context rules ask about one figure, each worked out once."""
    __slots__ = ("fact", "text", "layout", "_table", "_spans", "_head", "_lead", "_title",
                 "_intros", "_shared")
    _UNSET = object()

    def __init__(self, fact: Fact, text: str, layout: Layout, shared: dict | None = None):
        self.fact, self.text, self.layout = fact, text, layout
        self._table = self._head = self._lead = self._title = self._intros = View._UNSET
        self._spans: dict[str, tuple[str, str]] = {}
        self._shared = {} if shared is None else shared   # what the figures of a line share

    def table(self):
        if self._table is View._UNSET:
            self._table = self.layout.table_at(self.fact.start)
        return self._table

    def header(self) -> str | None:
        if self._head is View._UNSET:
            self._head = self.layout.column_header(self.fact.start) if self.table() is not None else None
        return self._head

    def opens_section(self) -> bool:
        if self._lead is View._UNSET:
            self._lead = _opens_section(self.fact, self.layout)
        return self._lead

    def in_title(self) -> bool:
        if self._title is View._UNSET:
            f = self.fact
            self._title = self.layout.in_title(f.start, f.end)
        return self._title

    def list_intros(self) -> list[str]:
        """The heading and the lead (the text before its first sub-heading) of each section
        above the figure's own heading: what introduces the list the figure is an item of."""
        if self._intros is View._UNSET:
            self._intros = _list_intros(self.fact, self.layout, self._shared)
        return self._intros

    def led_by(self, cue: regex.Pattern) -> bool:
        """Whether one of the list's intros says cue; asked once per intro and cue, since
        the figures of a list share its intros."""
        memo = self._shared
        for t in self.list_intros():
            key = (cue, t)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = cue.search(t) is not None
            if hit:
                return True
        return False

    def around(self, scope: str) -> tuple[str, str]:
        """The scope's text before and after the figure (slices: ^ and $ are its edges)."""
        got = self._spans.get(scope)
        if got is None:
            f = self.fact
            a, b = self.layout.scope(f.start, scope, f.end)
            got = self._spans[scope] = (self.text[a:f.start], self.text[f.end:b])
        return got


def rule_matches(rule: Rule, fact: Fact, text: str, layout: Layout,
                 view: View | None = None) -> tuple[int, int] | None:
    """(distance, -cue length) when the rule applies to the fact, else None."""
    if rule.applies is not None and fact.kind not in rule.applies:
        return None
    if rule.units is not None and fact.unit not in rule.units:
        return None
    if rule.units_not is not None and fact.unit in rule.units_not:
        return None
    v = view or View(fact, text, layout)
    if rule.in_table is not None and (v.table() is not None) != rule.in_table:
        return None
    if rule.caption is not None and (v.table() is None or not rule.caption.search(v.table().caption)):
        return None
    if rule.header is not None:
        head = v.header()
        if head is None or not rule.header.search(head):
            return None
    if rule.section_lead and not v.opens_section():
        return None
    if rule.in_title and not v.in_title():
        return None
    if rule.list_cue is not None and not v.led_by(rule.list_cue):
        return None
    if rule.list_not is not None and v.led_by(rule.list_not):
        return None
    prefix, suffix = v.around(rule.scope)
    dist, length = 0, 0
    if rule.before is not None:
        m = rule.before_whole.match(prefix) if rule.before_whole is not None else rule.before.search(prefix)
        if not m:
            return None
        dist, length = len(prefix) - m.end(), m.end() - m.start()
    if rule.after is not None:
        m = rule.after.match(suffix)
        # a group named `unit` in `after` names a later figure's unit: it must be the figure's
        # own (改造…30公里,已完工21公里 pairs 公里 with 公里, not with 户)
        if not m or ("unit" in rule.after.groupindex and m.group("unit") is not None
                     and m.group("unit") != fact.unit):
            return None
    return dist, -length


def apply_context(facts: list[Fact], text: str, layout: Layout, rules: Rules) -> None:
    """Set roles, kinds, levels and rates on the facts in place."""
    ctx = [r for stem in CONTEXT_FILES for r in rules.of(stem)]
    order = {r.id: i for i, r in enumerate(ctx)}
    by_kind = {k: [r for r in ctx if r.applies is None or k in r.applies]
               for k in ("percent", "amount", "count")}
    shared: dict = {}
    for fact in facts:
        best: dict[str, tuple[tuple[int, int, int], Rule]] = {}
        view = View(fact, text, layout, shared)
        for rule in by_kind.get(fact.kind, ctx):
            hit = rule_matches(rule, fact, text, layout, view)
            if hit is None:
                continue
            rank = (*hit, order[rule.id])
            for key, _ in rule.sets:
                if key not in best or rank < best[key][0]:
                    best[key] = (rank, rule)
        for key, (_, rule) in best.items():
            value = rule.data["set"][key]
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


LEAD_LINES = 12      # how far up a lead line may stand above an unlabelled item


def _list_intros(fact: Fact, layout: Layout, shared: dict) -> list[str]:
    """What may introduce the list a figure is an item of: the titles and leads of the
    headings and items above it, and its own sentence up to a colon before it (这十件民生
    实事分别是:完成…;建成…: a list with no labels, its items ended by ；). What depends on
    the figure's line alone is worked out once per line (`shared`)."""
    out = []
    s0, _ = layout.scope(fact.start, "sentence")
    head = layout.text[s0:fact.start]
    k = max(head.rfind(":"), head.rfind("："))
    if k > 0:
        out.append(head[:k + 1].strip())
    a, _ = layout.scope(fact.start, "line")
    own = layout.section_at(fact.start)
    above = shared.get((a, own.index))
    if above is None:
        above = shared[(a, own.index)] = _line_intros(a, own, layout)
    return [t for t in out if t] + above


def _line_intros(a: int, own: Section, layout: Layout) -> list[str]:
    out = []
    # a line ending in a colon a few lines up (十大民生项目清单。具体如下:) leads the lines
    # below it that carry no label of their own
    for _ in range(LEAD_LINES):
        if a <= max(own.start, 0):
            break
        a, b = layout.scope(a - 1, "line")
        line = layout.text[a:b].strip()
        if line.endswith((":", "：")):
            out.append(line)
            break
    if own.parent is not None:     # under a heading or an item
        for sec in layout.ancestors(own):
            first = layout.first_child_start(sec)
            out.append(layout.text[sec.start:sec.title_end].strip())
            out.append(layout.text[sec.title_end:first].strip())
    return [t for t in out if t]


def _opens_section(fact: Fact, layout: Layout) -> bool:
    """The figure stands in a heading, a table cell, or the first sentence under a heading."""
    if layout.table_at(fact.start) is not None:
        return True
    s0, _ = layout.scope(fact.start, "sentence")
    for sec in layout.sections_around(fact.start, titles=True):
        if sec.level == 0:
            continue
        if fact.start < sec.title_end or not layout.text[sec.title_end:s0].strip("。 \n"):
            return True
    return False
