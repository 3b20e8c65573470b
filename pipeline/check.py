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

from pipeline.link import Links, RatioGroup, SumGroup
from pipeline.segment import Layout
from pipeline.types import Check, Fact, Quantity

HUNDRED = Decimal(100)


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
        p = g.percent
        figs = [f for f in (g.denominator, g.numerator, p) if f is not None]
        ev, a, b = self.evidence(figs)
        c = Check(doc=self.doc, kind="ratio", verdict="unverifiable", reported=p.value, computed=None,
                  evidence=ev, start=a, end=b, rule=g.rule, project=p.project, reason=g.reason,
                  figures=[(f.start, f.end) for f in figs])
        if g.numerator is not None:
            c.numerator = g.numerator.value
        if g.denominator is not None:
            c.denominator = g.denominator.value
        if g.numerator is None or g.denominator is None or not g.denominator.value:
            return c
        pq = _q(p)
        computed = g.numerator.value / g.denominator.value * HUNDRED
        c.computed = display(computed, pq.decimals)
        ok = ratio_consistent(_q(g.numerator), _q(g.denominator), pq)
        if ok is None:
            c.reason = "the denominator may be zero"
            return c
        c.verdict = "consistent" if ok else "inconsistent"
        c.discrepancy = abs(c.computed - p.value)
        if not ok and not (p.value / 2 <= computed <= p.value * 2):
            # off by more than a factor of two: the counts found are more likely not this
            # rate's than the report is that wrong; say so instead of raising an alarm
            c.verdict = "unverifiable"
            c.reason = (f"{g.numerator.text} / {g.denominator.text} = {c.computed}%, far from {p.text}: "
                        "these counts may not be the ones the rate rests on")
            return c
        if not ok:
            c.reason = (f"{g.numerator.text} / {g.denominator.text} = {c.computed}%, "
                        f"not {p.text} (rounded or truncated to {pq.decimals} decimals)")
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
        if g.complete or (over and g.over_is_error):
            c.verdict = "inconsistent"
            c.reason = f"the parts add up to {c.computed}, not {g.total.text}"
        else:
            c.reason = (g.reason or "the parts may not be all of the total") + \
                f" (they add up to {c.computed})"
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


def dedupe_ratios(checks: list[Check]) -> list[Check]:
    """A percentage stated twice is one check: a restatement that lacks its counts (完工率仅为
    44% in a later part) gives way to the statement with counts; checks on different
    counts are different checks."""
    out: list[Check] = []
    bare = lambda c: c.numerator is None or c.denominator is None
    for c in checks:
        twin = next((o for o in out if o.project == c.project and o.reported == c.reported
                     and (bare(o) or bare(c) or (o.numerator, o.denominator) == (c.numerator, c.denominator))),
                    None)
        if twin is None:
            out.append(c)
        elif (bare(twin) and not bare(c)) or (twin.verdict == "unverifiable" != c.verdict):
            out[out.index(twin)] = c
    return out


def check(doc: str, text: str, layout: Layout, links: Links, facts: list[Fact],
          period_end: str | None) -> list[Check]:
    ck = Checker(doc, text, layout)
    ratios = dedupe_ratios([ck.ratio(g) for g in links.ratios])
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
