"""The check stage: arithmetic in Decimal on the groups that link.py formed.

Every rounding decision is here. A reported percentage written with d decimals is
consistent when some value the counts allow, rounded half up or truncated to d
decimals, gives it: the true value lies in [R - u/2, R + u) with u = 10^-d. Counts
allow an interval when they are rounded (12.09亿) or hedged (47000余): see
Quantity.bounds().
"""
from __future__ import annotations

import calendar
from decimal import ROUND_HALF_UP, Decimal

import regex

from pipeline.link import Links, RatioGroup, SumGroup
from pipeline.segment import Layout
from pipeline.types import Check, Fact, Quantity

HUNDRED = Decimal(100)
EVIDENCE_MAX = 1500      # characters: past this, a far whole is quoted, not spanned


def _q(f: Fact) -> Quantity:
    """The figure as an interval. A target is a plan, set as written (1.8万人 is 18000, not
    17500..18500); counts and amounts written with 万/亿 and decimals are rounded."""
    q = f.quantity or Quantity(value=f.value)
    if f.kind == "target" and q.rounded and not q.approx:
        return Quantity(value=q.value, decimals=q.decimals, step=q.step)
    return q


def window(reported: Quantity) -> tuple[Decimal, Decimal | None]:
    """[low, high) of true values that a reported percentage may stand for."""
    u = Decimal(1).scaleb(-reported.decimals)
    r = reported.value
    if reported.direction == "more":
        return r - u / 2, None
    if reported.direction == "less":
        return Decimal(0), r + u
    if reported.direction == "around":
        return r - reported.step, r + reported.step
    return r - u / 2, r + u


def ratio_consistent(num: Quantity, den: Quantity, reported: Quantity) -> bool | None:
    """True or False; None when the denominator may be zero (nothing can be said)."""
    n_lo, n_hi = num.bounds()
    d_lo, d_hi = den.bounds()
    if d_lo <= 0:
        return None
    lo, hi = n_lo / d_hi * HUNDRED, n_hi / d_lo * HUNDRED
    w_lo, w_hi = window(reported)
    return hi >= w_lo and (w_hi is None or lo < w_hi)


def display(x: Decimal, decimals: int) -> Decimal:
    """A computed figure shown with two more decimals than the reported one."""
    return x.quantize(Decimal(1).scaleb(-(decimals + 2)), rounding=ROUND_HALF_UP)


_WRITTEN = regex.compile(r"^(?P<pre>\D*?)(?P<num>\d[\d,]*(?:\.\d+)?)(?P<post>.*)$", regex.V1 | regex.S)


def as_written(x: Decimal, like: Fact) -> str:
    """x in the scale and unit a figure was written in (4300000000 beside 42.69亿元 reads
    43.00亿元), so a reason compares like with like; plain x where that cannot be told."""
    q, m = like.quantity, _WRITTEN.match(like.text)
    written = Decimal(m.group("num").replace(",", "")) if m else Decimal(0)
    if q is None or not written:
        return str(x)
    mult = q.value / written                   # the 万/亿 the figure was multiplied by
    shown = (x / mult).quantize(Decimal(1).scaleb(-q.decimals), rounding=ROUND_HALF_UP)
    return f"{shown}{m.group('post')}"


