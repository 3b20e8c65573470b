"""Find every figure in a text: percent (rules/percent.yaml), amount (money.yaml) and
count (count.yaml), minus the non-figures of negatives.yaml.

One overlap policy for all of them: longest match first, then earliest, then rule
order. Each figure is parsed by the one number parser (extractors/numerals.py).
"""
from __future__ import annotations

import bisect
from decimal import Decimal

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
    for k in range(i, len(spans)):     # not spans[i:]: a copy of the tail per call is quadratic
        s, e = spans[k]
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
               if rule.get("produce") != "triple" for m in rule.pattern.finditer(text)]
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
    for stem in FIGURE_FILES:
        for rule in rules.of(stem):
            if rule.get("produce") == "triple":
                facts.extend(_row_triples(doc, rule, text, layout, rules, neg, taken, facts))
    facts.sort(key=lambda f: f.start)
    return facts


def _bounds(num: str, rounded: bool) -> tuple[Decimal, Decimal, Decimal]:
    """A written number's value and the interval it stands for: 5.2 written in 万 is
    5.15..5.25万; a figure in its own unit is exact."""
    v = Decimal(num)
    dec = len(num.split(".")[1]) if "." in num else 0
    half = Decimal(1).scaleb(-dec) / 2 if dec and rounded else Decimal(0)
    return v, v - half, v + half


def _row_triples(doc: str, rule: Rule, text: str, layout: Layout, rules: Rules,
                 neg: list[tuple[int, int]], taken: list[tuple[int, int]],
                 facts: list[Fact]) -> list[Fact]:
    """Rows that reached the text flattened (万人5.2 7.23 139.1%, or one cell per line):
    three bare numbers a, b, c in a row where c is b/a in percent, as the written decimals
    allow (rounded half up or truncated; c with no % sign only under a heading that names a
    rate, 完成比例(%)). a and b become counts (amounts under a money
    unit) and c a percent when it is not one already; where a short line above names the
    columns as a plan (目标, 任务, 计划), or the row follows such a row closely, a is the
    target and b what is done, and a count in the row's label before them (新建800个行政村
    4G基站 68 68 100%) is a target too."""
    out: list[Fact] = []
    if not _NUMBER_RUN.search(text):          # no two numbers side by side: nothing to try
        return out
    cue = rules.compile(rule.get("caption")) if rule.get("caption") else None
    # the figure holding a span: facts do not overlap, so it is the last one starting at or
    # before the span (a bisect; scanning every figure per row was quadratic in the text)
    by_start = sorted(facts, key=lambda f: f.start)
    starts = [f.start for f in by_start]
    apart = all(f.end <= g.start for f, g in zip(by_start, by_start[1:]))

    def holding(sp: tuple[int, int]) -> Fact | None:
        if not apart:
            return next((f for f in facts if f.start <= sp[0] and sp[1] <= f.end), None)
        k = bisect.bisect_right(starts, sp[0]) - 1
        return by_start[k] if k >= 0 and sp[1] <= by_start[k].end else None
    done_upto = -1
    last_plan = -10**9
    for m in rule.pattern.finditer(text, overlapped=True):
        if m.start("a") < done_upto:
            continue
        spans = [m.span(g) for g in ("a", "b", "c")]
        if any(_overlaps(sp, neg) for sp in spans):
            continue
        # a and b may be figures already (a table's cells in a unit its row names): the
        # triple then only says which is planned and which is done
        have = [holding(sp) for sp in spans[:2]]
        if any(h is None and _overlaps(sp, taken) for h, sp in zip(have, spans[:2])) or \
                any(h is not None and h.kind not in ("count", "target", "actual") for h in have):
            continue
        rounded = bool(m["scale"] or m["money"] in ("万元", "亿元"))
        a, al, ah = _bounds(m["a"], rounded)
        _, bl, bh = _bounds(m["b"], rounded)
        c = Decimal(m["c"])
        if al <= 0 or c <= 0 or c > 5000:
            continue
        # b over a that is b itself means a is about 100: a rate beside two counts (98.0 6 6),
        # not a plan, unless the plan is 100
        if Decimal(m["b"]) == c and a != 100:
            continue
        # in a table with column headings, the first two are no rates and the third is one
        # unless it carries its % sign; elsewhere a bare third number is a rate only under a
        # heading above that names one (完成比例(%))
        heads = [layout.column_header(sp[0]) for sp in spans]
        if any(h and _RATE_HEAD.search(h) for h in heads[:2]):
            continue
        if not m["pct"] and not (_RATE_HEAD.search(heads[2]) if heads[2] else
                                 _plan_header(text, m.start(), _RATE_HEAD)):
            continue
        dec = len(m["c"].split(".")[1]) if "." in m["c"] else 0
        step = Decimal(1).scaleb(-dec)
        lo, hi = bl * 100 / ah, bh * 100 / al
        # rounded half up or truncated; a bare whole number with no % sign must round to c
        # (4.3 3.48 80: 80.9 truncated is 80, but the 80 is the next row's figure)
        top = c + step / 2 if not m["pct"] and not dec else c + step
        if hi < c - step / 2 or lo >= top:
            continue
        done_upto = m.end("c")
        money = m["money"] or (None if m["pre_unit"] else _money_columns(text, m.start()))
        scale = m["scale"] or ({"万元": "万", "亿元": "亿", "千元": "千"}.get(money) if money else None)
        mult = Decimal(rules.scales[scale]) if scale else Decimal(1)
        unit = "元" if money else m["unit"]
        plan = cue is not None and (m.start() - last_plan <= 400 or _plan_header(text, m.start(), cue))
        if plan:
            last_plan = m.end()
            row = text.rfind("\n", 0, m.start("a")) + 1
            for f in facts:
                if row <= f.start and f.end <= m.start("a") and f.kind in ("count", "actual"):
                    f.kind = "target"
                    f.rule += "+target.row_label"
        roles = ("amount", "amount") if money else (("target", "actual") if plan else ("count", "count"))
        a0 = m.start("pre_unit") if m["pre_unit"] else m.start("a")
        for (s, e), kind, g, h in (((a0, m.end("a")), roles[0], "a", have[0]), (m.span("b"), roles[1], "b", have[1])):
            if h is not None:
                if plan and not money and h.kind == "count":
                    h.kind = kind
                    h.rule += "+" + rule.id
                continue
            q = parse_quantity(m[g], scale, (), rules.hedges, rules.scales)
            out.append(Fact(doc=doc, kind=kind, value=Decimal(m[g]) * mult, unit=unit, approx=False,
                            text=text[s:e], start=s, end=e, rule=rule.id, quantity=q))
        cs, ce = m.start("c"), m.end("pct") if m["pct"] else m.end("c")
        if not _overlaps((cs, ce), taken):
            q = parse_quantity(m["c"], None, (), rules.hedges, rules.scales)
            out.append(Fact(doc=doc, kind="percent", value=c, unit="%", approx=False,
                            text=text[cs:ce], start=cs, end=ce, rule=rule.id, quantity=q,
                            percent_kind="completion" if plan else None))
    return out


