"""The only stage that looks across figures: which project a figure belongs to, which
counts a percentage rests on (ratio groups), and which figures are the parts of a
stated total (sum groups). Cue words are data (rules/link.yaml).

Ratio groups
  R1 completion percent over counts: numerator = the nearest count before it in the
     same clause run that is not a target (nor a part after 其中; the k-th one for the k-th
     rate of a 分别 list); denominator = a target in that run, else the project's target
     (its item, or its own heading's title or first sentences), else the whole before 中.
  R2 completion percent over money: numerator = the nearest amount before it;
     denominator = a plan amount (安排/计划/总投资) earlier in the same section.
  R3 share: "50件…中48件…,占比96%"; R4 the whole named or written inside the 占 phrase;
     R5 a bare 占N% of the total a part belongs to. Table rows: roles from column headings.
Sum groups
  S1 total, then 其中/即/分别为/(…) and its parts (also opening the next sentence, or with
  no total before it: then only an equal earlier figure); splits by source; S2 parts, then
  共计 total; S3 "N件…中, a件…, b件"; S4 a status partition (已完工/正在施工/未开工)
  against the project's target or an equal earlier count; S5 a project's sub-items (①②③)
  against its title; S6 children's intro counts (涉及6件实事) or planned amounts against the
  parent's; S7 a target table's per-place rows against the item's target; S8 an anaphoric
  total (该10件) of the sentence before; S9 a table's 合计 row (below its rows, or heading
  them), column by column; S10 a run of sibling figures that adds up exactly to a stated
  whole (a partition the arithmetic shows).
The R strategies are the wording's reading only: every percentage (but a growth rate) also
carries the readings the structure allows (pipeline/operands.py), and the check stage takes
the first under which the reported figure follows. A reading is firm (its failure is an
error of the report) only where the words tie the rate to its counts.
A group that cannot show its breakdown is complete only allows a consistent verdict
(else unverifiable): arithmetic errors are reported only where the text leaves no doubt.
"""
from __future__ import annotations

import bisect

from dataclasses import dataclass, field

import regex

from extractors.context import COORDINATED as _COORDINATED
from extractors.numerals import NumberError, parse_plain
from pipeline.operands import NEAR_TIERS, Operands, Reading
from pipeline.rules import Rules
from pipeline.segment import Layout
from pipeline.types import Fact, Section

PEOPLE = {"名", "人", "人次"}
# readings whose operands the words themselves name (a table row's columns, the whole written
# inside the 占 phrase), like a count against its own project's target: when the arithmetic
# fails under them, the report is wrong
FIRM_RULES = {"ratio.table_row", "ratio.share_of_named", "ratio.share_of_total", "ratio.share_of_breakdown"}

# punctuation-level patterns the grouping code uses (the language cues are in rules/link.yaml)
_BREAKDOWN = regex.compile(r"其中[,，:：]?", regex.V1)
_SPLIT_BREAKDOWN = regex.compile(r"其中[,，:：]?|[:：]", regex.V1)
LEAD_WHOLE_REACH = 2000    # characters before a sentence whose opening names its whole
# a sentence that opens by naming the whole its shares are of (在立案的提案中, 所有建议中)
_LEAD_WHOLE = regex.compile(r"\s*(?:在|从)?(?P<label>\p{Han}{2,6}?)的?\p{Han}{0,4}?中[,，]", regex.V1)
# the breakdown opens the next sentence (停车泊位8000个。其中… / 住房保障类(793件,占比17.36%)。
# 主要涉及物业管理390件、…)
_NEXT_SENTENCE_BREAKDOWN = regex.compile(
    r"(?:[,，]\s*占比?\s*\d+(?:\.\d+)?%)?[^\d,，;；。]{0,12}?。((?:其中|主要涉及|主要包括|具体包括)[,，:：]?)",
    regex.V1)
# a 其中 list that opens its sentence, its items ended by ；
_PARALLEL_LIST = regex.compile(r"(?<=[。\n])\s*其中[,，:：]?", regex.V1)
_ITEM_END = regex.compile(r"[;；]", regex.V1)
# the words right before a figure, without a year, 其中/共 or the like at their head
_LABEL_BEFORE = regex.compile(
    r"(?:其中|共计|共|合计|总计|全年|今年|年度|年|月)?(?P<label>\p{Han}{2,8})\s*$", regex.V1)
_NESTED_BREAKDOWN = regex.compile(r"^[^\d;；。]{0,20}?其中", regex.V1)
_CLAUSE_MARK = regex.compile(r"[,，;；]", regex.V1)
_PLACE_TAIL = regex.compile(r"[:：]$|各\p{Han}{0,2}$|共$", regex.V1)
_PAREN = regex.compile(r"[(（][^)）]*[)）]", regex.V1)
_BRACKET_AFTER = regex.compile(r"\s*[(（][^)）。]{0,30}[)）]", regex.V1)   # right after a figure
_NOUN = regex.compile(r"\p{Han}{1,4}", regex.V1)



@dataclass
class RatioGroup:
    percent: Fact
    numerator: Fact | None
    denominator: Fact | None
    rule: str
    reason: str = ""
    # the other readings the structure allows, in the order to try them (pipeline/operands.py)
    readings: list[Reading] = field(default_factory=list)
    firm: bool = False                   # the wording leaves no doubt: its failure is an error


@dataclass
class SumGroup:
    total: Fact
    parts: list[tuple[Fact, int]]        # each part and how many times it counts (各N)
    rule: str
    complete: bool                       # the text shows the breakdown is exhaustive
    prefix_ok: bool = False              # a list that may run on past its total (S3)
    over_is_error: bool = False          # parts adding to more than the total is an error
    reason: str = ""


@dataclass
class Links:
    ratios: list[RatioGroup] = field(default_factory=list)
    sums: list[SumGroup] = field(default_factory=list)


def compatible(u1: str | None, u2: str | None) -> bool:
    """Units that may be added together: equal, people, or 个 (the general classifier)."""
    if u1 == u2:
        return True
    if u1 in PEOPLE and u2 in PEOPLE:
        return True
    return "个" in (u1, u2) or {u1, u2} <= {"件", "项"}