class Checker:
    def __init__(self, doc: str, text: str, layout: Layout):
        self.doc, self.text, self.layout = doc, text, layout

    def evidence(self, figs: list[Fact]) -> tuple[str, int, int]:
        a = min(self.layout.scope(f.start, "sentence")[0] for f in figs)
        b = max(self.layout.scope(f.start, "sentence", f.end)[1] for f in figs)
        if b < len(self.text) and self.text[b] in "。！？!?":
            b += 1
        return self.text[a:b].strip(), a, b

    def ratio(self, g: RatioGroup) -> Check:
        """The wording's reading first, then each reading the structure allows: the first under
        which the reported figure follows is taken. Inconsistent only when none does and the
        wording's reading is firm (statcheck's rule, extended to the choice of operands)."""
        p = g.percent
        pq = _q(p)
        tried = [(g.numerator, g.denominator, g.rule)] if g.numerator is not None and g.denominator is not None \
            else []
        tried += [(r.numerator, r.denominator, r.source) for r in g.readings]
        for num, den, source in tried:
            if den.value and ratio_consistent(_q(num), _q(den), pq):
                c = self._ratio_check(g, num, den, source)
                c.verdict, c.discrepancy = "consistent", abs(c.computed - p.value)
                if source != g.rule:
                    c.reason = f"read as {num.text}/{den.text} ({source})" + (
                        f"; tried {len(tried) - 1} other reading(s)" if len(tried) > 1 else "")
                return c
        if g.numerator is None or g.denominator is None or not g.denominator.value:
            # no wording's reading to refute: show the first reading tried, if any
            if not tried:
                return self._ratio_check(g, g.numerator, g.denominator, g.rule)
            c = self._ratio_check(g, *tried[0])
            c.computed = None
            c.reason = f"no reading of the stated figures gives {p.text} (tried {len(tried)})"
            return c
        c = self._ratio_check(g, g.numerator, g.denominator, g.rule)
        c.discrepancy = abs(c.computed - p.value)
        computed = g.numerator.value / g.denominator.value * HUNDRED
        others = f"; {len(tried) - 1} other reading(s) tried" if len(tried) > 1 else ""
        if not g.firm:
            c.reason = (f"{g.numerator.text} / {g.denominator.text} = {c.computed}%, not {p.text}, but the "
                        "text does not tie the rate to these figures" + others)
            return c
        if not (p.value / 2 <= computed <= p.value * 2):
            # off by more than a factor of two: the counts found are more likely not this
            # rate's than the report is that wrong; say so instead of raising an alarm
            c.reason = (f"{g.numerator.text} / {g.denominator.text} = {c.computed}%, far from {p.text}: "
                        "these counts may not be the ones the rate rests on" + others)
            return c
        c.verdict = "inconsistent"
        c.reason = (f"{g.numerator.text} / {g.denominator.text} = {c.computed}%, "
                    f"not {p.text} (rounded or truncated to {pq.decimals} decimals)" + others)
        return c

    def _ratio_check(self, g: RatioGroup, num: Fact | None, den: Fact | None, rule: str) -> Check:
        """An unverifiable ratio check on one reading, with its evidence and computed value."""
        p = g.percent
        figs = [f for f in (den, num, p) if f is not None]
        ev, a, b = self.evidence(figs)
        other = {}
        if den is not None and len(ev) > EVIDENCE_MAX:
            # a whole stated paragraphs before: the evidence is the rate's own sentences and the
            # whole's sentence goes beside it, so evidence does not grow with the text between
            ev, a, b = self.evidence([f for f in (num, p) if f is not None])
            other["whole_evidence"] = self.evidence([den])[0][:300]
        c = Check(doc=self.doc, kind="ratio", verdict="unverifiable", reported=p.value, computed=None,
                  evidence=ev, start=a, end=b, rule=rule, project=p.project, reason=g.reason,
                  figures=[(f.start, f.end) for f in figs], other=other)
        if num is not None:
            c.numerator = num.value
        if den is not None:
            c.denominator = den.value
            if den.value and num is not None:
                c.computed = display(num.value / den.value * HUNDRED, _q(p).decimals)
        return c

    def sum(self, g: SumGroup) -> Check:
        figs = [g.total] + [f for f, _ in g.parts]
        ev, a, b = self.evidence(figs)
        parts = [f.value for f, n in g.parts for _ in range(n)]
        c = Check(doc=self.doc, kind="sum", verdict="unverifiable", reported=g.total.value,
                  computed=sum(parts, Decimal(0)), evidence=ev, start=a, end=b, parts=parts,
                  rule=g.rule, project=g.total.project, figures=[(f.start, f.end) for f in figs])
        t_lo, t_hi = _q(g.total).bounds()
        s_lo = sum((_q(f).bounds()[0] * n for f, n in g.parts), Decimal(0))
        s_hi = sum((_q(f).bounds()[1] * n for f, n in g.parts), Decimal(0))
        c.discrepancy = abs(c.computed - g.total.value)
        if s_lo <= t_hi and t_lo <= s_hi:
            c.verdict = "consistent"
            return c
        if g.prefix_ok:
            lo = hi = run = Decimal(0)
            for k, (f, n) in enumerate(g.parts):
                b = _q(f).bounds()
                lo, hi, run = lo + b[0] * n, hi + b[1] * n, run + f.value * n
                if k >= 1 and lo <= t_hi and t_lo <= hi:
                    c.parts = [x.value for x, m in g.parts[: k + 1] for _ in range(m)]
                    c.computed, c.discrepancy, c.verdict = run, abs(run - g.total.value), "consistent"
                    return c
        over = s_lo > t_hi
        if _nested(parts):
            # 议案14件,…1件…,其余13件…,加上…67件建议,共80件: one part (14) is the sum of the
            # ones after it (1 + 13), so the list mixes a whole with its own breakdown
            c.reason = ("a part is the sum of others: the list nests a breakdown (they add up to "
                        f"{as_written(c.computed, g.total)})")
            return c
        if len(g.parts) >= 2 and any(f.value >= g.total.value for f, _ in g.parts):
            # a part as large as its whole (十件实事 restated under 十件实事): the figures found
            # are not a breakdown of it, whatever the words around them say
            c.reason = f"a part is as large as {g.total.text}: these figures are no breakdown of it"
            return c
        if g.complete or (over and g.over_is_error):
            c.verdict = "inconsistent"
            c.reason = f"the parts add up to {as_written(c.computed, g.total)}, not {g.total.text}"
        else:
            c.reason = (g.reason or "the parts may not be all of the total") + \
                f" (they add up to {as_written(c.computed, g.total)})"
        return c

    def schedule(self, p: Fact, period_end: str | None) -> Check | None:
        """A completion rate against the share of the year gone by at period_end (序时进度)."""
        if not period_end or p.percent_kind != "completion":
            return None
        y, m, d = (int(x) for x in period_end.split("-"))
        days = 366 if calendar.isleap(y) else 365
        elapsed = Decimal(sum(calendar.monthrange(y, k)[1] for k in range(1, m)) + d) / Decimal(days)
        expected = (elapsed * HUNDRED).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        ev, a, b = self.evidence([p])
        behind = p.value < expected
        return Check(doc=self.doc, kind="schedule", verdict="behind" if behind else "on schedule",
                     reported=p.value, computed=expected, evidence=ev, start=a, end=b,
                     rule="schedule.elapsed_share", project=p.project,
                     reason=f"{p.text} against {expected}% of the year gone by {period_end}",
                     discrepancy=expected - p.value if behind else Decimal(0),
                     figures=[(p.start, p.end)], other={"period_end": period_end})