_NUMBER_RUN = regex.compile(r"\d[ \t\n|｜]+\d")
_RATE_HEAD = regex.compile(r"率|%|％|比例|之比|百分比")
_UNIT_LINE = regex.compile(r"单位\s*[:：]\s*(?P<u>[^\n]{0,20})")
_MONEY_UNIT = regex.compile(r"(?P<m>亿元|万元|千元|元)")
_MONEY_HEAD = regex.compile(r"投资|资金|金额|收入|支出|经费|补助|预算")


def _money_columns(text: str, at: int) -> str | None:
    """The money unit of a flattened table's figures: a 单位 line above the row (within its
    run of lines) that names one, when it names no other unit or the header speaks of money
    (单位:个、亿元 above 项目个数 | 年投资计划 | 完成投资额)."""
    lo = max(0, at - 3000)
    lines = text[lo:at].split("\n")[:-1]
    money_head = False
    for line in reversed(lines):
        if "。" in line:
            return None
        money_head = money_head or bool(_MONEY_HEAD.search(line))
        u = _UNIT_LINE.search(line)
        if u:
            mm = _MONEY_UNIT.search(u["u"])
            if mm and (money_head or _MONEY_HEAD.search(line) or
                       not regex.sub(r"[亿万千]?元|[、,，\s/()（）]", "", u["u"])):
                return mm["m"]
            return None
    return None


def _plan_header(text: str, at: int, cue: regex.Pattern) -> bool:
    """Whether a short line above the row, within the table-like run of lines that holds
    it (no sentence ends in between), names the columns as a plan."""
    lo = max(0, at - 3000)
    for line in reversed(text[lo:at].split("\n")[:-1]):
        if "。" in line:
            return False
        if len(line.strip()) <= 60 and cue.search(line):
            return True
    return False


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
        # the first cell of a row whose next cell names the item (10 | 完成…配电网改造) is
        # its 序号, whatever heading the table kept
        if (m.start() == 0 or text[m.start() - 1] == "\n") and \
                regex.match(r"\t[^\t\n]*\p{Han}", text[m.end():m.end() + 40]):
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