class Linker:
    def __init__(self, text: str, layout: Layout, facts: list[Fact], rules: Rules):
        self.text, self.layout, self.facts, self.rules = text, layout, facts, rules
        conf = rules.extra["link"]
        self.conf = conf
        c = rules.compile
        self.re_breakdown = c(conf["breakdown_after_total"])
        self.re_total_after = c(conf["total_after_parts"])
        self.re_total_then = c(conf["total_then_parts"])
        self.re_anaphor = c(conf["anaphoric_total"])
        self.re_complete = c(conf["complete_breakdown"])
        self.re_subitems = c(conf["subitem_count"])
        self.re_parts_announced = c(conf["parts_announced"])
        self.re_status = {k: c(v) for k, v in conf["status"].items()}
        self.re_remainder = c(conf["remainder"])
        self.re_progress = c(conf["progress"])
        self.re_respective = c(conf["respective_list"])
        self.re_level_head = c(conf["level_head"])
        self.re_place_count = c(conf["place_count"])
        self.re_plan = c(conf["plan_amount"])
        self.re_split_source = c(conf["split_by_source"])
        self.re_plan_head = c(conf["table_plan_heading"])
        self.re_done_head = c(conf["table_done_heading"])
        self.re_place_part = c(conf["place_part"])
        self.re_share_whole = c(conf["share_whole"])
        self.re_whole_cue = c(conf["whole_cue"])
        self.re_list_mark = c(conf["list_mark"])
        self.re_share_label = c(conf["share_label"])
        self.re_share_bare = c(conf["share_bare"])
        self.sum_groups: list[SumGroup] = []
        self.re_label_trim = c(conf["share_label_trim"])
        self.parts_of_sums: set[int] = set()      # ids of facts used as parts
        self._starts: list[int] | None = None     # facts' starts, for near()
        self._labelled: dict[str, tuple[list[Fact], list[int]]] = {}   # labelled_candidates
        self._part_index: tuple[int, dict[int, SumGroup]] | None = None   # group_of_part

    # ---- helpers -------------------------------------------------------------
    def scope(self, f: Fact, kind: str) -> tuple[int, int]:
        return self.layout.scope(f.start, kind, f.end)

    def between(self, a: int, b: int, kinds: tuple[str, ...]) -> list[Fact]:
        return [f for f in self.near(a, b) if a <= f.start and f.end <= b and f.kind in kinds]

    def near(self, a: int, b: int) -> list[Fact]:
        """The facts starting in [a, b], in order: a bisect of the facts (sorted by start),
        so asking per figure does not scan them all (that made cost grow with the square
        of a text's size)."""
        if self._starts is None:
            starts = [f.start for f in self.facts]
            self._starts = starts if all(x <= y for x, y in zip(starts, starts[1:])) else []
        if not self._starts and self.facts:      # not sorted: scan, as before
            return self.facts
        return self.facts[bisect.bisect_left(self._starts, a):bisect.bisect_right(self._starts, b)]

    @staticmethod
    def stock(f: Fact) -> bool:
        """A quantity in its own right: not a rate (30万元/个, 各…) nor a change (比上年增加…)."""
        return not f.per_unit and not f.delta

    def is_count(self, f: Fact) -> bool:
        return f.kind in ("count", "target", "actual") and self.stock(f)

    def item_of(self, f: Fact) -> Section | None:
        """The project a figure belongs to: the outermost item (1., ①, a table item) or,
        failing that, the innermost heading whose title states a target ((六)新建公厕150座)."""
        item = self.layout.outer_item(f.start)
        if item is not None:
            return item
        # only the figure's own heading (an inline 一是 aside): a parent's plan is another project's
        sec = self.layout.section_at(f.start)
        own = next((s for s in [sec, *self.layout.ancestors(sec)] if 0 < s.level < 5), None)
        if own is not None and (self.title_targets(own) or self.lead_targets(own)):
            return own
        return None

    def lead_targets(self, sec: Section) -> list[Fact]:
        """Targets in the first sentences of a heading's body: (二)城镇老旧小区改造。市住建局牵头。
        全年计划改造城镇老旧小区96个,其中… (only used for counts in the very same unit)."""
        end = sec.title_end
        for _ in range(3):
            nxt = self.text.find("。", end + 1, sec.end)
            end = nxt if nxt > 0 else sec.end
        lead = self.between(sec.title_end, end, ("target",))
        return [t for t in lead if id(t) not in self.parts_of_sums]

    def times(self, f: Fact) -> int:
        """How many places a 各N figure stands for (永济、河津各新建4个 -> 2)."""
        if f.each is None:
            return 1
        a, _ = self.scope(f, "clause")
        head = self.text[a:f.start]
        head = head[: head.rfind("各")] if "各" in head else head
        m = self.re_place_count.search(head)
        if m:
            try:
                return int(parse_plain(m.group("n"))[0])
            except NumberError:
                return 1
        head = _SPLIT_BREAKDOWN.split(head)[-1]
        return len([p for p in head.split("、") if p.strip()]) or 1

    # ---- projects ------------------------------------------------------------
    def attribute(self) -> None:
        for f in self.facts:
            sec = self.layout.section_at(f.start)
            chain = [sec, *self.layout.ancestors(sec)]
            items = [s for s in chain if s.level >= 3]
            named = [s for s in chain if s.level > 0 and s.title]
            if items:
                top = items[-1]
                f.project = clean_title(top.title)
                sub = [s for s in items if s is not top]
                f.sub_item = clean_title(sub[-1].title) if sub else None
            elif named:
                f.project = clean_title(named[0].title)
            f.section = sec.index
            if f.each is not None:
                f.each = self.times(f)
            if "table_breakdown" in f.rule or "table_place_cell" in f.rule:
                c0, _ = self.scope(f, "cell")
                head = _CLAUSE_MARK.split(self.text[c0:f.start])[-1]
                f.place = _PLACE_TAIL.sub("", head).strip() or None

    # ---- sums ----------------------------------------------------------------
    def sums(self) -> list[SumGroup]:
        out: list[SumGroup] = []
        for f in self.facts:
            if f.kind == "percent" or f.per_unit or f.delta:
                continue
            for g in (self.s1_breakdown(f), self.s2_total_after(f), self.s3_total_then(f),
                      self.s8_anaphor(f)):
                if g:
                    out.append(g)
        out += self.s1_headless()
        parallel = self.s1_parallel()
        if parallel:     # a whole read through its label gives way to no coarser reading
            wholes = {id(g.total) for g in parallel}
            out = [g for g in out if id(g.total) not in wholes] + parallel
        out += self.s1_by_source()
        # the parts of a planned total are planned too (其中,中心城区建设18个 under 建设城市书房30个)
        for g in out:
            if g.total.kind == "target":
                for p, _ in g.parts:
                    # a count of projects stays one (教育事业初排6个项目 under 17个 projects)
                    if p.kind == "count" and "count.of_projects" not in p.rule:
                        p.kind = "target"
                        p.rule += "+link.part_of_target"
        # parts of written breakdowns are not project targets for the partitions below
        for g in out:
            self.parts_of_sums.update(id(p) for p, _ in g.parts)
        # sub-item targets and table rows stay targets of their own (sub-)projects
        out += self.s4_status()
        out += self.s5_subitems()
        out += self.s6_children()
        out += self.s7_table_rows()
        out += self.s9_total_rows()
        out += self.s10_partitions(out)
        return out

    def s10_partitions(self, found: list[SumGroup]) -> list[SumGroup]:
        """A stated whole and a later run of sibling figures that add up to it exactly
        (共收到建议1034件 … 已解决363件,占35.1%;正在解决403件…;留作参考268件…): the arithmetic
        is the evidence that the run is a partition of the whole, so the verdict is only ever
        consistent. A run starts at a sentence, a clause after 其中/:, or a table column, and
        takes the figures of the whole's sort in order (percentages between them are skipped)."""
        known = {(id(g.total), tuple(id(f) for f, _ in g.parts)) for g in found}
        taken = {id(f) for g in found for f, _ in g.parts}     # parts of a written breakdown
        stock = [f for f in self.facts if f.kind != "percent" and self.stock(f) and f.value and f.each is None]
        out = []
        starts: dict[int, str | None] = {}          # run_start per figure, asked once
        for i, w in enumerate(stock):
            cued = None                             # whole_stated(w), asked only on a match
            # the parts follow within a few paragraphs (■按项目类别统计:… in the lines below)
            reach = self.layout.lines_after(w.end, 3)     # its own line and the next three
            sec = self.layout.section_at(w.start)
            if sec.level > 0:
                reach = min(reach, sec.end)
            sort = []      # stock is sorted by start: stop at reach, no copy of the tail
            for j in range(i + 1, len(stock)):
                if stock[j].start >= reach:
                    break
                if _same_sort(w, stock[j]):
                    sort.append(stock[j])
            k = 0
            while k < len(sort):
                # the arithmetic first (cheap, and rarely met), then what the words allow
                j = self.partition_end(w, sort, k, taken)
                if j is not None:
                    if id(sort[k]) not in starts:
                        starts[id(sort[k])] = self.run_start(sort[k])
                    start = starts[id(sort[k])]
                    if cued is None:
                        cued = self.whole_stated(w)
                    # an uncued whole needs its list announced (其中, 按…统计:, 从…看); a stated
                    # whole may be followed by its parts in its own sentence (受理2917件,已处理
                    # 2349件,正在办理568件)
                    follows = k == 0 and cued and self.scope(w, "sentence") == self.scope(sort[0], "sentence")
                    if not (start == "marker" or (start == "sentence" and cued) or follows):
                        j = None
                if j is None:
                    k += 1
                    continue
                parts = [(f, 1) for f in sort[k:j + 1]]
                key = (id(w), tuple(id(f) for f, _ in parts))
                if key not in known:
                    known.add(key)
                    out.append(SumGroup(w, parts, "sum.partition", complete=False,
                                        reason="the parts add up to the whole"))
                k = j + 1                # a second partition of the same whole may follow
        # 57.3亿 = 28.5 + 12.2 + 16.6 is the list's whole; 60.8亿 = the same three + 3.5 is a
        # coincidence of nesting: a partition holding another's parts and more gives way
        sets = [{id(f) for f, _ in g.parts} for g in out]
        return [g for g, a in zip(out, sets) if not any(b < a for b in sets)]

    @staticmethod
    def partition_end(w: Fact, sort: list[Fact], k: int, taken: set[int]) -> int | None:
        """The index j > k at which sort[k..j] adds up to w, if any: exactly, or for a rounded
        whole (39.2亿) to its written precision with few parts, so coincidences stay rare."""
        q = w.quantity
        # (a whole number of 亿 is rounded too, but only a written decimal makes a finder
        # tolerant: an exact sum is the evidence here)
        step = q.step if q is not None and q.rounded and q.decimals > 0 else 0
        total = 0
        for j in range(k, len(sort)):
            if id(sort[j]) in taken:
                return None
            total += sort[j].value
            if j - k >= (4 if step else 8):
                return None
            if j > k and abs(total - w.value) <= step / 2:
                return j
            if total > w.value + step:
                return None
        return None

    def whole_stated(self, f: Fact) -> bool:
        """A figure stated as a whole: a whole cue before it (共, 受理, 全年计划 …) or a breakdown
        after it (…,其中 / 中,)."""
        a, b = self.scope(f, "clause")
        if self.re_whole_cue.search(self.text[a:f.start]):
            return True
        end = self.scope(f, "semi")[1]
        # a breakdown may open the next sentence (立案799件。其中:…)
        return bool(self.re_breakdown.search(self.text[f.end:end + 4])
                    or self.re_total_then.search(self.text[f.end:end]))

    def run_start(self, f: Fact) -> str | None:
        """Where a list of parts may begin: 'marker' for the first figure of its sort after
        其中, 中, 看 or a colon (按项目类别统计:产业发展项目172个); 'sentence' for the first
        figure of its sort in a sentence, a line or a cell; else None."""
        s0, _ = self.scope(f, "sentence")
        money = f.kind == "amount"
        before = [g for g in self.between(s0, f.start, ("count", "target", "actual", "amount"))
                  if (g.kind == "amount") == money]
        marks = list(self.re_list_mark.finditer(self.text, s0, f.start))
        if marks and not any(g.start >= marks[-1].end() for g in before):
            return "marker"
        return "sentence" if not before else None

    def s9_total_rows(self) -> list[SumGroup]:
        """A table's 合计 row against the rows above it, column by column; or a total row that
        heads the table (全市 | 27800 | … over the counties' rows) against the rows below it.
        Rows with fewer cells than the total row are out of its columns: leaving them out,
        the list may miss parts, so such a column can only be found consistent."""
        out = []
        total_re = self.rules.compile(self.rules.extra["segment"]["table_total_row"])
        for table in self.layout.tables:
            rows = [(a, b) for a, b in table.rows if "\t" in self.text[a:b]]
            body = rows[1:] if table.header else rows
            totals = [k for k, (a, b) in enumerate(body) if total_re.match(self.text[a:b].split("\t")[0].strip())]
            for k in totals:
                a, b = body[k]
                cells = self.text[a:b].split("\t")
                after = body[k + 1:next((t for t in totals if t > k), len(body))]
                others = body[:k] if k >= 2 else after if k == 0 and len(after) >= 2 else []
                aligned = [(ra, rb) for ra, rb in others if self.text[ra:rb].count("\t") == len(cells) - 1]
                whole = len(aligned) == len(others)
                for col in range(1, len(cells)):
                    total = self.cell_figure(a, b, col)
                    if total is None or total.kind == "percent" or len(aligned) < 2:
                        continue
                    parts = [self.cell_figure(ra, rb, col) for ra, rb in aligned]
                    if any(p is not None and p.kind == "percent" for p in parts):
                        continue
                    found = [p for p in parts if p is not None]
                    if len(found) < 2:
                        continue
                    out.append(SumGroup(total, [(p, 1) for p in found], "sum.table_total_row",
                                        complete=whole and len(found) == len(parts)))
        return out

    def cell_figure(self, a: int, b: int, col: int) -> Fact | None:
        """The one figure in column col of the row [a, b), if there is exactly one."""
        line = self.text[a:b]
        cells = line.split("\t")
        if col >= len(cells):
            return None
        start = a + sum(len(c) + 1 for c in cells[:col])
        got = self.between(start, start + len(cells[col]), ("count", "target", "actual", "amount", "percent"))
        return got[0] if len(got) == 1 else None

    def _parts(self, total: Fact, a: int, b: int, nested_stop: bool = True) -> list[tuple[Fact, int]]:
        kinds = ("amount",) if total.kind == "amount" else ("count", "target", "actual")
        parts = []
        for p in self.between(a, b, kinds):
            if p is total or p.per_unit or p.delta:
                continue
            if total.kind != "amount" and not compatible(p.unit, total.unit):
                continue
            parts.append((p, p.each or 1))
        return parts

    def s1_headless(self) -> list[SumGroup]:
        """其中 opening a clause run with no total before it in that run (按资金来源分,其中…):
        the total is an earlier figure of the paragraph that the parts add up to, if any."""
        out = []
        for m in _BREAKDOWN.finditer(self.text):
            a, b = self.layout.scope(m.start(), "semi")
            if self.between(a, m.start(), ("count", "target", "actual", "amount")):
                continue
            s0, s1 = self.layout.scope(m.start(), "sentence")
            if s0 == a and not self.text[s0:m.start()].strip() or m.group(0).endswith((":", "：")):
                b = s1                 # 。其中: opens a list that runs to the sentence's end
            inside = self.between(m.end(), b, ("count", "target", "actual", "amount"))
            inside = [f for f in inside if self.stock(f)]
            if not inside:
                continue
            # the list is of the first part's sort: counts, or money
            inside = [f for f in inside if (f.kind == "amount") == (inside[0].kind == "amount")]
            if len(inside) < 2 and not any((f.each or 1) > 1 for f in inside):
                continue
            first = inside[0]
            parts = self._parts(first, m.end(), b)
            parts = [(first, first.each or 1)] + parts
            total_v = sum(f.value * n for f, n in parts)
            sec = self.layout.section_at(m.start())
            la = sec.start
            for c in reversed(self.between(la, a, (first.kind,) if first.kind == "amount" else
                                           ("count", "target", "actual"))):
                if c.value == total_v and not c.per_unit and (c.kind == "amount" or compatible(c.unit, first.unit)):
                    out.append(SumGroup(c, parts, "sum.breakdown_of_earlier", complete=False))
                    break
        return out

    def s1_by_source(self) -> list[SumGroup]:
        """按资金来源分,中央资金14.2亿元、省级资金6.35亿元…: the amounts split the one stated
        just before (安排资金总额26.4亿元), level by level."""
        out = []
        for m in self.re_split_source.finditer(self.text):
            a, b = self.layout.scope(m.end(), "semi")
            parts = self.enumeration(self._parts_kind("amount", m.end(), b))
            if len(parts) < 2 or not self.by_level(parts):
                continue
            sec = self.layout.section_at(m.start())
            prior = [f for f in self.between(sec.start, m.start(), ("amount",)) if self.stock(f)]
            if prior:
                out.append(SumGroup(prior[-1], parts, "sum.split_by_source", complete=True))
        return out

    def _parts_kind(self, kind: str, a: int, b: int) -> list[tuple[Fact, int]]:
        return [(f, f.each or 1) for f in self.between(a, b, (kind,)) if self.stock(f)]

    def disjoint_places(self, parts: list[tuple[Fact, int]]) -> bool:
        """Every part is named by a place: places do not overlap."""
        return all(self.place_named(f) for f, _ in parts)

    def by_level(self, parts: list[tuple[Fact, int]]) -> bool:
        """Money split by paying level (中央…, 省级…, 市级…) lists every level that paid."""
        levels = [f.level for f, _ in parts]
        return all(f.kind == "amount" for f, _ in parts) and None not in levels and len(set(levels)) == len(levels)

    def homogeneous(self, t: Fact, parts: list[tuple[Fact, int]]) -> list[tuple[Fact, int]]:
        """The parts of one breakdown are of one sort: a list ends where the text turns to what is
        done (…各1个,目前已建成4个: the 4 is progress, not a part), and where some parts count in
        the total's own unit, parts in 个 are of something else (4所 …, 新增学位720个)."""
        if not parts:
            return parts
        same = lambda f: f.unit == t.unit or f.unit in PEOPLE and t.unit in PEOPLE
        if t.kind != "amount" and len(parts) >= 4 and 2 * sum(same(f) for f, _ in parts) < len(parts):
            return []            # 26个指标,分别是:…3290公里…174所…115个: a list of things, each with its own figure
        big = next((k for k, (f, _) in enumerate(parts) if t.kind != "amount" and f.value > t.value), None)
        if big is not None:
            # a count larger than the whole is no part of it: the list has run on past its end
            # (立案236件,其中…162件,…74件,…经分解形成880件), or each item counts its own
            # (八大工程分别是:职业教育项目148个…)
            parts = parts[:big] if big >= 2 else []
        if t.kind != "amount" and any(same(f) for f, _ in parts):
            parts = [(f, n) for f, n in parts if same(f)]
        elif t.kind != "amount" and (t.unit in PEOPLE or t.unit in ("户", "户次")):
            parts = [(f, n) for f, n in parts if f.unit != "个"]   # 2.3万户 is not split in 个
        # …各1个,目前已建成4个,其余2个: the list ends where the text turns to progress
        if parts and self.status_of(parts[0][0]) is None:
            for k, (f, _) in enumerate(parts[1:], 1):
                a, _ = self.scope(f, "clause")
                if self.re_remainder.search(self.text[a:f.start]):
                    continue             # 其它方面2件 closes the list; it does not turn to progress
                if self.status_of(f) is not None or self.re_progress.search(self.text[a:f.start]):
                    return parts[:k]
        return parts

    def place_named(self, f: Fact) -> bool:
        a, _ = self.scope(f, "clause")
        return bool(self.re_place_part.search(self.text[a:f.start]))

    def enumeration(self, parts: list[tuple[Fact, int]]) -> list[tuple[Fact, int]]:
        """A list whose items are joined by 、 ends at the first comma after it
        (…县级配套资金10.8亿元,带动社会投资约6亿元: the 6亿 is not a part)."""
        if len(parts) < 2:
            return parts
        gap = self.text[parts[0][0].end:parts[1][0].start]
        if "、" not in gap or _CLAUSE_MARK.search(gap):
            return parts
        for k in range(1, len(parts) - 1):
            gap = self.text[parts[k][0].end:parts[k + 1][0].start]
            # …沙县区14个,其余8县共32个: the remainder still belongs to the list; so does a
            # clause that opens with the next paying level (…已全部到位,市级资金到位4800万元),
            # but not one that brings other money in (…,带动社会投资约6亿元)
            seen = {f.level for f, _ in parts[: k + 1]}
            nxt = parts[k + 1][0]
            after_comma = _CLAUSE_MARK.split(gap)[-1]
            next_level = (None not in seen and nxt.level is not None and nxt.level not in seen
                          and self.re_level_head.match(after_comma))
            more_places = self.place_named(parts[k][0]) and self.place_named(nxt)
            if _CLAUSE_MARK.search(gap) and not self.re_remainder.search(gap) and not next_level \
                    and not more_places:
                return parts[: k + 1]
        return parts

    def s1_breakdown(self, t: Fact) -> SumGroup | None:
        a, b = self.scope(t, "semi")
        m = self.re_breakdown.search(self.text[t.end:b])
        if m and self.between(t.end, t.end + m.start(), ("count", "target", "actual", "amount", "percent")):
            # another figure stands between: the breakdown is that figure's, unless the parts
            # count in this total's unit and not in the other's (改造老旧小区186个,惠及居民
            # 2.3万户,其中茅箭区48个…)
            between = self.between(t.end, t.end + m.start(), ("count", "target", "actual", "amount"))
            first = next(iter(self._parts(t, t.end + m.end(), b)), None)
            if first is None or t.kind == "amount" or first[0].unit != t.unit or \
                    any(f.unit == t.unit for f in between):
                return None
        if m:
            start = t.end + m.end()
        else:
            # 新增城区停车泊位8000个。其中…: the breakdown opens the next sentence
            m = _NEXT_SENTENCE_BREAKDOWN.match(self.text[t.end:b + 8])
            if not m:
                return None
            start = t.end + m.end()
            # a list that opens its own sentence runs to the sentence's end (其中,咨询类…;求助类…)
            _, b = self.layout.scope(start, "sentence")
        if m.group(0).rstrip().endswith((":", "：")):
            _, b = self.scope(t, "sentence")
        if m.group(0).rstrip().endswith(("(", "（")):
            close = self.text.find(")", start, b)
            close2 = self.text.find("）", start, b)
            ends = [x for x in (close, close2) if x >= 0]
            b = min(ends) if ends else b
        parts = self.homogeneous(t, self.enumeration(self._parts(t, start, b)))
        if len(parts) < 2 and not any(n > 1 for _, n in parts):
            return None
        region = self.text[start:parts[-1][0].end]
        # 分别为… names every part; a remainder or a split by paying level does too
        complete = bool(self.re_complete.search(region) or self.re_respective.search(m.group(0))) \
            or self.by_level(parts)
        return SumGroup(t, parts, "sum.breakdown", complete=complete, over_is_error=self.disjoint_places(parts),
                        reason="" if complete else "the 其中 list may name only some of the parts")

    def s1_parallel(self) -> list[SumGroup]:
        """Wholes whose breakdown repeats their labels item by item: 项目5132个,总投资23395亿元,
        年度投资4910亿元。其中新开工项目2191个,总投资15237亿元,年度投资1460亿元;续建项目1999个,
        总投资5594亿元,年度投资2344亿元;… Each whole takes, from every ；-item of the 其中 list
        that opens the next sentence, the one figure of its sort under its own label. When one
        label's figures add up exactly, the list names every item, and so a label whose
        figures do not is an error of the text."""
        out = []
        for m in _PARALLEL_LIST.finditer(self.text):
            s0, _ = self.layout.scope(m.start() - 1, "sentence")     # the lead sentence
            _, end = self.layout.scope(m.end(), "sentence")
            cuts = [m.end()] + [x.end() for x in _ITEM_END.finditer(self.text, m.end(), end)] + [end]
            items = [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]
            if len(items) < 2:
                continue
            groups = []
            for w in self.between(s0, m.start(), ("count", "target", "actual", "amount")):
                label = self.label_of(w)
                if not label or not self.stock(w):
                    continue
                parts = []
                for a, b in items:
                    same = [p for p, _ in self._parts(w, a, b) if self.label_of(p) == label]
                    if len(same) != 1:
                        break
                    parts.append((same[0], 1))
                if len(parts) == len(items):
                    groups.append((w, parts))
            exact = any(self.partition_end(w, [p for p, _ in parts], 0, set()) == len(parts) - 1
                        for w, parts in groups)
            out += [SumGroup(w, parts, "sum.parallel", complete=exact, over_is_error=True,
                             reason="" if exact else "the 其中 list may name only some of the items")
                    for w, parts in groups]
        return out

    def label_of(self, f: Fact) -> str | None:
        """The words a figure is stated under (总投资, 年度计划投资, 累计完成投资), read back to
        the clause's start or a number, a year or 其中/共 at their head left out."""
        a, _ = self.scope(f, "clause")
        m = _LABEL_BEFORE.search(self.text, a, f.start)
        return m.group("label") if m else None

    def s2_total_after(self, t: Fact) -> SumGroup | None:
        a, _ = self.scope(t, "semi")
        c0, _ = self.scope(t, "clause")
        if not self.re_total_after.search(self.text[c0:t.start]):
            return None
        head = self.text[a:t.start]
        k = max(head.rfind("其中"), head.rfind("即"))
        start = a + k if k >= 0 else a
        parts = self._parts(t, start, t.start)
        # 在涪城区、游仙区、江油市各新建2个…,共6个: one figure standing for several places
        if len(parts) < 2 and not any(n > 1 for _, n in parts):
            return None
        return SumGroup(t, parts, "sum.total_after_parts", complete=True)

    def s3_total_then(self, t: Fact) -> SumGroup | None:
        if not self.is_count(t):
            return None
        _, b = self.scope(t, "sentence")
        m = self.re_total_then.search(self.text[t.end:b])
        if not m:
            return None
        start = t.end + m.end()
        parts = []
        skip_to = -1
        for p in self._parts(t, start, b):
            f = p[0]
            if f.start < skip_to:
                continue
            parts.append(p)
            # a part followed by 其中 has sub-parts up to the next ；: they are not siblings
            _, pb = self.scope(f, "semi")
            if _NESTED_BREAKDOWN.match(self.text[f.end:pb]):
                skip_to = pb
        if len(parts) < 2:
            return None
        # 34个子项目中,已完成的3个,超过序时的19个,滞后的11个: every part has a status and one of
        # them closes the list (滞后, 未开工, 其余): the list is the whole
        statuses = [self.status_of(f) for f, _ in parts]
        closed = None not in statuses and "pending" in statuses
        return SumGroup(t, parts, "sum.total_then_parts", complete=closed, prefix_ok=True,
                        reason="" if closed else "the parts after 中 may run on past this total")

    def s8_anaphor(self, t: Fact) -> SumGroup | None:
        if not self.is_count(t):
            return None
        a, _ = self.scope(t, "clause")
        if not self.re_anaphor.search(self.text[max(a, t.start - 2):t.start]):
            return None
        s0, _ = self.scope(t, "sentence")
        if s0 == 0:
            return None
        p0, _ = self.layout.scope(s0 - 1, "sentence")
        parts = self._parts(t, p0, s0 - 1)
        if len(parts) < 2:
            return None
        return SumGroup(t, parts, "sum.anaphoric_total", complete=False,
                        reason="the sentence before may not list every part")

    def status_of(self, f: Fact) -> str | None:
        a, b = self.scope(f, "clause")
        before, after = self.text[a:f.start], self.text[f.end:b]
        if self.re_remainder.search(before[-4:]):
            return "pending"
        best = None
        for name, rx in self.re_status.items():
            m = rx.search(before)
            if m and (best is None or m.end() > best[1]):
                best = (name, m.end())
        if best:
            return best[0]
        # the status may follow the figure, past a parenthesis: 1项(…项目)因故暂缓实施
        after = _PAREN.sub("", after)[:16]
        for name, rx in self.re_status.items():
            if rx.search(after):
                return name
        return None

    def s4_status(self) -> list[SumGroup]:
        out = []
        groups: list[list[tuple[Fact, str]]] = []
        cur: list[tuple[Fact, str]] = []
        cur_sent = None
        for f in self.facts:
            if not self.is_count(f) or id(f) in self.parts_of_sums:
                continue
            st = self.status_of(f)
            if st is None:
                continue
            sent = self.scope(f, "line")
            if cur and (sent != cur_sent or st in {s for _, s in cur} or
                        not compatible(f.unit, cur[0][0].unit)):
                groups.append(cur)
                cur = []
            cur.append((f, st))
            cur_sent = sent
        if cur:
            groups.append(cur)
        for g in groups:
            if len(g) < 2:
                continue
            parts = [(f, 1) for f, _ in g]
            complete = any(s == "pending" for _, s in g)
            first = g[0][0]
            total = self.project_target(first, exclude={id(f) for f, _ in g})
            if total is not None and compatible(total.unit, first.unit):
                out.append(SumGroup(total, parts, "sum.status_partition", complete=complete,
                                    reason="" if complete else "no count of what is not started"))
                continue
            # no project target: an earlier count of the section that the parts add up to
            # (the section, not the line: a PDF may break a paragraph after any 。)
            la = self.layout.section_at(first.start).start
            s = sum(f.value for f, _ in g)
            for c in reversed(self.between(la, first.start, ("count", "target", "actual"))):
                if c.value == s and compatible(c.unit, first.unit) and not c.per_unit:
                    out.append(SumGroup(c, parts, "sum.status_partition", complete=complete))
                    break
        return out

    def title_targets(self, sec: Section) -> list[Fact]:
        return [f for f in self.near(sec.start, sec.title_end) if f.kind == "target" and sec.start <= f.start < sec.title_end]

    def s5_subitems(self) -> list[SumGroup]:
        out = []
        for sec in self.layout.sections:
            if sec.level not in (1, 2, 3):
                continue
            tt = self.title_targets(sec)
            kids = [k for k in self.layout.children(sec) if k.level == 4]
            if not tt or len(kids) < 2:
                continue
            total = tt[0]
            parts = []
            for k in kids:
                kt = [f for f in self.title_targets(k) if compatible(f.unit, total.unit)]
                if not kt:
                    break
                parts.append((kt[0], 1))
            else:
                body = self.text[sec.title_end:kids[0].start]
                m = self.re_subitems.search(body)
                n = None
                if m:
                    try:
                        n = int(parse_plain(m.group("n") or m.group("n2"))[0])
                    except NumberError:
                        n = None
                complete = n == len(kids)
                out.append(SumGroup(total, parts, "sum.subitems", complete=complete,
                                    reason="" if complete else "the project does not say how many sub-items it has"))
        return out

    def s6_children(self) -> list[SumGroup]:
        out = []
        maxlen = int(self.conf.get("child_intro_max", 60))
        for sec in self.layout.sections:
            if sec.level not in (0, 1, 2):
                continue
            kids = [k for k in self.layout.children(sec) if k.level <= 3]
            kids = [k for k in kids if k.level == kids[0].level] if kids else []
            if len(kids) < 2:
                continue
            out += self.s6_plan_money(sec, kids)
            body = self.between(sec.title_end, kids[0].start, ("count", "target", "actual"))
            for unit in dict.fromkeys(f.unit for f in body if not f.per_unit):
                total = next(f for f in body if f.unit == unit and not f.per_unit)
                parts = []
                for k in kids:
                    end = self.text.find("。", k.title_end + 1, k.end)
                    end = min(end if end > 0 else k.end, k.title_end + maxlen)
                    got = [f for f in self.between(k.title_end, end, ("count", "target", "actual"))
                           if f.unit == unit and not f.per_unit]
                    if len(got) != 1:
                        break
                    parts.append((got[0], 1))
                else:
                    same_noun = all(self.noun(p)[-1:] == self.noun(total)[-1:] and self.noun(p)
                                    for p, _ in parts)
                    out.append(SumGroup(total, parts, "sum.children", complete=same_noun,
                                        reason="" if same_noun else "the children count other things"))
        return out

    def s6_plan_money(self, sec: Section, kids: list[Section]) -> list[SumGroup]:
        """计划总投资35.6亿元 over (一)…计划投资10.5亿元 … (十)…计划投资1.2亿元: every child
        states one planned amount."""
        def planned(a: int, b: int) -> list[Fact]:
            return [f for f in self.between(a, b, ("amount",)) if self.stock(f) and self.plan_cued(f)]
        head = planned(sec.title_end, kids[0].start)
        if not head:
            return []
        parts = []
        for k in kids:
            got = planned(k.start, k.end)
            if len(got) != 1:
                return []
            parts.append((got[0], 1))
        told = self.announced(sec.title_end, kids[0].start)
        complete = told is None or told == len(kids)
        return [SumGroup(head[0], parts, "sum.children_plan_money", complete=complete,
                         reason="" if complete else f"the intro announces {told} parts, "
                                                    f"the text gives {len(kids)}")]

    def announced(self, a: int, b: int) -> int | None:
        """How many parts the text between a and b announces (…等10个方面), if it says."""
        for m in self.re_parts_announced.finditer(self.text, a, b):
            try:
                return int(parse_plain(m.group("n"))[0])
            except NumberError:
                continue
        return None

    def noun(self, f: Fact) -> str:
        m = _NOUN.match(self.text[f.end:f.end + 4])
        return m.group(0) if m else ""

    def s7_table_rows(self) -> list[SumGroup]:
        out = []
        for sec in self.layout.sections:
            if sec.level != 3 or not sec.label.isdigit():
                continue
            per_place = lambda f: "target.table_breakdown" in f.rule or "target.table_place_cell" in f.rule
            line_end = self.text.find("\n", sec.start)
            line_end = line_end if line_end >= 0 else len(self.text)
            # the item's target: in its title, or in its own row (a 年度目标 column)
            tt = self.title_targets(sec) or [f for f in self.between(sec.start, line_end, ("target",))
                                             if not per_place(f) and not f.per_unit]
            rows_all = [f for f in self.near(sec.start, sec.end) if sec.start <= f.start < sec.end and f.kind == "target"
                        and per_place(f)]
            # the total counts what the rows count (惠及居民13500户 over 魏都区:5200户…, not 162个小区)
            units = [f.unit for f in rows_all]
            unit = max(dict.fromkeys(units), key=units.count) if units else None   # ties: first seen
            tt = [f for f in tt if f.unit == unit] or [f for f in tt if compatible(f.unit, unit) and len(tt) == 1]
            if not tt:
                continue
            total = tt[0]
            rows = [f for f in self.near(sec.start, sec.end) if sec.start <= f.start < sec.end and f.kind == "target"
                    and per_place(f)
                    and compatible(f.unit, total.unit) and f is not total]
            if len(rows) < 2 and not any((f.each or 1) > 1 for f in rows):
                continue
            # rows that add to more than the title promise are an error; fewer may be a
            # table that leaves places out (a county named without a figure), unless the
            # rows end with the rest of the places (其余15县…)
            cells = "".join(self.text[self.layout.scope(f.start, "cell")[0]:f.start] for f in rows)
            complete = bool(self.re_remainder.search(cells))
            out.append(SumGroup(total, [(f, f.each or 1) for f in rows], "sum.table_rows", complete=complete,
                                over_is_error=True, reason="the table may not list every place"))
        return out

    # ---- ratios --------------------------------------------------------------
    def project_target(self, f: Fact, exclude: set[int] = frozenset()) -> Fact | None:
        """The target a figure is measured against: the nearest target before it in its
        clause run, else in its project item (title included); parts of a breakdown and
        per-place rows are not project targets."""
        a, _ = self.scope(f, "semi")
        ok = lambda t: (t.kind == "target" and id(t) not in exclude and id(t) not in self.parts_of_sums
                        and "target.table_breakdown" not in t.rule and "target.table_place_cell" not in t.rule
                        and not t.per_unit and t.each is None)
        local = [t for t in self.between(a, f.start, ("target",)) if ok(t)]
        if local:
            return self.nearest_by_unit(local, f)
        item = self.item_of(f)
        if item is None:
            return None
        cands = [t for t in self.between(item.start, f.start, ("target",)) if ok(t)]
        if item.level < 3 and not self.title_targets(item):
            # a heading whose plan is in its body, not its title: only the same unit counts
            cands = [t for t in cands if t.unit == f.unit or {t.unit, f.unit} <= PEOPLE]
        return self.nearest_by_unit(cands, f) if cands else None

    @staticmethod
    def nearest_by_unit(cands: list[Fact], f: Fact) -> Fact:
        """The nearest target in the figure's own unit (40所 for 已开工36所, not the 1.2万个
        学位 stated after it), else the nearest in a unit that may stand for it."""
        for good in (lambda t: t.unit == f.unit, lambda t: compatible(t.unit, f.unit)):
            same = [t for t in cands if good(t)]
            if same:
                return same[-1]
        return cands[-1]

    def ratios(self) -> list[RatioGroup]:
        """One group per percentage that is not a change: the wording's reading (if any) and
        every other reading the structure allows; the check stage lets the arithmetic choose."""
        ops = Operands(self)
        worded = {id(g.percent): g for g in self.worded_ratios()}
        out = []
        for p in self.facts:
            if p.kind != "percent" or p.percent_kind == "growth" or p.delta:
                continue
            g = worded.get(id(p))
            if g is not None and g.numerator is not None and g.denominator is not None:
                reading = Reading(g.numerator, g.denominator, g.rule)
                # a bound (超过60%, 90%以上) is a threshold the text measures against, not a
                # rate it reports: it may be borne out, never refuted
                bound = p.quantity is not None and p.quantity.direction is not None
                g.firm = (g.rule in FIRM_RULES or ops.firm(p, reading)
                          or g.rule == "ratio.completion" and g.denominator.kind == "target") \
                    and not ops.vetoed(p, reading) and not bound
                # a firm reading gives way only to one as near (its clause or row, the words of
                # its 占 phrase), never to a coincidence found further off
                g.readings = [r for r in ops.readings(p) if (r.numerator, r.denominator) != (g.numerator, g.denominator)
                              and (not g.firm or r.source in NEAR_TIERS)]
                out.append(g)
                continue
            rs = ops.readings(p)
            k = next((i for i, r in enumerate(rs) if ops.firm_structural(p, r)), None)
            if k is not None:
                # 共提交254件。…立案236件,…立案率93.3%: the rate's name and the stated whole
                # tie it to these figures as firmly as any wording; the readings tried before
                # it and those as near stay open
                firm = rs[k]
                out.append(RatioGroup(p, firm.numerator, firm.denominator, f"ratio.{firm.source}", firm=True,
                                      readings=[r for i, r in enumerate(rs)
                                                if i != k and (i < k or r.source in NEAR_TIERS)]))
            elif g is not None:
                g.readings = rs
                out.append(g)
            elif rs:
                out.append(RatioGroup(p, None, None, "ratio.structure",
                                      "the wording names no counts", readings=rs))
        return out

    def worded_ratios(self) -> list[RatioGroup]:
        """The readings the wording gives (completion and share percentages)."""
        out = []
        for p in self.facts:
            if p.kind != "percent" or p.percent_kind not in ("completion", "share"):
                continue
            if self.layout.table_at(p.start) is not None:
                g = self.r_table_row(p)
                if g is not None:
                    out.append(g)
                    continue
            a, _ = self.scope(p, "semi")
            before = [f for f in self.near(a, p.start) if a <= f.start and f.end <= p.start and f.kind != "percent"
                      and self.stock(f)]
            resp = self.respectively(p, before)
            if resp is not None:
                before = resp
            num = before[-1] if before else None
            if p.percent_kind == "share":
                out.append(self.r3_share(p, num))
                continue
            if num is not None and num.kind == "amount":
                out.append(self.r2_money(p, num))
                continue
            # the numerator is what was done: never a target; a target stated in the same
            # clause run (计划5.5万人,实际完成6.12万人 / 6.12万人,目标5.5万人) is the denominator
            done = [f for f in before if f.kind != "target" and self.is_count(f)]
            # 已建成650个,其中湄江街道380个,完成率81.3%: the rate is of the 650, not of its part
            while len(done) >= 2 and _BREAKDOWN.search(self.text[done[-2].end:done[-1].start]):
                done.pop()
            local = [f for f in before if f.kind == "target" and not f.per_unit and f.each is None
                     and id(f) not in self.parts_of_sums]
            num = done[-1] if done else None
            if num is None:
                out.append(RatioGroup(p, None, None, "ratio.completion",
                                      "no count or amount stated before it"))
                continue
            den = self.nearest_by_unit(local, num) if local else self.project_target(num)
            den = den or self.bracketed_target(p, num)
            if den is None:
                whole = self.whole_before(p, num)
                if whole is not None:
                    out.append(RatioGroup(p, num, whole, "ratio.share_of_total"))
                    continue
            out.append(RatioGroup(p, num, den, "ratio.completion",
                                  "" if den else "no target stated for this project"))
        return out

    def bracket_after(self, p: Fact) -> tuple[int, int] | None:
        """The span of a bracket right after a figure (完成率113.3%(省下达任务1200名))."""
        m = _BRACKET_AFTER.match(self.text, p.end)
        return (m.start(), m.end()) if m else None

    def bracketed_target(self, p: Fact, num: Fact) -> Fact | None:
        """完成率113.3%(省下达任务1200名): the target in a bracket right after the rate."""
        span = self.bracket_after(p)
        if span is None:
            return None
        return next((f for f in self.between(*span, ("target",)) if compatible(f.unit, num.unit)), None)

    def respectively(self, p: Fact, before: list[Fact]) -> list[Fact] | None:
        """…2.71万人、…2.68万人,分别完成年度目标的84.7%和83.8%: the k-th rate goes with the
        k-th count. Returns the figures to read the rate against, or None."""
        s0, _ = self.scope(p, "sentence")
        head = self.text[s0:p.start]
        k = head.rfind("分别")
        if k < 0:
            return None
        k += s0
        rates = [f for f in self.between(k, self.scope(p, "sentence")[1], ("percent",))]
        # the rates of one 分别 list are joined by 和/、/及 only
        joined = [rates[0]] if rates else []
        for f in rates[1:]:
            if _COORDINATED.fullmatch(self.text[joined[-1].end:f.start]):
                joined.append(f)
            else:
                break
        if p not in joined or len(joined) < 2:
            return None
        counts = [f for f in self.between(s0, k, ("count", "actual", "amount")) if self.stock(f)]
        if len(counts) < len(joined):
            return None
        counts = counts[-len(joined):]
        i = joined.index(p)
        return [f for f in before if f.kind == "target" and f.end <= counts[0].start] + [counts[i]]

    def whole_before(self, p: Fact, num: Fact) -> Fact | None:
        """25项中已完成21项,完成率84%: the whole before 中."""
        s0, _ = self.scope(p, "sentence")
        for t in reversed(self.between(s0, num.start, ("count", "target", "actual"))):
            if self.re_share_whole.search(self.text[t.end:num.start]) and compatible(t.unit, num.unit):
                return t
        return None

    def r_table_row(self, p: Fact) -> RatioGroup | None:
        """A progress table's row: 目标 20个 | 完成 14个 | 完成率 70%, or 计划投资(万元) 1200 |
        已到位(万元) 1020 | 到位率 85%: roles from the figures' kinds or their column headings."""
        a, b = self.scope(p, "line")
        row = [f for f in self.between(a, b, ("target", "actual", "count", "amount")) if not f.per_unit]

        def role(f: Fact) -> str | None:
            head = self.layout.column_header(f.start) or ""
            if f.kind == "target" or self.re_plan_head.search(head):
                return "target"
            if f.kind == "actual" or self.re_done_head.search(head):
                return "actual"
            return None

        acts = [f for f in row if role(f) == "actual" and f.end <= p.start]
        tgts = [f for f in row if role(f) == "target"]
        if not acts or not tgts:
            return None
        num = acts[-1]
        return RatioGroup(p, num, self.nearest_by_unit(tgts, num), "ratio.table_row")

    def r2_money(self, p: Fact, num: Fact) -> RatioGroup:
        # 占计划总投资的76.5%: the words name the plan; they win over the nearest plan-cued
        # amount, which may be a part of it (其中…市县两级财政安排10.9亿元)
        named = self.labelled_whole(p, num)
        if named is not None:
            return RatioGroup(p, num, named, "ratio.money_plan")
        sec = self.layout.section_at(p.start)
        cands = [f for f in self.between(sec.start, num.start, ("amount",))
                 if not f.per_unit and self.plan_cued(f)]
        den = cands[-1] if cands else None
        if den is None and self.plan_cued(num):
            # 累计投入资金68.42亿元,其中…。全年资金计划70.5亿元,资金执行率97.0%: the figure
            # before the rate is the plan; what was spent is stated earlier in the paragraph
            a, _ = self.scope(num, "line")
            done = [f for f in self.between(max(a, sec.start), num.start, ("amount",))
                    if not f.per_unit and not self.plan_cued(f)]
            if done:
                return RatioGroup(p, self.total_of(done[-1], done), num, "ratio.money_plan")
        return RatioGroup(p, num, den, "ratio.money_plan", "" if den else "no plan amount stated in this section")

    def plan_cued(self, f: Fact) -> bool:
        """An amount its clause introduces as a plan (计划, 安排, 预算 …)."""
        a, _ = self.scope(f, "clause")
        return bool(self.re_plan.search(self.text[a:f.start]))

    def r3_share(self, p: Fact, num: Fact | None) -> RatioGroup:
        if num is not None and self.is_count(num):
            s0, _ = self.scope(p, "sentence")
            for t in reversed(self.between(s0, num.start, ("count", "target", "actual"))):
                if self.re_share_whole.search(self.text[t.end:num.start]) and compatible(t.unit, num.unit):
                    return RatioGroup(p, num, t, "ratio.share_of_total")
        if num is not None:
            # 占一般公共预算支出22.4亿元的81.2%: the whole is written inside the 占 phrase
            c0, _ = self.scope(p, "clause")
            k = self.text.rfind("占", c0, p.start)
            if k >= 0:
                kinds = ("amount",) if num.kind == "amount" else ("count", "target", "actual")
                inner = [f for f in self.between(k, p.start, kinds) if self.stock(f)]
                if inner:
                    earlier = [f for f in self.between(self.scope(p, "semi")[0], k, kinds)
                               if self.stock(f)]
                    if earlier:
                        return RatioGroup(p, self.total_of(earlier[-1], earlier), inner[-1],
                                          "ratio.share_of_named")
            whole = self.labelled_whole(p, num)
            if whole is not None:
                return RatioGroup(p, num, whole, "ratio.share_of_named")
            c0, _ = self.scope(p, "clause")
            if self.re_share_bare.search(self.text[c0:p.start]):
                g = self.group_of_part(num)
                if g is not None:
                    return RatioGroup(p, num, g.total, "ratio.share_of_breakdown")
                # a lone part after 其中: the whole is the figure before the 其中
                s0, _ = self.scope(p, "semi")
                kinds = ("amount",) if num.kind == "amount" else ("count", "target", "actual")
                for w in reversed(self.between(s0, num.start, kinds)):
                    if _BREAKDOWN.search(self.text[w.end:num.start]) and \
                            (num.kind == "amount" or compatible(w.unit, num.unit)):
                        return RatioGroup(p, num, w, "ratio.share_of_breakdown")
                whole = self.whole_of_lead(p, num)
                if whole is not None:
                    return RatioGroup(p, num, whole, "ratio.share_of_named")
        return RatioGroup(p, num, None, "ratio.share", "the whole it is a share of is not stated as a figure")

    def whole_of_lead(self, p: Fact, num: Fact) -> Fact | None:
        """在立案的提案中,委员个人提交100件,占58.40%: a sentence that opens by naming a whole
        (X中,) holds shares of the figure stated under that very name before it (经审查,立案174件;
        not 实际立案72件, whose clause says more)."""
        s0, _ = self.scope(p, "sentence")
        m = _LEAD_WHOLE.match(self.text, s0, num.start)
        if m is None:
            return None
        label = m.group("label")
        kinds = ("amount",) if num.kind == "amount" else ("count", "target", "actual")
        # the text just before: a long text must not make each share look through all of it
        for w in reversed(self.between(max(0, s0 - LEAD_WHOLE_REACH), s0, kinds)):
            a, _ = self.scope(w, "clause")
            if self.text[a:w.start].strip() == label and self.stock(w) and \
                    (num.kind == "amount" or compatible(w.unit, num.unit)):
                return w
        return None

    def total_of(self, f: Fact, among: list[Fact]) -> Fact:
        """The total of the breakdown f is the last part of, when that total is among the
        candidates (资金3.25亿元,其中…县级资金0.24亿元,占年初预算3.40亿元的95.8%: the 3.25亿);
        else f itself."""
        for g in self.sum_groups:
            if g.parts and g.parts[-1][0] is f and any(t is g.total for t in among):
                return g.total
        return f

    def labelled_whole(self, p: Fact, num: Fact) -> Fact | None:
        """占实际投入的98.7%, 占本年支出合计的55.10%: the whole is the figure of the same kind
        stated earlier right after the words the 占 phrase names."""
        c0, _ = self.scope(p, "clause")
        m = self.re_share_label.search(self.text[c0:p.start])
        if not m:
            return None
        label = self.re_label_trim.sub("", m.group("label"))
        if len(label) < 2:
            return None
        kinds = ("amount",) if num.kind == "amount" else ("count", "target", "actual")
        # a whole is stated before its share: the nearest is the last such figure ending
        # by c0. Only a figure starting within 2*len+6 characters after an occurrence of
        # the label can qualify: those are found once per label, instead of testing every
        # earlier figure for every 占 phrase (quadratic in the text's size)
        facts, starts = self.labelled_candidates(label)
        k = bisect.bisect_right(starts, c0) - 1
        while k >= 0:
            f, k = facts[k], k - 1
            if f.end > c0 or f.kind not in kinds or f is num or f.per_unit:
                continue
            a, _ = self.scope(f, "clause")
            if label in self.text[a:f.start][-len(label) - 6:]:
                return f
        return None

    def group_of_part(self, f: Fact) -> SumGroup | None:
        """The first sum group that has f among its parts (an index, not a scan of every
        group per percentage)."""
        if self._part_index is None or self._part_index[0] != len(self.sum_groups):
            first: dict[int, SumGroup] = {}
            for g in self.sum_groups:
                for part, _ in g.parts:
                    first.setdefault(id(part), g)
            self._part_index = (len(self.sum_groups), first)
        return self._part_index[1].get(id(f))

    def labelled_candidates(self, label: str) -> tuple[list[Fact], list[int]]:
        """The facts (in order) that start within len(label)+6 characters after the end
        of an occurrence of label, a superset of those labelled_whole accepts; and their
        starts."""
        got = self._labelled.get(label)
        if got is None:
            n, seen = len(label), {}
            o = self.text.find(label)
            while o >= 0:
                for f in self.near(o + n, o + 2 * n + 6):
                    seen[id(f)] = f
                o = self.text.find(label, o + 1)
            facts = sorted(seen.values(), key=lambda f: f.start)
            got = self._labelled[label] = (facts, [f.start for f in facts])
        return got

    def run(self) -> Links:
        self.attribute()
        sums = self.sums()
        self.sum_groups = sums
        ratios = self.ratios()
        return Links(ratios=ratios, sums=sums)


def _same_sort(w: Fact, f: Fact) -> bool:
    """Figures that may be parts of w: money of money; counts of w's unit (人/名/人次 alike)."""
    if (w.kind == "amount") != (f.kind == "amount"):
        return False
    return w.kind == "amount" or f.unit == w.unit or (f.unit in PEOPLE and w.unit in PEOPLE)


def clean_title(t: str) -> str:
    return t.strip().rstrip("。;；:：,，").strip()


def link(text: str, layout: Layout, facts: list[Fact], rules: Rules) -> Links:
    return Linker(text, layout, facts, rules).run()