def _nested(values: list[Decimal]) -> bool:
    """Some value equals the sum of two or more values right after it (small values are left
    out: 3 = 1 + 1 + 1 among 其余14个乡镇各1个 is no nesting)."""
    for i, v in enumerate(values):
        if v < 10:
            continue
        run = Decimal(0)
        for j in range(i + 1, len(values)):
            run += values[j]
            if j > i + 1 and run == v:
                return True
            if run > v:
                break
    return False


def explained(checks: list[Check], layout: Layout) -> list[Check]:
    """A rate the paragraph states again with counts under which it holds (180 284 137% …
    完成1970个月的任务,完成率137%) is no error under the first counts found for it."""
    line = lambda c: layout.scope(c.figures[-1][0], "line")     # the rate's own paragraph
    held = {(line(c), c.reported): c for c in checks if c.verdict == "consistent"}
    for c in checks:
        twin = held.get((line(c), c.reported))
        if c.verdict == "inconsistent" and twin is not None:
            c.verdict = "unverifiable"
            c.reason += f"; the paragraph restates {c.reported}% as {twin.numerator}/{twin.denominator}, which holds"
    return checks


def dedupe_ratios(checks: list[Check]) -> list[Check]:
    """A percentage stated twice is one check: a restatement that lacks its counts (完工率仅为
    44% in a later part) gives way to the statement with counts; checks on different
    counts are different checks."""
    out: list[Check] = []
    bare = lambda c: c.numerator is None or c.denominator is None
    # positions in out by (project, reported): a twin shares both, so only those are
    # compared (comparing each check with all kept ones was quadratic in a long text)
    at: dict[tuple, list[int]] = {}
    for c in checks:
        same = at.setdefault((c.project, c.reported), [])
        i = next((i for i in same if bare(out[i]) or bare(c) or
                  (out[i].numerator, out[i].denominator) == (c.numerator, c.denominator)), None)
        if i is None:
            same.append(len(out))
            out.append(c)
        elif (bare(out[i]) and not bare(c)) or (out[i].verdict == "unverifiable" != c.verdict):
            out[i] = c
    return out


def check(doc: str, text: str, layout: Layout, links: Links, facts: list[Fact],
          period_end: str | None) -> list[Check]:
    ck = Checker(doc, text, layout)
    ratios = explained(dedupe_ratios([ck.ratio(g) for g in links.ratios]), layout)
    sums, seen = [], set()
    for g in links.sums:
        c = ck.sum(g)
        key = (c.reported, tuple(sorted(c.parts or [])))
        if key in seen:
            continue
        seen.add(key)
        sums.append(c)
    # schedule: one per project and reported rate, only for rates that are progress so far
    sched, seen_s = [], set()
    for g in links.ratios:
        p = g.percent
        if g.numerator is None or (p.project, p.value) in seen_s:
            continue
        c = ck.schedule(p, period_end)
        if c:
            seen_s.add((p.project, p.value))
            sched.append(c)
    out = ratios + sums + sched
    out.sort(key=lambda c: (c.start, c.kind))
    return out
