"""Which stated figures a percentage may rest on: candidate readings, from the structure.

A real report rarely says "49 of 60 = 82%" in one fixed phrasing. The wording (the
linker's strategies) gives one reading where it can; this module adds the others that the
structure allows, in the order a reader would try them:

  named      the whole written inside the 占 phrase (占总投资22.4亿元的81.2%)
  labelled   a figure stated under the words the 占 phrase names (占全市转办量的… -> 转办2.42万件)
  clause     a figure before the numerator in the percentage's own clause run, or table row
             (N个X建设已完成M个(P%), 计划5200人,已完成5836人,完成率112%)
  column     in a table, the figure in the numerator's column on the 合计/总计 row
  bracket    a figure in a bracket right after the rate (完成率113.3%(省下达任务1200名))
  whole      the total of the breakdown the numerator is a part of, or a figure the
             rest of the paragraph is measured against (共收到建议120件。其中…占P%)
  sentence   any earlier figure of the sentence
  paragraph  any earlier figure of the paragraph (line)
  earlier    the nearest figures stated as wholes in earlier paragraphs

Numerators are the stock figures between the previous percentage of the clause run and
this one, nearest first (a part after 其中 gives way to its total). Units must agree:
money with money, a count with a count of the same unit (人/名/人次 are one unit; 项 is
not 件). The check stage tries the readings in order and takes the first under which the
reported figure follows (check.py holds the arithmetic); a percentage is called
inconsistent only when no reading works and the wording's reading is firm.
The cue words are data: rules/link.yaml (`whole_cue`, `rate_name`).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import regex

from pipeline.types import Fact

if TYPE_CHECKING:                        # the linker passes itself; no import cycle at run time
    from pipeline.link import Linker

PEOPLE = {"名", "人", "人次"}
_QUALIFIER = regex.compile(r"^(?:总|全部|全)")
_COMMA = regex.compile(r"[,，]")
# what may stand before a figure that is its clause's subject (有16个项目…, 其中28个项目…)
_SUBJECT_LEAD = regex.compile(r"\s*(?:其中[,，]?)?(?:共有|有|共|其中有)?\s*", regex.V1)
# what a count of works counts, in the words right after it (个项目, 项实事项目, 件民生实事)
_THING = regex.compile(r"\p{Han}{0,3}?(?:项目|实事|事项)", regex.V1)
# what may stand between a figure and its 占 phrase without parting them: spaces, 、 and a
# short bracketed aside (解决的43件(甲类),占建议总数的75.4%)
_GAP_NOISE = regex.compile(r"[\s、]|[(（][^()（）]{0,10}[)）]")
STOCK_KINDS = ("count", "target", "actual", "amount")
TIERS = ("named", "labelled", "clause", "column", "bracket", "whole", "sentence", "paragraph", "earlier")
TIER_WIDTH = 12
NEAR_TIERS = ("named", "labelled", "clause", "column", "bracket")


@dataclass(frozen=True)
class Reading:
    numerator: Fact
    denominator: Fact
    source: str                          # one of TIERS, or the linker's rule for the wording's reading


def same_quantity(a: Fact, b: Fact) -> bool:
    """Figures that one may divide: money by money, counts of one unit, a change by a change."""
    if (a.kind == "amount") != (b.kind == "amount") or a.delta != b.delta:
        return False
    if a.kind == "amount":
        return True
    if a.unit == b.unit:
        return True
    if a.unit in PEOPLE and b.unit in PEOPLE:
        return True
    return a.unit is None or b.unit is None          # a bare table cell takes its column's unit


class Operands:
    """Candidate readings of the percentages of one document (built once per document)."""

    def __init__(self, linker: "Linker"):
        self.lk = linker
        conf = linker.conf
        self.re_whole = linker.rules.compile(conf["whole_cue"])
        self.re_rate_name = linker.rules.compile(conf["rate_name"])
        self.re_generic = linker.rules.compile(conf["whole_generic"])
        self.re_whole_de = linker.rules.compile(conf["whole_named"])
        self.re_plan_named = linker.rules.compile(conf["plan_named"])
        self.re_plan_cue = linker.rules.compile(conf["plan_cue"])
        self.re_total_row = linker.rules.compile(linker.rules.extra["segment"]["table_total_row"])
        # changes (比上年增加528.22亿元) are kept: a change may be a share of a change
        self.stock = [f for f in linker.facts if f.kind in STOCK_KINDS and not f.per_unit
                      and f.value is not None and f.each is None]
        self.stock.sort(key=lambda f: f.start)
        self.starts = [f.start for f in self.stock]
        self.percents = [f for f in linker.facts if f.kind == "percent"]
        self._cache: dict[tuple, object] = {}   # per-figure answers asked many times
        # lookups by offset: the facts do not overlap, so sorted by start their ends are
        # sorted too; asking per percentage must not scan every figure of a long text
        ordered = lambda xs: all(x <= y for x, y in zip(xs, xs[1:]))
        self._pct_ends = [q.end for q in self.percents]
        self._indexed = (ordered([f.end for f in self.stock])
                         and ordered([q.start for q in self.percents]) and ordered(self._pct_ends))
        self._cued: tuple[list[Fact], list[int], list[int]] | None = None
        self._by_label: dict[str, tuple[list[Fact], list[int]]] = {}
        self._bare_share: dict[tuple[int, int], bool] = {}
        # the total of each breakdown, by the id of its parts
        self.total_of_part: dict[int, Fact] = {}
        for g in linker.sum_groups:
            for f, _ in g.parts:
                self.total_of_part.setdefault(id(f), g.total)

    def _span(self, a: int, b: int) -> list[Fact]:
        """The stock figures inside [a, b), in order (by bisection: this is asked per reading)."""
        i = bisect.bisect_left(self.starts, a)
        j = bisect.bisect_left(self.starts, b, lo=i)
        return [f for f in self.stock[i:j] if f.end <= b]

    def _memo(self, name: str, f: Fact, compute: Callable[[], Any]) -> Any:
        key = (name, id(f))
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def numerators(self, p: Fact) -> list[Fact]:
        return self._memo("num", p, lambda: self._numerators(p))

    def _numerators(self, p: Fact) -> list[Fact]:
        """Stock figures between the previous percentage of p's clause run and p, nearest
        first; a part of a breakdown comes after its total when that total is there too."""
        a = self.run_of(p)
        # a growth rate (…231.94亿元,增长11.6%,占总支出的86.7%) describes the figure before it
        # and does not end its run
        if self._indexed:     # the last such percentage: back from the last ending by p.start
            k = bisect.bisect_right(self._pct_ends, p.start) - 1
            while k >= 0 and self.percents[k].start >= a:
                if self.percents[k].percent_kind != "growth":
                    a = self.percents[k].end
                    break
                k -= 1
        else:
            prev = [q.end for q in self.percents if a <= q.start and q.end <= p.start
                    and q.percent_kind != "growth"]
            a = max(prev) if prev else a
        cands = self._span(a, p.start)
        ids = {id(f) for f in cands}
        out, parts = [], []
        for f in reversed(cands):
            t = self.total_of_part.get(id(f))
            # after the others, not out: 收到135件,立案128件,占总数的95% is the part's share
            (parts if t is not None and id(t) in ids else out).append(f)
        return (out + parts)[:3] + self.row_after(p)[:2]

    def row_after(self, p: Fact) -> list[Fact]:
        """In a table row, the figures after the rate (…| 137% | 目标任务1440月,完成1970个月)."""
        if self.lk.layout.table_at(p.start) is None:
            return []
        _, b = self.lk.scope(p, "line")
        return self._span(p.end, b)

    def column_total(self, n: Fact) -> list[Fact]:
        """In a table, the figure in n's column on the table's 合计/总计 row (15390 | 84.97% over
        总计 | 18113 | 100%)."""
        table = self.lk.layout.table_at(n.start)
        if table is None:
            return []
        text = self.lk.text
        line0 = text.rfind("\n", 0, n.start) + 1
        col = text.count("\t", line0, n.start)
        out = []
        for a, b in table.rows:
            first = text[a:b].split("\t", 1)[0].strip()
            if a != line0 and self.re_total_row.match(first):
                cells = text[a:b].split("\t")
                if col < len(cells):
                    c0 = a + sum(len(c) + 1 for c in cells[:col])
                    out += self._span(c0, c0 + len(cells[col]))
        return out

    def run_of(self, p: Fact) -> int:
        """Where p's clause run starts: its semicolon clause, or in a table its row (目标 5.2 |
        已完成 7.23 | 139.1%: the cells before the rate are its operands)."""
        scope = "line" if self.lk.layout.table_at(p.start) is not None else "semi"
        return self.lk.scope(p, scope)[0]

    def named_by_rate(self, p: Fact, n: Fact) -> bool:
        """立案236件…立案率93.3%: the rate's own name repeats the numerator's verb."""
        c0, _ = self.lk.scope(p, "clause")
        m = self.re_rate_name.search(self.lk.text[c0:p.start])
        if not m:
            return False
        a, _ = self.lk.scope(n, "clause")
        return m.group("name") in self.lk.text[a:n.start]

    def whole_words(self, p: Fact) -> str | None:
        return self._memo("words", p, lambda: self._whole_words(p))

    def _whole_words(self, p: Fact) -> str | None:
        """The words a 占 phrase names its whole by, less those that only qualify it
        (占全市转办量的64.46% -> 转办; 占财政支出总量的 -> 财政支出; 占总数的4% names nothing)."""
        c0, _ = self.lk.scope(p, "clause")
        head = self.lk.text[c0:p.start]
        m = self.lk.re_share_label.search(head)
        if m is None and not self.names_plan(p):     # a plan is read by names_plan / is_plan
            m = self.re_whole_de.search(head)
        if m is None:
            return None
        label = self.re_generic.sub("", self.lk.re_label_trim.sub("", m.group("label")))
        label = _QUALIFIER.sub("", label)
        return label if len(label) >= 2 else None

    def named_whole(self, p: Fact) -> str | None:
        """The head noun of the whole p's 占 phrase names: it ends a Chinese noun phrase, so
        财政支出总量 and 总支出 both name 支出."""
        words = self._memo("words", p, lambda: self.whole_words(p))   # asked per candidate
        return words[-2:] if words else None

    def labelled(self, p: Fact, n: Fact) -> list[Fact]:
        """Earlier figures stated right after the words that name p's whole, nearest first."""
        return [f for f in self._memo("labelled", p, lambda: self._labelled(p)) if f is not n]

    def _labelled(self, p: Fact) -> list[Fact]:
        label = self.named_whole(p)
        if label is None:
            return []
        if not self._indexed:
            return [f for f in reversed(self._span(0, p.start)) if self._stated_after(label, f)]
        facts, ends = self._after_label(label)
        return list(reversed(facts[:bisect.bisect_right(ends, p.start)]))

    def _stated_after(self, label: str, f: Fact) -> bool:
        a, _ = self.lk.scope(f, "clause")
        return label in self.lk.text[a:f.start][-len(label) - 8:]

    def _after_label(self, label: str) -> tuple[list[Fact], list[int]]:
        """The stock figures stated right after label (in order) and their ends, found once
        per label: only a figure starting within 2*len(label)+8 characters after one of its
        occurrences can be, instead of testing every earlier figure for every percentage."""
        got = self._by_label.get(label)
        if got is None:
            n, text, seen = len(label), self.lk.text, {}
            o = text.find(label)
            while o >= 0:
                lo = bisect.bisect_left(self.starts, o + n)
                hi = bisect.bisect_right(self.starts, o + 2 * n + 8)
                for f in self.stock[lo:hi]:
                    seen[id(f)] = f
                o = text.find(label, o + 1)
            facts = [f for f in sorted(seen.values(), key=lambda f: f.start)
                     if self._stated_after(label, f)]
            got = self._by_label[label] = (facts, [f.end for f in facts])
        return got

    def _cued_in(self, a: int, b: int) -> list[Fact]:
        """The whole-cued figures of _span(a, b), in order, by bisection."""
        if not self._indexed:
            return [f for f in self._span(a, b) if self.whole_cued(f)]
        if self._cued is None:
            cued = [f for f in self.stock if self.whole_cued(f)]
            self._cued = (cued, [f.start for f in cued], [f.end for f in cued])
        cued, starts, ends = self._cued
        return cued[bisect.bisect_left(starts, a):bisect.bisect_right(ends, b)]

    def agrees_with_label(self, p: Fact, d: Fact) -> bool:
        """A whole that p's 占 phrase names must be stated under that name (占预算安排的27.1%
        is not of the 预算下达 figure)."""
        label = self.named_whole(p)
        if label is None:
            return True
        a, _ = self.lk.scope(d, "clause")
        return label in self.lk.text[a:d.end + 4]

    def bare_share_of(self, p: Fact, n: Fact) -> bool:
        """A bare 占P% belongs to the figure right before it (咨询类124599件,占63.72%), not to one
        the clause has moved on from (34个子项已完成…,包括在园幼儿占比达到45%)."""
        key = (id(p), id(n))           # asked for every candidate whole: worked out once
        if key not in self._bare_share:
            self._bare_share[key] = self._bare_share_of(p, n)
        return self._bare_share[key]

    def _bare_share_of(self, p: Fact, n: Fact) -> bool:
        c0, _ = self.lk.scope(p, "clause")
        k = self.lk.text.rfind("占", n.end, p.start)
        if k < 0:
            return True
        # clauses that only describe the figure (…231.94亿元,增长11.6%,占…) do not part them
        clauses = [c for c in _COMMA.split(self.lk.text[n.end:k]) if "%" not in c]
        if len(_GAP_NOISE.sub("", "".join(clauses))) <= 2:
            return True
        if self._span(n.end, k):
            return False
        # …民生支出完成868.04亿元,同比增长5.6%,民生支出占…的比重达79.1%: the 占 clause's
        # subject is the name the figure was stated under
        subject = _GAP_NOISE.sub("", clauses[-1])
        a, _ = self.lk.scope(n, "clause")
        if len(subject) >= 2 and subject in self.lk.text[a:n.start]:
            return True
        # the figure is the subject of its clause and 占 opens the next one (有16个项目超额完成
        # 目标任务,占总数的69.6%); a clause with other words of its own before 占 has another
        # subject (…,包括在园幼儿占比达到45%)
        return len(clauses) == 2 and not subject and self._opens_clause(n)

    def _opens_clause(self, n: Fact) -> bool:
        """Nothing but 其中 or 有/共有 stands before n in its clause: n is the clause's subject."""
        a, _ = self.lk.scope(n, "clause")
        return bool(_SUBJECT_LEAD.fullmatch(self.lk.text[a:n.start]))

    def names_plan(self, p: Fact) -> bool:
        """完成目标任务的175.6%, 占全年计划100%: the rate is of a plan."""
        def compute() -> bool:
            c0, _ = self.lk.scope(p, "clause")
            return bool(self.re_plan_named.search(self.lk.text[c0:p.start]))
        return self._memo("plan_named", p, compute)

    def is_plan(self, f: Fact) -> bool:
        """A target, or a figure its clause states as a plan (全年计划投资26亿元)."""
        return self._memo("plan", f, lambda: self._is_plan(f))

    def _is_plan(self, f: Fact) -> bool:
        if f.kind == "target":
            return True
        a, _ = self.lk.scope(f, "clause")
        if self.re_plan_cue.search(self.lk.text[a:f.start]):
            return True
        s0, _ = self.lk.scope(f, "semi")
        head = self.lk.text[s0:f.start]
        if "其中" in head and self.re_plan_cue.search(head[:head.rfind("其中")]):
            return True                          # 计划投入…,其中省级承担146.93亿元
        # 计划投入415.54亿元,其中省级承担146.93亿元: a part of a plan is a plan
        total = self.total_of_part.get(id(f))
        return total is not None and total is not f and self.is_plan(total)

    def whole_cued(self, f: Fact) -> bool:
        """A figure its clause states as a whole (共收到, 总计, 受理, 全年计划 …)."""
        def compute() -> bool:
            a, _ = self.lk.scope(f, "clause")
            return bool(self.re_whole.search(self.lk.text[a:f.start]))
        return self._memo("whole", f, compute)

    def _tier(self, tier: str, p: Fact, n: Fact) -> list[Fact]:
        lk, text = self.lk, self.lk.text
        if tier == "named":
            c0, _ = lk.scope(p, "clause")
            k = text.rfind("占", c0, p.start)
            return list(reversed(self._span(k, p.start))) if k >= 0 else []
        if tier == "labelled":
            return self.labelled(p, n)
        if tier == "clause":
            return list(reversed(self._span(self.run_of(p), n.start))) + \
                [f for f in self.row_after(p) if f.start < n.start]
        if tier == "column":
            return self.column_total(n)
        if tier == "bracket":
            m = lk.bracket_after(p)
            return self._span(m[0], m[1]) if m else []
        if tier == "whole":
            out = []
            t = self.total_of_part.get(id(n))
            if t is not None:
                out.append(t)
            a, _ = lk.scope(p, "line")
            out += reversed(self._cued_in(a, n.start))
            return out
        if tier == "sentence":
            a, _ = lk.scope(p, "sentence")
            return list(reversed(self._span(a, n.start)))
        if tier == "paragraph":
            a, _ = lk.scope(p, "line")
            return list(reversed(self._span(a, n.start)))
        if tier == "earlier":
            a, _ = lk.scope(p, "line")
            return list(reversed(self._cued_in(0, a)[-3:]))
        raise ValueError(tier)

    def readings(self, p: Fact) -> list[Reading]:
        """Every reading the structure allows for p, in the order to try them."""
        if p.quantity is not None and p.quantity.direction is not None:
            return []                            # 90%以上 follows from too many pairs to tell
        nums = self.numerators(p)
        of_plan = self.names_plan(p)
        out: list[Reading] = []
        seen: set[tuple[int, int]] = set()
        for tier in TIERS:
            for n in nums:
                # the nearest few of a tier: a reader does not look further, and a long
                # paragraph would make each rate cost as much as its text
                for d in self._tier(tier, p, n)[:TIER_WIDTH]:
                    key = (id(n), id(d))
                    if d is n or key in seen or not d.value or \
                            not (same_quantity(n, d) or self.same_thing(n, d)):
                        continue
                    seen.add(key)
                    if self.allowed(p, Reading(n, d, tier), nums, of_plan):
                        out.append(Reading(n, d, tier))
        return out

    def same_thing(self, a: Fact, b: Fact) -> bool:
        """Counts in 个 and in 项/件 of the same thing (有16个项目超额完成…,占总数的69.6% of
        安排了23项实事项目): projects are counted in either."""
        if {a.unit, b.unit} not in ({"个", "项"}, {"个", "件"}):
            return False
        # 实事, 项目 and 事项 name the same things: the promises of the year
        return all(_THING.match(self.lk.text, f.end, f.end + 6) for f in (a, b))

    def allowed(self, p: Fact, r: Reading, nums: list[Fact], of_plan: bool) -> bool:
        """What the wording rules out whatever the arithmetic says."""
        n, d = r.numerator, r.denominator
        if p.percent_kind == "share" and d.value < n.value:
            return False                         # a share is of a larger whole
        if d.value == n.value and (p.value != 100 or n is not nums[0] or not (
                r.source in ("clause", "column") or of_plan or self.named_by_rate(p, n))):
            # a figure restated is a rate of 100% only where the words tie the two (已拨付703.8万元,
            # 拨付率100%; 占计划的100%; a row 21 | 21 | 100%), not 承办的146件提案,满意率100%
            return False
        if of_plan and not self.is_plan(d):
            return False                         # 完成目标任务的P% is of a plan, not of a sibling count
        return not self.vetoed(p, r)

    def vetoed(self, p: Fact, r: Reading) -> bool:
        """The wording contradicts the reading: the 占 phrase names another whole, or a bare
        share belongs to another figure."""
        key = ("veto", id(p), id(r.numerator), id(r.denominator))
        if key not in self._cache:
            self._cache[key] = not self.agrees_with_label(p, r.denominator) or \
                not self.bare_share_of(p, r.numerator)
        return self._cache[key]

    def firm_structural(self, p: Fact, r: Reading) -> bool:
        """A reading no wording gave that is firm all the same: the whole of the breakdown the
        numerator is a part of, or a stated whole with a rate named after the numerator's verb.
        The numerator must be the figure right before the rate (产业发展项目172个,完成投资295.9亿元,
        为年投资计划的80%: the rate is of the money, not of the 172 projects)."""
        nums = self.numerators(p)
        if self.vetoed(p, r) or not nums or r.numerator is not nums[0]:
            return False
        if self._whole_of_part(r):
            return True
        words = self.whole_words(p)
        if r.source == "labelled" and words and self.bare_share_of(p, r.numerator):
            # 占财政支出总量的16% of the one figure stated as 财政支出 (完成267.37亿元); 占立案总数的
            # 12.87% of the one stated as 立案 itself (立案174件, not 实际立案72件)
            a, _ = self.lk.scope(r.denominator, "clause")
            head = self.lk.text[a:r.denominator.start]
            if len(words) >= 3 and words in head:
                return True
            if head.strip() == words:
                exact = [f for f in self.labelled(p, r.numerator)
                         if self.lk.text[self.lk.scope(f, "clause")[0]:f.start].strip() == words]
                return exact == [r.denominator]
        return self._rate_named_whole(p, r)

    def _whole_of_part(self, r: Reading) -> bool:
        """The denominator is the total of the breakdown the numerator is a part of."""
        return self.total_of_part.get(id(r.numerator)) is r.denominator

    def _rate_named_whole(self, p: Fact, r: Reading) -> bool:
        """A whole stated in p's paragraph, p named after its numerator's verb (共提交254件。…
        立案236件,…立案率93.3%)."""
        a, _ = self.lk.scope(p, "line")
        return (a <= r.denominator.start and self.whole_cued(r.denominator)
                and self.named_by_rate(p, r.numerator))

    def firm(self, p: Fact, r: Reading) -> bool:
        """A reading the wording leaves no doubt about, so that its failure is an error in the
        report: both operands in p's sentence; the whole of the breakdown p's count is a part
        of; or a stated whole of the paragraph with a rate named after the numerator's verb."""
        s0, _ = self.lk.scope(p, "sentence")
        if s0 <= r.denominator.start and r.numerator.start >= s0:
            return True
        return self._whole_of_part(r) or self._rate_named_whole(p, r)

