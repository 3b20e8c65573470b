"""Find every figure in a text: percent (rules/percent.yaml), amount (money.yaml) and
count (count.yaml), minus the non-figures of negatives.yaml.

One overlap policy for all of them: longest match first, then earliest, then rule
order. Each figure is parsed by the one number parser (extractors/numerals.py).
"""
from __future__ import annotations

import bisect

import regex

from extractors.numerals import NumberError, parse_quantity
from pipeline.rules import Rule, Rules
from pipeline.segment import Layout, Table
from pipeline.types import Fact

FIGURE_FILES = ("percent", "money", "count")


def negative_spans(text: str, rules: Rules) -> list[tuple[int, int]]:
    spans = []
    for rule in rules.of("negatives"):
        spans.extend(m.span() for m in rule.pattern.finditer(text) if m.end() - m.start() <= MAX_SPAN)
    return sorted(spans)


def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """Whether span a meets any of the spans (sorted by start, none longer than MAX_SPAN)."""
    i = bisect.bisect_left(spans, (a[0] - MAX_SPAN, 0))
    for s, e in spans[i:]:
        if s >= a[1]:
            return False
        if a[0] < e:
            return True
    return False


MAX_SPAN = 200   # no figure or negative match is longer than this


def _requires(rule: Rule, m: regex.Match, text: str, layout: Layout, rules: Rules) -> bool:
    req = rule.get("requires") or {}
    if req.get("scale") and not m.groupdict().get("scale"):
        return False
    if "before" in req:
        a, _ = layout.scope(m.start(), "clause")
        if not rules.compile(req["before"]).search(text[a:m.start()]):
            return False
    return True


def _row_unit(offset: int, text: str, layout: Layout, rules: Rules) -> tuple[str, str | None] | None:
    """The row's own unit and scale: its cell in a 单位 column (序号 | 项目 | 单位 | 年度目标 | 完成),
    else the unit its label cell ends with (城镇新增就业(人), 老年人健康管理(万人))."""
    table = layout.table_at(offset)
    if table is None:
        return None
    a = text.rfind("\n", 0, offset) + 1
    b = text.find("\n", offset)
    cells = [c.strip() for c in text[a:b if b >= 0 else len(text)].split("\t")]
    unit_cell = rules.compile(r"^(?P<scale>{SCALE})?(?P<u>{COUNT_UNIT})$")
    col = next((i for i, h in enumerate(table.header) if h in ("单位", "计量单位")), None)
    if col is not None:
        m = unit_cell.match(cells[col]) if col < len(cells) else None
        if m:
            return m["u"], m["scale"]
        # a row whose cells shifted (no 序号 on a continuation row): its unit cell is where it is
        m = next(filter(None, (unit_cell.match(c) for c in cells)), None)
        if m:
            return m["u"], m["scale"]
    label = next((c for c in cells if c and not c.isdigit()), "")   # past the 序号 cell
    m = rules.compile(r"[(（](?P<scale>{SCALE})?(?P<u>{COUNT_UNIT})[)）]$").search(label)
    if m:
        return m["u"], m["scale"]
    # 改(新)建农村户用厕所100万户以上 | 144281, 新增4000张养老床位 | 4385 | 110%: the label's own
    # figure names what the row counts
    m = rules.compile(r"\d(?:{SCALE})?(?P<u>{COUNT_UNIT})").search(label)
    if m:
        return m["u"], None
    return None


def _unitless_count(rule: Rule, rules: Rules, table: Table, head: str, offset: int) -> bool:
    """A bare number that is a count of no stated unit: under a plan or done column of a
    progress table, or in a table with a share column (转派工单 | 占比). In a table of 万元 a
    bare cell is money, not a count."""
    if not head or table.unit_at(offset):
        return False
    under, beside = rule.get("unitless_under"), rule.get("unitless_beside")
    return bool(under and rules.compile(under).search(head)) or \
        bool(beside and any(rules.compile(beside).search(h) for h in table.header))


def find_figures(doc: str, text: str, layout: Layout, rules: Rules) -> list[Fact]:
    """All figures of the text, in order of offset, with no two overlapping."""
    neg = negative_spans(text, rules)
    order = {r.id: i for i, r in enumerate(rules.rules)}
    matches = [(m, rule) for stem in FIGURE_FILES for rule in rules.of(stem)
               for m in rule.pattern.finditer(text)]
    # longest first, then earliest, then rule order; a match is vetted (_vet) only
    # when no figure already taken overlaps it: most are shadowed by a longer one
    matches.sort(key=lambda mr: (mr[0].start() - mr[0].end(), mr[0].start(), order[mr[1].id]))
    taken: list[tuple[int, int]] = []
    facts = []
    for m, rule in matches:
        if _overlaps(m.span(), taken):
            continue
        fact = _vet(doc, rule, m, text, layout, rules, neg)
        if fact is None:
            continue
        bisect.insort(taken, (fact.start, fact.end))
        facts.append(fact)
    facts.sort(key=lambda f: f.start)
    return facts


def _vet(doc: str, rule: Rule, m: regex.Match, text: str, layout: Layout, rules: Rules,
         neg: list[tuple[int, int]]) -> Fact | None:
    """The match as a figure, or None when a negative, boilerplate, a rule's requirement,
    a missing unit or an unreadable number rules it out."""
    g = m.groupdict()
    num_span = m.span("num")
    if num_span[0] < 0 or _overlaps(num_span, neg):
        return None
    if layout.in_boilerplate(m.start(), m.end()):
        return None
    if not _requires(rule, m, text, layout, rules):
        return None
    num = g["num"]
    # one lone 一 before a classifier is an idiom far more often than a count (一项, 一批)
    if rule.get("produce") == "count" and num == "一" and not g.get("scale"):
        return None
    scale = g.get("scale")
    table = layout.table_at(m.start()) if rule.get("in_table") else None
    if rule.get("in_table") and table is None:
        return None
    if table is not None and rule.get("header_not") and \
            rules.compile(rule.get("header_not")).search(layout.column_header(m.start()) or ""):
        return None                      # 项目个数 in a table of 亿元: a count column, not money
    if table is not None and rule.get("produce") == "amount":
        # a bare money cell takes the table's unit (单位：万元) as its scale
        unit = table.unit_at(m.start())
        if not unit:
            return None
        scale = {"万元": "万", "亿元": "亿", "千元": "千", "元": None}[unit]
    unit = rule.get("unit") or g.get("unit")
    if rule.get("header_unit"):
        # a bare number under a heading that names its unit (任务数(处)), or in a row that does
        head = layout.column_header(m.start()) or ""
        hm = rules.compile(r"[(（](?P<scale>{SCALE})?(?P<u>{COUNT_UNIT})[)）]").search(head)
        unit, scale = (hm["u"], hm["scale"]) if hm else \
            _row_unit(m.start(), text, layout, rules) or (None, None)
        if head and regex.search(r"率|%|序号", head):
            return None
        if not unit and not _unitless_count(rule, rules, table, head, m.start()):
            return None
    try:
        q = parse_quantity(num, scale, (g.get("pre"), g.get("mid"), g.get("mid2"), g.get("post")),
                           rules.hedges, rules.scales)
    except NumberError:
        return None
    kind = rule.get("produce")
    return Fact(doc=doc, kind=kind, value=q.value, unit=unit, approx=q.approx,
                text=m.group(0), start=m.start(), end=m.end(), rule=rule.id, quantity=q)
